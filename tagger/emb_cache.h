/* The embedding cache: a compact, memory-mapped copy of the index's
 * embeddings for similarity search, so `similar` does not read 100k BLOBs
 * through SQLite on every run.
 *
 * It lives next to the index as <db>.emb (format in emb_cache.c and
 * docs/schema.md): the L2-normalised float32 vectors of the most common
 * dimension, ordered by track id, with each track's id, top genre and
 * model_id (embeddings of different models are not comparable, so a search
 * can keep to one model), plus the id, genre and model of every track whose
 * embedding has another size (only counted, never searched). Its
 * header records the index's random identity and its embeddings generation
 * (meta table, bumped by triggers on every change that similarity reads);
 * a file whose identity, generation or layout does not match is never
 * used: it is rebuilt from the index in one read transaction and replaced
 * atomically (temporary file + rename). It is only a cache: deleting it is
 * always safe. */
#ifndef GS_TAGGER_EMB_CACHE_H
#define GS_TAGGER_EMB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "index_db.h"
#include "similarity.h"

typedef struct gs_emb_cache gs_emb_cache;

/* How gs_emb_cache_open got the data. */
typedef enum gs_emb_cache_source {
    GS_EMB_CACHE_MAPPED,  /* the sidecar file was current: mapped as is */
    GS_EMB_CACHE_REBUILT, /* missing, stale or damaged: rebuilt and rewritten */
    GS_EMB_CACHE_MEMORY   /* rebuilt in memory only (no generation in the index,
                             an in-memory index, NO_WRITE, or the directory is
                             not writable) */
} gs_emb_cache_source;

enum { GS_EMB_CACHE_NO_WRITE = 1 };

/* Opens the cache of ix (see above). flags: GS_EMB_CACHE_NO_WRITE never
 * creates or replaces the file. Failing to write the file is not an error
 * (the data is used from memory). Errors: reading the index (GS_ERR_IO,
 * GS_ERR_FORMAT), GS_ERR_NOMEM. Must not be called inside a write
 * transaction of ix. Caller closes with gs_emb_cache_close. */
gs_status gs_emb_cache_open(gs_index *ix, int flags, gs_emb_cache **out, gs_error *err);
void gs_emb_cache_close(gs_emb_cache *c);

/* Brings the sidecar up to date (rebuilds it if stale); for writers after
 * a scan or merge, so the next query is fast. */
gs_status gs_emb_cache_refresh(gs_index *ix, gs_error *err);

/* Writes "<db_path>.emb" to out; -1 if it does not fit. */
int gs_emb_cache_path(const char *db_path, char *out, size_t out_size);

gs_emb_cache_source gs_emb_cache_get_source(const gs_emb_cache *c);
/* Number of searchable tracks (embeddings of the cache's dimension). */
size_t gs_emb_cache_count(const gs_emb_cache *c);
size_t gs_emb_cache_dim(const gs_emb_cache *c); /* 0 when the index has no embeddings */
int64_t gs_emb_cache_generation(const gs_emb_cache *c);
/* Borrowed, valid until close: count ids (ascending) and count * dim floats. */
const int64_t *gs_emb_cache_ids(const gs_emb_cache *c);
const float *gs_emb_cache_vectors(const gs_emb_cache *c);

/* Positions (into gs_emb_cache_ids/vectors) of the searchable tracks
 * model_id analysed (all of them when model_id is NULL), ascending, in a
 * malloc'd array the caller frees (*positions may be NULL when *n is 0).
 * other_model (may be NULL) receives how many tracks with an embedding of
 * any size another model analysed. Errors: GS_ERR_NOMEM. */
gs_status gs_emb_cache_model_positions(const gs_emb_cache *c, const char *model_id, size_t **positions, size_t *n,
                                       size_t *other_model, gs_error *err);

/* Tracks at least this long (a DJ mix, a live set) are searched by their
 * parts, the embeddings of their 30 s windows, not by their mean embedding,
 * which is like everything and nothing: a mix's part is found from a track
 * and a track from a mix's part. */
#define GS_EMB_PART_MIN_SECONDS 600.0

/* Position of track id among the searchable tracks, or -1. */
long gs_emb_cache_position(const gs_emb_cache *c, int64_t id);

/* The parts of the track at position: *first and *n (0 when it has none
 * and is searched by its own vector). Borrowed views, valid until close:
 * part p's vector is gs_emb_cache_part_vectors(c) + p * dim, its start and
 * end in seconds gs_emb_cache_part_spans(c)[2 p] and [2 p + 1]. */
void gs_emb_cache_track_parts(const gs_emb_cache *c, size_t position, size_t *first, size_t *n);
const float *gs_emb_cache_part_vectors(const gs_emb_cache *c);
const float *gs_emb_cache_part_spans(const gs_emb_cache *c);

typedef struct gs_emb_match {
    long index;   /* position of the track in the cache */
    float score;  /* the best dot product (cosine) */
    size_t query; /* which query vector gave it */
    long part;    /* which part of the track gave it; -1: its own vector */
} gs_emb_match;

/* Exhaustive search for the k tracks most like the query vectors (q:
 * num_queries * dim floats, L2-normalised, so a dot product is a cosine;
 * one vector, or e.g. the parts of a mix): a track's score is its best
 * dot product with any query, taken over its parts when it has some and
 * with its own vector otherwise. Skips exclude_id, when genre is not NULL
 * tracks whose top genre label is not genre, and when model_id is not NULL
 * tracks another model analysed; *other_model (may be NULL) receives how
 * many tracks (not exclude_id, of genre if given, with an embedding of any
 * size) the model filter left out, 0 without one. With one query and no
 * parts the scores are computed with gs_dot, exactly as the SQLite path
 * (gs_embedding_set_load) does. Writes up to k results best first to out
 * (which must hold k; index = position in the cache), saying which query
 * and part matched, and their number to *found. Errors: GS_ERR_NOMEM. */
gs_status gs_emb_cache_search_parts(const gs_emb_cache *c, const float *q, size_t num_queries, int64_t exclude_id,
                                    const char *genre, const char *model_id, size_t k, gs_emb_match *out, size_t *found,
                                    size_t *other_model, gs_error *err);

#endif
