/* Patches -> window verdicts -> track verdict. See classify.h for the
 * semantics; the invariants that matter here:
 *  - the streaming path (begin/push/finish) and the whole-window path see
 *    the same frames (gs_mel guarantees it) and both cut the patches of the
 *    patch plan (patch_plan.c), so they agree on the same audio, and with
 *    the trainer;
 *  - every buffer is sized in gs_classifier_new; per-patch work only copies
 *    into preallocated batch slots. Only window boundaries (growing the
 *    window list) and finish allocate. */
#include "genrescope/classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify_internal.h"
#include "genrescope/audio.h"
#include "genrescope/melspec.h"

#define PUSH_CHUNK 4096
#define MAX_BATCH GS_CLASSIFY_MAX_BATCH

typedef struct window_acc {
    int index;         /* window number, -1 before the first patch */
    int num_patches;   /* classified */
    int num_silent;
    double *prob_sum;  /* num_labels */
    double *embed_sum; /* embedding_size */
} window_acc;

struct gs_classifier {
    const gs_model *model;
    const gs_net *net;
    gs_net *owned_net;
    gs_net_ctx *ctx;
    gs_mel *mel;
    gs_frontend_params fp;
    int num_labels, n_mels, embedding_size;
    size_t patch_size;            /* n_mels * patch_frames */
    double window_frames;         /* frames per verdict window (fractional) */

    /* Frame history for the streaming path: time-major frames and RMS. */
    float *history;               /* (patch_frames + patch_hop_frames) * n_mels */
    float *history_rms;
    int history_capacity, history_len;
    long long frames_seen;        /* frames pulled since begin */
    long long history_start;      /* stream frame index of history[0] */
    long long patches_cut;        /* plan patches cut (or counted silent) so far */

    /* Pending batch of patches waiting for one forward pass. */
    float *batch_input;           /* MAX_BATCH * patch_size, network layout */
    int batch_window[MAX_BATCH];
    int batch_len;
    float *batch_probs;           /* MAX_BATCH * num_labels */
    float *batch_embed;           /* MAX_BATCH * embedding_size */

    window_acc current;
    double *track_prob_sum;
    double *track_embed_sum;
    int track_patches, track_silent;

    /* Finished windows of the current track (grown at window boundaries). */
    gs_window_verdict *windows;
    float *window_probs;
    float *window_embeds;         /* embedding_size per window, L2-normalised */
    int num_windows, windows_capacity;

    long long samples_seen;
    long long nonfinite;
    float scratch[PUSH_CHUNK];      /* sanitised copy of pushed samples */
    float read_buffer[PUSH_CHUNK];  /* decoder output in gs_classify_file */
    float frame[512];             /* one pulled frame (n_mels <= 512) */

    /* Whole-window path: samples and frames for one window. */
    float *window_samples;
    size_t window_samples_capacity;
    float *window_frames_buf;
    float *window_rms;
    size_t window_frames_capacity;

    gs_status deferred_status;    /* first forward failure inside push */
    gs_error deferred_error;
};

gs_mel *gs_classify_mel_new(const gs_model *model, gs_error *err)
{
    const gs_frontend_params *fp = gs_model_frontend(model);
    const float *filterbank = NULL;
    const gs_tensor *fb = gs_model_tensor(model, "frontend.mel_filterbank");
    if (fb) {
        /* A filterbank the model carries must be the one used: silently
         * computing another would skew every feature. */
        if (fb->ndim != 2 || fb->shape[0] != fp->n_mels || fb->shape[1] != fp->n_fft / 2 + 1) {
            gs_error_set(err, GS_ERR_MODEL, "tensor frontend.mel_filterbank must be [%d, %d] (n_mels, n_fft/2+1)",
                         fp->n_mels, fp->n_fft / 2 + 1);
            return NULL;
        }
        filterbank = fb->data;
    }
    return gs_mel_new(fp, filterbank, err);
}

gs_status gs_classify_forward(gs_net_ctx *ctx, const float *input, int batch, int num_labels,
                              float *probs, float *embeddings, gs_error *err)
{
    gs_status st = gs_net_forward(ctx, input, batch, probs, embeddings, err);
    if (st != GS_OK)
        return st;
    /* Inputs are sanitised, so a non-finite output is the model's fault
     * (e.g. weights that overflow): refuse it rather than average it in. */
    for (int i = 0; i < batch * num_labels; i++)
        if (!isfinite(probs[i]))
            return gs_error_set(err, GS_ERR_MODEL, "the network produced a non-finite probability: "
                                                   "the model is broken");
    return GS_OK;
}

