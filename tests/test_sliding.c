/* core sliding window (sliding.h): the incremental verdict equals the
 * from-scratch one (gs_classifier_classify_stream_window) on the same audio
 * at many update points: before the first frame, while the window fills,
 * long after its rings have wrapped, across silence gaps longer than a
 * patch, for windows shorter than one patch, after a reset; and it runs the
 * network on each regular patch once, not on the whole window every time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "genrescope.h"
#include "support/tmpdir.h"
#include "test_model_fixture.h"

#define RATE 8000 /* the fixture's front-end: 256-point FFT, hop 128, 32-frame patches every 16 */

/* Tones that change every half second over noise, with stretches of digital
 * silence (longer than a patch) and of near silence, and a few NaNs. */
static float *make_stream(size_t n, unsigned seed)
{
    float *x = malloc(sizeof(float) * n);
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        size_t seg = i / (RATE / 2);
        double f = 150.0 + 97.0 * (double)((seg * 7 + seed) % 11);
        double a = 0.05 + 0.4 * (double)((seg * 3) % 5) / 4.0;
        x[i] = (float)(a * sin(2 * M_PI * f * t) + 0.05 * ((double)rand() / RAND_MAX - 0.5));
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = i / RATE;
        if (s % 9 == 4) /* 1 s of silence, about two patches */
            x[i] = 0.0f;
        else if (s % 13 == 7)
            x[i] *= 1e-5f; /* below the silence threshold */
    }
    for (size_t i = 3; i < n; i += 50021)
        x[i] = NAN;
    return x;
}

typedef struct stats {
    int compared, silent_windows, short_windows, repeated, wrapped;
    double maxdiff;
} stats;

/* The incremental verdict against the from-scratch one for the same
 * samples (the first n of stream) and window. */
static void compare(gs_sliding *sl, gs_classifier *cls, const gs_model *model, const float *stream, size_t n,
                    size_t window, stats *s)
{
    const int nl = gs_model_num_labels(model);
    float got[GS_MAX_LABELS], want[GS_MAX_LABELS];
    int got_n = -1, want_n = -2;
    gs_error err = {0};
    CHECK_MSG(gs_sliding_verdict(sl, window, got, &got_n, &err) == GS_OK, "%s", err.message);
    CHECK_MSG(gs_classifier_classify_stream_window(cls, stream, n, window, want, &want_n, &err) == GS_OK, "%s",
              err.message);
    double d = 0.0;
    for (int i = 0; i < nl; i++)
        d = fmax(d, fabs((double)got[i] - want[i]));
    CHECK_MSG(got_n == want_n, "%zu samples, window %zu: %d patches, from scratch %d", n, window, got_n, want_n);
    CHECK_MSG(d <= 1e-6, "%zu samples, window %zu: probabilities differ by %g", n, window, d);
    gs_verdict a = gs_verdict_decide(model, got, got_n), b = gs_verdict_decide(model, want, want_n);
    CHECK_MSG(a.kind == b.kind && a.label == b.label, "%zu samples, window %zu: verdict differs", n, window);
    s->compared++;
    s->maxdiff = fmax(s->maxdiff, d);
    s->silent_windows += want_n == 0;
    s->short_windows += window < 32 * 128;
    const gs_frontend_params *fp = gs_model_frontend(model);
    s->wrapped += n > 3 * (size_t)(fp->window_seconds * RATE);
}

/* Pushes the stream in uneven blocks (1 sample .. several seconds) and
 * compares after each block for several window lengths. */
