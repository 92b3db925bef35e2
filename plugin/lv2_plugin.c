/* LV2 entry points: instantiate (loads the bundled model), run (audio
 * thread: passthrough, downmix into the ring, schedule the worker, write the
 * output controls) and the worker's response path.
 *
 * run() and work_response() allocate nothing, take no lock, do no I/O: the
 * harness in tests/plugin traps those calls to prove it. */
#include "plugin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2_util.h>

static float clampf(float v, float lo, float hi, float fallback)
{
    if (isnan(v))
        return fallback;
    return v < lo ? lo : (v > hi ? hi : v);
}

static float read_control(const gs_plugin *p, int c, float lo, float hi, float def)
{
    return p->ctl[c] ? clampf(*p->ctl[c], lo, hi, def) : def;
}

static void write_control(gs_plugin *p, int c, float v)
{
    if (p->ctl[c])
        *p->ctl[c] = v;
}

static bool labels_match(const gs_model *model)
{
    if (gs_model_num_labels(model) != GS_PLUGIN_NUM_LABELS ||
        gs_model_not_music_label(model) != GS_PLUGIN_NOT_MUSIC_LABEL)
        return false;
    for (int i = 0; i < GS_PLUGIN_NUM_LABELS; i++)
        if (strcmp(gs_model_label(model, i), gs_plugin_labels[i]) != 0)
            return false;
    return true;
}

/* The shown verdict back to "none", deciding as the loaded model says (the
 * core's default threshold when it failed to load). */
static void reset_verdict(gs_plugin *p)
{
    gs_smoothed_verdict_reset(&p->verdict, GS_PLUGIN_NUM_LABELS, GS_PLUGIN_NOT_MUSIC_LABEL,
                              gs_model_not_music_min_probability(p->model));
}

/* Loads the model and builds the analysis state; on failure logs why and
 * leaves the instance in passthrough mode. */
static void setup_analysis(gs_plugin *p, const char *bundle_path)
{
    if (!(p->rate >= GS_PLUGIN_MIN_RATE && p->rate <= GS_PLUGIN_MAX_RATE)) {
        lv2_log_error(&p->logger,
                      "Genrescope: sample rate %.0f Hz is outside 22050..192000 Hz; "
                      "audio passes through but no genre is analysed\n",
                      p->rate);
        return;
    }
    size_t blen = strlen(bundle_path);
    size_t need = blen + 2 + sizeof GS_PLUGIN_MODEL_FILE;
    char *path = malloc(need);
    if (!path)
        return;
    snprintf(path, need, "%s%s%s", bundle_path, (blen && bundle_path[blen - 1] == '/') ? "" : "/",
             GS_PLUGIN_MODEL_FILE);

    gs_error err = {0};
    p->model = gs_model_load(path, &err);
    if (!p->model) {
        lv2_log_error(&p->logger,
                      "Genrescope: cannot load the model %s: %s; audio passes through "
                      "but no genre is reported\n",
                      path, err.message);
        free(path);
        return;
    }
    if (!labels_match(p->model)) {
        lv2_log_error(&p->logger,
                      "Genrescope: the model %s has labels that differ from the ones "
                      "this bundle was built with (%d); reinstall the bundle\n",
                      path, GS_PLUGIN_NUM_LABELS);
        free(path);
        return;
    }
    free(path);
    gs_net_set_blas_threads(1); /* a BLAS pool would spin on the audio thread's cores */
    if (gs_plugin_worker_init(p, &err) != GS_OK ||
        gs_ring_init(&p->ring, (size_t)ceil(p->rate * GS_RING_SECONDS)) != 0) {
        lv2_log_error(&p->logger, "Genrescope: cannot set up the analysis: %s\n",
                      err.message[0] ? err.message : "out of memory");
        return;
    }
    p->analysis_ok = true;
}

static void cleanup(LV2_Handle instance)
{
    gs_plugin *p = instance;
    gs_plugin_worker_free(p);
    gs_ring_destroy(&p->ring);
    gs_model_free(p->model);
    free(p);
}

