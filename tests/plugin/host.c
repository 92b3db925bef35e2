/* The lilv test host of host.h: instantiation, port storage, and the worker
 * and log features it offers the plugin. */
#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lilv/lilv.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "inline_display.h"

#define MAX_URIDS   256
#define MAX_PORTS   128
#define QUEUE_BYTES 65536
#define LOG_BYTES   16384

typedef struct queue {
    unsigned char buf[QUEUE_BYTES];
    size_t len;
} queue;

struct gs_host {
    LilvWorld *world;
    const LilvPlugin *plugin;
    LilvInstance *instance;
    const LV2_Worker_Interface *worker;
    int work_in_schedule;

    char *uris[MAX_URIDS];
    int num_uris;
    LV2_URID_Map map;
    LV2_Worker_Schedule schedule;
    LV2_Log_Log log;
    LV2_Inline_Display queue_draw;
    LV2_Feature f_map, f_schedule, f_log, f_queue_draw;
    const LV2_Feature *features[5];
    unsigned long n_queue_draws;

    int num_ports;
    int channels;
    int audio_in[2], audio_out[2];
    int is_audio[MAX_PORTS], is_input[MAX_PORTS];
    char symbols[MAX_PORTS][64];
    float min[MAX_PORTS], max[MAX_PORTS], def[MAX_PORTS];
    float ctl[MAX_PORTS];

    queue requests, responses;
    int in_work; /* responses may only be queued from work() */
    int hold_work;
    unsigned long n_requests, n_responses;

    char log_text[LOG_BYTES];
    size_t log_len;
    int log_errors;
    LV2_URID urid_error;

    gs_host_rt_hook hook;
    gs_host_rt_hook work_hook;
    double work_seconds, max_work_seconds, run_seconds, last_run_seconds;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char *uri)
{
    gs_host *h = handle;
    for (int i = 0; i < h->num_uris; i++)
        if (strcmp(h->uris[i], uri) == 0)
            return (LV2_URID)(i + 1);
    if (h->num_uris == MAX_URIDS)
        return 0;
    h->uris[h->num_uris] = strdup(uri);
    return h->uris[h->num_uris] ? (LV2_URID)++h->num_uris : 0;
}

/* Fixed-size queues: schedule_work() is called from run(), where the host
 * must not allocate either. Entries: uint32 size, payload, padded to 8. */
static int queue_push(queue *q, uint32_t size, const void *data)
{
    size_t need = 8 + (((size_t)size + 7) & ~(size_t)7);
    if (q->len + need > QUEUE_BYTES)
        return -1;
    memcpy(q->buf + q->len, &size, sizeof size);
    memcpy(q->buf + q->len + 8, data, size);
    q->len += need;
    return 0;
}

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
    gs_host *h = handle;
    if (queue_push(&h->responses, size, data) != 0)
        return LV2_WORKER_ERR_NO_SPACE;
    h->n_responses++;
    return LV2_WORKER_SUCCESS;
}

static void do_work(gs_host *h, uint32_t size, const void *data)
{
    double t0 = now();
    h->in_work = 1;
    if (h->work_hook)
        h->work_hook(1);
    h->worker->work(h->instance->lv2_handle, respond, h, size, data);
    if (h->work_hook)
        h->work_hook(0);
    h->in_work = 0;
    double dt = now() - t0;
    h->work_seconds += dt;
    if (dt > h->max_work_seconds)
        h->max_work_seconds = dt;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle handle, uint32_t size, const void *data)
{
    gs_host *h = handle;
    h->n_requests++;
    if (h->work_in_schedule) {
        do_work(h, size, data);
        return LV2_WORKER_SUCCESS;
    }
    return queue_push(&h->requests, size, data) == 0 ? LV2_WORKER_SUCCESS : LV2_WORKER_ERR_NO_SPACE;
}

/* Counts only: real-time safe, like Ardour's (which flags the strip). */
static void queue_draw(LV2_Inline_Display_Handle handle)
{
    gs_host *h = handle;
    h->n_queue_draws++;
}

static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap)
{
    gs_host *h = handle;
    if (type == h->urid_error)
        h->log_errors++;
    if (h->log_len < LOG_BYTES - 1) {
        int n = vsnprintf(h->log_text + h->log_len, LOG_BYTES - h->log_len, fmt, ap);
        if (n > 0)
            h->log_len += (size_t)n < LOG_BYTES - h->log_len ? (size_t)n : LOG_BYTES - 1 - h->log_len;
    }
    return 0;
}

