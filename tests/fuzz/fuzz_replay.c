/* Replays inputs through a fuzz target without libFuzzer: every file named
 * on the command line (or found, one level deep, in a named folder) is
 * passed to LLVMFuzzerTestOneInput once. This is how ctest runs the seed
 * corpora and the kept reproducers in every build (the Sanitize build under
 * ASan+UBSan); scripts/fuzz.sh links the same targets with libFuzzer for
 * long runs instead. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    size_t n = 0;
    uint8_t *buf = gs_test_read_file(path, &n);
    if (!buf) {
        perror(path);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            errors++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            errors += run_file(argv[i]) != 0;
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                errors += run_file(path) != 0;
                count++;
            }
        }
        if (d)
            closedir(d);
    }
    printf("%s: %d inputs replayed, %d unreadable\n", argv[0], count, errors);
    return errors || count == 0 ? 1 : 0;
}
