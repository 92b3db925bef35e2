/* A library's audio files, as the core's walker (genrescope/walk.h) finds
 * them, named canonically; splitting them between machines; telling which
 * indexed files are gone. */
#ifndef GS_TAGGER_WALK_H
#define GS_TAGGER_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"
#include "genrescope/walk.h"

/* The tagger's walk of a library: the core's walker with canonical paths
 * (the index's keys; a file under two such paths is listed once, while two
 * hard links stay two library entries), the tag writer's abandoned working
 * copies removed on the way and never listed, even with include_hidden.
 * warn and user as in gs_walk_options; errors as gs_walk. Free out with
 * gs_walk_list_free. */
gs_status gs_walk_library(const char *const *roots, int num_roots, int include_hidden,
                          void (*warn)(void *user, const char *path, const char *reason), void *user, gs_walk_list *out,
                          gs_error *err);

/* Keeps only shard k (1-based) of n: entries whose FNV-1a hash of rel is
 * k-1 modulo n, so every machine computes the same split. */
void gs_walk_list_shard(gs_walk_list *list, int k, int n);

/* 1 when path (or a directory on the way) no longer exists; 0 when it does,
 * or cannot be checked for another reason (no permission, I/O error, an
 * unmounted disk shows as missing though): only a gone file may lose its
 * index row. */
int gs_walk_path_vanished(const char *path);

#endif
