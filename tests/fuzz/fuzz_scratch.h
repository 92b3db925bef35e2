/* A scratch folder per fuzz process (mkdtemp under $GS_TEST_TMP, $TMPDIR or
 * /tmp) for targets whose code under test needs a path, removed at exit. */
#ifndef GS_FUZZ_SCRATCH_H
#define GS_FUZZ_SCRATCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/files.h"
#include "support/tmpdir.h"

static char fuzz_scratch_dir[512];

static void fuzz_scratch_cleanup(void)
{
    if (fuzz_scratch_dir[0])
        gs_test_rmtree(fuzz_scratch_dir);
}

/* The scratch folder, created on first use; NULL if it cannot be. */
static const char *fuzz_scratch(void)
{
    if (fuzz_scratch_dir[0])
        return fuzz_scratch_dir;
    if (gs_test_tmpdir(fuzz_scratch_dir, sizeof fuzz_scratch_dir, "fuzz") != 0) {
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
    return gs_test_write_file(path, data, size) == 0 ? path : NULL;
}

#endif
