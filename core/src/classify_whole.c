/* The whole-window path: one window of samples analysed at once (the
 * reference for the plugin's incremental sliding window). Its frames are
 * computed in one go and its patches are the sliding-window plan's
 * (gs_window_plan_*), which for a window holding the whole clip is the clip
 * plan the streaming path cuts; its probabilities are the mean over the
 * window's classified patches, calibrated. It keeps its own sums, so it
 * leaves the streaming path's alone (only resetting it, as documented). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "genrescope/audio.h"
#include "genrescope/melspec.h"

gs_status gs_whole_window_init(gs_whole_window *w, const gs_classifier *cls)
{
    const gs_frontend_params *fp = &cls->fp;
    w->samples_capacity = (size_t)ceil((double)fp->window_seconds * fp->sample_rate);
    w->frames_capacity = gs_mel_num_frames(cls->mel, w->samples_capacity);
    if (w->frames_capacity < (size_t)fp->patch_frames)
        w->frames_capacity = (size_t)fp->patch_frames;
    /* At least one FFT frame: short input is zero-padded to n_fft in place. */
    size_t samples_alloc = w->samples_capacity > (size_t)fp->n_fft ? w->samples_capacity : (size_t)fp->n_fft;
    w->samples = malloc(sizeof(float) * samples_alloc);
    w->frames = malloc(sizeof(float) * w->frames_capacity * (size_t)fp->n_mels);
    w->rms = malloc(sizeof(float) * w->frames_capacity);
    gs_status st = gs_patch_sums_init(&w->sums, cls->num_labels, 0);
    return st == GS_OK && w->samples && w->frames && w->rms ? GS_OK : GS_ERR_NOMEM;
}

void gs_whole_window_free(gs_whole_window *w)
{
    free(w->samples);
    free(w->frames);
    free(w->rms);
    w->samples = w->frames = w->rms = NULL;
    gs_patch_sums_free(&w->sums);
}

/* Classifies the queued patches into the window's sums. */
static gs_status run_batch(gs_classifier *cls, gs_error *err)
{
    gs_patch_batch *b = &cls->batch;
    gs_status st = gs_patch_batch_run(b, cls->ctx, err);
    if (st != GS_OK)
        return st;
    for (int i = 0; i < b->len; i++)
        gs_patch_sums_add(&cls->whole.sums, b->probs + (size_t)i * (size_t)b->num_labels, NULL);
    b->len = 0;
    return GS_OK;
}

/* Cuts every patch of the window's plan from its n_frames stream frames,
 * of which the buffer holds those from frame first on, and classifies them. */
static gs_status classify_patches(gs_classifier *cls, long long n_frames, long long first, gs_error *err)
{
    gs_whole_window *w = &cls->whole;
    const long long window_frames = n_frames - first;
    const long long count = gs_window_plan_count(&cls->fp, n_frames, window_frames);
    gs_status st = GS_OK;
    for (long long k = 0; k < count && st == GS_OK; k++) {
        long long start = gs_window_plan_start(&cls->fp, n_frames, window_frames, k);
        long long local = start - first;
        if (gs_patch_is_silent(w->rms + local, n_frames - start, cls->fp.patch_frames))
            w->sums.num_silent++;
        else if (gs_patch_batch_add(&cls->batch, &cls->fp, w->frames + (size_t)local * (size_t)cls->n_mels,
                                    n_frames - start, 0))
            st = run_batch(cls, err);
    }
    return st == GS_OK ? run_batch(cls, err) : st;
}

gs_status gs_classifier_classify_window(gs_classifier *cls, const float *samples, size_t n, float *probabilities,
                                        int *num_patches, gs_error *err)
{
    /* A window holding the whole clip: its plan is the clip's. */
    return gs_classifier_classify_stream_window(cls, samples, n, n, probabilities, num_patches, err);
}

gs_status gs_classifier_classify_stream_window(gs_classifier *cls, const float *stream, size_t n_stream,
                                               size_t window_samples, float *probabilities, int *num_patches,
                                               gs_error *err)
{
    gs_whole_window *w = &cls->whole;
    if (num_patches)
        *num_patches = 0;
    gs_classifier_begin(cls);
    if (window_samples > w->samples_capacity)
        return gs_error_set(err, GS_ERR_INVALID, "window of %zu samples exceeds the model's %zu", window_samples,
                            w->samples_capacity);
    if (n_stream > 0 && !stream)
        return gs_error_set(err, GS_ERR_INVALID, "gs_classifier_classify_window: samples is NULL");
    const size_t n_fft = (size_t)cls->fp.n_fft, hop = (size_t)cls->fp.hop_length;
    long long n_frames = (long long)gs_mel_num_frames(cls->mel, n_stream);
    long long first = 0;
    size_t n;
    if (n_frames == 0) {
        /* Less than one FFT frame: analyse the zero-padded frame. */
        gs_audio_sanitize(stream, n_stream, w->samples);
        memset(w->samples + n_stream, 0, sizeof(float) * (n_fft - n_stream));
        n = n_fft;
        n_frames = 1;
    } else {
        /* Only the window's frames: from its first frame to the end of the
         * newest whole frame (at most window_samples samples). */
        first = gs_window_plan_first(n_frames, gs_classify_window_frames(cls->mel, window_samples));
        n = (size_t)(n_frames - first - 1) * hop + n_fft;
        gs_audio_sanitize(stream + (size_t)first * hop, n, w->samples);
    }
    gs_status st = gs_mel_compute_with_rms(cls->mel, w->samples, n, w->frames, w->rms, err);
    gs_patch_sums_reset(&w->sums);
    if (st == GS_OK)
        st = classify_patches(cls, n_frames, first, err);
    /* A failed pass leaves its patches queued; the batch is empty between calls. */
    cls->batch.len = 0;
    if (st != GS_OK)
        return st;
    gs_patch_sums_mean(w->sums.probs, cls->num_labels, w->sums.num_patches, probabilities);
    gs_calibrate_probabilities(probabilities, cls->num_labels, gs_model_calibration_temperature(cls->model));
    if (num_patches)
        *num_patches = w->sums.num_patches;
    return GS_OK;
}
