/* Training batches (augment.h): crops cut by the core's patch plan, then
 * gain, low-pass, patch normalisation, masks and mixup in that order, all
 * drawing from the caller's RNG so a seed gives the same batches. Also owns
 * the mel band table the low-pass needs. */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope/melspec.h"
#include "genrescope/patch_norm.h"

void gs_augment_default(gs_augment_config *cfg)
{
    cfg->gain_db = 12.0f;
    cfg->time_masks = 2;
    cfg->time_mask_max = 16;
    cfg->freq_masks = 2;
    cfg->freq_mask_max = 12;
    cfg->mixup_alpha = 0.2f;
    cfg->label_smoothing = 0.0f;
    cfg->lowpass_p = 0.25f;
    cfg->lowpass_min_hz = 4000.0f;
    cfg->lowpass_max_hz = 11000.0f;
}

void gs_augment_none(gs_augment_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->lowpass_min_hz = 4000.0f;
    cfg->lowpass_max_hz = 11000.0f;
}

gs_status gs_band_table_init(gs_band_table *t, const gs_frontend_params *p, gs_error *err)
{
    memset(t, 0, sizeof *t);
    int n_bins = p->n_fft / 2 + 1;
    float *fb = malloc((size_t)p->n_mels * n_bins * sizeof *fb);
    t->cdf = malloc((size_t)p->n_mels * (n_bins + 1) * sizeof *t->cdf);
    t->centre_hz = malloc((size_t)p->n_mels * sizeof *t->centre_hz);
    if (!fb || !t->cdf || !t->centre_hz) {
        free(fb);
        gs_band_table_free(t);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    gs_status st = gs_mel_compute_filterbank(p, fb, err);
    if (st != GS_OK) {
        free(fb);
        gs_band_table_free(t);
        return st;
    }
    t->n_mels = p->n_mels;
    t->n_bins = n_bins;
    t->bin_hz = (double)p->sample_rate / p->n_fft;
    for (int m = 0; m < p->n_mels; m++) {
        double *c = t->cdf + (size_t)m * (n_bins + 1);
        c[0] = 0.0;
        for (int k = 0; k < n_bins; k++)
            c[k + 1] = c[k] + fb[(size_t)m * n_bins + k];
        double half = 0.5 * c[n_bins];
        int k = 0;
        while (k < n_bins - 1 && c[k + 1] < half)
            k++;
        double w = c[k + 1] > c[k] ? (half - c[k]) / (c[k + 1] - c[k]) : 0.0;
        t->centre_hz[m] = (k + w) * t->bin_hz;
    }
    free(fb);
    return GS_OK;
}

void gs_band_table_free(gs_band_table *t)
{
    if (!t)
        return;
    free(t->cdf);
    free(t->centre_hz);
    memset(t, 0, sizeof *t);
}

double gs_band_table_fraction(const gs_band_table *t, int m, double cutoff_hz)
{
    double k = ceil(cutoff_hz / t->bin_hz);
    int kc = k < 0.0 ? 0 : k > t->n_bins ? t->n_bins : (int)k;
    const double *c = t->cdf + (size_t)m * (t->n_bins + 1);
    return c[t->n_bins] > 0.0 ? c[kc] / c[t->n_bins] : 1.0;
}

void gs_apply_lowpass(float *x, int n_mels, int patch, const gs_band_table *t, double cutoff_hz, float log_offset)
{
    for (int m = 0; m < n_mels; m++) {
        double frac = gs_band_table_fraction(t, m, cutoff_hz);
        if (frac >= 1.0)
            continue; /* untouched bands stay bit-exact */
        float *row = x + (size_t)m * patch;
        for (int i = 0; i < patch; i++) {
            float pw = expf(row[i]) - log_offset;
            row[i] = logf((float)frac * (pw > 0.0f ? pw : 0.0f) + log_offset);
        }
    }
}

/* Fractional band index (0 .. n_mels-1) whose centre is at hz, clamped. */
static double band_position(const gs_band_table *t, double hz)
{
    const double *c = t->centre_hz;
    if (hz <= c[0])
        return 0.0;
    if (hz >= c[t->n_mels - 1])
        return t->n_mels - 1;
    int lo = 0, hi = t->n_mels - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (c[mid] <= hz)
            lo = mid;
        else
            hi = mid;
    }
    return lo + (c[hi] > c[lo] ? (hz - c[lo]) / (c[hi] - c[lo]) : 0.0);
}

