/* Typed reads of the index for the commands (index_read.h): no command
 * prepares SQL of its own. */
#include "index_read.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "genre_names.h"
#include "similarity.h"

static char *dup_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

void gs_track_row_clear(gs_track_row *row)
{
    free(row->path);
    free(row->top_genre);
    free(row->model_id);
    free(row->error);
    free(row->tag_status);
    free(row->format);
    free(row->file_genre);
    free(row->verdict);
    memset(row, 0, sizeof *row);
}

/* The track columns; file_genre exists from schema 5 on, verdict from 6
 * (read-only commands read older indexes as they are). */
static const char *track_columns(gs_index *ix)
{
    int v = gs_index_schema_version(ix);
    return v >= 6 ? "SELECT id, path, duration, top_genre, confidence, model_id, error, tag_status, format, "
                    "size, mtime_ns, analysed_at, file_genre, verdict FROM tracks "
        : v >= 5  ? "SELECT id, path, duration, top_genre, confidence, model_id, error, tag_status, format, "
                    "size, mtime_ns, analysed_at, file_genre, NULL FROM tracks "
                  : "SELECT id, path, duration, top_genre, confidence, model_id, error, tag_status, format, "
                    "size, mtime_ns, analysed_at, NULL, NULL FROM tracks ";
}

static void fill_row(sqlite3_stmt *s, gs_track_row *row)
{
    row->id = sqlite3_column_int64(s, 0);
    row->path = dup_col(s, 1);
    row->duration = sqlite3_column_double(s, 2);
    row->top_genre = dup_col(s, 3);
    row->confidence = (float)sqlite3_column_double(s, 4);
    row->model_id = dup_col(s, 5);
    row->error = dup_col(s, 6);
    row->tag_status = dup_col(s, 7);
    row->format = dup_col(s, 8);
    row->size = sqlite3_column_int64(s, 9);
    row->mtime_ns = sqlite3_column_int64(s, 10);
    row->analysed_at = sqlite3_column_int64(s, 11);
    row->file_genre = dup_col(s, 12);
    row->verdict = dup_col(s, 13);
}

static int lookup(gs_index *ix, const char *where, const char *text, int64_t id, gs_track_row *row)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s%s", track_columns(ix), where);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (text)
        sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        fill_row(s, row);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : (rc == SQLITE_DONE ? 0 : -1);
}

gs_status gs_index_find_track(gs_index *ix, const char *ref, gs_track_row *row, gs_error *err)
{
    memset(row, 0, sizeof *row);
    int digits = *ref != '\0';
    for (const char *p = ref; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    int rc = 0;
    if (digits)
        rc = lookup(ix, "WHERE id = ?1", NULL, strtoll(ref, NULL, 10), row);
    if (rc == 0) {
        char *canon = realpath(ref, NULL);
        rc = lookup(ix, "WHERE path = ?1", canon ? canon : ref, 0, row);
        free(canon);
    }
    if (rc < 0)
        return gs_index_error(ix, err, "cannot read");
    if (rc == 0)
        return gs_error_set(err, GS_ERR_INVALID, "%s is not in the index %s (scan it first)", ref, gs_index_path(ix));
    return GS_OK;
}

gs_status gs_index_track_by_id(gs_index *ix, int64_t id, gs_track_row *row, gs_error *err)
{
    memset(row, 0, sizeof *row);
    int rc = lookup(ix, "WHERE id = ?1", NULL, id, row);
    if (rc < 0)
        return gs_index_error(ix, err, "cannot read");
    if (rc == 0)
        return gs_error_set(err, GS_ERR_INVALID, "no track %lld in the index", (long long)id);
    return GS_OK;
}

void gs_embedding_set_free(gs_embedding_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->paths[i]);
        free(set->genres[i]);
    }
    free(set->ids);
    free(set->paths);
    free(set->genres);
    free(set->durations);
    free(set->vectors);
    memset(set, 0, sizeof *set);
}

