/* Small deterministic PRNG (SplitMix64) so every shuffle, crop and mask is
 * reproducible from --seed on any platform (rand() is not). */
#ifndef GS_TRAIN_RNG_H
#define GS_TRAIN_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct gs_rng {
    uint64_t state;
} gs_rng;

static inline void gs_rng_seed(gs_rng *r, uint64_t seed)
{
    r->state = seed ^ 0x9E3779B97F4A7C15ULL;
}

static inline uint64_t gs_rng_next(gs_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double gs_rng_uniform(gs_rng *r)
{
    return (double)(gs_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n). */
static inline int gs_rng_int(gs_rng *r, int n)
{
    return n <= 1 ? 0 : (int)(gs_rng_uniform(r) * n);
}

static inline void gs_rng_shuffle(gs_rng *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = gs_rng_int(r, i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static inline double gs_rng_normal(gs_rng *r)
{
    double u1 = gs_rng_uniform(r), u2 = gs_rng_uniform(r);
    return sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
}

/* Gamma(k, 1) for k > 0 (Marsaglia-Tsang), used for Beta draws in mixup. */
static inline double gs_rng_gamma(gs_rng *r, double k)
{
    if (k < 1.0)
        return gs_rng_gamma(r, k + 1.0) * pow(gs_rng_uniform(r) + 1e-300, 1.0 / k);
    double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = gs_rng_normal(r), v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = gs_rng_uniform(r);
        if (log(u + 1e-300) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static inline double gs_rng_beta(gs_rng *r, double a, double b)
{
    double x = gs_rng_gamma(r, a), y = gs_rng_gamma(r, b);
    return x / (x + y);
}

#endif
