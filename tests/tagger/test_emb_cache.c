/* The embedding cache (<db>.emb) and the writer's cached statements:
 * - `similar` through the cache gives exactly the brute-force SQLite path's
 *   results (gs_embedding_set_load + dot products + sort), with and without
 *   a genre filter, on an index mixing dimensions, failures and silence;
 * - a stale cache is detected and rebuilt after every kind of change
 *   (new track, re-analysed track, deleted track, changed genre by hand, a
 *   merge), and an old, truncated, corrupted or foreign cache file is never
 *   trusted;
 * - a read-only index of schema 1 is searched from memory and migrated to
 *   schema 2 by a writer;
 * - statements reused across puts do not leak a previous record's values. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "emb_cache.h"
#include "index_db.h"
#include "index_read.h"
#include "similar_query.h"
#include "similarity.h"
#include "support/rng.h"
#include "support/tmpdir.h"

enum { DIM = 16, LABELS = 4 };
static const char *const labels[LABELS] = {"jazz", "hiphop", "rock", "blues"};
static uint32_t rng = 12345;

static float frand(void)
{
    return (float)(gs_test_lcg32(&rng) >> 8) / 16777216.0f - 0.5f;
}

/* Puts track i with a random (unnormalised) embedding of dim floats; top
 * < 0 means silent (no embedding), error != NULL a failure. */
static gs_status put(gs_index *ix, int i, int dim, int top, const char *error)
{
    float probs[LABELS], emb[64], wp[LABELS];
    for (int k = 0; k < LABELS; k++)
        probs[k] = wp[k] = k == top ? 0.7f : 0.1f;
    for (int k = 0; k < dim; k++)
        emb[k] = frand() * 3.0f;
    gs_window_verdict w = {.start_seconds = 0,
                           .end_seconds = 30,
                           .top_label = top,
                           .confidence = 0.7f,
                           .num_patches = 1,
                           .probabilities = wp};
    gs_track_result r = {.num_labels = LABELS,
                         .top_label = top,
                         .confidence = top >= 0 ? 0.7f : 0,
                         .probabilities = probs,
                         .embedding_size = dim,
                         .embedding = emb,
                         .num_windows = 1,
                         .windows = &w,
                         .duration_seconds = 30};
    char path[64];
    snprintf(path, sizeof path, "/music/%04d.flac", i);
    gs_index_record rec = {.path = path,
                           .size = 1000 + i,
                           .mtime_ns = i,
                           .format = "flac",
                           .model_id = "m",
                           .analysed_at = 1,
                           .error = error,
                           .result = error ? NULL : &r,
                           .labels = labels,
                           .tag_status = "disabled"};
    gs_error err;
    gs_status st = gs_index_put(ix, &rec, &err);
    CHECK_MSG(st == GS_OK, "%s", err.message);
    return st;
}

static void build(gs_index *ix, int n)
{
    gs_error err;
    CHECK(gs_index_begin(ix, &err) == GS_OK);
    for (int i = 0; i < n; i++) {
        if (i % 37 == 5)
            put(ix, i, DIM, 0, "not audio");
        else if (i % 41 == 7)
            put(ix, i, DIM, -1, NULL); /* silent: no embedding */
        else if (i % 29 == 3)
            put(ix, i, 8, i % LABELS, NULL); /* another model's size: left out */
        else
            put(ix, i, DIM, i % LABELS, NULL);
    }
    CHECK(gs_index_commit(ix, &err) == GS_OK);
}

static void exec_sql(gs_index *ix, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(gs_index_sqlite(ix), sql, NULL, NULL, &msg);
    CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_free(msg);
}

static int by_score_desc(const void *a, const void *b)
{
    const gs_scored *x = a, *y = b;
    if (x->score != y->score)
        return (x->score < y->score) - (x->score > y->score);
    return (x->index > y->index) - (x->index < y->index);
}

