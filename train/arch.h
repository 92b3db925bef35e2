/* Network designs for the trainer: the built-in default (a short-chunk CNN)
 * and adaptation of any architecture JSON to the data at hand (input shape
 * from the front-end, output count from the label set). */
#ifndef GS_TRAIN_ARCH_H
#define GS_TRAIN_ARCH_H

#include "genrescope/error.h"
#include "genrescope/model.h"

/* Short-chunk CNN on one patch: 4 x (3x3 conv, BN, ReLU, 2x2 max pool) with
 * widths w, 2w, 4w, 4w, a fifth conv block with global max pooling, dropout
 * and a dense softmax head. Returns malloc'd JSON or NULL. */
char *gs_arch_shortchunk(const gs_frontend_params *p, int num_labels, int width, float dropout);

/* Reads an architecture JSON file and rewrites its "input" to
 * [1, n_mels, patch_frames] and the last dense layer's "out" to num_labels.
 * Returns malloc'd JSON, or NULL with err. */
char *gs_arch_load_adapted(const char *path, const gs_frontend_params *p, int num_labels, gs_error *err);

#endif
