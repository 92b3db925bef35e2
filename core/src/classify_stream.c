/* The streaming path's front half: pushed samples -> front-end frames ->
 * the patch plan's patches, cut from a short frame history as soon as
 * their last frame arrives (the tail or repeated patch when the track
 * ends), each tagged with its verdict window and queued in the batch; a
 * full batch's outputs go to the window and track sums in patch order. The
 * plan is the clip plan of patch_plan.c, so the patches are those the
 * whole-window path and the trainer cut from the same audio. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "genrescope/audio.h"
#include "genrescope/melspec.h"

gs_status gs_frame_history_init(gs_frame_history *h, const gs_frontend_params *fp)
{
    /* The next patch may start up to a patch hop before the newest
     * patch_frames frames; anything older is never needed again. */
    h->capacity = fp->patch_frames + fp->patch_hop_frames;
    h->frames = malloc(sizeof(float) * (size_t)h->capacity * (size_t)fp->n_mels);
    h->rms = malloc(sizeof(float) * (size_t)h->capacity);
    gs_frame_history_reset(h);
    return h->frames && h->rms ? GS_OK : GS_ERR_NOMEM;
}

void gs_frame_history_free(gs_frame_history *h)
{
    free(h->frames);
    free(h->rms);
    h->frames = h->rms = NULL;
}

void gs_frame_history_reset(gs_frame_history *h)
{
    h->len = 0;
    h->start = 0;
    h->frames_seen = 0;
    h->patches_cut = 0;
}

static int window_of_frame(const gs_classifier *cls, long long frame)
{
    return (int)floor((double)frame / cls->window_frames);
}

/* Classifies the queued patches and adds each one's outputs to its window
 * (closing the windows it leaves behind) and to the track. */
static gs_status run_batch(gs_classifier *cls, gs_error *err)
{
    gs_patch_batch *b = &cls->batch;
    gs_status st = gs_patch_batch_run(b, cls->ctx, err);
    if (st != GS_OK)
        return st;
    for (int i = 0; i < b->len; i++) {
        if (gs_track_sums_enter(&cls->sums, b->window[i]) != GS_OK)
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory recording window verdicts");
        gs_track_sums_add(&cls->sums, b->probs + (size_t)i * (size_t)b->num_labels,
                          b->embed ? b->embed + (size_t)i * (size_t)b->embedding_size : NULL);
    }
    b->len = 0;
    return GS_OK;
}

/* Cuts plan patch number patches_cut of a clip of n_frames frames from the
 * history, and queues it (or counts it silent). The history always holds
 * the frames it needs: at least the last patch_frames frames, and every
 * frame while fewer than patch_frames + patch_hop_frames have arrived. */
static gs_status cut_patch(gs_classifier *cls, long long n_frames, gs_error *err)
{
    gs_frame_history *h = &cls->history;
    long long start = gs_patch_plan_start(&cls->fp, n_frames, h->patches_cut++);
    int offset = (int)(start - h->start);
    const float *frames = h->frames + (size_t)offset * (size_t)cls->n_mels;
    long long available = n_frames - start;
    int window = window_of_frame(cls, start);
    if (gs_patch_is_silent(h->rms + offset, available, cls->fp.patch_frames)) {
        if (window != cls->sums.window_index) {
            /* Keep window order: earlier queued patches belong before it. */
            gs_status st = run_batch(cls, err);
            if (st != GS_OK)
                return st;
            if (gs_track_sums_enter(&cls->sums, window) != GS_OK)
                return gs_error_set(err, GS_ERR_NOMEM, "out of memory recording window verdicts");
        }
        gs_track_sums_silent(&cls->sums);
        return GS_OK;
    }
    if (gs_patch_batch_add(&cls->batch, &cls->fp, frames, available, window))
        return run_batch(cls, err);
    return GS_OK;
}

/* Appends one pulled frame to the history and cuts a patch when one is due. */
static gs_status take_frame(gs_classifier *cls, const float *frame, float rms, gs_error *err)
{
    gs_frame_history *h = &cls->history;
    const int nm = cls->n_mels, hop = cls->fp.patch_hop_frames;
    if (h->len == h->capacity) {
        /* Drop the oldest hop of frames; patches never need them again. */
        memmove(h->frames, h->frames + (size_t)hop * nm, sizeof(float) * (size_t)(h->len - hop) * nm);
        memmove(h->rms, h->rms + hop, sizeof(float) * (size_t)(h->len - hop));
        h->len -= hop;
        h->start += hop;
    }
    memcpy(h->frames + (size_t)h->len * nm, frame, sizeof(float) * (size_t)nm);
    h->rms[h->len] = rms;
    h->len++;
    h->frames_seen++;
    /* A regular patch of the plan is complete once its last frame is here. */
    if (h->patches_cut < gs_patch_plan_regular(&cls->fp, h->frames_seen))
        return cut_patch(cls, h->frames_seen, err);
    return GS_OK;
}

gs_status gs_classifier_push(gs_classifier *cls, const float *samples, size_t n, gs_error *err)
{
    if (cls->deferred_status != GS_OK) {
        if (err)
            *err = cls->deferred_error;
        return cls->deferred_status;
    }
    if (n > 0 && !samples)
        return gs_error_set(err, GS_ERR_INVALID, "gs_classifier_push: samples is NULL");
    while (n > 0) {
        size_t chunk = n < GS_CLASSIFY_CHUNK ? n : GS_CLASSIFY_CHUNK;
        cls->nonfinite += (long long)gs_audio_sanitize(samples, chunk, cls->scratch);
        gs_status st = gs_mel_push(cls->mel, cls->scratch, chunk, err);
        if (st != GS_OK)
            return st;
        float rms;
        while (gs_mel_pull(cls->mel, cls->frame, &rms)) {
            st = take_frame(cls, cls->frame, rms, &cls->deferred_error);
            if (st != GS_OK) {
                cls->deferred_status = st;
                if (err)
                    *err = cls->deferred_error;
                return st;
            }
        }
        cls->samples_seen += (long long)chunk;
        samples += chunk;
        n -= chunk;
    }
    return GS_OK;
}

gs_status gs_classify_stream_end(gs_classifier *cls, int *padded, gs_error *err)
{
    gs_frame_history *h = &cls->history;
    gs_status st;
    *padded = h->frames_seen < cls->fp.patch_frames;
    if (h->frames_seen == 0) {
        /* Shorter than one FFT frame: the pending samples are still in the
         * front-end's buffer, and zeros complete them to one frame. */
        st = gs_mel_push(cls->mel, cls->pad, (size_t)cls->fp.n_fft, err);
        if (st != GS_OK)
            return st;
        float rms;
        if (gs_mel_pull(cls->mel, cls->frame, &rms)) {
            memcpy(h->frames, cls->frame, sizeof(float) * (size_t)cls->n_mels);
            h->rms[0] = rms;
            h->len = 1;
            h->frames_seen = 1;
        }
    }
    /* The plan's patches after the regular ones: the tail patch, or the
     * repeated patch of a clip shorter than one patch. */
    while (h->patches_cut < gs_patch_plan_count(&cls->fp, h->frames_seen)) {
        st = cut_patch(cls, h->frames_seen, err);
        if (st != GS_OK)
            return st;
    }
    st = run_batch(cls, err);
    if (st != GS_OK)
        return st;
    if (gs_track_sums_close(&cls->sums) != GS_OK)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory recording window verdicts");
    return GS_OK;
}
