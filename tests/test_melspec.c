/* Unit tests for the log-mel front-end (core/src/melspec.c, mel_filterbank.c).
 * Reference values against an independent numpy implementation live in
 * test_melspec_numpy.py; this file checks properties that hold exactly or
 * follow from the definitions. All audio is synthesised here. */
#include "check.h"

#include "genrescope/melspec.h"
#include "support/rng.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static gs_frontend_params make_params(int sr, int n_fft, int hop, int n_mels, float fmin, float fmax, float log_offset)
{
    gs_frontend_params p;
    gs_frontend_params_default(&p);
    p.sample_rate = sr;
    p.n_fft = n_fft;
    p.hop_length = hop;
    p.n_mels = n_mels;
    p.fmin = fmin;
    p.fmax = fmax;
    p.log_offset = log_offset;
    /* Patch settings are irrelevant here; keep them valid for any hop. */
    p.patch_frames = 1;
    p.patch_hop_frames = 1;
    return p;
}

static double rng_uniform(uint64_t *s) /* [-1, 1) */
{
    return (double)(gs_test_xorshift64(s) >> 11) / 4503599627370496.0 - 1.0;
}

enum signal_kind { SIG_NOISE, SIG_TONES, SIG_CHIRP, SIG_SILENCE_CLICKS, SIG_COUNT };

static void synth(enum signal_kind kind, float *x, size_t n, int sr, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++) {
        const double t = (double)i / sr;
        double v = 0.0;
        switch (kind) {
        case SIG_NOISE: v = 0.3 * rng_uniform(&s); break;
        case SIG_TONES: v = 0.4 * sin(2 * M_PI * 440.0 * t) + 0.2 * sin(2 * M_PI * 0.17 * sr * t + 1.0); break;
        case SIG_CHIRP: {
            const double f0 = 50.0, f1 = 0.45 * sr, dur = (double)n / sr;
            v = 0.5 * sin(2 * M_PI * (f0 * t + (f1 - f0) * t * t / (2 * dur)));
            break;
        }
        case SIG_SILENCE_CLICKS: v = (i % 3001 == 1500) ? 0.9 : 0.0; break;
        default: break;
        }
        x[i] = (float)v;
    }
}

/* Own Slaney scale (Auditory Toolbox definition), for expected values. */
static double slaney_mel(double hz)
{
    return hz < 1000.0 ? hz * 3.0 / 200.0 : 15.0 + 27.0 * log(hz / 1000.0) / log(6.4);
}

static double slaney_hz(double mel)
{
    return mel < 15.0 ? mel * 200.0 / 3.0 : 1000.0 * pow(6.4, (mel - 15.0) / 27.0);
}

/* Edge frequency i (0..n_mels+1) of the filterbank. */
static double mel_edge(const gs_frontend_params *p, int i)
{
    const double lo = slaney_mel(p->fmin), hi = slaney_mel(p->fmax);
    return slaney_hz(lo + (hi - lo) * i / (p->n_mels + 1));
}

static gs_mel *new_mel(const gs_frontend_params *p, const float *fb)
{
    gs_error err;
    gs_error_clear(&err);
    gs_mel *mel = gs_mel_new(p, fb, &err);
    CHECK_MSG(mel != NULL, "gs_mel_new: %s", err.message);
    return mel;
}

/* Streams x through mel in random blocks of 0..max_block samples and checks
 * every frame is bit-identical to gs_mel_compute and its RMS is right. */