/* The reference: every embedding through SQLite, full sort. */
static size_t brute_force(gs_index *ix, int64_t qid, const char *genre, size_t k, int64_t *ids, float *scores,
                          char paths[][64])
{
    gs_error err;
    gs_embedding_set all, set;
    CHECK(gs_embedding_set_load(ix, NULL, &all, &err) == GS_OK);
    CHECK(gs_embedding_set_load(ix, genre, &set, &err) == GS_OK);
    long qi = gs_embedding_set_find(&all, qid);
    CHECK(qi >= 0);
    size_t n = 0;
    gs_scored *s = calloc(set.count + 1, sizeof *s);
    for (size_t i = 0; qi >= 0 && i < set.count; i++)
        if (set.ids[i] != qid)
            s[n++] =
                (gs_scored){.index = (long)i,
                            .score = gs_dot(all.vectors + (size_t)qi * all.dim, set.vectors + i * set.dim, set.dim)};
    qsort(s, n, sizeof *s, by_score_desc);
    if (n > k)
        n = k;
    for (size_t i = 0; i < n; i++) {
        ids[i] = set.ids[s[i].index];
        scores[i] = s[i].score;
        snprintf(paths[i], 64, "%s", set.paths[s[i].index]);
    }
    free(s);
    gs_embedding_set_free(&set);
    gs_embedding_set_free(&all);
    return n;
}

/* similar(qid) through the cache == brute force; returns the source. */
static int compare(gs_index *ix, int64_t qid, const char *genre, size_t k, const char *what)
{
    int64_t ids[64];
    float scores[64];
    char paths[64][64];
    size_t n = brute_force(ix, qid, genre, k, ids, scores, paths);
    char ref[32];
    snprintf(ref, sizeof ref, "%lld", (long long)qid);
    gs_similar_result res;
    gs_error err;
    gs_status st = gs_similar_query(ix, ref, genre, k, -1, &res, &err);
    CHECK_MSG(st == GS_OK, "%s: %s", what, err.message);
    CHECK_MSG(res.count == n, "%s: %zu results, brute force %zu", what, res.count, n);
    for (size_t i = 0; i < n && i < res.count; i++) {
        CHECK_MSG(res.hits[i].id == ids[i] && res.hits[i].similarity == scores[i],
                  "%s: rank %zu: id %lld (%.9g) vs %lld (%.9g)", what, i, (long long)res.hits[i].id,
                  (double)res.hits[i].similarity, (long long)ids[i], (double)scores[i]);
        CHECK_MSG(res.hits[i].path && !strcmp(res.hits[i].path, paths[i]), "%s: path %s vs %s", what, res.hits[i].path,
                  paths[i]);
        if (genre)
            CHECK(res.hits[i].genre && !strcmp(res.hits[i].genre, genre));
    }
    int source = (int)res.source;
    gs_similar_result_free(&res);
    return source;
}

static int source_now(gs_index *ix)
{
    gs_emb_cache *c;
    gs_error err;
    CHECK(gs_emb_cache_open(ix, 0, &c, &err) == GS_OK);
    int s = c ? (int)gs_emb_cache_get_source(c) : -1;
    gs_emb_cache_close(c);
    return s;
}

static int copy_file(const char *from, const char *to)
{
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    return system(cmd);
}

