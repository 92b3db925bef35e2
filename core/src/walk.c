/* Finding the audio files under a set of folders (genrescope/walk.h): the
 * one walker behind the tagger's scan and the trainer's datasets. */
#include "genrescope/walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "genrescope/audio.h"
#include "genrescope/outfile.h"

/* Folders a music library never means: OS and NAS metadata. */
static const char *const system_dirs[] = {
    "lost+found", "System Volume Information", "$RECYCLE.BIN", "@eaDir", "#recycle",
};

int gs_walk_skips_name(const char *name, int include_hidden)
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

/* Visited directories as (dev, ino) in an open-addressing set: a library
 * has tens of thousands of folders, and each is looked up once. */
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

/* 1 when inserted, 0 when already there, -1 out of memory. */
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

/* A folder reached through a symlink, entered only after every real
 * folder under the roots: a folder reachable both ways is then named by
 * its real path, not by whichever link sorts first. */
typedef struct pending_dir {
    char *path, *rel;
} pending_dir;

typedef struct walker {
    const gs_walk_options *o;
    dir_set seen;
    gs_walk_list *out;
    pending_dir *pending;
    size_t num_pending, pending_cap;
} walker;

/* items, or a larger copy of it, with room for element count (each size
 * bytes; the capacity *cap doubles, from first). NULL out of memory, items
 * then untouched. */
