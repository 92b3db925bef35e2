/* The audio files under a set of folders, found one way for every program
 * that looks for them (the tagger's library scan, the trainer's datasets):
 * recursive; symlinks followed, each directory entered once (device and
 * inode), so a link back up the tree cannot loop; hidden names and the
 * folders an OS or a NAS leaves on a disk skipped unless asked; "audio" as
 * gs_audio_is_audio_name says; an entry that cannot be read reported and
 * passed over, never the end of the walk; the result sorted by path, so
 * the same tree always lists the same way.
 *
 * Internal: not installed, not exported from the shared library. It lives
 * in core because both applications need it and may depend on core only;
 * what each does with the files (tags, labels) stays with them, through
 * the options below. */
#ifndef GENRESCOPE_WALK_H
#define GENRESCOPE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"

typedef struct gs_walk_entry {
    char *path; /* owned; root "/" rel as reached, or canonical (canonical_paths) */
    char *rel;  /* owned; relative to its root, so stable across machines */
    int64_t size;
    int64_t mtime_ns;
    uint64_t dev, ino; /* the file's identity: two names of one file share it */
} gs_walk_entry;

typedef struct gs_walk_list {
    gs_walk_entry *entries;
    size_t count, capacity;
} gs_walk_list;

typedef struct gs_walk_options {
    /* Also enter and take names starting with '.' and the system folders
     * (gs_walk_skips_name). */
    int include_hidden;
    /* Entries get their canonical absolute path (realpath), and a file
     * reached under two such paths is listed once. 0: root "/" rel. */
    int canonical_paths;
    /* A file reached under several names (symlinks, hard links) is listed
     * once, under the first name in path order: a training set must not
     * hold one recording twice, or it can be both trained and validated
     * on. 0: every distinct path is listed. */
    int one_name_per_file;
    /* Called for each entry that cannot be read (a folder without
     * permission, a dangling symlink, a FIFO or device with an audio name);
     * the walk goes on without it. path and reason are borrowed for the
     * call. May be NULL. */
    void (*warn)(void *user, const char *path, const char *reason);
    /* Called first for every name in every folder walked (before the
     * hidden and system-folder rule); nonzero passes the entry over
     * unreported. For a caller's own litter, e.g. a writer's temporaries.
     * May be NULL. */
    int (*skip)(void *user, const char *dir, const char *name);
    void *user;
} gs_walk_options;

/* Appends to out the audio files under roots: folders, or files (a file
 * named as a root is taken whatever its name). A root folder that cannot
 * be opened is reported through opts->warn like any other. opts may be
 * NULL (defaults: all zero). Errors: GS_ERR_IO for a root that does not
 * exist (sys_errno set), GS_ERR_INVALID for a root that is neither a file
 * nor a folder, GS_ERR_NOMEM; out then holds what was found so far and
 * must still be freed. Free out with gs_walk_list_free. */
gs_status gs_walk(const char *const *roots, int num_roots, const gs_walk_options *opts, gs_walk_list *out,
                  gs_error *err);

/* Frees every entry and the array; list is left empty and reusable. NULL
 * is a no-op. */
void gs_walk_list_free(gs_walk_list *list);

/* 1 when the walk passes over an entry called name: "." and "..", and,
 * unless include_hidden, hidden names and the system folders (lost+found,
 * System Volume Information, $RECYCLE.BIN, @eaDir, #recycle). For callers
 * that list one level themselves (the trainer's label folders) under the
 * same rule. */
int gs_walk_skips_name(const char *name, int include_hidden);

#endif
