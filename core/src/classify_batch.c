/* Batches: patches queued for one forward pass, the pass itself, and the
 * check of what the network gives back (a non-finite probability is
 * refused, never averaged in). Shared by the classifier and, for
 * gs_classify_forward, the sliding window. */
#include "classify_batch.h"

#include <math.h>
#include <stdlib.h>

gs_status gs_classify_forward(gs_net_ctx *ctx, const float *input, int batch, int num_labels, float *probs,
                              float *embeddings, gs_error *err)
{
    gs_status st = gs_net_forward(ctx, input, batch, probs, embeddings, err);
    if (st != GS_OK)
        return st;
    /* Inputs are sanitised, so a non-finite output is the model's fault
     * (e.g. weights that overflow): refuse it rather than average it in. */
    for (int i = 0; i < batch * num_labels; i++)
        if (!isfinite(probs[i]))
            return gs_error_set(err, GS_ERR_MODEL,
                                "the network produced a non-finite probability: "
                                "the model is broken");
    return GS_OK;
}

gs_status gs_patch_batch_init(gs_patch_batch *b, int num_labels, int embedding_size, size_t patch_size)
{
    b->len = 0;
    b->num_labels = num_labels;
    b->embedding_size = embedding_size;
    b->patch_size = patch_size;
    b->input = malloc(sizeof(float) * GS_CLASSIFY_MAX_BATCH * patch_size);
    b->probs = malloc(sizeof(float) * GS_CLASSIFY_MAX_BATCH * (size_t)num_labels);
    b->embed = embedding_size > 0 ? malloc(sizeof(float) * GS_CLASSIFY_MAX_BATCH * (size_t)embedding_size) : NULL;
    if (!b->input || !b->probs || (embedding_size > 0 && !b->embed))
        return GS_ERR_NOMEM;
    return GS_OK;
}

void gs_patch_batch_free(gs_patch_batch *b)
{
    free(b->input);
    free(b->probs);
    free(b->embed);
    b->input = b->probs = b->embed = NULL;
}

int gs_patch_batch_add(gs_patch_batch *b, const gs_frontend_params *fp, const float *frames, long long available,
                       int window)
{
    gs_patch_from_frames(frames, available, fp->n_mels, fp->patch_frames, fp->patch_normalize,
                         b->input + (size_t)b->len * b->patch_size);
    b->window[b->len++] = window;
    return b->len == GS_CLASSIFY_MAX_BATCH;
}

gs_status gs_patch_batch_run(gs_patch_batch *b, gs_net_ctx *ctx, gs_error *err)
{
    if (b->len == 0)
        return GS_OK;
    return gs_classify_forward(ctx, b->input, b->len, b->num_labels, b->probs, b->embed, err);
}
