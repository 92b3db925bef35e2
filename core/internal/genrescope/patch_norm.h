/* The patch normalisation, defined once (the front-end's patch_normalize,
 * genrescope/model.h): inference applies it as it cuts a patch
 * (gs_patch_from_frames), the trainer after its augmentations changed the
 * patch's levels (train/augment.c), so the network is trained on the input
 * it is given.
 *
 * Internal: not installed, not exported from the shared library; the
 * trainer links it from the internal static library. */
#ifndef GENRESCOPE_PATCH_NORM_H
#define GENRESCOPE_PATCH_NORM_H

#include "genrescope/model.h"

/* Normalises one network input laid out [n_mels][patch_frames] in place.
 * GS_PATCH_NORMALIZE_MEAN subtracts the mean of its values, summed in double
 * frame by frame (the order gs_patch_from_frames has always used, so a
 * patch's inputs do not move by a rounding) and rounded to float;
 * GS_PATCH_NORMALIZE_NONE leaves it alone. Cannot fail. */
void gs_patch_normalize_apply(float *patch, int n_mels, int patch_frames, gs_patch_normalize mode);

#endif
