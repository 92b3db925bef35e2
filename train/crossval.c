/* Train/validation splits (crossval.h): stratified k-fold in contiguous runs
 * or seeded and shuffled, and the
 * split read from train.txt / valid.txt lists matched by file stem. */
#include "crossval.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Both layouts need 2 <= k <= items. */
static gs_status check_fold_count(const gs_dataset *ds, int k, gs_error *err)
{
    if (k < 2 || k > ds->num_items)
        return gs_error_set(err, GS_ERR_INVALID, "cannot make %d folds from %d files", k, ds->num_items);
    return GS_OK;
}

gs_status gs_stratified_folds(const gs_dataset *ds, int k, uint64_t seed, int *fold, gs_error *err)
{
    gs_status st = check_fold_count(ds, k, err);
    if (st != GS_OK)
        return st;
    int *idx = malloc((size_t)ds->num_items * sizeof *idx);
    if (!idx)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    int next = 0;
    for (int l = 0; l < ds->num_labels; l++) {
        int n = 0;
        for (int i = 0; i < ds->num_items; i++)
            if (ds->items[i].label == l)
                idx[n++] = i;
        gs_rng_shuffle(&rng, idx, n);
        for (int j = 0; j < n; j++) {
            fold[idx[j]] = next;
            next = (next + 1) % k;
        }
    }
    free(idx);
    return GS_OK;
}

gs_status gs_contiguous_folds(const gs_dataset *ds, int k, int *fold, gs_error *err)
{
    gs_status st = check_fold_count(ds, k, err);
    if (st != GS_OK)
        return st;
    int start = 0;
    for (int l = 0; l < ds->num_labels; l++) {
        int n = 0;
        for (int i = 0; i < ds->num_items; i++)
            n += ds->items[i].label == l;
        /* The first n % k runs are one item longer; the fold after the last
         * longer run starts the next label, as round-robin dealing would. */
        int run = 0, in_run = 0, run_length = n / k + (n % k > 0);
        for (int i = 0; i < ds->num_items; i++) {
            if (ds->items[i].label != l)
                continue;
            if (in_run == run_length) {
                run++;
                in_run = 0;
                run_length = n / k + (run < n % k);
            }
            fold[i] = (start + run) % k;
            in_run++;
        }
        start = (start + n % k) % k;
    }
    return GS_OK;
}

/* Stem of a list entry: the base name, minus an audio extension if any
 * ("blues.00012" has no extension to strip; "blues.00012.wav" does). */
static void entry_stem(const char *line, char *out, size_t n)
{
    const char *base = strrchr(line, '/');
    snprintf(out, n, "%s", base ? base + 1 : line);
    if (gs_audio_is_audio_name(out))
        *strrchr(out, '.') = '\0';
}

static gs_status mark(const gs_dataset *ds, const char *list, int value, int *fold, int *missing, gs_error *err)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return gs_error_set(err, GS_ERR_IO, "cannot open %s: %s", list, strerror(errno));
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (!s[0] || s[0] == '#')
            continue;
        char stem[4096];
        entry_stem(s, stem, sizeof stem);
        int i = gs_dataset_find_stem(ds, stem);
        if (i < 0) {
            (*missing)++;
            continue;
        }
        if (fold[i] >= 0 && fold[i] != value) {
            fclose(f);
            return gs_error_set(err, GS_ERR_FORMAT, "%s is in both the train and the valid list", stem);
        }
        fold[i] = value;
    }
    fclose(f);
    return GS_OK;
}

gs_status gs_split_from_lists(const gs_dataset *ds, const char *train_list, const char *valid_list, int *fold,
                              int *missing, gs_error *err)
{
    for (int i = 0; i < ds->num_items; i++)
        fold[i] = -1;
    *missing = 0;
    gs_status st = mark(ds, train_list, 0, fold, missing, err);
    if (st == GS_OK)
        st = mark(ds, valid_list, 1, fold, missing, err);
    if (st != GS_OK)
        return st;
    int n[2] = {0, 0};
    for (int i = 0; i < ds->num_items; i++)
        if (fold[i] >= 0)
            n[fold[i]]++;
    if (!n[0] || !n[1])
        return gs_error_set(err, GS_ERR_INVALID, "split lists match %d training and %d validation files", n[0], n[1]);
    return GS_OK;
}
