/* Each test's own scratch folder. Tests run as root and in parallel, so a
 * test writes only inside a folder it made with mkdtemp, never at a fixed
 * name in a shared directory, and removes it without following symlinks. */
#ifndef GS_TEST_TMPDIR_H
#define GS_TEST_TMPDIR_H

#include <stddef.h>

/* Makes BASE/PREFIX.XXXXXX, BASE being $GS_TEST_TMP, else $TMPDIR, else
 * /tmp, and puts its path in out. 0 on success; -1 after printing why. */
int gs_test_tmpdir(char *out, size_t size, const char *prefix);

/* Removes dir and everything under it; symlinks are removed, not followed,
 * and no other filesystem is entered. 0 on success, -1 otherwise. */
int gs_test_rmtree(const char *dir);

#endif
