/* Training checkpoints, written after every epoch so an interrupted run
 * resumes where it stopped. A checkpoint is two files:
 *   PATH        a normal model file (weights, labels, front-end, architecture)
 *               with a "checkpoint" metadata entry {epoch, step, rng, seed}
 *   PATH.optim  the optimiser state (magic, step, count, floats)
 * Both are written to temporary names and renamed, state first; loading
 * checks that the two agree (same step), so a crash between the renames is
 * detected instead of resuming with mismatched moments. */
#ifndef GS_TRAIN_CHECKPOINT_H
#define GS_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "genrescope/error.h"
#include "genrescope/model.h"
#include "optim.h"
#include "tnet.h"

typedef struct gs_checkpoint_state {
    int epoch;          /* epochs completed */
    long step;          /* optimiser steps completed */
    uint64_t rng_state; /* data RNG after the epoch */
    uint64_t seed;
} gs_checkpoint_state;

gs_status gs_checkpoint_save(const char *path, const gs_tnet *net, const gs_optim *opt, const char *const *labels,
                             int num_labels, const gs_frontend_params *frontend, const gs_checkpoint_state *state,
                             gs_error *err);

/* Restores weights and optimiser state into net/opt, which must have been
 * built for the same architecture: a checkpoint of another architecture,
 * other labels or another front-end is refused with a message saying what
 * differs (GS_ERR_INVALID), and nothing is modified. */
gs_status gs_checkpoint_load(const char *path, gs_tnet *net, gs_optim *opt, const char *const *labels, int num_labels,
                             const gs_frontend_params *frontend, gs_checkpoint_state *state, gs_error *err);

/* 1 if both JSON texts parse and are equal as JSON values. */
int gs_json_equal(const char *a, const char *b);

#endif