void gs_apply_pitch(float *x, int n_mels, int patch, const gs_band_table *t, double semitones, float *scratch)
{
    size_t size = (size_t)n_mels * patch;
    memcpy(scratch, x, size * sizeof *x);
    double ratio = pow(2.0, -semitones / 12.0);
    for (int m = 0; m < n_mels; m++) {
        double pos = band_position(t, t->centre_hz[m] * ratio);
        int i = (int)pos;
        if (i > n_mels - 2)
            i = n_mels - 2;
        float w = (float)(pos - i);
        const float *a = scratch + (size_t)i * patch, *b = a + patch;
        float *row = x + (size_t)m * patch;
        for (int k = 0; k < patch; k++)
            row[k] = a[k] + w * (b[k] - a[k]);
    }
}

int gs_tempo_source_frames(int patch, double factor)
{
    return (int)ceil((patch - 1) * factor - 1e-9) + 1;
}

void gs_apply_tempo(const float *src, int src_frames, int n_mels, int patch, double factor, float *out)
{
    for (int k = 0; k < patch; k++) {
        double pos = k * factor;
        int i = (int)pos;
        if (i > src_frames - 2)
            i = src_frames - 2;
        float w = (float)(pos - i);
        for (int m = 0; m < n_mels; m++) {
            const float *row = src + (size_t)m * src_frames;
            out[(size_t)m * patch + k] = row[i] + w * (row[i + 1] - row[i]);
        }
    }
}

#define GS_MAX_TEMPO_FACTOR (1.0 + GS_AUGMENT_MAX_TEMPO)

size_t gs_make_batch_scratch(int batch, const gs_frontend_params *p)
{
    size_t batch_size = (size_t)batch * p->n_mels * p->patch_frames;
    size_t tempo_size = (size_t)p->n_mels * gs_tempo_source_frames(p->patch_frames, GS_MAX_TEMPO_FACTOR);
    return batch_size > tempo_size ? batch_size : tempo_size;
}

/* Gain g scales mel power by g^2; in the log domain with the offset that is
 * ln(g^2 (e^x - off) + off), which is what the front-end would have produced
 * for the scaled audio (without clipping). */
static void apply_gain(float *x, size_t n, float db, float offset)
{
    float g2 = powf(10.0f, db / 10.0f);
    for (size_t i = 0; i < n; i++) {
        float p = expf(x[i]) - offset;
        x[i] = logf(g2 * (p > 0.0f ? p : 0.0f) + offset);
    }
}

/* Masked cells take the patch mean (0 after mean normalisation), so a mask
 * removes information without adding a level cue. */
static void apply_masks(float *x, int n_mels, int patch, const gs_augment_config *cfg, gs_rng *rng)
{
    double s = 0.0;
    for (int i = 0; i < n_mels * patch; i++)
        s += x[i];
    float fill = (float)(s / ((double)n_mels * patch));
    for (int k = 0; k < cfg->time_masks; k++) {
        int w = gs_rng_int(rng, cfg->time_mask_max + 1);
        if (w > patch)
            w = patch;
        int t0 = gs_rng_int(rng, patch - w + 1);
        for (int m = 0; m < n_mels; m++)
            for (int t = t0; t < t0 + w; t++)
                x[m * patch + t] = fill;
    }
    for (int k = 0; k < cfg->freq_masks; k++) {
        int w = gs_rng_int(rng, cfg->freq_mask_max + 1);
        if (w > n_mels)
            w = n_mels;
        int m0 = gs_rng_int(rng, n_mels - w + 1);
        for (int m = m0; m < m0 + w; m++)
            for (int t = 0; t < patch; t++)
                x[m * patch + t] = fill;
    }
}

