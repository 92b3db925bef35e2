/* The network architecture schema, defined once: parses and validates the
 * "architecture" JSON of a model ({"input":[C,H,W],"layers":[...]}, the
 * vocabulary documented in genrescope/cnn.h) into a per-layer description
 * with every shape worked out. core/cnn builds its inference steps from it
 * and the trainer (train/tnet.c) its trainable layers, so a net the trainer
 * accepts is one the core can load, and both reject a bad one with the same
 * message.
 *
 * Internal: not installed, not exported from the shared library; in-tree
 * programs (the trainer, tests) link it from the internal static library. */
#ifndef GENRESCOPE_NET_DESC_H
#define GENRESCOPE_NET_DESC_H

#include <stdint.h>

#include "genrescope/cnn_ops.h"
#include "genrescope/error.h"

/* Longest layer name (tensor names are "<name>.<suffix>"). */
#define GS_NET_DESC_NAME_MAX 200

typedef enum gs_layer_op {
    GS_OP_CONV2D,
    GS_OP_BATCHNORM2D,
    GS_OP_RELU,
    GS_OP_MAXPOOL2D,
    GS_OP_AVGPOOL2D,
    GS_OP_GLOBAL_AVGPOOL,
    GS_OP_GLOBAL_MAXPOOL,
    GS_OP_DROPOUT,
    GS_OP_DENSE,
    GS_OP_SOFTMAX
} gs_layer_op;
/* The op tables (net_desc.c, train/tnet.c) have an entry per op and check
 * their length against this, so a new op goes last. */
#define GS_OP_COUNT (GS_OP_SOFTMAX + 1)

/* One layer, checked against its input. Shapes are per sample; once a
 * global pool has made the activations flat, h = w = 1. */
typedef struct gs_layer_desc {
    gs_layer_op op;
    const char *name; /* conv2d, batchnorm2d, dense; else NULL (owned by the desc) */
    int in_c, in_h, in_w;
    int out_c, out_h, out_w;
    gs_conv2d_shape conv; /* conv2d */
    int has_bias;         /* conv2d; dense always has a bias */
    int kh, kw, sh, sw;   /* maxpool2d, avgpool2d */
    double eps;           /* batchnorm2d; default 1e-5 */
    float p;              /* dropout; default 0.5 (PyTorch's) */
} gs_layer_desc;

typedef struct gs_net_desc {
    int in_c, in_h, in_w;
    int num_layers; /* at least 2: the last two are dense, softmax */
    gs_layer_desc *layers;
} gs_net_desc;

/* Parses and validates an architecture. Rules (see genrescope/cnn.h for the
 * vocabulary): "input" is [C,H,W] of integers in 1..65536; conv2d needs
 * "name", "in" (= the channels it gets), "out", "kernel", takes "stride",
 * "padding" and a boolean "bias"; batchnorm2d directly follows a conv2d,
 * with "eps" in [0,1); spatial ops may not follow a global pool and dense
 * must ("in" = its features); dropout "p" is in [0,1); softmax is last,
 * right after a dense layer; unknown keys are ignored. Nothing about
 * tensors is checked here (the core checks them at load, the trainer makes
 * them). Returns a description the caller frees with gs_net_desc_free(), or
 * NULL with GS_ERR_MODEL (message names the layer, e.g. "architecture layer
 * 3 (batchnorm2d): ...") or GS_ERR_NOMEM. json may be NULL (an error). */
gs_net_desc *gs_net_desc_parse(const char *json, gs_error *err);
void gs_net_desc_free(gs_net_desc *desc);

/* What training needs beyond what inference loads: every tensor name is
 * unique (export writes each tensor once) and batch norm "eps" is positive
 * (a channel's batch variance can be 0). GS_OK or GS_ERR_MODEL. */
gs_status gs_net_desc_check_trainable(const gs_net_desc *desc, gs_error *err);

/* The op's name in the JSON ("conv2d", ...). Never NULL. */
const char *gs_layer_op_name(gs_layer_op op);

/* One tensor of a layer, "<layer name>.<suffix>" in the model file, in
 * PyTorch's layout. Trainable tensors are the optimiser's parameters (decay:
 * weight decay applies); the others are statistics training updates without
 * gradients (batch norm's running mean and variance). */
typedef struct gs_tensor_spec {
    const char *suffix;
    int trainable, decay;
    int ndim;
    int64_t shape[4];
} gs_tensor_spec;

#define GS_LAYER_TENSORS_MAX 4

/* The tensors layer l has, written to spec[0..n) in the one order the
 * model file, the core's loader and the trainer's parameter list keep them
 * (weight, bias, then any statistics); returns n (0 for an op without
 * tensors, which has no "name" either). Table lookup: the op table in
 * net_desc.c says which tensors each op has and their shape rule. */
int gs_layer_tensors(const gs_layer_desc *l, gs_tensor_spec spec[GS_LAYER_TENSORS_MAX]);

#endif
