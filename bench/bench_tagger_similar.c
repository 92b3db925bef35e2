/* `similar` over a synthetic index: builds N tracks (default 100000) with
 * D-dimensional embeddings (default 128), 10 genre scores and one window
 * each, then times loading the embeddings and the exhaustive top-20 search
 * (median of 21 queries). Also reports the index size per track.
 * usage: bench_tagger_similar [N] [D] [DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index_db.h"
#include "index_read.h"
#include "similarity.h"

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

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int dim = argc > 2 ? atoi(argv[2]) : 128;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-similar-%d.sqlite", dir, (int)getpid());
    gs_error err;
    gs_index *ix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
    if (!ix) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const char *labels[10] = {"blues", "classical", "country", "disco", "hiphop",
                              "jazz", "metal", "pop", "reggae", "rock"};
    float probs[10], wp[10], *emb = malloc((size_t)dim * sizeof *emb);
    gs_window_verdict w = {.start_seconds = 0, .end_seconds = 30, .num_patches = 20, .probabilities = wp};
    gs_track_result r = {.num_labels = 10, .probabilities = probs, .embedding_size = dim,
                         .embedding = emb, .num_windows = 1, .windows = &w, .duration_seconds = 215};
    srand(1);
    double t0 = now();
    gs_index_begin(ix, &err);
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
        snprintf(p, sizeof p, "/home/user/Music/Artist %ld/Album %ld/%02ld Track title number %ld.flac",
                 i / 120, i / 12, i % 12 + 1, i);
        gs_index_record rec = {.path = p, .size = 30000000 + i, .mtime_ns = 1700000000000000000LL + i,
                               .format = "flac", .model_id = "genrescope-gtzan-0123456789abcdef",
                               .analysed_at = 1700000000, .result = &r, .labels = labels,
                               .tag_status = "written"};
        if (gs_index_put(ix, &rec, &err) != GS_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
    }
    if (gs_index_commit(ix, &err) != GS_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double t_build = now() - t0;
    sqlite3_exec(gs_index_sqlite(ix), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(gs_index_sqlite(ix), "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
                       -1, &s, NULL);
    sqlite3_step(s);
    double bytes = (double)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);

    t0 = now();
    gs_embedding_set set;
    if (gs_embedding_set_load(ix, NULL, &set, &err) != GS_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double t_load = now() - t0;
    enum { RUNS = 21, K = 20 };
    double times[RUNS];
    gs_scored top[K];
    long checksum = 0;
    for (int run = 0; run < RUNS; run++) {
        const float *q = set.vectors + (size_t)(run * 997 % (int)set.count) * set.dim;
        t0 = now();
        size_t cnt = 0;
        for (size_t i = 0; i < set.count; i++)
            gs_topk_push(top, K, &cnt, (long)i, gs_dot(q, set.vectors + i * set.dim, set.dim));
        gs_topk_sort(top, cnt);
        times[run] = now() - t0;
        checksum += top[1].index;
    }
    qsort(times, RUNS, sizeof *times, cmp_double);
    printf("tracks: %ld\n", n);
    printf("embedding_dim: %d\n", dim);
    printf("index_build_s: %.2f\n", t_build);
    printf("index_bytes: %.0f\n", bytes);
    printf("index_bytes_per_track: %.0f\n", bytes / (double)n);
    printf("similar_load_ms: %.2f\n", t_load * 1e3);
    printf("similar_search_ms: %.2f\n", times[RUNS / 2] * 1e3);
    printf("similar_total_ms: %.2f\n", (t_load + times[RUNS / 2]) * 1e3);
    printf("similar_search_target_ms: 20\n");
    printf("similar_search_vs_target: %.3f\n", times[RUNS / 2] * 1e3 / 20.0);
    printf("checksum: %ld\n", checksum);
    gs_embedding_set_free(&set);
    gs_index_close(ix);
    free(emb);
    char rm[3300];
    snprintf(rm, sizeof rm, "rm -f '%s' '%s-wal' '%s-shm'", path, path, path);
    return system(rm) == 0 ? 0 : 1;
}
