/* Log-mel front-end: periodic Hann -> FFTW r2c -> |X|^2 -> sparse mel -> ln.
 *
 * Both gs_mel_compute and gs_mel_pull go through compute_frame(), which
 * copies the frame into the context's own aligned FFT buffer, so the two
 * paths run the same instructions on the same data and agree bit for bit. */
#include "genrescope/melspec.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gs_mel {
    int n_fft;
    int hop;
    int n_mels;
    int n_bins;
    float log_offset;

    float *window;     /* [n_fft] periodic Hann */
    float *filterbank; /* [n_mels][n_bins] dense copy, returned to callers */
    int *band_start;   /* [n_mels] first bin with a non-zero weight */
    int *band_end;     /* [n_mels] one past the last non-zero bin */

    float *fft_in;          /* [n_fft], fftwf_malloc'd (SIMD-aligned) */
    fftwf_complex *fft_out; /* [n_bins], fftwf_malloc'd */
    fftwf_plan plan;

    float *pending; /* [n_fft + GS_MEL_MAX_PUSH] streaming input */
    size_t pending_cap;
    size_t pending_pos; /* start of the next frame in pending */
    size_t pending_len; /* samples held in pending */
};

/* FFTW's planner keeps global state; only fftw_execute* is thread-safe.
 * The mutex orders our own planning; making FFTW's planner thread-safe also
 * protects against a host application (the LV2 plugin's DAW) planning on
 * another thread without our lock. */
static pthread_mutex_t fftw_planner_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fftw_thread_safe_once = PTHREAD_ONCE_INIT;

static void make_fftw_planner_thread_safe(void)
{
    fftwf_make_planner_thread_safe();
}

static void fill_periodic_hann(float *w, int n)
{
    /* Periodic (DFT-even) window: the analysis windows tile exactly and a
     * bin-centred sinusoid leaks into its two neighbours only. */
    for (int i = 0; i < n; i++)
        w[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / n));
}

/* Any bin outside [start, end) has zero weight, so skipping it changes
 * nothing: the sparse sum equals the dense product exactly. */
static void find_band_ranges(gs_mel *mel)
{
    for (int m = 0; m < mel->n_mels; m++) {
        const float *row = mel->filterbank + (size_t)m * mel->n_bins;
        int start = 0, end = 0;
        for (int k = 0; k < mel->n_bins; k++) {
            if (row[k] != 0.0f) {
                if (end == 0)
                    start = k;
                end = k + 1;
            }
        }
        mel->band_start[m] = start;
        mel->band_end[m] = end;
    }
}

static gs_status check_filterbank(const float *fb, int n_mels, int n_bins, gs_error *err)
{
    for (int m = 0; m < n_mels; m++) {
        for (int k = 0; k < n_bins; k++) {
            const float w = fb[(size_t)m * n_bins + k];
            /* Negative weights could make the band power negative and its
             * logarithm NaN. */
            if (!isfinite(w) || w < 0.0f)
                return gs_error_set(err, GS_ERR_INVALID, "filterbank weight [%d][%d] = %g is not finite and >= 0", m, k,
                                    (double)w);
        }
    }
    return GS_OK;
}

