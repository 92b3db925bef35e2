/* Training batches from cached spectrograms: random patch crops cut by the
 * core's patch plan (a non-silent start from gs_spec.crops; a clip shorter
 * than a patch is repeated) with the front-end's patch normalisation, plus
 * optional augmentation — gain and a random low-pass (both exact in the
 * mel-power domain, before normalisation), SpecAugment-style time and
 * frequency masks, and mixup with soft targets. */
#ifndef GS_TRAIN_AUGMENT_H
#define GS_TRAIN_AUGMENT_H

#include "genrescope/model.h"
#include "rng.h"
#include "spec_cache.h"

/* The largest --tempo: crops up to twice as fast. gs_make_batch_scratch
 * sizes the scratch for it, so the CLI must not accept more. */
#define GS_AUGMENT_MAX_TEMPO 1.0f

typedef struct gs_augment_config {
    float gain_db;     /* uniform gain in [-gain_db, +gain_db]; 0 = off */
    int time_masks;    /* number of time masks per patch */
    int time_mask_max; /* frames, each mask 0..max wide */
    int freq_masks;
    int freq_mask_max;                    /* mel bands */
    float mixup_alpha;                    /* Beta(alpha, alpha) mixing; 0 = off */
    float label_smoothing;                /* epsilon spread over all labels; 0 = off */
    float lowpass_p;                      /* probability of a random low-pass per crop; 0 = off */
    float lowpass_min_hz, lowpass_max_hz; /* its cut-off, drawn uniformly */
    float pitch_semitones;                /* pitch shift drawn uniformly in +-this; 0 = off */
    float tempo;                          /* tempo factor drawn log-uniformly in [1/(1+t), 1+t]; 0 = off */
} gs_augment_config;

/* Per-band cumulative weights of the front-end's mel filterbank, for the
 * low-pass augmentation: a band keeps the fraction of its filter weight
 * below the cut-off. That is what a brick-wall low-pass does to a band of
 * flat spectrum, and the overlapping triangles give a roll-off about one
 * band wide. Bands wholly above the cut-off fall to the log floor, which is
 * what a band-limited recording (e.g. a 16 kHz copy, nothing above 8 kHz)
 * shows. */
typedef struct gs_band_table {
    int n_mels, n_bins;
    double bin_hz;
    double *cdf;       /* n_mels x (n_bins + 1): weight of bins 0..k-1; owned */
    double *centre_hz; /* n_mels: where half of each band's filter weight lies below; owned */
} gs_band_table;

/* Builds the table from the core's filterbank for params (validated).
 * Errors: GS_ERR_NOMEM, or the filterbank's. Free with gs_band_table_free. */
gs_status gs_band_table_init(gs_band_table *t, const gs_frontend_params *params, gs_error *err);
void gs_band_table_free(gs_band_table *t);
/* Fraction (0..1) of band m's filter weight in the bins below cutoff_hz
 * (bins k with k * bin_hz < cutoff_hz); 1 for a band without weight. */
double gs_band_table_fraction(const gs_band_table *t, int m, double cutoff_hz);
/* Applies a low-pass at cutoff_hz to a patch in the network layout
 * ([n_mels][patch] log-mel values ln(power + log_offset), before patch
 * normalisation): each band's power is scaled by its fraction. */
void gs_apply_lowpass(float *x, int n_mels, int patch, const gs_band_table *t, double cutoff_hz, float log_offset);

/* Pitch shift of a patch in the network layout by semitones, in the mel
 * domain: band m takes the value (interpolated between bands) of the
 * place whose frequency is its centre / 2^(semitones/12), so a harmonic
 * moves up with positive semitones; places beyond the first or last band
 * take that band's value. The filterbank's bands widen with frequency, so
 * this is what a pitch shifter does to the band centres, not to their
 * widths. scratch: n_mels * patch floats. */
void gs_apply_pitch(float *x, int n_mels, int patch, const gs_band_table *t, double semitones, float *scratch);
/* Tempo change by factor (> 1 faster: more of the music fits the patch):
 * out[m][i] is src[m][i * factor], interpolated between frames. src has
 * src_frames >= (patch - 1) * factor + 1 frames per band ([n_mels][src_frames]);
 * out is [n_mels][patch]. */
void gs_apply_tempo(const float *src, int src_frames, int n_mels, int patch, double factor, float *out);
/* Frames gs_apply_tempo needs for a factor: ceil((patch - 1) * factor) + 1. */
int gs_tempo_source_frames(int patch, double factor);

/* Defaults used by the recipe (what validation supported; see models/README.md). */
void gs_augment_default(gs_augment_config *cfg);
/* No augmentation at all (crops only). */
void gs_augment_none(gs_augment_config *cfg);

/* Fills batch patches ([n_mels][patch_frames] each) and targets (batch x
 * num_labels distributions) from the clips clip[0..batch), each with a
 * random non-silent crop (gs_spec.crops) of the clip or, when set has clip
 * variants, of one of them (gs_spec_set_train_spec). Every clip must have
 * at least one non-silent crop (specs[clip[i]].num_crops > 0). labels[i] is
 * clip[i]'s label. bands (may be NULL: no low-pass and no pitch shift) is
 * the table for cfg->lowpass_p and cfg->pitch_semitones. */
void gs_make_batch(const gs_spec_set *set, const int *clip, const int *labels, int batch, int num_labels,
                   const gs_frontend_params *params, const gs_augment_config *cfg, const gs_band_table *bands,
                   gs_rng *rng, float *inputs, float *targets, float *scratch);

/* Floats of scratch gs_make_batch needs. */
size_t gs_make_batch_scratch(int batch, const gs_frontend_params *params);

#endif
