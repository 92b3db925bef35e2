/* The classifier object's life: gs_classifier_new sizes every buffer the
 * two paths need (so per-patch work allocates nothing), free, begin; and
 * the helpers the sliding window shares (the model's front-end, window
 * frame counts), and gs_argmax for the callers. The data flow itself is in
 * classify_stream.c, classify_whole.c, classify_batch.c,
 * classify_window.c and classify_track.c (see classifier.h). */
#include "genrescope/classify.h"

#include <stdlib.h>

#include "classifier.h"
#include "genrescope/melspec.h"

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

void gs_classifier_free(gs_classifier *cls)
{
    if (!cls)
        return;
    gs_net_ctx_free(cls->ctx);
    gs_net_free(cls->owned_net);
    gs_mel_free(cls->mel);
    gs_patch_batch_free(&cls->batch);
    gs_frame_history_free(&cls->history);
    gs_track_sums_free(&cls->sums);
    free(cls->pad);
    gs_whole_window_free(&cls->whole);
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
        gs_error_set(err, GS_ERR_MODEL, "network input [%d,%d,%d] does not match the front-end's patch [1,%d,%d]", c, h,
                     w, cls->fp.n_mels, cls->fp.patch_frames);
        return fail_new(cls, err, NULL);
    }
    if (gs_net_num_outputs(net) != cls->num_labels) {
        gs_error_set(err, GS_ERR_MODEL, "network has %d outputs but the model has %d labels", gs_net_num_outputs(net),
                     cls->num_labels);
        return fail_new(cls, err, NULL);
    }
    if (cls->fp.n_mels > GS_CLASSIFY_MAX_MELS) {
        gs_error_set(err, GS_ERR_MODEL, "n_mels %d exceeds the supported %d", cls->fp.n_mels, GS_CLASSIFY_MAX_MELS);
        return fail_new(cls, err, NULL);
    }
    cls->embedding_size = gs_net_embedding_size(net);
    cls->n_mels = cls->fp.n_mels;
    cls->window_frames = (double)cls->fp.window_seconds * cls->fp.sample_rate / cls->fp.hop_length;

    cls->mel = gs_classify_mel_new(model, err);
    if (!cls->mel)
        return fail_new(cls, err, NULL);
    cls->ctx = gs_net_ctx_new(net, GS_CLASSIFY_MAX_BATCH, err);
    if (!cls->ctx)
        return fail_new(cls, err, NULL);

    /* Every part's buffers are attempted before the check, so a failure
     * frees what exists (each part's free accepts a failed init). */
    size_t patch_size = (size_t)cls->n_mels * (size_t)cls->fp.patch_frames;
    gs_status st = gs_patch_batch_init(&cls->batch, cls->num_labels, cls->embedding_size, patch_size);
    if (gs_frame_history_init(&cls->history, &cls->fp) != GS_OK)
        st = GS_ERR_NOMEM;
    if (gs_track_sums_init(&cls->sums, model, cls->embedding_size) != GS_OK)
        st = GS_ERR_NOMEM;
    if (gs_whole_window_init(&cls->whole, cls) != GS_OK)
        st = GS_ERR_NOMEM;
    cls->pad = calloc((size_t)cls->fp.n_fft, sizeof(float));
    if (st != GS_OK || !cls->pad)
        return fail_new(cls, err, "classifier buffers");
    gs_classifier_begin(cls);
    return cls;
}

const gs_model *gs_classifier_model(const gs_classifier *cls)
{
    return cls->model;
}

void gs_classifier_begin(gs_classifier *cls)
{
    gs_mel_reset(cls->mel);
    gs_frame_history_reset(&cls->history);
    cls->batch.len = 0;
    gs_track_sums_reset(&cls->sums);
    cls->samples_seen = 0;
    cls->nonfinite = 0;
    cls->deferred_status = GS_OK;
    gs_error_clear(&cls->deferred_error);
}
