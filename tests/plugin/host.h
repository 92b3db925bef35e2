/* A minimal LV2 host on lilv for the plugin tests and benchmark.
 *
 * Loads one bundle (not the whole LV2_PATH), instantiates a plugin with
 * urid:map, worker:schedule and (optionally) log:log, connects every control
 * port to host storage, and runs it block by block. The worker is serviced
 * synchronously between blocks, in the order jalv uses: run(), then work()
 * for each request, then work_response() for each response and end_run().
 * An optional hook brackets the calls a real host makes from its audio
 * thread (run, work_response, end_run) so a test can trap what they do. */
#ifndef GS_TEST_PLUGIN_HOST_H
#define GS_TEST_PLUGIN_HOST_H

#include <stddef.h>
#include <stdint.h>

typedef struct gs_host gs_host;

/* Called with 1 before and 0 after each audio-thread call. */
typedef void (*gs_host_rt_hook)(int entering);

typedef struct gs_host_options {
    const char *bundle_dir; /* with or without trailing '/' */
    const char *plugin_uri;
    double rate;
    int with_log;         /* provide log:log (messages are captured) */
    int work_in_schedule; /* 1: run work() inside schedule_work, as offline hosts may */
    int with_queue_draw;  /* provide the inline display's queue_draw (calls are counted) */
} gs_host_options;

/* NULL on failure with a reason in err (errlen bytes). */
gs_host *gs_host_new(const gs_host_options *opt, char *err, size_t errlen);
void gs_host_free(gs_host *h);

void gs_host_set_rt_hook(gs_host *h, gs_host_rt_hook hook);
/* The same around each work() call (the worker thread), or NULL. */
void gs_host_set_work_hook(gs_host *h, gs_host_rt_hook hook);
/* hold != 0: keep the plugin's work requests queued instead of running
 * them after each block, as a host whose worker thread is stuck would;
 * 0: run them (all queued ones) after the next block again. */
void gs_host_hold_work(gs_host *h, int hold);
void gs_host_activate(gs_host *h);
void gs_host_deactivate(gs_host *h);

int gs_host_channels(const gs_host *h);
int gs_host_num_ports(const gs_host *h);
/* Port index by symbol, or -1. */
int gs_host_port(const gs_host *h, const char *symbol);
float gs_host_get(const gs_host *h, const char *symbol);
void gs_host_set(gs_host *h, const char *symbol, float value);
/* Range of a port from the TTL. */
void gs_host_range(const gs_host *h, int port, float *min, float *max, float *def);
int gs_host_is_output_control(const gs_host *h, int port);
const char *gs_host_symbol(const gs_host *h, int port);

/* One cycle of n frames: in/out hold gs_host_channels() pointers (out[c]
 * may equal in[c] for in-place processing). */
void gs_host_run(gs_host *h, const float *const *in, float *const *out, uint32_t n);

/* The instance's extension data for uri (NULL if none) and its handle, for
 * calling an extension's functions directly. */
const void *gs_host_extension_data(const gs_host *h, const char *uri);
void *gs_host_handle(const gs_host *h);
/* queue_draw calls so far (with_queue_draw). */
unsigned long gs_host_queue_draws(const gs_host *h);

/* Log text captured so far (NUL-terminated) and number of error messages. */
const char *gs_host_log(const gs_host *h);
int gs_host_log_errors(const gs_host *h);
/* Worker traffic so far. */
unsigned long gs_host_requests(const gs_host *h);
unsigned long gs_host_responses(const gs_host *h);
/* Time spent in work() (seconds, monotonic) and in run() only. */
double gs_host_work_seconds(const gs_host *h);
double gs_host_run_seconds(const gs_host *h);
/* Duration of the last run() call alone. */
double gs_host_last_run_seconds(const gs_host *h);
/* Duration of the most expensive work() call so far. */
double gs_host_max_work_seconds(const gs_host *h);

#endif