gs_status gs_embedding_set_load(gs_index *ix, const char *genre, gs_embedding_set *set, gs_error *err)
{
    return gs_embedding_set_load_model(ix, genre, NULL, set, NULL, err);
}

/* How many tracks with an embedding (of genre when not NULL) model_id did
 * not analyse. */
static gs_status count_other_models(gs_index *ix, const char *genre, const char *model_id, size_t *out, gs_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT count(*) FROM embeddings e JOIN tracks t ON t.id = e.track_id"
                           " WHERE t.model_id IS NOT ?1 AND (?2 IS NULL OR t.top_genre = ?2)",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_text(s, 1, model_id, -1, SQLITE_TRANSIENT);
    if (genre)
        sqlite3_bind_text(s, 2, genre, -1, SQLITE_TRANSIENT);
    gs_status st = GS_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *out = (size_t)sqlite3_column_int64(s, 0);
    else
        st = gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    return st;
}

gs_status gs_embedding_set_load_model(gs_index *ix, const char *genre, const char *model_id, gs_embedding_set *set,
                                      size_t *other_model, gs_error *err)
{
    memset(set, 0, sizeof *set);
    if (other_model)
        *other_model = 0;
    sqlite3 *db = gs_index_sqlite(ix);
    sqlite3_stmt *s;
    if (model_id && other_model) {
        gs_status st = count_other_models(ix, genre, model_id, other_model, err);
        if (st != GS_OK)
            return st;
    }
    /* The dimension most tracks (of the model) have: an index may mix
     * models. */
    if (sqlite3_prepare_v2(db,
                           model_id ? "SELECT e.dim, count(*) AS n FROM embeddings e"
                                      " JOIN tracks t ON t.id = e.track_id WHERE t.model_id = ?1"
                                      " GROUP BY e.dim ORDER BY n DESC LIMIT 1"
                                    : "SELECT dim, count(*) AS n FROM embeddings GROUP BY dim"
                                      " ORDER BY n DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    if (model_id)
        sqlite3_bind_text(s, 1, model_id, -1, SQLITE_TRANSIENT);
    size_t dim = 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        dim = (size_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (dim == 0)
        return GS_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT t.id, t.path, t.top_genre, t.duration, e.vector FROM embeddings e"
                           " JOIN tracks t ON t.id = e.track_id WHERE e.dim = ?1"
                           " AND (?2 IS NULL OR t.top_genre = ?2)"
                           " AND (?3 IS NULL OR t.model_id = ?3) ORDER BY t.id",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, (sqlite3_int64)dim);
    if (genre)
        sqlite3_bind_text(s, 2, genre, -1, SQLITE_TRANSIENT);
    if (model_id)
        sqlite3_bind_text(s, 3, model_id, -1, SQLITE_TRANSIENT);
    set->dim = dim;
    size_t cap = 0;
    int rc;
    gs_status st = GS_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (set->count == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *ids = realloc(set->ids, cap * sizeof *ids);
            if (ids)
                set->ids = ids;
            char **paths = realloc(set->paths, cap * sizeof *paths);
            if (paths)
                set->paths = paths;
            char **genres = realloc(set->genres, cap * sizeof *genres);
            if (genres)
                set->genres = genres;
            double *durs = realloc(set->durations, cap * sizeof *durs);
            if (durs)
                set->durations = durs;
            float *vec = realloc(set->vectors, cap * dim * sizeof *vec);
            if (vec)
                set->vectors = vec;
            if (!ids || !paths || !genres || !durs || !vec) {
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory loading embeddings");
                break;
            }
        }
        size_t i = set->count;
        if ((size_t)sqlite3_column_bytes(s, 4) != dim * sizeof(float))
            continue; /* a row whose dim column lies: skip rather than misread */
        set->ids[i] = sqlite3_column_int64(s, 0);
        set->paths[i] = dup_col(s, 1);
        set->genres[i] = dup_col(s, 2);
        set->durations[i] = sqlite3_column_double(s, 3);
        float *v = set->vectors + i * dim;
        memcpy(v, sqlite3_column_blob(s, 4), dim * sizeof(float));
        gs_l2_normalise(v, dim);
        set->count++;
    }
    sqlite3_finalize(s);
    if (st == GS_OK && rc != SQLITE_DONE)
        st = gs_index_error(ix, err, "cannot read");
    if (st != GS_OK)
        gs_embedding_set_free(set);
    return st;
}

long gs_embedding_set_find(const gs_embedding_set *set, int64_t id)
{
    /* Loaded ORDER BY id: binary search. */
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ids[mid] == id)
            return (long)mid;
        if (set->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

gs_status gs_index_read_begin(gs_index *ix, int *began, gs_error *err)
{
    sqlite3 *db = gs_index_sqlite(ix);
    *began = sqlite3_get_autocommit(db);
    if (*began && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        *began = 0;
        return gs_index_error(ix, err, "cannot read");
    }
    return GS_OK;
}

void gs_index_read_end(gs_index *ix, int began)
{
    /* A read-only transaction: a failed COMMIT loses nothing. */
    if (began)
        sqlite3_exec(gs_index_sqlite(ix), "COMMIT", NULL, NULL, NULL);
}

gs_status gs_index_embeddings_generation(gs_index *ix, int *have, int64_t *uid, int64_t *generation, gs_error *err)
{
    *have = 0;
    if (gs_index_schema_version(ix) < 2)
        return GS_OK;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT (SELECT value FROM meta WHERE key = 'index_uid'),"
                           " (SELECT value FROM meta WHERE key = 'embeddings_generation')",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_INTEGER &&
        sqlite3_column_type(s, 1) == SQLITE_INTEGER) {
        *uid = sqlite3_column_int64(s, 0);
        *generation = sqlite3_column_int64(s, 1);
        *have = 1;
    }
    gs_status st = rc == SQLITE_ROW ? GS_OK : gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    return st;
}

gs_status gs_index_common_embedding_dim(gs_index *ix, int64_t *dim, gs_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT dim, count(*) AS n FROM embeddings GROUP BY dim"
                           " ORDER BY n DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    int rc = sqlite3_step(s);
    *dim = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return gs_index_error(ix, err, "cannot read");
    return GS_OK;
}

gs_status gs_index_track_embedding(gs_index *ix, int64_t id, float **vec, size_t *dim, gs_error *err)
{
    *vec = NULL;
    *dim = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), "SELECT dim, vector FROM embeddings WHERE track_id = ?1", -1, &s,
                           NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, id);
    gs_status st = GS_OK;
    if (sqlite3_step(s) == SQLITE_ROW) {
        size_t d = (size_t)sqlite3_column_int64(s, 0);
        if (d > 0 && (size_t)sqlite3_column_bytes(s, 1) == d * sizeof(float) && (*vec = malloc(d * sizeof(float)))) {
            memcpy(*vec, sqlite3_column_blob(s, 1), d * sizeof(float));
            gs_l2_normalise(*vec, d);
            *dim = d;
        }
    }
    sqlite3_finalize(s);
    if (!*vec)
        st = gs_error_set(err, GS_ERR_INVALID, "track %lld has no embedding (it failed or was silent)", (long long)id);
    return st;
}

