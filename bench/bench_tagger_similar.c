/* `similar` over a synthetic index: builds N tracks (default 100000) with
 * D-dimensional embeddings (default 128), 10 genre scores and one window
 * each through gs_index_put (the scan's writer path), then times, side by
 * side and end to end inside the process (open the index, read what is
 * needed, search, fetch the paths of the top 20, close):
 *   - the SQLite path: every embedding read from the index per query
 *     (gs_embedding_set_load, what `similar` did before the cache);
 *   - the first query through the embedding cache (<db>.emb is stale, so it
 *     is rebuilt and written);
 *   - queries through the cache as `genrescope similar` runs them
 *     (gs_similar_query), with and without --genre; median of 21.
 * It checks that both paths return the same tracks and scores, and reports
 * the index and cache sizes per track. Then `genrescope playlist --count
 * 30` end to end in-process (through the cache), median of 5, next to
 * loading the seed model's embeddings through SQLite (what it did before).
 * Last, it adds MIXES long tracks (DJ mixes of MIX_WINDOWS 30 s windows,
 * searched by their parts) and times, side by side, a track's query (one
 * vector against every track and every part) and a mix's query (each of
 * its parts against everything), next to the track query before.
 * usage: bench_tagger_similar [N] [D] [DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_tmp.h"
#include "commands.h"
#include "emb_cache.h"
#include "index_db.h"
#include "index_read.h"
#include "similar_query.h"
#include "similarity.h"

#define BENCH_MODEL_ID "genrescope-gtzan-0123456789abcdef"

enum { K = 20, RUNS = 21, SQLITE_RUNS = 3, MIXES = 200, MIX_WINDOWS = 240, MIX_RUNS = 5 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what, const gs_error *err)
{
    fprintf(stderr, "bench_tagger_similar: %s: %s\n", what, err->message);
    exit(1);
}

/* The pre-cache `similar`: all embeddings through SQLite, then the same
 * top-k selection. Writes the k ids and scores. */
static size_t sqlite_path(const char *db, const char *ref, int64_t *ids, float *scores)
{
    gs_error err;
    gs_index *ix = gs_index_open(db, GS_INDEX_READ_ONLY, 1000, &err);
    if (!ix)
        die("open", &err);
    gs_track_row row;
    float *q;
    size_t dim;
    gs_embedding_set set;
    if (gs_index_find_track(ix, ref, &row, &err) != GS_OK ||
        gs_index_track_embedding(ix, row.id, &q, &dim, &err) != GS_OK ||
        gs_embedding_set_load(ix, NULL, &set, &err) != GS_OK)
        die("sqlite path", &err);
    gs_scored top[K];
    size_t n = 0;
    for (size_t i = 0; i < set.count; i++)
        if (set.ids[i] != row.id)
            gs_topk_push(top, K, &n, (long)i, gs_dot(q, set.vectors + i * dim, dim));
    gs_topk_sort(top, n);
    for (size_t r = 0; r < n; r++) {
        ids[r] = set.ids[top[r].index];
        scores[r] = top[r].score;
    }
    free(q);
    gs_embedding_set_free(&set);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return n;
}

/* One `genrescope similar REF -c 20 [--genre G]`, minus printing. */
static size_t cache_path(const char *db, const char *ref, const char *genre, int64_t *ids, float *scores,
                         gs_emb_cache_source *source)
{
    gs_error err;
    gs_index *ix = gs_index_open(db, GS_INDEX_READ_ONLY, 1000, &err);
    if (!ix)
        die("open", &err);
    gs_similar_result res;
    if (gs_similar_query(ix, ref, genre, K, -1, &res, &err) != GS_OK)
        die("similar", &err);
    for (size_t r = 0; r < res.count && ids; r++) {
        ids[r] = res.hits[r].id;
        scores[r] = res.hits[r].similarity;
    }
    size_t n = res.count;
    *source = res.source;
    gs_similar_result_free(&res);
    gs_index_close(ix);
    return n;
}

