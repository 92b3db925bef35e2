/* Pieces the classifier (classify*.c, see classifier.h) and the
 * incremental sliding window (sliding.c) share, so both build their front-end, run the network and
 * size a window the same way. Not part of the public API. */
#ifndef GS_CLASSIFY_INTERNAL_H
#define GS_CLASSIFY_INTERNAL_H

#include <stddef.h>

#include "genrescope/classify.h"
#include "genrescope/melspec.h"

/* Patches per forward pass. */
#define GS_CLASSIFY_MAX_BATCH 16

/* The model's front-end: its own filterbank tensor when it carries one
 * (checked for shape), else the computed one. NULL with *err filled. */
gs_mel *gs_classify_mel_new(const gs_model *model, gs_error *err);

/* gs_net_forward, refusing non-finite probabilities (inputs are sanitised,
 * so they are the model's fault). embeddings may be NULL. In
 * classify_batch.c. */
gs_status gs_classify_forward(gs_net_ctx *ctx, const float *input, int batch, int num_labels, float *probs,
                              float *embeddings, gs_error *err);

/* Frames of a sliding window of window_samples samples: the front-end's
 * frame count for that many samples, at least 1 (gs_window_plan_*). */
long long gs_classify_window_frames(const gs_mel *mel, size_t window_samples);

#endif
