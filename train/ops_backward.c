/* Backward kernels and the training-only forwards (ops_backward.h), each
 * the gradient of one forward in genrescope/cnn_ops.h; checked against
 * finite differences and PyTorch by test_train_grad*. */
#include "ops_backward.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "rng.h"

size_t gs_conv2d_col_size(const gs_conv2d_shape *s)
{
    size_t rows = (size_t)s->in_channels * s->kernel_h * s->kernel_w;
    return rows * (size_t)gs_conv2d_out_height(s) * (size_t)gs_conv2d_out_width(s);
}

void gs_conv2d_backward(const float *in, const float *out_grad, int batch,
                        const gs_conv2d_shape *s, const float *weight,
                        float *weight_grad, float *bias_grad, float *in_grad, float *col)
{
    const int co = s->out_channels;
    const int k = s->in_channels * s->kernel_h * s->kernel_w;
    const int p = gs_conv2d_out_height(s) * gs_conv2d_out_width(s);
    const size_t in_size = (size_t)s->in_channels * s->in_height * s->in_width;
    const size_t out_size = (size_t)co * p;
    for (int n = 0; n < batch; n++) {
        const float *g = out_grad + (size_t)n * out_size;
        /* Recomputing im2col here is cheaper than keeping a batch of column
         * matrices alive between forward and backward (hundreds of MB for
         * the first layers at batch 32). */
        gs_im2col(in + (size_t)n * in_size, s, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, co, k, p, 1.0f, g, p, col, p,
                    1.0f, weight_grad, k);
        if (bias_grad) {
            for (int c = 0; c < co; c++) {
                const float *row = g + (size_t)c * p;
                float sum = 0.0f;
                for (int i = 0; i < p; i++)
                    sum += row[i];
                bias_grad[c] += sum;
            }
        }
        if (in_grad) {
            float *dx = in_grad + (size_t)n * in_size;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, p, co, 1.0f, weight, k, g, p,
                        0.0f, col, p);
            memset(dx, 0, in_size * sizeof *dx);
            gs_col2im(col, s, dx);
        }
    }
}

