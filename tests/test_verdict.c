/* The verdict decision (genrescope/verdict.h): silence, genre, not music at
 * the 0.5 boundary, the not-music label never reported as a genre, and a
 * broken (non-finite) network output never becoming a genre. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "genrescope/verdict.h"

static void test_without_not_music_label(void)
{
    const float p[3] = {0.2f, 0.5f, 0.3f};
    gs_verdict v = gs_verdict_decide_labels(p, 3, -1, GS_NOT_MUSIC_THRESHOLD, 4);
    CHECK(v.kind == GS_VERDICT_GENRE && v.label == 1 && v.confidence == 0.5f && v.not_music == 0.0f);
    v = gs_verdict_decide_labels(p, 3, -1, GS_NOT_MUSIC_THRESHOLD, 0);
    CHECK(v.kind == GS_VERDICT_SILENT && v.label == -1 && v.confidence == 0.0f);
    v = gs_verdict_decide_labels(NULL, 3, -1, GS_NOT_MUSIC_THRESHOLD, 0);
    CHECK(v.kind == GS_VERDICT_SILENT);
    const float tie[3] = {0.4f, 0.4f, 0.2f};
    v = gs_verdict_decide_labels(tie, 3, -1, GS_NOT_MUSIC_THRESHOLD, 1);
    CHECK(v.label == 0); /* first on ties */
    /* An out-of-range not-music index means none. */
    v = gs_verdict_decide_labels(p, 3, 9, GS_NOT_MUSIC_THRESHOLD, 1);
    CHECK(v.kind == GS_VERDICT_GENRE && v.label == 1);
}

static void test_not_music(void)
{
    /* Label 0 is "not music". */
    const float speech[4] = {0.5f, 0.3f, 0.1f, 0.1f};
    gs_verdict v = gs_verdict_decide_labels(speech, 4, 0, GS_NOT_MUSIC_THRESHOLD, 3);
    CHECK(v.kind == GS_VERDICT_NOT_MUSIC && v.label == -1 && v.confidence == 0.0f && v.not_music == 0.5f);
    /* Just under one half: music, even though "not music" is the single
     * most probable label. */
    const float unsure[4] = {0.49f, 0.2f, 0.16f, 0.15f};
    v = gs_verdict_decide_labels(unsure, 4, 0, GS_NOT_MUSIC_THRESHOLD, 3);
    CHECK(v.kind == GS_VERDICT_GENRE && v.label == 1 && v.confidence == 0.2f);
    CHECK_NEAR(v.not_music, 0.49, 1e-7);
    /* The not-music label is never the genre, even with a last index. */
    const float last[3] = {0.3f, 0.25f, 0.45f};
    v = gs_verdict_decide_labels(last, 3, 2, GS_NOT_MUSIC_THRESHOLD, 1);
    CHECK(v.kind == GS_VERDICT_GENRE && v.label == 0);
    /* A model's own threshold: 0.2 makes the "unsure" vector not music,
     * though a genre is its most probable answer; one that is not a
     * probability falls back to the default. */
    const float half_recognised[4] = {0.25f, 0.6f, 0.1f, 0.05f};
    v = gs_verdict_decide_labels(half_recognised, 4, 0, 0.2f, 1);
    CHECK(v.kind == GS_VERDICT_NOT_MUSIC && v.label == -1 && v.not_music == 0.25f);
    v = gs_verdict_decide_labels(half_recognised, 4, 0, 0.26f, 1);
    CHECK(v.kind == GS_VERDICT_GENRE && v.label == 1);
    const float bad_thresholds[] = {0.0f, -0.1f, 1.5f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_thresholds / sizeof *bad_thresholds; i++) {
        v = gs_verdict_decide_labels(unsure, 4, 0, bad_thresholds[i], 3);
        CHECK(v.kind == GS_VERDICT_GENRE);
        v = gs_verdict_decide_labels(speech, 4, 0, bad_thresholds[i], 3);
        CHECK(v.kind == GS_VERDICT_NOT_MUSIC);
    }
    CHECK(!strcmp(gs_verdict_kind_name(GS_VERDICT_NOT_MUSIC), "not-music"));
    CHECK(!strcmp(gs_verdict_kind_name(GS_VERDICT_GENRE), "genre"));
    CHECK(!strcmp(gs_verdict_kind_name(GS_VERDICT_SILENT), "silent"));
}