/* Steps s to its end, calling row(s, ctx) per row until it returns
 * nonzero, then finalizes s. GS_OK, or GS_ERR_IO after a failed step. */
typedef int (*row_fn)(sqlite3_stmt *s, void *ctx);
static gs_status each_row(gs_index *ix, sqlite3_stmt *s, row_fn row, void *ctx, gs_error *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (row(s, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    gs_status st = rc == SQLITE_DONE ? GS_OK : gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    return st;
}

/* each_row for callbacks that can fail: a status other than GS_OK from row
 * (which has set err) stops the walk and is returned. */
typedef gs_status (*row_status_fn)(sqlite3_stmt *s, void *ctx, gs_error *err);
static gs_status each_row_status(gs_index *ix, sqlite3_stmt *s, row_status_fn row, void *ctx, gs_error *err)
{
    gs_status st = GS_OK;
    int rc = SQLITE_DONE;
    while (st == GS_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        st = row(s, ctx, err);
    if (st == GS_OK && rc != SQLITE_DONE)
        st = gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    return st;
}

/* The embedding cache's walks: the caller's callback, its argument, and
 * the size a vector must have. */
typedef struct embedding_walk {
    union {
        gs_embedding_row_fn track;
        gs_window_embedding_fn window;
    } fn;
    void *arg;
    size_t dim;
    int of_dim;
} embedding_walk;

static gs_status embedding_row(sqlite3_stmt *s, void *ctx, gs_error *err)
{
    const embedding_walk *w = ctx;
    gs_embedding_row row = {sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                            (const char *)sqlite3_column_text(s, 2), NULL};
    if (w->of_dim) {
        row.vector = sqlite3_column_blob(s, 3);
        if ((size_t)sqlite3_column_bytes(s, 3) != w->dim * sizeof(float))
            return GS_OK; /* cannot happen (length() checked); never misread */
    }
    return w->fn.track(&row, w->arg, err);
}

gs_status gs_index_each_embedding(gs_index *ix, size_t dim, int of_dim, gs_embedding_row_fn each, void *arg,
                                  gs_error *err)
{
    /* The two sets are complements: a row whose dim column lies about its
     * BLOB is in the second rather than misread. */
    static const char *const sql[2] = {"SELECT t.id, t.top_genre, t.model_id FROM embeddings e"
                                       " JOIN tracks t ON t.id = e.track_id"
                                       " WHERE NOT (e.dim = ?1 AND length(e.vector) = ?1 * 4) ORDER BY t.id",
                                       "SELECT t.id, t.top_genre, t.model_id, e.vector FROM embeddings e"
                                       " JOIN tracks t ON t.id = e.track_id"
                                       " WHERE e.dim = ?1 AND length(e.vector) = ?1 * 4 ORDER BY t.id"};
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql[of_dim ? 1 : 0], -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, (sqlite3_int64)dim);
    embedding_walk w = {.fn.track = each, .arg = arg, .dim = dim, .of_dim = of_dim};
    return each_row_status(ix, s, embedding_row, &w, err);
}

static gs_status window_embedding_row(sqlite3_stmt *s, void *ctx, gs_error *err)
{
    const embedding_walk *w = ctx;
    gs_window_embedding_row row = {sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1), sqlite3_column_double(s, 2),
                                   sqlite3_column_blob(s, 3)};
    if ((size_t)sqlite3_column_bytes(s, 3) != w->dim * sizeof(float))
        return GS_OK; /* cannot happen (length() checked); never misread */
    return w->fn.window(&row, w->arg, err);
}

gs_status gs_index_each_window_embedding(gs_index *ix, size_t dim, double min_seconds, gs_window_embedding_fn each,
                                         void *arg, gs_error *err)
{
    if (gs_index_schema_version(ix) < 6)
        return GS_OK;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT w.track_id, w.start, w.end, w.embedding FROM windows w"
                           " JOIN tracks t ON t.id = w.track_id"
                           " WHERE t.duration >= ?2 AND length(w.embedding) = ?1 * 4"
                           " ORDER BY w.track_id, w.idx",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, (sqlite3_int64)dim);
    sqlite3_bind_double(s, 2, min_seconds);
    embedding_walk w = {.fn.window = each, .arg = arg, .dim = dim};
    return each_row_status(ix, s, window_embedding_row, &w, err);
}

