/* Fuzz target: tagging a mutated file. TagLib parses it; when the write
 * does not succeed the file must be byte for byte what it was, and no
 * working copy may be left next to it. The first byte picks the format. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scratch.h"
#include "tag_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"t.mp3", "t.flac", "t.ogg", "t.opus", "t.m4a", "t.wav", "t.aiff", "t.mp4"};
    if (size < 1)
        return 0;
    const char *name = names[data[0] % 8];
    const char *path = fuzz_write_file(name, data + 1, size - 1);
    if (!path)
        return 0;
    const char *genres[] = {"Jazz", "Blues"};
    gs_tag_request req = {.genres = genres, .num_genres = 1 + (size & 1), .confidence = 0.75f};
    char msg[256];
    gs_tag_outcome o = gs_tag_write(path, &req, NULL, 0, msg, sizeof msg);
    if (o != GS_TAG_WRITTEN) {
        FILE *f = fopen(path, "rb");
        if (!f)
            abort();
        for (size_t i = 1; i < size; i++)
            if (fgetc(f) != data[i])
                abort(); /* a failed write changed the file */
        if (fgetc(f) != EOF)
            abort();
        fclose(f);
    }
    DIR *d = opendir(fuzz_scratch());
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, GS_TAG_TEMP_PREFIX, strlen(GS_TAG_TEMP_PREFIX)))
            abort(); /* a working copy was left behind */
    if (d)
        closedir(d);
    return 0;
}
