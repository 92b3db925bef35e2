/* Internal state of the Genrescope LV2 plugin, shared by the audio-thread
 * side (lv2_plugin.c: run, work_response) and the worker side (worker.c).
 *
 * Threading: fields under "audio thread" are touched only by run() and
 * work_response() (both in the audio thread, never concurrently); fields
 * under "worker" only by work(). They meet in the lock-free ring (audio ->
 * worker samples) and in the request/response messages the host copies. */
#ifndef GS_PLUGIN_H
#define GS_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include "display.h"
#include "genrescope.h"
#include "gs_plugin_bundle.h" /* generated from bundle.json: URIs, ports, ranges */
#include "inline_display.h"
#include "ring.h"
#include "smoothing.h"

#if GS_PLUGIN_NUM_LABELS > GS_MAX_LABELS || GS_PLUGIN_NUM_LABELS < 1
#error "label count of the bundled model out of range"
#endif

#define GS_PLUGIN_MODEL_FILE "model.safetensors"

#define GS_PLUGIN_MIN_RATE 22050.0
#define GS_PLUGIN_MAX_RATE 192000.0

/* Ring capacity in seconds of host-rate audio: how long the worker may lag
 * (e.g. one 30 s inference plus scheduling jitter) before samples drop. */
#define GS_RING_SECONDS 8.0
/* run() asks the worker to drain once this much audio is waiting, so the
 * ring stays mostly empty between verdicts. */
#define GS_DRAIN_SECONDS 0.25
/* A request whose response never came (host dropped it) is forgotten after
 * this long, so analysis cannot stall forever. */
#define GS_PENDING_TIMEOUT_SECONDS 20.0
/* Host-rate samples the worker resamples per step. */
#define GS_WORK_CHUNK 4096

#define GS_MSG_MAGIC 0x47535731u /* "GSW1" */

typedef struct gs_work_request {
    uint32_t magic;
    uint32_t generation;  /* bumped by activate(); stale work is ignored */
    uint64_t write_pos;   /* drain the ring up to here (audio up to "now") */
    float window_seconds; /* analysis window when classify != 0 */
    uint32_t classify;    /* 0: drain only */
    uint64_t dropped;     /* samples dropped since activate(), for the log */
} gs_work_request;

typedef struct gs_work_response {
    uint32_t magic;
    uint32_t generation;
    int32_t classified;  /* 1: probs holds a fresh window verdict */
    int32_t num_patches; /* classified (non-silent) patches */
    float probs[GS_PLUGIN_NUM_LABELS];
} gs_work_response;

typedef struct gs_plugin {
    int channels;              /* 1 or 2 */
    const gs_port_slot *ports; /* the variant's port map, num_ports long */
    uint32_t num_ports;
    double rate; /* host sample rate */
    LV2_Log_Logger logger;
    LV2_Worker_Schedule *schedule;
    bool analysis_ok; /* false: passthrough and silent outputs only */

    /* ports */
    const float *in[2];
    float *out[2];
    float *ctl[GS_CTL_COUNT];

    gs_ring ring; /* downmixed host-rate audio, audio -> worker */

    /* audio thread */
    uint32_t generation;
    uint64_t frames;        /* since activate() */
    uint64_t update_frames; /* current update interval in frames */
    uint64_t next_update;   /* frames value at which the next verdict is due */
    bool classify_due;
    bool pending; /* a request is in flight */
    uint64_t pending_since;
    uint64_t dropped; /* samples the full ring could not take */
    float window_seconds;
    gs_smoothed_verdict verdict;
    gs_display_state display_sent; /* last state published for the display */
    bool display_dirty;            /* publish and queue a redraw at the next response */

    /* inline display: the audio thread publishes, render() (GUI thread)
     * reads; see display.h */
    LV2_Inline_Display *queue_draw; /* host feature, NULL without one */
    gs_display_shared display;
    gs_display_state display_shown; /* render(): the last consistent copy */
    LV2_Inline_Display_Image_Surface surface;
    uint32_t display_px[GS_DISPLAY_MAX_W * GS_DISPLAY_MAX_H];

    /* worker */
    gs_model *model;
    gs_sliding *sliding; /* incremental window verdicts, model rate */
    size_t window_cap;   /* largest window, model-rate samples */
    int model_rate;
    gs_resampler *resampler; /* NULL when host rate == model rate */
    bool resampler_fresh;    /* no samples pushed since it was created */
    uint32_t worker_generation;
    float *chunk_in;  /* GS_WORK_CHUNK */
    float *chunk_out; /* resampler's max output */
    size_t chunk_out_cap;
    uint64_t nonfinite;     /* NaN/Inf samples zeroed for analysis */
    unsigned worker_errors; /* only the first few are logged */
    bool dropped_logged;    /* drops are logged once per instance */
} gs_plugin;

/* worker.c */
gs_status gs_plugin_worker_init(gs_plugin *p, gs_error *err);
void gs_plugin_worker_free(gs_plugin *p);
LV2_Worker_Status gs_plugin_work(LV2_Handle instance, LV2_Worker_Respond_Function respond,
                                 LV2_Worker_Respond_Handle handle, uint32_t size, const void *data);

#endif
