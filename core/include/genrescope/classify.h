/* Classification: samples -> log-mel patches -> per-patch probabilities ->
 * per-window (window_seconds, normally 30 s) verdicts -> track verdict and
 * embedding. Used by the tagger, the plugin and the trainer's evaluation.
 *
 * Which patches a clip has, how a short clip is filled and which patches
 * are silent is the patch plan below, shared with the trainer. A patch
 * belongs to the window its first frame falls in. Silent patches are not
 * classified. A window's probabilities are the mean over its classified
 * patches; the track's are the mean over all classified patches; both then
 * go through the model's calibration (gs_calibrate_probabilities) and the
 * verdict (genrescope/verdict.h). The embedding is the L2-normalised mean of
 * the patches' penultimate activations, and each window's embedding the
 * same over its own patches. Audio shorter than one patch gives
 * one repeated patch and the result says so (padded = 1). */
#ifndef GENRESCOPE_CLASSIFY_H
#define GENRESCOPE_CLASSIFY_H

#include "genrescope/api.h"

#include <stddef.h>
#include <stdint.h>

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
    int top_label;           /* the genre; -1 unless verdict is GS_VERDICT_GENRE */
    float confidence;        /* probability of top_label, else 0 */
    float not_music;         /* probability of the model's not-music label (0 if none) */
    int num_patches;         /* classified (non-silent) patches */
    float *probabilities;    /* num_labels, points into the result's storage */
    float *embedding;        /* the track's embedding_size floats: the L2-normalised
                               mean of this window's patches' penultimate
                               activations (all zero when none was classified),
                               so a part of a long track (a DJ mix) can be
                               compared on its own; points into the result's
                               storage; NULL when embedding_size is 0 */
} gs_window_verdict;

typedef struct gs_track_result {
    int num_labels;
    gs_verdict_kind verdict; /* silent, genre or not-music (genrescope/verdict.h) */
    int top_label;           /* the genre; -1 unless verdict is GS_VERDICT_GENRE */
    float confidence;        /* probability of top_label, else 0 */
    float not_music;         /* probability of the model's not-music label (0 if none) */
    float *probabilities;    /* num_labels, owned */
    int embedding_size;
    float *embedding; /* L2-normalised; all zero when silent; owned */
    int num_windows;
    gs_window_verdict *windows; /* owned */
    double duration_seconds;    /* audio analysed, at the model rate */
    int num_patches;            /* classified patches */
    int num_silent_patches;
    int padded;                      /* 1: audio shorter than one patch, padded */
    long long nonfinite_samples;     /* NaN/Inf input samples replaced by 0 */
    uint64_t audio_digest;           /* gs_classify_file: 64-bit digest of the decoded
                                   audio (model-rate mono samples), the same for
                                   the same audio in any container or with any
                                   tags, on the same build; never 0 then. 0 when
                                   the audio came from gs_classifier_push. */
    float *window_storage;           /* backing store for windows[i].probabilities */
    float *window_embedding_storage; /* backing store for windows[i].embedding */
} gs_track_result;

/* Frees what a result owns and zeroes it; result may be NULL. */
GS_API void gs_track_result_free(gs_track_result *result);

typedef struct gs_classifier gs_classifier;

/* Creates a classifier for model (borrowed: it must outlive the classifier)
 * with its own network workspace, front-end and patch buffers; net may be
 * NULL (built from model) or a shared immutable net (borrowed). One
 * classifier per thread. Caller frees with gs_classifier_free(). */
GS_API gs_classifier *gs_classifier_new(const gs_model *model, const gs_net *net, gs_error *err);
GS_API void gs_classifier_free(gs_classifier *cls);

GS_API const gs_model *gs_classifier_model(const gs_classifier *cls);

/* Streaming track analysis: begin, push mono samples at the model's rate in
 * blocks of any size, then finish to get the verdict (caller frees it with
 * gs_track_result_free); finish leaves the classifier ready for the next
 * track. Per-patch work allocates nothing; finish and window boundaries may
 * allocate. After a failure, push and finish keep returning that error until
 * the next begin. cls and samples (when n > 0) must not be NULL. */
GS_API void gs_classifier_begin(gs_classifier *cls);
GS_API gs_status gs_classifier_push(gs_classifier *cls, const float *samples, size_t n, gs_error *err);
GS_API gs_status gs_classifier_finish(gs_classifier *cls, gs_track_result *result, gs_error *err);

