/* Window accumulation: classified patches' probabilities and embeddings
 * summed per verdict window and per track, and a closed window turned into
 * its verdict (mean, calibration, gs_verdict_decide). The sums are double
 * and added in patch order, so both paths of the classifier and the
 * sliding window (which sums the same way) agree to the bit. */
#include "classify_window.h"

#include <stdlib.h>
#include <string.h>

#include "genrescope/embedding.h"

gs_status gs_patch_sums_init(gs_patch_sums *s, int num_labels, int embedding_size)
{
    s->num_labels = num_labels;
    s->embedding_size = embedding_size;
    s->probs = malloc(sizeof(double) * (size_t)num_labels);
    s->embed = embedding_size > 0 ? malloc(sizeof(double) * (size_t)embedding_size) : NULL;
    if (!s->probs || (embedding_size > 0 && !s->embed))
        return GS_ERR_NOMEM;
    gs_patch_sums_reset(s);
    return GS_OK;
}

void gs_patch_sums_free(gs_patch_sums *s)
{
    free(s->probs);
    free(s->embed);
    s->probs = s->embed = NULL;
}

void gs_patch_sums_reset(gs_patch_sums *s)
{
    s->num_patches = 0;
    s->num_silent = 0;
    for (int i = 0; i < s->num_labels; i++)
        s->probs[i] = 0.0;
    for (int i = 0; i < s->embedding_size; i++)
        s->embed[i] = 0.0;
}

void gs_patch_sums_add(gs_patch_sums *s, const float *probs, const float *embed)
{
    for (int i = 0; i < s->num_labels; i++)
        s->probs[i] += probs[i];
    for (int i = 0; i < s->embedding_size; i++)
        s->embed[i] += embed[i];
    s->num_patches++;
}

void gs_patch_sums_mean(const double *sum, int n, int count, float *out)
{
    for (int i = 0; i < n; i++)
        out[i] = count ? (float)(sum[i] / count) : 0.0f;
}

gs_status gs_track_sums_init(gs_track_sums *t, const gs_model *model, int embedding_size)
{
    memset(t, 0, sizeof *t);
    t->model = model;
    int nl = gs_model_num_labels(model);
    gs_status st = gs_patch_sums_init(&t->window, nl, embedding_size);
    if (st == GS_OK)
        st = gs_patch_sums_init(&t->track, nl, embedding_size);
    if (st == GS_OK)
        gs_track_sums_reset(t);
    return st;
}

void gs_track_sums_free(gs_track_sums *t)
{
    gs_patch_sums_free(&t->window);
    gs_patch_sums_free(&t->track);
    free(t->windows);
    free(t->window_probs);
    free(t->window_embeds);
    t->windows = NULL;
    t->window_probs = t->window_embeds = NULL;
}

void gs_track_sums_reset(gs_track_sums *t)
{
    t->window_index = -1;
    gs_patch_sums_reset(&t->window);
    gs_patch_sums_reset(&t->track);
    t->num_windows = 0;
}

/* Room for one more closed window: the list doubles, so a long track
 * allocates at a few window boundaries only. */
static gs_status reserve_window(gs_track_sums *t)
{
    if (t->num_windows < t->capacity)
        return GS_OK;
    const int nl = t->window.num_labels, ne = t->window.embedding_size;
    int capacity = t->capacity ? t->capacity * 2 : 16;
    gs_window_verdict *windows = realloc(t->windows, sizeof *windows * (size_t)capacity);
    if (!windows)
        return GS_ERR_NOMEM;
    t->windows = windows;
    float *probs = realloc(t->window_probs, sizeof(float) * (size_t)capacity * (size_t)nl);
    if (!probs)
        return GS_ERR_NOMEM;
    t->window_probs = probs;
    float *embeds = realloc(t->window_embeds, sizeof(float) * (size_t)capacity * (size_t)(ne > 0 ? ne : 1));
    if (!embeds)
        return GS_ERR_NOMEM;
    t->window_embeds = embeds;
    t->capacity = capacity;
    return GS_OK;
}

gs_status gs_track_sums_close(gs_track_sums *t)
{
    if (t->window_index < 0)
        return GS_OK;
    if (reserve_window(t) != GS_OK)
        return GS_ERR_NOMEM;
    const gs_patch_sums *acc = &t->window;
    const int nl = acc->num_labels, ne = acc->embedding_size;
    const float window_seconds = gs_model_frontend(t->model)->window_seconds;
    float *probs = t->window_probs + (size_t)t->num_windows * (size_t)nl;
    gs_patch_sums_mean(acc->probs, nl, acc->num_patches, probs);
    float *embed = t->window_embeds + (size_t)t->num_windows * (size_t)ne;
    gs_patch_sums_mean(acc->embed, ne, acc->num_patches, embed);
    gs_l2_normalise(embed, (size_t)ne);
    gs_calibrate_probabilities(probs, nl, gs_model_calibration_temperature(t->model));
    gs_verdict v = gs_verdict_decide(t->model, probs, acc->num_patches);
    gs_window_verdict *w = &t->windows[t->num_windows++];
    w->start_seconds = t->window_index * (double)window_seconds;
    w->end_seconds = w->start_seconds + window_seconds;
    w->num_patches = acc->num_patches;
    w->verdict = v.kind;
    w->top_label = v.label;
    w->confidence = v.confidence;
    w->not_music = v.not_music;
    w->probabilities = NULL;
    w->embedding = NULL;
    t->window_index = -1;
    return GS_OK;
}

gs_status gs_track_sums_enter(gs_track_sums *t, int window)
{
    if (window == t->window_index)
        return GS_OK;
    if (gs_track_sums_close(t) != GS_OK)
        return GS_ERR_NOMEM;
    gs_patch_sums_reset(&t->window);
    t->window_index = window;
    return GS_OK;
}

void gs_track_sums_add(gs_track_sums *t, const float *probs, const float *embed)
{
    gs_patch_sums_add(&t->window, probs, embed);
    gs_patch_sums_add(&t->track, probs, embed);
}

void gs_track_sums_silent(gs_track_sums *t)
{
    t->window.num_silent++;
    t->track.num_silent++;
}