/* A caller's callback and its argument, for the row adapters below. */
typedef struct row_ctx {
    union {
        gs_genre_hit_fn hit;
        gs_group_fn group;
        gs_score_fn score;
        gs_timeline_fn timeline;
    } fn;
    void *arg;
} row_ctx;

static int genre_hit_row(sqlite3_stmt *s, void *ctx)
{
    const row_ctx *c = ctx;
    gs_genre_hit h = {sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                      (const char *)sqlite3_column_text(s, 2), sqlite3_column_double(s, 3),
                      sqlite3_column_double(s, 4)};
    return c->fn.hit(&h, c->arg);
}

static int group_row(sqlite3_stmt *s, void *ctx)
{
    const row_ctx *c = ctx;
    return c->fn.group((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2),
                       c->arg);
}

static int score_row(sqlite3_stmt *s, void *ctx)
{
    const row_ctx *c = ctx;
    const char *label = (const char *)sqlite3_column_text(s, 0);
    return label && c->fn.score(label, sqlite3_column_double(s, 1), c->arg);
}

static int timeline_row(sqlite3_stmt *s, void *ctx)
{
    const row_ctx *c = ctx;
    gs_timeline_window w = {sqlite3_column_double(s, 0), sqlite3_column_double(s, 1),
                            (const char *)sqlite3_column_text(s, 2), sqlite3_column_double(s, 3)};
    return c->fn.timeline(&w, c->arg);
}