gs_mel *gs_mel_new(const gs_frontend_params *params, const float *filterbank, gs_error *err)
{
    if (gs_frontend_params_validate(params, err) != GS_OK)
        return NULL;
    const int n_bins = params->n_fft / 2 + 1;

    gs_mel *mel = calloc(1, sizeof *mel);
    if (!mel) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory allocating the mel front-end");
        return NULL;
    }
    mel->n_fft = params->n_fft;
    mel->hop = params->hop_length;
    mel->n_mels = params->n_mels;
    mel->n_bins = n_bins;
    mel->log_offset = params->log_offset;
    mel->pending_cap = (size_t)params->n_fft + GS_MEL_MAX_PUSH;

    const size_t fb_size = (size_t)params->n_mels * n_bins;
    mel->window = malloc((size_t)mel->n_fft * sizeof *mel->window);
    mel->filterbank = malloc(fb_size * sizeof *mel->filterbank);
    mel->band_start = malloc((size_t)mel->n_mels * sizeof *mel->band_start);
    mel->band_end = malloc((size_t)mel->n_mels * sizeof *mel->band_end);
    mel->pending = malloc(mel->pending_cap * sizeof *mel->pending);
    mel->fft_in = fftwf_malloc((size_t)mel->n_fft * sizeof *mel->fft_in);
    mel->fft_out = fftwf_malloc((size_t)n_bins * sizeof *mel->fft_out);
    if (!mel->window || !mel->filterbank || !mel->band_start || !mel->band_end || !mel->pending || !mel->fft_in ||
        !mel->fft_out) {
        gs_mel_free(mel);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory allocating the mel front-end");
        return NULL;
    }

    if (filterbank) {
        /* Copy before reading: a filterbank inside a mapped model file may
         * not be float-aligned. */
        memcpy(mel->filterbank, filterbank, fb_size * sizeof *mel->filterbank);
        if (check_filterbank(mel->filterbank, params->n_mels, n_bins, err) != GS_OK) {
            gs_mel_free(mel);
            return NULL;
        }
    } else if (gs_mel_compute_filterbank(params, mel->filterbank, err) != GS_OK) {
        gs_mel_free(mel);
        return NULL;
    }
    find_band_ranges(mel);
    fill_periodic_hann(mel->window, mel->n_fft);

    /* ESTIMATE rather than MEASURE: the plan (and so the rounding) is then
     * the same in every process, so features computed by the trainer and by
     * the tagger agree bit for bit; the speed difference is small at these
     * sizes (see the mel report in the lead's notes). */
    pthread_once(&fftw_thread_safe_once, make_fftw_planner_thread_safe);
    pthread_mutex_lock(&fftw_planner_lock);
    mel->plan = fftwf_plan_dft_r2c_1d(mel->n_fft, mel->fft_in, mel->fft_out, FFTW_ESTIMATE);
    pthread_mutex_unlock(&fftw_planner_lock);
    if (!mel->plan) {
        gs_mel_free(mel);
        gs_error_set(err, GS_ERR_INTERNAL, "FFTW could not plan a %d-point transform", params->n_fft);
        return NULL;
    }
    return mel;
}

void gs_mel_free(gs_mel *mel)
{
    if (!mel)
        return;
    if (mel->plan) {
        pthread_mutex_lock(&fftw_planner_lock);
        fftwf_destroy_plan(mel->plan);
        pthread_mutex_unlock(&fftw_planner_lock);
    }
    fftwf_free(mel->fft_in);
    fftwf_free(mel->fft_out);
    free(mel->window);
    free(mel->filterbank);
    free(mel->band_start);
    free(mel->band_end);
    free(mel->pending);
    free(mel);
}

int gs_mel_num_bands(const gs_mel *mel)
{
    return mel ? mel->n_mels : 0;
}

const float *gs_mel_filterbank(const gs_mel *mel)
{
    return mel ? mel->filterbank : NULL;
}

size_t gs_mel_num_frames(const gs_mel *mel, size_t n_samples)
{
    if (!mel || n_samples < (size_t)mel->n_fft)
        return 0;
    return 1 + (n_samples - (size_t)mel->n_fft) / (size_t)mel->hop;
}