static void check_stream_matches(gs_mel *mel, const gs_frontend_params *p, const float *x, size_t n, uint64_t seed,
                                 size_t max_block)
{
    const size_t n_mels = (size_t)p->n_mels;
    const size_t frames = gs_mel_num_frames(mel, n);
    float *whole = malloc((frames + 1) * n_mels * sizeof *whole);
    float *streamed = malloc((frames + 1) * n_mels * sizeof *streamed);
    float *rms = malloc((frames + 1) * sizeof *rms);
    CHECK(whole && streamed && rms);
    if (!whole || !streamed || !rms)
        goto out;
    gs_error err;
    CHECK(gs_mel_compute(mel, x, n, whole, &err) == GS_OK);

    gs_mel_reset(mel);
    uint64_t s = seed;
    size_t fed = 0, pulled = 0;
    int push_failed = 0;
    for (;;) {
        size_t block = (size_t)(gs_test_xorshift64(&s) % (max_block + 1));
        if (block > n - fed)
            block = n - fed;
        if (gs_mel_push(mel, x + fed, block, &err) != GS_OK) {
            push_failed = 1;
            break;
        }
        fed += block;
        while (pulled <= frames && gs_mel_pull(mel, streamed + pulled * n_mels, rms + pulled))
            pulled++;
        if (fed == n)
            break;
    }
    CHECK(!push_failed);
    CHECK_MSG(pulled == frames, "streamed %zu frames, whole buffer %zu", pulled, frames);
    CHECK(memcmp(whole, streamed, frames * n_mels * sizeof *whole) == 0);
    for (size_t t = 0; t < frames && t < pulled; t++) {
        double sum = 0.0;
        for (int i = 0; i < p->n_fft; i++)
            sum += (double)x[t * p->hop_length + i] * x[t * p->hop_length + i];
        const double expect = sqrt(sum / p->n_fft);
        CHECK_NEAR(rms[t], expect, 1e-6 * expect + 1e-30);
    }
out:
    free(whole);
    free(streamed);
    free(rms);
}

/* ---- tests -------------------------------------------------------------- */

static void test_frame_count(void)
{
    gs_frontend_params p = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const size_t sizes[] = {0, 1, 1023, 1024, 1025, 1535, 1536, 1537, 10 * 512 + 1024 + 3, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t expect = 0; /* count frame starts t*hop with t*hop + n_fft <= n */
        for (size_t start = 0; start + 1024 <= sizes[i]; start += 512)
            expect++;
        CHECK_MSG(gs_mel_num_frames(mel, sizes[i]) == expect, "n=%zu: %zu frames, expected %zu", sizes[i],
                  gs_mel_num_frames(mel, sizes[i]), expect);
    }
    /* Fewer samples than one frame is not an error and writes nothing. */
    gs_error err;
    CHECK(gs_mel_compute(mel, NULL, 1023, NULL, &err) == GS_OK);

    /* Streaming gives the same count and then stops. */
    float *x = calloc(100000, sizeof *x);
    float frame[96];
    if (x) {
        synth(SIG_NOISE, x, 100000, 22050, 7);
        size_t pulled = 0;
        for (size_t fed = 0; fed < 100000; fed += 25000) {
            CHECK(gs_mel_push(mel, x + fed, 25000, &err) == GS_OK);
            while (gs_mel_pull(mel, frame, NULL))
                pulled++;
        }
        CHECK(pulled == gs_mel_num_frames(mel, 100000));
        CHECK(gs_mel_pull(mel, frame, NULL) == 0);
    }
    free(x);
    gs_mel_free(mel);
}

static void test_streaming_equals_whole(void)
{
    const gs_frontend_params sets[] = {
        make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f),
        make_params(16000, 512, 160, 64, 50.0f, 8000.0f, 1e-6f),
        make_params(44100, 2048, 441, 128, 0.0f, 22050.0f, 1e-6f),
        make_params(8000, 256, 256, 40, 20.0f, 3900.0f, 1e-3f), /* hop == n_fft */
        make_params(11025, 64, 7, 16, 0.0f, 5512.5f, 1e-6f),    /* hop not dividing anything */
    };
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const gs_frontend_params *p = &sets[si];
        gs_mel *mel = new_mel(p, NULL);
        if (!mel)
            continue;
        const size_t n = (size_t)p->sample_rate * 2 + 37;
        float *x = malloc(n * sizeof *x);
        CHECK(x != NULL);
        for (int kind = 0; x && kind < SIG_COUNT; kind++) {
            synth((enum signal_kind)kind, x, n, p->sample_rate, 1000 + (uint64_t)kind);
            for (uint64_t seed = 1; seed <= 3; seed++)
                check_stream_matches(mel, p, x, n, seed * 0x2545f4914f6cdd1dULL, 5000);
        }
        /* Tiny blocks (0..3 samples) exercise many pushes per frame. */
        if (x) {
            synth(SIG_NOISE, x, n, p->sample_rate, 99);
            check_stream_matches(mel, p, x, n / 4, 42, 3);
        }
        free(x);
        gs_mel_free(mel);
    }
}

