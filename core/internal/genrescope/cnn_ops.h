/* Layer kernels over flat float arrays, each op's forward and backward
 * declared together. The forwards are the core's (inference and training);
 * the backwards (and training's forward variants) are compiled only into
 * the trainer (core/src/op_*.c behind GS_OPS_BACKWARD, see
 * train/train_core.cmake), so only programs linking gs_train_core may call
 * them. All tensors are contiguous NCHW. No function here allocates;
 * callers provide workspaces. Backward conventions: gradients of parameters
 * are accumulated (+=), so the caller zeroes them once per step; gradients
 * of inputs are overwritten unless stated otherwise. Arguments are trusted
 * (checked by the callers that build networks). */
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
void gs_conv2d_forward(const float *in, int batch, const gs_conv2d_shape *s, const float *weight, const float *bias,
                       float *out, float *workspace);
/* Conv2d backward. in: forward input [N,Ci,H,W]; out_grad [N,Co,oh,ow].
 * weight_grad (+=) [Co, Ci*kh*kw], bias_grad (+=) [Co] (may be NULL),
 * in_grad (overwritten, may be NULL for the first layer). col holds
 * gs_conv2d_col_size(s) floats (the im2col matrix of one sample). */
size_t gs_conv2d_col_size(const gs_conv2d_shape *s);
void gs_conv2d_backward(const float *in, const float *out_grad, int batch, const gs_conv2d_shape *s,
                        const float *weight, float *weight_grad, float *bias_grad, float *in_grad, float *col);

void gs_relu_forward(float *x, size_t n); /* in place */
/* ReLU backward from the forward output: in_grad = out > 0 ? out_grad : 0.
 * in_grad may alias out_grad. */
void gs_relu_backward(const float *out, const float *out_grad, size_t n, float *in_grad);

/* Pooling without padding; output size floor((in - k) / stride) + 1. When
 * argmax is not NULL the max pool records the flat input index of each max
 * (for the backward pass). */
void gs_maxpool2d_forward(const float *in, int batch, int channels, int height, int width, int kernel_h, int kernel_w,
                          int stride_h, int stride_w, float *out, int *argmax);
void gs_avgpool2d_forward(const float *in, int batch, int channels, int height, int width, int kernel_h, int kernel_w,
                          int stride_h, int stride_w, float *out);
/* [N,C,H,W] -> [N,C] */
void gs_global_avgpool_forward(const float *in, int batch, int channels, int spatial, float *out);
void gs_global_maxpool_forward(const float *in, int batch, int channels, int spatial, float *out, int *argmax);
/* Max pools route each output gradient to the input element whose flat
 * index (into the whole [N,C,H,W] input) the forward recorded in argmax.
 * in_grad is overwritten. */
void gs_maxpool2d_backward(const float *out_grad, const int *argmax, int batch, int channels, int in_height,
                           int in_width, int out_height, int out_width, float *in_grad);
/* The same as gs_maxpool2d_forward with argmax for kernel 2x2, stride 2
 * (the shipped design's pool; the general kernel is a third of the
 * training step there). Same tie (first maximum) and NaN rules. */
void gs_maxpool2x2_forward(const float *in, int batch, int channels, int height, int width, float *out, int *argmax);
/* Max pool backward fused with the backward of a ReLU right before it:
 * relu_out is the pool's input. Only pooled positions get a gradient, so
 * the separate ReLU pass over the (4x larger) input is skipped. */
void gs_relu_maxpool2d_backward(const float *out_grad, const int *argmax, const float *relu_out, int batch,
                                int channels, int in_height, int in_width, int out_height, int out_width,
                                float *in_grad);
void gs_avgpool2d_backward(const float *out_grad, int batch, int channels, int in_height, int in_width, int kernel_h,
                           int kernel_w, int stride_h, int stride_w, float *in_grad);
void gs_global_avgpool_backward(const float *out_grad, int batch, int channels, int spatial, float *in_grad);
void gs_global_maxpool_backward(const float *out_grad, const int *argmax, int batch, int channels, int spatial,
                                float *in_grad);

/* out[n][o] = sum_i weight[o][i] * in[n][i] + bias[o] (PyTorch Linear). */
void gs_dense_forward(const float *in, int batch, int in_features, int out_features, const float *weight,
                      const float *bias, float *out);
/* Dense backward: weight_grad (+=) [O,I], bias_grad (+=) [O], in_grad
 * (overwritten, may be NULL) [N,I]. */
void gs_dense_backward(const float *in, const float *out_grad, int batch, int in_features, int out_features,
                       const float *weight, float *weight_grad, float *bias_grad, float *in_grad);

/* Row-wise numerically stable softmax, in place on batch rows of n. */
void gs_softmax_forward(float *x, int batch, int n);
/* Softmax + cross-entropy with soft targets, from the logits:
 * loss = -(1/N) sum_n sum_k t[n][k] log softmax(z[n])[k] (log-sum-exp, so
 * a zero probability never gives log 0). logits_grad = (p*sum_k t - t) / N,
 * which is (p - t) / N for targets that are distributions. probs are the
 * softmax of logits as computed by the forward. Returns the loss. */
float gs_softmax_xent_backward(const float *logits, const float *probs, const float *targets, int batch, int n,
                               float *logits_grad);

#ifdef __cplusplus
}
#endif
#endif
