/* `similar` as a function: the query track's nearest neighbours through the
 * embedding cache. cmd_similar prints its result; the benchmark times the
 * same path. */
#ifndef GS_TAGGER_SIMILAR_QUERY_H
#define GS_TAGGER_SIMILAR_QUERY_H

#include <stddef.h>

#include "emb_cache.h"
#include "index_read.h"

/* A span of a track in seconds; start < 0: the whole track. */
typedef struct gs_similar_span {
    double start, end;
} gs_similar_span;

typedef struct gs_similar_hit {
    int64_t id;
    float similarity; /* cosine */
    char *path;
    char *genre;                /* top genre label, NULL if none */
    gs_similar_span part;       /* the part of this track that matched (a long
                                   track's 30 s window), or the whole track */
    gs_similar_span query_part; /* the part of the query that matched, or the
                                   whole query */
} gs_similar_hit;

typedef struct gs_similar_result {
    gs_track_row query; /* the track asked about */
    size_t count;
    gs_similar_hit *hits;       /* count, most similar first */
    gs_emb_cache_source source; /* how the embedding cache was opened */
    int direct;                 /* 1: the query's model has another embedding
                                     size than the cache holds, so its tracks
                                     were read through SQLite instead */
    size_t other_model;         /* tracks (of genre, if given) left out
                                     because another model analysed them */
    size_t query_parts;         /* parts of the query searched with (its
                                     windows); 0: its whole-track embedding */
} gs_similar_result;

/* Finds ref (a track id or a path, as gs_index_find_track) and the k
 * indexed tracks most similar to it among those the same model analysed
 * (embeddings of different models are not comparable), optionally only
 * those whose top genre is genre (a label or display name, any case).
 * A long track (GS_EMB_PART_MIN_SECONDS or more: a DJ mix) is compared by
 * its parts, as query and as candidate (see gs_emb_cache_search_parts);
 * at_seconds >= 0 searches with the one window of ref playing then, of a
 * track of any length. Errors: GS_ERR_INVALID (unknown track or genre, no
 * embedding, at_seconds past the end or in a window without an embedding,
 * an embedding size its model's other tracks do not have: err says which),
 * GS_ERR_IO / GS_ERR_NOMEM. res is filled on success and must be freed
 * with gs_similar_result_free (also safe after a failure). */
gs_status gs_similar_query(gs_index *ix, const char *ref, const char *genre, size_t k, double at_seconds,
                           gs_similar_result *res, gs_error *err);
void gs_similar_result_free(gs_similar_result *res);

#endif
