/* A scratch folder per fuzz process (mkdtemp under $GS_TEST_TMP, $TMPDIR or
 * /tmp) for targets whose code under test needs a path, removed at exit. */
#ifndef GS_FUZZ_SCRATCH_H
#define GS_FUZZ_SCRATCH_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_scratch_dir[512];

static int fuzz_remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void fuzz_scratch_cleanup(void)
{
    if (fuzz_scratch_dir[0])
        nftw(fuzz_scratch_dir, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch folder, created on first use; NULL if it cannot be. */
static const char *fuzz_scratch(void)
{
    if (fuzz_scratch_dir[0])
        return fuzz_scratch_dir;
    const char *base = getenv("GS_TEST_TMP");
    if (!base || !base[0])
        base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    snprintf(fuzz_scratch_dir, sizeof fuzz_scratch_dir, "%s/fuzz.XXXXXX", base);
    if (!mkdtemp(fuzz_scratch_dir)) {
        fuzz_scratch_dir[0] = '\0';
        return NULL;
    }
    atexit(fuzz_scratch_cleanup);
    return fuzz_scratch_dir;
}

/* Writes data to scratch/name; returns the path (static buffer) or NULL. */
static const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[1024];
    const char *dir = fuzz_scratch();
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    int ok = fwrite(data, 1, size, f) == size;
    ok = fclose(f) == 0 && ok;
    return ok ? path : NULL;
}

#endif