static double file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size : 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int dim = argc > 2 ? atoi(argv[2]) : 128;
    char dir[1024], path[1100], emb_path[1200], playlist_path[1200];
    if (bench_make_temp_dir(argc > 3 ? argv[3] : NULL, "bench-similar", dir, sizeof dir) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/index.sqlite", dir);
    snprintf(playlist_path, sizeof playlist_path, "%s/playlist.m3u8", dir);
    gs_emb_cache_path(path, emb_path, sizeof emb_path);
    gs_error err;
    gs_index *ix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
    if (!ix)
        die("create", &err);
    const char *labels[10] = {"blues", "classical", "country", "disco",  "hiphop",
                              "jazz",  "metal",     "pop",     "reggae", "rock"};
    float probs[10], wp[10], *emb = malloc((size_t)dim * sizeof *emb);
    gs_window_verdict w = {.start_seconds = 0, .end_seconds = 30, .num_patches = 20, .probabilities = wp};
    gs_track_result r = {.num_labels = 10,
                         .probabilities = probs,
                         .embedding_size = dim,
                         .embedding = emb,
                         .num_windows = 1,
                         .windows = &w,
                         .duration_seconds = 215};
    srand(1);
    double t0 = now();
    if (gs_index_begin(ix, &err) != GS_OK)
        die("begin", &err);
    for (long i = 0; i < n; i++) {
        float sum = 0;
        for (int k = 0; k < 10; k++)
            sum += probs[k] = (float)rand() / (float)RAND_MAX;
        for (int k = 0; k < 10; k++)
            wp[k] = probs[k] /= sum;
        for (int k = 0; k < dim; k++)
            emb[k] = (float)rand() / (float)RAND_MAX - 0.5f;
        gs_l2_normalise(emb, (size_t)dim);
        r.top_label = (int)(i % 10);
        r.confidence = probs[r.top_label];
        w.top_label = r.top_label;
        w.confidence = r.confidence;
        char p[256];
        snprintf(p, sizeof p, "/home/user/Music/Artist %ld/Album %ld/%02ld Track title number %ld.flac", i / 120,
                 i / 12, i % 12 + 1, i);
        gs_index_record rec = {.path = p,
                               .size = 30000000 + i,
                               .mtime_ns = 1700000000000000000LL + i,
                               .format = "flac",
                               .model_id = BENCH_MODEL_ID,
                               .analysed_at = 1700000000,
                               .result = &r,
                               .labels = labels,
                               .tag_status = "written"};
        if (gs_index_put(ix, &rec, &err) != GS_OK)
            die("put", &err);
    }
    for (int k = 0; k < 10; k++)
        gs_index_put_genre(ix, labels[k], labels[k], &err);
    if (gs_index_commit(ix, &err) != GS_OK)
        die("commit", &err);
    double t_build = now() - t0;
    sqlite3_exec(gs_index_sqlite(ix), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    gs_index_close(ix);
    double bytes = file_bytes(path);

    /* Queries: a few track ids spread over the index. */
    char refs[RUNS][24];
    for (int i = 0; i < RUNS; i++)
        snprintf(refs[i], sizeof refs[i], "%ld", 1 + (long)i * 997 % n);

    int64_t ids_a[K], ids_b[K];
    float sc_a[K], sc_b[K];
    double t_sqlite[SQLITE_RUNS];
    int equal = 1;
    gs_emb_cache_source src;

    /* First query: the cache file does not exist yet. */
    t0 = now();
    size_t nb = cache_path(path, refs[0], NULL, ids_b, sc_b, &src);
    double t_first = now() - t0;
    int first_rebuilt = src == GS_EMB_CACHE_REBUILT;

    for (int i = 0; i < SQLITE_RUNS; i++) {
        t0 = now();
        size_t na = sqlite_path(path, refs[i], ids_a, sc_a);
        t_sqlite[i] = now() - t0;
        nb = cache_path(path, refs[i], NULL, ids_b, sc_b, &src);
        equal &= na == nb && !memcmp(ids_a, ids_b, na * sizeof *ids_a) && !memcmp(sc_a, sc_b, na * sizeof *sc_a);
    }

    double t_cache[RUNS], t_genre[RUNS], t_search[RUNS];
    int all_mapped = 1;
    for (int i = 0; i < RUNS; i++) {
        t0 = now();
        cache_path(path, refs[i], NULL, NULL, NULL, &src);
        t_cache[i] = now() - t0;
        all_mapped &= src == GS_EMB_CACHE_MAPPED;
        t0 = now();
        cache_path(path, refs[i], "jazz", NULL, NULL, &src);
        t_genre[i] = now() - t0;
    }

    /* The search alone, for the split. */
    ix = gs_index_open(path, GS_INDEX_READ_ONLY, 1000, &err);
    gs_emb_cache *c;
    if (!ix || gs_emb_cache_open(ix, 0, &c, &err) != GS_OK)
        die("cache", &err);
    gs_emb_match top[K];
    long checksum = 0;
    for (int i = 0; i < RUNS; i++) {
        const float *q = gs_emb_cache_vectors(c) + (size_t)(i * 997 % (int)gs_emb_cache_count(c)) * (size_t)dim;
        t0 = now();
        /* With the model filter, as `similar` searches (every track is the
         * same model here, so all are candidates). */
        size_t cnt = 0;
        if (gs_emb_cache_search_parts(c, q, 1, -1, NULL, BENCH_MODEL_ID, K, top, &cnt, NULL, &err) != GS_OK)
            die("search", &err);
        t_search[i] = now() - t0;
        checksum += cnt > 1 ? top[1].index : 0;
    }
    gs_emb_cache_close(c);

    /* playlist, as the command runs (output discarded), and the SQLite load
     * it no longer needs. */
    enum { PL_RUNS = 5 };
    double t_pl[PL_RUNS], t_load[PL_RUNS];
    int pl_ok = 1;
    for (int i = 0; i < PL_RUNS; i++) {
        char *argv[] = {"playlist", "--db", path, "--seed", refs[i], "--count", "30", "--out", playlist_path, NULL};
        t0 = now();
        pl_ok &= gs_cmd_playlist(9, argv) == 0;
        t_pl[i] = now() - t0;
        gs_embedding_set set;
        size_t others;
        t0 = now();
        if (gs_embedding_set_load_model(ix, NULL, BENCH_MODEL_ID, &set, &others, &err) != GS_OK)
            die("load", &err);
        t_load[i] = now() - t0;
        gs_embedding_set_free(&set);
    }
    gs_index_close(ix);

    /* Long tracks: 200 two-hour mixes (48k parts) among the tracks. */
    ix = gs_index_open(path, 0, 1000, &err);
    if (!ix || gs_index_begin(ix, &err) != GS_OK)
        die("open for mixes", &err);
    gs_window_verdict *mw = calloc(MIX_WINDOWS, sizeof *mw);
    float *mix_emb = malloc(sizeof(float) * (size_t)MIX_WINDOWS * (size_t)dim);
    for (int m = 0; m < MIXES; m++) {
        for (int k = 0; k < dim; k++)
            emb[k] = (float)rand() / (float)RAND_MAX - 0.5f;
        gs_l2_normalise(emb, (size_t)dim);
        for (int x = 0; x < MIX_WINDOWS; x++) {
            float *e = mix_emb + (size_t)x * (size_t)dim;
            for (int k = 0; k < dim; k++)
                e[k] = (float)rand() / (float)RAND_MAX - 0.5f;
            gs_l2_normalise(e, (size_t)dim);
            mw[x] = (gs_window_verdict){.start_seconds = 30.0 * x,
                                        .end_seconds = 30.0 * (x + 1),
                                        .num_patches = 20,
                                        .top_label = m % 10,
                                        .confidence = 0.5f,
                                        .probabilities = wp,
                                        .embedding = e};
        }
        gs_track_result mr = r;
        mr.top_label = m % 10;
        mr.num_windows = MIX_WINDOWS;
        mr.windows = mw;
        mr.duration_seconds = 30.0 * MIX_WINDOWS;
        char p[256];
        snprintf(p, sizeof p, "/home/user/Music/Mixes/Mix %d.flac", m);
        gs_index_record rec = {.path = p,
                               .size = 300000000 + m,
                               .mtime_ns = 1700000000000000000LL + m,
                               .format = "flac",
                               .model_id = BENCH_MODEL_ID,
                               .analysed_at = 1700000000,
                               .result = &mr,
                               .labels = labels,
                               .tag_status = "written"};
        if (gs_index_put(ix, &rec, &err) != GS_OK)
            die("put mix", &err);
    }
    if (gs_index_commit(ix, &err) != GS_OK)
        die("commit mixes", &err);
    gs_index_close(ix);
    free(mw);
    free(mix_emb);
    double t_track_parts[RUNS], t_mix[MIX_RUNS], t_track_before[RUNS];
    cache_path(path, refs[0], NULL, NULL, NULL, &src); /* rebuild the cache once */
    for (int i = 0; i < RUNS; i++) {
        /* Side by side: the same query against the same cache... */
        t0 = now();
        cache_path(path, refs[i], NULL, NULL, NULL, &src);
        t_track_parts[i] = now() - t0;
    }
    for (int i = 0; i < MIX_RUNS; i++) {
        char ref[64];
        snprintf(ref, sizeof ref, "/home/user/Music/Mixes/Mix %d.flac", i * 37 % MIXES);
        t0 = now();
        cache_path(path, ref, NULL, NULL, NULL, &src);
        t_mix[i] = now() - t0;
    }
    /* ...and the track query again without the mixes' parts: the mixes
     * shortened below the part length, so the cache has no parts. */
    ix = gs_index_open(path, 0, 1000, &err);
    if (!ix ||
        sqlite3_exec(gs_index_sqlite(ix), "UPDATE tracks SET duration = 60 WHERE path LIKE '%/Mixes/%'", NULL, NULL,
                     NULL) != SQLITE_OK)
        die("shorten mixes", &err);
    gs_index_close(ix);
    unlink(emb_path); /* a duration is not what the cache's generation follows */
    cache_path(path, refs[0], NULL, NULL, NULL, &src);
    for (int i = 0; i < RUNS; i++) {
        t0 = now();
        cache_path(path, refs[i], NULL, NULL, NULL, &src);
        t_track_before[i] = now() - t0;
    }

    double sqlite_ms = median(t_sqlite, SQLITE_RUNS) * 1e3, cache_ms = median(t_cache, RUNS) * 1e3;
    double emb_bytes = file_bytes(emb_path);
    printf("tracks: %ld\n", n);
    printf("embedding_dim: %d\n", dim);
    printf("index_build_s: %.2f\n", t_build);
    printf("index_bytes: %.0f\n", bytes);
    printf("index_bytes_per_track: %.0f\n", bytes / (double)n);
    printf("emb_cache_bytes: %.0f\n", emb_bytes);
    printf("emb_cache_bytes_per_track: %.1f\n", emb_bytes / (double)n);
    printf("similar_sqlite_path_ms: %.2f\n", sqlite_ms);
    printf("similar_first_query_rebuild_ms: %.2f\n", t_first * 1e3);
    printf("similar_first_query_rebuilt: %d\n", first_rebuilt);
    printf("similar_ms: %.2f\n", cache_ms);
    printf("similar_genre_ms: %.2f\n", median(t_genre, RUNS) * 1e3);
    printf("similar_search_only_ms: %.2f\n", median(t_search, RUNS) * 1e3);
    printf("similar_cache_mapped: %d\n", all_mapped);
    printf("similar_sqlite_vs_cache_ratio: %.1f\n", sqlite_ms / cache_ms);
    printf("similar_target_ms: 20\n");
    printf("similar_vs_target: %.3f\n", cache_ms / 20.0);
    printf("results_equal_sqlite_path: %d\n", equal);
    printf("playlist_30_ms: %.1f\n", median(t_pl, PL_RUNS) * 1e3);
    printf("playlist_ok: %d\n", pl_ok);
    printf("sqlite_embedding_load_ms: %.1f\n", median(t_load, PL_RUNS) * 1e3);
    double parts_ms = median(t_track_parts, RUNS) * 1e3, no_parts_ms = median(t_track_before, RUNS) * 1e3;
    double mix_ms = median(t_mix, MIX_RUNS) * 1e3;
    printf("mixes: %d of %d parts\n", MIXES, MIX_WINDOWS);
    printf("similar_track_with_parts_ms: %.2f\n", parts_ms);
    printf("similar_track_without_parts_ms: %.2f\n", no_parts_ms);
    printf("similar_parts_cost_ratio: %.2f\n", parts_ms / no_parts_ms);
    printf("similar_mix_query_ms: %.1f\n", mix_ms);
    printf("similar_mix_vs_track_query_ratio: %.1f\n", mix_ms / parts_ms);
    printf("checksum: %ld\n", checksum);
    free(emb);
    bench_remove_temp_dir(dir);
    return equal && first_rebuilt && all_mapped && pl_ok ? 0 : 1;
}