size_t gs_classify_sanitize(const float *in, size_t n, float *out)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = in[i];
        if (!isfinite(v)) {
            v = 0.0f;
            bad++;
        }
        out[i] = v;
    }
    return bad;
}

long long gs_classify_window_frames(const gs_mel *mel, size_t window_samples)
{
    size_t frames = gs_mel_num_frames(mel, window_samples);
    return frames > 0 ? (long long)frames : 1;
}

int gs_argmax(const float *values, int n)
{
    if (n <= 0)
        return -1;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}

void gs_track_result_free(gs_track_result *result)
{
    if (!result)
        return;
    free(result->probabilities);
    free(result->embedding);
    free(result->windows);
    free(result->window_storage);
    free(result->window_embedding_storage);
    memset(result, 0, sizeof *result);
    result->top_label = -1;
}

void gs_classifier_free(gs_classifier *cls)
{
    if (!cls)
        return;
    gs_net_ctx_free(cls->ctx);
    gs_net_free(cls->owned_net);
    gs_mel_free(cls->mel);
    free(cls->history);
    free(cls->history_rms);
    free(cls->batch_input);
    free(cls->batch_probs);
    free(cls->batch_embed);
    free(cls->current.prob_sum);
    free(cls->track_prob_sum);
    free(cls->track_embed_sum);
    free(cls->windows);
    free(cls->window_probs);
    free(cls->window_embeds);
    free(cls->current.embed_sum);
    free(cls->window_samples);
    free(cls->window_frames_buf);
    free(cls->window_rms);
    free(cls);
}

/* Frees a half-built classifier. out_of_memory names what could not be
 * allocated; NULL means *err was already filled by the failing call. */
static gs_classifier *fail_new(gs_classifier *cls, gs_error *err, const char *out_of_memory)
{
    if (out_of_memory)
        gs_error_set(err, GS_ERR_NOMEM, "out of memory allocating %s", out_of_memory);
    gs_classifier_free(cls);
    return NULL;
}

