/* LV2 plugin cost, measured in one run through the lilv test host:
 *   run() (the audio thread) per second of 48 kHz stereo audio, as a
 *   fraction of real time, next to a plain memcpy passthrough of the same
 *   blocks (the least any plugin must do);
 *   work() (the worker thread) per verdict over a 30 s window, as a
 *   fraction of the update interval, next to what the worker did before it
 *   kept per-patch results: at every update point, the same core call it
 *   made then (gs_classifier_classify_window over the newest window of the
 *   same audio at the model rate), timed in the same loop. That baseline
 *   leaves out the old worker's draining and resampling, which the plugin's
 *   figure includes, so the ratio understates the saving.
 * The machine is shared, so besides totals (mean) the medians per block are
 * given: they ignore blocks where the process was preempted.
 * Usage: bench_plugin [seconds of audio, default 60] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genrescope.h"
#include "host.h"
#include "synth.h"

void openblas_set_num_threads(int num_threads);

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

    /* The old worker's input: the same downmix at the model rate. */
    gs_error gerr = {0};
    gs_model *model = gs_model_load(GS_PLUGIN_BUNDLE_DIR "/model.safetensors", &gerr);
    gs_classifier *cls = model ? gs_classifier_new(model, NULL, &gerr) : NULL;
    if (!cls) {
        fprintf(stderr, "bench_plugin: %s\n", gerr.message);
        return 1;
    }
    openblas_set_num_threads(1); /* as the plugin does */
    const gs_frontend_params *fp = gs_model_frontend(model);
    const size_t window_cap = (size_t)(30.0 * fp->sample_rate);
    float *model_audio = NULL;
    size_t model_n = 0;
    {
        float *mono = malloc(n * sizeof(float));
        size_t cap = (size_t)((double)n * fp->sample_rate / RATE) + 65536;
        model_audio = malloc(cap * sizeof(float));
        gs_resampler *rs = gs_resampler_new(RATE, fp->sample_rate, 4096, &gerr);
        if (!mono || !model_audio || !rs)
            return 1;
        for (size_t i = 0; i < n; i++)
            mono[i] = 0.5f * (src[0][i] + src[1][i]);
        for (size_t pos = 0; pos < n; pos += 4096) {
            size_t b = n - pos < 4096 ? n - pos : 4096;
            long k = gs_resampler_process(rs, mono + pos, b, model_audio + model_n, cap - model_n, &gerr);
            if (k < 0)
                return 1;
            model_n += (size_t)k;
        }
        gs_resampler_free(rs);
        free(mono);
    }

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
        /* Per update interval: the plugin's worker time (drains, resampling,
         * the verdict), and the old full recompute at the update point. */
        const uint64_t update_frames = (uint64_t)(update * RATE);
        size_t nu = (size_t)(n / update_frames) + 1, u = 0, u_full = 0;
        double *t_new = malloc(nu * sizeof(double)), *t_old = malloc(nu * sizeof(double));
        double work_before = 0, sum_new = 0, sum_old = 0, sum_new_full = 0, sum_old_full = 0;
        int old_patches = 0;
        for (size_t pos = 0; pos + b <= n; pos += b, k++) {
            double t0 = now();
            memcpy(out[0], src[0] + pos, b * sizeof(float));
            memcpy(out[1], src[1] + pos, b * sizeof(float));
            t_copy[k] = now() - t0;
            memcpy_s += t_copy[k];
            const float *in[2] = {src[0] + pos, src[1] + pos};
            gs_host_run(h, in, out, b);
            t_run[k] = gs_host_last_run_seconds(h);
            if (bi == 1 && (pos + b) / update_frames > pos / update_frames && u < nu) {
                /* An update point fell in this block: its verdict was just
                 * computed. The old worker would have classified the newest
                 * window of what it had drained by then. */
                double work_now = gs_host_work_seconds(h);
                t_new[u] = work_now - work_before;
                work_before = work_now;
                size_t have = (size_t)((double)(pos + b) * fp->sample_rate / RATE);
                have = have < model_n ? have : model_n;
                size_t use = have < window_cap ? have : window_cap;
                float probs[GS_MAX_LABELS];
                double t0 = now();
                if (gs_classifier_classify_window(cls, model_audio + (have - use), use, probs, &old_patches, &gerr) !=
                    GS_OK) {
                    fprintf(stderr, "bench_plugin: %s\n", gerr.message);
                    return 1;
                }
                t_old[u] = now() - t0;
                sum_new += t_new[u];
                sum_old += t_old[u];
                if (use == window_cap) {
                    sum_new_full += t_new[u];
                    sum_old_full += t_old[u];
                    u_full++;
                }
                u++;
            }
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
            printf("worker_updates_measured: %zu (window full: %zu)\n", u, u_full);
            printf("worker_new_incremental_seconds_per_update: %.5f\n", sum_new / (double)u);
            printf("worker_old_full_recompute_seconds_per_update: %.5f\n", sum_old / (double)u);
            printf("worker_old_over_new: %.2f\n", sum_old / sum_new);
            if (u_full > 0) {
                printf("worker_window_full_new_seconds_per_update: %.5f\n", sum_new_full / (double)u_full);
                printf("worker_window_full_old_seconds_per_update: %.5f (%d patches)\n", sum_old_full / (double)u_full,
                       old_patches);
                printf("worker_window_full_old_over_new: %.2f\n", sum_old_full / sum_new_full);
            }
            double m_new = median(t_new, u), m_old = median(t_old, u);
            printf("worker_median_new_seconds_per_update: %.5f\n", m_new);
            printf("worker_median_old_seconds_per_update: %.5f\n", m_old);
            printf("worker_median_old_over_new: %.2f\n", m_old / m_new);
        }
        free(t_new);
        free(t_old);
        gs_host_free(h);
    }
    gs_classifier_free(cls);
    gs_model_free(model);
    free(model_audio);
    free(src[0]);
    free(src[1]);
    free(out[0]);
    free(out[1]);
    return 0;
}
