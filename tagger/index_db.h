/* The SQLite index: opening (WAL, foreign keys, busy timeout), schema
 * migrations keyed on PRAGMA user_version, and the writes of a scan. The
 * schema is documented in docs/schema.md. One connection per thread; during a
 * scan a single writer thread owns the connection. */
#ifndef GS_TAGGER_INDEX_DB_H
#define GS_TAGGER_INDEX_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "genrescope/classify.h"
#include "genrescope/error.h"

/* Version this build creates and understands. A database with a larger
 * user_version is refused rather than misread; a read-only open accepts an
 * older one as it is (see gs_index_schema_version). */
#define GS_INDEX_SCHEMA_VERSION 6

typedef struct gs_index gs_index;

enum {
    GS_INDEX_READ_ONLY = 1, /* never create or migrate */
    GS_INDEX_CREATE = 2     /* create the file (and its directory) if missing */
};

/* Opens path, creating/migrating it unless read-only. busy_timeout_ms is
 * how long to wait for another writer's lock. Errors: GS_ERR_IO (cannot
 * open, locked, disk full), GS_ERR_UNSUPPORTED (newer schema),
 * GS_ERR_FORMAT (not a Genrescope index / corrupt). Caller closes. */
gs_index *gs_index_open(const char *path, int flags, int busy_timeout_ms, gs_error *err);
void gs_index_close(gs_index *ix);
/* Takes the index's scan lock (one scan per index at a time) until
 * gs_index_close; a no-op for ":memory:" and when already held. Errors:
 * GS_ERR_IO, with a message saying another scan holds it when it does. */
gs_status gs_index_lock_scan(gs_index *ix, gs_error *err);
/* SQLite's quick_check: GS_OK when the file is sound, else GS_ERR_IO with
 * what is wrong, so a scan never builds on a damaged index. O(size). */
gs_status gs_index_check(gs_index *ix, gs_error *err);
/* The connection, borrowed (ix owns it). Only the index module (index_*.c)
 * and tests that forge a database use it: commands get typed queries
 * (index_read.h), so the SQL stays here. */
sqlite3 *gs_index_sqlite(gs_index *ix);
const char *gs_index_path(const gs_index *ix);
/* user_version of the open file: GS_INDEX_SCHEMA_VERSION unless it was
 * opened read-only and is older (then features of later versions, such as
 * the embedding cache's generation counter, are absent). */
int gs_index_schema_version(const gs_index *ix);

/* Registers genrescope_similarity(a, b) on db (also done by gs_index_open). */
int gs_index_register_functions(sqlite3 *db);

/* Default index location: $XDG_DATA_HOME/genrescope/index.sqlite or
 * ~/.local/share/genrescope/index.sqlite. 0 on success, -1 without HOME. */
int gs_index_default_path(char *out, size_t out_size);

/* One analysed (or failed) file, as the scan hands it to the writer. All
 * pointers are borrowed for the duration of gs_index_put. */
typedef struct gs_index_record {
    const char *path;
    int64_t size, mtime_ns;
    const char *format; /* lowercase extension */
    const char *model_id;
    int64_t analysed_at;           /* unix seconds */
    const char *error;             /* NULL: analysed; else why it failed */
    const gs_track_result *result; /* NULL when error != NULL */
    const char *const *labels;     /* result->num_labels model labels */
    int not_music_label;           /* index of the model's not-music label, or -1 */
    const char *tag_status;        /* gs_tag_outcome_name, "disabled"... */
    const char *tag_message;       /* may be NULL */
    const char *tag_genre;         /* genre genrescope wrote and the file holds, or NULL */
    uint64_t file_digest;          /* gs_file_digest after tagging, 0 if unknown; the
                                    audio digest is result->audio_digest */
    const char *file_genre;        /* the genre the file holds after the scan ("; "-
                                    joined, "" none), whoever wrote it; NULL unknown */
} gs_index_record;

gs_status gs_index_begin(gs_index *ix, gs_error *err);
gs_status gs_index_commit(gs_index *ix, gs_error *err);
void gs_index_rollback(gs_index *ix);
/* Inserts or replaces the row for rec->path with its scores, embedding and
 * windows. Inside a transaction from gs_index_begin. Its statements are
 * prepared once per connection and kept until gs_index_close. */
gs_status gs_index_put(gs_index *ix, const gs_index_record *rec, gs_error *err);

/* Updates only the tag columns of an indexed file (and its size, mtime
 * and file digest, which a tag write changes; file_digest 0 = unknown; the
 * genre the file now holds, file_genre, kept as it was when NULL),
 * inside a transaction: a tag retried from the stored verdict, without
 * re-analysis. */
gs_status gs_index_put_tag(gs_index *ix, const char *path, int64_t size, int64_t mtime_ns, const char *tag_status,
                           const char *tag_message, const char *tag_genre, uint64_t file_digest, const char *file_genre,
                           gs_error *err);

/* The track at from is now the file at to (moved or renamed, with that
 * mtime): same row, so its id, history and tag ownership stay. Inside a
 * transaction; to must not be indexed yet (GS_ERR_IO from the UNIQUE
 * constraint otherwise). A no-op when from is not indexed. */
gs_status gs_index_move(gs_index *ix, const char *from, const char *to, int64_t mtime_ns, gs_error *err);

/* Deletes the row of path and its dependent rows (no-op if absent). */
gs_status gs_index_remove(gs_index *ix, const char *path, gs_error *err);

/* The stored scores of path in the order of labels (0 for a label it has
 * no score for). */
gs_status gs_index_load_scores(gs_index *ix, const char *path, const char *const *labels, int num_labels,
                               float *probabilities, gs_error *err);

/* Records display names of labels in the genres table (for sqlite3 users). */
gs_status gs_index_put_genre(gs_index *ix, const char *label, const char *display, gs_error *err);

/* What the index knows of each path, for incremental scans. Sorted by path
 * (byte order). */
typedef struct gs_index_known {
    char *path;
    int64_t size, mtime_ns;
    char *model_id;
    int failed;                         /* error column set: retried on the next scan */
    char *top_genre;                    /* label, or NULL */
    float confidence;                   /* -1 if none */
    char *tag_status;                   /* may be NULL */
    char *tag_genre;                    /* what genrescope wrote into the file, or NULL */
    uint64_t file_digest, audio_digest; /* 0: unknown */
} gs_index_known;

gs_status gs_index_load_known(gs_index *ix, gs_index_known **out, size_t *count, gs_error *err);
void gs_index_known_free(gs_index_known *known, size_t count);
/* Binary search; NULL if absent. */
const gs_index_known *gs_index_known_find(const gs_index_known *known, size_t count, const char *path);

/* Copies every track of the index at src_path into ix (replacing rows with
 * the same path). Fails with GS_ERR_UNSUPPORTED on a newer schema version
 * (an older one has the same track tables and is accepted). Runs in one
 * transaction: all or nothing. */
gs_status gs_index_merge_from(gs_index *ix, const char *src_path, size_t *num_tracks, gs_error *err);

/* Sets err from the connection's last error, prefixed with what. */
gs_status gs_index_error(gs_index *ix, gs_error *err, const char *what);

#endif
