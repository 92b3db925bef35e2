/* The SQL function genrescope_similarity(a, b): cosine similarity of two
 * float32 embedding BLOBs. Defined once here and included by the index
 * (registered on its own connection) and by the loadable extension, which
 * must compile it against sqlite3ext.h's API table instead of the library;
 * include it after the matching SQLite header. NULL when either argument is
 * not a BLOB; an error when their sizes differ. */
#ifndef GS_TAGGER_SIMILARITY_SQL_H
#define GS_TAGGER_SIMILARITY_SQL_H

#include <string.h>

#include "similarity.h"

static void gs_sql_similarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || sqlite3_value_type(argv[1]) != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    int na = sqlite3_value_bytes(argv[0]), nb = sqlite3_value_bytes(argv[1]);
    if (na != nb || na % 4) {
        sqlite3_result_error(ctx, "genrescope_similarity: embeddings of different sizes", -1);
        return;
    }
    size_t n = (size_t)na / 4;
    /* Copy out: BLOB memory is not guaranteed float-aligned. */
    float *buf = sqlite3_malloc64(n ? 2 * n * sizeof(float) : 1);
    if (!buf) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    memcpy(buf, sqlite3_value_blob(argv[0]), n * 4);
    memcpy(buf + n, sqlite3_value_blob(argv[1]), n * 4);
    sqlite3_result_double(ctx, gs_cosine(buf, buf + n, n));
    sqlite3_free(buf);
}

#endif
