/* Per-test mkdtemp scratch folders and their symlink-safe removal (tmpdir.h). */
#include "support/tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int gs_test_tmpdir(char *out, size_t size, const char *prefix)
{
    const char *base = getenv("GS_TEST_TMP");
    if (!base || !base[0])
        base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    /* CTest's GS_TEST_TMP is made at configure time; a build tree cleaned
     * by hand may have lost it. */
    mkdir(base, 0755);
    int n = snprintf(out, size, "%s/%s.XXXXXX", base, prefix);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "temporary directory name too long: %s/%s\n", base, prefix);
        return -1;
    }
    if (!mkdtemp(out)) {
        fprintf(stderr, "mkdtemp %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    if (remove(path) != 0) {
        fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int gs_test_rmtree(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 ? 0 : -1;
}
