#include "similar_query.h"

#include <stdlib.h>
#include <string.h>

static char *dup_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Paths and genres of the k hits only: k point lookups instead of reading
 * every track's row. */
static gs_status fetch_hits(gs_index *ix, const gs_emb_cache *c, const gs_scored *top, size_t n,
                            gs_similar_result *res, gs_error *err)
{
    if (n == 0)
        return GS_OK;
    if (!(res->hits = calloc(n, sizeof *res->hits)))
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), "SELECT path, top_genre FROM tracks WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    gs_status st = GS_OK;
    for (size_t r = 0; r < n && st == GS_OK; r++) {
        gs_similar_hit *h = &res->hits[res->count];
        h->id = gs_emb_cache_ids(c)[top[r].index];
        h->similarity = top[r].score;
        sqlite3_bind_int64(s, 1, h->id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            h->path = dup_col(s, 0);
            h->genre = dup_col(s, 1);
            res->count++;
        } else if (rc != SQLITE_DONE) {
            st = gs_index_error(ix, err, "cannot read");
        }
        /* SQLITE_DONE: the track went away after the cache was opened (a
         * concurrent writer); leave it out. */
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return st;
}

/* The seed's model has another embedding size than the cache holds (a
 * minority model in a mixed index): rank its tracks straight from SQLite. */
static gs_status search_index(gs_index *ix, const float *q, size_t dim, const char *genre,
                              size_t k, gs_similar_result *res, gs_error *err)
{
    gs_embedding_set set;
    gs_scored *top = NULL;
    size_t n = 0;
    gs_status st = gs_embedding_set_load_model(ix, genre, res->query.model_id, &set,
                                               &res->other_model, err);
    if (st == GS_OK && set.count && set.dim != dim)
        st = gs_error_set(err, GS_ERR_INVALID,
                          "%s has another embedding size than most tracks of its model; rescan it",
                          res->query.path);
    if (st == GS_OK && !(top = malloc(k * sizeof *top)))
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    if (st == GS_OK) {
        for (size_t i = 0; i < set.count; i++)
            if (set.ids[i] != res->query.id)
                gs_topk_push(top, k, &n, (long)i, gs_dot(q, set.vectors + i * dim, dim));
        gs_topk_sort(top, n);
        if (n && !(res->hits = calloc(n, sizeof *res->hits)))
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; st == GS_OK && r < n; r++) {
        gs_similar_hit *h = &res->hits[res->count++];
        size_t i = (size_t)top[r].index;
        h->id = set.ids[i];
        h->similarity = top[r].score;
        h->path = set.paths[i];
        h->genre = set.genres[i];
        set.paths[i] = set.genres[i] = NULL; /* moved to the hit */
    }
    res->direct = 1;
    free(top);
    gs_embedding_set_free(&set);
    return st;
}

gs_status gs_similar_query(gs_index *ix, const char *ref, const char *genre, size_t k,
                           gs_similar_result *res, gs_error *err)
{
    memset(res, 0, sizeof *res);
    float *q = NULL;
    size_t dim = 0;
    char label[128];
    gs_emb_cache *c = NULL;
    gs_scored *top = NULL;
    gs_status st = gs_index_find_track(ix, ref, &res->query, err);
    if (st == GS_OK)
        st = gs_index_track_embedding(ix, res->query.id, &q, &dim, err);
    if (st == GS_OK && genre)
        st = gs_index_resolve_genre(ix, genre, label, sizeof label, err);
    if (st == GS_OK)
        st = gs_emb_cache_open(ix, 0, &c, err);
    if (st == GS_OK)
        res->source = gs_emb_cache_get_source(c);
    if (st == GS_OK && k > 0 && gs_emb_cache_dim(c) != dim) {
        st = search_index(ix, q, dim, genre ? label : NULL, k, res, err);
    } else if (st == GS_OK && k > 0) {
        if (!(top = malloc(k * sizeof *top)))
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        /* Only the seed's model: embeddings of different models are not
         * comparable. */
        size_t n = st == GS_OK ? gs_emb_cache_search(c, q, res->query.id, genre ? label : NULL,
                                                     res->query.model_id, k, top,
                                                     &res->other_model)
                               : 0;
        if (st == GS_OK)
            st = fetch_hits(ix, c, top, n, res, err);
    }
    free(top);
    free(q);
    gs_emb_cache_close(c);
    return st;
}

void gs_similar_result_free(gs_similar_result *res)
{
    for (size_t i = 0; res->hits && i < res->count; i++) {
        free(res->hits[i].path);
        free(res->hits[i].genre);
    }
    free(res->hits);
    gs_track_row_clear(&res->query);
    memset(res, 0, sizeof *res);
}