void gs_batchnorm_train_forward(const float *in, int batch, int channels, int spatial,
                                const float *gamma, const float *beta, float eps, float momentum,
                                float *running_mean, float *running_var,
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

void gs_batchnorm_eval_forward(const float *in, int batch, int channels, int spatial,
                               const float *gamma, const float *beta, float eps,
                               const float *running_mean, const float *running_var,
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
static void bn_grad_sums(const float *in, const float *out_grad, int batch, int channels,
                         int spatial, int c, float mean, float invstd, double *sum_dy,
                         double *sum_dy_xhat)
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

void gs_batchnorm_train_backward(const float *in, const float *out_grad, int batch, int channels,
                                 int spatial, const float *gamma, const float *save_mean,
                                 const float *save_invstd, float *gamma_grad, float *beta_grad,
                                 float *in_grad)
{
    const float m = (float)batch * (float)spatial;
    for (int c = 0; c < channels; c++) {
        const float mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy, sum_dy_xhat;
        bn_grad_sums(in, out_grad, batch, channels, spatial, c, mean, invstd, &sum_dy,
                     &sum_dy_xhat);
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

void gs_batchnorm_eval_backward(const float *in, const float *out_grad, int batch, int channels,
                                int spatial, const float *gamma, const float *save_mean,
                                const float *save_invstd, float *gamma_grad, float *beta_grad,
                                float *in_grad)
{
    for (int c = 0; c < channels; c++) {
        double sum_dy, sum_dy_xhat;
        bn_grad_sums(in, out_grad, batch, channels, spatial, c, save_mean[c], save_invstd[c],
                     &sum_dy, &sum_dy_xhat);
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

void gs_relu_backward(const float *out, const float *out_grad, size_t n, float *in_grad)
{
    for (size_t i = 0; i < n; i++)
        in_grad[i] = out[i] > 0.0f ? out_grad[i] : 0.0f;
}

void gs_maxpool2d_backward(const float *out_grad, const int *argmax, int batch, int channels,
                           int in_height, int in_width, int out_height, int out_width,
                           float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    const size_t out_n = planes * out_height * out_width;
    memset(in_grad, 0, planes * in_height * in_width * sizeof *in_grad);
    for (size_t i = 0; i < out_n; i++)
        in_grad[argmax[i]] += out_grad[i];
}

void gs_maxpool2x2_forward(const float *in, int batch, int channels, int height, int width,
                           float *out, int *argmax)
{
    const int oh = height / 2, ow = width / 2;
    const size_t planes = (size_t)batch * channels, hw = (size_t)height * width;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * hw;
        float *y = out + p * (size_t)oh * ow;
        int *am = argmax + p * (size_t)oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            const size_t r0 = (size_t)(2 * oy) * width, r1 = r0 + width;
            for (int ox = 0; ox < ow; ox++) {
                const size_t i0 = r0 + 2 * ox, i2 = r1 + 2 * ox;
                const float v0 = x[i0], v1 = x[i0 + 1], v2 = x[i2], v3 = x[i2 + 1];
                float best = v0;
                size_t bi = i0;
                if (isnan(v0 + v1 + v2 + v3)) {
                    /* Rare: the first NaN wins, as in the general kernel. */
                    const size_t cand[4] = {i0, i0 + 1, i2, i2 + 1};
                    for (int j = 1; j < 4 && !isnan(best); j++)
                        if (x[cand[j]] > best || isnan(x[cand[j]]))
                            best = x[cand[j]], bi = cand[j];
                } else {
                    /* Strict > keeps the first maximum (PyTorch's tie rule). */
                    if (v1 > best)
                        best = v1, bi = i0 + 1;
                    if (v2 > best)
                        best = v2, bi = i2;
                    if (v3 > best)
                        best = v3, bi = i2 + 1;
                }
                y[(size_t)oy * ow + ox] = best;
                am[(size_t)oy * ow + ox] = (int)(p * hw + bi);
            }
        }
    }
}

void gs_relu_maxpool2d_backward(const float *out_grad, const int *argmax, const float *relu_out,
                                int batch, int channels, int in_height, int in_width,
                                int out_height, int out_width, float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    const size_t out_n = planes * out_height * out_width;
    memset(in_grad, 0, planes * in_height * in_width * sizeof *in_grad);
    for (size_t i = 0; i < out_n; i++)
        if (relu_out[argmax[i]] > 0.0f)
            in_grad[argmax[i]] += out_grad[i];
}

void gs_avgpool2d_backward(const float *out_grad, int batch, int channels, int in_height,
                           int in_width, int kernel_h, int kernel_w, int stride_h, int stride_w,
                           float *in_grad)
{
    const int oh = (in_height - kernel_h) / stride_h + 1;
    const int ow = (in_width - kernel_w) / stride_w + 1;
    const size_t planes = (size_t)batch * channels;
    const size_t in_plane = (size_t)in_height * in_width;
    const float inv = 1.0f / (float)(kernel_h * kernel_w);
    memset(in_grad, 0, planes * in_plane * sizeof *in_grad);
    for (size_t p = 0; p < planes; p++) {
        float *dx = in_grad + p * in_plane;
        const float *g = out_grad + p * (size_t)oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                const float v = g[oy * ow + ox] * inv;
                for (int i = 0; i < kernel_h; i++) {
                    float *row = dx + (size_t)(oy * stride_h + i) * in_width + ox * stride_w;
                    for (int j = 0; j < kernel_w; j++)
                        row[j] += v;
                }
            }
    }
}

void gs_global_avgpool_backward(const float *out_grad, int batch, int channels, int spatial,
                                float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    const float inv = 1.0f / (float)spatial;
    for (size_t p = 0; p < planes; p++) {
        const float v = out_grad[p] * inv;
        float *dx = in_grad + p * spatial;
        for (int i = 0; i < spatial; i++)
            dx[i] = v;
    }
}

void gs_global_maxpool_backward(const float *out_grad, const int *argmax, int batch, int channels,
                                int spatial, float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    memset(in_grad, 0, planes * spatial * sizeof *in_grad);
    for (size_t p = 0; p < planes; p++)
        in_grad[argmax[p]] = out_grad[p];
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

void gs_dense_backward(const float *in, const float *out_grad, int batch, int in_features,
                       int out_features, const float *weight, float *weight_grad,
                       float *bias_grad, float *in_grad)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in_features, batch, 1.0f,
                out_grad, out_features, in, in_features, 1.0f, weight_grad, in_features);
    if (bias_grad)
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < out_features; o++)
                bias_grad[o] += out_grad[(size_t)n * out_features + o];
    if (in_grad)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in_features, out_features,
                    1.0f, out_grad, out_features, weight, in_features, 0.0f, in_grad, in_features);
}

float gs_softmax_xent_backward(const float *logits, const float *probs, const float *targets,
                               int batch, int n, float *logits_grad)
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