/* Both forms share their conditions: the mixed form joins scores only when
 * genres were listed (carray is not in every SQLite build, so the list goes
 * in as a JSON array). ?7 is the model (NULL: any). */
#define MIXED_FROM                                                                                                     \
    " FROM tracks t JOIN scores s ON s.track_id = t.id"                                                                \
    " WHERE s.genre IN (SELECT value FROM json_each(?1)) AND s.score >= ?2"                                            \
    " AND (?3 IS NULL OR (t.top_genre = ?3 AND t.confidence >= ?4)) AND "
#define MIXED_GROUP " GROUP BY t.id HAVING count(*) = ?5"
#define TOP_FROM    " FROM tracks t WHERE t.top_genre = ?3 AND t.confidence >= ?4 AND "
#define SAME_MODEL  "(?7 IS NULL OR t.model_id = ?7)"
#define OTHER_MODEL "t.model_id IS NOT ?7"
#define LIST_SQL(mixed)                                                                                                \
    ((mixed) ? "SELECT t.id, t.path, t.top_genre, t.confidence, sum(s.score) AS combined" MIXED_FROM SAME_MODEL        \
                   MIXED_GROUP " ORDER BY combined DESC, t.path LIMIT ?6"                                              \
             : "SELECT t.id, t.path, t.top_genre, t.confidence, t.confidence" TOP_FROM SAME_MODEL                      \
               " ORDER BY t.confidence DESC, t.path LIMIT ?6")
#define OTHER_SQL(mixed)                                                                                               \
    ((mixed) ? "SELECT count(*) FROM (SELECT t.id" MIXED_FROM OTHER_MODEL MIXED_GROUP ")"                              \
             : "SELECT count(*)" TOP_FROM OTHER_MODEL)

static int prepare_genre_query(gs_index *ix, const char *sql, const gs_genre_query *q, const char *model_id,
                               sqlite3_stmt **out)
{
    sqlite3_stmt *s;
    *out = NULL;
    int rc = sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (q->num_mixed) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < q->num_mixed; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(q->mixed[i]));
        char *txt = cJSON_PrintUnformatted(arr);
        sqlite3_bind_text(s, 1, txt, -1, SQLITE_TRANSIENT);
        cJSON_free(txt);
        cJSON_Delete(arr);
        sqlite3_bind_double(s, 2, q->min_score);
        sqlite3_bind_int(s, 5, q->num_mixed);
    }
    if (q->top_label)
        sqlite3_bind_text(s, 3, q->top_label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 4, q->min_confidence);
    /* The count query has no ?6: binding it is a harmless SQLITE_RANGE. */
    sqlite3_bind_int64(s, 6, q->limit);
    if (model_id)
        sqlite3_bind_text(s, 7, model_id, -1, SQLITE_TRANSIENT);
    *out = s;
    return SQLITE_OK;
}

