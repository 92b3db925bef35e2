/* Convolutional network inference.
 *
 * A gs_net is built from a model's "architecture" metadata and tensors. The
 * architecture JSON is {"input":[C,H,W],"layers":[...]} with H = mel bands and
 * W = time frames; tensors use PyTorch layouts and names. Layer vocabulary:
 *   {"op":"conv2d","name":N,"in":Ci,"out":Co,"kernel":[kh,kw],
 *    "stride":[sh,sw],"padding":[ph,pw],"bias":true}
 *        tensors N.weight [Co,Ci,kh,kw], N.bias [Co] (if bias)
 *   {"op":"batchnorm2d","name":N,"eps":1e-5}
 *        tensors N.weight, N.bias, N.running_mean, N.running_var [C];
 *        folded into the preceding conv2d at load (it must directly follow
 *        a conv2d; anywhere else the architecture is rejected)
 *   {"op":"relu"}
 *   {"op":"maxpool2d","kernel":[kh,kw],"stride":[sh,sw]}  (no padding, floor)
 *   {"op":"avgpool2d","kernel":[kh,kw],"stride":[sh,sw]}
 *   {"op":"global_avgpool"}   [C,H,W] -> [C]
 *   {"op":"global_maxpool"}   [C,H,W] -> [C]
 *   {"op":"dropout","p":0.5}  identity at inference
 *   {"op":"dense","name":N,"in":I,"out":O}  tensors N.weight [O,I], N.bias [O]
 *   {"op":"softmax"}
 * The embedding is the input of the last dense layer (the penultimate
 * representation). The last layer must be softmax after a dense layer. */
#ifndef GENRESCOPE_CNN_H
#define GENRESCOPE_CNN_H

#include "genrescope/api.h"

#include "genrescope/error.h"
#include "genrescope/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_net gs_net;

/* Builds a network from the model's architecture and tensors, checking every
 * name and shape, and folds batch norm into convolutions. The net copies the
 * weights it needs, so the model may be freed afterwards. Returns NULL with
 * GS_ERR_MODEL (bad architecture or tensors) or GS_ERR_NOMEM. Caller frees
 * with gs_net_free(). A net is immutable and may be shared by threads. */
GS_API gs_net *gs_net_from_model(const gs_model *model, gs_error *err);
GS_API void gs_net_free(gs_net *net);

/* Input shape [channels, height, width]. */
GS_API void gs_net_input_shape(const gs_net *net, int *channels, int *height, int *width);
GS_API int gs_net_num_outputs(const gs_net *net);
GS_API int gs_net_embedding_size(const gs_net *net);

/* Per-thread workspace: every buffer a forward pass of up to max_batch inputs
 * needs, allocated once here. Caller frees with gs_net_ctx_free(). */
typedef struct gs_net_ctx gs_net_ctx;
GS_API gs_net_ctx *gs_net_ctx_new(const gs_net *net, int max_batch, gs_error *err);
GS_API void gs_net_ctx_free(gs_net_ctx *ctx);

/* Runs batch (1..max_batch) inputs of C*H*W floats each (contiguous NCHW).
 * Writes batch*num_outputs probabilities to probs and, if embeddings is not
 * NULL, batch*embedding_size raw (un-normalised) penultimate activations.
 * Allocates nothing. Returns GS_ERR_INVALID for a bad batch size. */
GS_API gs_status gs_net_forward(gs_net_ctx *ctx, const float *input, int batch, float *probs, float *embeddings,
                                gs_error *err);

/* Sets how many threads the BLAS under gs_net_forward may use (OpenBLAS's
 * pool: process-wide, but per calling thread when OpenBLAS is built with
 * OpenMP, so a worker thread that wants 1 calls this from its own thread).
 * Callers that run one net per worker thread ask for 1, so the workers do
 * not each start a pool of their own. threads < 1 changes nothing (the
 * BLAS's own choice, OPENBLAS_NUM_THREADS, stays). Cannot fail. */
GS_API void gs_net_set_blas_threads(int threads);

#ifdef __cplusplus
}
#endif
#endif
