/* Layer kernels over flat float arrays, shared by inference (core/cnn) and
 * the trainer (train/), which adds the backward passes. All tensors are
 * contiguous NCHW. No function here allocates; callers provide workspaces.
 * Arguments are trusted (checked by the callers that build networks). */
#ifndef GENRESCOPE_CNN_OPS_H
#define GENRESCOPE_CNN_OPS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_conv2d_shape {
    int in_channels, out_channels;
    int in_height, in_width;
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
} gs_conv2d_shape;

int gs_conv2d_out_height(const gs_conv2d_shape *s);
int gs_conv2d_out_width(const gs_conv2d_shape *s);
/* Floats of im2col workspace one sample needs (0 when the conv is 1x1,
 * stride 1, no padding and needs none). */
size_t gs_conv2d_workspace_size(const gs_conv2d_shape *s);

/* col[(c*kh + i)*kw + j][oy*ow + ox] = in[c][oy*sh - ph + i][ox*sw - pw + j]
 * (zero outside the input). One sample. */
void gs_im2col(const float *in, const gs_conv2d_shape *s, float *col);
/* Adjoint of gs_im2col: accumulates col back into in_grad (which the caller
 * zeroes first). One sample. */
void gs_col2im(const float *col, const gs_conv2d_shape *s, float *in_grad);

/* out[n] = weight (Co x Ci*kh*kw) * im2col(in[n]) + bias; bias may be NULL.
 * workspace holds gs_conv2d_workspace_size(s) floats. */
void gs_conv2d_forward(const float *in, int batch, const gs_conv2d_shape *s,
                       const float *weight, const float *bias, float *out,
                       float *workspace);

void gs_relu_forward(float *x, size_t n); /* in place */

/* Pooling without padding; output size floor((in - k) / stride) + 1. When
 * argmax is not NULL the max pool records the flat input index of each max
 * (for the backward pass). */
void gs_maxpool2d_forward(const float *in, int batch, int channels, int height, int width,
                          int kernel_h, int kernel_w, int stride_h, int stride_w,
                          float *out, int *argmax);
void gs_avgpool2d_forward(const float *in, int batch, int channels, int height, int width,
                          int kernel_h, int kernel_w, int stride_h, int stride_w,
                          float *out);
/* [N,C,H,W] -> [N,C] */
void gs_global_avgpool_forward(const float *in, int batch, int channels, int spatial, float *out);
void gs_global_maxpool_forward(const float *in, int batch, int channels, int spatial,
                               float *out, int *argmax);

/* out[n][o] = sum_i weight[o][i] * in[n][i] + bias[o] (PyTorch Linear). */
void gs_dense_forward(const float *in, int batch, int in_features, int out_features,
                      const float *weight, const float *bias, float *out);

/* Row-wise numerically stable softmax, in place on batch rows of n. */
void gs_softmax_forward(float *x, int batch, int n);

#ifdef __cplusplus
}
#endif
#endif
