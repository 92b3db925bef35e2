/* Mono streaming resampler over libsoxr (HQ, float32 in and out).
 *
 * Real-time use: soxr_process() keeps its data in internal FIFOs that grow
 * with realloc() whenever more is queued than they held before. With a fixed
 * block size they reach their steady-state size early and it then does not
 * allocate. Measured with a malloc-counting harness over 2000 calls (soxr
 * 0.1.3, HQ): the last allocating call was #1..#7 for 4096-sample blocks,
 * #16..#102 for 256 and up to #455 for 64-sample blocks (96 kHz -> 22.05 kHz);
 * none after. So the first calls are not RT-safe: run the resampler in a
 * worker, or push a second or so of silence through it before going live.
 * Equal rates bypass soxr: the copy is exact and allocation-free.
 *
 * soxr releases output in bursts of its internal block, which can exceed one
 * call's share; each call returns at most max_output samples and keeps the
 * rest queued, so nothing is lost and max_output is a hard bound. */
#include "genrescope/audio.h"

#include <math.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

struct gs_resampler {
    soxr_t soxr;  /* NULL when in_rate == out_rate */
    double ratio; /* out_rate / in_rate */
    size_t max_in_block;
    size_t max_output;
    int flushing;
};

/* Room over max_in_block * ratio, so a steady stream drains the bursts. */
#define GS_RESAMPLER_SLACK 256

gs_resampler *gs_resampler_new(double in_rate, double out_rate, size_t max_in_block, gs_error *err)
{
    if (!(in_rate > 0 && isfinite(in_rate)) || !(out_rate > 0 && isfinite(out_rate))) {
        gs_error_set(err, GS_ERR_INVALID, "resampler: invalid rates %g -> %g Hz", in_rate, out_rate);
        return NULL;
    }
    double ratio = out_rate / in_rate;
    if (max_in_block == 0 || (double)max_in_block * ratio > (double)(SIZE_MAX / 8)) {
        gs_error_set(err, GS_ERR_INVALID, "resampler: invalid block size %zu", max_in_block);
        return NULL;
    }
    gs_resampler *r = calloc(1, sizeof *r);
    if (!r) {
        gs_error_set(err, GS_ERR_NOMEM, "resampler: out of memory");
        return NULL;
    }
    r->ratio = ratio;
    r->max_in_block = max_in_block;
    if (in_rate == out_rate) {
        r->max_output = max_in_block;
        return r;
    }
    r->max_output = (size_t)ceil((double)max_in_block * ratio) + GS_RESAMPLER_SLACK;

    soxr_error_t serr = NULL;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    /* One thread: callers already parallelise across files; soxr's OpenMP
     * threads would compete with them. */
    soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
    r->soxr = soxr_create(in_rate, out_rate, 1, &serr, &io, &quality, &runtime);
    if (!r->soxr || serr) {
        gs_error_set(err, GS_ERR_INTERNAL, "resampler: soxr_create %g -> %g Hz failed: %s", in_rate, out_rate,
                     serr ? serr : "unknown error");
        soxr_delete(r->soxr);
        free(r);
        return NULL;
    }
    return r;
}

void gs_resampler_free(gs_resampler *r)
{
    if (!r)
        return;
    soxr_delete(r->soxr);
    free(r);
}

size_t gs_resampler_max_output(const gs_resampler *r)
{
    return r ? r->max_output : 0;
}

long gs_resampler_process(gs_resampler *r, const float *in, size_t n_in, float *out, size_t out_capacity, gs_error *err)
{
    if (!r || (!in && n_in) || (!out && out_capacity))
        return gs_error_set(err, GS_ERR_INVALID, "resampler: invalid arguments");
    if (n_in > r->max_in_block)
        return gs_error_set(err, GS_ERR_INVALID, "resampler: block of %zu exceeds maximum %zu", n_in, r->max_in_block);
    int flush = (in == NULL);
    if (r->flushing && !flush)
        return gs_error_set(err, GS_ERR_INVALID, "resampler: input after end of stream");
    size_t cap = out_capacity < r->max_output ? out_capacity : r->max_output;

    if (!r->soxr) {
        if (flush) {
            r->flushing = 1;
            return 0;
        }
        if (n_in > cap)
            return gs_error_set(err, GS_ERR_INVALID, "resampler: output capacity %zu below input %zu", out_capacity,
                                n_in);
        memcpy(out, in, n_in * sizeof *out);
        return (long)n_in;
    }

    size_t odone = 0;
    soxr_error_t serr;
    if (flush) {
        r->flushing = 1;
        serr = soxr_process(r->soxr, NULL, 0, NULL, out, cap, &odone);
    } else {
        /* idone == NULL makes soxr take all the input whatever the output
         * room; output that does not fit stays queued for the next call. */
        serr = soxr_process(r->soxr, in, n_in, NULL, out, cap, &odone);
    }
    if (serr)
        return gs_error_set(err, GS_ERR_INTERNAL, "resampler: soxr_process failed: %s", serr);
    return (long)odone;
}
