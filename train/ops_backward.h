/* Backward passes (and the training-only forwards: batch norm with batch
 * statistics, dropout) for the layer vocabulary of core/cnn. Each function
 * pairs with a forward kernel in genrescope/cnn_ops.h; all tensors are
 * contiguous NCHW flat float arrays. Nothing here allocates: callers pass
 * workspaces. Gradients of parameters are accumulated (+=) so the caller
 * zeroes them once per step; gradients of inputs are overwritten unless
 * stated otherwise. Arguments are trusted (checked when the net is built). */
#ifndef GS_TRAIN_OPS_BACKWARD_H
#define GS_TRAIN_OPS_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/cnn_ops.h"

/* Conv2d backward. in: forward input [N,Ci,H,W]; out_grad [N,Co,oh,ow].
 * weight_grad (+=) [Co, Ci*kh*kw], bias_grad (+=) [Co] (may be NULL),
 * in_grad (overwritten, may be NULL for the first layer). col holds
 * gs_conv2d_col_size(s) floats (the im2col matrix of one sample). */
size_t gs_conv2d_col_size(const gs_conv2d_shape *s);
void gs_conv2d_backward(const float *in, const float *out_grad, int batch,
                        const gs_conv2d_shape *s, const float *weight,
                        float *weight_grad, float *bias_grad, float *in_grad, float *col);

/* Batch norm over [N,C,S] (S = H*W), training mode: normalises with the batch
 * mean and biased variance, saves mean and 1/sqrt(var+eps) per channel for
 * the backward pass, and updates the running statistics with momentum
 * (PyTorch: running = (1-m)*running + m*stat, unbiased variance). */
void gs_batchnorm_train_forward(const float *in, int batch, int channels, int spatial,
                                const float *gamma, const float *beta, float eps, float momentum,
                                float *running_mean, float *running_var,
                                float *save_mean, float *save_invstd, float *out);
/* Eval mode: fixed running statistics. Also fills save_mean/save_invstd with
 * them so gs_batchnorm_eval_backward can run. */
void gs_batchnorm_eval_forward(const float *in, int batch, int channels, int spatial,
                               const float *gamma, const float *beta, float eps,
                               const float *running_mean, const float *running_var,
                               float *save_mean, float *save_invstd, float *out);
/* Backward of the training forward (the batch statistics depend on the
 * input, so every input gets a share of the mean and variance gradients). */
void gs_batchnorm_train_backward(const float *in, const float *out_grad, int batch, int channels,
                                 int spatial, const float *gamma, const float *save_mean,
                                 const float *save_invstd, float *gamma_grad, float *beta_grad,
                                 float *in_grad);
/* Backward of the eval forward (a per-channel affine map). */
void gs_batchnorm_eval_backward(const float *in, const float *out_grad, int batch, int channels,
                                int spatial, const float *gamma, const float *save_mean,
                                const float *save_invstd, float *gamma_grad, float *beta_grad,
                                float *in_grad);

/* ReLU backward from the forward output: in_grad = out > 0 ? out_grad : 0.
 * in_grad may alias out_grad. */
void gs_relu_backward(const float *out, const float *out_grad, size_t n, float *in_grad);

/* Max pools route each output gradient to the input element whose flat
 * index (into the whole [N,C,H,W] input) the forward recorded in argmax.
 * in_grad is overwritten. */
void gs_maxpool2d_backward(const float *out_grad, const int *argmax, int batch, int channels,
                           int in_height, int in_width, int out_height, int out_width,
                           float *in_grad);
/* The same as gs_maxpool2d_forward with argmax for kernel 2x2, stride 2
 * (the shipped design's pool; the general kernel is a third of the
 * training step there). Same tie (first maximum) and NaN rules. */
void gs_maxpool2x2_forward(const float *in, int batch, int channels, int height, int width,
                           float *out, int *argmax);
/* Max pool backward fused with the backward of a ReLU right before it:
 * relu_out is the pool's input. Only pooled positions get a gradient, so
 * the separate ReLU pass over the (4x larger) input is skipped. */
void gs_relu_maxpool2d_backward(const float *out_grad, const int *argmax, const float *relu_out,
                                int batch, int channels, int in_height, int in_width,
                                int out_height, int out_width, float *in_grad);
void gs_avgpool2d_backward(const float *out_grad, int batch, int channels, int in_height,
                           int in_width, int kernel_h, int kernel_w, int stride_h, int stride_w,
                           float *in_grad);
void gs_global_avgpool_backward(const float *out_grad, int batch, int channels, int spatial,
                                float *in_grad);
void gs_global_maxpool_backward(const float *out_grad, const int *argmax, int batch, int channels,
                                int spatial, float *in_grad);

/* Inverted dropout: mask[i] is 0 or 1/(1-p), drawn from train/rng.h's
 * generator seeded with seed (same seed, same mask); out = in * mask. p == 0 gives an all-ones
 * mask. Backward: in_grad = out_grad * mask. */
void gs_dropout_forward(const float *in, size_t n, float p, uint64_t seed, float *mask, float *out);
void gs_dropout_backward(const float *out_grad, const float *mask, size_t n, float *in_grad);

/* Dense backward: weight_grad (+=) [O,I], bias_grad (+=) [O], in_grad
 * (overwritten, may be NULL) [N,I]. */
void gs_dense_backward(const float *in, const float *out_grad, int batch, int in_features,
                       int out_features, const float *weight, float *weight_grad,
                       float *bias_grad, float *in_grad);

/* Softmax + cross-entropy with soft targets, from the logits:
 * loss = -(1/N) sum_n sum_k t[n][k] log softmax(z[n])[k] (log-sum-exp, so
 * a zero probability never gives log 0). logits_grad = (p*sum_k t - t) / N,
 * which is (p - t) / N for targets that are distributions. probs are the
 * softmax of logits as computed by the forward. Returns the loss. */
float gs_softmax_xent_backward(const float *logits, const float *probs, const float *targets,
                               int batch, int n, float *logits_grad);

#endif
