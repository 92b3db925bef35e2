/* Unit tests of the tagger's building blocks: top-k selection against a
 * brute-force sort, cosine, genre display names, shard partition, and the
 * index (migrations, round trip of a record, incremental lookups, batch
 * rollback under SQLite's page limit = a full disk). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "genre_names.h"
#include "index_db.h"
#include "index_read.h"
#include "similarity.h"
#include "walk.h"
#include "genrescope/audio.h"
#include "support/tmpdir.h"

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const gs_scored *)a)->score, y = ((const gs_scored *)b)->score;
    return (x < y) - (x > y);
}

static void test_topk(void)
{
    enum { N = 5000, K = 17 };
    static gs_scored all[N];
    gs_scored heap[K];
    size_t count = 0;
    srand(7);
    for (int i = 0; i < N; i++) {
        all[i].index = i;
        all[i].score = (float)rand() / (float)RAND_MAX;
        gs_topk_push(heap, K, &count, i, all[i].score);
    }
    gs_topk_sort(heap, count);
    qsort(all, N, sizeof *all, by_score_desc);
    CHECK(count == K);
    for (int i = 0; i < K; i++)
        CHECK_MSG(heap[i].index == all[i].index, "rank %d: %ld vs %ld", i, heap[i].index, all[i].index);
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 4, 6, 8, 10}, c[5] = {-1, -2, -3, -4, -5}, z[5] = {0};
    CHECK_NEAR(gs_cosine(a, b, 5), 1.0, 1e-6);
    CHECK_NEAR(gs_cosine(a, c, 5), -1.0, 1e-6);
    CHECK(gs_cosine(a, z, 5) == 0.0f);
    gs_l2_normalise(b, 5);
    CHECK_NEAR(gs_dot(b, b, 5), 1.0, 1e-6);

    /* A NaN score (a damaged embedding) is never a result, first or not. */
    count = 0;
    gs_topk_push(heap, 3, &count, 1, NAN);
    gs_topk_push(heap, 3, &count, 2, 0.5f);
    gs_topk_push(heap, 3, &count, 3, NAN);
    gs_topk_push(heap, 3, &count, 4, 0.9f);
    gs_topk_sort(heap, count);
    CHECK(count == 2 && heap[0].index == 4 && heap[1].index == 2);
}

static void test_genre_names(const char *dir)
{
    char out[64], path[1024];
    gs_genre_display_name("hiphop", out, sizeof out);
    CHECK(!strcmp(out, "Hip-Hop"));
    gs_genre_display_name("shoegaze", out, sizeof out);
    CHECK(!strcmp(out, "Shoegaze"));
    snprintf(path, sizeof path, "%s/names.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# comment\n  hiphop = Hip Hop  \nrock=Rock & Roll\n");
    fclose(f);
    CHECK(gs_genre_names_load(path, 1, NULL) == GS_OK);
    gs_genre_display_name("HipHop", out, sizeof out);
    CHECK_MSG(!strcmp(out, "Hip Hop"), "got '%s'", out);
    gs_genre_display_name("rock", out, sizeof out);
    CHECK(!strcmp(out, "Rock & Roll"));
    f = fopen(path, "w");
    fprintf(f, "no equals sign\n");
    fclose(f);
    gs_error err;
    CHECK(gs_genre_names_load(path, 1, &err) == GS_ERR_FORMAT);
    CHECK(strstr(err.message, ":1:") != NULL);
    gs_genre_names_reset();
    CHECK(gs_genre_names_load("/nonexistent/genres.conf", 0, NULL) == GS_OK);
    CHECK(gs_genre_names_load("/nonexistent/genres.conf", 1, NULL) == GS_ERR_IO);

    /* A comment longer than any line buffer stays a comment: its tail must
     * not become a setting. */
    f = fopen(path, "w");
    fprintf(f, "# ");
    for (int i = 0; i < 300; i++)
        fprintf(f, "xy");
    fprintf(f, "jazz = Smooth\nblues = Delta\n");
    fclose(f);
    CHECK(gs_genre_names_load(path, 1, &err) == GS_OK);
    gs_genre_display_name("jazz", out, sizeof out);
    CHECK_MSG(!strcmp(out, "Jazz"), "a comment's tail became a setting: '%s'", out);
    gs_genre_display_name("blues", out, sizeof out);
    CHECK(!strcmp(out, "Delta"));
    gs_genre_names_reset();

    /* A FIFO at the path fails at once instead of blocking every command. */
    snprintf(path, sizeof path, "%s/fifo.conf", dir);
    CHECK(mkfifo(path, 0644) == 0);
    CHECK(gs_genre_names_load(path, 0, &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "not a regular file") != NULL);
    unlink(path);
}