/* Decodes path (any format gs_audio_open reads) and analyses it in bounded
 * memory. On failure returns the error (its message names the path) and
 * leaves result empty (top_label -1, no arrays). A decoding error part way
 * (e.g. a truncated FLAC) fails the file; formats whose decoder cannot tell
 * (e.g. MP3 cut between frames) give the verdict of what was decoded. */
GS_API gs_status gs_classify_file(gs_classifier *cls, const char *path, gs_track_result *result, gs_error *err);

/* Whole-window analysis: classifies n mono samples at
 * the model rate (at most the window length) and writes num_labels
 * probabilities (all 0 when silent). Allocates nothing; returns the number of
 * classified patches in *num_patches (may be NULL). Shorter input is padded.
 * Gives the same patches, so the same probabilities, as streaming the same
 * samples; it resets any streaming analysis in progress (also when it fails
 * on its arguments). */
GS_API gs_status gs_classifier_classify_window(gs_classifier *cls, const float *samples, size_t n, float *probabilities,
                                               int *num_patches, gs_error *err);

/* The sliding-window verdict of a stream, from scratch: stream holds the
 * n_stream mono model-rate samples since the stream began (only the newest
 * window is read); the window is the newest window_samples samples' worth of
 * frames (gs_window_plan_*, on the stream's frame and patch grid), at most
 * the model's window length. Writes num_labels probabilities (all 0 when
 * silent) and the classified patch count like classify_window, which is
 * this call with window_samples = n_stream. Allocates nothing; resets any
 * streaming analysis in progress. Errors: GS_ERR_INVALID (window_samples
 * above the model's window, stream NULL with n_stream > 0), GS_ERR_MODEL (the
 * network gave a non-finite probability). The reference for gs_sliding,
 * which computes the same verdict incrementally (genrescope/sliding.h). */
GS_API gs_status gs_classifier_classify_stream_window(gs_classifier *cls, const float *stream, size_t n_stream,
                                                      size_t window_samples, float *probabilities, int *num_patches,
                                                      gs_error *err);

/* The patch plan: which patches of a clip of n_frames front-end frames are
 * classified and how each one is cut. The classifier (streaming and
 * whole-window paths) and the trainer (random training crops, per-epoch
 * validation, the spectrogram export for the PyTorch reference) all go
 * through these functions, so training and inference see the same patches.
 *  - n_frames >= patch_frames: regular patches start every
 *    patch_hop_frames frames from 0; when they leave at least half a hop
 *    uncovered at the end, one more patch covers the last patch_frames
 *    frames (gs_patch_tail_start).
 *  - 1 <= n_frames < patch_frames: one patch at frame 0 made of the clip's
 *    frames repeated cyclically until they fill patch_frames
 *    (gs_patch_from_frames). Repetition rather than silence keeps the patch
 *    level-invariant (the mean removed by normalisation scales with the
 *    audio) and shows the network only real content.
 *  - n_frames == 0: no patch. (The classifier completes audio shorter than
 *    one FFT frame with zeros to one frame, so it always has a frame.)
 *  - A patch is silent when its peak frame RMS (the front-end's per-frame
 *    RMS, gs_mel_compute_with_rms / gs_mel_pull) is below GS_SILENCE_RMS:
 *    it is counted, never classified and never trained on.
 * The start of regular patch k does not depend on n_frames, so a streaming
 * caller can cut regular patches as soon as their frames have arrived and
 * the tail (or repeated) patch when the clip ends. p is trusted (validated
 * front-end parameters); none of these functions allocates or fails. */

/* Number of patches in the plan of n_frames frames (0 when n_frames <= 0). */
GS_API long long gs_patch_plan_count(const gs_frontend_params *p, long long n_frames);

/* Number of regular patches: (n_frames - patch_frames) / patch_hop_frames
 * + 1 when n_frames >= patch_frames, else 0. They are the plan's first
 * patches; the tail or repeated patch, if any, comes after them. */
GS_API long long gs_patch_plan_regular(const gs_frontend_params *p, long long n_frames);

/* Start frame of plan patch k (0 <= k < gs_patch_plan_count), in plan
 * order: regular patches ascending, then the tail patch. The patch's frames
 * are the n_frames - start frames from there, of which gs_patch_from_frames
 * takes patch_frames (repeating them when fewer). Returns -1 when k is out
 * of range. */