gs_classifier *gs_classifier_new(const gs_model *model, const gs_net *net, gs_error *err)
{
    if (!model) {
        gs_error_set(err, GS_ERR_INVALID, "gs_classifier_new: model is NULL");
        return NULL;
    }
    gs_classifier *cls = calloc(1, sizeof *cls);
    if (!cls)
        return fail_new(NULL, err, "classifier");
    cls->model = model;
    cls->fp = *gs_model_frontend(model);
    cls->num_labels = gs_model_num_labels(model);
    if (!net) {
        cls->owned_net = gs_net_from_model(model, err);
        if (!cls->owned_net)
            return fail_new(cls, err, NULL);
        net = cls->owned_net;
    }
    cls->net = net;

    int c, h, w;
    gs_net_input_shape(net, &c, &h, &w);
    if (c != 1 || h != cls->fp.n_mels || w != cls->fp.patch_frames) {
        gs_error_set(err, GS_ERR_MODEL,
                     "network input [%d,%d,%d] does not match the front-end's patch [1,%d,%d]", c, h, w,
                     cls->fp.n_mels, cls->fp.patch_frames);
        return fail_new(cls, err, NULL);
    }
    if (gs_net_num_outputs(net) != cls->num_labels) {
        gs_error_set(err, GS_ERR_MODEL, "network has %d outputs but the model has %d labels",
                     gs_net_num_outputs(net), cls->num_labels);
        return fail_new(cls, err, NULL);
    }
    if (cls->fp.n_mels > (int)(sizeof cls->frame / sizeof cls->frame[0])) {
        gs_error_set(err, GS_ERR_MODEL, "n_mels %d exceeds the supported 512", cls->fp.n_mels);
        return fail_new(cls, err, NULL);
    }
    cls->embedding_size = gs_net_embedding_size(net);
    cls->n_mels = cls->fp.n_mels;
    cls->patch_size = (size_t)cls->n_mels * (size_t)cls->fp.patch_frames;
    cls->window_frames = (double)cls->fp.window_seconds * cls->fp.sample_rate / cls->fp.hop_length;

    cls->mel = gs_classify_mel_new(model, err);
    if (!cls->mel)
        return fail_new(cls, err, NULL);
    cls->ctx = gs_net_ctx_new(net, MAX_BATCH, err);
    if (!cls->ctx)
        return fail_new(cls, err, NULL);

    cls->history_capacity = cls->fp.patch_frames + cls->fp.patch_hop_frames;
    cls->history = malloc(sizeof(float) * (size_t)cls->history_capacity * (size_t)cls->n_mels);
    cls->history_rms = malloc(sizeof(float) * (size_t)cls->history_capacity);
    cls->batch_input = malloc(sizeof(float) * MAX_BATCH * cls->patch_size);
    cls->batch_probs = malloc(sizeof(float) * MAX_BATCH * (size_t)cls->num_labels);
    cls->batch_embed = malloc(sizeof(float) * MAX_BATCH * (size_t)(cls->embedding_size > 0 ? cls->embedding_size : 1));
    cls->current.prob_sum = malloc(sizeof(double) * (size_t)cls->num_labels);
    cls->track_prob_sum = malloc(sizeof(double) * (size_t)cls->num_labels);
    cls->track_embed_sum = malloc(sizeof(double) * (size_t)(cls->embedding_size > 0 ? cls->embedding_size : 1));
    cls->current.embed_sum = malloc(sizeof(double) * (size_t)(cls->embedding_size > 0 ? cls->embedding_size : 1));

    cls->window_samples_capacity = (size_t)ceil((double)cls->fp.window_seconds * cls->fp.sample_rate);
    cls->window_frames_capacity = gs_mel_num_frames(cls->mel, cls->window_samples_capacity);
    if (cls->window_frames_capacity < (size_t)cls->fp.patch_frames)
        cls->window_frames_capacity = (size_t)cls->fp.patch_frames;
    /* At least one FFT frame: short input is zero-padded to n_fft in place. */
    size_t samples_alloc = cls->window_samples_capacity > (size_t)cls->fp.n_fft ? cls->window_samples_capacity
                                                                                : (size_t)cls->fp.n_fft;
    cls->window_samples = malloc(sizeof(float) * samples_alloc);
    cls->window_frames_buf = malloc(sizeof(float) * cls->window_frames_capacity * (size_t)cls->n_mels);
    cls->window_rms = malloc(sizeof(float) * cls->window_frames_capacity);
    if (!cls->history || !cls->history_rms || !cls->batch_input || !cls->batch_probs || !cls->batch_embed ||
        !cls->current.prob_sum || !cls->track_prob_sum || !cls->track_embed_sum || !cls->current.embed_sum ||
        !cls->window_samples ||
        !cls->window_frames_buf || !cls->window_rms)
        return fail_new(cls, err, "classifier buffers");
    gs_classifier_begin(cls);
    return cls;
}

const gs_model *gs_classifier_model(const gs_classifier *cls)
{
    return cls->model;
}

static void window_acc_reset(gs_classifier *cls, int index)
{
    cls->current.index = index;
    cls->current.num_patches = 0;
    cls->current.num_silent = 0;
    for (int i = 0; i < cls->num_labels; i++)
        cls->current.prob_sum[i] = 0.0;
    for (int i = 0; i < cls->embedding_size; i++)
        cls->current.embed_sum[i] = 0.0;
}

void gs_classifier_begin(gs_classifier *cls)
{
    gs_mel_reset(cls->mel);
    cls->history_len = 0;
    cls->frames_seen = 0;
    cls->history_start = 0;
    cls->patches_cut = 0;
    cls->batch_len = 0;
    window_acc_reset(cls, -1);
    for (int i = 0; i < cls->num_labels; i++)
        cls->track_prob_sum[i] = 0.0;
    for (int i = 0; i < cls->embedding_size; i++)
        cls->track_embed_sum[i] = 0.0;
    cls->track_patches = 0;
    cls->track_silent = 0;
    cls->num_windows = 0;
    cls->samples_seen = 0;
    cls->nonfinite = 0;
    cls->deferred_status = GS_OK;
    gs_error_clear(&cls->deferred_error);
}