/* How full the analysis window is, 0..1 (0 without analysis). */
static float window_fill(const gs_plugin *p)
{
    if (!p->analysis_ok)
        return 0.0f;
    double f = (double)p->frames / (p->window_seconds * p->rate);
    return f > 1.0 ? 1.0f : (float)f;
}

/* What the mixer-strip picture should show now: the same values run()
 * writes to the ports. */
static void display_state(const gs_plugin *p, gs_display_state *s)
{
    const gs_smoothed_verdict *v = &p->verdict;
    memset(s, 0, sizeof *s);
    s->genre = v->genre;
    s->fill = window_fill(p);
    for (int i = 0; i < GS_PLUGIN_NUM_LABELS; i++)
        s->probs[i] = v->have ? v->smoothed[i] : 0.0f;
}

/* Publishes the state to render() when it would draw differently (the
 * verdict, or the fill by at least one pixel of the widest picture) and
 * asks the host to redraw. Audio thread: wait-free, no allocation;
 * queue_draw is real-time safe by the extension's contract. */
static void update_display(gs_plugin *p)
{
    gs_display_state s;
    display_state(p, &s);
    const gs_display_state *o = &p->display_sent;
    bool changed = p->display_dirty || s.genre != o->genre ||
        lrintf(s.fill * GS_DISPLAY_MAX_W) != lrintf(o->fill * GS_DISPLAY_MAX_W) ||
        memcmp(s.probs, o->probs, sizeof s.probs) != 0;
    if (!changed)
        return;
    p->display_sent = s;
    p->display_dirty = false;
    gs_display_publish(&p->display, &s, GS_PLUGIN_NUM_LABELS);
    if (p->queue_draw)
        p->queue_draw->queue_draw(p->queue_draw->handle);
}

static LV2_Handle instantiate(const LV2_Descriptor *descriptor, double rate, const char *bundle_path,
                              const LV2_Feature *const *features)
{
    gs_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (strcmp(descriptor->URI, GS_PLUGIN_URI_STEREO) == 0) {
        p->channels = GS_PLUGIN_CHANNELS_STEREO;
        p->ports = gs_ports_stereo;
        p->num_ports = sizeof gs_ports_stereo / sizeof gs_ports_stereo[0];
    } else {
        p->channels = GS_PLUGIN_CHANNELS_MONO;
        p->ports = gs_ports_mono;
        p->num_ports = sizeof gs_ports_mono / sizeof gs_ports_mono[0];
    }
    p->rate = rate;
    LV2_URID_Map *map = NULL;
    LV2_Log_Log *log = NULL;
    const char *missing =
        lv2_features_query(features, LV2_LOG__log, &log, false, LV2_URID__map, &map, true, LV2_WORKER__schedule,
                           &p->schedule, true, LV2_INLINEDISPLAY__queue_draw, &p->queue_draw, false, NULL);
    lv2_log_logger_init(&p->logger, map, log);
    if (missing) {
        lv2_log_error(&p->logger, "Genrescope: the host lacks the required feature <%s>\n", missing);
        free(p);
        return NULL;
    }
    p->window_seconds = GS_CTL_WINDOW_DEFAULT;
    setup_analysis(p, bundle_path);
    reset_verdict(p);
    display_state(p, &p->display_sent);
    gs_display_publish(&p->display, &p->display_sent, GS_PLUGIN_NUM_LABELS);
    p->display_shown = p->display_sent;
    return p;
}

static void connect_port(LV2_Handle instance, uint32_t port, void *data)
{
    gs_plugin *p = instance;
    if (port >= p->num_ports)
        return;
    const gs_port_slot *s = &p->ports[port];
    switch (s->kind) {
    case GS_PORT_AUDIO_IN: p->in[s->index] = data; break;
    case GS_PORT_AUDIO_OUT: p->out[s->index] = data; break;
    default: p->ctl[s->index] = data; break;
    }
}

static void activate(LV2_Handle instance)
{
    gs_plugin *p = instance;
    p->generation++;
    p->frames = 0;
    p->update_frames = 0;
    p->next_update = 0;
    p->classify_due = false;
    p->pending = false;
    p->dropped = 0;
    if (p->analysis_ok)
        gs_ring_reset(&p->ring);
    reset_verdict(p);
    /* The picture goes back to "none" now; the host hears about it with
     * the next response (queue_draw belongs to the audio thread). */
    display_state(p, &p->display_sent);
    gs_display_publish(&p->display, &p->display_sent, GS_PLUGIN_NUM_LABELS);
    p->display_dirty = true;
}

