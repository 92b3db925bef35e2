/* Trainable network: the same layer vocabulary and tensor names as core/cnn
 * (see core/include/genrescope/cnn.h), with forward/backward pairs over flat
 * float arrays (llm.c style: one allocation for all parameters, one for all
 * gradients, one for activations sized for max_batch).
 *
 * Batch norm runs in training mode (batch statistics, running averages with
 * momentum 0.1, PyTorch semantics) when training != 0 and in eval mode with
 * the running statistics otherwise; dropout is active only when training. */
#ifndef GS_TRAIN_TNET_H
#define GS_TRAIN_TNET_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"
#include "genrescope/model.h"

typedef struct gs_tnet gs_tnet;

/* The checks gs_tnet_new runs on an architecture, without building: the
 * core's rules (genrescope/net_desc.h: a net that passes is one the core
 * can load once trained) and what training adds (unique tensor names,
 * batch norm eps > 0). GS_OK, or GS_ERR_MODEL with the core's message. */
gs_status gs_tnet_check_architecture(const char *architecture_json, gs_error *err);

/* Builds a net from architecture JSON ({"input":[C,H,W],"layers":[...]}) with
 * Kaiming-uniform conv/dense init (PyTorch defaults), BN weight 1 bias 0,
 * running mean 0 var 1, deterministic given seed. NULL + err on failure. */
gs_tnet *gs_tnet_new(const char *architecture_json, int max_batch, uint64_t seed, gs_error *err);

/* Builds from a model file's architecture and copies its tensors (fine-tune).
 * If num_outputs > 0 and differs from the model's, the last dense layer is
 * replaced by a freshly initialised one with num_outputs outputs. */
gs_tnet *gs_tnet_from_model(const gs_model *model, int max_batch, int num_outputs, uint64_t seed, gs_error *err);
void gs_tnet_free(gs_tnet *net);

/* Architecture JSON as the net was built (with any head replacement), owned. */
const char *gs_tnet_architecture_json(const gs_tnet *net);
void gs_tnet_input_shape(const gs_tnet *net, int *c, int *h, int *w);
int gs_tnet_num_outputs(const gs_tnet *net);
int gs_tnet_embedding_size(const gs_tnet *net);

/* Forward: input batch x C*H*W; writes batch x num_outputs probabilities (if
 * probs is not NULL) and batch x embedding_size penultimate activations (if
 * embeddings is not NULL). rng_seed drives dropout masks. */
gs_status gs_tnet_forward(gs_tnet *net, const float *input, int batch, int training, uint64_t rng_seed, float *probs,
                          float *embeddings, gs_error *err);

/* After a training forward: cross-entropy against targets (batch x
 * num_outputs distributions, so mixup's soft labels work), mean over the
 * batch. Zeroes then fills every parameter gradient. Returns the loss. */
float gs_tnet_backward(gs_tnet *net, const float *targets, int batch);

/* Parameter groups for the optimiser. Each trainable tensor is one group;
 * decay says whether weight decay applies (conv/dense weights yes; biases
 * and BN parameters no). Pointers are owned by the net. */
typedef struct gs_tparam {
    const char *name; /* PyTorch-style tensor name, e.g. "conv1.weight" */
    float *value;
    float *grad;
    size_t size;
    int decay;
} gs_tparam;
int gs_tnet_num_params(const gs_tnet *net);
gs_tparam *gs_tnet_param(gs_tnet *net, int index);
size_t gs_tnet_total_parameters(const gs_tnet *net);

/* Adds every tensor (parameters and BN running statistics, PyTorch names and
 * layouts) and the "architecture" metadata to writer. */
gs_status gs_tnet_export(const gs_tnet *net, gs_model_writer *writer, gs_error *err);

/* Copies all parameters and running statistics from src (same architecture)
 * into dst: used to keep the best epoch's weights. */
gs_status gs_tnet_copy_weights(gs_tnet *dst, const gs_tnet *src, gs_error *err);

#endif