/* Appends the current window to the finished list (streaming path). */
static void l2_normalize(float *v, int n)
{
    double norm = 0.0;
    for (int i = 0; i < n; i++)
        norm += (double)v[i] * v[i];
    if (norm <= 0.0)
        return;
    float scale = (float)(1.0 / sqrt(norm));
    for (int i = 0; i < n; i++)
        v[i] *= scale;
}

/* Records the current window's verdict and embedding. */
static gs_status close_window(gs_classifier *cls)
{
    window_acc *acc = &cls->current;
    if (acc->index < 0)
        return GS_OK;
    if (cls->num_windows == cls->windows_capacity) {
        int capacity = cls->windows_capacity ? cls->windows_capacity * 2 : 16;
        gs_window_verdict *windows = realloc(cls->windows, sizeof *windows * (size_t)capacity);
        if (!windows)
            return GS_ERR_NOMEM;
        cls->windows = windows;
        float *probs = realloc(cls->window_probs, sizeof(float) * (size_t)capacity * (size_t)cls->num_labels);
        if (!probs)
            return GS_ERR_NOMEM;
        cls->window_probs = probs;
        float *embeds = realloc(cls->window_embeds,
                                sizeof(float) * (size_t)capacity * (size_t)(cls->embedding_size > 0 ? cls->embedding_size : 1));
        if (!embeds)
            return GS_ERR_NOMEM;
        cls->window_embeds = embeds;
        cls->windows_capacity = capacity;
    }
    gs_window_verdict *w = &cls->windows[cls->num_windows];
    float *probs = cls->window_probs + (size_t)cls->num_windows * (size_t)cls->num_labels;
    for (int i = 0; i < cls->num_labels; i++)
        probs[i] = acc->num_patches ? (float)(acc->prob_sum[i] / acc->num_patches) : 0.0f;
    float *embed = cls->window_embeds + (size_t)cls->num_windows * (size_t)cls->embedding_size;
    for (int i = 0; i < cls->embedding_size; i++)
        embed[i] = acc->num_patches ? (float)(acc->embed_sum[i] / acc->num_patches) : 0.0f;
    l2_normalize(embed, cls->embedding_size);
    w->start_seconds = acc->index * (double)cls->fp.window_seconds;
    w->end_seconds = w->start_seconds + cls->fp.window_seconds;
    w->num_patches = acc->num_patches;
    gs_calibrate_probabilities(probs, cls->num_labels, gs_model_calibration_temperature(cls->model));
    gs_verdict v = gs_verdict_decide(cls->model, probs, acc->num_patches);
    w->verdict = v.kind;
    w->top_label = v.label;
    w->confidence = v.confidence;
    w->not_music = v.not_music;
    w->probabilities = NULL; /* pointed into the result's storage at finish */
    w->embedding = NULL;
    cls->num_windows++;
    return GS_OK;
}

/* Runs the pending batch and folds its outputs into the accumulators. */
static gs_status flush_batch(gs_classifier *cls, int streaming, gs_error *err)
{
    if (cls->batch_len == 0)
        return GS_OK;
    gs_status st = gs_classify_forward(cls->ctx, cls->batch_input, cls->batch_len, cls->num_labels,
                                       cls->batch_probs, cls->embedding_size > 0 ? cls->batch_embed : NULL,
                                       err);
    if (st != GS_OK)
        return st;
    for (int b = 0; b < cls->batch_len; b++) {
        if (streaming && cls->batch_window[b] != cls->current.index) {
            st = close_window(cls);
            if (st != GS_OK)
                return gs_error_set(err, st, "out of memory recording window verdicts");
            window_acc_reset(cls, cls->batch_window[b]);
        }
        const float *p = cls->batch_probs + (size_t)b * (size_t)cls->num_labels;
        for (int i = 0; i < cls->num_labels; i++) {
            cls->current.prob_sum[i] += p[i];
            cls->track_prob_sum[i] += p[i];
        }
        const float *e = cls->batch_embed + (size_t)b * (size_t)cls->embedding_size;
        for (int i = 0; i < cls->embedding_size; i++) {
            cls->current.embed_sum[i] += e[i];
            cls->track_embed_sum[i] += e[i];
        }
        cls->current.num_patches++;
        cls->track_patches++;
    }
    cls->batch_len = 0;
    return GS_OK;
}

/* Takes the plan patch whose frames start at frames (with their RMS), of
 * which `available` exist, and queues it as one network input (or counts a
 * silent patch). */
