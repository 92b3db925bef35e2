/* Private to core/src/cnn_*.c: 3x3, stride-1, padding-1 convolutions as
 * Winograd F(2x2, 3x3) (Lavin & Gray 2015).
 *
 * Why: the shipped network's convolutions are all 3x3/1/1 and inference is
 * sgemm-bound at the BLAS kernel's peak, so only fewer multiplications make
 * it faster. F(2x2, 3x3) computes each 2x2 output tile from a 4x4 input tile
 * with 16 multiplications per (input, output) channel pair instead of 36:
 * 2.25x fewer, as 16 independent sgemms (Co x Ci) * (Ci x tiles). The
 * result equals direct convolution up to float rounding (|error| grows
 * with the input's magnitude; ~1e-6 relative in the tests).
 *
 * A 2x2 output tile is exactly one window of a following 2x2/2 max pool,
 * so a fused pool costs one max per tile and the unpooled output is never
 * stored. Activations are [C][N][H][W] (see cnn_forward.c). */
#ifndef GENRESCOPE_CNN_WINOGRAD_H
#define GENRESCOPE_CNN_WINOGRAD_H

#include <stddef.h>

#include "cnn_internal.h"

/* True when step s (a STEP_CONV) can run as F(2x2, 3x3): 3x3 kernel,
 * stride 1, padding 1, no fused pool or a 2x2/2 one, and enough input
 * channels for the 16 small sgemms to beat one im2col sgemm. */
int gs_wino_applies(const net_step *s);

/* Transformed weights U = G g G^T of a conv with weight [co][ci][3][3], laid
 * out [16][co][ci]. Returns a malloc'd array the caller frees, or NULL when
 * out of memory. */
float *gs_wino_weights_new(const float *weight, int out_channels, int in_channels);

/* Floats of the three workspaces one gs_wino_conv call needs for batch
 * samples: *in_floats for the transformed input, *out_floats for the
 * sgemm products, *row_floats for the zero-padded input rows. */
void gs_wino_workspace(const net_step *s, int batch, size_t *in_floats, size_t *out_floats, size_t *row_floats);

/* out = conv(in) + bias, then relu if fused, then the fused 2x2 max pool if
 * any, for batch samples in [C][N][H][W] layout (in: s->in_c planes of
 * batch samples; out: s->out_c planes). s->wino_weight must be set.
 * Workspaces as gs_wino_workspace sized them; allocates nothing. */
void gs_wino_conv(const net_step *s, int batch, const float *in, float *out, float *in_ws, float *out_ws,
                  float *row_ws);

#endif