void gs_make_batch(const gs_spec_set *set, const int *clip, const int *labels, int batch, int num_labels,
                   const gs_frontend_params *p, const gs_augment_config *cfg, const gs_band_table *bands, gs_rng *rng,
                   float *inputs, float *targets, float *scratch)
{
    int n_mels = p->n_mels, patch = p->patch_frames;
    size_t size = (size_t)n_mels * patch;
    float smooth = cfg->label_smoothing;
    for (int b = 0; b < batch; b++) {
        const gs_spec *s = gs_spec_set_train_spec(set, clip[b], rng);
        /* A clip variant is the clip scaled up by 3 dB or more, so it has
         * a non-silent crop wherever the original has one; the fallback
         * only guards that assumption (gs_train only draws clips whose
         * original has one). */
        if (s->num_crops == 0)
            s = &set->specs[clip[b]];
        int start = s->crops[gs_rng_int(rng, s->num_crops)];
        float *x = inputs + b * size;
        if (cfg->tempo > 0.0f) {
            double factor = exp((2.0 * gs_rng_uniform(rng) - 1.0) * log1p(cfg->tempo));
            if (factor > GS_MAX_TEMPO_FACTOR) /* rounding at --tempo 1; the scratch holds no more */
                factor = GS_MAX_TEMPO_FACTOR;
            int need = gs_tempo_source_frames(patch, factor);
            /* A faster crop reads further: keep it inside the clip when the
             * clip is long enough (a shorter one repeats, as the plan says). */
            if (start + need > s->frames && s->frames >= need)
                start = s->frames - need;
            gs_spec_patch(s, n_mels, start, need, GS_PATCH_NORMALIZE_NONE, scratch);
            gs_apply_tempo(scratch, need, n_mels, patch, factor, x);
        } else {
            gs_spec_patch(s, n_mels, start, patch, GS_PATCH_NORMALIZE_NONE, x);
        }
        if (cfg->pitch_semitones > 0.0f) {
            double semitones = (2.0 * gs_rng_uniform(rng) - 1.0) * cfg->pitch_semitones;
            if (bands)
                gs_apply_pitch(x, n_mels, patch, bands, semitones, scratch);
        }
        if (cfg->gain_db > 0.0f)
            apply_gain(x, size, (float)((2.0 * gs_rng_uniform(rng) - 1.0) * cfg->gain_db), p->log_offset);
        if (cfg->lowpass_p > 0.0f) {
            double u = gs_rng_uniform(rng), f = gs_rng_uniform(rng);
            if (u < cfg->lowpass_p && bands)
                gs_apply_lowpass(x, n_mels, patch, bands,
                                 cfg->lowpass_min_hz + f * (cfg->lowpass_max_hz - cfg->lowpass_min_hz), p->log_offset);
        }
        gs_patch_normalize_apply(x, n_mels, patch, p->patch_normalize);
        apply_masks(x, n_mels, patch, cfg, rng);
        float *t = targets + (size_t)b * num_labels;
        for (int c = 0; c < num_labels; c++)
            t[c] = smooth / num_labels + (c == labels[b] ? 1.0f - smooth : 0.0f);
    }
    if (cfg->mixup_alpha > 0.0f && batch > 1) {
        memcpy(scratch, inputs, batch * size * sizeof(float));
        float tcopy[64 * GS_MAX_LABELS];
        int tb = batch < 64 ? batch : 64;
        memcpy(tcopy, targets, (size_t)tb * num_labels * sizeof(float));
        for (int b = 0; b < tb; b++) {
            int o = gs_rng_int(rng, tb - 1);
            if (o >= b)
                o++;
            float lam = (float)gs_rng_beta(rng, cfg->mixup_alpha, cfg->mixup_alpha);
            /* Keep the original dominant so the batch's label mix stays balanced. */
            if (lam < 0.5f)
                lam = 1.0f - lam;
            float *x = inputs + b * size;
            const float *y = scratch + o * size;
            for (size_t i = 0; i < size; i++)
                x[i] = lam * x[i] + (1.0f - lam) * y[i];
            float *t = targets + (size_t)b * num_labels;
            for (int c = 0; c < num_labels; c++)
                t[c] = lam * tcopy[b * num_labels + c] + (1.0f - lam) * tcopy[o * num_labels + c];
        }
    }
}
