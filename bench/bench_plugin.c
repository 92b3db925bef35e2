/* LV2 plugin cost, measured in one run through the lilv test host:
 *   run() (the audio thread) per second of 48 kHz stereo audio, as a
 *   fraction of real time, next to a plain memcpy passthrough of the same
 *   blocks (the least any plugin must do);
 *   work() (the worker thread) per verdict over a 30 s window, as a
 *   fraction of the update interval.
 * The machine is shared, so besides totals (mean) the medians per block are
 * given: they ignore blocks where the process was preempted.
 * Usage: bench_plugin [seconds of audio, default 60] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "synth.h"

#define RATE 48000.0

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0.0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60.0;
    if (!(seconds >= 31.0))
        seconds = 31.0; /* at least one full 30 s window */
    size_t n = (size_t)(seconds * RATE);
    float *src[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    float *out[2] = {malloc(8192 * sizeof(float)), malloc(8192 * sizeof(float))};
    if (!src[0] || !src[1] || !out[0] || !out[1])
        return 1;
    gs_synth_music(src[0], src[1], n, RATE, 1);

    static const uint32_t blocks[] = {64, 256, 1024};
    const float update = 2.0f;
    printf("audio_seconds: %.0f\n", seconds);
    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
        uint32_t b = blocks[bi];
        char err[512];
        gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, GS_PLUGIN_URI_BASE "#stereo", RATE, 1, 0, 0};
        gs_host *h = gs_host_new(&o, err, sizeof err);
        if (!h) {
            fprintf(stderr, "bench_plugin: %s\n", err);
            return 1;
        }
        gs_host_set(h, "window", 30.0f);
        gs_host_set(h, "update", update);
        gs_host_activate(h);

        /* Baseline and plugin interleaved block by block, so both see the
         * same cache and frequency conditions. */
        double memcpy_s = 0;
        size_t nb = n / b, k = 0;
        double *t_run = malloc(nb * sizeof(double)), *t_copy = malloc(nb * sizeof(double));
        for (size_t pos = 0; pos + b <= n; pos += b, k++) {
            double t0 = now();
            memcpy(out[0], src[0] + pos, b * sizeof(float));
            memcpy(out[1], src[1] + pos, b * sizeof(float));
            t_copy[k] = now() - t0;
            memcpy_s += t_copy[k];
            const float *in[2] = {src[0] + pos, src[1] + pos};
            gs_host_run(h, in, out, b);
            t_run[k] = gs_host_last_run_seconds(h);
        }
        double blocks_per_s = RATE / b;
        double med_run = median(t_run, k), med_copy = median(t_copy, k);
        free(t_run);
        free(t_copy);
        double run_s = gs_host_run_seconds(h);
        double verdicts = (double)(uint64_t)(seconds / update);
        printf("block_%u_run_fraction_of_realtime: %.6f%%\n", b, 100.0 * run_s / seconds);
        printf("block_%u_memcpy_fraction_of_realtime: %.6f%%\n", b, 100.0 * memcpy_s / seconds);
        printf("block_%u_run_over_memcpy: %.2f\n", b, run_s / memcpy_s);
        printf("block_%u_run_ns_per_block_mean: %.0f\n", b, 1e9 * run_s / (double)k);
        printf("block_%u_run_ns_per_block_median: %.0f\n", b, 1e9 * med_run);
        printf("block_%u_run_fraction_of_realtime_median: %.6f%%\n", b, 100.0 * med_run * blocks_per_s);
        printf("block_%u_memcpy_fraction_of_realtime_median: %.6f%%\n", b, 100.0 * med_copy * blocks_per_s);
        printf("block_%u_run_over_memcpy_median: %.2f\n", b, med_run / med_copy);
        if (bi == 1) {
            double per_verdict = gs_host_work_seconds(h) / verdicts;
            printf("worker_seconds_per_verdict: %.4f\n", per_verdict);
            printf("worker_max_call_seconds: %.4f\n", gs_host_max_work_seconds(h));
            printf("worker_fraction_of_update_interval: %.2f%%\n", 100.0 * per_verdict / update);
            printf("worker_requests: %lu\n", gs_host_requests(h));
        }
        gs_host_free(h);
    }
    free(src[0]);
    free(src[1]);
    free(out[0]);
    free(out[1]);
    return 0;
}
