/* Loadable SQLite extension: genrescope_similarity(a, b), the cosine
 * similarity of two embedding BLOBs (float32, as in embeddings.vector), so
 * queries in the sqlite3 shell can rank by similarity:
 *   .load /usr/lib/genrescope/genrescope_sqlite
 *   SELECT t.path, genrescope_similarity(e.vector, (SELECT vector FROM
 *     embeddings WHERE track_id = 42)) AS sim FROM embeddings e JOIN tracks t
 *     ON t.id = e.track_id ORDER BY sim DESC LIMIT 10; */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "similarity_sql.h"

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
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, gs_sql_similarity, NULL,
                                   NULL);
}
