/* Fuzz target: the index readers on a damaged database file: open it
 * read-only, look tracks up, load embeddings. SQLite refuses what it cannot
 * read; what it reads, our code must survive (wrong types, NaN, blobs of
 * the wrong size, absurd dimensions). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_scratch.h"
#include "index_db.h"
#include "index_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("index.sqlite", data, size);
    if (!path)
        return 0;
    gs_error err;
    gs_index *ix = gs_index_open(path, GS_INDEX_READ_ONLY, 0, &err);
    if (!ix)
        return 0;
    for (int64_t id = 1; id <= 3; id++) {
        gs_track_row row = {0};
        if (gs_index_track_by_id(ix, id, &row, &err) == GS_OK) {
            float *vec = NULL;
            size_t dim = 0;
            if (gs_index_track_embedding(ix, row.id, &vec, &dim, &err) == GS_OK)
                free(vec);
        }
        gs_track_row_clear(&row);
    }
    gs_embedding_set set = {0};
    size_t other = 0;
    if (gs_embedding_set_load_model(ix, NULL, "m", &set, &other, &err) == GS_OK)
        gs_embedding_set_free(&set);
    gs_index_close(ix);
    return 0;
}
