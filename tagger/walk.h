/* Collects the audio files under a set of roots: recursive, symlinks
 * followed without loops (directories identified by device and inode),
 * hidden and system entries skipped unless asked, each file once (by
 * canonical path), sorted by path. */
#ifndef GS_TAGGER_WALK_H
#define GS_TAGGER_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"

typedef struct gs_walk_entry {
    char *path;        /* canonical absolute path, owned */
    char *rel;         /* path relative to its root (stable across machines), owned */
    int64_t size;
    int64_t mtime_ns;
} gs_walk_entry;

typedef struct gs_walk_list {
    gs_walk_entry *entries;
    size_t count, capacity;
} gs_walk_list;

typedef struct gs_walk_options {
    int include_hidden;   /* also enter/take names starting with '.' and system dirs */
    /* Called for entries that cannot be read (permission denied, vanished);
     * the walk goes on. May be NULL. */
    void (*warn)(void *user, const char *path, const char *reason);
    void *user;
} gs_walk_options;

/* Appends the audio files under roots (directories or files; a file named
 * explicitly is taken whatever its extension). Fails only on a root that
 * does not exist or on allocation failure. Free with gs_walk_list_free. */
gs_status gs_walk(const char *const *roots, int num_roots, const gs_walk_options *opts,
                  gs_walk_list *out, gs_error *err);
void gs_walk_list_free(gs_walk_list *list);

/* Keeps only shard k (1-based) of n: entries whose FNV-1a hash of rel is
 * k-1 modulo n, so every machine computes the same split. */
void gs_walk_list_shard(gs_walk_list *list, int k, int n);

/* 1 when path (or a directory on the way) no longer exists; 0 when it does,
 * or cannot be checked for another reason (no permission, I/O error, an
 * unmounted disk shows as missing though): only a gone file may lose its
 * index row. */
int gs_walk_path_vanished(const char *path);

#endif
