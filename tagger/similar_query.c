/* `similar` as a function (similar_query.h): the query's vectors (its own,
 * or its parts), the search, the hits' paths. */
#include "similar_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const gs_similar_span whole = {-1.0, -1.0};

/* Paths and genres of the k hits only: k point lookups instead of reading
 * every track's row. */
static gs_status fetch_hits(gs_index *ix, const gs_emb_cache *c, const gs_emb_match *top, size_t n,
                            const double *query_spans, gs_similar_result *res, gs_error *err)
{
    if (n == 0)
        return GS_OK;
    if (!(res->hits = calloc(n, sizeof *res->hits)))
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    gs_status st = GS_OK;
    for (size_t r = 0; r < n && st == GS_OK; r++) {
        gs_similar_hit *h = &res->hits[res->count];
        h->id = gs_emb_cache_ids(c)[top[r].index];
        h->similarity = top[r].score;
        h->part = whole;
        if (top[r].part >= 0) {
            const float *span = gs_emb_cache_part_spans(c) + 2 * top[r].part;
            h->part = (gs_similar_span){span[0], span[1]};
        }
        h->query_part =
            query_spans ? (gs_similar_span){query_spans[2 * top[r].query], query_spans[2 * top[r].query + 1]} : whole;
        gs_track_row row;
        st = gs_index_track_by_id(ix, h->id, &row, err);
        if (st == GS_OK) {
            /* Moved to the hit. */
            h->path = row.path;
            h->genre = row.top_genre;
            row.path = row.top_genre = NULL;
            gs_track_row_clear(&row);
            res->count++;
        } else if (st == GS_ERR_INVALID) {
            /* The track went away after the cache was opened (a concurrent
             * writer): leave it out. */
            st = GS_OK;
        }
    }
    return st;
}

/* The seed's model has another embedding size than the cache holds (a
 * minority model in a mixed index): rank its tracks straight from SQLite. */
static gs_status search_index(gs_index *ix, const float *q, size_t num_queries, const double *query_spans, size_t dim,
                              const char *genre, size_t k, gs_similar_result *res, gs_error *err)
{
    gs_embedding_set set;
    gs_scored *top = NULL;
    size_t n = 0, *which = NULL;
    gs_status st = gs_embedding_set_load_model(ix, genre, res->query.model_id, &set, &res->other_model, err);
    if (st == GS_OK && set.count && set.dim != dim)
        st = gs_error_set(err, GS_ERR_INVALID, "%s has another embedding size than most tracks of its model; rescan it",
                          res->query.path);
    if (st == GS_OK && (!(top = malloc(k * sizeof *top)) || !(which = calloc(set.count + 1, sizeof *which))))
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    if (st == GS_OK) {
        /* Whole tracks only: this path is for a minority model, whose
         * tracks the cache (and its parts) does not hold. */
        for (size_t i = 0; i < set.count; i++) {
            if (set.ids[i] == res->query.id)
                continue;
            float best = gs_dot(q, set.vectors + i * dim, dim);
            for (size_t a = 1; a < num_queries; a++) {
                float d = gs_dot(q + a * dim, set.vectors + i * dim, dim);
                if (d > best) {
                    best = d;
                    which[i] = a;
                }
            }
            gs_topk_push(top, k, &n, (long)i, best);
        }
        gs_topk_sort(top, n);
        if (n && !(res->hits = calloc(n, sizeof *res->hits)))
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; st == GS_OK && r < n; r++) {
        gs_similar_hit *h = &res->hits[res->count++];
        size_t i = (size_t)top[r].index;
        h->id = set.ids[i];
        h->similarity = top[r].score;
        h->part = whole;
        h->query_part =
            query_spans ? (gs_similar_span){query_spans[2 * which[i]], query_spans[2 * which[i] + 1]} : whole;
        h->path = set.paths[i];
        h->genre = set.genres[i];
        set.paths[i] = set.genres[i] = NULL; /* moved to the hit */
    }
    res->direct = 1;
    free(top);
    free(which);
    gs_embedding_set_free(&set);
    return st;
}

