/* The ops only training runs, forward and backward side by side: batch
 * norm with batch statistics (inference folds it into the conv before it)
 * and dropout (inference drops it). The other ops' backward passes sit
 * next to their forwards in core/src/op_*.c. Checked against finite
 * differences and PyTorch by test_train_grad*. */
#include "ops_backward.h"

#include <math.h>

#include "rng.h"

void gs_batchnorm_train_forward(const float *in, int batch, int channels, int spatial, const float *gamma,
                                const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                                float *save_mean, float *save_invstd, float *out)
{
    const double m = (double)batch * spatial;
    for (int c = 0; c < channels; c++) {
        /* Two passes with double accumulators: the one-pass E[x^2]-E[x]^2
         * form loses most of its digits when |mean| >> std. */
        double sum = 0.0;
        for (int n = 0; n < batch; n++) {
            const float *x = in + ((size_t)n * channels + c) * spatial;
            for (int i = 0; i < spatial; i++)
                sum += x[i];
        }
        const double mean = sum / m;
        double sq = 0.0;
        for (int n = 0; n < batch; n++) {
            const float *x = in + ((size_t)n * channels + c) * spatial;
            for (int i = 0; i < spatial; i++) {
                double d = x[i] - mean;
                sq += d * d;
            }
        }
        const double var = sq / m;
        const float invstd = (float)(1.0 / sqrt(var + eps));
        const float fmean = (float)mean;
        save_mean[c] = fmean;
        save_invstd[c] = invstd;
        const float scale = gamma[c] * invstd;
        const float shift = beta[c] - fmean * scale;
        for (int n = 0; n < batch; n++) {
            const size_t off = ((size_t)n * channels + c) * spatial;
            const float *x = in + off;
            float *y = out + off;
            for (int i = 0; i < spatial; i++)
                y[i] = x[i] * scale + shift;
        }
        const double unbiased = m > 1.0 ? sq / (m - 1.0) : var;
        running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
        running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
}

void gs_batchnorm_eval_forward(const float *in, int batch, int channels, int spatial, const float *gamma,
                               const float *beta, float eps, const float *running_mean, const float *running_var,
                               float *save_mean, float *save_invstd, float *out)
{
    for (int c = 0; c < channels; c++) {
        const float invstd = (float)(1.0 / sqrt((double)running_var[c] + eps));
        save_mean[c] = running_mean[c];
        save_invstd[c] = invstd;
        const float scale = gamma[c] * invstd;
        const float shift = beta[c] - running_mean[c] * scale;
        for (int n = 0; n < batch; n++) {
            const size_t off = ((size_t)n * channels + c) * spatial;
            for (int i = 0; i < spatial; i++)
                out[off + i] = in[off + i] * scale + shift;
        }
    }
}

/* Per-channel sums of dy and dy * xhat. */
static void bn_grad_sums(const float *in, const float *out_grad, int batch, int channels, int spatial, int c,
                         float mean, float invstd, double *sum_dy, double *sum_dy_xhat)
{
    double a = 0.0, b = 0.0;
    for (int n = 0; n < batch; n++) {
        const size_t off = ((size_t)n * channels + c) * spatial;
        for (int i = 0; i < spatial; i++) {
            const float dy = out_grad[off + i];
            a += dy;
            b += dy * ((in[off + i] - mean) * invstd);
        }
    }
    *sum_dy = a;
    *sum_dy_xhat = b;
}

void gs_batchnorm_train_backward(const float *in, const float *out_grad, int batch, int channels, int spatial,
                                 const float *gamma, const float *save_mean, const float *save_invstd,
                                 float *gamma_grad, float *beta_grad, float *in_grad)
{
    const float m = (float)batch * (float)spatial;
    for (int c = 0; c < channels; c++) {
        const float mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy, sum_dy_xhat;
        bn_grad_sums(in, out_grad, batch, channels, spatial, c, mean, invstd, &sum_dy, &sum_dy_xhat);
        gamma_grad[c] += (float)sum_dy_xhat;
        beta_grad[c] += (float)sum_dy;
        if (!in_grad)
            continue;
        /* dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)) */
        const float k = gamma[c] * invstd;
        const float mean_dy = (float)(sum_dy / m);
        const float mean_dy_xhat = (float)(sum_dy_xhat / m);
        for (int n = 0; n < batch; n++) {
            const size_t off = ((size_t)n * channels + c) * spatial;
            for (int i = 0; i < spatial; i++) {
                const float xhat = (in[off + i] - mean) * invstd;
                in_grad[off + i] = k * (out_grad[off + i] - mean_dy - xhat * mean_dy_xhat);
            }
        }
    }
}

void gs_batchnorm_eval_backward(const float *in, const float *out_grad, int batch, int channels, int spatial,
                                const float *gamma, const float *save_mean, const float *save_invstd, float *gamma_grad,
                                float *beta_grad, float *in_grad)
{
    for (int c = 0; c < channels; c++) {
        double sum_dy, sum_dy_xhat;
        bn_grad_sums(in, out_grad, batch, channels, spatial, c, save_mean[c], save_invstd[c], &sum_dy, &sum_dy_xhat);
        gamma_grad[c] += (float)sum_dy_xhat;
        beta_grad[c] += (float)sum_dy;
        if (!in_grad)
            continue;
        const float k = gamma[c] * save_invstd[c];
        for (int n = 0; n < batch; n++) {
            const size_t off = ((size_t)n * channels + c) * spatial;
            for (int i = 0; i < spatial; i++)
                in_grad[off + i] = k * out_grad[off + i];
        }
    }
}

void gs_dropout_forward(const float *in, size_t n, float p, uint64_t seed, float *mask, float *out)
{
    const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        mask[i] = (p > 0.0f && gs_rng_uniform(&rng) < p) ? 0.0f : keep_scale;
        out[i] = in[i] * mask[i];
    }
}

void gs_dropout_backward(const float *out_grad, const float *mask, size_t n, float *in_grad)
{
    for (size_t i = 0; i < n; i++)
        in_grad[i] = out_grad[i] * mask[i];
}