static void *grow(void *items, size_t count, size_t *cap, size_t size, size_t first)
{
    if (count < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : first;
    void *n = realloc(items, ncap * size);
    if (n)
        *cap = ncap;
    return n;
}

static int defer_dir(walker *w, char *path, char *rel)
{
    pending_dir *np = grow(w->pending, w->num_pending, &w->pending_cap, sizeof *np, 16);
    if (!np)
        return -1;
    w->pending = np;
    w->pending[w->num_pending++] = (pending_dir){path, rel};
    return 0;
}

static int list_add(walker *w, const char *path, const char *rel, const struct stat *st)
{
    gs_walk_list *l = w->out;
    gs_walk_entry *ne = grow(l->entries, l->count, &l->capacity, sizeof *ne, 256);
    if (!ne)
        return -1;
    l->entries = ne;
    gs_walk_entry *e = &l->entries[l->count];
    char *canon = w->o->canonical_paths ? realpath(path, NULL) : NULL;
    /* realpath fails when a folder on the way lost its permission since
     * it was listed: the name as reached still identifies the file. */
    e->path = canon ? canon : strdup(path);
    e->rel = strdup(rel);
    if (!e->path || !e->rel) {
        free(e->path);
        free(e->rel);
        return -1;
    }
    e->size = (int64_t)st->st_size;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    l->count++;
    return 0;
}

static void warn(const walker *w, const char *path, const char *reason)
{
    if (w->o->warn)
        w->o->warn(w->o->user, path, reason);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted; NULL with *n = 0 and errno set when it cannot
 * be read, NULL with *n = (size_t)-1 out of memory. Visiting names in
 * order, not readdir's, makes the route by which a folder reached twice is
 * named (and so each file's rel, which shards hash) the same on every
 * file system; and no folder stays open while its subfolders are walked. */
static char **read_names(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char **nn = grow(names, *n, &cap, sizeof *nn, 32);
        if (!nn)
            goto oom;
        names = nn;
        if (!(names[*n] = strdup(de->d_name)))
            goto oom;
        (*n)++;
    }
    closedir(d);
    if (!names && !(names = malloc(1))) { /* an empty listing still is one */
        *n = (size_t)-1;
        return NULL;
    }
    qsort(names, *n, sizeof *names, by_name);
    return names;
oom:
    closedir(d);
    for (size_t i = 0; i < *n; i++)
        free(names[i]);
    free(names);
    *n = (size_t)-1;
    return NULL;
}

/* 0, or -1 out of memory (the only failure that stops a walk). */
static int walk_dir(walker *w, const char *dir, const char *rel)
{
    size_t num_names;
    char **names = read_names(dir, &num_names);
    if (!names) {
        if (num_names == (size_t)-1)
            return -1;
        warn(w, dir, strerror(errno));
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < num_names && rc == 0; i++) {
        const char *name = names[i];
        if (w->o->skip && w->o->skip(w->o->user, dir, name))
            continue;
        if (gs_walk_skips_name(name, w->o->include_hidden))
            continue;
        size_t need = strlen(dir) + strlen(name) + 2;
        size_t rneed = strlen(rel) + strlen(name) + 2;
        char *path = malloc(need), *r = malloc(rneed);
        if (!path || !r) {
            free(path);
            free(r);
            rc = -1;
            break;
        }
        snprintf(path, need, "%s/%s", dir, name);
        snprintf(r, rneed, "%s%s%s", rel, *rel ? "/" : "", name);
        struct stat st;
        if (stat(path, &st) != 0) {
            /* Dangling symlink or an entry removed since it was listed. */
            warn(w, path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            struct stat ls;
            if (lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode)) {
                if ((rc = defer_dir(w, path, r)) == 0)
                    path = r = NULL; /* owned by the pending list now */
            } else {
                int fresh = dir_set_insert(&w->seen, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
                if (fresh < 0)
                    rc = -1;
                else if (fresh)
                    rc = walk_dir(w, path, r);
            }
        } else if (S_ISREG(st.st_mode) && gs_audio_is_audio_name(name)) {
            rc = list_add(w, path, r, &st);
        } else if (!S_ISREG(st.st_mode) && gs_audio_is_audio_name(name)) {
            /* Opening a FIFO would block the reader; a device is not music. */
            char why[96];
            snprintf(why, sizeof why, "%s, not a regular file: skipped", gs_file_kind_name(st.st_mode));
            warn(w, path, why);
        }
        free(path);
        free(r);
    }
    for (size_t i = 0; i < num_names; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const gs_walk_entry *)a)->path, ((const gs_walk_entry *)b)->path);
}

static int by_identity(const void *a, const void *b)
{
    const gs_walk_entry *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return strcmp(x->path, y->path);
}

static void drop(gs_walk_entry *e)
{
    free(e->path);
    free(e->rel);
}

/* Sorts from..count by path and keeps one entry per path, or (one name per
 * file) one per identity, the first in path order. Entries before from,
 * from an earlier call, are left alone. */
static void sort_and_dedupe(gs_walk_list *l, size_t from, int one_name_per_file)
{
    gs_walk_entry *e = l->entries + from;
    size_t n = l->count - from, w = 0;
    if (n < 2)
        return;
    if (one_name_per_file) {
        qsort(e, n, sizeof *e, by_identity);
        for (size_t r = 0; r < n; r++) {
            if (w > 0 && e[w - 1].dev == e[r].dev && e[w - 1].ino == e[r].ino)
                drop(&e[r]);
            else
                e[w++] = e[r];
        }
        n = w;
        w = 0;
    }
    qsort(e, n, sizeof *e, by_path);
    for (size_t r = 0; r < n; r++) {
        if (w > 0 && !strcmp(e[w - 1].path, e[r].path))
            drop(&e[r]);
        else
            e[w++] = e[r];
    }
    l->count = from + w;
}

gs_status gs_walk(const char *const *roots, int num_roots, const gs_walk_options *opts, gs_walk_list *out,
                  gs_error *err)
{
    static const gs_walk_options defaults = {0};
    walker w = {.o = opts ? opts : &defaults, .out = out};
    size_t from = out->count;
    gs_status st = GS_OK;
    for (int i = 0; i < num_roots && st == GS_OK; i++) {
        struct stat sb;
        if (stat(roots[i], &sb) != 0) {
            st = gs_error_set_errno(err, errno, "%s", roots[i]);
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (dir_set_insert(&w.seen, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino) < 0 || walk_dir(&w, roots[i], "") < 0)
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory while listing files");
        } else if (S_ISREG(sb.st_mode)) {
            const char *base = strrchr(roots[i], '/');
            if (list_add(&w, roots[i], base ? base + 1 : roots[i], &sb) < 0)
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory while listing files");
        } else {
            st = gs_error_set(err, GS_ERR_INVALID, "%s: not a file or directory", roots[i]);
        }
    }
    /* Linked folders in the order met; entering one may defer more. */
    for (size_t i = 0; i < w.num_pending; i++) {
        pending_dir *p = &w.pending[i];
        struct stat sb;
        if (st == GS_OK && stat(p->path, &sb) == 0) {
            int fresh = dir_set_insert(&w.seen, (uint64_t)sb.st_dev, (uint64_t)sb.st_ino);
            if (fresh < 0 || (fresh && walk_dir(&w, p->path, p->rel) < 0))
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory while listing files");
        } else if (st == GS_OK) {
            warn(&w, p->path, strerror(errno)); /* gone since it was listed */
        }
        p = &w.pending[i]; /* walk_dir may have moved the array */
        free(p->path);
        free(p->rel);
    }
    free(w.pending);
    free(w.seen.keys);
    if (st == GS_OK)
        sort_and_dedupe(out, from, w.o->one_name_per_file);
    return st;
}

void gs_walk_list_free(gs_walk_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        drop(&list->entries[i]);
    free(list->entries);
    list->entries = NULL;
    list->count = list->capacity = 0;
}
