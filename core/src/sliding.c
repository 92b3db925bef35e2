/* Incremental sliding-window verdicts (sliding.h). The frames of the
 * largest window and the probabilities of the regular patches inside it
 * live in rings indexed by stream position (frame t at t % frame_cap,
 * regular patch i at i % patch_cap), so a frame or a patch is computed once
 * and found again by any later window that holds it. The patch plan is the
 * one gs_classifier_classify_stream_window walks (gs_window_plan_*), and the
 * probabilities are summed in the same order with the same arithmetic. */
#include "genrescope/sliding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify_internal.h"
#include "genrescope/audio.h"
#include "genrescope/classify.h"
#include "genrescope/melspec.h"
#include "genrescope/verdict.h"

#define PUSH_CHUNK 4096
#define MAX_BATCH  GS_CLASSIFY_MAX_BATCH

struct gs_sliding {
    const gs_model *model;
    gs_net *owned_net;
    gs_net_ctx *ctx;
    gs_mel *mel;
    gs_frontend_params fp;
    int num_labels, n_mels;
    size_t patch_size; /* n_mels * patch_frames */
    size_t max_window_samples;

    float *frames; /* frame_cap frames of n_mels, time-major */
    float *rms;    /* frame_cap */
    long long frame_cap;
    long long frames_seen; /* since reset */

    float *patch_probs;          /* patch_cap * num_labels */
    unsigned char *patch_silent; /* patch_cap */
    long long patch_cap;
    long long patches_cut; /* regular patches cut since reset */

    float *batch_input;               /* MAX_BATCH * patch_size */
    float *batch_probs;               /* MAX_BATCH * num_labels */
    long long batch_index[MAX_BATCH]; /* stream index of each queued patch */
    int batch_len;

    float *patch_frames; /* patch_frames frames gathered from the ring */
    float *patch_rms;
    float *head; /* n_fft: the stream's first samples */
    double *sum; /* num_labels */
    unsigned long long samples_seen;
    unsigned long long forwarded;
    gs_status deferred_status; /* first failure inside push */
    gs_error deferred_error;
    float scratch[PUSH_CHUNK];
    float frame[512];
};

void gs_sliding_free(gs_sliding *sl)
{
    if (!sl)
        return;
    gs_net_ctx_free(sl->ctx);
    gs_net_free(sl->owned_net);
    gs_mel_free(sl->mel);
    free(sl->frames);
    free(sl->rms);
    free(sl->patch_probs);
    free(sl->patch_silent);
    free(sl->batch_input);
    free(sl->batch_probs);
    free(sl->patch_frames);
    free(sl->patch_rms);
    free(sl->head);
    free(sl->sum);
    free(sl);
}

static gs_sliding *fail_new(gs_sliding *sl, gs_error *err, const char *out_of_memory)
{
    if (out_of_memory)
        gs_error_set(err, GS_ERR_NOMEM, "out of memory allocating %s", out_of_memory);
    gs_sliding_free(sl);
    return NULL;
}

