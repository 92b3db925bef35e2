/* The pseudo-random generators the tests use, one definition of each step.
 * Tests pick a generator, a seed and a scaling of their own: what a test
 * synthesises (and so what it checks) depends on exactly those, so a test
 * keeps the generator it was written with rather than sharing one.
 * Deterministic everywhere, unlike libc rand(), so failures reproduce. */
#ifndef GS_TEST_RNG_H
#define GS_TEST_RNG_H

#include <stdint.h>

/* Marsaglia xorshift32 (13, 17, 5); the state must not be 0. */
static inline uint32_t gs_test_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Marsaglia xorshift64 (13, 7, 17); the state must not be 0. */
static inline uint64_t gs_test_xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* 32-bit LCG with Numerical Recipes' constants; low bits are weak, so
 * callers take the high ones. */
static inline uint32_t gs_test_lcg32(uint32_t *state)
{
    return *state = *state * 1664525u + 1013904223u;
}

/* 32-bit LCG with the constants of the C standard's example rand(). */
static inline uint32_t gs_test_lcg32_ansi(uint32_t *state)
{
    return *state = *state * 1103515245u + 12345u;
}

/* 64-bit LCG with Knuth's MMIX constants. */
static inline uint64_t gs_test_lcg64(uint64_t *state)
{
    return *state = *state * 6364136223846793005ull + 1442695040888963407ull;
}

/* SplitMix64: every state, 0 included, is a good seed. */
static inline uint64_t gs_test_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
