/* The deterministic test groove and plugin-test helpers of synth.h. */
#include "synth.h"

#include <math.h>

/* Relative: bench/ builds this file without the tests include path. */
#include "../support/rng.h"

uint32_t gs_synth_rand(uint32_t *state)
{
    return gs_test_xorshift32(state);
}

static float noise(uint32_t *state)
{
    return (float)((double)gs_synth_rand(state) / 2147483648.0 - 1.0);
}

void gs_synth_music(float *l, float *r, size_t n, double rate, uint32_t seed)
{
    static const double bass_notes[4] = {55.0, 55.0, 73.42, 82.41};
    static const double chord_roots[4] = {220.0, 220.0, 293.66, 329.63};
    uint32_t st = seed ? seed : 1;
    float hp_prev = 0.0f;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double beat_t = fmod(t, 0.5); /* 120 bpm */
        int beat = (int)(t / 0.5);
        int bar = beat / 4;
        double kick_f = 50.0 + 100.0 * exp(-beat_t / 0.03);
        double kick = 0.6 * sin(2.0 * M_PI * kick_f * beat_t) * exp(-beat_t / 0.12);
        double snare = (beat % 2 == 1) ? 0.25 * noise(&st) * exp(-beat_t / 0.06) : 0.0;
        float wn = noise(&st);
        float hp = wn - hp_prev; /* crude high-pass for a hat */
        hp_prev = wn;
        double hat = 0.08 * hp * exp(-fmod(t, 0.25) / 0.015);
        double bf = bass_notes[bar % 4];
        double bass = 0.15 * (2.0 * fmod(t * bf, 1.0) - 1.0);
        double root = chord_roots[bar % 4];
        double chord =
            0.05 * (sin(2.0 * M_PI * root * t) + sin(2.0 * M_PI * root * 1.26 * t) + sin(2.0 * M_PI * root * 1.5 * t));
        double mix = kick + snare + bass;
        l[i] = (float)(mix + 0.7 * hat + 1.2 * chord);
        if (r)
            r[i] = (float)(mix + 1.3 * hat + 0.8 * chord);
    }
}

uint32_t gs_synth_block_size(uint32_t *state, uint32_t max)
{
    uint32_t x = gs_synth_rand(state);
    switch (x % 16) {
    case 0: return 0;
    case 1: return 1;
    case 2: return max;
    case 3: return 127 < max ? 127 : max;
    case 4:
    case 5:
    case 6:
    case 7: return (x >> 8) % (max < 64 ? max + 1 : 65);
    default: return (x >> 8) % (max + 1);
    }
}
