/* core patch plan (classify.h): which patches a clip has (regular, tail,
 * the repeated patch of a short clip), how a patch is filled, which patches
 * are silent, and that the classifier's verdict is exactly the mean over
 * that plan — the definition the trainer's crops and validation share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "genrescope.h"
#include "support/tmpdir.h"
#include "test_model_fixture.h"

/* The fixture front-end's plan: 32-frame patches every 16 frames. */
static void test_plan_enumeration(void)
{
    gs_frontend_params p;
    fixture_frontend(&p);
    /* n frames -> count, regular, tail start, crop starts */
    static const long long cases[][5] = {
        {0, 0, 0, -1, 0},   {1, 1, 0, -1, 1},   {20, 1, 0, -1, 1},       {31, 1, 0, -1, 1},
        {32, 1, 1, -1, 1},  {39, 1, 1, -1, 8},  {40, 2, 1, 8, 9},        {47, 2, 1, 15, 16},
        {48, 2, 2, -1, 17}, {56, 3, 2, 24, 25}, {249, 15, 14, 217, 218},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long n = cases[i][0];
        CHECK_MSG(gs_patch_plan_count(&p, n) == cases[i][1], "%lld frames: %lld patches", n,
                  gs_patch_plan_count(&p, n));
        CHECK_MSG(gs_patch_plan_regular(&p, n) == cases[i][2], "%lld frames: %lld regular", n,
                  gs_patch_plan_regular(&p, n));
        CHECK_MSG(gs_patch_tail_start(&p, n) == cases[i][3], "%lld frames: tail %lld", n, gs_patch_tail_start(&p, n));
        CHECK_MSG(gs_patch_crop_starts(&p, n) == cases[i][4], "%lld frames: %lld crop starts", n,
                  gs_patch_crop_starts(&p, n));
        /* Regular patches every hop from 0, then the tail (or the repeated
         * patch at 0 of a short clip); every patch fits the clip. */
        long long count = gs_patch_plan_count(&p, n), regular = gs_patch_plan_regular(&p, n);
        for (long long k = 0; k < count; k++) {
            long long s = gs_patch_plan_start(&p, n, k);
            long long want = k < regular ? k * 16 : regular ? cases[i][3] : 0;
            CHECK_MSG(s == want, "%lld frames, patch %lld: start %lld, want %lld", n, k, s, want);
            CHECK(s >= 0 && (n < 32 ? s == 0 : s + 32 <= n));
        }
        CHECK(gs_patch_plan_start(&p, n, count) == -1 && gs_patch_plan_start(&p, n, -1) == -1);
    }
}

/* The sliding-window plan on the fixture's grid (32-frame patches every 16
 * frames): hand-worked windows, then for every stream length and window
 * length: the patches lie inside the window, regular ones on the stream's
 * grid (so an incremental analysis can keep them) and all of the grid's
 * patches that fit; a window holding the whole stream is the clip plan. */
static void test_window_plan(void)
{
    gs_frontend_params p;
    fixture_frontend(&p);
    /* frames, window frames -> count, starts (stream frames) */
    static const long long cases[][6] = {
        {0, 50, 0, -1, -1, -1},   {20, 50, 1, 0, -1, -1},   {56, 100, 3, 0, 16, 24},
        {100, 50, 1, 64, -1, -1}, {110, 50, 2, 64, 78, -1}, {100, 34, 1, 68, -1, -1},
        {100, 20, 1, 80, -1, -1}, {100, 0, 1, 99, -1, -1},  {120, 58, 3, 64, 80, 88},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long f = cases[i][0], w = cases[i][1], count = gs_window_plan_count(&p, f, w);
        CHECK_MSG(count == cases[i][2], "%lld frames, window %lld: %lld patches", f, w, count);
        for (long long k = 0; k < count && k < 3; k++)
            CHECK_MSG(gs_window_plan_start(&p, f, w, k) == cases[i][3 + k], "%lld/%lld patch %lld: start %lld", f, w, k,
                      gs_window_plan_start(&p, f, w, k));
    }
    int inside = 1, grid = 1, complete = 1, clip = 1, some = 1;
    for (long long f = 0; f <= 300; f++) {
        for (long long w = 1; w <= 120; w++) {
            long long first = gs_window_plan_first(f, w), lo;
            long long count = gs_window_plan_count(&p, f, w), regular = gs_window_plan_regular(&p, f, w, &lo);
            some &= f == 0 || count >= 1;
            for (long long k = 0; k < count; k++) {
                long long s = gs_window_plan_start(&p, f, w, k), len = f - s < 32 ? f - s : 32;
                inside &= s >= first && s + len <= f && len >= 1 && (f - first < 32 || len == 32);
                if (k < regular)
                    grid &= s == (lo + k) * 16 && s % 16 == 0;
            }
            long long fit = 0;
            for (long long s = 0; s + 32 <= f; s += 16)
                fit += s >= first;
            complete &= f - first < 32 || fit == regular;
            if (first == 0) {
                clip &= count == gs_patch_plan_count(&p, f);
                for (long long k = 0; k < count; k++)
                    clip &= gs_window_plan_start(&p, f, w, k) == gs_patch_plan_start(&p, f, k);
            }
        }
    }
    CHECK_MSG(inside, "a window patch reaches outside its window");
    CHECK_MSG(grid, "a regular window patch is off the stream's grid");
    CHECK_MSG(complete, "a grid patch inside the window is missing");
    CHECK_MSG(clip, "a window holding the whole stream is not the clip plan");
    CHECK_MSG(some, "a window with frames has no patch");
    CHECK(gs_window_plan_start(&p, 100, 50, 1) == -1 && gs_window_plan_start(&p, 100, 50, -1) == -1);
}

