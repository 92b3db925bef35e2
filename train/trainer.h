/* The training loop: epochs of random non-silent crops from cached
 * spectrograms (clips drawn so every genre contributes equally, unless
 * balancing is off), augmentation, AdamW (or SGD) with a cosine schedule and
 * linear warm-up, per-epoch checkpoint + CSV log + progress line, optional
 * validation on whole clips (the core's patch plan: the classifier's
 * patches, silent ones skipped, probabilities averaged, as gs_classifier
 * does at inference). Deterministic given the seed. */
#ifndef GS_TRAIN_TRAINER_H
#define GS_TRAIN_TRAINER_H

#include <stdint.h>
#include <stdio.h>

#include "augment.h"
#include "dataset.h"
#include "optim.h"
#include "sampler.h"
#include "spec_cache.h"
#include "tnet.h"

typedef struct gs_train_config {
    const char *architecture_json; /* fresh network (ignored with init_model) */
    const gs_model *init_model;    /* fine-tune from this model, or NULL */
    int replace_head;              /* with init_model: new classifier head */
    int epochs;
    int batch;          /* 2..64 */
    int crops_per_clip; /* crops per epoch = clips x this */
    gs_balance balance; /* how those crops' clips are drawn */
    gs_optim_config optim;
    float warmup_epochs;
    float min_lr_ratio; /* cosine floor as a fraction of lr */
    uint64_t seed;
    gs_augment_config augment;
    const char *checkpoint; /* NULL: no checkpoints */
    int resume;             /* continue from checkpoint if it exists */
    const char *csv_log;    /* NULL: no CSV */
    FILE *progress;         /* NULL: quiet */
    int progress_tty;       /* redraw one line with \r */
    const char *tag;        /* shown in progress, e.g. "fold 2/5" */
    int stop_after_epochs;  /* > 0: stop after this many epochs of this
                                      session, as an interruption would (tests) */
} gs_train_config;

void gs_train_config_default(gs_train_config *cfg);

typedef struct gs_train_stats {
    int epochs_run;              /* this session */
    double seconds_per_epoch;    /* training steps only (no validation), mean
                                     over this session's epochs */
    float train_loss, train_acc; /* last epoch */
    float valid_loss, valid_acc; /* last epoch, -1 without validation */
    int stopped_early;           /* stop_after_epochs ended the session */
    int epochs_done;             /* total, including resumed ones */
} gs_train_stats;

/* Trains on the clips with use_train[i] != 0, validating each epoch on those
 * with use_valid[i] != 0 (use_valid may be NULL). Clips without a non-silent
 * crop are not trained on (noted on cfg->progress). A validation clip whose
 * patches are all silent counts as wrong, as gs_evaluate_model counts it.
 * Returns the trained net (last epoch: no selection on validation data) or
 * NULL with err. */
gs_tnet *gs_train(const gs_train_config *cfg, const gs_dataset *ds, const gs_spec_set *set,
                  const gs_frontend_params *params, const int *use_train, const int *use_valid, gs_train_stats *stats,
                  gs_error *err);

/* Whole-clip probabilities from a spectrogram, as the classifier computes
 * them (eval mode): the mean over the non-silent patches of the core's patch
 * plan (regular + tail patches; one repeated patch for a clip shorter than
 * a patch). buffer holds max_batch patches, patch_probs max_batch x labels.
 * Writes the number of classified patches to *num_patches (may be NULL);
 * with none (all silent) probs are all 0. Errors: the network's. */
gs_status gs_tnet_predict_clip(gs_tnet *net, int max_batch, const gs_spec *spec, const gs_frontend_params *params,
                               float *buffer, float *patch_probs, float *probs, int *num_patches, gs_error *err);

#endif