gs_sliding *gs_sliding_new(const gs_model *model, const gs_net *net, size_t max_window_samples, gs_error *err)
{
    if (!model) {
        gs_error_set(err, GS_ERR_INVALID, "gs_sliding_new: model is NULL");
        return NULL;
    }
    const gs_frontend_params *fp = gs_model_frontend(model);
    size_t model_window = (size_t)ceil((double)fp->window_seconds * fp->sample_rate);
    if (max_window_samples < 1 || max_window_samples > model_window) {
        gs_error_set(err, GS_ERR_INVALID, "sliding window of %zu samples outside 1..%zu (the model's window)",
                     max_window_samples, model_window);
        return NULL;
    }
    gs_sliding *sl = calloc(1, sizeof *sl);
    if (!sl)
        return fail_new(NULL, err, "the sliding window");
    sl->model = model;
    sl->fp = *fp;
    sl->num_labels = gs_model_num_labels(model);
    sl->n_mels = fp->n_mels;
    sl->max_window_samples = max_window_samples;
    if (!net) {
        sl->owned_net = gs_net_from_model(model, err);
        if (!sl->owned_net)
            return fail_new(sl, err, NULL);
        net = sl->owned_net;
    }
    int c, h, w;
    gs_net_input_shape(net, &c, &h, &w);
    if (c != 1 || h != fp->n_mels || w != fp->patch_frames || gs_net_num_outputs(net) != sl->num_labels) {
        gs_error_set(err, GS_ERR_MODEL,
                     "network [%d,%d,%d] -> %d does not match the front-end's patch "
                     "[1,%d,%d] and %d labels",
                     c, h, w, gs_net_num_outputs(net), fp->n_mels, fp->patch_frames, sl->num_labels);
        return fail_new(sl, err, NULL);
    }
    if (fp->n_mels > (int)(sizeof sl->frame / sizeof sl->frame[0])) {
        gs_error_set(err, GS_ERR_MODEL, "n_mels %d exceeds the supported 512", fp->n_mels);
        return fail_new(sl, err, NULL);
    }
    sl->mel = gs_classify_mel_new(model, err);
    if (!sl->mel)
        return fail_new(sl, err, NULL);
    sl->ctx = gs_net_ctx_new(net, MAX_BATCH, err);
    if (!sl->ctx)
        return fail_new(sl, err, NULL);

    const long long nf = fp->patch_frames;
    long long max_frames = gs_classify_window_frames(sl->mel, max_window_samples);
    /* The largest window, and the newest patch being cut. */
    sl->frame_cap = max_frames > nf ? max_frames : nf;
    /* Regular patches inside the largest window: at most
     * (max_frames - nf) / hop + 1; one more for the rounding of its start. */
    sl->patch_cap = max_frames / fp->patch_hop_frames + 2;
    sl->patch_size = (size_t)fp->n_mels * (size_t)nf;
    const size_t nm = (size_t)fp->n_mels, nl = (size_t)sl->num_labels;
    sl->frames = malloc(sizeof(float) * (size_t)sl->frame_cap * nm);
    sl->rms = malloc(sizeof(float) * (size_t)sl->frame_cap);
    sl->patch_probs = malloc(sizeof(float) * (size_t)sl->patch_cap * nl);
    sl->patch_silent = malloc((size_t)sl->patch_cap);
    sl->batch_input = malloc(sizeof(float) * MAX_BATCH * sl->patch_size);
    sl->batch_probs = malloc(sizeof(float) * MAX_BATCH * nl);
    sl->patch_frames = malloc(sizeof(float) * (size_t)nf * nm);
    sl->patch_rms = malloc(sizeof(float) * (size_t)nf);
    sl->head = malloc(sizeof(float) * (size_t)fp->n_fft);
    sl->sum = malloc(sizeof(double) * nl);
    if (!sl->frames || !sl->rms || !sl->patch_probs || !sl->patch_silent || !sl->batch_input || !sl->batch_probs ||
        !sl->patch_frames || !sl->patch_rms || !sl->head || !sl->sum)
        return fail_new(sl, err, "the sliding window's buffers");
    gs_sliding_reset(sl);
    return sl;
}

void gs_sliding_reset(gs_sliding *sl)
{
    gs_mel_reset(sl->mel);
    sl->frames_seen = 0;
    sl->patches_cut = 0;
    sl->batch_len = 0;
    sl->samples_seen = 0;
    sl->deferred_status = GS_OK;
    gs_error_clear(&sl->deferred_error);
}

unsigned long long gs_sliding_samples(const gs_sliding *sl)
{
    return sl->samples_seen;
}

unsigned long long gs_sliding_patches_forwarded(const gs_sliding *sl)
{
    return sl->forwarded;
}

/* Copies count frames from stream frame `start` (all still in the ring)
 * into the contiguous patch buffers. */