/* A clip shorter than a patch is repeated cyclically; a full one is cut
 * as is; mean normalisation centres the patch. */
static void test_fill(void)
{
    enum { NM = 3, NF = 12, HAVE = 5 };
    float frames[20 * NM], out[NM * NF];
    for (int i = 0; i < 20 * NM; i++)
        frames[i] = (float)(i * 0.37 - 4.0);
    gs_patch_from_frames(frames, HAVE, NM, NF, GS_PATCH_NORMALIZE_NONE, out);
    int repeated = 1;
    for (int t = 0; t < NF; t++)
        for (int m = 0; m < NM; m++)
            repeated &= out[m * NF + t] == frames[(t % HAVE) * NM + m];
    CHECK_MSG(repeated, "short clip not repeated frame by frame");
    gs_patch_from_frames(frames + 2 * NM, 18, NM, NF, GS_PATCH_NORMALIZE_NONE, out);
    int cut = 1;
    for (int t = 0; t < NF; t++)
        for (int m = 0; m < NM; m++)
            cut &= out[m * NF + t] == frames[(2 + t) * NM + m];
    CHECK_MSG(cut, "full patch not cut as is");
    gs_patch_from_frames(frames, HAVE, NM, NF, GS_PATCH_NORMALIZE_MEAN, out);
    double sum = 0.0;
    for (int i = 0; i < NM * NF; i++)
        sum += out[i];
    CHECK_NEAR(sum / (NM * NF), 0.0, 1e-5);
}

/* Silent = peak frame RMS below GS_SILENCE_RMS, over the frames the patch
 * holds (only the available ones when it repeats them). */
static void test_silence_rule(void)
{
    float rms[40];
    for (int i = 0; i < 40; i++)
        rms[i] = 0.5f * GS_SILENCE_RMS;
    CHECK(gs_patch_is_silent(rms, 40, 32));
    CHECK(gs_patch_is_silent(rms, 3, 32));
    rms[31] = GS_SILENCE_RMS; /* the threshold itself is sound */
    CHECK(!gs_patch_is_silent(rms, 40, 32));
    CHECK(gs_patch_peak_rms(rms, 40, 32) == GS_SILENCE_RMS);
    CHECK(gs_patch_is_silent(rms + 32, 8, 32)); /* a patch of the 8 frames after it */
    rms[31] = 0.0f;
    rms[32] = 1.0f; /* just outside the patch */
    CHECK(gs_patch_is_silent(rms, 40, 32));
    CHECK(!gs_patch_is_silent(rms + 1, 39, 32));
    rms[2] = 0.01f; /* in a short clip's frames: the repeated patch is sound */
    CHECK(!gs_patch_is_silent(rms, 3, 32));
    CHECK(gs_patch_is_silent(rms, 2, 32));
}

static float *make_signal(size_t n, int rate, unsigned seed)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        x[i] = (float)(0.4 * sin(2 * M_PI * (220 + 110 * (i / rate % 4)) * t) + 0.1 * sin(2 * M_PI * 1250 * t) +
                       0.2 * ((double)rand() / RAND_MAX - 0.5));
    }
    return x;
}

/* What a trainer does with a spectrogram and its frame RMS: walk the plan,
 * skip silent patches, fill, forward, average. */