static void test_cache(const char *dir)
{
    char db[1024], emb[1100], saved[1100];
    snprintf(db, sizeof db, "%s/index.sqlite", dir);
    gs_emb_cache_path(db, emb, sizeof emb);
    snprintf(saved, sizeof saved, "%s/saved.emb", dir);
    gs_error err;
    gs_index *ix = gs_index_open(db, GS_INDEX_CREATE, 1000, &err);
    CHECK_MSG(ix != NULL, "%s", err.message);
    if (!ix)
        return;
    build(ix, 600);
    CHECK(access(emb, F_OK) != 0);

    /* Equality with brute force; the first query builds the file, the
     * next ones map it. */
    CHECK(compare(ix, 1, NULL, 20, "first") == GS_EMB_CACHE_REBUILT);
    CHECK(access(emb, F_OK) == 0);
    CHECK(compare(ix, 1, NULL, 20, "mapped") == GS_EMB_CACHE_MAPPED);
    static const int64_t queries[] = {2, 100, 333, 599};
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        CHECK(compare(ix, queries[i], NULL, 10, "query") == GS_EMB_CACHE_MAPPED);
        CHECK(compare(ix, queries[i], "rock", 7, "genre") == GS_EMB_CACHE_MAPPED);
        CHECK(compare(ix, queries[i], NULL, 64, "k=64") == GS_EMB_CACHE_MAPPED);
    }
    gs_emb_cache *c;
    CHECK(gs_emb_cache_open(ix, 0, &c, &err) == GS_OK);
    size_t expect = 0;
    for (int i = 0; i < 600; i++)
        expect += !(i % 37 == 5 || i % 41 == 7 || i % 29 == 3);
    CHECK_MSG(gs_emb_cache_count(c) == expect && gs_emb_cache_dim(c) == DIM, "count %zu vs %zu", gs_emb_cache_count(c),
              expect);
    /* Stored normalised. */
    CHECK_NEAR(gs_dot(gs_emb_cache_vectors(c), gs_emb_cache_vectors(c), DIM), 1.0, 1e-5);
    int64_t gen0 = gs_emb_cache_generation(c);
    gs_emb_cache_close(c);
    CHECK(copy_file(emb, saved) == 0);

    /* A new track: stale, rebuilt, and the new track is found. */
    CHECK(gs_index_begin(ix, &err) == GS_OK);
    put(ix, 600, DIM, 2, NULL);
    CHECK(gs_index_commit(ix, &err) == GS_OK);
    CHECK(compare(ix, 601, NULL, 20, "new track") == GS_EMB_CACHE_REBUILT);
    CHECK(compare(ix, 1, NULL, 64, "all") == GS_EMB_CACHE_MAPPED);

    /* Re-analysing a track changes its embedding. */
    CHECK(gs_index_begin(ix, &err) == GS_OK);
    put(ix, 10, DIM, 1, NULL);
    CHECK(gs_index_commit(ix, &err) == GS_OK);
    CHECK(compare(ix, 11, NULL, 20, "re-analysed") == GS_EMB_CACHE_REBUILT);

    /* Changes made by hand in the sqlite3 shell count too. */
    exec_sql(ix, "DELETE FROM tracks WHERE id = 3");
    CHECK(compare(ix, 1, NULL, 64, "deleted") == GS_EMB_CACHE_REBUILT);
    exec_sql(ix, "UPDATE tracks SET top_genre = 'rock' WHERE id IN (5, 9, 13)");
    CHECK(compare(ix, 1, "rock", 64, "genre changed") == GS_EMB_CACHE_REBUILT);
    exec_sql(ix,
             "UPDATE embeddings SET vector = (SELECT vector FROM embeddings WHERE track_id = 1)"
             " WHERE track_id = 2");
    CHECK(compare(ix, 1, NULL, 5, "vector changed") == GS_EMB_CACHE_REBUILT);
    /* A read that changes nothing keeps the file. */
    exec_sql(ix, "UPDATE tracks SET tag_status = 'written' WHERE id = 1");
    CHECK(source_now(ix) == GS_EMB_CACHE_MAPPED);

    /* An old cache put back is stale: never mapped. */
    CHECK(copy_file(saved, emb) == 0);
    CHECK(compare(ix, 1, NULL, 64, "old file") == GS_EMB_CACHE_REBUILT);
    CHECK(gs_emb_cache_open(ix, 0, &c, &err) == GS_OK);
    CHECK(gs_emb_cache_generation(c) > gen0);
    gs_emb_cache_close(c);

    /* Truncated or corrupted files are rebuilt. */
    CHECK(truncate(emb, 4096) == 0);
    CHECK(compare(ix, 1, NULL, 20, "truncated") == GS_EMB_CACHE_REBUILT);
    struct stat st;
    CHECK(stat(emb, &st) == 0);
    CHECK(truncate(emb, st.st_size + 4) == 0);
    CHECK(source_now(ix) == GS_EMB_CACHE_REBUILT);
    FILE *f = fopen(emb, "r+b");
    CHECK(f && fwrite("XXXX", 1, 4, f) == 4);
    if (f)
        fclose(f);
    CHECK(source_now(ix) == GS_EMB_CACHE_REBUILT);
    CHECK(source_now(ix) == GS_EMB_CACHE_MAPPED);

    /* NO_WRITE builds in memory and leaves the file alone. */
    unlink(emb);
    CHECK(gs_emb_cache_open(ix, GS_EMB_CACHE_NO_WRITE, &c, &err) == GS_OK);
    CHECK(gs_emb_cache_get_source(c) == GS_EMB_CACHE_MEMORY && gs_emb_cache_count(c) > 0);
    gs_emb_cache_close(c);
    CHECK(access(emb, F_OK) != 0);

    /* A merge into this index bumps the generation as well. */
    char shard[1024];
    snprintf(shard, sizeof shard, "%s/shard.sqlite", dir);
    gs_index *sh = gs_index_open(shard, GS_INDEX_CREATE, 1000, &err);
    CHECK(sh != NULL);
    if (sh) {
        CHECK(gs_index_begin(sh, &err) == GS_OK);
        for (int i = 700; i < 720; i++)
            put(sh, i, DIM, i % LABELS, NULL);
        CHECK(gs_index_commit(sh, &err) == GS_OK);
        gs_index_close(sh);
    }
    CHECK(source_now(ix) == GS_EMB_CACHE_REBUILT);
    size_t merged = 0;
    CHECK(gs_index_merge_from(ix, shard, &merged, &err) == GS_OK && merged == 20);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(gs_index_sqlite(ix), "SELECT id FROM tracks WHERE path = '/music/0705.flac'", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    int64_t merged_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    CHECK(compare(ix, merged_id, NULL, 64, "merged") == GS_EMB_CACHE_REBUILT);
    gs_index_close(ix);

    /* A read-only open (as `similar` does) uses and refreshes the file. */
    ix = gs_index_open(db, GS_INDEX_READ_ONLY, 1000, &err);
    CHECK(ix != NULL);
    if (ix) {
        CHECK(compare(ix, 1, "jazz", 30, "read-only") == GS_EMB_CACHE_MAPPED);
        gs_index_close(ix);
    }
}

