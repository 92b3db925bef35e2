/* Log-mel spectrograms of a dataset, computed once with the core front-end
 * (gs_audio at the model rate, gs_mel) and cached on disk, keyed by the
 * file's path, size and mtime and every front-end parameter, so epochs and
 * reruns after the first never decode audio. Spectrograms are stored as the
 * front-end gives them (not padded) with every frame's RMS, so training
 * crops and validation cut patches with the core's patch plan
 * (genrescope/classify.h): a clip shorter than one patch is repeated, silent
 * patches are skipped, as the classifier does. */
#ifndef GS_TRAIN_SPEC_CACHE_H
#define GS_TRAIN_SPEC_CACHE_H

#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "genrescope/error.h"
#include "genrescope/model.h"
#include "rng.h"

typedef struct gs_spec {
    int frames;    /* >= 1: the clip's frames, unpadded (audio shorter than
                      one FFT frame is completed with zeros to one frame, as
                      the classifier does) */
    float *data;   /* frames x n_mels, time-major as gs_mel gives it; owned */
    float *rms;    /* frames: each frame's time-domain RMS
                      (gs_mel_compute_with_rms); owned */
    int num_crops; /* training crop starts that are not silent */
    int *crops;    /* num_crops ascending start frames (gs_spec_index_crops);
                      owned, NULL when num_crops is 0 */
} gs_spec;

/* Frees what spec owns and zeroes it. */
void gs_spec_free(gs_spec *spec);

/* Fills spec->crops with the start frames a random training crop may take
 * (gs_patch_crop_starts: every start of a clip of at least one patch, 0 for
 * a shorter one) whose patch is not silent (gs_patch_is_silent). params must
 * be the front-end the spectrogram was made with. Errors: GS_ERR_NOMEM. */
gs_status gs_spec_index_crops(gs_spec *spec, const gs_frontend_params *params, gs_error *err);

typedef struct gs_spec_set {
    int n_mels;
    int count;      /* == dataset items */
    gs_spec *specs; /* owned */
    int computed;   /* decoded this run */
    int cached;     /* read from the cache */
    int failed;     /* unreadable/corrupt files dropped from the dataset */
    /* Training-only clip variants (gs_spec_set_add_clip_variants): item i's
     * variant v is variants[i * num_variants + v], made from the waveform
     * scaled by variant_gain_db[same index] and hard-clipped to [-1, 1].
     * Only gs_spec_set_train_spec hands them out; validation, scoring,
     * the baseline and the export read specs[] alone. */
    int num_variants;
    gs_spec *variants;      /* owned, NULL without variants */
    float *variant_gain_db; /* owned */
    int variants_computed, variants_cached;
} gs_spec_set;

/* Waveform-domain level augmentation: a hot master is scaled up and clipped,
 * which adds distortion no gain on the spectrogram can imitate. */
typedef struct gs_clip_variant_config {
    int count;            /* variants per clip; 0 = none */
    float min_db, max_db; /* gain drawn uniformly in [min_db, max_db] */
    uint64_t seed;        /* with the clip's stem, fixes every gain */
} gs_clip_variant_config;

/* count 0, gain +3..+12 dB, seed 1. */
void gs_clip_variant_default(gs_clip_variant_config *cfg);
/* Gain in dB of variant v of the clip named stem: deterministic from
 * cfg->seed, the stem and v; in [min_db, max_db]. */
float gs_clip_variant_gain_db(const gs_clip_variant_config *cfg, const char *stem, int v);
/* out[i] = clamp(in[i] * 10^(gain_db/20), -1, 1); in and out may alias. */
void gs_clip_variant_apply(const float *in, float *out, size_t n, float gain_db);

/* Computes (or reads from cache_dir, may be NULL) cfg->count variants of
 * every item of set, aligned with ds as gs_spec_set_load left them, through
 * the same front-end as the originals. Cache entries are keyed by the
 * original's key plus the variant's gain and index. No-op when count is 0.
 * Errors: GS_ERR_INVALID (set/ds mismatch, variants already added, empty
 * gain range), decode errors (prefixed with the path), GS_ERR_IO, NOMEM. */
gs_status gs_spec_set_add_clip_variants(gs_spec_set *set, const gs_dataset *ds, const gs_frontend_params *params,
                                        const gs_clip_variant_config *cfg, const char *cache_dir, gs_error *err);

/* The spectrogram a training crop of item should come from: without
 * variants specs[item] (and rng is not touched); with K variants the
 * original or one of them, uniformly. */
const gs_spec *gs_spec_set_train_spec(const gs_spec_set *set, int item, gs_rng *rng);

/* Computes or loads the spectrogram (and frame RMS) of every item of ds and
 * indexes its crops (gs_spec_index_crops). Files that cannot be
 * decoded are reported on warn ("warning: skipping ...") and removed from ds,
 * so ds and the set stay aligned; out->failed counts them. cache_dir may be
 * NULL (no caching); it is created if missing. Fails (GS_ERR_INVALID) only
 * when no file could be read, or on I/O errors writing the cache. */
gs_status gs_spec_set_load(gs_spec_set *out, gs_dataset *ds, const gs_frontend_params *params, const char *cache_dir,
                           FILE *warn, gs_error *err);
void gs_spec_set_free(gs_spec_set *set);

/* Writes the patch starting at frame `start` into the network layout
 * [n_mels][patch] (mel = row, time = column) with the given patch
 * normalisation, through the core's gs_patch_from_frames: a clip shorter
 * than patch frames is repeated to fill it. start must be in
 * 0..frames-1 (0..frames-patch for a clip of at least one patch). */
void gs_spec_patch(const gs_spec *spec, int n_mels, int start, int patch, gs_patch_normalize normalize, float *out);

/* Exports every spectrogram for the PyTorch reference, unpadded, with what
 * the reference needs to follow the same patch plan: dir/specs.f32 (raw
 * little-endian float32, [frames][n_mels] each, concatenated), dir/rms.f32
 * (float32 frame RMS, frames each, concatenated), dir/index.csv
 * "stem,label,label_name,offset_floats,frames,fold,rms_offset,usable_crops,
 * patches" (usable_crops = num_crops; patches = the start frames of the
 * classifier's non-silent plan patches, space-separated), dir/plan.json
 * (front-end parameters and the silence threshold) and dir/filterbank.f32
 * ([n_mels][n_fft/2+1], for the low-pass augmentation). fold may be NULL.
 * params is the set's front-end. Errors: GS_ERR_IO. */
gs_status gs_spec_set_export(const gs_spec_set *set, const gs_dataset *ds, const int *fold,
                             const gs_frontend_params *params, const char *dir, gs_error *err);

/* Where the trainer's hashes (gs_fnv1a64, genrescope/fnv1a.h) start: the
 * cache keys and the clip-variant gains. Not the standard offset basis
 * (GS_FNV1A64_INIT, one digit longer) but kept as it is, because changing it
 * would invalidate every cache and move every variant's gain, and so change
 * the models a recipe trains. */
#define GS_SPEC_HASH_INIT 1469598103934665603ULL

#endif