static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = log_vprintf(handle, type, fmt, ap);
    va_end(ap);
    return r;
}

gs_host *gs_host_new(const gs_host_options *opt, char *err, size_t errlen)
{
    gs_host *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->work_in_schedule = opt->work_in_schedule;
    h->world = lilv_world_new();
    size_t blen = strlen(opt->bundle_dir);
    char *dir = malloc(blen + 2);
    snprintf(dir, blen + 2, "%s%s", opt->bundle_dir, blen && opt->bundle_dir[blen - 1] == '/' ? "" : "/");
    LilvNode *bundle = lilv_new_file_uri(h->world, NULL, dir);
    free(dir);
    lilv_world_load_bundle(h->world, bundle);
    lilv_node_free(bundle);
    LilvNode *uri = lilv_new_uri(h->world, opt->plugin_uri);
    h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), uri);
    lilv_node_free(uri);
    if (!h->plugin) {
        snprintf(err, errlen, "plugin %s not found in %s", opt->plugin_uri, opt->bundle_dir);
        gs_host_free(h);
        return NULL;
    }

    h->map.handle = h;
    h->map.map = map_uri;
    h->schedule.handle = h;
    h->schedule.schedule_work = schedule_work;
    h->log.handle = h;
    h->log.printf = log_printf;
    h->log.vprintf = log_vprintf;
    h->urid_error = map_uri(h, LV2_LOG__Error);
    h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
    h->f_schedule = (LV2_Feature){LV2_WORKER__schedule, &h->schedule};
    h->f_log = (LV2_Feature){LV2_LOG__log, &h->log};
    int nf = 0;
    h->features[nf++] = &h->f_map;
    h->features[nf++] = &h->f_schedule;
    if (opt->with_log)
        h->features[nf++] = &h->f_log;
    h->queue_draw.handle = h;
    h->queue_draw.queue_draw = queue_draw;
    h->f_queue_draw = (LV2_Feature){LV2_INLINEDISPLAY__queue_draw, &h->queue_draw};
    if (opt->with_queue_draw)
        h->features[nf++] = &h->f_queue_draw;
    h->features[nf] = NULL;

    h->num_ports = (int)lilv_plugin_get_num_ports(h->plugin);
    if (h->num_ports > MAX_PORTS) {
        snprintf(err, errlen, "too many ports (%d)", h->num_ports);
        gs_host_free(h);
        return NULL;
    }
    lilv_plugin_get_port_ranges_float(h->plugin, h->min, h->max, h->def);
    LilvNode *audio = lilv_new_uri(h->world, LV2_CORE__AudioPort);
    LilvNode *input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    int n_in = 0, n_out = 0;
    for (int i = 0; i < h->num_ports; i++) {
        const LilvPort *port = lilv_plugin_get_port_by_index(h->plugin, (uint32_t)i);
        h->is_audio[i] = lilv_port_is_a(h->plugin, port, audio);
        h->is_input[i] = lilv_port_is_a(h->plugin, port, input);
        snprintf(h->symbols[i], sizeof h->symbols[i], "%s", lilv_node_as_string(lilv_port_get_symbol(h->plugin, port)));
        if (h->is_audio[i] && h->is_input[i] && n_in < 2)
            h->audio_in[n_in++] = i;
        else if (h->is_audio[i] && !h->is_input[i] && n_out < 2)
            h->audio_out[n_out++] = i;
        h->ctl[i] = h->def[i] == h->def[i] ? h->def[i] : 0.0f;
    }
    lilv_node_free(audio);
    lilv_node_free(input);
    h->channels = n_in;
    if (n_in < 1 || n_in != n_out) {
        snprintf(err, errlen, "unexpected audio ports: %d in, %d out", n_in, n_out);
        gs_host_free(h);
        return NULL;
    }

    h->instance = lilv_plugin_instantiate(h->plugin, opt->rate, h->features);
    if (!h->instance) {
        snprintf(err, errlen, "instantiate failed at %g Hz (log: %s)", opt->rate, h->log_text);
        gs_host_free(h);
        return NULL;
    }
    h->worker = lilv_instance_get_extension_data(h->instance, LV2_WORKER__interface);
    if (!h->worker) {
        snprintf(err, errlen, "no worker interface");
        gs_host_free(h);
        return NULL;
    }
    for (int i = 0; i < h->num_ports; i++)
        if (!h->is_audio[i])
            lilv_instance_connect_port(h->instance, (uint32_t)i, &h->ctl[i]);
    return h;
}