/* Two indexes with identical content (same generation) but different
 * identities: one's cache never serves the other. */
static void test_foreign(const char *dir)
{
    char a[1024], b[1024], ea[1100], eb[1100];
    snprintf(a, sizeof a, "%s/a.sqlite", dir);
    snprintf(b, sizeof b, "%s/b.sqlite", dir);
    gs_emb_cache_path(a, ea, sizeof ea);
    gs_emb_cache_path(b, eb, sizeof eb);
    gs_error err;
    gs_index *ia = gs_index_open(a, GS_INDEX_CREATE, 1000, &err);
    gs_index *ib = gs_index_open(b, GS_INDEX_CREATE, 1000, &err);
    CHECK(ia && ib);
    if (!ia || !ib)
        return;
    rng = 1;
    build(ia, 100);
    rng = 2; /* same rows, other vectors */
    build(ib, 100);
    CHECK(source_now(ia) == GS_EMB_CACHE_REBUILT);
    CHECK(source_now(ib) == GS_EMB_CACHE_REBUILT);
    gs_emb_cache *ca, *cb;
    CHECK(gs_emb_cache_open(ia, 0, &ca, &err) == GS_OK && gs_emb_cache_open(ib, 0, &cb, &err) == GS_OK);
    CHECK(gs_emb_cache_generation(ca) == gs_emb_cache_generation(cb));
    gs_emb_cache_close(ca);
    gs_emb_cache_close(cb);
    CHECK(copy_file(ea, eb) == 0);
    CHECK(compare(ib, 1, NULL, 20, "foreign file") == GS_EMB_CACHE_REBUILT);
    gs_index_close(ia);
    gs_index_close(ib);
}

/* Schema 1 (no generation): read-only opens search from memory and never
 * write a file; a writer migrates the index to 2. */
