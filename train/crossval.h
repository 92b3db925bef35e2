/* Train/validation splits: stratified k-fold (contiguous runs of path order,
 * or shuffled with a fixed seed), or a given split from train.txt /
 * valid.txt lists. fold[i] is the fold of item i
 * (k-fold: 0..k-1; given split: 0 = train, 1 = valid, -1 = in neither list). */
#ifndef GS_TRAIN_CROSSVAL_H
#define GS_TRAIN_CROSSVAL_H

#include <stdint.h>

#include "dataset.h"

/* Stratified in contiguous runs: each label's items, in path order, are cut
 * into k runs of consecutive items, so files that sit next to each other
 * (an artist's or an album's tracks in Artist/Album/ trees; GTZAN's runs of
 * one artist's clips) stay in one fold, and a fold's model is scored on
 * artists it did not train on. Run j of a label goes to fold (start + j) %
 * k, start continuing where the previous label stopped, so every fold gets
 * floor or ceil of each label's share and fold sizes differ by at most one,
 * as with gs_stratified_folds. Needs k >= 2 and k <= items. */
gs_status gs_contiguous_folds(const gs_dataset *ds, int k, int *fold, gs_error *err);

/* Stratified and shuffled: each label's items (in path order) are shuffled with seed and
 * dealt round-robin, continuing where the previous label stopped, so every
 * fold gets floor or ceil of each label's share and fold sizes differ by at
 * most one. Needs k >= 2 and k <= items. */
gs_status gs_stratified_folds(const gs_dataset *ds, int k, uint64_t seed, int *fold, gs_error *err);

/* Given split: lines of train_list and valid_list name clips by any of
 * "genre/genre.00012", "genre.00012.wav", a path...; matching is by file stem.
 * Names not in the dataset are counted in *missing. */
gs_status gs_split_from_lists(const gs_dataset *ds, const char *train_list, const char *valid_list, int *fold,
                              int *missing, gs_error *err);

#endif
