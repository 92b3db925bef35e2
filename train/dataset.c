/* Labelled audio collections (dataset.h): listing a label-folder tree, a
 * "path,label" list, or genre tags (through the tag reader the tagger uses
 * too, tags/tag_read.h), with labels sorted so the same data gives the same
 * indices. Which names count as audio is the core's list
 * (gs_audio_is_audio_name). */
#include "dataset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "genrescope/text.h"
#include "genrescope/walk.h"
#include "tag_read.h"

static char *make_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *stem = strdup(base);
    if (!stem)
        return NULL;
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    return stem;
}

static int find_label(const gs_dataset *ds, const char *label)
{
    for (int i = 0; i < ds->num_labels; i++)
        if (!strcmp(ds->labels[i], label))
            return i;
    return -1;
}

/* Labels are interned in arrival order here and sorted at the end
 * (finish_labels), so indices do not depend on directory order. */
static gs_status add_item(gs_dataset *ds, const char *path, const char *label, gs_error *err)
{
    if (!label[0])
        return gs_error_set(err, GS_ERR_FORMAT, "%s: empty label", path);
    if (strlen(label) >= GS_MAX_LABEL_LENGTH)
        return gs_error_set(err, GS_ERR_INVALID, "label '%.40s...' longer than %d characters", label,
                            GS_MAX_LABEL_LENGTH - 1);
    int l = find_label(ds, label);
    if (l < 0) {
        if (ds->num_labels >= GS_MAX_LABELS)
            return gs_error_set(err, GS_ERR_INVALID, "more than %d labels (at '%s')", GS_MAX_LABELS, label);
        l = ds->num_labels++;
        strcpy(ds->labels[l], label);
    }
    if (ds->num_items == ds->capacity) {
        int cap = ds->capacity ? ds->capacity * 2 : 64;
        gs_item *items = realloc(ds->items, (size_t)cap * sizeof *items);
        if (!items)
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory listing files");
        ds->items = items;
        ds->capacity = cap;
    }
    gs_item *it = &ds->items[ds->num_items];
    it->path = strdup(path);
    it->stem = make_stem(path);
    it->label = l;
    if (!it->path || !it->stem) {
        free(it->path);
        free(it->stem);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory listing files");
    }
    ds->num_items++;
    return GS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const gs_item *)a)->path, ((const gs_item *)b)->path);
}

static void finish_labels(gs_dataset *ds)
{
    char old[GS_MAX_LABELS][GS_MAX_LABEL_LENGTH];
    memcpy(old, ds->labels, sizeof old);
    qsort(ds->labels, (size_t)ds->num_labels, GS_MAX_LABEL_LENGTH, cmp_str);
    for (int i = 0; i < ds->num_items; i++)
        ds->items[i].label = find_label(ds, old[ds->items[i].label]);
    qsort(ds->items, (size_t)ds->num_items, sizeof *ds->items, cmp_item);
}

/* Listing a folder's audio files: the core's walker (genrescope/walk.h),
 * each file once whatever the symlinks or hard links: a clip reached by
 * two names would otherwise be two examples, and a clip in two folds leaks
 * between training and validation. An entry that cannot be read is
 * reported and counted, and the rest of the data is still used. */
typedef struct listing {
    FILE *warn;
    const char *root;
    int root_must_open;
    char root_error[256]; /* why root itself could not be opened; "" if it could */
    int unreadable;
} listing;

static void on_unreadable(void *user, const char *path, const char *reason)
{
    listing *l = user;
    if (l->root_must_open && !strcmp(path, l->root)) {
        snprintf(l->root_error, sizeof l->root_error, "%s", reason);
        return;
    }
    l->unreadable++;
    if (l->warn)
        fprintf(l->warn, "warning: cannot use %s: %s\n", path, reason);
}

/* Appends the audio files below dir to files (sorted by path). dir must be
 * a folder; when root_must_open, one that cannot be opened is GS_ERR_IO,
 * else it is reported on warn like any unreadable entry. Unreadable
 * entries are added to *unreadable. */
