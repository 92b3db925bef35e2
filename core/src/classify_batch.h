/* Patches waiting for one forward pass of the network, and the network's
 * outputs for them (classify_batch.c). Both paths of the classifier queue
 * their patches here; the caller folds the outputs into its own sums and
 * empties the batch. Not part of the API. */
#ifndef GS_CLASSIFY_BATCH_H
#define GS_CLASSIFY_BATCH_H

#include <stddef.h>

#include "classify_internal.h"

typedef struct gs_patch_batch {
    int len; /* patches queued, <= GS_CLASSIFY_MAX_BATCH */
    int num_labels, embedding_size;
    size_t patch_size;                 /* n_mels * patch_frames */
    float *input;                      /* [MAX_BATCH][n_mels][patch_frames], the network's layout */
    int window[GS_CLASSIFY_MAX_BATCH]; /* the verdict window each queued patch belongs to */
    float *probs;                      /* [MAX_BATCH][num_labels], after gs_patch_batch_run */
    float *embed;                      /* [MAX_BATCH][embedding_size] after gs_patch_batch_run;
                                             NULL when the net has no embedding */
} gs_patch_batch;

/* Allocates the buffers for a net of num_labels outputs and embedding_size
 * penultimate activations, with patches of patch_size floats. Returns
 * GS_ERR_NOMEM (no message) when out of memory; free with
 * gs_patch_batch_free in either case. */
gs_status gs_patch_batch_init(gs_patch_batch *b, int num_labels, int embedding_size, size_t patch_size);
void gs_patch_batch_free(gs_patch_batch *b);

/* Queues the plan patch whose frames start at frames (time-major, n_mels
 * each), of which `available` exist, cut by gs_patch_from_frames, tagged
 * with its window. The batch must not be full. Returns 1 when it is full
 * now (the caller runs it before the next add), else 0. */
int gs_patch_batch_add(gs_patch_batch *b, const gs_frontend_params *fp, const float *frames, long long available,
                       int window);

/* Runs the queued patches through ctx (gs_classify_forward) into probs and
 * embed; nothing when none is queued. Leaves len alone: the caller reads
 * the len outputs, then sets len to 0. Errors as gs_classify_forward. */
gs_status gs_patch_batch_run(gs_patch_batch *b, gs_net_ctx *ctx, gs_error *err);

#endif