static void gather(gs_sliding *sl, long long start, long long count)
{
    const size_t nm = (size_t)sl->n_mels;
    for (long long t = 0; t < count; t++) {
        long long slot = (start + t) % sl->frame_cap;
        memcpy(sl->patch_frames + (size_t)t * nm, sl->frames + (size_t)slot * nm, sizeof(float) * nm);
        sl->patch_rms[t] = sl->rms[slot];
    }
}

static gs_status flush(gs_sliding *sl, gs_error *err)
{
    if (sl->batch_len == 0)
        return GS_OK;
    gs_status st =
        gs_classify_forward(sl->ctx, sl->batch_input, sl->batch_len, sl->num_labels, sl->batch_probs, NULL, err);
    if (st != GS_OK)
        return st;
    sl->forwarded += (unsigned long long)sl->batch_len;
    const size_t nl = (size_t)sl->num_labels;
    for (int b = 0; b < sl->batch_len; b++) {
        long long slot = sl->batch_index[b] % sl->patch_cap;
        memcpy(sl->patch_probs + (size_t)slot * nl, sl->batch_probs + (size_t)b * nl, sizeof(float) * nl);
    }
    sl->batch_len = 0;
    return GS_OK;
}

/* Regular patch `index` has just received its last frame. */
static gs_status cut_regular(gs_sliding *sl, long long index, gs_error *err)
{
    const int nf = sl->fp.patch_frames;
    gather(sl, index * sl->fp.patch_hop_frames, nf);
    long long slot = index % sl->patch_cap;
    sl->patch_silent[slot] = (unsigned char)gs_patch_is_silent(sl->patch_rms, nf, nf);
    if (sl->patch_silent[slot])
        return GS_OK;
    sl->batch_index[sl->batch_len] = index;
    gs_patch_from_frames(sl->patch_frames, nf, sl->n_mels, nf, sl->fp.patch_normalize,
                         sl->batch_input + (size_t)sl->batch_len * sl->patch_size);
    sl->batch_len++;
    return sl->batch_len == MAX_BATCH ? flush(sl, err) : GS_OK;
}

static gs_status take_frame(gs_sliding *sl, float rms, gs_error *err)
{
    long long slot = sl->frames_seen % sl->frame_cap;
    memcpy(sl->frames + (size_t)slot * (size_t)sl->n_mels, sl->frame, sizeof(float) * (size_t)sl->n_mels);
    sl->rms[slot] = rms;
    sl->frames_seen++;
    if (sl->patches_cut < gs_patch_plan_regular(&sl->fp, sl->frames_seen))
        return cut_regular(sl, sl->patches_cut++, err);
    return GS_OK;
}

static gs_status push_chunk(gs_sliding *sl, size_t chunk, gs_error *err)
{
    const size_t n_fft = (size_t)sl->fp.n_fft;
    if (sl->samples_seen < n_fft) {
        /* Kept for a verdict before the first whole frame (zero-padded). */
        size_t keep = n_fft - (size_t)sl->samples_seen;
        if (keep > chunk)
            keep = chunk;
        memcpy(sl->head + sl->samples_seen, sl->scratch, sizeof(float) * keep);
    }
    gs_status st = gs_mel_push(sl->mel, sl->scratch, chunk, err);
    if (st != GS_OK)
        return st;
    float rms;
    while (gs_mel_pull(sl->mel, sl->frame, &rms)) {
        st = take_frame(sl, rms, err);
        if (st != GS_OK)
            return st;
    }
    sl->samples_seen += chunk;
    return GS_OK;
}

gs_status gs_sliding_push(gs_sliding *sl, const float *samples, size_t n, gs_error *err)
{
    if (sl->deferred_status != GS_OK) {
        if (err)
            *err = sl->deferred_error;
        return sl->deferred_status;
    }
    if (n > 0 && !samples)
        return gs_error_set(err, GS_ERR_INVALID, "gs_sliding_push: samples is NULL");
    gs_status st = GS_OK;
    while (n > 0 && st == GS_OK) {
        size_t chunk = n < PUSH_CHUNK ? n : PUSH_CHUNK;
        gs_audio_sanitize(samples, chunk, sl->scratch);
        st = push_chunk(sl, chunk, &sl->deferred_error);
        samples += chunk;
        n -= chunk;
    }
    /* A verdict may come next: every cut patch has its probabilities. */
    if (st == GS_OK)
        st = flush(sl, &sl->deferred_error);
    if (st != GS_OK) {
        sl->deferred_status = st;
        if (err)
            *err = sl->deferred_error;
    }
    return st;
}

