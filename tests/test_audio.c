/* Tests for core/audio: decoding of every supported container through
 * libsndfile or FFmpeg, downmix, resampling, error reporting and bounded
 * memory. All audio is synthesised at test time (see audio_fixtures.h). */
#include "check.h"
#include "audio_fixtures.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "genrescope/audio.h"

#define TARGET 22050

/* ---- stderr capture: core/ must never print -------------------------- */

static int saved_stderr = -1;
static char stderr_path[4200];

static void quiet_begin(void)
{
    snprintf(stderr_path, sizeof stderr_path, "%s/stderr.txt", fx_dir);
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

/* Restores stderr and checks nothing was written meanwhile. */
static void quiet_end(const char *what)
{
    fflush(stderr);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
        saved_stderr = -1;
    }
    size_t n = 0;
    unsigned char *text = gs_test_read_file(stderr_path, &n);
    CHECK_MSG(text && n == 0, "%s printed to stderr: %.*s", what, (int)(text ? n : 0), text ? (const char *)text : "");
    free(text);
    unlink(stderr_path);
}

/* ---- helpers ------------------------------------------------------------ */

static gs_status decode(const char *path, int rate, float **x, size_t *n, gs_audio_info *info, gs_error *err)
{
    gs_error_clear(err);
    memset(info, 0, sizeof *info);
    return gs_audio_decode_file(path, rate, x, n, info, err);
}

/* Checks a decoded 440 Hz tone: length, frequency and RMS amplitude. */
static void check_tone(const char *label, const float *x, size_t n, double seconds, double freq, double amp,
                       double amp_tol)
{
    double expect_n = seconds * TARGET;
    CHECK_MSG(fabs((double)n - expect_n) <= 0.01 * expect_n, "%s: %zu samples, expected %.0f", label, n, expect_n);
    if (n < (size_t)(0.5 * expect_n))
        return;
    size_t a = n / 10, b = n - n / 10; /* skip codec/filter edges */
    double f = fx_zero_cross_freq(x, a, b, TARGET);
    CHECK_MSG(fabs(f - freq) <= 0.002 * freq, "%s: frequency %.3f Hz, expected %.1f", label, f, freq);
    double rms = fx_rms(x, a, b);
    double want = amp / sqrt(2.0);
    CHECK_MSG(fabs(rms - want) <= amp_tol * want, "%s: rms %.5f, expected %.5f (+-%.1f%%)", label, rms, want,
              amp_tol * 100);
}

static int contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

/* Expects gs_audio_open to fail with code; the message must name the path. */
static void check_open_fails_errno(const char *path, gs_status code, const char *must_contain, int sys_errno)
{
    gs_error err;
    gs_error_clear(&err);
    gs_audio *a = gs_audio_open(path, TARGET, &err);
    CHECK_MSG(a == NULL, "%s opened but should fail", path);
    gs_audio_close(a);
    CHECK_MSG(err.code == code, "%s: code %s (%s), expected %s", path, gs_status_name(err.code), err.message,
              gs_status_name(code));
    CHECK_MSG(contains(err.message, path), "message lacks path: %s", err.message);
    if (must_contain)
        CHECK_MSG(contains(err.message, must_contain), "message lacks '%s': %s", must_contain, err.message);
    /* Callers tell a missing file from a locked one by this, not by text. */
    if (sys_errno >= 0)
        CHECK_MSG(err.sys_errno == sys_errno, "%s: sys_errno %d, expected %d", path, err.sys_errno, sys_errno);
}

static void check_open_fails(const char *path, gs_status code, const char *must_contain)
{
    check_open_fails_errno(path, code, must_contain, -1);
}

/* ---- decoding of each container ----------------------------------------- */

typedef struct format_case {
    const char *name;
    const char *file;
    int sf_format;        /* written by libsndfile when non-zero */
    const char *ff_codec; /* else encoded with the ffmpeg CLI */
    int rate;
    const char *decoder;
    double amp_tol;
} format_case;

