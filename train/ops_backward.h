/* The ops only training runs (batch norm with batch statistics, which
 * inference folds into the conv before it; dropout, which inference drops),
 * forward and backward, over contiguous NCHW float arrays; and, through
 * genrescope/cnn_ops.h, every other op's backward next to its forward.
 * Conventions as in cnn_ops.h: nothing allocates, parameter gradients are
 * accumulated (+=), input gradients overwritten. */
#ifndef GS_TRAIN_OPS_BACKWARD_H
#define GS_TRAIN_OPS_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/cnn_ops.h"

/* Batch norm over [N,C,S] (S = H*W), training mode: normalises with the batch
 * mean and biased variance, saves mean and 1/sqrt(var+eps) per channel for
 * the backward pass, and updates the running statistics with momentum
 * (PyTorch: running = (1-m)*running + m*stat, unbiased variance). */
void gs_batchnorm_train_forward(const float *in, int batch, int channels, int spatial, const float *gamma,
                                const float *beta, float eps, float momentum, float *running_mean, float *running_var,
                                float *save_mean, float *save_invstd, float *out);
/* Eval mode: fixed running statistics. Also fills save_mean/save_invstd with
 * them so gs_batchnorm_eval_backward can run. */
void gs_batchnorm_eval_forward(const float *in, int batch, int channels, int spatial, const float *gamma,
                               const float *beta, float eps, const float *running_mean, const float *running_var,
                               float *save_mean, float *save_invstd, float *out);
/* Backward of the training forward (the batch statistics depend on the
 * input, so every input gets a share of the mean and variance gradients). */
void gs_batchnorm_train_backward(const float *in, const float *out_grad, int batch, int channels, int spatial,
                                 const float *gamma, const float *save_mean, const float *save_invstd,
                                 float *gamma_grad, float *beta_grad, float *in_grad);
/* Backward of the eval forward (a per-channel affine map). */
void gs_batchnorm_eval_backward(const float *in, const float *out_grad, int batch, int channels, int spatial,
                                const float *gamma, const float *save_mean, const float *save_invstd, float *gamma_grad,
                                float *beta_grad, float *in_grad);

/* Inverted dropout: mask[i] is 0 or 1/(1-p), drawn from train/rng.h's
 * generator seeded with seed (same seed, same mask); out = in * mask. p == 0 gives an all-ones
 * mask. Backward: in_grad = out_grad * mask. */
void gs_dropout_forward(const float *in, size_t n, float p, uint64_t seed, float *mask, float *out);
void gs_dropout_backward(const float *out_grad, const float *mask, size_t n, float *in_grad);

#endif