static void test_shards(void)
{
    enum { N = 300 };
    int seen[N] = {0};
    for (int n = 1; n <= 4; n++) {
        memset(seen, 0, sizeof seen);
        for (int k = 1; k <= n; k++) {
            gs_walk_list l = {0};
            l.entries = calloc(N, sizeof *l.entries);
            for (int i = 0; i < N; i++) {
                char name[64];
                snprintf(name, sizeof name, "artist%d/album/track%d.flac", i % 7, i);
                l.entries[i].path = strdup(name);
                l.entries[i].rel = strdup(name);
            }
            l.count = l.capacity = N;
            gs_walk_list_shard(&l, k, n);
            if (n > 1)
                CHECK_MSG(l.count > (size_t)(N / n / 2) && l.count < (size_t)(2 * N / n), "shard %d/%d has %zu", k, n,
                          l.count);
            for (size_t i = 0; i < l.count; i++)
                seen[atoi(strstr(l.entries[i].rel, "track") + 5)]++;
            gs_walk_list_free(&l);
        }
        for (int i = 0; i < N; i++)
            CHECK_MSG(seen[i] == 1, "n=%d: file %d in %d shards", n, i, seen[i]);
    }
    CHECK(gs_audio_is_audio_name("a.FLAC") && gs_audio_is_audio_name("b.m4a"));
    CHECK(!gs_audio_is_audio_name("cover.jpg") && !gs_audio_is_audio_name(".mp3"));
}

static void fake_result(gs_track_result *r, float *probs, float *emb, gs_window_verdict *w, float *wp, int top)
{
    memset(r, 0, sizeof *r);
    r->num_labels = 3;
    r->probabilities = probs;
    for (int i = 0; i < 3; i++)
        probs[i] = i == top ? 0.8f : 0.1f;
    r->top_label = top;
    r->confidence = 0.8f;
    r->embedding_size = 4;
    r->embedding = emb;
    r->num_windows = 2;
    r->windows = w;
    for (int k = 0; k < 2; k++) {
        w[k] = (gs_window_verdict){.start_seconds = 30.0 * k,
                                   .end_seconds = 30.0 * (k + 1),
                                   .top_label = top,
                                   .confidence = 0.8f,
                                   .num_patches = 3,
                                   .probabilities = wp + 3 * k};
        memcpy(wp + 3 * k, probs, 3 * sizeof(float));
    }
    r->duration_seconds = 60;
}