/* Downmixes straight into the ring's free space; what does not fit (worker
 * stalled for GS_RING_SECONDS) is dropped and counted, never waited for. */
static void feed(gs_plugin *p, uint32_t n)
{
    const float *l = p->in[0];
    const float *r = p->channels == 2 ? p->in[1] : NULL;
    if (!l || (p->channels == 2 && !r))
        return;
    float *a, *b;
    size_t na, nb;
    size_t m = gs_ring_regions(&p->ring, n, &a, &na, &b, &nb);
    if (!r) {
        memcpy(a, l, na * sizeof *l);
        memcpy(b, l + na, nb * sizeof *l);
    } else {
        for (size_t i = 0; i < na; i++)
            a[i] = 0.5f * (l[i] + r[i]);
        for (size_t i = 0; i < nb; i++)
            b[i] = 0.5f * (l[na + i] + r[na + i]);
    }
    gs_ring_commit(&p->ring, m);
    p->dropped += n - m;
}

static void schedule(gs_plugin *p, float update_seconds)
{
    uint64_t uf = (uint64_t)llround(update_seconds * p->rate);
    if (uf < 1)
        uf = 1;
    if (uf != p->update_frames) {
        /* Verdicts fall on a grid of update intervals since activate(), so
         * a host that stops at a multiple of it gets a verdict right there.
         * update_frames is 0 only in the first run() after activate(), whose
         * block may already reach the first grid point: it must not be
         * skipped. */
        p->next_update = p->update_frames == 0 ? uf : (p->frames / uf + 1) * uf;
        p->update_frames = uf;
    }
    if (p->frames >= p->next_update) {
        p->classify_due = true;
        p->next_update = (p->frames / uf + 1) * uf;
    }
    if (p->pending && (double)(p->frames - p->pending_since) > GS_PENDING_TIMEOUT_SECONDS * p->rate)
        p->pending = false;
    size_t queued = p->ring.capacity - gs_ring_write_space(&p->ring);
    if (p->pending || !(p->classify_due || (double)queued >= GS_DRAIN_SECONDS * p->rate))
        return;

    gs_work_request req;
    memset(&req, 0, sizeof req);
    req.magic = GS_MSG_MAGIC;
    req.generation = p->generation;
    req.write_pos = gs_ring_written(&p->ring);
    req.window_seconds = p->window_seconds;
    req.classify = p->classify_due;
    req.dropped = p->dropped;
    /* Set before scheduling: a host working synchronously may deliver the
     * response from inside schedule_work(). */
    p->pending = true;
    p->pending_since = p->frames;
    if (p->schedule->schedule_work(p->schedule->handle, sizeof req, &req) == LV2_WORKER_SUCCESS)
        p->classify_due = false;
    else
        p->pending = false; /* host queue full: retry next cycle */
}

static void run(LV2_Handle instance, uint32_t n)
{
    gs_plugin *p = instance;
    if (p->analysis_ok && n > 0)
        feed(p, n);
    for (int c = 0; c < p->channels; c++)
        if (p->in[c] && p->out[c] && p->in[c] != p->out[c] && n > 0)
            memcpy(p->out[c], p->in[c], n * sizeof(float));
    p->frames += n;

    p->window_seconds =
        read_control(p, GS_CTL_WINDOW, GS_CTL_WINDOW_MINIMUM, GS_CTL_WINDOW_MAXIMUM, GS_CTL_WINDOW_DEFAULT);
    float update = read_control(p, GS_CTL_UPDATE, GS_CTL_UPDATE_MINIMUM, GS_CTL_UPDATE_MAXIMUM, GS_CTL_UPDATE_DEFAULT);
    if (p->analysis_ok)
        schedule(p, update);

    const gs_smoothed_verdict *v = &p->verdict;
    float fill = window_fill(p);
    write_control(p, GS_CTL_GENRE, (float)v->genre);
    write_control(p, GS_CTL_CONFIDENCE, v->genre >= 0 ? v->confidence : 0.0f);
    write_control(p, GS_CTL_FILL, fill);
    write_control(p, GS_CTL_LATENCY, 0.0f);
    /* An integer port in a float: exact up to its maximum (2^24), where it
     * stays rather than lose precision. */
    write_control(p, GS_CTL_DROPPED,
                  p->dropped < (uint64_t)GS_CTL_DROPPED_MAXIMUM ? (float)p->dropped : GS_CTL_DROPPED_MAXIMUM);
    /* The probabilities stay visible when the answer is "not music" (they
     * say why); only silence or no data zeroes them. */
    for (int i = 0; i < GS_PLUGIN_NUM_LABELS; i++)
        write_control(p, GS_CTL_PROB0 + i, v->have ? v->smoothed[i] : 0.0f);
}