static gs_status add_patch(gs_classifier *cls, const float *frames, const float *rms, long long available,
                           int window_index, int streaming, gs_error *err)
{
    const int nf = cls->fp.patch_frames, nm = cls->n_mels;
    if (gs_patch_is_silent(rms, available, nf)) {
        if (streaming && window_index != cls->current.index) {
            /* Keep window order: earlier queued patches belong before it. */
            gs_status st = flush_batch(cls, streaming, err);
            if (st != GS_OK)
                return st;
            if (window_index != cls->current.index) {
                if (close_window(cls) != GS_OK)
                    return gs_error_set(err, GS_ERR_NOMEM, "out of memory recording window verdicts");
                window_acc_reset(cls, window_index);
            }
        }
        cls->current.num_silent++;
        cls->track_silent++;
        return GS_OK;
    }
    gs_patch_from_frames(frames, available, nm, nf, cls->fp.patch_normalize,
                         cls->batch_input + (size_t)cls->batch_len * cls->patch_size);
    cls->batch_window[cls->batch_len++] = window_index;
    if (cls->batch_len == MAX_BATCH)
        return flush_batch(cls, streaming, err);
    return GS_OK;
}

static int window_of_frame(const gs_classifier *cls, long long frame)
{
    return (int)floor((double)frame / cls->window_frames);
}

/* Cuts plan patch number patches_cut of a clip of n_frames frames from the
 * history (streaming path). The history always holds the frames it needs:
 * at least the last patch_frames frames, and every frame while fewer than
 * patch_frames + patch_hop_frames have arrived. */
static gs_status cut_patch(gs_classifier *cls, long long n_frames, gs_error *err)
{
    long long start = gs_patch_plan_start(&cls->fp, n_frames, cls->patches_cut++);
    int offset = (int)(start - cls->history_start);
    return add_patch(cls, cls->history + (size_t)offset * (size_t)cls->n_mels, cls->history_rms + offset,
                     n_frames - start, window_of_frame(cls, start), 1, err);
}

/* Appends one pulled frame to the history and cuts a patch when one is due. */
static gs_status take_frame(gs_classifier *cls, const float *frame, float rms, gs_error *err)
{
    const int nm = cls->n_mels, hop = cls->fp.patch_hop_frames;
    if (cls->history_len == cls->history_capacity) {
        /* Drop the oldest hop of frames; patches never need them again. */
        memmove(cls->history, cls->history + (size_t)hop * nm, sizeof(float) * (size_t)(cls->history_len - hop) * nm);
        memmove(cls->history_rms, cls->history_rms + hop, sizeof(float) * (size_t)(cls->history_len - hop));
        cls->history_len -= hop;
        cls->history_start += hop;
    }
    memcpy(cls->history + (size_t)cls->history_len * nm, frame, sizeof(float) * (size_t)nm);
    cls->history_rms[cls->history_len] = rms;
    cls->history_len++;
    cls->frames_seen++;
    /* A regular patch of the plan is complete once its last frame is here. */
    if (cls->patches_cut < gs_patch_plan_regular(&cls->fp, cls->frames_seen))
        return cut_patch(cls, cls->frames_seen, err);
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
        size_t chunk = n < PUSH_CHUNK ? n : PUSH_CHUNK;
        cls->nonfinite += (long long)gs_classify_sanitize(samples, chunk, cls->scratch);
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

static gs_status copy_out(const double *sum, int n, double count, float **out)
{
    *out = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!*out)
        return GS_ERR_NOMEM;
    if (count > 0)
        for (int i = 0; i < n; i++)
            (*out)[i] = (float)(sum[i] / count);
    return GS_OK;
}