static void test_index(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sub/dir/index.sqlite", dir);
    gs_error err;
    gs_index *ix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
    CHECK_MSG(ix != NULL, "%s", err.message);
    if (!ix)
        return;
    const char *labels[3] = {"jazz", "hiphop", "rock"};
    float probs[3], emb[4] = {1, 0, 0, 0}, wp[6];
    gs_window_verdict w[2];
    gs_track_result r;
    fake_result(&r, probs, emb, w, wp, 1);
    gs_index_record rec = {.path = "/music/a.flac",
                           .size = 100,
                           .mtime_ns = 5,
                           .format = "flac",
                           .model_id = "m1",
                           .analysed_at = 1,
                           .result = &r,
                           .labels = labels,
                           .tag_status = "written"};
    CHECK(gs_index_begin(ix, &err) == GS_OK);
    CHECK(gs_index_put(ix, &rec, &err) == GS_OK);
    rec.path = "/music/b.flac";
    emb[1] = 1;
    CHECK(gs_index_put(ix, &rec, &err) == GS_OK);
    rec.path = "/music/bad.mp3";
    rec.error = "not audio";
    CHECK(gs_index_put(ix, &rec, &err) == GS_OK);
    CHECK(gs_index_commit(ix, &err) == GS_OK);
    /* Replacing a row replaces its dependents instead of adding to them. */
    rec.path = "/music/a.flac";
    rec.error = NULL;
    rec.size = 101;
    emb[1] = 0;
    CHECK(gs_index_begin(ix, &err) == GS_OK && gs_index_put(ix, &rec, &err) == GS_OK &&
          gs_index_commit(ix, &err) == GS_OK);

    gs_index_known *known;
    size_t nk;
    CHECK(gs_index_load_known(ix, &known, &nk, &err) == GS_OK);
    CHECK(nk == 3);
    const gs_index_known *k = gs_index_known_find(known, nk, "/music/a.flac");
    CHECK(k && k->size == 101 && !k->failed && !strcmp(k->model_id, "m1"));
    k = gs_index_known_find(known, nk, "/music/bad.mp3");
    CHECK(k && k->failed);
    CHECK(gs_index_known_find(known, nk, "/music/zzz.flac") == NULL);
    gs_index_known_free(known, nk);

    sqlite3 *db = gs_index_sqlite(ix);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT count(*) FROM scores), (SELECT count(*) FROM windows),"
                       " (SELECT count(*) FROM embeddings)",
                       -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_MSG(sqlite3_column_int(s, 0) == 6 && sqlite3_column_int(s, 1) == 4 && sqlite3_column_int(s, 2) == 2,
              "rows %d %d %d", sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), sqlite3_column_int(s, 2));
    sqlite3_finalize(s);

    gs_embedding_set set;
    CHECK(gs_embedding_set_load(ix, NULL, &set, &err) == GS_OK);
    CHECK(set.count == 2 && set.dim == 4);
    CHECK_NEAR(gs_dot(set.vectors, set.vectors + 4, 4), sqrt(0.5), 1e-6);
    gs_embedding_set_free(&set);
    char label[64];
    CHECK(gs_index_resolve_genre(ix, "HIPHOP", label, sizeof label, &err) == GS_OK && !strcmp(label, "hiphop"));
    CHECK(gs_index_resolve_genre(ix, "polka", label, sizeof label, &err) == GS_ERR_INVALID);

    /* A full disk, simulated with SQLite's page limit: the open batch is
     * rolled back, what was committed stays, the file stays sound. */
    CHECK(sqlite3_exec(db, "PRAGMA max_page_count = 12", NULL, NULL, NULL) == SQLITE_OK);
    gs_status st = gs_index_begin(ix, &err);
    char p[64];
    for (int i = 0; st == GS_OK && i < 2000; i++) {
        snprintf(p, sizeof p, "/music/many/%05d-with-a-long-enough-name.flac", i);
        rec.path = p;
        st = gs_index_put(ix, &rec, &err);
    }
    CHECK(st == GS_ERR_IO);
    CHECK_MSG(strstr(err.message, "full") != NULL, "%s", err.message);
    gs_index_rollback(ix);
    CHECK(gs_index_load_known(ix, &known, &nk, &err) == GS_OK && nk == 3);
    gs_index_known_free(known, nk);
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(s, 0), "ok"));
    sqlite3_finalize(s);
    gs_index_close(ix);

    /* Newer schema: refused with a clear message; read-only open of a
     * missing file fails without creating it. */
    ix = gs_index_open(path, 0, 1000, &err);
    sqlite3_exec(gs_index_sqlite(ix), "PRAGMA user_version = 7", NULL, NULL, NULL);
    gs_index_close(ix);
    CHECK(gs_index_open(path, 0, 1000, &err) == NULL);
    CHECK(err.code == GS_ERR_UNSUPPORTED && strstr(err.message, "schema version 7") != NULL);
    snprintf(path, sizeof path, "%s/missing.sqlite", dir);
    CHECK(gs_index_open(path, GS_INDEX_READ_ONLY, 1000, &err) == NULL);
    CHECK(access(path, F_OK) != 0);
}

int main(void)
{
    char dir[512];
    if (gs_test_tmpdir(dir, sizeof dir, "tagger-units") != 0)
        return 1;
    test_topk();
    test_genre_names(dir);
    test_shards();
    test_index(dir);
    if (!gs_test_failures && gs_test_rmtree(dir) != 0)
        return 1;
    return gs_test_finish("test_tagger_units");
}
