/* dense (PyTorch Linear): sgemv for one sample, sgemm for a batch.
 * Backward half (GS_OPS_BACKWARD) compiled only by the trainer. */
#include "genrescope/cnn_ops.h"

#include <cblas.h>

#ifndef GS_OPS_BACKWARD

void gs_dense_forward(const float *in, int batch, int in_features, int out_features, const float *weight,
                      const float *bias, float *out)
{
    if (batch == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out_features, in_features, 1.0f, weight, in_features, in, 1, 0.0f, out,
                    1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out_features, in_features, 1.0f, in, in_features,
                    weight, in_features, 0.0f, out, out_features);
    }
    if (bias) {
        for (int n = 0; n < batch; n++) {
            float *row = out + (size_t)n * out_features;
            for (int o = 0; o < out_features; o++)
                row[o] += bias[o];
        }
    }
}

#else /* GS_OPS_BACKWARD: the trainer's half (train/train_core.cmake) */

void gs_dense_backward(const float *in, const float *out_grad, int batch, int in_features, int out_features,
                       const float *weight, float *weight_grad, float *bias_grad, float *in_grad)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in_features, batch, 1.0f, out_grad, out_features,
                in, in_features, 1.0f, weight_grad, in_features);
    if (bias_grad)
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < out_features; o++)
                bias_grad[o] += out_grad[(size_t)n * out_features + o];
    if (in_grad)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in_features, out_features, 1.0f, out_grad,
                    out_features, weight, in_features, 0.0f, in_grad, in_features);
}

#endif
