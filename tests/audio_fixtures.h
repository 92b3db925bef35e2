/* Test-time audio fixtures for test_audio: every file is synthesised into a
 * private temporary directory and removed afterwards (no audio is committed).
 * Header-only (static functions) because the test target is one source file. */
#ifndef GS_TEST_AUDIO_FIXTURES_H
#define GS_TEST_AUDIO_FIXTURES_H

#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/audio_file.h"
#include "support/files.h"
#include "support/rng.h"
#include "support/tmpdir.h"

extern char **environ;

static char fx_dir[4096];

/* Creates this run's fixture directory. 0 on success. */
static int fx_init(void)
{
    return gs_test_tmpdir(fx_dir, sizeof fx_dir, "test_audio");
}

/* Removes everything under the fixture directory. */
static void fx_cleanup(void)
{
    gs_test_rmtree(fx_dir);
}

/* Path of a fixture; returns a malloc'd string the caller frees. */
static char *fx_path(const char *name)
{
    size_t n = strlen(fx_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", fx_dir, name);
    return p;
}

/* Sample generator: value of channel ch at frame i. */
typedef float (*fx_gen)(int64_t i, int ch, int rate, const void *user);

typedef struct fx_sine {
    double freq;
    double amp[16];   /* per channel */
    double freq_step; /* added to freq per channel (0: same tone everywhere) */
} fx_sine;

static float fx_gen_sine(int64_t i, int ch, int rate, const void *user)
{
    const fx_sine *s = user;
    double f = s->freq + s->freq_step * ch;
    return (float)(s->amp[ch] * sin(2.0 * M_PI * f * (double)i / rate));
}

static float fx_gen_silence(int64_t i, int ch, int rate, const void *user)
{
    (void)i, (void)ch, (void)rate, (void)user;
    return 0.0f;
}

/* Writes frames of gen() with libsndfile in blocks. Returns 0, or 1 when
 * libsndfile cannot write this format here (caller skips), -1 on error. */
static int fx_write(const char *path, int format, int rate, int channels, int64_t frames, fx_gen gen, const void *user)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    if (!sf_format_check(&info))
        return 1;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        fprintf(stderr, "cannot write %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    enum { BLOCK = 4096 };
    float *buf = malloc((size_t)BLOCK * (size_t)channels * sizeof *buf);
    int rc = buf ? 0 : -1;
    for (int64_t done = 0; rc == 0 && done < frames;) {
        int64_t n = frames - done < BLOCK ? frames - done : BLOCK;
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
                buf[i * channels + c] = gen(done + i, c, rate, user);
        if (sf_writef_float(sf, buf, n) != n)
            rc = -1;
        done += n;
    }
    free(buf);
    if (sf_close(sf) != 0)
        rc = -1;
    return rc;
}

/* Copies the first n bytes of src to dst. */
static int fx_truncate_copy(const char *src, const char *dst, size_t n)
{
    size_t size = 0;
    unsigned char *data = gs_test_read_file(src, &size);
    if (!data)
        return -1;
    int rc = gs_test_write_file(dst, data, n < size ? n : size);
    free(data);
    return rc;
}

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
static void fx_random_bytes(unsigned char *out, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)(gs_test_xorshift32(&x) >> 24);
}

/* Runs argv[0] found on PATH with stdin/stdout/stderr on /dev/null.
 * Returns its exit status, or -1 when it cannot be started. */
static int fx_run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int fx_have_ffmpeg(void)
{
    static int cached = -1;
    if (cached < 0) {
        char *argv[] = {"ffmpeg", "-hide_banner", "-version", NULL};
        cached = fx_run(argv) == 0;
    }
    return cached;
}

/* Encodes src into dst with the ffmpeg CLI and the given audio codec. */
static int fx_ffmpeg_encode(const char *src, const char *dst, const char *codec)
{
    char *argv[] = {"ffmpeg", "-nostdin",  "-hide_banner", "-loglevel",   "error",     "-y",
                    "-i",     (char *)src, "-c:a",         (char *)codec, (char *)dst, NULL};
    return fx_run(argv);
}

/* Frequency from positive-going zero crossings (linearly interpolated)
 * between first and last crossing in x[begin, end). */
static double fx_zero_cross_freq(const float *x, size_t begin, size_t end, int rate)
{
    double first = -1, last = -1;
    long crossings = 0;
    for (size_t i = begin + 1; i < end; i++) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            double t = (double)(i - 1) + x[i - 1] / (double)(x[i - 1] - x[i]);
            if (first < 0)
                first = t;
            last = t;
            crossings++;
        }
    }
    if (crossings < 2)
        return 0;
    return (double)(crossings - 1) * rate / (last - first);
}

static double fx_rms(const float *x, size_t begin, size_t end)
{
    double sum = 0;
    for (size_t i = begin; i < end; i++)
        sum += (double)x[i] * x[i];
    return end > begin ? sqrt(sum / (double)(end - begin)) : 0;
}

static double fx_max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i]) > m)
            m = fabs(x[i]);
    return m;
}

#endif
