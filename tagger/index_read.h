/* Reading the index for the discovery commands: tracks, their scores,
 * windows and embeddings. */
#ifndef GS_TAGGER_INDEX_READ_H
#define GS_TAGGER_INDEX_READ_H

#include <stddef.h>
#include <stdint.h>

#include "index_db.h"

typedef struct gs_track_row {
    int64_t id;
    char *path;
    double duration;
    char *top_genre; /* model label; NULL when failed or silent */
    float confidence;
    char *model_id;
    char *error;
    char *tag_status;
    char *format;
    int64_t size, mtime_ns, analysed_at;
    char *file_genre; /* the genre the file holds ("; "-joined, "" none), whoever
                          wrote it; NULL when unknown (or an index before schema 5) */
    char *verdict;    /* "genre", "silent" or "not-music"; NULL when the file
                          failed (or an index before schema 6) */
} gs_track_row;

void gs_track_row_clear(gs_track_row *row);

/* Finds a track by id (when ref is all digits and such an id exists) or by
 * path (made absolute and canonical when the file exists). Returns GS_OK,
 * or GS_ERR_INVALID with "not in the index" in err. */
gs_status gs_index_find_track(gs_index *ix, const char *ref, gs_track_row *row, gs_error *err);

/* The track with this id. Returns GS_OK, GS_ERR_INVALID when there is no
 * such track (row is then empty), GS_ERR_IO when the index cannot be read. */
gs_status gs_index_track_by_id(gs_index *ix, int64_t id, gs_track_row *row, gs_error *err);

/* All analysed embeddings in memory for similarity search: ids and paths
 * per track, vectors L2-normalised in one contiguous block. */
typedef struct gs_embedding_set {
    size_t count, dim;
    int64_t *ids;
    char **paths;
    char **genres; /* top genre labels (may be NULL entries) */
    double *durations;
    float *vectors; /* count * dim */
} gs_embedding_set;

/* Loads tracks with an embedding of the most common dimension (tracks
 * from another model with another size are left out); genre filters by top
 * genre label when not NULL. */
gs_status gs_embedding_set_load(gs_index *ix, const char *genre, gs_embedding_set *set, gs_error *err);
/* The same, only tracks model_id analysed (all when NULL), of the most
 * common dimension among them: embeddings of different models are not
 * comparable. When other_model is not NULL it receives how many tracks with
 * an embedding (of genre when given) another model analysed (0 when
 * model_id is NULL). Errors: GS_ERR_IO / GS_ERR_NOMEM (set is then empty). */
gs_status gs_embedding_set_load_model(gs_index *ix, const char *genre, const char *model_id, gs_embedding_set *set,
                                      size_t *other_model, gs_error *err);
void gs_embedding_set_free(gs_embedding_set *set);
/* Index of id in set, or -1. */
long gs_embedding_set_find(const gs_embedding_set *set, int64_t id);

/* The embedding cache's reads (emb_cache.c). */

/* A read transaction around several reads, so they all see one snapshot
 * whatever a concurrent writer commits meanwhile. Begins one only when none
 * is open (*began says whether it did; pass it to gs_index_read_end).
 * Errors: GS_ERR_IO (*began is then 0). */
gs_status gs_index_read_begin(gs_index *ix, int *began, gs_error *err);
/* Ends the transaction gs_index_read_begin began (nothing when began is 0). */
void gs_index_read_end(gs_index *ix, int began);

/* The index's random identity and the generation of its embeddings (the
 * meta table; triggers bump it on every change similarity reads): *have is
 * 1 with *uid and *generation set, or 0 when the index has none (schema 1,
 * opened read-only). Errors: GS_ERR_IO. */
gs_status gs_index_embeddings_generation(gs_index *ix, int *have, int64_t *uid, int64_t *generation, gs_error *err);

/* The embedding dimension most tracks have, as stored (unchecked); 0 when
 * no track has an embedding. Errors: GS_ERR_IO. */
gs_status gs_index_common_embedding_dim(gs_index *ix, int64_t *dim, gs_error *err);

