/* Pooling: maxpool2d, avgpool2d (no padding, floor mode), global average
 * and max over each plane. Backward half (GS_OPS_BACKWARD, trainer only):
 * max pools route each gradient to the argmax the forward recorded; the
 * trainer's 2x2 forward with argmax lives there too, since only training
 * needs the argmax. */
#include "genrescope/cnn_ops.h"

#include <math.h>
#include <string.h>

#ifndef GS_OPS_BACKWARD

/* Plain comparisons (not fmaxf, which is a libm call without -ffast-math)
 * so the compiler emits vector max instructions. A NaN in the window may or
 * may not propagate on this path. */
static inline float max4(float a, float b, float c, float d)
{
    float ab = a > b ? a : b, cd = c > d ? c : d;
    return ab > cd ? ab : cd;
}

void gs_maxpool2d_forward(const float *in, int batch, int channels, int height, int width, int kernel_h, int kernel_w,
                          int stride_h, int stride_w, float *out, int *argmax)
{
    const int oh = (height - kernel_h) / stride_h + 1, ow = (width - kernel_w) / stride_w + 1;
    const size_t planes = (size_t)batch * channels;
    const size_t hw = (size_t)height * width;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * hw;
        float *y = out + p * (size_t)oh * ow;
        if (!argmax && kernel_h == 2 && kernel_w == 2 && stride_h == 2 && stride_w == 2) {
            /* The shipped design's only pool: a branch-free 2x2 path. */
            for (int oy = 0; oy < oh; oy++) {
                const float *r0 = x + (size_t)(2 * oy) * width, *r1 = r0 + width;
                float *yr = y + (size_t)oy * ow;
                for (int ox = 0; ox < ow; ox++)
                    yr[ox] = max4(r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]);
            }
            continue;
        }
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                const int y0 = oy * stride_h, x0 = ox * stride_w;
                float best = x[(size_t)y0 * width + x0];
                size_t best_i = (size_t)y0 * width + x0;
                for (int i = 0; i < kernel_h; i++) {
                    const float *r = x + (size_t)(y0 + i) * width + x0;
                    for (int j = 0; j < kernel_w; j++) {
                        /* Strict > keeps the first maximum, like PyTorch. NaN
                         * propagates so a corrupt input is not hidden. */
                        if (r[j] > best || isnan(r[j])) {
                            if (isnan(best))
                                continue;
                            best = r[j];
                            best_i = (size_t)(y0 + i) * width + x0 + j;
                        }
                    }
                }
                y[(size_t)oy * ow + ox] = best;
                if (argmax)
                    argmax[p * (size_t)oh * ow + (size_t)oy * ow + ox] = (int)(p * hw + best_i);
            }
        }
    }
}

void gs_avgpool2d_forward(const float *in, int batch, int channels, int height, int width, int kernel_h, int kernel_w,
                          int stride_h, int stride_w, float *out)
{
    const int oh = (height - kernel_h) / stride_h + 1, ow = (width - kernel_w) / stride_w + 1;
    const size_t planes = (size_t)batch * channels;
    const size_t hw = (size_t)height * width;
    const float scale = 1.0f / (float)(kernel_h * kernel_w);
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * hw;
        float *y = out + p * (size_t)oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                const float *r = x + (size_t)(oy * stride_h) * width + (size_t)ox * stride_w;
                float sum = 0.0f;
                for (int i = 0; i < kernel_h; i++, r += width)
                    for (int j = 0; j < kernel_w; j++)
                        sum += r[j];
                y[(size_t)oy * ow + ox] = sum * scale;
            }
        }
    }
}

void gs_global_avgpool_forward(const float *in, int batch, int channels, int spatial, float *out)
{
    const size_t planes = (size_t)batch * channels;
    const float scale = 1.0f / (float)spatial;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * (size_t)spatial;
        float sum = 0.0f;
        for (int i = 0; i < spatial; i++)
            sum += x[i];
        out[p] = sum * scale;
    }
}

void gs_global_maxpool_forward(const float *in, int batch, int channels, int spatial, float *out, int *argmax)
{
    const size_t planes = (size_t)batch * channels;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * (size_t)spatial;
        float best = x[0];
        int best_i = 0;
        for (int i = 1; i < spatial; i++) {
            if (x[i] > best || (isnan(x[i]) && !isnan(best))) {
                best = x[i];
                best_i = i;
            }
        }
        out[p] = best;
        if (argmax)
            argmax[p] = (int)(p * (size_t)spatial) + best_i;
    }
}

#else /* GS_OPS_BACKWARD: the trainer's half (train/train_core.cmake) */

void gs_maxpool2x2_forward(const float *in, int batch, int channels, int height, int width, float *out, int *argmax)
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

void gs_maxpool2d_backward(const float *out_grad, const int *argmax, int batch, int channels, int in_height,
                           int in_width, int out_height, int out_width, float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    const size_t out_n = planes * out_height * out_width;
    memset(in_grad, 0, planes * in_height * in_width * sizeof *in_grad);
    for (size_t i = 0; i < out_n; i++)
        in_grad[argmax[i]] += out_grad[i];
}

void gs_relu_maxpool2d_backward(const float *out_grad, const int *argmax, const float *relu_out, int batch,
                                int channels, int in_height, int in_width, int out_height, int out_width,
                                float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    const size_t out_n = planes * out_height * out_width;
    memset(in_grad, 0, planes * in_height * in_width * sizeof *in_grad);
    for (size_t i = 0; i < out_n; i++)
        if (relu_out[argmax[i]] > 0.0f)
            in_grad[argmax[i]] += out_grad[i];
}

void gs_avgpool2d_backward(const float *out_grad, int batch, int channels, int in_height, int in_width, int kernel_h,
                           int kernel_w, int stride_h, int stride_w, float *in_grad)
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

void gs_global_avgpool_backward(const float *out_grad, int batch, int channels, int spatial, float *in_grad)
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

void gs_global_maxpool_backward(const float *out_grad, const int *argmax, int batch, int channels, int spatial,
                                float *in_grad)
{
    const size_t planes = (size_t)batch * channels;
    memset(in_grad, 0, planes * spatial * sizeof *in_grad);
    for (size_t p = 0; p < planes; p++)
        in_grad[argmax[p]] = out_grad[p];
}

#endif
