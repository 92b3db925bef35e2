/* bench_inference MODEL [THREADS] [REPS] [BATCH]
 *
 * Times gs_net_forward on BATCH patches (default 10: one 30 s window of
 * 1292 frames in 128-frame patches every 128 frames) with OpenBLAS limited
 * to THREADS threads (default 1). Prints `name: value` lines; the headline
 * is core_ms_per_window, the median wall time over REPS (default 20) timed
 * runs after warm-up runs; core_cpu_ms_per_window is the median CPU time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genrescope/cnn.h"
#include "genrescope/model.h"

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL [THREADS] [REPS] [BATCH]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    int reps = argc > 3 ? atoi(argv[3]) : 20;
    int batch = argc > 4 ? atoi(argv[4]) : 10;
    if (threads < 1 || reps < 1 || batch < 1) {
        fprintf(stderr, "THREADS, REPS and BATCH must be >= 1\n");
        return 2;
    }
    gs_net_set_blas_threads(threads);
    gs_error err;
    gs_model *model = gs_model_load(argv[1], &err);
    if (!model) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    gs_net *net = gs_net_from_model(model, &err);
    gs_model_free(model);
    if (!net) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    gs_net_ctx *ctx = gs_net_ctx_new(net, batch, &err);
    if (!ctx) {
        fprintf(stderr, "%s\n", err.message);
        gs_net_free(net);
        return 1;
    }
    int c, h, w;
    gs_net_input_shape(net, &c, &h, &w);
    size_t in_n = (size_t)batch * c * h * w;
    float *in = malloc(sizeof(float) * in_n);
    float *probs = malloc(sizeof(float) * (size_t)batch * gs_net_num_outputs(net));
    float *emb = malloc(sizeof(float) * (size_t)batch * gs_net_embedding_size(net));
    double *times = malloc(sizeof(double) * (size_t)reps);
    double *cpu = malloc(sizeof(double) * (size_t)reps);
    unsigned s = 12345;
    for (size_t i = 0; i < in_n; i++) {
        s = s * 1103515245u + 12345u;
        in[i] = (float)((s >> 9) & 0xffff) / 65536.0f * 6.0f - 3.0f; /* log-mel-like spread */
    }
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        rc = gs_net_forward(ctx, in, batch, probs, emb, &err) != GS_OK;
    for (int r = 0; r < reps && !rc; r++) {
        double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        rc = gs_net_forward(ctx, in, batch, probs, emb, &err) != GS_OK;
        times[r] = clock_ms(CLOCK_MONOTONIC) - t0;
        cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    if (rc) {
        fprintf(stderr, "forward: %s\n", err.message);
    } else {
        qsort(times, (size_t)reps, sizeof(double), cmp_double);
        printf("threads: %d\nbatch: %d\nreps: %d\n", threads, batch, reps);
        printf("core_ms_min: %.3f\n", times[0]);
        printf("core_ms_per_window: %.3f\n", times[reps / 2]);
        /* CPU time of all threads: less sensitive to other processes on a
         * shared machine, but includes OpenBLAS threads spinning. */
        qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
        printf("core_cpu_ms_per_window: %.3f\n", cpu[reps / 2]);
    }
    free(in);
    free(probs);
    free(emb);
    free(times);
    free(cpu);
    gs_net_ctx_free(ctx);
    gs_net_free(net);
    return rc;
}