/* One embedded track, borrowed for the call. vector: dim floats as stored
 * (not normalised, not aligned), or NULL (see gs_index_each_embedding). */
typedef struct gs_embedding_row {
    int64_t id;
    const char *top_genre; /* NULL: none */
    const char *model_id;  /* NULL: none */
    const void *vector;
} gs_embedding_row;
/* A status other than GS_OK stops the walk, which returns it (the callback
 * has set err). */
typedef gs_status (*gs_embedding_row_fn)(const gs_embedding_row *row, void *arg, gs_error *err);

/* Calls each(row, arg, err) per embedded track in id order: with of_dim,
 * the tracks whose embedding is dim floats, with the vector; without, every
 * other embedded track (another size, or a dim column that disagrees with
 * its BLOB), vector NULL. Errors: GS_ERR_IO, or each's. */
gs_status gs_index_each_embedding(gs_index *ix, size_t dim, int of_dim, gs_embedding_row_fn each, void *arg,
                                  gs_error *err);

/* One window embedding, borrowed for the call: vector is dim floats as
 * stored (not normalised, not aligned). */
typedef struct gs_window_embedding_row {
    int64_t track_id;
    double start, end; /* seconds */
    const void *vector;
} gs_window_embedding_row;
typedef gs_status (*gs_window_embedding_fn)(const gs_window_embedding_row *row, void *arg, gs_error *err);

/* Calls each(row, arg, err) for every window embedding of dim floats of
 * the tracks at least min_seconds long, by track id, then in window order;
 * none before schema 6 (no window embeddings). A status other than GS_OK
 * from each stops the walk and is returned. Errors: GS_ERR_IO, or each's. */
gs_status gs_index_each_window_embedding(gs_index *ix, size_t dim, double min_seconds, gs_window_embedding_fn each,
                                         void *arg, gs_error *err);

/* Reads the embedding of one track into a malloc'd vector (normalised). */
gs_status gs_index_track_embedding(gs_index *ix, int64_t id, float **vec, size_t *dim, gs_error *err);

/* `query --genre/--mixed`: tracks whose top genre is top_label (when not
 * NULL) with at least min_confidence, and/or which score at least
 * min_score in every one of the mixed labels; of model_id's tracks (NULL:
 * any model's). */
typedef struct gs_genre_query {
    const char *top_label;
    double min_confidence;
    const char *const *mixed;
    int num_mixed;
    double min_score;
    const char *model_id;
    long limit; /* at most this many; -1: all */
} gs_genre_query;

/* One answer, borrowed for the call: score is the combined score of the
 * mixed labels, or the confidence. */
typedef struct gs_genre_hit {
    int64_t id;
    const char *path, *top_genre;
    double confidence, score;
} gs_genre_hit;
typedef int (*gs_genre_hit_fn)(const gs_genre_hit *hit, void *arg);

/* Runs q, best first (combined score, or confidence; then path), calling
 * each per track until it returns nonzero. *other_model receives how many
 * tracks the same query finds among other models' (0 when q->model_id is
 * NULL). Errors: GS_ERR_IO. */
gs_status gs_index_query_genres(gs_index *ix, const gs_genre_query *q, gs_genre_hit_fn each, void *arg,
                                size_t *other_model, gs_error *err);

/* What `stats` reports of the whole index. */
typedef struct gs_index_counts {
    int64_t tracks, failed, silent;
    int64_t not_music; /* 0 before schema 6, whose silent count includes them */
    int64_t seconds;   /* audio indexed, whole seconds */
    int64_t bytes;     /* the file and its write-ahead log */
} gs_index_counts;
gs_status gs_index_count(gs_index *ix, gs_index_counts *out, gs_error *err);

/* Tracks grouped by top genre (failed, silent and not-music ones left out;
 * mean = mean confidence), by tag status (failed ones left out; "none"
 * where there is none) or by model id ("?" for none); most tracks first.
 * each(key, count, mean, arg) per group until it returns nonzero. Errors:
 * GS_ERR_IO. */
