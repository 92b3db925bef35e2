/* Collecting a library's audio files (walk.h), and telling which indexed
 * files are gone. */
#include "walk.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "genrescope/audio.h"
#include "file_digest.h"
#include "genrescope/outfile.h"
#include "tag_writer.h"

/* Directories a music library never means: OS and NAS metadata. */
static const char *const system_dirs[] = {
    "lost+found", "System Volume Information", "$RECYCLE.BIN", "@eaDir", "#recycle",
};

/* Visited directories as (dev, ino) in an open-addressing set: a symlink
 * back up the tree is then entered only once. */
typedef struct dir_set {
    uint64_t *keys; /* pairs dev, ino; dev == UINT64_MAX marks empty */
    size_t cap, count;
} dir_set;

static uint64_t mix(uint64_t dev, uint64_t ino)
{
    uint64_t h = dev * 0x9E3779B97F4A7C15ULL ^ ino;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static int dir_set_insert(dir_set *s, uint64_t dev, uint64_t ino)
{
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        uint64_t *nk = malloc(ncap * 2 * sizeof *nk);
        if (!nk)
            return -1;
        for (size_t i = 0; i < ncap; i++)
            nk[2 * i] = UINT64_MAX;
        for (size_t i = 0; i < s->cap; i++) {
            if (s->keys[2 * i] == UINT64_MAX)
                continue;
            size_t j = mix(s->keys[2 * i], s->keys[2 * i + 1]) & (ncap - 1);
            while (nk[2 * j] != UINT64_MAX)
                j = (j + 1) & (ncap - 1);
            nk[2 * j] = s->keys[2 * i];
            nk[2 * j + 1] = s->keys[2 * i + 1];
        }
        free(s->keys);
        s->keys = nk;
        s->cap = ncap;
    }
    size_t j = mix(dev, ino) & (s->cap - 1);
    while (s->keys[2 * j] != UINT64_MAX) {
        if (s->keys[2 * j] == dev && s->keys[2 * j + 1] == ino)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->keys[2 * j] = dev;
    s->keys[2 * j + 1] = ino;
    s->count++;
    return 1;
}

static int list_add(gs_walk_list *l, const char *path, const char *rel, const struct stat *st)
{
    if (l->count == l->capacity) {
        size_t ncap = l->capacity ? l->capacity * 2 : 256;
        gs_walk_entry *ne = realloc(l->entries, ncap * sizeof *ne);
        if (!ne)
            return -1;
        l->entries = ne;
        l->capacity = ncap;
    }
    char *canon = realpath(path, NULL);
    gs_walk_entry *e = &l->entries[l->count];
    e->path = canon ? canon : strdup(path);
    e->rel = strdup(rel);
    if (!e->path || !e->rel) {
        free(e->path);
        free(e->rel);
        return -1;
    }
    e->size = (int64_t)st->st_size;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    l->count++;
    return 0;
}

static int skip_name(const char *name, int include_hidden)
{
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 1;
    if (include_hidden)
        return 0;
    if (name[0] == '.')
        return 1;
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
        if (!strcmp(name, system_dirs[i]))
            return 1;
    return 0;
}

static void warn(const gs_walk_options *o, const char *path, const char *reason)
{
    if (o && o->warn)
        o->warn(o->user, path, reason);
}

static int walk_dir(const char *dir, const char *rel, const gs_walk_options *o, dir_set *seen,
                    gs_walk_list *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        warn(o, dir, strerror(errno));
        return 0;
    }
    int include_hidden = o ? o->include_hidden : 0;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        /* A tag writer that died leaves its working copy (the original is
         * intact): removed once provably abandoned. */
        if (!strncmp(de->d_name, GS_TAG_TEMP_PREFIX, strlen(GS_TAG_TEMP_PREFIX))) {
            gs_tag_remove_stale_copy(dir, de->d_name);
            continue; /* never a track, even with include_hidden */
        }
        if (skip_name(de->d_name, include_hidden))
            continue;
        size_t need = strlen(dir) + strlen(de->d_name) + 2;
        size_t rneed = strlen(rel) + strlen(de->d_name) + 2;
        char *path = malloc(need), *r = malloc(rneed);
        if (!path || !r) {
            free(path);
            free(r);
            rc = -1;
            break;
        }
        snprintf(path, need, "%s/%s", dir, de->d_name);
        snprintf(r, rneed, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            /* Dangling symlink or an entry removed since readdir. */
            warn(o, path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            int fresh = dir_set_insert(seen, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
            if (fresh < 0)
                rc = -1;
            else if (fresh)
                rc = walk_dir(path, r, o, seen, out);
        } else if (S_ISREG(st.st_mode) && gs_audio_is_audio_name(de->d_name)) {
            rc = list_add(out, path, r, &st);
        } else if (!S_ISREG(st.st_mode) && gs_audio_is_audio_name(de->d_name)) {
            /* Opening a FIFO would block the scan; a device is not music. */
            char why[96];
            snprintf(why, sizeof why, "%s, not a regular file: skipped", gs_file_kind_name(st.st_mode));
            warn(o, path, why);
        }
        free(path);
        free(r);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const gs_walk_entry *)a)->path, ((const gs_walk_entry *)b)->path);
}

gs_status gs_walk(const char *const *roots, int num_roots, const gs_walk_options *opts,
                  gs_walk_list *out, gs_error *err)
{
    dir_set seen = {0};
    gs_status st = GS_OK;
    for (int i = 0; i < num_roots && st == GS_OK; i++) {
        struct stat sb;
        if (stat(roots[i], &sb) != 0) {
            st = gs_error_set(err, GS_ERR_IO, "%s: %s", roots[i], strerror(errno));
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (dir_set_insert(&seen, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino) < 0 ||
                walk_dir(roots[i], "", opts, &seen, out) < 0)
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory while listing files");
        } else if (S_ISREG(sb.st_mode)) {
            const char *base = strrchr(roots[i], '/');
            if (list_add(out, roots[i], base ? base + 1 : roots[i], &sb) < 0)
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory while listing files");
        } else {
            st = gs_error_set(err, GS_ERR_INVALID, "%s: not a file or directory", roots[i]);
        }
    }
    free(seen.keys);
    if (st != GS_OK)
        return st;
    qsort(out->entries, out->count, sizeof *out->entries, by_path);
    /* The same file reached through a symlink appears twice: keep one. */
    size_t w = 0;
    for (size_t r = 0; r < out->count; r++) {
        if (w > 0 && !strcmp(out->entries[w - 1].path, out->entries[r].path)) {
            free(out->entries[r].path);
            free(out->entries[r].rel);
            continue;
        }
        out->entries[w++] = out->entries[r];
    }
    out->count = w;
    return GS_OK;
}

void gs_walk_list_shard(gs_walk_list *list, int k, int n)
{
    if (n <= 1)
        return;
    size_t w = 0;
    for (size_t r = 0; r < list->count; r++) {
        if (gs_fnv1a64(GS_FNV1A64_INIT, list->entries[r].rel, strlen(list->entries[r].rel)) % (uint64_t)n == (uint64_t)(k - 1)) {
            list->entries[w++] = list->entries[r];
        } else {
            free(list->entries[r].path);
            free(list->entries[r].rel);
        }
    }
    list->count = w;
}

void gs_walk_list_free(gs_walk_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->entries[i].path);
        free(list->entries[i].rel);
    }
    free(list->entries);
    list->entries = NULL;
    list->count = list->capacity = 0;
}

int gs_walk_path_vanished(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR);
}
