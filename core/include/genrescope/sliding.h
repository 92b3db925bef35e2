/* Incremental sliding-window verdicts for a live stream (the LV2 plugin's
 * worker): push audio as it arrives, ask for the verdict over the newest
 * window whenever one is due. Each pushed sample is turned into log-mel
 * frames once, and each of the stream's regular patches goes through the
 * network once, when its last frame arrives; a verdict then only averages
 * the kept per-patch probabilities and classifies the one patch at the
 * window's end (or the repeated patch of a window shorter than a patch).
 *
 * The verdict is defined by the sliding-window plan (classify.h,
 * gs_window_plan_*) and equals gs_classifier_classify_stream_window over
 * the same samples: the same patches, silent patches and patch counts; the
 * probabilities agree to float rounding only, because the network's forward
 * pass groups patches into different batches (its sums are not bitwise
 * batch-invariant). */
#ifndef GENRESCOPE_SLIDING_H
#define GENRESCOPE_SLIDING_H

#include <stddef.h>

#include "genrescope/api.h"
#include "genrescope/cnn.h"
#include "genrescope/error.h"
#include "genrescope/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_sliding gs_sliding;

/* Creates a sliding analysis for model (borrowed: it must outlive the
 * object) whose windows are at most max_window_samples model-rate samples
 * (1 .. the model's window length). net may be NULL (built from the model)
 * or a shared immutable net (borrowed). Every buffer (front-end, network
 * workspace, frame and per-patch rings) is allocated here; nothing after
 * allocates. Returns NULL with *err filled (GS_ERR_INVALID, GS_ERR_MODEL,
 * GS_ERR_NOMEM). One object per thread. Caller frees with gs_sliding_free. */
GS_API gs_sliding *gs_sliding_new(const gs_model *model, const gs_net *net, size_t max_window_samples, gs_error *err);
GS_API void gs_sliding_free(gs_sliding *sl);

/* Starts a new stream: forgets all audio, frames and patch results. */
GS_API void gs_sliding_reset(gs_sliding *sl);

/* Appends n mono samples at the model's rate (through gs_audio_sanitize:
 * NaN/Inf count as 0): computes their frames and runs the network on every
 * regular patch they complete.
 * After a failure (a network that gives non-finite output) push and verdict
 * keep returning that error until the next reset. */
GS_API gs_status gs_sliding_push(gs_sliding *sl, const float *samples, size_t n, gs_error *err);

/* Verdict over the newest window_samples samples' worth of frames (1 ..
 * max_window_samples, else GS_ERR_INVALID): writes num_labels calibrated
 * probabilities (all 0 when every patch is silent) and, when num_patches is
 * not NULL, the classified patch count. With no audio yet, one zero-padded
 * frame is analysed, as gs_classifier_classify_window does. */
GS_API gs_status gs_sliding_verdict(gs_sliding *sl, size_t window_samples, float *probabilities, int *num_patches,
                                    gs_error *err);

/* Samples pushed since the last reset. */
GS_API unsigned long long gs_sliding_samples(const gs_sliding *sl);

/* Network forward passes (patches) run since creation: what the incremental
 * analysis costs, for tests and benchmarks. */
GS_API unsigned long long gs_sliding_patches_forwarded(const gs_sliding *sl);

#ifdef __cplusplus
}
#endif
#endif
