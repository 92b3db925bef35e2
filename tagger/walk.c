/* A library's audio files through the core's walker (walk.h), and telling
 * which indexed files are gone. */
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_digest.h"
#include "tag_writer.h"

/* A tag writer that died leaves its working copy (the original is intact):
 * removed once provably abandoned, and never a track. */
static int skip_working_copy(void *user, const char *dir, const char *name)
{
    (void)user;
    if (strncmp(name, GS_TAG_TEMP_PREFIX, strlen(GS_TAG_TEMP_PREFIX)))
        return 0;
    gs_tag_remove_stale_copy(dir, name);
    return 1;
}

gs_status gs_walk_library(const char *const *roots, int num_roots, int include_hidden,
                          void (*warn)(void *user, const char *path, const char *reason), void *user, gs_walk_list *out,
                          gs_error *err)
{
    gs_walk_options o = {
        .include_hidden = include_hidden, .canonical_paths = 1, .warn = warn, .skip = skip_working_copy, .user = user};
    return gs_walk(roots, num_roots, &o, out, err);
}

void gs_walk_list_shard(gs_walk_list *list, int k, int n)
{
    if (n <= 1)
        return;
    size_t w = 0;
    for (size_t r = 0; r < list->count; r++) {
        if (gs_fnv1a64(GS_FNV1A64_INIT, list->entries[r].rel, strlen(list->entries[r].rel)) % (uint64_t)n ==
            (uint64_t)(k - 1)) {
            list->entries[w++] = list->entries[r];
        } else {
            free(list->entries[r].path);
            free(list->entries[r].rel);
        }
    }
    list->count = w;
}

int gs_walk_path_vanished(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR);
}
