/* conv2d: im2col + one sgemm per sample. The forward half (core) also
 * holds col2im, the adjoint the tests check im2col against; the backward
 * half, compiled only by the trainer (GS_OPS_BACKWARD, see
 * train/train_core.cmake), recomputes im2col per sample. */
#include "genrescope/cnn_ops.h"

#include <cblas.h>
#include <string.h>

#include "cnn_internal.h"

#ifndef GS_OPS_BACKWARD

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
    return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h == 0 &&
        s->pad_w == 0;
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

void gs_cnn_im2col_rows(const float *in, size_t chan_stride, const gs_conv2d_shape *s, int oy0, int oy1, float *col,
                        size_t ldcol)
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
    gs_cnn_im2col_rows(in, (size_t)s->in_height * s->in_width, s, 0, oh, col, (size_t)oh * gs_conv2d_out_width(s));
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

void gs_conv2d_forward(const float *in, int batch, const gs_conv2d_shape *s, const float *weight, const float *bias,
                       float *out, float *workspace)
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out_channels, ohw, K, 1.0f, weight, K, b, ohw, 0.0f,
                    y, ohw);
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

#else /* GS_OPS_BACKWARD: the trainer's half (train/train_core.cmake) */

size_t gs_conv2d_col_size(const gs_conv2d_shape *s)
{
    size_t rows = (size_t)s->in_channels * s->kernel_h * s->kernel_w;
    return rows * (size_t)gs_conv2d_out_height(s) * (size_t)gs_conv2d_out_width(s);
}

void gs_conv2d_backward(const float *in, const float *out_grad, int batch, const gs_conv2d_shape *s,
                        const float *weight, float *weight_grad, float *bias_grad, float *in_grad, float *col)
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, co, k, p, 1.0f, g, p, col, p, 1.0f, weight_grad, k);
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
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, p, co, 1.0f, weight, k, g, p, 0.0f, col, p);
            memset(dx, 0, in_size * sizeof *dx);
            gs_col2im(col, s, dx);
        }
    }
}

#endif