static gs_status list_audio(const char *dir, int root_must_open, FILE *warn, int *unreadable, gs_walk_list *files,
                            gs_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return gs_error_set_errno(err, errno, "cannot read folder %s", dir);
    if (!S_ISDIR(sb.st_mode))
        return gs_error_set_errno(err, ENOTDIR, "cannot read folder %s", dir);
    listing l = {.warn = warn, .root = dir, .root_must_open = root_must_open};
    gs_walk_options o = {.one_name_per_file = 1, .warn = on_unreadable, .user = &l};
    gs_status st = gs_walk(&dir, 1, &o, files, err);
    if (st == GS_OK && l.root_error[0])
        st = gs_error_set(err, GS_ERR_IO, "cannot read folder %s: %s", dir, l.root_error);
    *unreadable += l.unreadable;
    return st;
}

static void report_unreadable(FILE *warn, int unreadable, const char *root)
{
    if (warn && unreadable > 0)
        fprintf(warn, "warning: %d unreadable file(s) or folder(s) under %s left out of the data\n", unreadable, root);
}

static void strip_trailing_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
}

gs_status gs_dataset_from_folder(gs_dataset *ds, const char *root_in, FILE *warn, gs_error *err)
{
    memset(ds, 0, sizeof *ds);
    char root[4096];
    snprintf(root, sizeof root, "%s", root_in);
    strip_trailing_slashes(root);
    DIR *d = opendir(root);
    if (!d)
        return gs_error_set(err, GS_ERR_IO, "cannot read folder %s: %s", root, strerror(errno));
    char names[GS_MAX_LABELS * 4][GS_MAX_LABEL_LENGTH];
    int num_names = 0;
    struct dirent *e;
    gs_status st = GS_OK;
    while ((e = readdir(d))) {
        if (gs_walk_skips_name(e->d_name, 0))
            continue;
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%s", root, e->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (strlen(e->d_name) >= GS_MAX_LABEL_LENGTH) {
            st = gs_error_set(err, GS_ERR_INVALID, "folder name '%s' is too long for a label", e->d_name);
            break;
        }
        if (num_names == (int)(sizeof names / sizeof names[0])) {
            st = gs_error_set(err, GS_ERR_INVALID, "too many label folders in %s (max %d)", root, GS_MAX_LABELS);
            break;
        }
        strcpy(names[num_names++], e->d_name);
    }
    closedir(d);
    if (st != GS_OK)
        return st;
    qsort(names, (size_t)num_names, GS_MAX_LABEL_LENGTH, cmp_str);
    for (int i = 0; i < num_names && st == GS_OK; i++) {
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%.63s", root, names[i]);
        gs_walk_list files = {0};
        st = list_audio(p, 0, warn, &ds->unreadable, &files, err);
        if (st == GS_OK && files.count == 0 && warn)
            fprintf(warn, "warning: label folder '%s' has no audio files; ignored\n", p);
        for (size_t f = 0; f < files.count && st == GS_OK; f++)
            st = add_item(ds, files.entries[f].path, names[i], err);
        gs_walk_list_free(&files);
    }
    if (st == GS_OK)
        report_unreadable(warn, ds->unreadable, root);
    if (st == GS_OK && ds->num_items == 0)
        st = gs_error_set(err, GS_ERR_INVALID,
                          "no audio files in %s: expected %s/<label>/<file> (wav, flac, mp3, ogg, opus, m4a...)", root,
                          root);
    if (st != GS_OK) {
        gs_dataset_free(ds);
        return st;
    }
    finish_labels(ds);
    return GS_OK;
}

gs_status gs_dataset_add_folder(gs_dataset *ds, const char *dir, const char *label, int *added, gs_error *err)
{
    if (added)
        *added = 0;
    if (find_label(ds, label) >= 0)
        return gs_error_set(err, GS_ERR_INVALID, "the data already has a label '%s'", label);
    char root[4096];
    snprintf(root, sizeof root, "%s", dir);
    strip_trailing_slashes(root);
    gs_walk_list files = {0};
    int unreadable = 0;
    gs_status st = list_audio(root, 1, stderr, &unreadable, &files, err);
    if (st == GS_OK && files.count == 0)
        st = gs_error_set(err, GS_ERR_INVALID, "no audio files in %s", root);
    for (size_t f = 0; f < files.count && st == GS_OK; f++)
        st = add_item(ds, files.entries[f].path, label, err);
    if (st == GS_OK) {
        if (added)
            *added = (int)files.count;
        ds->unreadable += unreadable;
        report_unreadable(stderr, unreadable, root);
    }
    gs_walk_list_free(&files);
    return st;
}