gs_status gs_index_query_genres(gs_index *ix, const gs_genre_query *q, gs_genre_hit_fn each, void *arg,
                                size_t *other_model, gs_error *err)
{
    sqlite3_stmt *s;
    *other_model = 0;
    if (prepare_genre_query(ix, LIST_SQL(q->num_mixed), q, q->model_id, &s) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot query");
    gs_status st = each_row(ix, s, genre_hit_row, &(row_ctx){.fn.hit = each, .arg = arg}, err);
    /* What the model filter left out: the same query for other models. */
    if (st == GS_OK && q->model_id) {
        if (prepare_genre_query(ix, OTHER_SQL(q->num_mixed), q, q->model_id, &s) != SQLITE_OK ||
            sqlite3_step(s) != SQLITE_ROW)
            st = gs_index_error(ix, err, "cannot query");
        else
            *other_model = (size_t)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return st;
}

/* One integer; on the first error *st and *err say why (later calls then
 * do nothing). */
static int64_t scalar(gs_index *ix, const char *sql, gs_status *st, gs_error *err)
{
    sqlite3_stmt *s = NULL;
    int64_t v = 0;
    if (*st != GS_OK)
        return 0;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW)
        *st = gs_index_error(ix, err, "cannot read");
    else
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

gs_status gs_index_count(gs_index *ix, gs_index_counts *out, gs_error *err)
{
    gs_status st = GS_OK;
    /* Before schema 6 silence and "not music" are one count. */
    int v6 = gs_index_schema_version(ix) >= 6;
    *out = (gs_index_counts){
        .tracks = scalar(ix, "SELECT count(*) FROM tracks", &st, err),
        .failed = scalar(ix, "SELECT count(*) FROM tracks WHERE error IS NOT NULL", &st, err),
        .silent = scalar(ix,
                         v6 ? "SELECT count(*) FROM tracks WHERE verdict = 'silent'"
                            : "SELECT count(*) FROM tracks WHERE error IS NULL AND top_genre IS NULL",
                         &st, err),
        .not_music = v6 ? scalar(ix, "SELECT count(*) FROM tracks WHERE verdict = 'not-music'", &st, err) : 0,
        .seconds = scalar(ix, "SELECT CAST(total(duration) AS INTEGER) FROM tracks", &st, err),
        .bytes = scalar(ix, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", &st, err),
    };
    char wal[4200];
    struct stat wal_st;
    snprintf(wal, sizeof wal, "%s-wal", gs_index_path(ix));
    if (stat(wal, &wal_st) == 0)
        out->bytes += wal_st.st_size;
    return st;
}

gs_status gs_index_group(gs_index *ix, gs_index_grouping by, gs_group_fn each, void *arg, gs_error *err)
{
    static const char *const sql[] = {
        [GS_BY_GENRE] = "SELECT top_genre, count(*) AS n, avg(confidence) FROM tracks"
                        " WHERE top_genre IS NOT NULL GROUP BY top_genre ORDER BY n DESC, top_genre",
        [GS_BY_TAG_STATUS] = "SELECT coalesce(tag_status, 'none'), count(*) AS n, 0 FROM tracks"
                             " WHERE error IS NULL GROUP BY 1 ORDER BY n DESC, 1",
        [GS_BY_MODEL] = "SELECT coalesce(model_id, '?'), count(*) AS n, 0 FROM tracks GROUP BY 1 ORDER BY n DESC, 1",
    };
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql[by], -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    return each_row(ix, s, group_row, &(row_ctx){.fn.group = each, .arg = arg}, err);
}

gs_status gs_index_track_scores(gs_index *ix, int64_t id, gs_score_fn each, void *arg, gs_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT genre, score FROM scores WHERE track_id = ?1 ORDER BY score DESC, genre", -1, &s,
                           NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, id);
    return each_row(ix, s, score_row, &(row_ctx){.fn.score = each, .arg = arg}, err);
}

gs_status gs_index_track_timeline(gs_index *ix, int64_t id, gs_timeline_fn each, void *arg, gs_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT start, end, top_genre, confidence FROM windows WHERE track_id = ?1 ORDER BY idx", -1,
                           &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, id);
    return each_row(ix, s, timeline_row, &(row_ctx){.fn.timeline = each, .arg = arg}, err);
}

gs_status gs_index_track_window_embeddings(gs_index *ix, int64_t id, size_t dim, float **vectors, double **spans,
                                           size_t *n, gs_error *err)
{
    *vectors = NULL;
    *spans = NULL;
    *n = 0;
    if (gs_index_schema_version(ix) < 6 || dim == 0)
        return GS_OK;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT start, end, embedding FROM windows"
                           " WHERE track_id = ?1 AND length(embedding) = ?2 * 4 ORDER BY idx",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)dim);
    gs_status st = GS_OK;
    size_t cap = 0;
    int rc;
    while (st == GS_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((size_t)sqlite3_column_bytes(s, 2) != dim * sizeof(float))
            continue; /* cannot happen (length() checked); never misread */
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            float *v = realloc(*vectors, cap * dim * sizeof *v);
            if (v)
                *vectors = v;
            double *sp = realloc(*spans, cap * 2 * sizeof *sp);
            if (sp)
                *spans = sp;
            if (!v || !sp) {
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
                break;
            }
        }
        float *v = *vectors + *n * dim;
        memcpy(v, sqlite3_column_blob(s, 2), dim * sizeof(float));
        gs_l2_normalise(v, dim);
        (*spans)[2 * *n] = sqlite3_column_double(s, 0);
        (*spans)[2 * *n + 1] = sqlite3_column_double(s, 1);
        (*n)++;
    }
    if (st == GS_OK && rc != SQLITE_DONE)
        st = gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    if (st != GS_OK) {
        free(*vectors);
        free(*spans);
        *vectors = NULL;
        *spans = NULL;
        *n = 0;
    }
    return st;
}

