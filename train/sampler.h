/* Which clips an epoch's training crops come from. The data is usually
 * unbalanced (on the GTZAN part, blues and jazz have 4-7 times the audio of
 * reggae or pop), and drawing clips in proportion to what there is teaches
 * the prior as much as the genre; so by default every label gets the same
 * share of the crops. Only training clips with at least one non-silent crop
 * (gs_spec.num_crops > 0) take part. Deterministic given the RNG. */
#ifndef GS_TRAIN_SAMPLER_H
#define GS_TRAIN_SAMPLER_H

#include "dataset.h"
#include "genrescope/error.h"
#include "genrescope/model.h"
#include "rng.h"
#include "spec_cache.h"

typedef enum gs_balance {
    GS_BALANCE_NONE = 0,        /* every clip crops_per_clip times, shuffled */
    GS_BALANCE_GENRE = 1,       /* a label uniformly, then one of its clips uniformly */
    GS_BALANCE_GENRE_LENGTH = 2 /* a label uniformly, then one of its clips in
                                   proportion to its usable (non-silent) length */
} gs_balance;

typedef struct gs_sampler {
    gs_balance mode;
    int n_items;                  /* usable training clips */
    int *items;                   /* their indices, grouped by label; owned */
    double *cum;                  /* cumulative usable frames within the label; owned */
    int first[GS_MAX_LABELS + 1]; /* label l's clips: items[first[l] .. first[l+1]) */
    int labels[GS_MAX_LABELS];    /* labels that have usable clips */
    int n_labels;
} gs_sampler;

/* Groups the clips with use_train[i] != 0 and a non-silent crop in set by
 * label. params is the front-end of set. Errors: GS_ERR_INVALID (unknown
 * mode), GS_ERR_NOMEM. Free with gs_sampler_free (also after a failure). */
gs_status gs_sampler_init(gs_sampler *sm, gs_balance mode, const gs_dataset *ds, const gs_spec_set *set,
                          const gs_frontend_params *params, const int *use_train, gs_error *err);
void gs_sampler_free(gs_sampler *sm);

/* A clip's usable length in frames: what its non-silent crops cover (all
 * of a clip shorter than one patch); 0 without a non-silent crop. */
double gs_sampler_usable_frames(const gs_spec *spec, const gs_frontend_params *params);

/* Fills order[0..k) with the clips (dataset indices) of one epoch's k
 * crops. GS_BALANCE_NONE needs k == n_items * crops_per_clip; the other
 * modes draw k clips independently. sm must have at least one clip. */
void gs_sampler_epoch(const gs_sampler *sm, int crops_per_clip, gs_rng *rng, int *order, long k);

#endif
