/* relu and softmax. Softmax's backward is fused with the cross-entropy
 * loss (the only loss the trainer has), from the logits. Backward half
 * (GS_OPS_BACKWARD) compiled only by the trainer. */
#include "genrescope/cnn_ops.h"

#include <float.h>
#include <math.h>

#ifndef GS_OPS_BACKWARD

void gs_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void gs_softmax_forward(float *x, int batch, int n)
{
    for (int b = 0; b < batch; b++) {
        float *row = x + (size_t)b * n;
        float m = -FLT_MAX;
        for (int i = 0; i < n; i++)
            m = row[i] > m ? row[i] : m;
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            row[i] = expf(row[i] - m);
            sum += row[i];
        }
        const float inv = (float)(1.0 / sum);
        for (int i = 0; i < n; i++)
            row[i] *= inv;
    }
}

#else /* GS_OPS_BACKWARD: the trainer's half (train/train_core.cmake) */

void gs_relu_backward(const float *out, const float *out_grad, size_t n, float *in_grad)
{
    for (size_t i = 0; i < n; i++)
        in_grad[i] = out[i] > 0.0f ? out_grad[i] : 0.0f;
}

float gs_softmax_xent_backward(const float *logits, const float *probs, const float *targets, int batch, int n,
                               float *logits_grad)
{
    double loss = 0.0;
    const float inv_batch = 1.0f / (float)batch;
    for (int b = 0; b < batch; b++) {
        const float *z = logits + (size_t)b * n;
        const float *t = targets + (size_t)b * n;
        const float *p = probs + (size_t)b * n;
        float *dz = logits_grad + (size_t)b * n;
        double zmax = z[0];
        for (int k = 1; k < n; k++)
            if (z[k] > zmax)
                zmax = z[k];
        double se = 0.0, tsum = 0.0;
        for (int k = 0; k < n; k++) {
            se += exp(z[k] - zmax);
            tsum += t[k];
        }
        const double lse = zmax + log(se);
        for (int k = 0; k < n; k++) {
            if (t[k] != 0.0f)
                loss -= t[k] * (z[k] - lse);
            dz[k] = (p[k] * (float)tsum - t[k]) * inv_batch;
        }
    }
    return (float)(loss / batch);
}

#endif
