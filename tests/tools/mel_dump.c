/* gs_mel_dump: runs the C log-mel front-end on raw float32 samples so the
 * numpy reference test (tests/test_melspec_numpy.py) can compare outputs.
 *
 * usage: gs_mel_dump IN.f32 SAMPLE_RATE N_FFT HOP N_MELS FMIN FMAX LOG_OFFSET
 *                    OUT_FRAMES.f32 OUT_FILTERBANK.f32 [MAX_BLOCK OUT_RMS.f32]
 *
 * Writes frames as float32 [n_frames][n_mels] (native endianness) and the
 * filterbank as float32 [n_mels][n_fft/2+1]. Without MAX_BLOCK the frames
 * come from gs_mel_compute; with it they come from gs_mel_push/gs_mel_pull
 * fed in pseudo-random blocks of 0..MAX_BLOCK samples, and each frame's RMS
 * is written to OUT_RMS.f32. Exit status 0 on success, 1 on any error. */
#include "genrescope/melspec.h"
#include "support/rng.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "gs_mel_dump: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static float *read_samples(const char *path, size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    float *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 65536;
            float *grown = realloc(data, new_cap * sizeof *data);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
            cap = new_cap;
        }
        size_t got = fread(data + n, sizeof *data, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        return NULL;
    }
    *n_out = n;
    return data;
}

static int write_floats(const char *path, const float *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = n ? fwrite(data, sizeof *data, n, f) : 0;
    int closed = fclose(f);
    return put == n && closed == 0 ? 0 : -1;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return -1;
    *out = (float)v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 11 && argc != 13)
        return fail("usage",
                    "IN.f32 SAMPLE_RATE N_FFT HOP N_MELS FMIN FMAX LOG_OFFSET "
                    "OUT_FRAMES.f32 OUT_FILTERBANK.f32 [MAX_BLOCK OUT_RMS.f32]");
    gs_frontend_params p;
    gs_frontend_params_default(&p);
    /* Patch settings do not affect the spectrogram; minimal values keep the
     * shared validator from rejecting unusual hop/rate combinations. */
    p.patch_frames = 1;
    p.patch_hop_frames = 1;
    int max_block = 0;
    if (parse_int(argv[2], &p.sample_rate) || parse_int(argv[3], &p.n_fft) || parse_int(argv[4], &p.hop_length) ||
        parse_int(argv[5], &p.n_mels) || parse_float(argv[6], &p.fmin) || parse_float(argv[7], &p.fmax) ||
        parse_float(argv[8], &p.log_offset) || (argc == 13 && parse_int(argv[11], &max_block)))
        return fail("bad numeric argument", NULL);
    if (argc == 13 && (max_block < 0 || max_block > GS_MEL_MAX_PUSH))
        return fail("MAX_BLOCK outside 0..GS_MEL_MAX_PUSH", NULL);

    size_t n = 0;
    float *samples = read_samples(argv[1], &n);
    if (!samples)
        return fail("cannot read", argv[1]);

    gs_error err;
    gs_error_clear(&err);
    gs_mel *mel = gs_mel_new(&p, NULL, &err);
    if (!mel) {
        free(samples);
        return fail("gs_mel_new", err.message);
    }
    const size_t n_frames = gs_mel_num_frames(mel, n);
    const size_t n_mels = (size_t)p.n_mels;
    /* One spare row catches a streaming path that yields too many frames. */
    float *frames = malloc((n_frames + 1) * n_mels * sizeof *frames);
    float *rms = malloc((n_frames + 1) * sizeof *rms);
    int status = 0;
    if (!frames || !rms) {
        status = fail("out of memory", NULL);
    } else if (argc == 11) {
        if (gs_mel_compute(mel, samples, n, frames, &err) != GS_OK)
            status = fail("gs_mel_compute", err.message);
    } else {
        uint64_t rng = 0x9e3779b97f4a7c15u;
        size_t fed = 0, pulled = 0;
        while (status == 0) {
            size_t block = (size_t)(gs_test_xorshift64(&rng) % ((uint64_t)max_block + 1));
            if (block > n - fed)
                block = n - fed;
            if (gs_mel_push(mel, samples + fed, block, &err) != GS_OK) {
                status = fail("gs_mel_push", err.message);
                break;
            }
            fed += block;
            while (pulled <= n_frames && gs_mel_pull(mel, frames + pulled * n_mels, rms + pulled))
                pulled++;
            if (fed == n)
                break;
        }
        if (status == 0 && pulled != n_frames)
            status = fail("streaming gave a different number of frames", NULL);
        if (status == 0 && write_floats(argv[12], rms, n_frames))
            status = fail("cannot write", argv[12]);
    }
    if (status == 0 && write_floats(argv[9], frames, n_frames * n_mels))
        status = fail("cannot write", argv[9]);
    if (status == 0 && write_floats(argv[10], gs_mel_filterbank(mel), n_mels * (size_t)(p.n_fft / 2 + 1)))
        status = fail("cannot write", argv[10]);
    free(frames);
    free(rms);
    free(samples);
    gs_mel_free(mel);
    return status;
}
