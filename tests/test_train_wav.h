/* Test-time audio for the trainer tests: writes 16-bit mono WAV files of
 * synthetic signals (tones, noise, click trains), so no audio is committed. */
#ifndef GS_TEST_TRAIN_WAV_H
#define GS_TEST_TRAIN_WAV_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/rng.h"

enum { GS_SYNTH_TONE = 0, GS_SYNTH_NOISE = 1, GS_SYNTH_CLICKS = 2 };

static uint64_t gs_synth_rng(uint64_t *s)
{
    return gs_test_splitmix64(s);
}

/* kind: tone (random pitch 200-2000 Hz), white noise, or clicks (random
 * rate 2-8 per second); level in dBFS; returns 0 on success. */
static int gs_write_synth_wav(const char *path, int kind, double seconds, int rate, double level_db, uint64_t seed)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    uint32_t n = (uint32_t)(seconds * rate);
    uint32_t data_bytes = n * 2;
    unsigned char h[44] = {'R', 'I', 'F', 'F', 0,  0, 0, 0, 'W', 'A', 'V', 'E',
                           'f', 'm', 't', ' ', 16, 0, 0, 0, 1,   0,   1,   0};
    uint32_t riff = 36 + data_bytes, br = (uint32_t)rate * 2;
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (unsigned char)(riff >> (8 * i));
        h[24 + i] = (unsigned char)((uint32_t)rate >> (8 * i));
        h[28 + i] = (unsigned char)(br >> (8 * i));
        h[40 + i] = (unsigned char)(data_bytes >> (8 * i));
    }
    h[32] = 2;
    h[34] = 16;
    h[36] = 'd';
    h[37] = 'a';
    h[38] = 't';
    h[39] = 'a';
    fwrite(h, 1, 44, f);
    double amp = pow(10.0, level_db / 20.0);
    uint64_t s = seed;
    double freq = 200.0 + (double)(gs_synth_rng(&s) % 1800);
    double click_rate = 2.0 + (double)(gs_synth_rng(&s) % 7);
    int period = (int)(rate / click_rate);
    for (uint32_t i = 0; i < n; i++) {
        double v;
        if (kind == GS_SYNTH_TONE)
            v = sin(2.0 * M_PI * freq * i / rate);
        else if (kind == GS_SYNTH_NOISE)
            v = ((double)(gs_synth_rng(&s) >> 11) / 9007199254740992.0) * 2.0 - 1.0;
        else
            v = (i % period) < 40 ? (((i % period) & 1) ? 1.0 : -1.0) * exp(-(double)(i % period) / 10.0) : 0.0;
        v *= amp;
        if (v > 1.0)
            v = 1.0;
        if (v < -1.0)
            v = -1.0;
        int16_t q = (int16_t)lrint(v * 32767.0);
        unsigned char b[2] = {(unsigned char)(q & 0xff), (unsigned char)((uint16_t)q >> 8)};
        fwrite(b, 1, 2, f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Writes n samples (clipped to [-1, 1]) as a 16-bit mono WAV; returns 0
 * on success. For signals the synthesiser does not make (e.g. a silent
 * stretch in the middle). */
static inline int gs_write_wav(const char *path, const float *x, uint32_t n, int rate)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    uint32_t data_bytes = n * 2, riff = 36 + data_bytes, br = (uint32_t)rate * 2;
    unsigned char h[44] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16,  0,   0,   0,
                           1,   0,   1,   0,   0, 0, 0, 0, 0,   0,   0,   0,   2,   0,   16,  0,   'd', 'a', 't', 'a'};
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (unsigned char)(riff >> (8 * i));
        h[24 + i] = (unsigned char)((uint32_t)rate >> (8 * i));
        h[28 + i] = (unsigned char)(br >> (8 * i));
        h[40 + i] = (unsigned char)(data_bytes >> (8 * i));
    }
    fwrite(h, 1, 44, f);
    for (uint32_t i = 0; i < n; i++) {
        double v = x[i] > 1.0f ? 1.0 : x[i] < -1.0f ? -1.0 : x[i];
        int16_t q = (int16_t)lrint(v * 32767.0);
        unsigned char b[2] = {(unsigned char)(q & 0xff), (unsigned char)((uint16_t)q >> 8)};
        fwrite(b, 1, 2, f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

#endif