/* A sinusoid centred on bin k0 under a periodic Hann window has exactly
 * three non-zero DFT bins: |X_k0| = A N / 4 and |X_k0±1| = A N / 8. The mel
 * output must therefore equal the filterbank applied to that spectrum, and
 * bands away from k0 must be empty; a symmetric window would leak. */
static void test_tone_exact_spectrum(void)
{
    gs_frontend_params p = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const int n_bins = p.n_fft / 2 + 1;
    const float *fb = gs_mel_filterbank(mel);
    const int bins[] = {20, 47, 150, 333, 480};
    const double amp = 0.5;
    float *x = malloc((size_t)p.n_fft * sizeof *x);
    float frame[96];
    for (size_t b = 0; x && b < sizeof bins / sizeof bins[0]; b++) {
        const int k0 = bins[b];
        for (int i = 0; i < p.n_fft; i++)
            x[i] = (float)(amp * cos(2 * M_PI * k0 * i / p.n_fft + 0.3));
        gs_error err;
        CHECK(gs_mel_compute(mel, x, (size_t)p.n_fft, frame, &err) == GS_OK);
        const double peak = amp * amp * p.n_fft * p.n_fft / 16.0, side = peak / 4.0;
        double max_expect = 0.0;
        double expect[96];
        for (int m = 0; m < p.n_mels; m++) {
            const float *row = fb + (size_t)m * n_bins;
            expect[m] = peak * row[k0] + side * (row[k0 - 1] + row[k0 + 1]);
            if (expect[m] > max_expect)
                max_expect = expect[m];
        }
        for (int m = 0; m < p.n_mels; m++) {
            const double got = exp((double)frame[m]) - p.log_offset;
            if (expect[m] > 1e-3 * max_expect)
                CHECK_MSG(fabs(got - expect[m]) <= 1e-5 * expect[m], "bin %d band %d: %g vs %g", k0, m, got, expect[m]);
            else if (expect[m] == 0.0)
                /* Only float round-off (~1e-7 of the peak magnitude) may
                 * reach bands that do not touch k0-1..k0+1. */
                CHECK_MSG(got <= 1e-10 * max_expect, "bin %d band %d leaks %g (peak %g)", k0, m, got, max_expect);
        }
    }
    free(x);
    gs_mel_free(mel);
}

/* A tone at the centre frequency of band m peaks in band m. Only bands at
 * least 2 bins apart are used: closer bands share most of the Hann main
 * lobe (4 bins wide), so which one wins is not the band's doing. */
static void test_tone_peaks_in_its_band(void)
{
    const gs_frontend_params sets[] = {
        make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f),
        make_params(16000, 512, 160, 64, 50.0f, 8000.0f, 1e-6f),
    };
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const gs_frontend_params *p = &sets[si];
        gs_mel *mel = new_mel(p, NULL);
        if (!mel)
            continue;
        const double bin_hz = (double)p->sample_rate / p->n_fft;
        const size_t n = (size_t)p->n_fft * 4;
        float *x = malloc(n * sizeof *x);
        float *frames = malloc(gs_mel_num_frames(mel, n) * (size_t)p->n_mels * sizeof *frames);
        int tested = 0;
        for (int m = 1; x && frames && m < p->n_mels - 1; m++) {
            const double centre = mel_edge(p, m + 1);
            if (mel_edge(p, m + 1) - mel_edge(p, m) < 2 * bin_hz)
                continue;
            for (size_t i = 0; i < n; i++)
                x[i] = (float)(0.25 * sin(2 * M_PI * centre * i / p->sample_rate));
            gs_error err;
            CHECK(gs_mel_compute(mel, x, n, frames, &err) == GS_OK);
            for (size_t t = 0; t < gs_mel_num_frames(mel, n); t++) {
                const float *f = frames + t * (size_t)p->n_mels;
                int best = 0;
                for (int j = 1; j < p->n_mels; j++)
                    if (f[j] > f[best])
                        best = j;
                CHECK_MSG(best == m, "tone %.1f Hz: peak in band %d, expected %d", centre, best, m);
            }
            tested++;
        }
        CHECK(tested >= p->n_mels / 2); /* the check above is not vacuous */
        free(x);
        free(frames);
        gs_mel_free(mel);
    }
}