/* Looks name up among the labels sql lists; 1 found, 0 not, -1 error.
 * Appends the labels seen to known. */
static int match_genre(gs_index *ix, const char *sql, const char *name, char *out, size_t out_size, char *known,
                       size_t known_size)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    int found = 0, rc;
    size_t kl = strlen(known);
    known[kl] = '\0';
    while (!found && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *label = (const char *)sqlite3_column_text(s, 0);
        if (!label)
            continue;
        char display[128];
        gs_genre_display_name(label, display, sizeof display);
        if (!strcasecmp(label, name) || !strcasecmp(display, name)) {
            snprintf(out, out_size, "%s", label);
            found = 1;
        } else if (kl + strlen(label) + 3 < known_size) {
            kl += (size_t)snprintf(known + kl, known_size - kl, "%s%s", kl ? ", " : "", label);
        }
    }
    sqlite3_finalize(s);
    return found ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

gs_status gs_index_resolve_genre(gs_index *ix, const char *name, char *out, size_t out_size, gs_error *err)
{
    /* The genres table (a few rows) names every label a scan wrote; the
     * scores table (10 rows per track, a million in a large index) only
     * matters for labels merged or written by hand, so it is read only when
     * the first lookup fails. */
    char known[1024] = "";
    int rc = match_genre(ix, "SELECT label FROM genres", name, out, out_size, known, sizeof known);
    if (rc == 0) {
        known[0] = '\0';
        rc = match_genre(ix, "SELECT DISTINCT genre FROM scores UNION SELECT label FROM genres", name, out, out_size,
                         known, sizeof known);
    }
    if (rc < 0)
        return gs_index_error(ix, err, "cannot read");
    if (rc == 0)
        return gs_error_set(err, GS_ERR_INVALID, "unknown genre '%s' (the index knows: %s)", name,
                            known[0] ? known : "none yet");
    return GS_OK;
}

