/* The index's storage (index_db.h): the schema and its migrations, the
 * scan's writes, merging shards. */
#include "index_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genrescope/outfile.h"
#include "similarity_sql.h"

/* The writer's statements, prepared on first use and kept until close:
 * preparing seven statements per file cost more than the inserts (a 100k
 * track index took a minute to build). */
enum {
    ST_TRACK,
    ST_DEL_SCORES,
    ST_DEL_EMB,
    ST_DEL_WINDOWS,
    ST_SCORE,
    ST_EMB,
    ST_WINDOW,
    ST_GENRE,
    ST_TAG,
    ST_REMOVE,
    ST_SCORES_OF,
    ST_MOVE,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_TRACK] = "INSERT INTO tracks(path, size, mtime_ns, duration, format, model_id, top_genre,"
                 " confidence, analysed_at, tag_status, tag_message, error, tag_genre, file_digest, audio_digest,"
                 " file_genre, verdict)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                 " ON CONFLICT(path) DO UPDATE SET size = ?2, mtime_ns = ?3, duration = ?4, format = ?5,"
                 " model_id = ?6, top_genre = ?7, confidence = ?8, analysed_at = ?9, tag_status = ?10,"
                 " tag_message = ?11, error = ?12, tag_genre = ?13, file_digest = ?14, audio_digest = ?15,"
                 " file_genre = ?16, verdict = ?17 RETURNING id",
    [ST_DEL_SCORES] = "DELETE FROM scores WHERE track_id = ?1",
    [ST_DEL_EMB] = "DELETE FROM embeddings WHERE track_id = ?1",
    [ST_DEL_WINDOWS] = "DELETE FROM windows WHERE track_id = ?1",
    [ST_SCORE] = "INSERT INTO scores(track_id, genre, score) VALUES (?1, ?2, ?3)",
    [ST_EMB] = "INSERT INTO embeddings(track_id, dim, vector) VALUES (?1, ?2, ?3)",
    [ST_WINDOW] = "INSERT INTO windows(track_id, idx, start, end, top_genre, confidence,"
                  " probabilities, embedding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_GENRE] = "INSERT INTO genres(label, display) VALUES (?1, ?2)"
                 " ON CONFLICT(label) DO UPDATE SET display = ?2",
    [ST_TAG] = "UPDATE tracks SET size = ?2, mtime_ns = ?3, tag_status = ?4, tag_message = ?5,"
               " tag_genre = ?6, file_digest = ?7, file_genre = coalesce(?8, file_genre) WHERE path = ?1",
    [ST_REMOVE] = "DELETE FROM tracks WHERE path = ?1",
    [ST_SCORES_OF] = "SELECT s.genre, s.score FROM scores s JOIN tracks t ON t.id = s.track_id"
                     " WHERE t.path = ?1",
    [ST_MOVE] = "UPDATE tracks SET path = ?2, mtime_ns = ?3 WHERE path = ?1",
};

struct gs_index {
    sqlite3 *db;
    char *path;
    int schema_version;
    int scan_lock_fd; /* flock'ed descriptor of the database file, or -1 */
    sqlite3_stmt *stmt[ST_COUNT];
};

/* migrations[i] takes a database from user_version i to i + 1. Append,
 * never edit: users' files were made by the old steps. */
