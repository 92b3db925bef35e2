/* Test audio synthesised at test time (no audio files in the repo): a
 * 120 bpm groove (kick, snare, hi-hat, bass, chords) that is deterministic
 * for a seed, plus helpers the plugin tests share. */
#ifndef GS_TEST_PLUGIN_SYNTH_H
#define GS_TEST_PLUGIN_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* Fills l and r (r may be NULL for mono) with n frames at rate Hz. */
void gs_synth_music(float *l, float *r, size_t n, double rate, uint32_t seed);

/* Deterministic pseudo-random numbers (xorshift32); state must not be 0. */
uint32_t gs_synth_rand(uint32_t *state);

/* A block size in 0..max, biased to awkward values: 0, 1, primes, max. */
uint32_t gs_synth_block_size(uint32_t *state, uint32_t max);

#endif