gs_status gs_classifier_finish(gs_classifier *cls, gs_track_result *result, gs_error *err)
{
    memset(result, 0, sizeof *result);
    result->top_label = -1;
    if (cls->deferred_status != GS_OK) {
        if (err)
            *err = cls->deferred_error;
        return cls->deferred_status;
    }
    gs_status st;
    int padded = cls->frames_seen < cls->fp.patch_frames;
    if (padded) {
        if (cls->frames_seen == 0) {
            /* Shorter than one FFT frame: the pending samples are still in
             * the front-end's buffer, and zeros complete them to one frame. */
            float *zeros = cls->window_samples;
            memset(zeros, 0, sizeof(float) * (size_t)cls->fp.n_fft);
            st = gs_mel_push(cls->mel, zeros, (size_t)cls->fp.n_fft, err);
            if (st != GS_OK)
                return st;
            float rms;
            if (gs_mel_pull(cls->mel, cls->frame, &rms)) {
                memcpy(cls->history, cls->frame, sizeof(float) * (size_t)cls->n_mels);
                cls->history_rms[0] = rms;
                cls->history_len = 1;
                cls->frames_seen = 1;
            }
        }
    }
    /* The plan's patches after the regular ones: the tail patch, or the
     * repeated patch of a clip shorter than one patch. */
    while (cls->patches_cut < gs_patch_plan_count(&cls->fp, cls->frames_seen)) {
        st = cut_patch(cls, cls->frames_seen, err);
        if (st != GS_OK)
            return st;
    }
    st = flush_batch(cls, 1, err);
    if (st != GS_OK)
        return st;
    if (close_window(cls) != GS_OK)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory recording window verdicts");
    window_acc_reset(cls, -1);

    const int nl = cls->num_labels;
    result->num_labels = nl;
    result->embedding_size = cls->embedding_size;
    if (copy_out(cls->track_prob_sum, nl, cls->track_patches, &result->probabilities) != GS_OK ||
        copy_out(cls->track_embed_sum, cls->embedding_size, cls->track_patches, &result->embedding) != GS_OK)
        goto nomem;
    l2_normalize(result->embedding, cls->embedding_size);
    gs_calibrate_probabilities(result->probabilities, nl, gs_model_calibration_temperature(cls->model));
    gs_verdict v = gs_verdict_decide(cls->model, result->probabilities, cls->track_patches);
    result->verdict = v.kind;
    result->top_label = v.label;
    result->confidence = v.confidence;
    result->not_music = v.not_music;
    result->num_windows = cls->num_windows;
    if (cls->num_windows > 0) {
        result->windows = malloc(sizeof *result->windows * (size_t)cls->num_windows);
        result->window_storage = malloc(sizeof(float) * (size_t)cls->num_windows * (size_t)nl);
        if (!result->windows || !result->window_storage)
            goto nomem;
        memcpy(result->window_storage, cls->window_probs, sizeof(float) * (size_t)cls->num_windows * (size_t)nl);
        if (cls->embedding_size > 0) {
            size_t bytes = sizeof(float) * (size_t)cls->num_windows * (size_t)cls->embedding_size;
            if (!(result->window_embedding_storage = malloc(bytes)))
                goto nomem;
            memcpy(result->window_embedding_storage, cls->window_embeds, bytes);
        }
    }
    result->duration_seconds = (double)cls->samples_seen / cls->fp.sample_rate;
    for (int i = 0; i < cls->num_windows; i++) {
        result->windows[i] = cls->windows[i];
        result->windows[i].probabilities = result->window_storage + (size_t)i * (size_t)nl;
        result->windows[i].embedding = result->window_embedding_storage
                                           ? result->window_embedding_storage + (size_t)i * (size_t)cls->embedding_size
                                           : NULL;
        /* The last window ends with the audio, not at a full window length. */
        if (result->windows[i].end_seconds > result->duration_seconds)
            result->windows[i].end_seconds = result->duration_seconds;
    }
    result->num_patches = cls->track_patches;
    result->num_silent_patches = cls->track_silent;
    result->padded = padded;
    result->nonfinite_samples = cls->nonfinite;
    gs_classifier_begin(cls);
    return GS_OK;
nomem:
    gs_track_result_free(result);
    return gs_error_set(err, GS_ERR_NOMEM, "out of memory building the result");
}

/* FNV-1a over the samples' 32-bit patterns, then a final avalanche (the
 * word-wise FNV mixes upwards only): an identity for the tagger to find moved
 * files by, not a defence against crafted collisions. */
static uint64_t audio_digest_update(uint64_t h, const float *samples, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &samples[i], sizeof bits);
        h = (h ^ bits) * 0x100000001b3ULL;
    }
    return h;
}

static uint64_t audio_digest_finish(uint64_t h, unsigned long long count)
{
    h ^= count;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1; /* 0 means "no digest" */
}