static const char *const migrations[GS_INDEX_SCHEMA_VERSION] = {
    "CREATE TABLE tracks ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  duration REAL,"
    "  format TEXT,"
    "  model_id TEXT NOT NULL,"
    "  top_genre TEXT,"
    "  confidence REAL,"
    "  analysed_at INTEGER NOT NULL,"
    "  tag_status TEXT,"
    "  tag_message TEXT,"
    "  error TEXT"
    ");"
    "CREATE INDEX tracks_genre ON tracks(top_genre, confidence);"
    "CREATE INDEX tracks_failed ON tracks(error) WHERE error IS NOT NULL;"
    "CREATE TABLE genres ("
    "  label TEXT PRIMARY KEY,"
    "  display TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE scores ("
    "  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,"
    "  genre TEXT NOT NULL,"
    "  score REAL NOT NULL,"
    "  PRIMARY KEY (track_id, genre)"
    ") WITHOUT ROWID;"
    "CREATE INDEX scores_genre ON scores(genre, score);"
    "CREATE TABLE embeddings ("
    "  track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,"
    "  dim INTEGER NOT NULL,"
    "  vector BLOB NOT NULL"
    ");"
    "CREATE TABLE windows ("
    "  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  start REAL NOT NULL,"
    "  end REAL NOT NULL,"
    "  top_genre TEXT,"
    "  confidence REAL,"
    "  probabilities BLOB,"
    "  PRIMARY KEY (track_id, idx)"
    ") WITHOUT ROWID;",

    /* 1 -> 2: a generation counter that every change to what similarity
     * search reads (embeddings, a track's genre or its removal) bumps, in
     * the same transaction, whoever makes it (a scan, a merge, a user in
     * the sqlite3 shell). The embedding cache (emb_cache.c) is keyed on it
     * and on a random identity of this file. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('index_uid', random()), ('embeddings_generation', 1);"
    "CREATE TRIGGER embeddings_gen_insert AFTER INSERT ON embeddings BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER embeddings_gen_update AFTER UPDATE ON embeddings BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER embeddings_gen_delete AFTER DELETE ON embeddings BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER tracks_gen_update AFTER UPDATE OF id, top_genre ON tracks BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER tracks_gen_delete AFTER DELETE ON tracks BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;",

    /* 2 -> 3: the exact genre genrescope wrote into the file ("; "-joined),
     * so a genre a user set by hand is told from ours even when the tag
     * editor kept our confidence field. Tags written before are assumed to
     * hold the display name of the top genre; where the guess is wrong the
     * file's genre counts as the user's and is kept, which loses nothing. */
    "ALTER TABLE tracks ADD COLUMN tag_genre TEXT;"
    "UPDATE tracks SET tag_genre = (SELECT display FROM genres WHERE label = tracks.top_genre)"
    " WHERE tag_status = 'written';",

    /* 3 -> 4: similarity only compares tracks of one model (embeddings of
     * different models are not comparable), so the cache carries each
     * track's model_id and a change of it must make the cache stale too. */
    "DROP TRIGGER tracks_gen_update;"
    "CREATE TRIGGER tracks_gen_update AFTER UPDATE OF id, top_genre, model_id ON tracks BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;",

    /* 4 -> 5: a file's identity beyond its path, so a moved or renamed file
     * stays the same track (no re-analysis; history and tag ownership
     * kept) and duplicates can be found: file_digest is the file as it is
     * (size, first and last 64 KiB: a plain move keeps it), audio_digest the
     * decoded audio (a tag edit keeps it). NULL where unknown (rows from
     * before; the fake analyser of the tests has no audio digest). The
     * cache's SQL reads paths, so a move must make it stale too. */
    "ALTER TABLE tracks ADD COLUMN file_digest INTEGER;"
    "ALTER TABLE tracks ADD COLUMN audio_digest INTEGER;"
    /* ...and the genre the file holds, whoever wrote it ("" none, NULL
     * unknown), so a library can be searched by its own tags. */
    "ALTER TABLE tracks ADD COLUMN file_genre TEXT;"
    "CREATE INDEX tracks_audio ON tracks(audio_digest) WHERE audio_digest IS NOT NULL;"
    "DROP TRIGGER tracks_gen_update;"
    "CREATE TRIGGER tracks_gen_update AFTER UPDATE OF id, path, top_genre, model_id ON tracks BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;",

    /* 5 -> 6: each window's own embedding (the mean over its patches, as
     * the track's is over all), so `similar` can compare the parts of a
     * long track (a DJ mix) instead of one mean that is like everything
     * and nothing. NULL for windows analysed before and for silent ones.
     * The cache holds the parts of long tracks, so their changes make it
     * stale as embeddings' do. */
    "ALTER TABLE windows ADD COLUMN embedding BLOB;"
    "CREATE TRIGGER windows_gen_insert AFTER INSERT ON windows BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER windows_gen_update AFTER UPDATE ON windows BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    "CREATE TRIGGER windows_gen_delete AFTER DELETE ON windows BEGIN"
    "  UPDATE meta SET value = value + 1 WHERE key = 'embeddings_generation'; END;"
    /* Long tracks (10 min: GS_EMB_PART_MIN_SECONDS when this was written)
     * are analysed again by the next scan, so they get their parts; no
     * file has a modification time of 0, so they count as changed. */
    "UPDATE tracks SET mtime_ns = 0 WHERE duration >= 600 AND error IS NULL;"
    /* ...and the verdict, so silence and "not music" are told apart
     * whether or not tags were written (tag_status says 'disabled' under
     * --no-tags): genre, silent or not-music; NULL for a failed file. A
     * silent track has all-zero scores, one that is not music has some. */
    "ALTER TABLE tracks ADD COLUMN verdict TEXT;"
    "UPDATE tracks SET verdict = CASE WHEN error IS NOT NULL THEN NULL"
    " WHEN top_genre IS NOT NULL THEN 'genre'"
    " WHEN EXISTS (SELECT 1 FROM scores WHERE track_id = tracks.id AND score > 0) THEN 'not-music'"
    " ELSE 'silent' END;",
};

