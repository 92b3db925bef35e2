/* Worker side of the plugin: drains the ring, sanitises and resamples to the
 * model rate, and feeds the core's incremental sliding window (gs_sliding),
 * which computes each new frame and each new patch once as the audio
 * arrives; a verdict then costs the patch at the window's end, not the
 * whole window. Runs in the host's non-real-time worker thread (or
 * synchronously when the host is offline), so it may block; it still
 * allocates only when the resampler is rebuilt after activate(). */
#include "plugin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static gs_status make_resampler(gs_plugin *p, gs_error *err)
{
    if (p->rate == (double)p->model_rate)
        return GS_OK;
    p->resampler = gs_resampler_new(p->rate, p->model_rate, GS_WORK_CHUNK, err);
    if (!p->resampler)
        return err ? err->code : GS_ERR_INTERNAL;
    p->resampler_fresh = true;
    return GS_OK;
}

gs_status gs_plugin_worker_init(gs_plugin *p, gs_error *err)
{
    const gs_frontend_params *fp = gs_model_frontend(p->model);
    p->model_rate = fp->sample_rate;
    double window_max = fp->window_seconds < GS_CTL_WINDOW_MAXIMUM ? fp->window_seconds : GS_CTL_WINDOW_MAXIMUM;
    p->window_cap = (size_t)ceil(window_max * p->model_rate);
    if (p->window_cap == 0)
        return gs_error_set(err, GS_ERR_MODEL, "model window length is zero");
    gs_status st = make_resampler(p, err);
    if (st != GS_OK)
        return st;
    p->sliding = gs_sliding_new(p->model, NULL, p->window_cap, err);
    if (!p->sliding)
        return err ? err->code : GS_ERR_INTERNAL;
    p->chunk_in = calloc(GS_WORK_CHUNK, sizeof(float));
    p->chunk_out_cap = p->resampler ? gs_resampler_max_output(p->resampler) : GS_WORK_CHUNK;
    p->chunk_out = calloc(p->chunk_out_cap, sizeof(float));
    if (!p->chunk_in || !p->chunk_out)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory for the analysis buffers");
    return GS_OK;
}

void gs_plugin_worker_free(gs_plugin *p)
{
    gs_resampler_free(p->resampler);
    gs_sliding_free(p->sliding);
    free(p->chunk_in);
    free(p->chunk_out);
    p->resampler = NULL;
    p->sliding = NULL;
    p->chunk_in = p->chunk_out = NULL;
}

/* After activate() the stream restarts: forget the old audio (the window's
 * frame and patch grid is anchored at the restart), and give the resampler
 * a clean state (it has no reset, so rebuild it unless unused). */
static gs_status worker_restart(gs_plugin *p, gs_error *err)
{
    gs_sliding_reset(p->sliding);
    if (p->resampler && !p->resampler_fresh) {
        gs_resampler_free(p->resampler);
        p->resampler = NULL;
        return make_resampler(p, err);
    }
    return GS_OK;
}

static gs_status drain(gs_plugin *p, uint64_t limit, gs_error *err)
{
    for (;;) {
        size_t n = gs_ring_read(&p->ring, p->chunk_in, GS_WORK_CHUNK, limit);
        if (n == 0)
            return GS_OK;
        /* Before the resampler, which NaN/Inf would poison, absurd levels
         * overflow and denormals slow down; the audio itself passes through
         * untouched in run(). */
        p->nonfinite += gs_audio_sanitize(p->chunk_in, n, p->chunk_in);
        if (!p->resampler) {
            gs_status st = gs_sliding_push(p->sliding, p->chunk_in, n, err);
            if (st != GS_OK)
                return st;
            continue;
        }
        long m = gs_resampler_process(p->resampler, p->chunk_in, n, p->chunk_out, p->chunk_out_cap, err);
        if (m < 0)
            return (gs_status)m;
        p->resampler_fresh = false;
        gs_status st = gs_sliding_push(p->sliding, p->chunk_out, (size_t)m, err);
        if (st != GS_OK)
            return st;
    }
}

LV2_Worker_Status gs_plugin_work(LV2_Handle instance, LV2_Worker_Respond_Function respond,
                                 LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
    gs_plugin *p = instance;
    gs_work_request req;
    if (size != sizeof req || !p->analysis_ok)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&req, data, sizeof req); /* the host's buffer may be unaligned */
    if (req.magic != GS_MSG_MAGIC)
        return LV2_WORKER_ERR_UNKNOWN;

    gs_error err = {0};
    gs_status st = GS_OK;
    if (req.generation != p->worker_generation) {
        st = worker_restart(p, &err);
        p->worker_generation = req.generation;
    }
    if (st == GS_OK)
        st = drain(p, req.write_pos, &err);
    if (req.dropped > 0 && !p->dropped_logged) {
        /* run() only counts (it may not do I/O); the "dropped" port shows
         * the running total, the log says once that it happens at all. */
        p->dropped_logged = true;
        lv2_log_warning(&p->logger,
                        "Genrescope: the analysis fell behind and skipped %llu samples; the "
                        "verdict misses that audio (the audio itself passes through "
                        "untouched); the 'dropped' output counts them\n",
                        (unsigned long long)req.dropped);
    }

    gs_work_response resp;
    memset(&resp, 0, sizeof resp);
    resp.magic = GS_MSG_MAGIC;
    resp.generation = req.generation;
    if (st == GS_OK && req.classify) {
        double w = req.window_seconds;
        size_t want = (size_t)lround(w * p->model_rate);
        if (want < 1)
            want = 1;
        if (want > p->window_cap)
            want = p->window_cap;
        int patches = 0;
        if (gs_sliding_samples(p->sliding) > 0)
            st = gs_sliding_verdict(p->sliding, want, resp.probs, &patches, &err);
        if (st == GS_OK) {
            resp.classified = 1;
            resp.num_patches = patches;
        }
    }
    if (st != GS_OK) {
        /* Logged here, not in the audio thread; the response still clears
         * the pending request so run() keeps scheduling. */
        if (p->worker_errors++ < 3)
            lv2_log_error(&p->logger, "Genrescope: analysis failed: %s\n", err.message);
        memset(resp.probs, 0, sizeof resp.probs);
        resp.classified = 0;
    }
    respond(handle, sizeof resp, &resp);
    return LV2_WORKER_SUCCESS;
}
