/* Private to core/src/cnn_*.c: the built network's representation, shared
 * by the builder (cnn_net.c) and the forward pass (cnn_forward.c), and the
 * kernel variants the forward pass needs beyond the public NCHW ops: it
 * keeps activations channel-major across the batch ([C][N][H][W]) so that
 * one sgemm covers several samples, hence explicit strides. */
#ifndef GENRESCOPE_CNN_INTERNAL_H
#define GENRESCOPE_CNN_INTERNAL_H

#include <stddef.h>

#include "genrescope/cnn.h"
#include "genrescope/cnn_ops.h"

/* gs_im2col for output rows [oy0, oy1) of one sample whose channel c starts
 * at in + c*chan_stride, writing row r of the column matrix at col + r*ldcol
 * ((oy1 - oy0) * ow values each). */
void gs_cnn_im2col_rows(const float *in, size_t chan_stride, const gs_conv2d_shape *s, int oy0, int oy1, float *col,
                        size_t ldcol);

/* True when the conv reads its input directly as the column matrix. */
int gs_cnn_conv_is_pointwise(const gs_conv2d_shape *s);

/* A built network: a list of steps, each one layer or a fused run of layers
 * (conv[+relu][+maxpool], dense[+relu]). Built by cnn_net.c, run by
 * cnn_forward.c. */
typedef enum step_kind {
    STEP_CONV,
    STEP_RELU,
    STEP_MAXPOOL,
    STEP_AVGPOOL,
    STEP_GLOBAL_AVG,
    STEP_GLOBAL_MAX,
    STEP_DENSE,
    STEP_SOFTMAX
} step_kind;

typedef struct net_step {
    step_kind kind;
    int in_c, in_h, in_w;    /* per-sample input; h = w = 1 once flat */
    int out_c, out_h, out_w; /* per-sample output */
    gs_conv2d_shape conv;
    int conv_h, conv_w; /* conv output before a fused max pool */
    int kh, kw, sh, sw; /* pooling window (STEP_*POOL or fused) */
    int pool_fused;     /* conv followed by max pool: pool, then bias */
    int relu_fused;     /* conv/dense followed by relu */
    int bn_folded;
    /* Owned. Conv: weight [Co][Ci*kh*kw] (batch norm folded in), bias [Co]
     * (zeros when the layer has none). Dense: weight [O][I], bias [O]. */
    float *weight, *bias;
    float *wino_weight; /* owned; set: the conv runs as Winograd F(2x2,3x3), [16][Co][Ci] */
} net_step;

struct gs_net {
    int in_c, in_h, in_w;
    int num_outputs, embedding_size;
    int num_steps;
    int last_dense;    /* index of the step whose input is the embedding */
    net_step *steps;   /* [num_steps] */
    size_t act_floats; /* largest per-sample activation */
};

#endif