gs_status gs_index_error(gs_index *ix, gs_error *err, const char *what)
{
    int code = sqlite3_extended_errcode(ix->db) & 0xff;
    gs_status st = GS_ERR_IO;
    const char *hint = "";
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        hint = " (another genrescope is writing it? try again when it is done, or raise "
               "--busy-timeout)";
    else if (code == SQLITE_FULL)
        hint = " (free some space; everything committed before is intact)";
    else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        st = GS_ERR_FORMAT;
    return gs_error_set(err, st, "%s %s: %s%s", what, ix->path, sqlite3_errmsg(ix->db), hint);
}

int gs_index_register_functions(sqlite3 *db)
{
    return sqlite3_create_function(db, "genrescope_similarity", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, gs_sql_similarity, NULL,
                                   NULL);
}

int gs_index_default_path(char *out, size_t out_size)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = snprintf(out, out_size, "%s/genrescope/index.sqlite", xdg);
    else if (home && *home)
        n = snprintf(out, out_size, "%s/.local/share/genrescope/index.sqlite", home);
    else
        return -1;
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}

static int mkdir_parents(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static gs_status exec(gs_index *ix, const char *sql, gs_error *err, const char *what)
{
    if (sqlite3_exec(ix->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, what);
    return GS_OK;
}

static int user_version(gs_index *ix, int *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

static gs_status migrate(gs_index *ix, int read_only, gs_error *err)
{
    int v;
    if (user_version(ix, &v) != 0)
        return gs_index_error(ix, err, "cannot read");
    if (v > GS_INDEX_SCHEMA_VERSION)
        return gs_error_set(err, GS_ERR_UNSUPPORTED,
                            "index %s has schema version %d, newer than this genrescope "
                            "understands (%d); upgrade genrescope (the file was left unchanged)",
                            ix->path, v, GS_INDEX_SCHEMA_VERSION);
    ix->schema_version = v;
    if (v == GS_INDEX_SCHEMA_VERSION)
        return GS_OK;
    /* Later versions only add tables, so the readers work on an older index
     * (without the embedding cache, which needs version 2) until the next
     * scan migrates it; a read-only open never writes. */
    if (read_only && v >= 1)
        return GS_OK;
    if (read_only)
        return gs_error_set(err, GS_ERR_FORMAT,
                            "%s is not a Genrescope index (run 'genrescope scan' "
                            "first)",
                            ix->path);
    if (v == 0) {
        /* user_version 0 with tables of its own means someone else's file. */
        sqlite3_stmt *s;
        int foreign = 0;
        if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM sqlite_schema", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                foreign = sqlite3_column_int(s, 0) > 0;
            sqlite3_finalize(s);
        } else {
            return gs_index_error(ix, err, "cannot read");
        }
        if (foreign)
            return gs_error_set(err, GS_ERR_FORMAT,
                                "%s is an SQLite database but not a Genrescope index; refusing "
                                "to modify it",
                                ix->path);
    }
    gs_status st = exec(ix, "BEGIN IMMEDIATE", err, "cannot lock");
    if (st != GS_OK)
        return st;
    /* Re-read under the lock: another process may have migrated meanwhile. */
    if (user_version(ix, &v) != 0) {
        gs_index_rollback(ix);
        return gs_index_error(ix, err, "cannot read");
    }
    for (; v < GS_INDEX_SCHEMA_VERSION; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((st = exec(ix, migrations[v], err, "cannot migrate")) != GS_OK ||
            (st = exec(ix, pragma, err, "cannot migrate")) != GS_OK) {
            gs_index_rollback(ix);
            return st;
        }
    }
    st = exec(ix, "COMMIT", err, "cannot migrate");
    if (st == GS_OK)
        ix->schema_version = GS_INDEX_SCHEMA_VERSION;
    return st;
}

gs_index *gs_index_open(const char *path, int flags, int busy_timeout_ms, gs_error *err)
{
    int read_only = flags & GS_INDEX_READ_ONLY;
    /* SQLite would open a device or FIFO and put its journal next to it
     * (/dev/null-journal as root): an index is a regular file or nothing. */
    struct stat pst;
    if (strcmp(path, ":memory:") != 0 && stat(path, &pst) == 0 && !S_ISREG(pst.st_mode)) {
        gs_error_set(err, GS_ERR_IO, "%s is %s, not an index file", path, gs_file_kind_name(pst.st_mode));
        return NULL;
    }
    if (!read_only && (flags & GS_INDEX_CREATE) && mkdir_parents(path) != 0) {
        gs_error_set(err, GS_ERR_IO, "cannot create the directory of %s: %s", path, strerror(errno));
        return NULL;
    }
    gs_index *ix = calloc(1, sizeof *ix);
    if (ix)
        ix->scan_lock_fd = -1;
    if (!ix || !(ix->path = strdup(path))) {
        free(ix);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int oflags =
        read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | ((flags & GS_INDEX_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &ix->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (!ix->db) {
            gs_error_set(err, GS_ERR_NOMEM, "out of memory opening %s", path);
        } else {
            gs_index_error(ix, err, "cannot open");
            if (sqlite3_errcode(ix->db) == SQLITE_CANTOPEN)
                gs_error_set(err, GS_ERR_IO, "cannot open index %s: %s", path,
                             read_only ? "no such index (run 'genrescope scan' first)" : strerror(errno));
        }
        gs_index_close(ix);
        return NULL;
    }
    sqlite3_busy_timeout(ix->db, busy_timeout_ms);
    gs_status st = GS_OK;
    /* The writer's inserts land all over the score and genre indices; with
     * SQLite's default 2 MB page cache a large batch spills and rewrites
     * the same pages (a 32 MB cache built the 100k track benchmark index in
     * 13 s instead of 22.5 s). */
    if (!read_only)
        st = exec(ix, "PRAGMA journal_mode = WAL; PRAGMA cache_size = -32768", err, "cannot open");
    if (st == GS_OK)
        st = exec(ix, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", err, "cannot open");
    if (st == GS_OK)
        st = migrate(ix, read_only, err);
    if (st == GS_OK && gs_index_register_functions(ix->db) != SQLITE_OK)
        st = gs_index_error(ix, err, "cannot register functions on");
    if (st != GS_OK) {
        gs_index_close(ix);
        return NULL;
    }
    return ix;
}

void gs_index_close(gs_index *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(ix->stmt[i]);
    sqlite3_close_v2(ix->db);
    if (ix->scan_lock_fd >= 0)
        close(ix->scan_lock_fd); /* releases the scan lock */
    free(ix->path);
    free(ix);
}

gs_status gs_index_check(gs_index *ix, gs_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(ix->db, "PRAGMA quick_check(3)", -1, &s, NULL) != SQLITE_OK)
        return gs_error_set(err, GS_ERR_IO, "%s: cannot check the index: %s", ix->path, sqlite3_errmsg(ix->db));
    char problems[256] = "";
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(s, 0);
        if (line && strcmp(line, "ok") != 0 && strlen(problems) + strlen(line) + 3 < sizeof problems)
            snprintf(problems + strlen(problems), sizeof problems - strlen(problems), "%s%s", problems[0] ? "; " : "",
                     line);
    }
    const char *damage = rc != SQLITE_DONE ? sqlite3_errmsg(ix->db) : problems[0] ? problems : NULL;
    gs_status st = GS_OK;
    if (damage) {
        st = gs_error_set(err, GS_ERR_IO,
                          "%s: the index is damaged (%s); restore a backup or scan into a new "
                          "index with --db",
                          ix->path, damage);
        for (char *c = err ? err->message : NULL; c && *c; c++)
            if (*c == '\n')
                *c = ' '; /* quick_check reports several lines: keep one */
    }
    sqlite3_finalize(s);
    return st;
}

gs_status gs_index_lock_scan(gs_index *ix, gs_error *err)
{
    if (!ix || !ix->path || !strcmp(ix->path, ":memory:") || ix->scan_lock_fd >= 0)
        return GS_OK;
    /* flock on the database file itself: SQLite's own locks are fcntl
     * locks, which Linux keeps apart, and no lock file is left behind. The
     * kernel drops it when the process dies, kill -9 included. */
    int fd = open(ix->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return gs_error_set(err, GS_ERR_IO, "cannot lock %s: %s", ix->path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return gs_error_set(err, GS_ERR_IO,
                                "another scan is using %s; wait for it to finish (or stop it) and run again", ix->path);
        return gs_error_set(err, GS_ERR_IO, "cannot lock %s: %s", ix->path, strerror(e));
    }
    ix->scan_lock_fd = fd;
    return GS_OK;
}

sqlite3 *gs_index_sqlite(gs_index *ix)
{
    return ix->db;
}

const char *gs_index_path(const gs_index *ix)
{
    return ix->path;
}

int gs_index_schema_version(const gs_index *ix)
{
    return ix->schema_version;
}

gs_status gs_index_begin(gs_index *ix, gs_error *err)
{
    return exec(ix, "BEGIN IMMEDIATE", err, "cannot lock");
}

gs_status gs_index_commit(gs_index *ix, gs_error *err)
{
    gs_status st = exec(ix, "COMMIT", err, "cannot write");
    if (st != GS_OK)
        gs_index_rollback(ix);
    return st;
}

void gs_index_rollback(gs_index *ix)
{
    if (!sqlite3_get_autocommit(ix->db))
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/* Digests are 64-bit patterns in SQLite's signed integers; 0 is "unknown". */
static int bind_digest(sqlite3_stmt *s, int i, uint64_t v)
{
    return v ? sqlite3_bind_int64(s, i, (sqlite3_int64)v) : sqlite3_bind_null(s, i);
}

/* The cached statement, reset and with every parameter NULL, or NULL with
 * err set. */
static sqlite3_stmt *stmt(gs_index *ix, int which, gs_error *err)
{
    sqlite3_stmt *s = ix->stmt[which];
    if (!s) {
        if (sqlite3_prepare_v3(ix->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
            gs_index_error(ix, err, "cannot write");
            return NULL;
        }
        ix->stmt[which] = s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static gs_status run(gs_index *ix, sqlite3_stmt *s, gs_error *err)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        /* The message is the connection's; read it before the reset. */
        gs_status st = gs_index_error(ix, err, "cannot write");
        sqlite3_reset(s);
        return st;
    }
    sqlite3_reset(s);
    return GS_OK;
}

gs_status gs_index_put(gs_index *ix, const gs_index_record *rec, gs_error *err)
{
    gs_status st = GS_OK;
    const gs_track_result *r = rec->error ? NULL : rec->result;
    sqlite3_stmt *s = stmt(ix, ST_TRACK, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    bind_text(s, 1, rec->path);
    sqlite3_bind_int64(s, 2, rec->size);
    sqlite3_bind_int64(s, 3, rec->mtime_ns);
    if (r)
        sqlite3_bind_double(s, 4, r->duration_seconds);
    bind_text(s, 5, rec->format);
    bind_text(s, 6, rec->model_id);
    if (r && r->top_label >= 0) {
        bind_text(s, 7, rec->labels[r->top_label]);
        sqlite3_bind_double(s, 8, r->confidence);
    }
    sqlite3_bind_int64(s, 9, rec->analysed_at);
    bind_text(s, 10, rec->tag_status);
    bind_text(s, 11, rec->tag_message);
    bind_text(s, 12, rec->error);
    bind_text(s, 13, rec->tag_genre);
    bind_digest(s, 14, rec->file_digest);
    bind_digest(s, 15, r ? r->audio_digest : 0);
    bind_text(s, 16, rec->file_genre);
    bind_text(s, 17, r && !rec->error ? gs_verdict_kind_name(r->verdict) : NULL);
    int rc = sqlite3_step(s);
    sqlite3_int64 id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    if (rc != SQLITE_DONE || id < 0) {
        st = gs_index_error(ix, err, "cannot write");
        sqlite3_reset(s);
        return st;
    }
    sqlite3_reset(s);

    /* Replace the dependent rows wholesale: simpler than diffing and the
     * same cost for a re-analysed file. */
    static const int deletes[] = {ST_DEL_SCORES, ST_DEL_EMB, ST_DEL_WINDOWS};
    for (size_t i = 0; i < 3 && st == GS_OK; i++) {
        if (!(s = stmt(ix, deletes[i], err)))
            return err ? err->code : GS_ERR_IO;
        sqlite3_bind_int64(s, 1, id);
        st = run(ix, s, err);
    }
    if (st != GS_OK || !r)
        return st;

    for (int i = 0; i < r->num_labels && st == GS_OK; i++) {
        if (!(s = stmt(ix, ST_SCORE, err)))
            return err ? err->code : GS_ERR_IO;
        sqlite3_bind_int64(s, 1, id);
        bind_text(s, 2, rec->labels[i]);
        sqlite3_bind_double(s, 3, r->probabilities[i]);
        st = run(ix, s, err);
    }
    if (st != GS_OK)
        return st;

    if (r->embedding_size > 0 && r->top_label >= 0) {
        if (!(s = stmt(ix, ST_EMB, err)))
            return err ? err->code : GS_ERR_IO;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int(s, 2, r->embedding_size);
        sqlite3_bind_blob(s, 3, r->embedding, r->embedding_size * (int)sizeof(float), SQLITE_TRANSIENT);
        if ((st = run(ix, s, err)) != GS_OK)
            return st;
    }

    for (int w = 0; w < r->num_windows && st == GS_OK; w++) {
        const gs_window_verdict *v = &r->windows[w];
        if (!(s = stmt(ix, ST_WINDOW, err)))
            return err ? err->code : GS_ERR_IO;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int(s, 2, w);
        sqlite3_bind_double(s, 3, v->start_seconds);
        sqlite3_bind_double(s, 4, v->end_seconds);
        if (v->top_label >= 0 && v->top_label < r->num_labels) {
            bind_text(s, 5, rec->labels[v->top_label]);
            sqlite3_bind_double(s, 6, v->confidence);
        } else if (v->verdict == GS_VERDICT_NOT_MUSIC && rec->not_music_label >= 0 &&
                   rec->not_music_label < r->num_labels) {
            /* The timeline says "not music" (a spoken intro), not silence. */
            bind_text(s, 5, rec->labels[rec->not_music_label]);
            sqlite3_bind_double(s, 6, v->not_music);
        }
        if (v->probabilities)
            sqlite3_bind_blob(s, 7, v->probabilities, r->num_labels * (int)sizeof(float), SQLITE_TRANSIENT);
        /* Only where the track has an embedding (music) and the window
         * had patches to average: a silent window's zero vector is no
         * embedding. */
        if (v->embedding && r->embedding_size > 0 && r->top_label >= 0 && v->num_patches > 0)
            sqlite3_bind_blob(s, 8, v->embedding, r->embedding_size * (int)sizeof(float), SQLITE_TRANSIENT);
        st = run(ix, s, err);
    }
    return st;
}

gs_status gs_index_put_genre(gs_index *ix, const char *label, const char *display, gs_error *err)
{
    sqlite3_stmt *s = stmt(ix, ST_GENRE, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    bind_text(s, 1, label);
    bind_text(s, 2, display);
    return run(ix, s, err);
}

gs_status gs_index_put_tag(gs_index *ix, const char *path, int64_t size, int64_t mtime_ns, const char *tag_status,
                           const char *tag_message, const char *tag_genre, uint64_t file_digest, const char *file_genre,
                           gs_error *err)
{
    sqlite3_stmt *s = stmt(ix, ST_TAG, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    bind_text(s, 1, path);
    sqlite3_bind_int64(s, 2, size);
    sqlite3_bind_int64(s, 3, mtime_ns);
    bind_text(s, 4, tag_status);
    bind_text(s, 5, tag_message);
    bind_text(s, 6, tag_genre);
    bind_digest(s, 7, file_digest);
    bind_text(s, 8, file_genre);
    return run(ix, s, err);
}

gs_status gs_index_move(gs_index *ix, const char *from, const char *to, int64_t mtime_ns, gs_error *err)
{
    sqlite3_stmt *s = stmt(ix, ST_MOVE, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    bind_text(s, 1, from);
    bind_text(s, 2, to);
    sqlite3_bind_int64(s, 3, mtime_ns);
    return run(ix, s, err);
}

gs_status gs_index_remove(gs_index *ix, const char *path, gs_error *err)
{
    sqlite3_stmt *s = stmt(ix, ST_REMOVE, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    bind_text(s, 1, path);
    return run(ix, s, err);
}

gs_status gs_index_load_scores(gs_index *ix, const char *path, const char *const *labels, int num_labels,
                               float *probabilities, gs_error *err)
{
    sqlite3_stmt *s = stmt(ix, ST_SCORES_OF, err);
    if (!s)
        return err ? err->code : GS_ERR_IO;
    for (int i = 0; i < num_labels; i++)
        probabilities[i] = 0.0f;
    bind_text(s, 1, path);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *g = (const char *)sqlite3_column_text(s, 0);
        for (int i = 0; g && i < num_labels; i++)
            if (!strcmp(labels[i], g))
                probabilities[i] = (float)sqlite3_column_double(s, 1);
    }
    gs_status st = rc == SQLITE_DONE ? GS_OK : gs_index_error(ix, err, "cannot read");
    sqlite3_reset(s);
    return st;
}

static char *dup_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

gs_status gs_index_load_known(gs_index *ix, gs_index_known **out, size_t *count, gs_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT path, size, mtime_ns, model_id, error IS NOT NULL, top_genre,"
                           " confidence, tag_status, tag_genre, file_digest, audio_digest FROM tracks"
                           " ORDER BY path",
                           -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot read");
    size_t cap = 0;
    gs_index_known *k = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 1024;
            gs_index_known *nk = realloc(k, cap * sizeof *nk);
            if (!nk) {
                sqlite3_finalize(s);
                gs_index_known_free(k, *count);
                *count = 0;
                return gs_error_set(err, GS_ERR_NOMEM, "out of memory reading the index");
            }
            k = nk;
        }
        gs_index_known *e = &k[(*count)++];
        e->path = dup_col(s, 0);
        e->size = sqlite3_column_int64(s, 1);
        e->mtime_ns = sqlite3_column_int64(s, 2);
        e->model_id = dup_col(s, 3);
        e->failed = sqlite3_column_int(s, 4);
        e->top_genre = dup_col(s, 5);
        e->confidence = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1.0f : (float)sqlite3_column_double(s, 6);
        e->tag_status = dup_col(s, 7);
        e->tag_genre = dup_col(s, 8);
        e->file_digest = (uint64_t)sqlite3_column_int64(s, 9); /* NULL reads as 0: unknown */
        e->audio_digest = (uint64_t)sqlite3_column_int64(s, 10);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        gs_index_known_free(k, *count);
        *count = 0;
        return gs_index_error(ix, err, "cannot read");
    }
    *out = k;
    return GS_OK;
}

void gs_index_known_free(gs_index_known *known, size_t count)
{
    for (size_t i = 0; known && i < count; i++) {
        free(known[i].path);
        free(known[i].model_id);
        free(known[i].top_genre);
        free(known[i].tag_status);
        free(known[i].tag_genre);
    }
    free(known);
}

const gs_index_known *gs_index_known_find(const gs_index_known *known, size_t count, const char *path)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(known[mid].path ? known[mid].path : "", path);
        if (c == 0)
            return &known[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

gs_status gs_index_merge_from(gs_index *ix, const char *src_path, size_t *num_tracks, gs_error *err)
{
    /* Validate the shard through the normal read-only open: same schema
     * checks and messages as any index. */
    gs_index *src = gs_index_open(src_path, GS_INDEX_READ_ONLY, 5000, err);
    if (!src)
        return err ? err->code : GS_ERR_IO;
    int src_version = gs_index_schema_version(src);
    gs_index_close(src);

    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(ix->db, "ATTACH DATABASE ?1 AS shard", -1, &s, NULL) != SQLITE_OK)
        return gs_index_error(ix, err, "cannot attach to");
    bind_text(s, 1, src_path);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return gs_index_error(ix, err, "cannot attach shard to");

    /* A shard older than schema 3 has no tag_genre: its tags count as the
     * users' (kept), never as ours (replaced). One older than 5 has no
     * identity (digests, the file's genre: NULL is "unknown", never
     * wrong), one older than 6 no window embeddings. */
    const int v3 = src_version >= 3, v5 = src_version >= 5, v6 = src_version >= 6;
    char steps[8192];
    int n = snprintf(steps, sizeof steps, "%s%s, %s, %s, %s, %s%s%s%s",
                     "INSERT INTO main.tracks(path, size, mtime_ns, duration, format, model_id, top_genre,"
                     " confidence, analysed_at, tag_status, tag_message, error, tag_genre, file_digest,"
                     " audio_digest, file_genre, verdict)"
                     " SELECT path, size, mtime_ns, duration, format, model_id, top_genre, confidence,"
                     " analysed_at, tag_status, tag_message, error, ",
                     v3 ? "tag_genre" : "NULL", v5 ? "file_digest" : "NULL", v5 ? "audio_digest" : "NULL",
                     v5 ? "file_genre" : "NULL",
                     v6 ? "verdict"
                        : "CASE WHEN error IS NOT NULL THEN NULL WHEN top_genre IS NOT NULL THEN 'genre'"
                          " WHEN EXISTS (SELECT 1 FROM shard.scores WHERE track_id = shard.tracks.id AND score > 0)"
                          " THEN 'not-music' ELSE 'silent' END",
                     " FROM shard.tracks WHERE true"
                     " ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                     " duration = excluded.duration, format = excluded.format, model_id = excluded.model_id,"
                     " top_genre = excluded.top_genre, confidence = excluded.confidence,"
                     " analysed_at = excluded.analysed_at, tag_status = excluded.tag_status,"
                     " tag_message = excluded.tag_message, error = excluded.error,"
                     " tag_genre = excluded.tag_genre, file_digest = excluded.file_digest,"
                     " audio_digest = excluded.audio_digest, file_genre = excluded.file_genre,"
                     " verdict = excluded.verdict;"
                     "CREATE TEMP TABLE idmap AS SELECT t.id AS src, m.id AS dst FROM shard.tracks t"
                     " JOIN main.tracks m ON m.path = t.path;"
                     "DELETE FROM main.scores WHERE track_id IN (SELECT dst FROM idmap);"
                     "DELETE FROM main.embeddings WHERE track_id IN (SELECT dst FROM idmap);"
                     "DELETE FROM main.windows WHERE track_id IN (SELECT dst FROM idmap);"
                     "INSERT INTO main.scores(track_id, genre, score) SELECT i.dst, s.genre, s.score"
                     " FROM shard.scores s JOIN idmap i ON i.src = s.track_id;"
                     "INSERT INTO main.embeddings(track_id, dim, vector) SELECT i.dst, e.dim, e.vector"
                     " FROM shard.embeddings e JOIN idmap i ON i.src = e.track_id;"
                     "INSERT INTO main.windows(track_id, idx, start, end, top_genre, confidence, probabilities,"
                     " embedding) SELECT i.dst, w.idx, w.start, w.end, w.top_genre, w.confidence, w.probabilities, ",
                     v6 ? "w.embedding" : "NULL",
                     " FROM shard.windows w JOIN idmap i ON i.src = w.track_id;"
                     "INSERT INTO main.genres(label, display) SELECT label, display FROM shard.genres WHERE true"
                     " ON CONFLICT(label) DO UPDATE SET display = excluded.display;");
    gs_status st = n < 0 || (size_t)n >= sizeof steps
        ? gs_error_set(err, GS_ERR_INVALID, "internal error: merge statement too long")
        : gs_index_begin(ix, err);
    if (st == GS_OK && sqlite3_exec(ix->db, steps, NULL, NULL, NULL) != SQLITE_OK)
        st = gs_index_error(ix, err, "cannot merge into");
    if (st == GS_OK && num_tracks) {
        *num_tracks = 0;
        if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM idmap", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                *num_tracks = (size_t)sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
    }
    if (st == GS_OK)
        st = gs_index_commit(ix, err);
    else
        gs_index_rollback(ix);
    sqlite3_exec(ix->db, "DROP TABLE IF EXISTS temp.idmap", NULL, NULL, NULL);
    sqlite3_exec(ix->db, "DETACH DATABASE shard", NULL, NULL, NULL);
    return st;
}