/* The vectors to search with: the track's own, or its windows' (a long
 * track's parts, or the one window playing at at_seconds). On success *q
 * holds *n vectors of dim floats (malloc'd) and *spans their spans
 * (malloc'd, 2 n), or NULL for the whole track. track_vec is taken over. */
static gs_status query_vectors(gs_index *ix, const gs_track_row *query, float *track_vec, size_t dim, double at_seconds,
                               float **q, double **spans, size_t *n, gs_error *err)
{
    *q = track_vec;
    *spans = NULL;
    *n = 1;
    if (at_seconds < 0 && !(query->duration >= GS_EMB_PART_MIN_SECONDS))
        return GS_OK;
    float *windows;
    double *window_spans;
    size_t count;
    gs_status st = gs_index_track_window_embeddings(ix, query->id, dim, &windows, &window_spans, &count, err);
    if (st != GS_OK)
        return st;
    if (at_seconds < 0) {
        /* A long track analysed before window embeddings: its mean is all
         * there is. */
        if (count > 0) {
            free(track_vec);
            *q = windows;
            *spans = window_spans;
            *n = count;
        }
        return GS_OK;
    }
    char at[32], length[32];
    gs_cli_clock_text(at_seconds, at, sizeof at);
    gs_cli_clock_text(query->duration, length, sizeof length);
    size_t w = 0;
    while (w < count && !(at_seconds >= window_spans[2 * w] && at_seconds < window_spans[2 * w + 1]))
        w++;
    /* The very end of the track is in its last window. */
    if (w == count && count > 0 && at_seconds == window_spans[2 * count - 1])
        w = count - 1;
    if (w == count) {
        free(windows);
        free(window_spans);
        if (at_seconds > query->duration)
            return gs_error_set(err, GS_ERR_INVALID, "%s is only %s long (--at %s)", query->path, length, at);
        return gs_error_set(err, GS_ERR_INVALID,
                            "%s has no embedding for the window at %s: it is silent or not music "
                            "there, or was analysed before windows had embeddings (rescan it)",
                            query->path, at);
    }
    memmove(windows, windows + w * dim, dim * sizeof *windows);
    window_spans[0] = window_spans[2 * w];
    window_spans[1] = window_spans[2 * w + 1];
    free(track_vec);
    *q = windows;
    *spans = window_spans;
    *n = 1;
    return GS_OK;
}

gs_status gs_similar_query(gs_index *ix, const char *ref, const char *genre, size_t k, double at_seconds,
                           gs_similar_result *res, gs_error *err)
{
    memset(res, 0, sizeof *res);
    float *q = NULL;
    double *spans = NULL;
    size_t dim = 0, num_queries = 0;
    char label[128];
    gs_emb_cache *c = NULL;
    gs_emb_match *top = NULL;
    gs_status st = gs_index_find_track(ix, ref, &res->query, err);
    if (st == GS_OK)
        st = gs_index_track_embedding(ix, res->query.id, &q, &dim, err);
    if (st == GS_OK)
        st = query_vectors(ix, &res->query, q, dim, at_seconds, &q, &spans, &num_queries, err);
    if (st == GS_OK && spans)
        res->query_parts = num_queries;
    if (st == GS_OK && genre)
        st = gs_index_resolve_genre(ix, genre, label, sizeof label, err);
    if (st == GS_OK)
        st = gs_emb_cache_open(ix, 0, &c, err);
    if (st == GS_OK)
        res->source = gs_emb_cache_get_source(c);
    if (st == GS_OK && k > 0 && gs_emb_cache_dim(c) != dim) {
        st = search_index(ix, q, num_queries, spans, dim, genre ? label : NULL, k, res, err);
    } else if (st == GS_OK && k > 0) {
        if (!(top = malloc(k * sizeof *top)))
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        /* Only the seed's model: embeddings of different models are not
         * comparable. */
        size_t n = 0;
        if (st == GS_OK)
            st = gs_emb_cache_search_parts(c, q, num_queries, res->query.id, genre ? label : NULL, res->query.model_id,
                                           k, top, &n, &res->other_model, err);
        if (st == GS_OK)
            st = fetch_hits(ix, c, top, n, spans, res, err);
    }
    free(top);
    free(q);
    free(spans);
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