static void test_matches_from_scratch(const gs_model *model)
{
    gs_error err = {0};
    const gs_frontend_params *fp = gs_model_frontend(model);
    const size_t max_window = (size_t)ceil(fp->window_seconds * fp->sample_rate);
    gs_sliding *sl = gs_sliding_new(model, NULL, max_window, &err);
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(sl && cls, "%s", err.message);
    if (!sl || !cls)
        goto done;
    const size_t n = 40 * RATE; /* 8 windows: every ring wraps several times */
    float *x = make_stream(n, 5);
    /* Max window; one frame longer than a patch plus a bit (no regular
     * patch off the grid); shorter than a patch; a single sample. */
    const size_t windows[] = {max_window, 3 * RATE / 2, 33 * 128 + 256 + 60, 2500, 1};
    static const size_t blocks[] = {1, 100, 255, 1024, 4096, 777, 12000, 3 * RATE, 333, 64};
    stats s = {0};
    size_t pos = 0;
    for (int b = 0; pos < n; b++) {
        size_t step = blocks[b % (sizeof blocks / sizeof blocks[0])];
        if (step > n - pos)
            step = n - pos;
        CHECK(gs_sliding_push(sl, x + pos, step, &err) == GS_OK);
        pos += step;
        CHECK(gs_sliding_samples(sl) == pos);
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
            compare(sl, cls, model, x, pos, windows[w], &s);
    }
    printf("compared %d verdicts (%d silent, %d on short windows, %d after wrapping), max |dp| %.2g\n", s.compared,
           s.silent_windows, s.short_windows, s.wrapped, s.maxdiff);
    CHECK(s.silent_windows > 0 && s.wrapped > 0 && s.short_windows > 0);

    /* Incremental: each regular patch once, plus at most one end patch per
     * verdict; a from-scratch verdict runs the whole window's plan. */
    long long regular = gs_patch_plan_regular(fp, (long long)(1 + (n - 256) / 128));
    unsigned long long verdicts = (unsigned long long)s.compared;
    CHECK_MSG(gs_sliding_patches_forwarded(sl) <= (unsigned long long)regular + verdicts,
              "%llu forward passes for %lld regular patches and %llu verdicts", gs_sliding_patches_forwarded(sl),
              regular, verdicts);

    /* After a reset the stream starts again: the grid is anchored at the
     * reset, and nothing of the old stream is left in any window. */
    gs_sliding_reset(sl);
    CHECK(gs_sliding_samples(sl) == 0);
    compare(sl, cls, model, x, 0, max_window, &s); /* no audio: one zero-padded frame */
    size_t off = 12345, m = 0;
    for (size_t step = 50; m < 12 * RATE; step = step * 3 + 7) {
        if (step > 12 * RATE - m)
            step = 12 * RATE - m;
        CHECK(gs_sliding_push(sl, x + off + m, step, &err) == GS_OK);
        m += step;
        compare(sl, cls, model, x + off, m, max_window, &s);
        compare(sl, cls, model, x + off, m, 2500, &s);
    }
    /* Out-of-range windows are refused, not clamped. */
    float probs[GS_MAX_LABELS];
    CHECK(gs_sliding_verdict(sl, max_window + 1, probs, NULL, &err) == GS_ERR_INVALID);
    CHECK(gs_sliding_verdict(sl, 0, probs, NULL, &err) == GS_ERR_INVALID);
    free(x);
done:
    gs_classifier_free(cls);
    gs_sliding_free(sl);
}

/* A stream shorter than one FFT frame, then than one patch: the zero-padded
 * frame and the repeated patch, as the whole-window path does. */
static void test_short_streams(const gs_model *model)
{
    gs_error err = {0};
    gs_sliding *sl = gs_sliding_new(model, NULL, 5 * RATE, &err);
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(sl && cls, "%s", err.message);
    if (!sl || !cls)
        goto done;
    float *x = make_stream(RATE, 9);
    stats s = {0};
    size_t pos = 0;
    static const size_t steps[] = {0, 10, 90, 155, 1, 300, 700, 1500, 1000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        CHECK(gs_sliding_push(sl, x + pos, steps[i], &err) == GS_OK);
        pos += steps[i];
        compare(sl, cls, model, x, pos, 5 * RATE, &s);
        compare(sl, cls, model, x, pos, 1000, &s);
    }
    CHECK(pos < 32 * 128 + 256); /* all of it shorter than a patch */
    free(x);
done:
    gs_classifier_free(cls);
    gs_sliding_free(sl);
}

static void test_bad_arguments(const gs_model *model)
{
    gs_error err = {0};
    CHECK(gs_sliding_new(model, NULL, 0, &err) == NULL && err.code == GS_ERR_INVALID);
    CHECK(gs_sliding_new(model, NULL, 5 * RATE + 1, &err) == NULL && err.code == GS_ERR_INVALID);
    CHECK(gs_sliding_new(NULL, NULL, 100, &err) == NULL && err.code == GS_ERR_INVALID);
    gs_sliding *sl = gs_sliding_new(model, NULL, 100, &err);
    CHECK(sl != NULL);
    if (sl)
        CHECK(gs_sliding_push(sl, NULL, 5, &err) == GS_ERR_INVALID);
    gs_sliding_free(sl);
}

int main(void)
{
    char dir[600], path[700];
    if (gs_test_tmpdir(dir, sizeof dir, "test_sliding") != 0) {
        CHECK_MSG(0, "cannot make a temporary directory");
        return gs_test_finish("test_sliding");
    }
    snprintf(path, sizeof path, "%s/fixture.safetensors", dir);
    if (fixture_write_model(path, 16) == 0) {
        gs_error err;
        gs_model *model = gs_model_load(path, &err);
        CHECK_MSG(model != NULL, "%s", err.message);
        if (model) {
            test_matches_from_scratch(model);
            test_short_streams(model);
            test_bad_arguments(model);
        }
        gs_model_free(model);
    } else {
        CHECK_MSG(0, "cannot write the fixture model %s", path);
    }
    gs_test_rmtree(dir);
    return gs_test_finish("test_sliding");
}