/* A "path,label" field: trimmed, and one pair of double quotes around it
 * removed (spreadsheets quote fields). */
static char *trim(char *s)
{
    s = gs_text_trim(s);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

gs_status gs_dataset_from_csv(gs_dataset *ds, const char *csv_path, const char *const *allowed, int num_allowed,
                              gs_error *err)
{
    memset(ds, 0, sizeof *ds);
    FILE *f = fopen(csv_path, "r");
    if (!f)
        return gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", csv_path, strerror(errno));
    char base[4096];
    snprintf(base, sizeof base, "%s", csv_path);
    char *slash = strrchr(base, '/');
    if (slash)
        slash[1] = '\0';
    else
        base[0] = '\0';
    char line[8192];
    int lineno = 0;
    gs_status st = GS_OK;
    while (st == GS_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!s[0] || s[0] == '#')
            continue;
        /* The label is after the last comma, so paths may contain commas. */
        char *comma = strrchr(s, ',');
        if (!comma) {
            st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: expected 'path,label'", csv_path, lineno);
            break;
        }
        *comma = '\0';
        char *path = trim(s), *label = trim(comma + 1);
        if (lineno == 1 && !strcasecmp(path, "path") && !strcasecmp(label, "label"))
            continue;
        if (!path[0] || !label[0]) {
            st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: empty path or label", csv_path, lineno);
            break;
        }
        if (num_allowed > 0) {
            int ok = 0;
            for (int i = 0; i < num_allowed && !ok; i++)
                ok = !strcmp(allowed[i], label);
            if (!ok) {
                st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: unknown label '%s' (the model knows %d labels: %s%s)",
                                  csv_path, lineno, label, num_allowed, allowed[0], num_allowed > 1 ? ", ..." : "");
                break;
            }
        }
        char full[8192 + 4096];
        if (path[0] == '/')
            snprintf(full, sizeof full, "%s", path);
        else
            snprintf(full, sizeof full, "%s%s", base, path);
        st = add_item(ds, full, label, err);
        if (st != GS_OK)
            gs_error_prefix(err, csv_path);
    }
    fclose(f);
    if (st == GS_OK && ds->num_items == 0)
        st = gs_error_set(err, GS_ERR_INVALID, "%s lists no files", csv_path);
    if (st != GS_OK) {
        gs_dataset_free(ds);
        return st;
    }
    finish_labels(ds);
    return GS_OK;
}

/* The one label a file's genre tag gives, in label (lower case, trimmed,
 * at most GS_MAX_LABEL_LENGTH - 1 bytes): 1, or 0 when the file has no
 * genre, or the number of different genres when it has several (after
 * normalising, so "Rock; rock" is one). */