gs_status gs_classify_file(gs_classifier *cls, const char *path, gs_track_result *result, gs_error *err)
{
    gs_error local;
    memset(result, 0, sizeof *result);
    result->top_label = -1;
    gs_audio *audio = gs_audio_open(path, cls->fp.sample_rate, &local);
    if (!audio) {
        if (err)
            *err = local;
        return local.code;
    }
    gs_classifier_begin(cls);
    gs_status st = GS_OK;
    int decoder_failed = 0;
    uint64_t digest = 0xcbf29ce484222325ULL;
    unsigned long long decoded = 0;
    for (;;) {
        long got = gs_audio_read(audio, cls->read_buffer, PUSH_CHUNK, &local);
        if (got < 0) {
            st = (gs_status)got;
            decoder_failed = 1;
            break;
        }
        if (got == 0)
            break;
        digest = audio_digest_update(digest, cls->read_buffer, (size_t)got);
        decoded += (unsigned long long)got;
        st = gs_classifier_push(cls, cls->read_buffer, (size_t)got, &local);
        if (st != GS_OK)
            break;
    }
    long long decoder_nonfinite = gs_audio_get_info(audio)->nonfinite_samples;
    gs_audio_close(audio);
    if (st == GS_OK)
        st = gs_classifier_finish(cls, result, &local);
    if (st != GS_OK) {
        if (!decoder_failed)
            gs_error_prefix(&local, path); /* the decoder's messages already name it */
        if (err)
            *err = local;
        gs_classifier_begin(cls);
        return st;
    }
    result->nonfinite_samples += decoder_nonfinite;
    result->audio_digest = audio_digest_finish(digest, decoded);
    return GS_OK;
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
    if (num_patches)
        *num_patches = 0;
    gs_classifier_begin(cls);
    if (window_samples > cls->window_samples_capacity)
        return gs_error_set(err, GS_ERR_INVALID, "window of %zu samples exceeds the model's %zu", window_samples,
                            cls->window_samples_capacity);
    if (n_stream > 0 && !stream)
        return gs_error_set(err, GS_ERR_INVALID, "gs_classifier_classify_window: samples is NULL");
    const size_t n_fft = (size_t)cls->fp.n_fft, hop = (size_t)cls->fp.hop_length;
    long long n_frames = (long long)gs_mel_num_frames(cls->mel, n_stream);
    long long first = 0;
    size_t n;
    if (n_frames == 0) {
        /* Less than one FFT frame: analyse the zero-padded frame. */
        gs_classify_sanitize(stream, n_stream, cls->window_samples);
        memset(cls->window_samples + n_stream, 0, sizeof(float) * (n_fft - n_stream));
        n = n_fft;
        n_frames = 1;
    } else {
        /* Only the window's frames: from its first frame to the end of the
         * newest whole frame (at most window_samples samples). */
        first = gs_window_plan_first(n_frames, gs_classify_window_frames(cls->mel, window_samples));
        n = (size_t)(n_frames - first - 1) * hop + n_fft;
        gs_classify_sanitize(stream + (size_t)first * hop, n, cls->window_samples);
    }
    const long long window_frames = n_frames - first;
    gs_status st = gs_mel_compute_with_rms(cls->mel, cls->window_samples, n, cls->window_frames_buf,
                                           cls->window_rms, err);
    if (st != GS_OK)
        return st;
    cls->batch_len = 0;
    window_acc_reset(cls, 0);
    const long long count = gs_window_plan_count(&cls->fp, n_frames, window_frames);
    for (long long k = 0; k < count && st == GS_OK; k++) {
        long long start = gs_window_plan_start(&cls->fp, n_frames, window_frames, k);
        long long local = start - first;
        st = add_patch(cls, cls->window_frames_buf + (size_t)local * (size_t)cls->n_mels, cls->window_rms + local,
                       n_frames - start, 0, 0, err);
    }
    if (st == GS_OK)
        st = flush_batch(cls, 0, err);
    if (st != GS_OK)
        return st;
    for (int i = 0; i < cls->num_labels; i++)
        probabilities[i] = cls->current.num_patches ? (float)(cls->current.prob_sum[i] / cls->current.num_patches) : 0.0f;
    gs_calibrate_probabilities(probabilities, cls->num_labels, gs_model_calibration_temperature(cls->model));
    if (num_patches)
        *num_patches = cls->current.num_patches;
    /* The whole-window path used the streaming accumulators: start clean. */
    gs_classifier_begin(cls);
    return GS_OK;
}