static void test_formats(void)
{
    const format_case cases[] = {
        {"wav16", "tone16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, NULL, 44100, "sndfile", 0.005},
        {"wavf", "tonef.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, NULL, 44100, "sndfile", 0.005},
        {"aiff", "tone.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, NULL, 44100, "sndfile", 0.005},
        {"flac", "tone.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, NULL, 44100, "sndfile", 0.005},
        {"vorbis", "tone.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, NULL, 44100, "sndfile", 0.03},
        /* Opus only runs at 48 kHz; libsndfile decodes it at 48 kHz too. */
        {"opus", "tone.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, NULL, 48000, "sndfile", 0.03},
        /* MPEG audio goes to FFmpeg (libmpg123 inside libsndfile prints). */
        {"mp3", "tone.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, NULL, 44100, "ffmpeg", 0.03},
        {"aac", "tone_aac.m4a", 0, "aac", 44100, "ffmpeg", 0.03},
        {"alac", "tone_alac.m4a", 0, "alac", 44100, "ffmpeg", 0.005},
    };
    const double seconds = 3.0;
    fx_sine sine = {.freq = 440, .amp = {0.5, 0.5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const format_case *c = &cases[i];
        char *path = fx_path(c->file);
        int64_t frames = (int64_t)(seconds * c->rate);
        if (c->sf_format) {
            int rc = fx_write(path, c->sf_format, c->rate, 2, frames, fx_gen_sine, &sine);
            if (rc == 1) {
                printf("skip %s: this libsndfile cannot write it (sf_format_check)\n", c->name);
                free(path);
                continue;
            }
            CHECK_MSG(rc == 0, "writing %s", path);
        } else {
            if (!fx_have_ffmpeg()) {
                printf("skip %s: no ffmpeg on PATH to encode it\n", c->name);
                free(path);
                continue;
            }
            char *src = fx_path("ff_source.wav");
            CHECK(fx_write(src, SF_FORMAT_WAV | SF_FORMAT_FLOAT, c->rate, 2, frames, fx_gen_sine, &sine) == 0);
            int rc = fx_ffmpeg_encode(src, path, c->ff_codec);
            CHECK_MSG(rc == 0, "ffmpeg -c:a %s failed (%d)", c->ff_codec, rc);
            unlink(src);
            free(src);
        }
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        quiet_begin();
        gs_status st = decode(path, TARGET, &x, &n, &info, &err);
        quiet_end(c->name);
        CHECK_MSG(st == GS_OK, "%s: %s", c->name, err.message);
        if (st == GS_OK) {
            CHECK_MSG(info.decoder && !strcmp(info.decoder, c->decoder), "%s: decoder %s", c->name, info.decoder);
            CHECK_MSG(info.source_rate == c->rate, "%s: source rate %d", c->name, info.source_rate);
            CHECK_MSG(info.source_channels == 2, "%s: channels %d", c->name, info.source_channels);
            CHECK(info.target_rate == TARGET);
            CHECK(info.nonfinite_samples == 0);
            CHECK_MSG(info.format[0] != '\0', "%s: empty format", c->name);
            check_tone(c->name, x, n, seconds, 440, 0.5, c->amp_tol);
            printf("%s: %zu samples, format \"%s\", decoder %s\n", c->name, n, info.format, info.decoder);
        }
        free(x);
        free(path);
    }
}

/* Opposite-phase channels must cancel: proves channels are averaged. */
static void test_opposite_phase(void)
{
    fx_sine anti = {.freq = 440, .amp = {0.5, -0.5}};
    const struct {
        const char *file;
        int format;
        int rate;
    } cases[] = {
        {"anti.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100},
        {"anti.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100},
        {"anti22.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, TARGET},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = fx_path(cases[i].file);
        CHECK(fx_write(path, cases[i].format, cases[i].rate, 2, cases[i].rate, fx_gen_sine, &anti) == 0);
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        CHECK_NEAR(n, TARGET, 0.01 * TARGET);
        /* Int formats round +x and -x symmetrically, so the sum is exact. */
        CHECK_MSG(fx_max_abs(x, n) == 0.0, "%s: residual %g", cases[i].file, fx_max_abs(x, n));
        free(x);
        free(path);
    }
}

/* 1..8 channels: the output is exactly the mean of the channels (no
 * resampling at 22050 Hz), and still a clean tone at 44.1 kHz. */
static void test_channels(void)
{
    for (int ch = 1; ch <= 8; ch++) {
        const int64_t frames = 4000;
        float *data = malloc((size_t)frames * (size_t)ch * sizeof *data);
        for (int64_t i = 0; i < frames; i++)
            for (int c = 0; c < ch; c++)
                data[i * ch + c] = (float)((0.1 + 0.1 * c) * sin(2 * M_PI * (200.0 + 97 * c) * i / TARGET));
        char name[64];
        snprintf(name, sizeof name, "ch%d.wav", ch);
        char *path = fx_path(name);
        CHECK(gs_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, TARGET, ch, data, frames) == 0);
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        CHECK(info.source_channels == ch);
        CHECK_MSG(n == (size_t)frames, "%d channels: %zu frames", ch, n);
        double worst = 0;
        for (int64_t i = 0; i < frames && (size_t)i < n; i++) {
            double mean = 0;
            for (int c = 0; c < ch; c++)
                mean += data[i * ch + c];
            mean /= ch;
            if (fabs(x[i] - mean) > worst)
                worst = fabs(x[i] - mean);
        }
        CHECK_MSG(worst <= 1e-7, "%d channels: max deviation from mean %g", ch, worst);
        free(x);
        free(data);
        unlink(path);
        free(path);

        /* Same tone on every channel, amplitudes 0.1..0.1*ch, at 44.1 kHz. */
        fx_sine s = {.freq = 440};
        double mean_amp = 0;
        for (int c = 0; c < ch; c++)
            mean_amp += (s.amp[c] = 0.1 * (c + 1));
        mean_amp /= ch;
        snprintf(name, sizeof name, "ch%d.flac", ch);
        path = fx_path(name);
        CHECK(fx_write(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, ch, 2 * 44100, fx_gen_sine, &s) == 0);
        CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        snprintf(name, sizeof name, "%d-channel flac", ch);
        check_tone(name, x, n, 2.0, 440, mean_amp, 0.005);
        free(x);
        free(path);
    }
}

static void test_rates(void)
{
    const int rates[] = {8000, 11025, 48000, 96000, 192000};
    fx_sine s = {.freq = 440, .amp = {0.25}};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "rate%d.wav", rates[i]);
        char *path = fx_path(name);
        CHECK(fx_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rates[i], 1, 2 * rates[i], fx_gen_sine, &s) == 0);
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        CHECK(info.source_rate == rates[i]);
        CHECK(info.source_frames == 2 * rates[i]);
        CHECK_NEAR(info.duration_seconds, 2.0, 1e-9);
        snprintf(name, sizeof name, "%d Hz input", rates[i]);
        check_tone(name, x, n, 2.0, 440, 0.25, 0.005);
        free(x);
        free(path);
    }
}

static void test_nonfinite(void)
{
    /* Mono at the target rate: replaced samples are exactly 0. */
    enum { N = 2000 };
    float mono[N];
    for (int i = 0; i < N; i++)
        mono[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / TARGET));
    mono[10] = NAN;
    mono[20] = INFINITY;
    mono[30] = -INFINITY;
    mono[N - 1] = NAN;
    char *path = fx_path("nan_mono.wav");
    CHECK(gs_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, TARGET, 1, mono, N) == 0);
    float *x = NULL;
    size_t n = 0;
    gs_audio_info info;
    gs_error err;
    CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
    CHECK(n == N);
    CHECK_MSG(info.nonfinite_samples == 4, "counted %lld", (long long)info.nonfinite_samples);
    if (n == N) {
        CHECK(x[10] == 0.0f && x[20] == 0.0f && x[30] == 0.0f && x[N - 1] == 0.0f);
        CHECK(x[11] == mono[11]);
    }
    free(x);
    free(path);

    /* Stereo at 44.1 kHz: counted per sample, output finite after soxr. */
    float st[2 * N];
    for (int i = 0; i < N; i++)
        st[2 * i] = st[2 * i + 1] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / 44100));
    st[2 * 100] = NAN;
    st[2 * 200 + 1] = INFINITY;
    st[2 * 300] = -INFINITY;
    st[2 * 300 + 1] = NAN;
    path = fx_path("nan_stereo.wav");
    CHECK(gs_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, st, N) == 0);
    CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
    CHECK_MSG(info.nonfinite_samples == 4, "counted %lld", (long long)info.nonfinite_samples);
    int all_finite = 1;
    for (size_t i = 0; i < n; i++)
        all_finite &= isfinite(x[i]) != 0;
    CHECK(all_finite);
    CHECK_NEAR(n, N / 2, 1);
    free(x);
    free(path);
}

/* Finite but absurd float samples (1e38) and an absurd sample rate: the
 * output stays finite, and a 500 Hz header is refused before any buffer is
 * sized by the rate ratio. */
static void test_hostile_values(void)
{
    enum { N = 4000 };
    float huge[N];
    for (int i = 0; i < N; i++)
        huge[i] = (i % 7 == 0 ? 1e38f : -3e37f) * (float)sin(0.01 * i);
    char *path = fx_path("huge.wav");
    CHECK(gs_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, huge, N) == 0);
    float *x = NULL;
    size_t n = 0;
    gs_audio_info info;
    gs_error err;
    CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
    int finite = n > 0;
    for (size_t i = 0; i < n; i++)
        finite &= isfinite(x[i]) && fabsf(x[i]) < 1e5f;
    CHECK_MSG(finite, "non-finite or unclamped output after resampling");
    free(x);
    free(path);

    fx_sine s = {.freq = 100, .amp = {0.5}};
    char *slow = fx_path("rate500.wav");
    CHECK(fx_write(slow, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 500, 1, 500, fx_gen_sine, &s) == 0);
    check_open_fails(slow, GS_ERR_UNSUPPORTED, "sample rate 500 Hz outside");
    free(slow);
}

static void test_silence(void)
{
    const struct {
        const char *file;
        int format, rate, channels;
    } cases[] = {
        {"silence.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2},
        {"silence.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, TARGET, 1},
        {"silence48.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = fx_path(cases[i].file);
        CHECK(fx_write(path, cases[i].format, cases[i].rate, cases[i].channels, 2 * cases[i].rate, fx_gen_silence,
                       NULL) == 0);
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        CHECK_MSG(decode(path, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        CHECK_NEAR(n, 2 * TARGET, 0.01 * 2 * TARGET);
        CHECK_MSG(fx_max_abs(x, n) == 0.0, "%s: silence became %g", cases[i].file, fx_max_abs(x, n));
        free(x);
        free(path);
    }
}

static void test_empty(void)
{
    char *path = fx_path("empty.wav");
    CHECK(gs_test_write_file(path, "", 0) == 0);
    check_open_fails(path, GS_ERR_FORMAT, "empty file");
    float *x = (float *)1;
    size_t n = 7;
    gs_error err;
    gs_error_clear(&err);
    CHECK(gs_audio_decode_file(path, TARGET, &x, &n, NULL, &err) == GS_ERR_FORMAT);
    CHECK(x == NULL && n == 0);
    free(path);

    /* Valid containers holding zero frames open and read 0. */
    const struct {
        const char *file;
        int format;
        int rate;
    } zero[] = {
        {"zero.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100},
        /* (libsndfile writes nothing at all for a frameless FLAC) */
        {"zero.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 44100},
        {"zero.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000},
        {"zero22.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, TARGET},
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        path = fx_path(zero[i].file);
        CHECK(fx_write(path, zero[i].format, zero[i].rate, 2, 0, fx_gen_silence, NULL) == 0);
        gs_error_clear(&err);
        gs_audio *a = gs_audio_open(path, TARGET, &err);
        CHECK_MSG(a != NULL, "%s: %s", zero[i].file, err.message);
        if (a) {
            CHECK(gs_audio_get_info(a)->source_frames == 0);
            float buf[64];
            CHECK(gs_audio_read(a, buf, 64, &err) == 0);
            CHECK(gs_audio_read(a, buf, 64, &err) == 0);
            gs_audio_close(a);
        }
        free(path);
    }
    if (fx_have_ffmpeg()) {
        path = fx_path("zero.m4a");
        char *argv[] = {
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo",
            "-t",     "0",        "-c:a",      "aac",   path, NULL};
        CHECK(fx_run(argv) == 0);
        /* FFmpeg writes no track at all for this: a container without
         * audio, which is not an audio file. */
        check_open_fails(path, GS_ERR_FORMAT, "no audio stream");
        free(path);
    }
}

/* Streams a file to the end in chunks; never hangs (bounded iterations).
 * Returns samples read; *status gets the first error or GS_OK. */
static size_t stream_all(gs_audio *a, size_t chunk, gs_status *status, size_t limit)
{
    float *buf = malloc(chunk * sizeof *buf);
    size_t total = 0;
    *status = GS_OK;
    gs_error err;
    for (size_t iter = 0; iter <= limit / chunk + 16; iter++) {
        gs_error_clear(&err);
        long got = gs_audio_read(a, buf, chunk, &err);
        if (got < 0) {
            *status = (gs_status)got;
            CHECK_MSG(err.code == *status && err.message[0], "error without message");
            /* The error is sticky. */
            CHECK(gs_audio_read(a, buf, chunk, &err) == got);
            break;
        }
        if (got == 0)
            break;
        total += (size_t)got;
    }
    free(buf);
    return total;
}

/* Cuts src at each fraction of its size and decodes what is left. */
static void check_truncations(const char *label, const char *src, const char *ext, const double *fractions,
                              size_t n_fractions, size_t full)
{
    size_t size = 0;
    unsigned char *bytes = gs_test_read_file(src, &size);
    CHECK(bytes != NULL);
    free(bytes);
    for (size_t i = 0; i < n_fractions; i++) {
        char name[64];
        snprintf(name, sizeof name, "cut_%s_%zu%s", label, i, ext);
        char *path = fx_path(name);
        size_t cut = (size_t)(fractions[i] * (double)size);
        CHECK(fx_truncate_copy(src, path, cut) == 0);
        gs_error err;
        gs_error_clear(&err);
        quiet_begin();
        gs_audio *a = gs_audio_open(path, TARGET, &err);
        gs_status st = GS_OK;
        size_t got = 0;
        if (a)
            got = stream_all(a, 4096, &st, 4 * full);
        quiet_end(name);
        if (!a) {
            /* Only a cut inside the header may refuse to open. */
            CHECK_MSG(fractions[i] < 0.05, "%s cut at %.0f%%: %s", label, fractions[i] * 100, err.message);
            CHECK_MSG(err.code == GS_ERR_FORMAT && contains(err.message, path), "%s: %s", gs_status_name(err.code),
                      err.message);
        } else {
            CHECK_MSG(got <= full + full / 100, "%s cut at %.0f%%: %zu > %zu", label, fractions[i] * 100, got, full);
            if (fractions[i] >= 0.25)
                CHECK_MSG(got >= (size_t)((fractions[i] - 0.1) * (double)full),
                          "%s cut at %.0f%%: only %zu of %zu samples", label, fractions[i] * 100, got, full);
            CHECK(st == GS_OK || st == GS_ERR_FORMAT);
            printf("%s cut at %4.1f%%: %zu of %zu samples, %s\n", label, fractions[i] * 100, got, full,
                   st == GS_OK ? "clean end" : gs_status_name(st));
        }
        gs_audio_close(a);
        unlink(path);
        free(path);
    }
}

static void test_truncated(void)
{
    fx_sine s = {.freq = 440, .amp = {0.5, 0.5}};
    /* WAV cut mid-data (odd byte count): decodes what is there. */
    char *wav = fx_path("full.wav");
    CHECK(fx_write(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 2 * 44100, fx_gen_sine, &s) == 0);
    char *cut = fx_path("cut.wav");
    CHECK(fx_truncate_copy(wav, cut, 44 + 2 * 44100 + 1) == 0);
    float *x = NULL;
    size_t n = 0;
    gs_audio_info info;
    gs_error err;
    CHECK_MSG(decode(cut, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
    check_tone("wav cut at 1 s", x, n, 1.0, 440, 0.5, 0.005);
    free(x);
    free(wav);
    free(cut);

    const double fractions[] = {0.001, 0.02, 0.25, 0.5, 0.75, 0.99};
    const size_t nf = sizeof fractions / sizeof fractions[0];
    const size_t full = 3 * TARGET;
    char *flac = fx_path("full.flac");
    CHECK(fx_write(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 3 * 44100, fx_gen_sine, &s) == 0);
    check_truncations("flac", flac, ".flac", fractions, nf, full);
    free(flac);

    char *mp3 = fx_path("full.mp3");
    int rc = fx_write(mp3, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 3 * 44100, fx_gen_sine, &s);
    if (rc == 1)
        printf("skip truncated mp3: this libsndfile cannot write MP3\n");
    else
        check_truncations("mp3", mp3, ".mp3", fractions, nf, full);
    free(mp3);

    if (fx_have_ffmpeg()) {
        char *src = fx_path("m4a_src.wav");
        char *m4a = fx_path("full.m4a");
        CHECK(fx_write(src, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, 3 * 44100, fx_gen_sine, &s) == 0);
        char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "error",      "-y", "-i", src,
                        "-c:a",   "aac",      "-movflags", "+faststart", m4a,  NULL};
        CHECK(fx_run(argv) == 0);
        /* moov first (faststart), so a cut file still has its index. */
        check_truncations("m4a", m4a, ".m4a", fractions, nf, full);
        free(src);
        free(m4a);
    } else {
        printf("skip truncated m4a: no ffmpeg on PATH\n");
    }
}

static void test_garbage(void)
{
    static unsigned char noise[65536];
    const char *names[] = {"noise.wav", "noise.flac", "noise.mp3", "noise.m4a", "noise.ogg", "noise.aiff"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        fx_random_bytes(noise, sizeof noise, 0x9e3779b9u + (uint32_t)i);
        char *path = fx_path(names[i]);
        CHECK(gs_test_write_file(path, noise, sizeof noise) == 0);
        quiet_begin();
        check_open_fails(path, GS_ERR_FORMAT, NULL);
        quiet_end(names[i]);
        free(path);
    }
    const char text[] = "This is a text file with an .mp3 extension.\nIt has no audio in it.\n";
    const char *text_names[] = {"text.mp3", "text.wav", "text.m4a"};
    for (size_t i = 0; i < sizeof text_names / sizeof text_names[0]; i++) {
        char *path = fx_path(text_names[i]);
        CHECK(gs_test_write_file(path, text, sizeof text - 1) == 0);
        quiet_begin();
        check_open_fails(path, GS_ERR_FORMAT, NULL);
        quiet_end(text_names[i]);
        free(path);
    }
}

/* A well-formed WAV whose codec tag nobody knows. */
static void test_unsupported(void)
{
    fx_sine s = {.freq = 440, .amp = {0.5}};
    char *path = fx_path("codec1234.wav");
    CHECK(fx_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 4410, fx_gen_sine, &s) == 0);
    size_t size = 0;
    unsigned char *bytes = gs_test_read_file(path, &size);
    CHECK(bytes && size > 44 && !memcmp(bytes + 12, "fmt ", 4));
    if (bytes && size > 44) {
        bytes[20] = 0x34; /* wFormatTag 0x1234 */
        bytes[21] = 0x12;
        CHECK(gs_test_write_file(path, bytes, size) == 0);
        quiet_begin();
        check_open_fails(path, GS_ERR_UNSUPPORTED, NULL);
        quiet_end("unknown codec");
    }
    free(bytes);
    free(path);

    /* G.726 in WAV: libsndfile refuses it, FFmpeg decodes it. */
    if (fx_have_ffmpeg()) {
        char *src = fx_path("g726_src.wav");
        char *g726 = fx_path("g726.wav");
        CHECK(fx_write(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 16000, fx_gen_sine, &s) == 0);
        char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", src, "-c:a", "adpcm_g726", g726, NULL};
        CHECK(fx_run(argv) == 0);
        float *x = NULL;
        size_t n = 0;
        gs_audio_info info;
        gs_error err;
        CHECK_MSG(decode(g726, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        CHECK(info.decoder && !strcmp(info.decoder, "ffmpeg"));
        CHECK(info.source_rate == 8000);
        check_tone("g726 wav", x, n, 2.0, 440, 0.5, 0.15);
        free(x);

        /* MPEG inside WAV: libsndfile opens it, but it must go to FFmpeg. */
        /* WAV keeps no gapless info: LAME's info frame, encoder delay and
         * padding decode as extra samples (the ffmpeg CLI gets the same
         * 178560 samples at 44.1 kHz), so only routing, pitch and a rough
         * length are checked here; codec fidelity is test_formats' job. */
        char *mp3wav = fx_path("mp3.wav");
        CHECK(fx_write(src, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 4 * 44100, fx_gen_sine, &s) == 0);
        char *argv2[] = {"ffmpeg", "-nostdin", "-loglevel",  "error", "-y", "-i",
                         src,      "-c:a",     "libmp3lame", mp3wav,  NULL};
        CHECK(fx_run(argv2) == 0);
        quiet_begin();
        CHECK_MSG(decode(mp3wav, TARGET, &x, &n, &info, &err) == GS_OK, "%s", err.message);
        quiet_end("mp3 in wav");
        CHECK(info.decoder && !strcmp(info.decoder, "ffmpeg"));
        CHECK_MSG(n >= 4 * TARGET && n <= 4 * TARGET + 2 * 1152, "mp3 in wav: %zu samples", n);
        if (n >= 4 * TARGET)
            CHECK_NEAR(fx_zero_cross_freq(x, n / 10, n - n / 10, TARGET), 440, 0.002 * 440);
        free(x);
        free(mp3wav);
        free(src);
        free(g726);
    }
}

static void test_bad_paths(void)
{
    char *missing = fx_path("does-not-exist.flac");
    check_open_fails_errno(missing, GS_ERR_IO, strerror(ENOENT), ENOENT);
    free(missing);

    check_open_fails_errno(fx_dir, GS_ERR_IO, strerror(EISDIR), EISDIR);

    char *locked = fx_path("locked.wav");
    fx_sine s = {.freq = 440, .amp = {0.5}};
    CHECK(fx_write(locked, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 800, fx_gen_sine, &s) == 0);
    chmod(locked, 0);
    if (geteuid() == 0)
        printf("skip permission-denied case: running as root\n");
    else
        check_open_fails_errno(locked, GS_ERR_IO, strerror(EACCES), EACCES);
    chmod(locked, 0644);
    free(locked);

    check_open_fails("/dev/null", GS_ERR_IO, "not a regular file");

    /* A FIFO with an audio name: refused at once, never opened for reading
     * (which would block until someone writes). */
    char *fifo = fx_path("pipe.mp3");
    CHECK(mkfifo(fifo, 0644) == 0);
    check_open_fails(fifo, GS_ERR_IO, "a FIFO, not a regular file");
    unlink(fifo);
    free(fifo);

    gs_error err;
    gs_error_clear(&err);
    CHECK(gs_audio_open(NULL, TARGET, &err) == NULL && err.code == GS_ERR_INVALID);
    char *ok = fx_path("rate16k.wav");
    CHECK(fx_write(ok, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1600, fx_gen_sine, &s) == 0);
    gs_error_clear(&err);
    CHECK(gs_audio_open(ok, 1000, &err) == NULL && err.code == GS_ERR_INVALID);
    gs_error_clear(&err);
    CHECK(gs_audio_open(ok, 400000, &err) == NULL && err.code == GS_ERR_INVALID);
    gs_error_clear(&err);
    gs_audio *a = gs_audio_open(ok, 8000, &err);
    CHECK_MSG(a != NULL, "%s", err.message);
    CHECK(gs_audio_read(a, NULL, 10, &err) == GS_ERR_INVALID);
    CHECK(gs_audio_read(NULL, NULL, 0, &err) == GS_ERR_INVALID);
    gs_audio_close(a);
    gs_audio_close(NULL);
    free(ok);
}

/* Reading in chunks of 1, 17 and 4096 gives the same samples as one call. */
static void check_chunking(const char *label, const char *path)
{
    float *ref = NULL;
    size_t n_ref = 0;
    gs_audio_info info;
    gs_error err;
    CHECK_MSG(decode(path, TARGET, &ref, &n_ref, &info, &err) == GS_OK, "%s", err.message);
    const size_t chunks[] = {1, 17, 4096};
    for (size_t c = 0; c < 3; c++) {
        gs_error_clear(&err);
        gs_audio *a = gs_audio_open(path, TARGET, &err);
        CHECK_MSG(a != NULL, "%s", err.message);
        if (!a)
            continue;
        float *x = malloc((n_ref + 8192) * sizeof *x);
        size_t n = 0;
        long got;
        while (n + chunks[c] <= n_ref + 8192 && (got = gs_audio_read(a, x + n, chunks[c], &err)) > 0)
            n += (size_t)got;
        CHECK_MSG(n == n_ref && !memcmp(x, ref, n * sizeof *x), "%s chunk %zu: %zu vs %zu samples", label, chunks[c], n,
                  n_ref);
        free(x);
        gs_audio_close(a);
    }
    free(ref);
}

static float gen_tone_noise(int64_t i, int ch, int rate, const void *user)
{
    (void)user;
    uint32_t h = (uint32_t)i * 2654435761u + (uint32_t)ch * 40503u;
    h ^= h >> 15;
    return (float)(0.3 * sin(2 * M_PI * 440.0 * (double)i / rate) + 0.1 * ((h & 0xffff) / 32768.0 - 1.0));
}

static void test_chunking(void)
{
    char *flac = fx_path("chunks.flac");
    CHECK(fx_write(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 44100 * 3 / 2, gen_tone_noise, NULL) == 0);
    check_chunking("flac 44.1k", flac);
    free(flac);
    char *wav = fx_path("chunks.wav");
    CHECK(fx_write(wav, SF_FORMAT_WAV | SF_FORMAT_FLOAT, TARGET, 3, TARGET, gen_tone_noise, NULL) == 0);
    check_chunking("wav 22.05k", wav);
    if (fx_have_ffmpeg()) {
        char *m4a = fx_path("chunks.m4a");
        char *wav44 = fx_path("chunks44.wav");
        CHECK(fx_write(wav44, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, 44100, gen_tone_noise, NULL) == 0);
        CHECK(fx_ffmpeg_encode(wav44, m4a, "aac") == 0);
        check_chunking("m4a", m4a);
        free(m4a);
        free(wav44);
    }
    free(wav);
}

/* ---- streaming resampler ------------------------------------------------ */

static void test_resampler(void)
{
    gs_error err;
    gs_error_clear(&err);
    CHECK(gs_resampler_new(0, 22050, 512, &err) == NULL && err.code == GS_ERR_INVALID);
    CHECK(gs_resampler_new(44100, NAN, 512, &err) == NULL && err.code == GS_ERR_INVALID);
    CHECK(gs_resampler_new(44100, 22050, 0, &err) == NULL && err.code == GS_ERR_INVALID);

    const double in_rates[] = {44100, 48000, 8000, 22050};
    for (size_t k = 0; k < sizeof in_rates / sizeof in_rates[0]; k++) {
        const size_t block = 512;
        gs_error_clear(&err);
        gs_resampler *r = gs_resampler_new(in_rates[k], TARGET, block, &err);
        CHECK_MSG(r != NULL, "%s", err.message);
        if (!r)
            continue;
        size_t max_out = gs_resampler_max_output(r);
        CHECK(max_out >= (size_t)ceil(block * TARGET / in_rates[k]));
        const size_t total_in = (size_t)(2 * in_rates[k]);
        const size_t total_out_cap = (size_t)(2 * TARGET) + 4 * max_out;
        float *out = calloc(total_out_cap, sizeof *out);
        float in[512];
        size_t fed = 0, produced = 0;
        int within = 1;
        uint32_t seed = 7;
        while (fed < total_in) {
            size_t n = 1 + (gs_test_lcg32_ansi(&seed) >> 16) % block; /* varying block sizes */
            if (n > total_in - fed)
                n = total_in - fed;
            for (size_t i = 0; i < n; i++)
                in[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * (double)(fed + i) / in_rates[k]));
            long got = gs_resampler_process(r, in, n, out + produced, max_out, &err);
            CHECK_MSG(got >= 0, "%s", err.message);
            if (got < 0)
                break;
            within &= (size_t)got <= max_out;
            produced += (size_t)got;
            fed += n;
        }
        long got;
        while ((got = gs_resampler_process(r, NULL, 0, out + produced, max_out, &err)) > 0)
            produced += (size_t)got;
        CHECK(got == 0);
        CHECK(within);
        CHECK_MSG(fabs((double)produced - 2 * TARGET) <= 2, "%g Hz: %zu out", in_rates[k], produced);
        check_tone("resampler", out, produced, 2.0, 440, 0.5, 0.005);
        /* Misuse is reported, not ignored. */
        CHECK(gs_resampler_process(r, in, 1, out, max_out, &err) == GS_ERR_INVALID);
        CHECK(gs_resampler_process(r, in, block + 1, out, max_out, &err) == GS_ERR_INVALID);
        free(out);
        gs_resampler_free(r);
    }
    gs_resampler_free(NULL);
}

/* ---- bounded memory for long files -------------------------------------- */

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_long_file(void)
{
    const char *env = getenv("GS_AUDIO_LONG_MINUTES");
    double minutes = env ? atof(env) : 20.0;
    if (minutes <= 0) {
        printf("skip long file: GS_AUDIO_LONG_MINUTES=%s\n", env);
        return;
    }
    const int rate = 44100;
    const int64_t frames = (int64_t)(minutes * 60 * rate);
    char *path = fx_path("long.flac");
    fx_sine s = {.freq = 440, .amp = {0.5}};
    CHECK(fx_write(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, rate, 1, frames, fx_gen_sine, &s) == 0);
    long before = max_rss_kb();
    gs_error err;
    gs_error_clear(&err);
    gs_audio *a = gs_audio_open(path, TARGET, &err);
    CHECK_MSG(a != NULL, "%s", err.message);
    if (a) {
        gs_status st;
        size_t n = stream_all(a, 4096, &st, (size_t)(minutes * 60 * TARGET * 2));
        CHECK(st == GS_OK);
        double expect = minutes * 60 * TARGET;
        CHECK_MSG(fabs((double)n - expect) <= 1.0, "%zu samples, expected %.0f", n, expect);
        gs_audio_close(a);
    }
    long growth_kb = max_rss_kb() - before;
    printf("long file: %.1f minutes, max RSS %ld kB (growth while decoding %ld kB)\n", minutes, max_rss_kb(),
           growth_kb);
    CHECK_MSG(growth_kb < 32 * 1024, "RSS grew by %ld kB", growth_kb);
    unlink(path);
    free(path);
}

int main(void)
{
    if (fx_init() != 0) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return EXIT_FAILURE;
    }
    if (!fx_have_ffmpeg())
        printf("note: ffmpeg CLI not on PATH: M4A/AAC/ALAC cases are skipped\n");
    test_long_file(); /* first: its RSS baseline is not raised by the others */
    test_formats();
    test_opposite_phase();
    test_channels();
    test_rates();
    test_nonfinite();
    test_hostile_values();
    test_silence();
    test_empty();
    test_truncated();
    test_garbage();
    test_unsupported();
    test_bad_paths();
    test_chunking();
    test_resampler();
    printf("process max RSS: %ld kB (ffmpeg CLI children not included)\n", max_rss_kb());
    fx_cleanup();
    return gs_test_finish("test_audio");
}
