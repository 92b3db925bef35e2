/* Real-time safety: the plugin's audio-thread entry points (run,
 * work_response, end_run) make no allocation, lock, file/console I/O or
 * sleep, proven by trapping those calls (rt_trap.c) while they run under a
 * lilv host, across block sizes 0..8192, control changes, verdicts,
 * non-finite input and deactivate/activate. */
#include <dlfcn.h>
#include <lilv/lilv.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host.h"
#include "rt_trap.h"
#include "synth.h"

/* The trap must catch what it claims to, including calls made from inside
 * a shared library (as the plugin's would be); otherwise a pass means
 * nothing. */
static void test_trap_works(void)
{
    void *(*volatile alloc)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

    gs_rt_trap_clear();
    gs_rt_trap_arm(1);
    void *p = alloc(32);
    release(p);
    gs_rt_trap_arm(0);
    CHECK_MSG(gs_rt_trap_count() >= 2, "malloc/free not trapped (%lu)", gs_rt_trap_count());

    gs_rt_trap_clear();
    gs_rt_trap_arm(1);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    gs_rt_trap_arm(0);
    CHECK_MSG(gs_rt_trap_count() == 1, "mutex lock not trapped");

    gs_rt_trap_clear();
    gs_rt_trap_arm(1);
    ssize_t w = write(-1, "x", 1);
    gs_rt_trap_arm(0);
    CHECK(w < 0);
    CHECK_MSG(gs_rt_trap_count() == 1, "write not trapped");

    /* An allocation inside a shared library (lilv, serd, sord) is seen. */
    gs_rt_trap_clear();
    gs_rt_trap_arm(1);
    LilvWorld *world = lilv_world_new();
    gs_rt_trap_arm(0);
    lilv_world_free(world);
    CHECK_MSG(gs_rt_trap_count() > 0, "allocation in a shared library not trapped");

    /* Not armed: nothing counted, and other threads never are. */
    gs_rt_trap_clear();
    p = alloc(16);
    release(p);
    CHECK(gs_rt_trap_count() == 0);
    gs_rt_trap_clear();
}

static void hook(int entering)
{
    gs_rt_trap_arm(entering);
}

static void run_plugin(const char *uri, double rate)
{
    char err[512];
    gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, uri, rate, 1, 0, 1}; /* with queue_draw */
    gs_host *h = gs_host_new(&o, err, sizeof err);
    CHECK_MSG(h != NULL, "%s", err);
    if (!h)
        return;
    int ch = gs_host_channels(h);
    size_t n = (size_t)(12.0 * rate);
    float *src[2] = {calloc(n, sizeof(float)), calloc(n, sizeof(float))};
    gs_synth_music(src[0], src[1], n, rate, 5);
    for (size_t i = 0; i < n; i += 997) {
        src[0][i] = (i % 2) ? NAN : INFINITY;
        src[1][i] = 1e-41f;
    }
    static float out[2][8192];
    gs_host_set(h, "window", 3.0f);
    gs_host_set(h, "update", 0.25f);
    gs_host_set_rt_hook(h, hook);
    gs_host_activate(h);
    gs_rt_trap_clear();

    uint32_t rng = 31337;
    int verdicts = 0, blocks = 0, stage = 0;
    for (size_t pos = 0; pos < n; blocks++) {
        uint32_t b = gs_synth_block_size(&rng, 8192);
        if (b > n - pos)
            b = (uint32_t)(n - pos);
        const float *in[2] = {src[0] + pos, src[1] + pos};
        float *o2[2] = {out[0], out[1]};
        gs_host_run(h, in, o2, b);
        pos += b;
        if (gs_host_get(h, "genre") >= 0 || gs_host_get(h, "prob_notmusic") >= 0.5f)
            verdicts++; /* a genre, or "not music": the worker answered */
        /* Automation while running, at 3, 6 and 9 s. */
        double t = (double)pos / rate;
        if (stage == 0 && t >= 3.0) {
            stage++;
            gs_host_set(h, "window", 5.0f);
            gs_host_set(h, "update", 0.5f);
            gs_host_set(h, "smoothing", 0.9f);
        }
        if (stage == 1 && t >= 6.0) {
            stage++;
            gs_host_set(h, "window", NAN); /* a broken host value */
            gs_host_set(h, "update", 1e9f);
        }
        if (stage == 2 && t >= 9.0) { /* non-RT calls, not armed */
            stage++;
            gs_host_deactivate(h);
            gs_host_activate(h);
        }
    }
    (void)ch;
    CHECK(stage == 3);
    printf("%s @ %g Hz: %d blocks, %lu requests, %lu responses, trapped %lu (%s)\n", uri, rate, blocks,
           gs_host_requests(h), gs_host_responses(h), gs_rt_trap_count(), gs_rt_trap_first());
    CHECK_MSG(gs_rt_trap_count() == 0, "audio thread called %s (%lu trapped calls)", gs_rt_trap_first(),
              gs_rt_trap_count());
    CHECK(gs_host_responses(h) > 20);
    CHECK(verdicts > 0);
    gs_host_set_rt_hook(h, NULL);
    gs_host_free(h);
    free(src[0]);
    free(src[1]);
}

