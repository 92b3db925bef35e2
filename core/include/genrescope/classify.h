/* Classification: samples -> log-mel patches -> per-patch probabilities ->
 * per-window (window_seconds, normally 30 s) verdicts -> track verdict and
 * embedding. Used by the tagger, the plugin and the trainer's evaluation.
 *
 * Patches of patch_frames frames start every patch_hop_frames frames. A patch
 * belongs to the window its first frame falls in. Silent patches (peak frame
 * RMS below GS_SILENCE_RMS) are not classified. A window's probabilities are
 * the mean over its classified patches; the track's are the mean over all
 * classified patches; both then go through the model's calibration
 * (gs_calibrate_probabilities) and the verdict (genrescope/verdict.h). The
 * embedding is the L2-normalised mean of the patches' penultimate
 * activations. Audio shorter than one patch is padded to one
 * patch by repeating its frames (which keeps it level-invariant) and the
 * result says so (padded = 1). When the regular patches stop at least half
 * a hop short of the end, one more patch aligned to the last frame covers
 * the tail. */
#ifndef GENRESCOPE_CLASSIFY_H
#define GENRESCOPE_CLASSIFY_H

#include <stddef.h>

#include "genrescope/cnn.h"
#include "genrescope/error.h"
#include "genrescope/model.h"
#include "genrescope/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -80 dBFS: quieter patches count as silence, never as a genre. */
#define GS_SILENCE_RMS 1e-4f

typedef struct gs_window_verdict {
    double start_seconds;
    double end_seconds;
    gs_verdict_kind verdict; /* silent, genre or not-music (genrescope/verdict.h) */
    int top_label;          /* the genre; -1 unless verdict is GS_VERDICT_GENRE */
    float confidence;       /* probability of top_label, else 0 */
    float not_music;        /* probability of the model's not-music label (0 if none) */
    int num_patches;        /* classified (non-silent) patches */
    float *probabilities;   /* num_labels, points into the result's storage */
} gs_window_verdict;

typedef struct gs_track_result {
    int num_labels;
    gs_verdict_kind verdict;    /* silent, genre or not-music (genrescope/verdict.h) */
    int top_label;              /* the genre; -1 unless verdict is GS_VERDICT_GENRE */
    float confidence;           /* probability of top_label, else 0 */
    float not_music;            /* probability of the model's not-music label (0 if none) */
    float *probabilities;       /* num_labels, owned */
    int embedding_size;
    float *embedding;           /* L2-normalised; all zero when silent; owned */
    int num_windows;
    gs_window_verdict *windows; /* owned */
    double duration_seconds;    /* audio analysed, at the model rate */
    int num_patches;            /* classified patches */
    int num_silent_patches;
    int padded;                 /* 1: audio shorter than one patch, padded */
    long long nonfinite_samples;/* NaN/Inf input samples replaced by 0 */
    float *window_storage;      /* backing store for windows[i].probabilities */
} gs_track_result;

/* Frees what a result owns and zeroes it; result may be NULL. */
void gs_track_result_free(gs_track_result *result);

typedef struct gs_classifier gs_classifier;

/* Creates a classifier for model (borrowed: it must outlive the classifier)
 * with its own network workspace, front-end and patch buffers; net may be
 * NULL (built from model) or a shared immutable net (borrowed). One
 * classifier per thread. Caller frees with gs_classifier_free(). */
gs_classifier *gs_classifier_new(const gs_model *model, const gs_net *net, gs_error *err);
void gs_classifier_free(gs_classifier *cls);

const gs_model *gs_classifier_model(const gs_classifier *cls);

/* Streaming track analysis: begin, push mono samples at the model's rate in
 * blocks of any size, then finish to get the verdict (caller frees it with
 * gs_track_result_free); finish leaves the classifier ready for the next
 * track. Per-patch work allocates nothing; finish and window boundaries may
 * allocate. After a failure, push and finish keep returning that error until
 * the next begin. cls and samples (when n > 0) must not be NULL. */
void gs_classifier_begin(gs_classifier *cls);
gs_status gs_classifier_push(gs_classifier *cls, const float *samples, size_t n, gs_error *err);
gs_status gs_classifier_finish(gs_classifier *cls, gs_track_result *result, gs_error *err);

/* Decodes path (any format gs_audio_open reads) and analyses it in bounded
 * memory. On failure returns the error (its message names the path) and
 * leaves result empty (top_label -1, no arrays). A decoding error part way
 * (e.g. a truncated FLAC) fails the file; formats whose decoder cannot tell
 * (e.g. MP3 cut between frames) give the verdict of what was decoded. */
gs_status gs_classify_file(gs_classifier *cls, const char *path, gs_track_result *result,
                           gs_error *err);

/* Whole-window analysis for real-time hosts: classifies n mono samples at
 * the model rate (at most the window length) and writes num_labels
 * probabilities (all 0 when silent). Allocates nothing; returns the number of
 * classified patches in *num_patches (may be NULL). Shorter input is padded.
 * Gives the same patches, so the same probabilities, as streaming the same
 * samples; it resets any streaming analysis in progress (also when it fails
 * on its arguments). */
gs_status gs_classifier_classify_window(gs_classifier *cls, const float *samples, size_t n,
                                        float *probabilities, int *num_patches, gs_error *err);

/* Start frame of the extra patch aligned to the end of n_frames frames, or
 * -1 when there is none: the regular patches start every patch_hop_frames
 * frames from 0, and when they leave at least half a hop uncovered at the
 * end, one more patch covers the last patch_frames frames. With
 * gs_patch_from_frames, the definition of which patches a classifier
 * averages, shared with the trainer's validation. p is trusted (validated
 * front-end parameters). */
long long gs_patch_tail_start(const gs_frontend_params *p, long long n_frames);

/* Turns patch_frames consecutive time-major log-mel frames (n_mels values
 * each) into one network input laid out [n_mels][patch_frames] (mel =
 * height, time = width) and applies the patch normalisation. The single
 * definition of a patch, shared by inference and the trainer so the two can
 * never drift apart. frames and out must not overlap. */
void gs_patch_from_frames(const float *frames, int n_mels, int patch_frames, gs_patch_normalize normalize,
                          float *out);

/* Index of the largest of n values (first on ties), or -1 if n <= 0. */
int gs_argmax(const float *values, int n);

#ifdef __cplusplus
}
#endif
#endif
