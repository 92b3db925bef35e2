/* Fuzz target: genres.conf parsing, then every display-name lookup. */
#include <stdint.h>
#include <string.h>

#include "fuzz_scratch.h"
#include "genre_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("genres.conf", data, size);
    if (!path)
        return 0;
    gs_error err;
    gs_genre_names_reset();
    (void)gs_genre_names_load(path, 1, &err);
    static const char *const labels[] = {"jazz", "hiphop", "notmusic", "", "x"};
    char out[64];
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        gs_genre_display_name(labels[i], out, sizeof out);
        if (!memchr(out, '\0', sizeof out))
            __builtin_trap();
    }
    gs_genre_names_reset();
    return 0;
}
