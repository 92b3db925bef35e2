/* Training batches from cached spectrograms: random patch crops cut by the
 * core's patch plan (a non-silent start from gs_spec.crops; a clip shorter
 * than a patch is repeated) with the front-end's patch normalisation, plus
 * optional augmentation — gain (exact in the mel-power domain, before
 * normalisation), SpecAugment-style time and frequency masks, and mixup
 * with soft targets. */
#ifndef GS_TRAIN_AUGMENT_H
#define GS_TRAIN_AUGMENT_H

#include "genrescope/model.h"
#include "rng.h"
#include "spec_cache.h"

typedef struct gs_augment_config {
    float gain_db;        /* uniform gain in [-gain_db, +gain_db]; 0 = off */
    int time_masks;       /* number of time masks per patch */
    int time_mask_max;    /* frames, each mask 0..max wide */
    int freq_masks;
    int freq_mask_max;    /* mel bands */
    float mixup_alpha;    /* Beta(alpha, alpha) mixing; 0 = off */
    float label_smoothing;/* epsilon spread over all labels; 0 = off */
} gs_augment_config;

/* Defaults used by the recipe (what validation supported; see models/README.md). */
void gs_augment_default(gs_augment_config *cfg);
/* No augmentation at all (crops only). */
void gs_augment_none(gs_augment_config *cfg);

/* Fills batch patches ([n_mels][patch_frames] each) and targets (batch x
 * num_labels distributions) from the clips clip[0..batch), each with a
 * random non-silent crop (gs_spec.crops) of the clip or, when set has clip
 * variants, of one of them (gs_spec_set_train_spec). Every clip must have
 * at least one non-silent crop (specs[clip[i]].num_crops > 0). labels[i] is
 * clip[i]'s label. */
void gs_make_batch(const gs_spec_set *set, const int *clip, const int *labels, int batch, int num_labels,
                   const gs_frontend_params *params, const gs_augment_config *cfg, gs_rng *rng,
                   float *inputs, float *targets, float *scratch);

/* Floats of scratch gs_make_batch needs. */
size_t gs_make_batch_scratch(int batch, const gs_frontend_params *params);

#endif