/* The one per-frame path: src holds n_fft samples. */
static void compute_frame(gs_mel *mel, const float *src, float *out, float *rms)
{
    const int n_fft = mel->n_fft;
    const float *window = mel->window;
    float *in = mel->fft_in;
    for (int i = 0; i < n_fft; i++)
        in[i] = src[i] * window[i];
    if (rms) {
        double sum = 0.0;
        for (int i = 0; i < n_fft; i++)
            sum += (double)src[i] * src[i];
        *rms = (float)sqrt(sum / n_fft);
    }

    fftwf_execute_dft_r2c(mel->plan, in, mel->fft_out);

    /* The power spectrum overwrites the FFT input buffer (n_fft >= n_bins),
     * so no extra per-context buffer is needed. */
    const fftwf_complex *spec = mel->fft_out;
    float *power = in;
    for (int k = 0; k < mel->n_bins; k++)
        power[k] = spec[k][0] * spec[k][0] + spec[k][1] * spec[k][1];

    const double offset = mel->log_offset;
    for (int m = 0; m < mel->n_mels; m++) {
        const float *row = mel->filterbank + (size_t)m * mel->n_bins;
        /* Four float partial sums: independent chains the CPU overlaps (a
         * single double chain was the front-end's slowest loop); each sums
         * at most a few dozen positive terms, so float loses nothing the
         * features can see (checked against numpy in double). */
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        int k = mel->band_start[m];
        const int end = mel->band_end[m];
        for (; k + 4 <= end; k += 4) {
            a0 += row[k] * power[k];
            a1 += row[k + 1] * power[k + 1];
            a2 += row[k + 2] * power[k + 2];
            a3 += row[k + 3] * power[k + 3];
        }
        for (; k < end; k++)
            a0 += row[k] * power[k];
        double acc = (double)a0 + a1 + a2 + a3;
        out[m] = logf((float)(acc + offset));
    }
}

gs_status gs_mel_compute(gs_mel *mel, const float *samples, size_t n_samples, float *out, gs_error *err)
{
    return gs_mel_compute_with_rms(mel, samples, n_samples, out, NULL, err);
}

gs_status gs_mel_compute_with_rms(gs_mel *mel, const float *samples, size_t n_samples, float *out, float *rms,
                                  gs_error *err)
{
    if (!mel)
        return gs_error_set(err, GS_ERR_INVALID, "mel front-end missing");
    const size_t frames = gs_mel_num_frames(mel, n_samples);
    if (frames == 0)
        return GS_OK;
    if (!samples || !out)
        return gs_error_set(err, GS_ERR_INVALID, "samples or output buffer missing");
    for (size_t t = 0; t < frames; t++)
        compute_frame(mel, samples + t * (size_t)mel->hop, out + t * (size_t)mel->n_mels, rms ? rms + t : NULL);
    return GS_OK;
}

gs_status gs_mel_push(gs_mel *mel, const float *samples, size_t n_samples, gs_error *err)
{
    if (!mel)
        return gs_error_set(err, GS_ERR_INVALID, "mel front-end missing");
    if (n_samples == 0)
        return GS_OK;
    if (!samples)
        return gs_error_set(err, GS_ERR_INVALID, "samples missing");
    if (n_samples > GS_MEL_MAX_PUSH)
        return gs_error_set(err, GS_ERR_INVALID, "push of %zu samples exceeds GS_MEL_MAX_PUSH (%d)", n_samples,
                            GS_MEL_MAX_PUSH);
    const size_t kept = mel->pending_len - mel->pending_pos;
    if (kept + n_samples > mel->pending_cap)
        return gs_error_set(err, GS_ERR_INVALID,
                            "push of %zu samples overflows the pending buffer (%zu of %zu held): pull frames first",
                            n_samples, kept, mel->pending_cap);
    /* Consumed samples are dropped lazily here so pull stays a pointer bump. */
    if (mel->pending_pos > 0) {
        memmove(mel->pending, mel->pending + mel->pending_pos, kept * sizeof *mel->pending);
        mel->pending_pos = 0;
        mel->pending_len = kept;
    }
    memcpy(mel->pending + mel->pending_len, samples, n_samples * sizeof *samples);
    mel->pending_len += n_samples;
    return GS_OK;
}

int gs_mel_pull(gs_mel *mel, float *frame, float *rms)
{
    if (!mel || !frame || mel->pending_len - mel->pending_pos < (size_t)mel->n_fft)
        return 0;
    compute_frame(mel, mel->pending + mel->pending_pos, frame, rms);
    /* hop <= n_fft, so pending_pos never passes pending_len. */
    mel->pending_pos += (size_t)mel->hop;
    return 1;
}

void gs_mel_reset(gs_mel *mel)
{
    if (mel) {
        mel->pending_pos = 0;
        mel->pending_len = 0;
    }
}