GS_API long long gs_patch_plan_start(const gs_frontend_params *p, long long n_frames, long long k);

/* Start frame of the extra patch aligned to the end of n_frames frames, or
 * -1 when there is none (fewer than patch_frames frames, or the regular
 * patches leave less than half a hop uncovered). */
GS_API long long gs_patch_tail_start(const gs_frontend_params *p, long long n_frames);

/* The sliding-window plan: the patches of the newest window_frames frames
 * of a stream that has n_frames frames so far (the plugin's verdict; see
 * gs_sliding and gs_classifier_classify_stream_window). Frames and patches
 * stay on the stream's grid (frame t starts at sample t * hop_length, regular
 * patch i at frame i * patch_hop_frames, counted from the stream's start),
 * so each regular patch is the same whichever window it falls in and an
 * incremental analysis classifies it once.
 *  - The window is frames [first, n_frames), first = max(0, n_frames -
 *    window_frames) (window_frames < 1 counts as 1).
 *  - first == 0 (the stream is no longer than the window): exactly the
 *    clip plan of n_frames frames above (gs_patch_plan_*), so a window that
 *    holds the whole stream gives what gs_classifier_classify_window does.
 *  - Window shorter than one patch: one repeated patch of its frames.
 *  - Otherwise: the regular patches lying wholly inside the window, in
 *    ascending order, then the patch ending at n_frames when the clip
 *    plan's tail rule adds it for n_frames (gs_patch_tail_start) or when no
 *    regular patch fits. Up to patch_hop_frames - 1 of the window's oldest
 *    frames may be left out; its newest frames never are (beyond the tail
 *    rule's half hop).
 * Patch k's frames are the n_frames - start frames from its start (as for
 * gs_patch_plan_start). None of these functions allocates or fails. */

/* First frame of the window (0 while the stream is no longer than it). */
GS_API long long gs_window_plan_first(long long n_frames, long long window_frames);

/* Number of patches in the window's plan (0 when n_frames <= 0). */
GS_API long long gs_window_plan_count(const gs_frontend_params *p, long long n_frames, long long window_frames);

/* Number of regular stream patches in the window; they are the plan's
 * first patches. When first_index is not NULL it receives the stream index
 * of the first of them (its start frame / patch_hop_frames; 0 when none). */
GS_API long long gs_window_plan_regular(const gs_frontend_params *p, long long n_frames, long long window_frames,
                                        long long *first_index);

/* Start frame (on the stream, not the window) of plan patch k, or -1 when
 * k is out of range. */
GS_API long long gs_window_plan_start(const gs_frontend_params *p, long long n_frames, long long window_frames,
                                      long long k);

/* Number of start frames a random training crop may take: 0 .. result - 1.
 * n_frames - patch_frames + 1 for a clip of at least one patch; 1 (the
 * repeated patch at 0) for a shorter clip; 0 without frames. */
GS_API long long gs_patch_crop_starts(const gs_frontend_params *p, long long n_frames);

/* Peak of the frame RMS over the patch_frames frames of a patch whose
 * frames start at rms and of which `available` (>= 1) exist (repeated like
 * gs_patch_from_frames when fewer than patch_frames). */
GS_API float gs_patch_peak_rms(const float *rms, long long available, int patch_frames);

/* 1 when that patch is silent (peak frame RMS below GS_SILENCE_RMS), else 0. */
GS_API int gs_patch_is_silent(const float *rms, long long available, int patch_frames);

/* Cuts one patch: takes patch_frames consecutive time-major log-mel frames
 * (n_mels values each) from frames, of which `available` (>= 1) exist,
 * repeating them cyclically when available < patch_frames, and writes one
 * network input laid out [n_mels][patch_frames] (mel = height, time =
 * width) with the patch normalisation applied. The single definition of a
 * patch, shared by inference and the trainer. frames and out must not
 * overlap. */
GS_API void gs_patch_from_frames(const float *frames, long long available, int n_mels, int patch_frames,
                                 gs_patch_normalize normalize, float *out);

/* Index of the largest of n values (first on ties), or -1 if n <= 0. */
GS_API int gs_argmax(const float *values, int n);

#ifdef __cplusplus
}
#endif
#endif