gs_status gs_index_duplicates(gs_index *ix, gs_duplicates_fn each, void *arg, gs_error *err)
{
    if (gs_index_schema_version(ix) < 5)
        return gs_error_set(err, GS_ERR_UNSUPPORTED, "%s predates duplicate detection; a 'genrescope scan' updates it",
                            gs_index_path(ix));
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix),
                           "SELECT audio_digest, path FROM tracks WHERE audio_digest IN"
                           " (SELECT audio_digest FROM tracks WHERE audio_digest IS NOT NULL"
                           "  GROUP BY audio_digest HAVING count(*) > 1)"
                           " ORDER BY (SELECT min(path) FROM tracks d WHERE d.audio_digest = tracks.audio_digest),"
                           " path",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    char **paths = NULL;
    size_t n = 0, cap = 0;
    sqlite3_int64 group = 0;
    gs_status st = GS_OK;
    int rc = SQLITE_DONE, stop = 0;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_int64 d = sqlite3_column_int64(s, 0);
        if (n && d != group) {
            stop = each((const char *const *)paths, n, arg);
            while (n)
                free(paths[--n]);
        }
        group = d;
        if (n == cap) {
            char **grown = realloc(paths, (cap = cap ? 2 * cap : 8) * sizeof *paths);
            if (!grown) {
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
                break;
            }
            paths = grown;
        }
        const unsigned char *p = sqlite3_column_text(s, 1);
        if (!(paths[n] = strdup(p ? (const char *)p : ""))) {
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
            break;
        }
        n++;
    }
    if (st == GS_OK && !stop && rc != SQLITE_DONE)
        st = gs_index_error(ix, err, "cannot read");
    if (st == GS_OK && !stop && n)
        each((const char *const *)paths, n, arg);
    while (n)
        free(paths[--n]);
    free(paths);
    sqlite3_finalize(s);
    return st;
}

const char *const gs_track_statuses[] = {"failed", "low-confidence", "kept-existing", "not-music",
                                         "silent", "untagged",       "tagged",        NULL};

/* The SQL condition of a status; NULL if unknown. An index before schema 6
 * has no verdict column: not music is then known only where a tag was
 * considered, and silence is what is neither a genre nor that. */
static const char *status_condition(gs_index *ix, const char *status)
{
    int v6 = gs_index_schema_version(ix) >= 6;
    const char *const conditions[] = {
        "error IS NOT NULL",
        "tag_status = 'low-confidence'",
        "tag_status = 'kept-existing'",
        v6 ? "verdict = 'not-music'" : "tag_status = 'not-music'",
        v6 ? "verdict = 'silent'" : "error IS NULL AND top_genre IS NULL AND coalesce(tag_status, '') <> 'not-music'",
        "error IS NULL AND file_genre = ''",
        "tag_status IN ('written', 'already-tagged')"};
    for (int i = 0; gs_track_statuses[i]; i++)
        if (!strcmp(status, gs_track_statuses[i]))
            return conditions[i];
    return NULL;
}

gs_status gs_index_list_tracks(gs_index *ix, const gs_track_filter *f, gs_track_fn each, void *arg, gs_error *err)
{
    const char *status = f->status ? status_condition(ix, f->status) : "1";
    if (!status) {
        char known[256] = "";
        for (int i = 0; gs_track_statuses[i]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", gs_track_statuses[i]);
        return gs_error_set(err, GS_ERR_INVALID, "unknown status '%s' (known: %s)", f->status, known);
    }
    if ((f->file_genre || (f->status && !strcmp(f->status, "untagged"))) && gs_index_schema_version(ix) < 5)
        return gs_error_set(err, GS_ERR_UNSUPPORTED,
                            "%s does not record the files' own genres yet; a 'genrescope scan' updates it",
                            gs_index_path(ix));
    /* One of the file's "; "-separated values, compared without case. */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%sWHERE (%s) AND (?1 IS NULL OR instr(';' || lower(replace(file_genre, '; ', ';')) || ';',"
             " ';' || lower(?1) || ';') > 0) ORDER BY path LIMIT ?2",
             track_columns(ix), status);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    if (f->file_genre)
        sqlite3_bind_text(s, 1, f->file_genre, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, f->limit > 0 ? f->limit : -1);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gs_track_row row = {0};
        fill_row(s, &row);
        int stop = each(&row, arg);
        gs_track_row_clear(&row);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    gs_status st = rc == SQLITE_DONE ? GS_OK : gs_index_error(ix, err, "cannot read");
    sqlite3_finalize(s);
    return st;
}