static LV2_Worker_Status work_response(LV2_Handle instance, uint32_t size, const void *data)
{
    gs_plugin *p = instance;
    gs_work_response resp;
    if (size != sizeof resp)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&resp, data, sizeof resp);
    if (resp.magic != GS_MSG_MAGIC)
        return LV2_WORKER_ERR_UNKNOWN;
    if (resp.generation != p->generation)
        return LV2_WORKER_SUCCESS; /* answer to a request from before activate() */
    p->pending = false;
    if (resp.classified) {
        float smoothing = read_control(p, GS_CTL_SMOOTHING, GS_CTL_SMOOTHING_MINIMUM, GS_CTL_SMOOTHING_MAXIMUM,
                                       GS_CTL_SMOOTHING_DEFAULT);
        gs_smoothed_verdict_update(&p->verdict, resp.probs, resp.num_patches, smoothing);
    }
    /* Here rather than in run(): every verdict and fill change arrives
     * with a response (one per update or drain, a few per second). */
    update_display(p);
    return LV2_WORKER_SUCCESS;
}

static void deactivate(LV2_Handle instance)
{
    (void)instance;
}

/* The genre's display name per label (models/genre-names.conf). */
static const char *const display_names[GS_PLUGIN_NUM_LABELS] = GS_PLUGIN_DISPLAY_NAMES_INIT;

/* Inline display (GUI thread): draws the latest published state into the
 * instance's own buffer, sized for the largest picture, and returns the
 * instance's surface (valid until cleanup; the next call redraws it). No
 * allocation, lock or I/O. NULL when the host offers no room. */
static LV2_Inline_Display_Image_Surface *render(LV2_Handle instance, uint32_t w, uint32_t max_h)
{
    gs_plugin *p = instance;
    int cw, ch;
    gs_display_size(w, max_h, &cw, &ch);
    if (cw < 1 || ch < 1)
        return NULL;
    /* A copy torn by a concurrent publish is never drawn: on repeated
     * interference the previous consistent copy is drawn instead. */
    gs_display_read(&p->display, &p->display_shown, GS_PLUGIN_NUM_LABELS);
    gs_display_draw(p->display_px, cw, cw, ch, &p->display_shown, display_names, GS_PLUGIN_NUM_LABELS,
                    GS_PLUGIN_NOT_MUSIC_LABEL);
    p->surface.data = (unsigned char *)p->display_px;
    p->surface.width = cw;
    p->surface.height = ch;
    p->surface.stride = cw * (int)sizeof p->display_px[0];
    return &p->surface;
}

static const void *extension_data(const char *uri)
{
    static const LV2_Worker_Interface worker = {gs_plugin_work, work_response, NULL};
    static const LV2_Inline_Display_Interface display = {render};
    if (strcmp(uri, LV2_WORKER__interface) == 0)
        return &worker;
    if (strcmp(uri, LV2_INLINEDISPLAY__interface) == 0)
        return &display;
    return NULL;
}

static const LV2_Descriptor descriptors[2] = {
    {GS_PLUGIN_URI_MONO, instantiate, connect_port, activate, run, deactivate, cleanup, extension_data},
    {GS_PLUGIN_URI_STEREO, instantiate, connect_port, activate, run, deactivate, cleanup, extension_data},
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    return index < 2 ? &descriptors[index] : NULL;
}
