/* Unit tests of the plugin's lock-free ring and verdict smoothing. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ring.h"
#include "smoothing.h"
#include "genrescope/verdict.h"
#include "support/rng.h"

static void test_ring_basic(void)
{
    gs_ring r;
    CHECK(gs_ring_init(&r, 0) == -1);
    CHECK(gs_ring_init(&r, 100) == 0);
    CHECK(r.capacity == 128);
    CHECK(gs_ring_write_space(&r) == 128);
    float buf[300], out[300];
    for (int i = 0; i < 300; i++)
        buf[i] = (float)i;
    CHECK(gs_ring_write(&r, buf, 300) == 128); /* full: the rest is dropped */
    CHECK(gs_ring_write_space(&r) == 0);
    CHECK(gs_ring_read_space(&r) == 128);
    CHECK(gs_ring_read(&r, out, 50, 30) == 30); /* never past the limit */
    CHECK(out[0] == 0.0f && out[29] == 29.0f);
    CHECK(gs_ring_read(&r, out, 50, UINT64_MAX) == 50);
    CHECK(out[0] == 30.0f && out[49] == 79.0f);
    /* Wrap-around through the zero-copy regions. */
    float *a, *b;
    size_t na, nb;
    CHECK(gs_ring_regions(&r, 70, &a, &na, &b, &nb) == 70);
    CHECK(na == 70 && nb == 0); /* write position wrapped to the start */
    for (size_t i = 0; i < na; i++)
        a[i] = 1000.0f + (float)i;
    gs_ring_commit(&r, 70);
    CHECK(gs_ring_written(&r) == 198);
    CHECK(gs_ring_read(&r, out, 300, UINT64_MAX) == 118);
    CHECK(out[0] == 80.0f && out[47] == 127.0f && out[48] == 1000.0f && out[117] == 1069.0f);
    CHECK(gs_ring_read(&r, out, 10, UINT64_MAX) == 0);
    CHECK(gs_ring_write(&r, buf, 100) == 100); /* slots 70..127 then 0..41 */
    CHECK(gs_ring_read(&r, out, 300, UINT64_MAX) == 100);
    CHECK(memcmp(out, buf, 100 * sizeof(float)) == 0);
    CHECK(gs_ring_regions(&r, 100, &a, &na, &b, &nb) == 100);
    CHECK(na == 86 && nb == 14 && a == r.data + 42 && b == r.data);
    gs_ring_reset(&r);
    CHECK(gs_ring_read_space(&r) == 0 && gs_ring_written(&r) == 0);
    gs_ring_destroy(&r);
}

/* One producer, one consumer, real threads: every sample arrives once, in
 * order, and the consumer never reads past a limit it was given. */
#define STRESS_TOTAL 3000000u
typedef struct stress {
    gs_ring ring;
    int errors;
    uint64_t received;
} stress;

static void *consumer(void *arg)
{
    stress *s = arg;
    float buf[777];
    uint32_t expect = 0;
    while (expect < STRESS_TOTAL) {
        size_t n = gs_ring_read(&s->ring, buf, sizeof buf / sizeof buf[0], UINT64_MAX);
        for (size_t i = 0; i < n; i++, expect++)
            if (buf[i] != (float)(expect % 1000003u))
                s->errors++;
    }
    s->received = expect;
    return NULL;
}

static void test_ring_threads(void)
{
    stress s;
    memset(&s, 0, sizeof s);
    CHECK(gs_ring_init(&s.ring, 4096) == 0);
    pthread_t t;
    pthread_create(&t, NULL, consumer, &s);
    uint32_t next = 0, step = 1;
    while (next < STRESS_TOTAL) {
        float *a, *b;
        size_t na, nb;
        size_t want = step % 1500 + 1;
        if (want > STRESS_TOTAL - next)
            want = STRESS_TOTAL - next;
        size_t n = gs_ring_regions(&s.ring, want, &a, &na, &b, &nb);
        for (size_t i = 0; i < na; i++)
            a[i] = (float)((next + i) % 1000003u);
        for (size_t i = 0; i < nb; i++)
            b[i] = (float)((next + na + i) % 1000003u);
        gs_ring_commit(&s.ring, n);
        next += (uint32_t)n;
        gs_test_lcg32_ansi(&step);
    }
    pthread_join(t, NULL);
    CHECK(s.errors == 0);
    CHECK(s.received == STRESS_TOTAL);
    gs_ring_destroy(&s.ring);
}