static void test_filterbank_properties(void)
{
    const gs_frontend_params sets[] = {
        make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f),
        make_params(16000, 512, 160, 64, 50.0f, 8000.0f, 1e-6f),
        make_params(44100, 4096, 441, 40, 300.0f, 16000.0f, 1e-6f),
    };
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const gs_frontend_params *p = &sets[si];
        const int n_bins = p->n_fft / 2 + 1;
        const double bin_hz = (double)p->sample_rate / p->n_fft;
        float *fb = malloc((size_t)p->n_mels * n_bins * sizeof *fb);
        gs_error err;
        CHECK(fb != NULL);
        if (!fb)
            continue;
        CHECK(gs_mel_compute_filterbank(p, fb, &err) == GS_OK);

        gs_mel *mel = new_mel(p, NULL);
        if (mel) {
            CHECK(gs_mel_num_bands(mel) == p->n_mels);
            CHECK(memcmp(gs_mel_filterbank(mel), fb, (size_t)p->n_mels * n_bins * sizeof *fb) == 0);
        }
        gs_mel_free(mel);

        int prev_peak = -1;
        for (int m = 0; m < p->n_mels; m++) {
            const float *row = fb + (size_t)m * n_bins;
            const double lo = mel_edge(p, m), mid = mel_edge(p, m + 1), hi = mel_edge(p, m + 2);
            const double height = 2.0 / (hi - lo);
            int peak = 0, nonneg = 1, unimodal = 1, outside_zero = 1;
            double area = 0.0;
            for (int k = 0; k < n_bins; k++) {
                nonneg &= row[k] >= 0.0f;
                if (row[k] > row[peak])
                    peak = k;
                const double f = k * bin_hz;
                if ((f <= lo || f >= hi) && row[k] != 0.0f)
                    outside_zero = 0;
                area += row[k] * bin_hz;
            }
            for (int k = 1; k < n_bins; k++)
                if (k <= peak ? row[k] < row[k - 1] : row[k] > row[k - 1])
                    unimodal = 0;
            CHECK_MSG(nonneg && unimodal && outside_zero, "set %zu band %d: shape", si, m);
            CHECK_MSG(peak >= prev_peak, "set %zu band %d: peak bin %d before %d", si, m, peak, prev_peak);
            prev_peak = peak;
            /* Slaney normalisation: unit area in Hz. The bin sum is the
             * trapezoid rule, exact except in the cells holding the three
             * kinks, each off by at most bin_hz^2/4 times its slope jump. */
            const double slope_lo = height / (mid - lo), slope_hi = height / (hi - mid);
            const double bound = bin_hz * bin_hz / 4.0 * (2.0 * slope_lo + 2.0 * slope_hi) + 1e-5;
            CHECK_MSG(fabs(area - 1.0) <= bound, "set %zu band %d: area %g (bound %g)", si, m, area, bound);
            /* Height at the peak bin follows the triangle exactly. */
            const double f = peak * bin_hz;
            const double w = f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
            CHECK_NEAR(row[peak], w * height, 1e-6 * height);
        }
        /* Un-normalised, neighbouring triangles sum to 1 between the first
         * and last centre (they form a partition of unity). */
        for (int k = 0; k < n_bins; k++) {
            const double f = k * bin_hz;
            if (f < mel_edge(p, 1) || f > mel_edge(p, p->n_mels))
                continue;
            double sum = 0.0;
            for (int m = 0; m < p->n_mels; m++)
                sum += fb[(size_t)m * n_bins + k] * (mel_edge(p, m + 2) - mel_edge(p, m)) / 2.0;
            CHECK_MSG(fabs(sum - 1.0) <= 1e-5, "set %zu bin %d: partition sum %g", si, k, sum);
        }
        free(fb);
    }
}

/* x*g multiplies every band power by g^2, i.e. adds ln(g^2) to features
 * wherever the power dwarfs log_offset. */
