/* A benchmark's scratch space: a directory it creates itself (mkdtemp under
 * BASE, default $TMPDIR or /tmp) and removes when done. Benchmarks run as
 * root on shared machines, so they write nowhere else. */
#ifndef GS_BENCH_TMP_H
#define GS_BENCH_TMP_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates BASE/NAME.XXXXXX into out; 0 on success, -1 (message printed). */
static inline int bench_make_temp_dir(const char *base, const char *name, char *out, size_t size)
{
    if (!base || !base[0])
        base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    if (snprintf(out, size, "%s/%s.XXXXXX", base, name) >= (int)size || !mkdtemp(out)) {
        fprintf(stderr, "%s: cannot create a scratch folder under %s\n", name, base);
        return -1;
    }
    return 0;
}

static inline int bench_remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Removes the scratch folder and everything in it (never follows symlinks
 * out of it). 0 on success. */
static inline int bench_remove_temp_dir(const char *dir)
{
    return nftw(dir, bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