static int work_armed;
static void work_hook(int entering)
{
    gs_rt_trap_arm(entering && work_armed);
}

/* The worker (not real-time, but it must not churn memory while audio
 * plays) allocates everything at instantiate: once warmed up, work() at the
 * model's rate (no resampler, whose FIFOs grow on their own) allocates and
 * maps nothing while its frame and patch rings wrap, across silence, window
 * changes and verdicts. (Locks are allowed there: OpenBLAS takes one per
 * call.) */
static void worker_allocates_nothing(void)
{
    char err[512];
    const double rate = 22050; /* the bundled model's rate */
    gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, GS_PLUGIN_URI_BASE "#mono", rate, 1, 0, 0};
    gs_host *h = gs_host_new(&o, err, sizeof err);
    CHECK_MSG(h != NULL, "%s", err);
    if (!h)
        return;
    size_t n = (size_t)(75.0 * rate);
    float *src = calloc(n, sizeof(float));
    gs_synth_music(src, NULL, n, rate, 8);
    memset(src + (size_t)(40 * rate), 0, (size_t)(5 * rate) * sizeof(float));
    static float out[8192];
    gs_host_set(h, "window", 30.0f);
    gs_host_set(h, "update", 0.25f);
    gs_host_set_work_hook(h, work_hook);
    gs_host_activate(h);
    uint32_t rng = 4711;
    unsigned long requests = 0;
    for (size_t pos = 0; pos < n;) {
        uint32_t b = gs_synth_block_size(&rng, 8192);
        if (b > n - pos)
            b = (uint32_t)(n - pos);
        /* Warm-up: the first verdicts (first use of OpenBLAS's buffers). */
        work_armed = pos >= (size_t)(5 * rate);
        if (work_armed && requests == 0) {
            gs_rt_trap_clear();
            requests = gs_host_requests(h);
        }
        if (pos >= (size_t)(50 * rate))
            gs_host_set(h, "window", 12.0f);
        const float *in[1] = {src + pos};
        float *o1[1] = {out};
        gs_host_run(h, in, o1, b);
        pos += b;
    }
    requests = gs_host_requests(h) - requests;
    printf("worker @ %g Hz: %lu requests after warm-up, %lu memory calls (%s), %lu calls trapped in all\n", rate,
           requests, gs_rt_trap_memory_count(), gs_rt_trap_memory_first(), gs_rt_trap_count());
    CHECK_MSG(gs_rt_trap_memory_count() == 0, "the worker called %s (%lu allocation calls)", gs_rt_trap_memory_first(),
              gs_rt_trap_memory_count());
    CHECK(requests > 200);
    work_armed = 0;
    gs_host_set_work_hook(h, NULL);
    gs_host_free(h);
    free(src);
}

int main(void)
{
    /* Keep the plugin and its libraries (FFTW, OpenBLAS) mapped after lilv
     * unloads it: their process-wide caches would otherwise become
     * unreachable and LeakSanitizer would blame them on the test. */
    void *keep = dlopen(GS_PLUGIN_BUNDLE_DIR "/genrescope.so", RTLD_NOW | RTLD_NODELETE);
    CHECK_MSG(keep != NULL, "%s", dlerror());
    test_trap_works();
    run_plugin(GS_PLUGIN_URI_BASE "#stereo", 48000);
    run_plugin(GS_PLUGIN_URI_BASE "#mono", 44100);
    worker_allocates_nothing();
    return gs_test_finish("test_plugin_rt");
}