static void test_gain_invariance(void)
{
    gs_frontend_params p =
        make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-10f); /* small offset: most bands dwarf it */
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const size_t n = 22050;
    const size_t frames = gs_mel_num_frames(mel, n), values = frames * (size_t)p.n_mels;
    float *x = malloc(n * sizeof *x), *xg = malloc(n * sizeof *xg);
    float *f = malloc(values * sizeof *f), *fg = malloc(values * sizeof *fg);
    /* A power of two scales exactly in float, so only the log's rounding and
     * the offset remain; 0.3 adds FFT round-off (~1e-6 relative). */
    const float gains[] = {2.0f, 0.25f, 0.3f, 7.0f};
    const double tols[] = {1e-5, 1e-5, 1e-4, 1e-4};
    for (int kind = SIG_NOISE; x && xg && f && fg && kind <= SIG_CHIRP; kind++) {
        synth((enum signal_kind)kind, x, n, p.sample_rate, 5);
        gs_error err;
        CHECK(gs_mel_compute(mel, x, n, f, &err) == GS_OK);
        for (size_t gi = 0; gi < sizeof gains / sizeof gains[0]; gi++) {
            for (size_t i = 0; i < n; i++)
                xg[i] = x[i] * gains[gi];
            CHECK(gs_mel_compute(mel, xg, n, fg, &err) == GS_OK);
            const double shift = 2.0 * log((double)gains[gi]);
            size_t compared = 0;
            for (size_t i = 0; i < values; i++) {
                const double power = exp((double)f[i]) - p.log_offset;
                if (power < 1e5 * p.log_offset || power * gains[gi] * gains[gi] < 1e5 * p.log_offset)
                    continue;
                compared++;
                CHECK_MSG(fabs((double)fg[i] - f[i] - shift) <= tols[gi], "gain %g value %zu: shift %g vs %g",
                          (double)gains[gi], i, (double)fg[i] - f[i], shift);
            }
            /* Noise fills every band; the tones and the chirp leave most
             * bands at Hann sidelobe level, but enough must remain. */
            CHECK(kind == SIG_NOISE ? compared == values : compared >= values / 20);
        }
    }
    /* Digital silence sits exactly at ln(log_offset). */
    if (x && f) {
        memset(x, 0, n * sizeof *x);
        gs_error err;
        CHECK(gs_mel_compute(mel, x, n, f, &err) == GS_OK);
        for (size_t i = 0; i < values; i++)
            CHECK_NEAR(f[i], log((double)p.log_offset), 1e-6);
    }
    free(x);
    free(xg);
    free(f);
    free(fg);
    gs_mel_free(mel);
}

static void expect_rejected(const gs_frontend_params *p, const float *fb, const char *what)
{
    gs_error err;
    gs_error_clear(&err);
    gs_mel *mel = gs_mel_new(p, fb, &err);
    CHECK_MSG(mel == NULL, "%s accepted", what);
    CHECK_MSG(err.code == GS_ERR_INVALID && err.message[0] != '\0', "%s: code %d", what, (int)err.code);
    gs_mel_free(mel);
    if (!fb) {
        float dummy[4];
        gs_error_clear(&err);
        /* Invalid params fail before the output is touched. */
        CHECK_MSG(gs_mel_compute_filterbank(p, dummy, &err) == GS_ERR_INVALID, "%s: filterbank", what);
    }
}