static void test_schema1(const char *dir)
{
    char db[1024], emb[1100];
    snprintf(db, sizeof db, "%s/v1.sqlite", dir);
    gs_emb_cache_path(db, emb, sizeof emb);
    gs_error err;
    gs_index *ix = gs_index_open(db, GS_INDEX_CREATE, 1000, &err);
    CHECK(ix != NULL);
    if (!ix)
        return;
    build(ix, 80);
    /* Back to what version 1 created. */
    exec_sql(ix,
             "DROP TRIGGER windows_gen_insert; DROP TRIGGER windows_gen_update;"
             "DROP TRIGGER windows_gen_delete; ALTER TABLE windows DROP COLUMN embedding;"
             "ALTER TABLE tracks DROP COLUMN verdict;"
             "DROP TRIGGER embeddings_gen_insert; DROP TRIGGER embeddings_gen_update;"
             "DROP TRIGGER embeddings_gen_delete; DROP TRIGGER tracks_gen_update;"
             "DROP TRIGGER tracks_gen_delete; DROP TABLE meta;"
             "ALTER TABLE tracks DROP COLUMN tag_genre; DROP INDEX tracks_audio;"
             "ALTER TABLE tracks DROP COLUMN file_digest; ALTER TABLE tracks DROP COLUMN audio_digest;"
             "ALTER TABLE tracks DROP COLUMN file_genre;"
             "PRAGMA user_version = 1");
    gs_index_close(ix);
    ix = gs_index_open(db, GS_INDEX_READ_ONLY, 1000, &err);
    CHECK_MSG(ix != NULL, "%s", err.message);
    if (ix) {
        CHECK(gs_index_schema_version(ix) == 1);
        CHECK(compare(ix, 1, NULL, 20, "schema 1") == GS_EMB_CACHE_MEMORY);
        CHECK(access(emb, F_OK) != 0);
        gs_index_close(ix);
    }
    ix = gs_index_open(db, 0, 1000, &err);
    CHECK(ix != NULL);
    if (ix) {
        CHECK(gs_index_schema_version(ix) == GS_INDEX_SCHEMA_VERSION);
        CHECK(compare(ix, 1, NULL, 20, "migrated") == GS_EMB_CACHE_REBUILT);
        CHECK(gs_index_begin(ix, &err) == GS_OK);
        put(ix, 80, DIM, 3, NULL);
        CHECK(gs_index_commit(ix, &err) == GS_OK);
        CHECK(compare(ix, 81, NULL, 20, "migrated, then written") == GS_EMB_CACHE_REBUILT);
        gs_index_close(ix);
    }
}

/* The writer's statements are reused: a failed record after an analysed
 * one must not inherit its duration, genre or confidence. */
static void test_reused_statements(const char *dir)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/stmts.sqlite", dir);
    gs_error err;
    gs_index *ix = gs_index_open(db, GS_INDEX_CREATE, 1000, &err);
    CHECK(ix != NULL);
    if (!ix)
        return;
    CHECK(gs_index_begin(ix, &err) == GS_OK);
    put(ix, 0, DIM, 1, NULL);
    put(ix, 1, DIM, 0, "truncated");
    put(ix, 2, DIM, -1, NULL); /* silent */
    CHECK(gs_index_commit(ix, &err) == GS_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(gs_index_sqlite(ix),
                       "SELECT path, duration IS NULL, top_genre IS NULL, confidence IS NULL,"
                       " error IS NULL, (SELECT count(*) FROM scores WHERE track_id = id),"
                       " (SELECT count(*) FROM embeddings WHERE track_id = id),"
                       " (SELECT count(*) FROM windows WHERE track_id = id AND top_genre IS NULL)"
                       " FROM tracks ORDER BY path",
                       -1, &s, NULL);
    static const int want[3][7] = {{0, 0, 0, 1, LABELS, 1, 0}, {1, 1, 1, 0, 0, 0, 0}, {0, 1, 1, 1, LABELS, 0, 1}};
    for (int r = 0; r < 3; r++) {
        CHECK(sqlite3_step(s) == SQLITE_ROW);
        for (int k = 0; k < 7; k++)
            CHECK_MSG(sqlite3_column_int(s, k + 1) == want[r][k], "row %d column %d: %d", r, k + 1,
                      sqlite3_column_int(s, k + 1));
    }
    sqlite3_finalize(s);
    gs_index_close(ix);
}

int main(void)
{
    char dir[512];
    if (gs_test_tmpdir(dir, sizeof dir, "emb-cache") != 0)
        return 1;
    test_cache(dir);
    test_foreign(dir);
    test_schema1(dir);
    test_reused_statements(dir);
    if (!gs_test_failures && gs_test_rmtree(dir) != 0)
        return 1;
    return gs_test_finish("test_emb_cache");
}
