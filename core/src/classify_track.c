/* The track result: the streaming path's sums turned into what
 * gs_classifier_finish returns (track probabilities and embedding, the
 * closed windows, calibrated, with their verdicts), and gs_classify_file,
 * which streams a decoded file through the classifier and digests its
 * audio. */
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "genrescope/audio.h"
#include "genrescope/embedding.h"

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

/* A malloc'd mean of n sums over count patches (one float when n is 0, so
 * the result never holds NULL for an empty vector). */
static gs_status mean_out(const double *sum, int n, int count, float **out)
{
    *out = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!*out)
        return GS_ERR_NOMEM;
    gs_patch_sums_mean(sum, n, count, *out);
    return GS_OK;
}

/* Copies the closed windows into the result, their probabilities and
 * embeddings pointing into the result's own storage. */
static gs_status copy_windows(const gs_track_sums *t, gs_track_result *result)
{
    const int nw = t->num_windows, nl = result->num_labels, ne = result->embedding_size;
    result->num_windows = nw;
    if (nw == 0)
        return GS_OK;
    result->windows = malloc(sizeof *result->windows * (size_t)nw);
    result->window_storage = malloc(sizeof(float) * (size_t)nw * (size_t)nl);
    if (!result->windows || !result->window_storage)
        return GS_ERR_NOMEM;
    memcpy(result->window_storage, t->window_probs, sizeof(float) * (size_t)nw * (size_t)nl);
    if (ne > 0) {
        size_t bytes = sizeof(float) * (size_t)nw * (size_t)ne;
        if (!(result->window_embedding_storage = malloc(bytes)))
            return GS_ERR_NOMEM;
        memcpy(result->window_embedding_storage, t->window_embeds, bytes);
    }
    for (int i = 0; i < nw; i++) {
        gs_window_verdict *w = &result->windows[i];
        *w = t->windows[i];
        w->probabilities = result->window_storage + (size_t)i * (size_t)nl;
        w->embedding =
            result->window_embedding_storage ? result->window_embedding_storage + (size_t)i * (size_t)ne : NULL;
        /* The last window ends with the audio, not at a full window length. */
        if (w->end_seconds > result->duration_seconds)
            w->end_seconds = result->duration_seconds;
    }
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
    int padded;
    gs_status st = gs_classify_stream_end(cls, &padded, err);
    if (st != GS_OK)
        return st;

    const gs_patch_sums *track = &cls->sums.track;
    const int nl = cls->num_labels;
    result->num_labels = nl;
    result->embedding_size = cls->embedding_size;
    result->duration_seconds = (double)cls->samples_seen / cls->fp.sample_rate;
    if (mean_out(track->probs, nl, track->num_patches, &result->probabilities) != GS_OK ||
        mean_out(track->embed, cls->embedding_size, track->num_patches, &result->embedding) != GS_OK)
        goto nomem;
    gs_l2_normalise(result->embedding, (size_t)cls->embedding_size);
    gs_calibrate_probabilities(result->probabilities, nl, gs_model_calibration_temperature(cls->model));
    gs_verdict v = gs_verdict_decide(cls->model, result->probabilities, track->num_patches);
    result->verdict = v.kind;
    result->top_label = v.label;
    result->confidence = v.confidence;
    result->not_music = v.not_music;
    if (copy_windows(&cls->sums, result) != GS_OK)
        goto nomem;
    result->num_patches = track->num_patches;
    result->num_silent_patches = track->num_silent;
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
        long got = gs_audio_read(audio, cls->read_buffer, GS_CLASSIFY_CHUNK, &local);
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