static void test_non_finite(void)
{
    /* A NaN anywhere, even in a label that would lose, is a broken output. */
    const float nan_genre[3] = {NAN, 0.9f, 0.1f};
    gs_verdict v = gs_verdict_decide_labels(nan_genre, 3, -1, GS_NOT_MUSIC_THRESHOLD, 2);
    CHECK(v.kind == GS_VERDICT_INVALID && v.label == -1 && v.confidence == 0.0f);
    const float nan_not_music[3] = {0.9f, 0.1f, NAN};
    v = gs_verdict_decide_labels(nan_not_music, 3, 2, GS_NOT_MUSIC_THRESHOLD, 2);
    CHECK(v.kind == GS_VERDICT_INVALID && v.label == -1 && v.not_music == 0.0f);
    const float inf[2] = {INFINITY, 0.0f};
    v = gs_verdict_decide_labels(inf, 2, -1, GS_NOT_MUSIC_THRESHOLD, 1);
    CHECK(v.kind == GS_VERDICT_INVALID);
    /* A threshold on confidence can never pass. */
    CHECK(!(v.confidence >= 0.0f && v.kind == GS_VERDICT_GENRE));
}

/* softmax(log p / T) computed directly in double precision. */
static void reference_calibration(const float *p, int n, double t, double *out)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += out[i] = p[i] > 0 ? pow((double)p[i], 1.0 / t) : 0.0;
    for (int i = 0; i < n; i++)
        out[i] /= sum;
}

static void test_calibration(void)
{
    const float p[5] = {0.6f, 0.25f, 0.1f, 0.05f, 0.0f};
    const double temps[] = {2.0, 0.5, 1.7, 100.0, 0.01};
    for (size_t k = 0; k < sizeof temps / sizeof temps[0]; k++) {
        float q[5];
        double ref[5], sum = 0;
        memcpy(q, p, sizeof q);
        gs_calibrate_probabilities(q, 5, (float)temps[k]);
        reference_calibration(p, 5, temps[k], ref);
        for (int i = 0; i < 5; i++) {
            CHECK_MSG(isfinite(q[i]) && fabs(q[i] - ref[i]) < 1e-6, "T=%g i=%d: %g vs %g", temps[k], i, q[i], ref[i]);
            sum += q[i];
        }
        CHECK_NEAR(sum, 1.0, 1e-6);
        CHECK(q[4] == 0.0f);                 /* impossible stays impossible */
        CHECK(q[0] >= q[1] && q[1] >= q[2]); /* ranking kept */
    }
    /* T > 1 softens, T < 1 sharpens. */
    float soft[5], sharp[5];
    memcpy(soft, p, sizeof soft);
    memcpy(sharp, p, sizeof sharp);
    gs_calibrate_probabilities(soft, 5, 2.0f);
    gs_calibrate_probabilities(sharp, 5, 0.5f);
    CHECK(soft[0] < p[0] && sharp[0] > p[0]);
    /* No-ops: T = 1, bad temperatures, all zeros, non-finite input. */
    const float bad_t[] = {1.0f, 0.0f, -2.0f, NAN, INFINITY};
    for (size_t k = 0; k < sizeof bad_t / sizeof bad_t[0]; k++) {
        float q[5];
        memcpy(q, p, sizeof q);
        gs_calibrate_probabilities(q, 5, bad_t[k]);
        CHECK(!memcmp(q, p, sizeof q));
    }
    float zero[3] = {0, 0, 0};
    gs_calibrate_probabilities(zero, 3, 2.0f);
    CHECK(zero[0] == 0.0f && zero[1] == 0.0f && zero[2] == 0.0f);
    float nan_in[3] = {0.5f, NAN, 0.5f};
    gs_calibrate_probabilities(nan_in, 3, 2.0f);
    CHECK(nan_in[0] == 0.5f && isnan(nan_in[1]));
}

int main(void)
{
    test_calibration();
    test_without_not_music_label();
    test_not_music();
    test_non_finite();
    return gs_test_finish("test_verdict");
}