static void test_smoothed_verdict(void)
{
    gs_smoothed_verdict v;
    gs_smoothed_verdict_reset(&v, 3, -1, GS_NOT_MUSIC_THRESHOLD);
    CHECK(v.genre == -1 && v.confidence == 0.0f && !v.have);

    const float a[3] = {0.2f, 0.7f, 0.1f};
    const float b[3] = {0.6f, 0.1f, 0.3f};
    gs_smoothed_verdict_update(&v, a, 5, 0.5f); /* first verdict: taken as is */
    CHECK(v.genre == 1);
    CHECK_NEAR(v.confidence, 0.7, 1e-7);
    gs_smoothed_verdict_update(&v, b, 5, 0.5f); /* 0.4 0.4 0.2: first on ties */
    CHECK_NEAR(v.smoothed[0], 0.4, 1e-6);
    CHECK_NEAR(v.smoothed[1], 0.4, 1e-6);
    CHECK_NEAR(v.smoothed[2], 0.2, 1e-6);
    gs_smoothed_verdict_update(&v, b, 5, 0.0f); /* no smoothing: the new window */
    CHECK(v.genre == 0);
    CHECK_NEAR(v.confidence, 0.6, 1e-7);
    gs_smoothed_verdict_update(&v, a, 5, 7.0f); /* clamped to 0.99 */
    CHECK_NEAR(v.smoothed[0], 0.99 * 0.6 + 0.01 * 0.2, 1e-6);
    CHECK(v.genre == 0);
    gs_smoothed_verdict_update(&v, a, 5, NAN); /* NaN smoothing acts as 0 */
    CHECK(v.genre == 1);

    /* Silence resets at once, whatever the smoothing. */
    const float zero[3] = {0, 0, 0};
    gs_smoothed_verdict_update(&v, zero, 0, 0.9f);
    CHECK(v.genre == -1 && v.confidence == 0.0f && v.smoothed[1] == 0.0f && !v.have);
    gs_smoothed_verdict_update(&v, a, 3, 0.9f);
    CHECK(v.genre == 1);
    CHECK_NEAR(v.confidence, 0.7, 1e-7);           /* no blending with the silence */
    gs_smoothed_verdict_update(&v, zero, 4, 0.9f); /* patches but all-zero probabilities */
    CHECK(v.genre == -1);
    const float bad[3] = {NAN, 0.5f, 0.5f};
    gs_smoothed_verdict_update(&v, a, 3, 0.0f);
    gs_smoothed_verdict_update(&v, bad, 3, 0.0f);
    CHECK(v.genre == -1);

    gs_smoothed_verdict_reset(&v, 1000, -1, GS_NOT_MUSIC_THRESHOLD);
    CHECK(v.num_labels == GS_MAX_LABELS);

    /* With a not-music label (index 2): its smoothed probability at 0.5 or
     * more shows "none"; below, the best genre among the others, never the
     * not-music label itself. */
    gs_smoothed_verdict_reset(&v, 3, 2, GS_NOT_MUSIC_THRESHOLD);
    const float speech[3] = {0.3f, 0.1f, 0.6f};
    gs_smoothed_verdict_update(&v, speech, 5, 0.0f);
    CHECK(v.genre == -1 && v.confidence == 0.0f);
    CHECK_NEAR(v.not_music, 0.6, 1e-7);
    const float music[3] = {0.1f, 0.5f, 0.4f};
    gs_smoothed_verdict_update(&v, music, 5, 0.5f); /* smoothed 0.2 0.3 0.5 */
    CHECK(v.genre == -1);
    gs_smoothed_verdict_update(&v, music, 5, 0.5f); /* 0.15 0.4 0.45 */
    CHECK(v.genre == 1);
    CHECK_NEAR(v.confidence, 0.4, 1e-6);
    /* The model's own threshold (0.3) is the one applied, and it survives
     * the reset a silent window makes. */
    gs_smoothed_verdict_reset(&v, 3, 2, 0.3f);
    const float half_recognised[3] = {0.15f, 0.5f, 0.35f};
    gs_smoothed_verdict_update(&v, half_recognised, 5, 0.0f);
    CHECK(v.genre == -1);
    gs_smoothed_verdict_update(&v, half_recognised, 0, 0.0f);
    CHECK(v.not_music_min == 0.3f);
    gs_smoothed_verdict_update(&v, half_recognised, 5, 0.0f);
    CHECK(v.genre == -1);
    gs_smoothed_verdict_reset(&v, 3, 2, GS_NOT_MUSIC_THRESHOLD);
    gs_smoothed_verdict_update(&v, half_recognised, 5, 0.0f);
    CHECK(v.genre == 1);
    gs_smoothed_verdict_reset(&v, 3, 7, GS_NOT_MUSIC_THRESHOLD); /* out of range: no not-music label */
    CHECK(v.not_music_label == -1);
}

int main(void)
{
    test_ring_basic();
    test_ring_threads();
    test_smoothed_verdict();
    return gs_test_finish("test_plugin_logic");
}