static void test_invalid_params(void)
{
    const gs_frontend_params good = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    gs_frontend_params p;
    expect_rejected(NULL, NULL, "NULL params");
    p = good;
    p.n_fft = 1023;
    expect_rejected(&p, NULL, "odd n_fft");
    p = good;
    p.n_fft = 8;
    expect_rejected(&p, NULL, "tiny n_fft");
    p = good;
    p.hop_length = 0;
    expect_rejected(&p, NULL, "hop 0");
    p = good;
    p.hop_length = 1025;
    expect_rejected(&p, NULL, "hop > n_fft");
    p = good;
    p.n_mels = 0;
    expect_rejected(&p, NULL, "n_mels 0");
    p = good;
    p.fmax = 12000.0f;
    expect_rejected(&p, NULL, "fmax > nyquist");
    p = good;
    p.fmin = 5000.0f;
    p.fmax = 5000.0f;
    expect_rejected(&p, NULL, "fmin == fmax");
    p = good;
    p.fmin = -1.0f;
    expect_rejected(&p, NULL, "negative fmin");
    p = good;
    p.fmin = NAN;
    expect_rejected(&p, NULL, "NaN fmin");
    p = good;
    p.log_offset = 0.0f;
    expect_rejected(&p, NULL, "log_offset 0");
    p = good;
    p.sample_rate = 0;
    expect_rejected(&p, NULL, "sample_rate 0");

    /* A caller's filterbank must be usable as power weights. */
    const size_t fb_size = (size_t)good.n_mels * (good.n_fft / 2 + 1);
    float *fb = calloc(fb_size, sizeof *fb);
    if (fb) {
        fb[100] = NAN;
        expect_rejected(&good, fb, "NaN filterbank weight");
        fb[100] = INFINITY;
        expect_rejected(&good, fb, "infinite filterbank weight");
        fb[100] = 0.0f;
        fb[fb_size - 1] = -0.5f;
        expect_rejected(&good, fb, "negative filterbank weight");
    }
    free(fb);

    gs_error err;
    float out[96];
    CHECK(gs_mel_compute_filterbank(&good, NULL, &err) == GS_ERR_INVALID);
    gs_mel *mel = new_mel(&good, NULL);
    if (mel) {
        float x[2048] = {0};
        CHECK(gs_mel_compute(mel, NULL, 2048, out, &err) == GS_ERR_INVALID);
        CHECK(gs_mel_compute(mel, x, 2048, NULL, &err) == GS_ERR_INVALID);
        CHECK(gs_mel_compute(NULL, x, 2048, out, &err) == GS_ERR_INVALID);
        CHECK(gs_mel_push(mel, NULL, 10, &err) == GS_ERR_INVALID);
        CHECK(gs_mel_push(mel, NULL, 0, &err) == GS_OK);
        CHECK(gs_mel_pull(mel, out, NULL) == 0);
        CHECK(gs_mel_num_frames(NULL, 5000) == 0);
    }
    gs_mel_free(mel);
    gs_mel_free(NULL);
}

/* Overflowing pushes are rejected without changing state: the frames then
 * match the whole-buffer result over the accepted samples only. */
static void test_push_overflow(void)
{
    gs_frontend_params p = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const size_t cap = (size_t)p.n_fft + GS_MEL_MAX_PUSH;
    const size_t total = cap + 5000;
    float *x = malloc((total + 1) * sizeof *x);
    float *junk = malloc((GS_MEL_MAX_PUSH + 1) * sizeof *junk);
    const size_t frames = gs_mel_num_frames(mel, total);
    float *whole = malloc(frames * 96 * sizeof *whole), *streamed = malloc((frames + 1) * 96 * sizeof *streamed);
    if (x && junk && whole && streamed) {
        gs_error err;
        synth(SIG_TONES, x, total, p.sample_rate, 3);
        for (size_t i = 0; i <= GS_MEL_MAX_PUSH; i++)
            junk[i] = 1e3f;
        CHECK(gs_mel_compute(mel, x, total, whole, &err) == GS_OK);

        gs_error_clear(&err);
        CHECK(gs_mel_push(mel, junk, GS_MEL_MAX_PUSH + 1, &err) == GS_ERR_INVALID);
        CHECK(err.message[0] != '\0');
        CHECK(gs_mel_push(mel, x, GS_MEL_MAX_PUSH, &err) == GS_OK);
        CHECK(gs_mel_push(mel, x + GS_MEL_MAX_PUSH, cap - GS_MEL_MAX_PUSH, &err) == GS_OK);
        CHECK(gs_mel_push(mel, junk, 1, &err) == GS_ERR_INVALID); /* full */
        size_t pulled = 0;
        while (pulled <= frames && gs_mel_pull(mel, streamed + pulled * 96, NULL))
            pulled++;
        CHECK(pulled == gs_mel_num_frames(mel, cap));
        /* After pulling, the rest fits again. */
        CHECK(gs_mel_push(mel, x + cap, total - cap, &err) == GS_OK);
        while (pulled <= frames && gs_mel_pull(mel, streamed + pulled * 96, NULL))
            pulled++;
        CHECK(pulled == frames);
        CHECK(memcmp(whole, streamed, frames * 96 * sizeof *whole) == 0);
    }
    free(x);
    free(junk);
    free(whole);
    free(streamed);
    gs_mel_free(mel);
}

