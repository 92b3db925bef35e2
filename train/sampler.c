/* The epoch sampler (sampler.h): which training clip each crop of an
 * epoch comes from, balanced per label by default, drawn from the caller's
 * RNG. */
#include "sampler.h"

#include <stdlib.h>
#include <string.h>

void gs_sampler_free(gs_sampler *sm)
{
    if (!sm)
        return;
    free(sm->items);
    free(sm->cum);
    memset(sm, 0, sizeof *sm);
}

double gs_sampler_usable_frames(const gs_spec *s, const gs_frontend_params *p)
{
    if (s->num_crops == 0)
        return 0.0;
    return s->frames < p->patch_frames ? s->frames : (double)s->num_crops + p->patch_frames - 1;
}

gs_status gs_sampler_init(gs_sampler *sm, gs_balance mode, const gs_dataset *ds, const gs_spec_set *set,
                          const gs_frontend_params *p, const int *use_train, gs_error *err)
{
    memset(sm, 0, sizeof *sm);
    if (mode != GS_BALANCE_NONE && mode != GS_BALANCE_GENRE && mode != GS_BALANCE_GENRE_LENGTH)
        return gs_error_set(err, GS_ERR_INVALID, "unknown balance mode %d", (int)mode);
    sm->mode = mode;
    sm->items = malloc((size_t)(ds->num_items > 0 ? ds->num_items : 1) * sizeof *sm->items);
    sm->cum = malloc((size_t)(ds->num_items > 0 ? ds->num_items : 1) * sizeof *sm->cum);
    if (!sm->items || !sm->cum) {
        gs_sampler_free(sm);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    for (int l = 0; l < ds->num_labels; l++) {
        sm->first[l] = sm->n_items;
        double total = 0.0;
        for (int i = 0; i < ds->num_items; i++) {
            if (!use_train[i] || ds->items[i].label != l || set->specs[i].num_crops == 0)
                continue;
            total += gs_sampler_usable_frames(&set->specs[i], p);
            sm->cum[sm->n_items] = total;
            sm->items[sm->n_items++] = i;
        }
        if (sm->n_items > sm->first[l])
            sm->labels[sm->n_labels++] = l;
    }
    sm->first[ds->num_labels] = sm->n_items;
    return GS_OK;
}

/* One clip of label l. */
static int pick(const gs_sampler *sm, int l, gs_rng *rng)
{
    int lo = sm->first[l], n = sm->first[l + 1] - lo;
    if (sm->mode != GS_BALANCE_GENRE_LENGTH)
        return sm->items[lo + gs_rng_int(rng, n)];
    /* The first clip whose cumulative length exceeds a uniform draw. */
    double u = gs_rng_uniform(rng) * sm->cum[lo + n - 1];
    int a = lo, b = lo + n - 1;
    while (a < b) {
        int mid = (a + b) / 2;
        if (sm->cum[mid] > u)
            b = mid;
        else
            a = mid + 1;
    }
    return sm->items[a];
}

void gs_sampler_epoch(const gs_sampler *sm, int crops_per_clip, gs_rng *rng, int *order, long k)
{
    if (sm->mode == GS_BALANCE_NONE) {
        long j = 0;
        for (int rep = 0; rep < crops_per_clip; rep++)
            for (int i = 0; i < sm->n_items && j < k; i++)
                order[j++] = sm->items[i];
        gs_rng_shuffle(rng, order, (int)j);
        return;
    }
    for (long j = 0; j < k; j++)
        order[j] = pick(sm, sm->labels[gs_rng_int(rng, sm->n_labels)], rng);
}