typedef enum gs_index_grouping { GS_BY_GENRE, GS_BY_TAG_STATUS, GS_BY_MODEL } gs_index_grouping;
typedef int (*gs_group_fn)(const char *key, int64_t count, double mean, void *arg);
gs_status gs_index_group(gs_index *ix, gs_index_grouping by, gs_group_fn each, void *arg, gs_error *err);

/* The genre scores of track id, best first: each(label, score, arg) per
 * score until it returns nonzero. Errors: GS_ERR_IO. */
typedef int (*gs_score_fn)(const char *label, double score, void *arg);
gs_status gs_index_track_scores(gs_index *ix, int64_t id, gs_score_fn each, void *arg, gs_error *err);

/* One 30 s window of a track's timeline; label NULL for silence (the
 * model's not-music label for a window that is not music). */
typedef struct gs_timeline_window {
    double start, end; /* seconds */
    const char *label; /* borrowed for the call */
    double confidence;
} gs_timeline_window;
typedef int (*gs_timeline_fn)(const gs_timeline_window *w, void *arg);

/* The windows of track id in order: each(w, arg) per window until it
 * returns nonzero. Errors: GS_ERR_IO. */
gs_status gs_index_track_timeline(gs_index *ix, int64_t id, gs_timeline_fn each, void *arg, gs_error *err);

/* The embeddings of one track's windows (schema 6; none before) that have
 * dim floats, in window order: *n vectors (normalised) in a malloc'd
 * *vectors (n * dim) and their start and end seconds in a malloc'd *spans
 * (2 n); both NULL when n is 0. Silent windows, windows that are not music
 * and windows analysed before window embeddings have none. Errors:
 * GS_ERR_IO, GS_ERR_NOMEM (nothing to free then). */
gs_status gs_index_track_window_embeddings(gs_index *ix, int64_t id, size_t dim, float **vectors, double **spans,
                                           size_t *n, gs_error *err);

/* Resolves a genre given as a label or display name (any case) to the
 * label stored in the index; writes it to out. GS_ERR_INVALID if unknown. */
gs_status gs_index_resolve_genre(gs_index *ix, const char *name, char *out, size_t out_size, gs_error *err);

/* Groups of indexed tracks with the same decoded audio (one recording at
 * several paths: copies, or the same file in two folders). each(paths, n,
 * arg) is called once per group of n >= 2 paths (borrowed for the call),
 * groups and paths in path order; a non-zero return stops. Errors:
 * GS_ERR_UNSUPPORTED for an index older than schema 5 (no audio digests
 * until a scan migrates it), GS_ERR_IO. */
typedef int (*gs_duplicates_fn)(const char *const *paths, size_t n, void *arg);
gs_status gs_index_duplicates(gs_index *ix, gs_duplicates_fn each, void *arg, gs_error *err);

/* Which tracks gs_index_list_tracks lists: every condition given must hold. */
typedef struct gs_track_filter {
    /* NULL, or: "failed" (could not be analysed), "low-confidence" (below the
     * tagging threshold), "kept-existing" (the file had another genre),
     * "not-music", "untagged" (the file holds no genre at all), "tagged"
     * (holds the genre genrescope wrote). */
    const char *status;
    /* NULL, or a genre the file's own tag holds (one of its values, any
     * case): the user's genres as well as ours. */
    const char *file_genre;
    long limit; /* <= 0: all */
} gs_track_filter;

/* The statuses gs_track_filter understands, NULL-terminated. */
extern const char *const gs_track_statuses[];

/* Calls each(row, arg) for every track matching f, by path; a non-zero
 * return stops. Errors: GS_ERR_INVALID for an unknown status (the message
 * lists the known ones), GS_ERR_UNSUPPORTED for file_genre on an index
 * before schema 5, GS_ERR_IO. */
typedef int (*gs_track_fn)(const gs_track_row *row, void *arg);
gs_status gs_index_list_tracks(gs_index *ix, const gs_track_filter *f, gs_track_fn each, void *arg, gs_error *err);

#endif