static void test_reset(void)
{
    gs_frontend_params p = make_params(16000, 512, 160, 64, 50.0f, 8000.0f, 1e-6f);
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const size_t n = 16000;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    float frame[64];
    if (a && b) {
        gs_error err;
        synth(SIG_NOISE, a, n, p.sample_rate, 11);
        synth(SIG_CHIRP, b, n, p.sample_rate, 12);
        CHECK(gs_mel_push(mel, a, 3000, &err) == GS_OK);
        CHECK(gs_mel_pull(mel, frame, NULL) == 1);
        CHECK(gs_mel_pull(mel, frame, NULL) == 1);
        gs_mel_reset(mel);
        CHECK(gs_mel_pull(mel, frame, NULL) == 0);
        /* Less than a frame pushed after reset must not combine with the
         * forgotten samples. */
        CHECK(gs_mel_push(mel, b, 511, &err) == GS_OK);
        CHECK(gs_mel_pull(mel, frame, NULL) == 0);
        gs_mel_reset(mel);
        check_stream_matches(mel, &p, b, n, 77, 5000);
    }
    free(a);
    free(b);
    gs_mel_free(mel);
}

/* A caller's dense filterbank is used as given, including non-contiguous
 * rows (the sparse ranges must span all non-zero weights). */
static void test_custom_filterbank(void)
{
    gs_frontend_params p = make_params(22050, 1024, 512, 4, 0.0f, 11025.0f, 1e-6f);
    const int n_bins = p.n_fft / 2 + 1;
    float *fb = calloc((size_t)4 * n_bins, sizeof *fb);
    const size_t n = 4096;
    float *x = malloc(n * sizeof *x);
    if (!fb || !x) {
        free(fb);
        free(x);
        CHECK(0);
        return;
    }
    /* Band 0: bin 3 only; band 1: bin 200 only; band 2: bins 3 and 200
     * with zeros between; band 3: all zero. */
    fb[0 * n_bins + 3] = 1.0f;
    fb[1 * n_bins + 200] = 1.0f;
    fb[2 * n_bins + 3] = 1.0f;
    fb[2 * n_bins + 200] = 1.0f;
    gs_mel *mel = new_mel(&p, fb);
    if (mel) {
        CHECK(gs_mel_filterbank(mel) != fb);
        CHECK(memcmp(gs_mel_filterbank(mel), fb, (size_t)4 * n_bins * sizeof *fb) == 0);
        synth(SIG_NOISE, x, n, p.sample_rate, 21);
        const size_t frames = gs_mel_num_frames(mel, n);
        float out[4 * 8];
        gs_error err;
        CHECK(frames <= 8);
        CHECK(gs_mel_compute(mel, x, n, out, &err) == GS_OK);
        for (size_t t = 0; t < frames; t++) {
            const float *f = out + 4 * t;
            const double p3 = exp((double)f[0]) - p.log_offset, p200 = exp((double)f[1]) - p.log_offset;
            const double both = exp((double)f[2]) - p.log_offset;
            CHECK_NEAR(both, p3 + p200, 1e-5 * (p3 + p200));
            CHECK(f[3] == (float)log((double)p.log_offset));
        }
    }
    gs_mel_free(mel);

    /* The computed filterbank passed back in gives bit-identical features. */
    gs_frontend_params q = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    float *full = malloc((size_t)96 * n_bins * sizeof *full);
    gs_error err;
    if (full && gs_mel_compute_filterbank(&q, full, &err) == GS_OK) {
        gs_mel *own = new_mel(&q, NULL), *given = new_mel(&q, full);
        const size_t frames = own ? gs_mel_num_frames(own, n) : 0;
        float *a = malloc(frames * 96 * sizeof *a + 1), *b = malloc(frames * 96 * sizeof *b + 1);
        if (own && given && a && b) {
            CHECK(gs_mel_compute(own, x, n, a, &err) == GS_OK);
            CHECK(gs_mel_compute(given, x, n, b, &err) == GS_OK);
            CHECK(memcmp(a, b, frames * 96 * sizeof *a) == 0);
        }
        free(a);
        free(b);
        gs_mel_free(own);
        gs_mel_free(given);
    }
    free(full);
    free(fb);
    free(x);
}

