/* Slaney mel filterbank: librosa.filters.mel(htk=False, norm='slaney')
 * semantics, computed in double and stored as float (librosa's dtype). */
#include "genrescope/melspec.h"

#include <math.h>

/* Slaney's Auditory Toolbox scale: linear below 1 kHz (3 bands per 200 Hz),
 * logarithmic above with 27 bands per factor 6.4. */
#define SLANEY_F_SP        (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ  1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)

static double slaney_logstep(void)
{
    return log(6.4) / 27.0;
}

static double hz_to_mel(double hz)
{
    if (hz >= SLANEY_MIN_LOG_HZ)
        return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / slaney_logstep();
    return hz / SLANEY_F_SP;
}

static double mel_to_hz(double mel)
{
    if (mel >= SLANEY_MIN_LOG_MEL)
        return SLANEY_MIN_LOG_HZ * exp(slaney_logstep() * (mel - SLANEY_MIN_LOG_MEL));
    return mel * SLANEY_F_SP;
}

gs_status gs_mel_compute_filterbank(const gs_frontend_params *params, float *out, gs_error *err)
{
    gs_status st = gs_frontend_params_validate(params, err);
    if (st != GS_OK)
        return st;
    if (!out)
        return gs_error_set(err, GS_ERR_INVALID, "filterbank output buffer missing");

    const int n_bins = params->n_fft / 2 + 1;
    const int n_mels = params->n_mels;
    const double mel_lo = hz_to_mel((double)params->fmin);
    const double mel_hi = hz_to_mel((double)params->fmax);
    const double bin_hz = (double)params->sample_rate / params->n_fft;

    for (int m = 0; m < n_mels; m++) {
        /* Band m spans mel points m..m+2 of n_mels+2 evenly spaced points;
         * each is recomputed (not accumulated) to match linspace exactly. */
        const double step = (mel_hi - mel_lo) / (n_mels + 1);
        const double lo = mel_to_hz(mel_lo + step * m);
        const double mid = mel_to_hz(mel_lo + step * (m + 1));
        const double hi = mel_to_hz(m + 2 == n_mels + 1 ? mel_hi : mel_lo + step * (m + 2));
        /* Slaney normalisation: every triangle has unit area in Hz. */
        const double enorm = 2.0 / (hi - lo);
        float *row = out + (size_t)m * n_bins;
        for (int k = 0; k < n_bins; k++) {
            const double f = k * bin_hz;
            const double rising = (f - lo) / (mid - lo);
            const double falling = (hi - f) / (hi - mid);
            double w = rising < falling ? rising : falling;
            row[k] = w > 0.0 ? (float)(w * enorm) : 0.0f;
        }
    }
    return GS_OK;
}