void gs_host_free(gs_host *h)
{
    if (!h)
        return;
    if (h->instance)
        lilv_instance_free(h->instance);
    if (h->world)
        lilv_world_free(h->world);
    for (int i = 0; i < h->num_uris; i++)
        free(h->uris[i]);
    free(h);
}

void gs_host_set_rt_hook(gs_host *h, gs_host_rt_hook hook)
{
    h->hook = hook;
}
void gs_host_set_work_hook(gs_host *h, gs_host_rt_hook hook)
{
    h->work_hook = hook;
}
void gs_host_activate(gs_host *h)
{
    lilv_instance_activate(h->instance);
}
void gs_host_deactivate(gs_host *h)
{
    lilv_instance_deactivate(h->instance);
    /* A host drops worker traffic of a deactivated instance. */
    h->requests.len = 0;
    h->responses.len = 0;
}

int gs_host_channels(const gs_host *h)
{
    return h->channels;
}
int gs_host_num_ports(const gs_host *h)
{
    return h->num_ports;
}

int gs_host_port(const gs_host *h, const char *symbol)
{
    for (int i = 0; i < h->num_ports; i++)
        if (strcmp(h->symbols[i], symbol) == 0)
            return i;
    return -1;
}

float gs_host_get(const gs_host *h, const char *symbol)
{
    int i = gs_host_port(h, symbol);
    return i >= 0 ? h->ctl[i] : -12345.0f;
}

void gs_host_set(gs_host *h, const char *symbol, float value)
{
    int i = gs_host_port(h, symbol);
    if (i >= 0)
        h->ctl[i] = value;
}

void gs_host_range(const gs_host *h, int port, float *min, float *max, float *def)
{
    *min = h->min[port];
    *max = h->max[port];
    *def = h->def[port];
}

int gs_host_is_output_control(const gs_host *h, int port)
{
    return port >= 0 && port < h->num_ports && !h->is_audio[port] && !h->is_input[port];
}

const char *gs_host_symbol(const gs_host *h, int port)
{
    return h->symbols[port];
}

void gs_host_hold_work(gs_host *h, int hold)
{
    h->hold_work = hold;
}

static void hook(gs_host *h, int entering)
{
    if (h->hook)
        h->hook(entering);
}

void gs_host_run(gs_host *h, const float *const *in, float *const *out, uint32_t n)
{
    for (int c = 0; c < h->channels; c++) {
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_in[c], (void *)in[c]);
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_out[c], out[c]);
    }
    double t0 = now();
    hook(h, 1);
    lilv_instance_run(h->instance, n);
    hook(h, 0);
    h->last_run_seconds = now() - t0;
    h->run_seconds += h->last_run_seconds;

    for (size_t off = 0; !h->hold_work && off < h->requests.len;) {
        uint32_t size;
        memcpy(&size, h->requests.buf + off, sizeof size);
        do_work(h, size, h->requests.buf + off + 8);
        off += 8 + (((size_t)size + 7) & ~(size_t)7);
    }
    if (!h->hold_work)
        h->requests.len = 0;

    hook(h, 1);
    for (size_t off = 0; off < h->responses.len;) {
        uint32_t size;
        memcpy(&size, h->responses.buf + off, sizeof size);
        h->worker->work_response(h->instance->lv2_handle, size, h->responses.buf + off + 8);
        off += 8 + (((size_t)size + 7) & ~(size_t)7);
    }
    h->responses.len = 0;
    if (h->worker->end_run)
        h->worker->end_run(h->instance->lv2_handle);
    hook(h, 0);
}

const char *gs_host_log(const gs_host *h)
{
    return h->log_text;
}
int gs_host_log_errors(const gs_host *h)
{
    return h->log_errors;
}
unsigned long gs_host_requests(const gs_host *h)
{
    return h->n_requests;
}
unsigned long gs_host_responses(const gs_host *h)
{
    return h->n_responses;
}
double gs_host_work_seconds(const gs_host *h)
{
    return h->work_seconds;
}
double gs_host_run_seconds(const gs_host *h)
{
    return h->run_seconds;
}
double gs_host_max_work_seconds(const gs_host *h)
{
    return h->max_work_seconds;
}
double gs_host_last_run_seconds(const gs_host *h)
{
    return h->last_run_seconds;
}

const void *gs_host_extension_data(const gs_host *h, const char *uri)
{
    return lilv_instance_get_extension_data(h->instance, uri);
}
void *gs_host_handle(const gs_host *h)
{
    return lilv_instance_get_handle(h->instance);
}
unsigned long gs_host_queue_draws(const gs_host *h)
{
    return h->n_queue_draws;
}