/* gs_mel_compute between pushes must not disturb the streaming state. */
static void test_compute_between_pushes(void)
{
    gs_frontend_params p = make_params(22050, 1024, 512, 96, 0.0f, 11025.0f, 1e-6f);
    gs_mel *mel = new_mel(&p, NULL);
    if (!mel)
        return;
    const size_t n = 20000, other_n = 4096;
    const size_t frames = gs_mel_num_frames(mel, n);
    float *x = malloc(n * sizeof *x), *other = malloc(other_n * sizeof *other);
    float *whole = malloc(frames * 96 * sizeof *whole), *streamed = malloc((frames + 1) * 96 * sizeof *streamed);
    float scratch[8 * 96];
    if (x && other && whole && streamed) {
        gs_error err;
        synth(SIG_CHIRP, x, n, p.sample_rate, 1);
        synth(SIG_NOISE, other, other_n, p.sample_rate, 2);
        CHECK(gs_mel_compute(mel, x, n, whole, &err) == GS_OK);
        size_t pulled = 0;
        for (size_t fed = 0; fed < n; fed += 1000) {
            CHECK(gs_mel_push(mel, x + fed, n - fed < 1000 ? n - fed : 1000, &err) == GS_OK);
            CHECK(gs_mel_compute(mel, other, other_n, scratch, &err) == GS_OK);
            while (pulled <= frames && gs_mel_pull(mel, streamed + pulled * 96, NULL))
                pulled++;
        }
        CHECK(pulled == frames);
        CHECK(memcmp(whole, streamed, frames * 96 * sizeof *whole) == 0);
    }
    free(x);
    free(other);
    free(whole);
    free(streamed);
    gs_mel_free(mel);
}

/* Contexts created and freed concurrently (FFTW planning is serialised
 * inside gs_mel_new/gs_mel_free) compute the same features as one thread. */
#define THREADS       4
#define THREAD_ROUNDS 12

struct thread_job {
    const float *x;
    size_t n;
    const float *expect[2]; /* per parameter set */
    int mismatches;
};

static const int thread_n_fft[2] = {1024, 512};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    for (int r = 0; r < THREAD_ROUNDS; r++) {
        const int which = r & 1;
        gs_frontend_params p = make_params(22050, thread_n_fft[which], 256, 64, 0.0f, 11025.0f, 1e-6f);
        gs_mel *mel = gs_mel_new(&p, NULL, NULL);
        if (!mel) {
            job->mismatches++;
            continue;
        }
        const size_t values = gs_mel_num_frames(mel, job->n) * 64;
        float *out = malloc(values * sizeof *out);
        if (!out || gs_mel_compute(mel, job->x, job->n, out, NULL) != GS_OK ||
            memcmp(out, job->expect[which], values * sizeof *out) != 0)
            job->mismatches++;
        free(out);
        gs_mel_free(mel);
    }
    return NULL;
}

static void test_concurrent_contexts(void)
{
    const size_t n = 8192;
    float *x = malloc(n * sizeof *x);
    float *expect[2] = {NULL, NULL};
    struct thread_job jobs[THREADS];
    pthread_t threads[THREADS];
    if (!x) {
        CHECK(0);
        return;
    }
    synth(SIG_TONES, x, n, 22050, 4);
    for (int w = 0; w < 2; w++) {
        gs_frontend_params p = make_params(22050, thread_n_fft[w], 256, 64, 0.0f, 11025.0f, 1e-6f);
        gs_mel *mel = new_mel(&p, NULL);
        if (mel) {
            expect[w] = malloc(gs_mel_num_frames(mel, n) * 64 * sizeof *expect[w]);
            CHECK(expect[w] && gs_mel_compute(mel, x, n, expect[w], NULL) == GS_OK);
        }
        gs_mel_free(mel);
    }
    if (expect[0] && expect[1]) {
        int started = 0;
        for (int i = 0; i < THREADS; i++) {
            jobs[i] = (struct thread_job){x, n, {expect[0], expect[1]}, 0};
            if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0)
                break;
            started++;
        }
        CHECK(started == THREADS);
        for (int i = 0; i < started; i++) {
            pthread_join(threads[i], NULL);
            CHECK_MSG(jobs[i].mismatches == 0, "thread %d: %d mismatching rounds", i, jobs[i].mismatches);
        }
    }
    free(expect[0]);
    free(expect[1]);
    free(x);
}

int main(void)
{
    test_frame_count();
    test_streaming_equals_whole();
    test_tone_exact_spectrum();
    test_tone_peaks_in_its_band();
    test_filterbank_properties();
    test_gain_invariance();
    test_invalid_params();
    test_push_overflow();
    test_reset();
    test_custom_filterbank();
    test_compute_between_pushes();
    test_concurrent_contexts();
    return gs_test_finish("test_melspec");
}
