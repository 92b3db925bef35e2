/* Layer kernels (forward passes) over flat NCHW float arrays. */
#include "genrescope/cnn_ops.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "cnn_internal.h"

int gs_conv2d_out_height(const gs_conv2d_shape *s)
{
    return (s->in_height + 2 * s->pad_h - s->kernel_h) / s->stride_h + 1;
}

int gs_conv2d_out_width(const gs_conv2d_shape *s)
{
    return (s->in_width + 2 * s->pad_w - s->kernel_w) / s->stride_w + 1;
}

int gs_cnn_conv_is_pointwise(const gs_conv2d_shape *s)
{
    return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h == 0 && s->pad_w == 0;
}

size_t gs_conv2d_workspace_size(const gs_conv2d_shape *s)
{
    if (gs_cnn_conv_is_pointwise(s))
        return 0;
    return (size_t)s->in_channels * s->kernel_h * s->kernel_w * (size_t)gs_conv2d_out_height(s) *
           (size_t)gs_conv2d_out_width(s);
}

/* First output index o in [0, n_out) with 0 <= o*stride + offset, and one
 * past the last with o*stride + offset < size: the columns that read real
 * input rather than padding. */
static void valid_range(int offset, int stride, int size, int n_out, int *lo, int *hi)
{
    int a = 0;
    if (offset < 0)
        a = (-offset + stride - 1) / stride;
    int b = 0;
    if (size - 1 - offset >= 0)
        b = (size - 1 - offset) / stride + 1;
    if (a > n_out)
        a = n_out;
    if (b > n_out)
        b = n_out;
    if (b < a)
        b = a;
    *lo = a;
    *hi = b;
}

void gs_cnn_im2col_rows(const float *in, size_t chan_stride, const gs_conv2d_shape *s,
                        int oy0, int oy1, float *col, size_t ldcol)
{
    const int ow = gs_conv2d_out_width(s);
    const int oh = oy1 - oy0; /* rows written; output row oy0 + r lands at r */
    const int H = s->in_height, W = s->in_width;
    for (int c = 0; c < s->in_channels; c++) {
        const float *plane = in + (size_t)c * chan_stride;
        for (int i = 0; i < s->kernel_h; i++) {
            int ylo, yhi;
            valid_range(oy0 * s->stride_h + i - s->pad_h, s->stride_h, H, oh, &ylo, &yhi);
            for (int j = 0; j < s->kernel_w; j++) {
                float *row = col + ((size_t)(c * s->kernel_h + i) * s->kernel_w + j) * ldcol;
                const int xoff = j - s->pad_w;
                int xlo, xhi;
                valid_range(xoff, s->stride_w, W, ow, &xlo, &xhi);
                if (ylo > 0)
                    memset(row, 0, sizeof(float) * (size_t)ylo * ow);
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *src = plane + (size_t)((oy0 + oy) * s->stride_h + i - s->pad_h) * W;
                    float *dst = row + (size_t)oy * ow;
                    for (int ox = 0; ox < xlo; ox++)
                        dst[ox] = 0.0f;
                    if (s->stride_w == 1) {
                        memcpy(dst + xlo, src + xlo + xoff, sizeof(float) * (size_t)(xhi - xlo));
                    } else {
                        for (int ox = xlo; ox < xhi; ox++)
                            dst[ox] = src[ox * s->stride_w + xoff];
                    }
                    for (int ox = xhi; ox < ow; ox++)
                        dst[ox] = 0.0f;
                }
                if (yhi < oh)
                    memset(row + (size_t)yhi * ow, 0, sizeof(float) * (size_t)(oh - yhi) * ow);
            }
        }
    }
}

void gs_im2col(const float *in, const gs_conv2d_shape *s, float *col)
{
    const int oh = gs_conv2d_out_height(s);
    gs_cnn_im2col_rows(in, (size_t)s->in_height * s->in_width, s, 0, oh, col,
                       (size_t)oh * gs_conv2d_out_width(s));
}