static int tag_label(char **genres, int count, char label[GS_MAX_LABEL_LENGTH])
{
    int distinct = 0;
    label[0] = '\0';
    for (int g = 0; g < count; g++) {
        char buf[GS_MAX_LABEL_LENGTH * 4];
        snprintf(buf, sizeof buf, "%s", genres[g]);
        char *l = trim(buf);
        for (char *c = l; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (strlen(l) >= GS_MAX_LABEL_LENGTH)
            l[GS_MAX_LABEL_LENGTH - 1] = '\0';
        if (!l[0] || (distinct && !strcmp(l, label)))
            continue;
        if (!distinct)
            snprintf(label, GS_MAX_LABEL_LENGTH, "%s", l);
        distinct++;
    }
    return distinct;
}

gs_status gs_dataset_from_tags(gs_dataset *ds, const char *root_in, int *untagged, FILE *warn, gs_error *err)
{
    memset(ds, 0, sizeof *ds);
    *untagged = 0;
    char root[4096];
    snprintf(root, sizeof root, "%s", root_in);
    strip_trailing_slashes(root);
    gs_walk_list files = {0};
    gs_status st = list_audio(root, 1, warn, &ds->unreadable, &files, err);
    for (size_t i = 0; i < files.count && st == GS_OK; i++) {
        const char *path = files.entries[i].path;
        char **genres = NULL;
        int count = 0;
        int rc = gs_tag_read_genres(path, &genres, &count);
        if (rc == -2) {
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory reading the tags of %s", path);
            break;
        }
        if (rc != 0 && warn)
            fprintf(warn, "warning: cannot read tags of %s; skipped\n", path);
        char label[GS_MAX_LABEL_LENGTH];
        int distinct = tag_label(genres, count, label);
        gs_tag_genres_free(genres, count);
        if (distinct == 0)
            (*untagged)++;
        else if (distinct > 1)
            ds->multi_genre++;
        else
            st = add_item(ds, path, label, err);
    }
    gs_walk_list_free(&files);
    if (st == GS_OK) {
        report_unreadable(warn, ds->unreadable, root);
        if (warn && ds->multi_genre)
            fprintf(warn, "note: %d file(s) with several genres are not used: one example, one label\n",
                    ds->multi_genre);
    }
    if (st == GS_OK && ds->num_items == 0)
        st = ds->multi_genre
            ? gs_error_set(err, GS_ERR_INVALID,
                           "no audio file under %s has exactly one genre (%d untagged, %d with several)", root,
                           *untagged, ds->multi_genre)
            : gs_error_set(err, GS_ERR_INVALID, "no audio file under %s has a genre tag (%d untagged)", root,
                           *untagged);
    if (st != GS_OK) {
        gs_dataset_free(ds);
        return st;
    }
    finish_labels(ds);
    return GS_OK;
}

void gs_dataset_counts(const gs_dataset *ds, int *counts)
{
    memset(counts, 0, (size_t)ds->num_labels * sizeof *counts);
    for (int i = 0; i < ds->num_items; i++)
        counts[ds->items[i].label]++;
}

gs_status gs_dataset_check_trainable(const gs_dataset *ds, int min_per_label, gs_error *err)
{
    int counts[GS_MAX_LABELS];
    gs_dataset_counts(ds, counts);
    int usable = 0;
    char few[256] = "";
    for (int l = 0; l < ds->num_labels; l++) {
        if (counts[l] >= min_per_label) {
            usable++;
        } else {
            size_t n = strlen(few);
            snprintf(few + n, sizeof few - n, "%s%s (%d)", n ? ", " : "", ds->labels[l], counts[l]);
        }
    }
    if (ds->num_labels < 2)
        return gs_error_set(err, GS_ERR_INVALID, "need at least 2 labels to train a classifier, found %d (%s)",
                            ds->num_labels, ds->num_labels ? ds->labels[0] : "none");
    if (usable < ds->num_labels)
        return gs_error_set(err, GS_ERR_INVALID, "every label needs at least %d examples; too few: %s", min_per_label,
                            few);
    return GS_OK;
}

gs_status gs_dataset_remap(gs_dataset *ds, const char *const *labels, int num_labels, int *dropped, gs_error *err)
{
    if (num_labels > GS_MAX_LABELS)
        return gs_error_set(err, GS_ERR_INVALID, "too many labels");
    int map[GS_MAX_LABELS];
    for (int l = 0; l < ds->num_labels; l++) {
        map[l] = -1;
        for (int j = 0; j < num_labels; j++)
            if (!strcmp(ds->labels[l], labels[j]))
                map[l] = j;
    }
    int kept = 0;
    *dropped = 0;
    for (int i = 0; i < ds->num_items; i++) {
        int m = map[ds->items[i].label];
        if (m < 0) {
            free(ds->items[i].path);
            free(ds->items[i].stem);
            (*dropped)++;
            continue;
        }
        ds->items[kept] = ds->items[i];
        ds->items[kept++].label = m;
    }
    ds->num_items = kept;
    ds->num_labels = num_labels;
    for (int j = 0; j < num_labels; j++)
        snprintf(ds->labels[j], GS_MAX_LABEL_LENGTH, "%s", labels[j]);
    if (kept == 0)
        return gs_error_set(err, GS_ERR_INVALID, "none of the examples has a label the model knows");
    return GS_OK;
}

int gs_dataset_find_stem(const gs_dataset *ds, const char *stem)
{
    for (int i = 0; i < ds->num_items; i++)
        if (!strcmp(ds->items[i].stem, stem))
            return i;
    return -1;
}

void gs_dataset_free(gs_dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->num_items; i++) {
        free(ds->items[i].path);
        free(ds->items[i].stem);
    }
    free(ds->items);
    memset(ds, 0, sizeof *ds);
}