/* The window's one patch that is not a regular one (end or repeated
 * patch), from the gathered frames of which `available` exist. */
static gs_status add_extra_patch(gs_sliding *sl, long long available, int *count, gs_error *err)
{
    const int nf = sl->fp.patch_frames;
    if (gs_patch_is_silent(sl->patch_rms, available, nf))
        return GS_OK;
    gs_patch_from_frames(sl->patch_frames, available, sl->n_mels, nf, sl->fp.patch_normalize, sl->batch_input);
    gs_status st = gs_classify_forward(sl->ctx, sl->batch_input, 1, sl->num_labels, sl->batch_probs, NULL, err);
    if (st != GS_OK)
        return st;
    sl->forwarded++;
    for (int i = 0; i < sl->num_labels; i++)
        sl->sum[i] += sl->batch_probs[i];
    (*count)++;
    return GS_OK;
}

gs_status gs_sliding_verdict(gs_sliding *sl, size_t window_samples, float *probabilities, int *num_patches,
                             gs_error *err)
{
    if (num_patches)
        *num_patches = 0;
    if (sl->deferred_status != GS_OK) {
        if (err)
            *err = sl->deferred_error;
        return sl->deferred_status;
    }
    if (window_samples < 1 || window_samples > sl->max_window_samples)
        return gs_error_set(err, GS_ERR_INVALID, "window of %zu samples outside 1..%zu", window_samples,
                            sl->max_window_samples);
    const int nl = sl->num_labels;
    for (int i = 0; i < nl; i++)
        sl->sum[i] = 0.0;
    int count = 0;
    gs_status st = GS_OK;
    const long long n_frames = sl->frames_seen;
    if (n_frames == 0) {
        /* Less than one FFT frame so far: the zero-padded frame. */
        const size_t n_fft = (size_t)sl->fp.n_fft, have = (size_t)sl->samples_seen;
        memset(sl->head + have, 0, sizeof(float) * (n_fft - have));
        st = gs_mel_compute_with_rms(sl->mel, sl->head, n_fft, sl->patch_frames, sl->patch_rms, err);
        if (st == GS_OK)
            st = add_extra_patch(sl, 1, &count, err);
    } else {
        const long long window_frames = gs_classify_window_frames(sl->mel, window_samples);
        long long lo;
        const long long regular = gs_window_plan_regular(&sl->fp, n_frames, window_frames, &lo);
        for (long long k = lo; k < lo + regular; k++) {
            long long slot = k % sl->patch_cap;
            if (sl->patch_silent[slot])
                continue;
            const float *p = sl->patch_probs + (size_t)slot * (size_t)nl;
            for (int i = 0; i < nl; i++)
                sl->sum[i] += p[i];
            count++;
        }
        if (gs_window_plan_count(&sl->fp, n_frames, window_frames) > regular) {
            long long start = gs_window_plan_start(&sl->fp, n_frames, window_frames, regular);
            long long available = n_frames - start;
            gather(sl, start, available < sl->fp.patch_frames ? available : sl->fp.patch_frames);
            st = add_extra_patch(sl, available, &count, err);
        }
    }
    if (st != GS_OK)
        return st;
    for (int i = 0; i < nl; i++)
        probabilities[i] = count ? (float)(sl->sum[i] / count) : 0.0f;
    gs_calibrate_probabilities(probabilities, nl, gs_model_calibration_temperature(sl->model));
    if (num_patches)
        *num_patches = count;
    return GS_OK;
}
