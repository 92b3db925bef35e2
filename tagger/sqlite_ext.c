/* Loadable SQLite extension: genrescope_similarity(a, b), the cosine
 * similarity of two embedding BLOBs (float32, as in embeddings.vector), so
 * queries in the sqlite3 shell can rank by similarity:
 *   .load /usr/lib/genrescope/genrescope_sqlite
 *   SELECT t.path, genrescope_similarity(e.vector, (SELECT vector FROM
 *     embeddings WHERE track_id = 42)) AS sim FROM embeddings e JOIN tracks t
 *     ON t.id = e.track_id ORDER BY sim DESC LIMIT 10; */
#include <sqlite3ext.h>
#include <string.h>

#include "similarity.h"

SQLITE_EXTENSION_INIT1

static void similarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
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

/* Entry point named after the file (genrescope_sqlite.so), so `.load` finds
 * it without naming it. */
#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_genrescopesqlite_init(sqlite3 *db, char **errmsg, const sqlite3_api_routines *api)
{
    (void)errmsg;
    SQLITE_EXTENSION_INIT2(api);
    return sqlite3_create_function(db, "genrescope_similarity", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   similarity, NULL, NULL);
}