void gs_col2im(const float *col, const gs_conv2d_shape *s, float *in_grad)
{
    const int oh = gs_conv2d_out_height(s), ow = gs_conv2d_out_width(s);
    const int H = s->in_height, W = s->in_width;
    const size_t ohw = (size_t)oh * ow;
    for (int c = 0; c < s->in_channels; c++) {
        float *plane = in_grad + (size_t)c * H * W;
        for (int i = 0; i < s->kernel_h; i++) {
            int ylo, yhi;
            valid_range(i - s->pad_h, s->stride_h, H, oh, &ylo, &yhi);
            for (int j = 0; j < s->kernel_w; j++) {
                const float *row = col + ((size_t)(c * s->kernel_h + i) * s->kernel_w + j) * ohw;
                const int xoff = j - s->pad_w;
                int xlo, xhi;
                valid_range(xoff, s->stride_w, W, ow, &xlo, &xhi);
                for (int oy = ylo; oy < yhi; oy++) {
                    float *dst = plane + (size_t)(oy * s->stride_h + i - s->pad_h) * W;
                    const float *src = row + (size_t)oy * ow;
                    for (int ox = xlo; ox < xhi; ox++)
                        dst[ox * s->stride_w + xoff] += src[ox];
                }
            }
        }
    }
}

void gs_conv2d_forward(const float *in, int batch, const gs_conv2d_shape *s,
                       const float *weight, const float *bias, float *out,
                       float *workspace)
{
    const int oh = gs_conv2d_out_height(s), ow = gs_conv2d_out_width(s);
    const int ohw = oh * ow;
    const int K = s->in_channels * s->kernel_h * s->kernel_w;
    const size_t in_size = (size_t)s->in_channels * s->in_height * s->in_width;
    const size_t out_size = (size_t)s->out_channels * ohw;
    const int pointwise = gs_cnn_conv_is_pointwise(s);
    for (int n = 0; n < batch; n++) {
        const float *x = in + (size_t)n * in_size;
        float *y = out + (size_t)n * out_size;
        const float *b = x;
        if (!pointwise) {
            gs_im2col(x, s, workspace);
            b = workspace;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out_channels, ohw, K, 1.0f,
                    weight, K, b, ohw, 0.0f, y, ohw);
        if (bias) {
            for (int o = 0; o < s->out_channels; o++) {
                float *row = y + (size_t)o * ohw;
                const float bo = bias[o];
                for (int p = 0; p < ohw; p++)
                    row[p] += bo;
            }
        }
    }
}

void gs_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* Plain comparisons (not fmaxf, which is a libm call without -ffast-math)
 * so the compiler emits vector max instructions. A NaN in the window may or
 * may not propagate on this path. */
static inline float max4(float a, float b, float c, float d)
{
    float ab = a > b ? a : b, cd = c > d ? c : d;
    return ab > cd ? ab : cd;
}

void gs_maxpool2d_forward(const float *in, int batch, int channels, int height, int width,
                          int kernel_h, int kernel_w, int stride_h, int stride_w,
                          float *out, int *argmax)
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

void gs_avgpool2d_forward(const float *in, int batch, int channels, int height, int width,
                          int kernel_h, int kernel_w, int stride_h, int stride_w,
                          float *out)
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

void gs_global_maxpool_forward(const float *in, int batch, int channels, int spatial,
                               float *out, int *argmax)
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

void gs_dense_forward(const float *in, int batch, int in_features, int out_features,
                      const float *weight, const float *bias, float *out)
{
    if (batch == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out_features, in_features, 1.0f, weight,
                    in_features, in, 1, 0.0f, out, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out_features, in_features,
                    1.0f, in, in_features, weight, in_features, 0.0f, out, out_features);
    }
    if (bias) {
        for (int n = 0; n < batch; n++) {
            float *row = out + (size_t)n * out_features;
            for (int o = 0; o < out_features; o++)
                row[o] += bias[o];
        }
    }
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