static int plan_walk(const gs_model *model, const float *x, size_t n, float *probs, int *silent)
{
    const gs_frontend_params *p = gs_model_frontend(model);
    gs_error err;
    gs_mel *mel = gs_mel_new(p, NULL, &err);
    gs_net *net = gs_net_from_model(model, &err);
    gs_net_ctx *ctx = net ? gs_net_ctx_new(net, 1, &err) : NULL;
    /* Audio shorter than one FFT frame is completed with zeros to one. */
    size_t len = n < (size_t)p->n_fft ? (size_t)p->n_fft : n;
    float *samples = calloc(len, sizeof *samples);
    memcpy(samples, x, n * sizeof *x);
    size_t frames = gs_mel_num_frames(mel, len);
    float *spec = malloc(frames * p->n_mels * sizeof *spec), *rms = malloc(frames * sizeof *rms);
    float *patch = malloc((size_t)p->n_mels * p->patch_frames * sizeof *patch);
    CHECK(gs_mel_compute_with_rms(mel, samples, len, spec, rms, &err) == GS_OK);
    int L = gs_model_num_labels(model), used = 0;
    double sum[GS_MAX_LABELS] = {0};
    *silent = 0;
    for (long long k = 0; k < gs_patch_plan_count(p, (long long)frames); k++) {
        long long s = gs_patch_plan_start(p, (long long)frames, k);
        if (gs_patch_is_silent(rms + s, (long long)frames - s, p->patch_frames)) {
            (*silent)++;
            continue;
        }
        gs_patch_from_frames(spec + s * p->n_mels, (long long)frames - s, p->n_mels, p->patch_frames,
                             p->patch_normalize, patch);
        float out[GS_MAX_LABELS];
        CHECK(gs_net_forward(ctx, patch, 1, out, NULL, &err) == GS_OK);
        for (int c = 0; c < L; c++)
            sum[c] += out[c];
        used++;
    }
    for (int c = 0; c < L; c++)
        probs[c] = used ? (float)(sum[c] / used) : 0.0f;
    free(patch);
    free(spec);
    free(rms);
    free(samples);
    gs_net_ctx_free(ctx);
    gs_net_free(net);
    gs_mel_free(mel);
    return used;
}

/* The classifier's verdict is the plan's: same patches (count, silent
 * count) and the same mean probabilities, on a short clip (repeated), a
 * clip shorter than one FFT frame, a clip with a silent stretch longer than
 * a patch, and one with a tail patch. */
static void test_classifier_follows_plan(const gs_model *model)
{
    gs_error err;
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(cls != NULL, "%s", err.message);
    if (!cls)
        return;
    const size_t lengths[] = {2000, 100, 32000, 85376};
    for (size_t c = 0; c < sizeof lengths / sizeof lengths[0]; c++) {
        size_t n = lengths[c];
        float *x = make_signal(n, 8000, 3 + (unsigned)c);
        if (n == 32000) /* 1 s sound, 2 s digital silence, 1 s sound */
            memset(x + 8000, 0, 16000 * sizeof *x);
        float want[GS_MAX_LABELS];
        int silent = 0;
        int used = plan_walk(model, x, n, want, &silent);
        gs_track_result r;
        gs_classifier_begin(cls);
        CHECK(gs_classifier_push(cls, x, n, &err) == GS_OK);
        CHECK(gs_classifier_finish(cls, &r, &err) == GS_OK);
        CHECK_MSG(r.num_patches == used && r.num_silent_patches == silent,
                  "%zu samples: classifier %d patches + %d silent, plan %d + %d", n, r.num_patches,
                  r.num_silent_patches, used, silent);
        CHECK(r.padded == (n < 4224)); /* fewer than 32 frames */
        double d = 0.0;
        for (int i = 0; i < r.num_labels; i++)
            d = fmax(d, fabs((double)r.probabilities[i] - want[i]));
        CHECK_MSG(d < 1e-6, "%zu samples: classifier differs from the plan by %g", n, d);
        if (n <= 40000) { /* the whole-window path too (5 s windows) */
            float probs[GS_MAX_LABELS];
            int patches = -1;
            CHECK(gs_classifier_classify_window(cls, x, n, probs, &patches, &err) == GS_OK);
            CHECK(patches == used);
            d = 0.0;
            for (int i = 0; i < r.num_labels; i++)
                d = fmax(d, fabs((double)probs[i] - want[i]));
            CHECK_MSG(d < 1e-6, "%zu samples: window path differs from the plan by %g", n, d);
        }
        if (n == 32000)
            CHECK(silent > 0 && used > 0);
        gs_track_result_free(&r);
        free(x);
    }
    gs_classifier_free(cls);
}

int main(void)
{
    test_plan_enumeration();
    test_window_plan();
    test_fill();
    test_silence_rule();
    char dir[512], path[600];
    if (gs_test_tmpdir(dir, sizeof dir, "test_patch_plan") != 0)
        return EXIT_FAILURE;
    snprintf(path, sizeof path, "%s/patch_plan_fixture.safetensors", dir);
    if (fixture_write_model(path, 16) == 0) {
        gs_error err;
        gs_model *model = gs_model_load(path, &err);
        CHECK_MSG(model != NULL, "%s", err.message);
        if (model)
            test_classifier_follows_plan(model);
        gs_model_free(model);
    } else {
        CHECK_MSG(0, "cannot write the fixture model %s", path);
    }
    if (!gs_test_failures)
        gs_test_rmtree(dir);
    return gs_test_finish("test_patch_plan");
}
