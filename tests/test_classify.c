/* core/classify: streaming and whole-window paths agree, windows and track
 * verdicts aggregate patches as documented, and the edge cases (silence,
 * short input, NaN/Inf, level changes, bad files) give defined results. */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "genrescope.h"
#include "support/audio_file.h"
#include "support/tmpdir.h"
#include "test_model_fixture.h"

static char tmpdir[512];

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

/* A signal with structure the fixture net reacts to: tones plus noise
 * bursts (noise 1) or tones alone (noise 0: the same content at any rate). */
static float *make_music_noise(size_t n, int rate, unsigned seed, float gain, double noise_amount)
{
    float *x = malloc(sizeof(float) * n);
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double tone = sin(2 * M_PI * (220 + 110 * (i / rate % 4)) * t) * 0.4 + sin(2 * M_PI * 1250 * t) * 0.1;
        double noise = ((double)rand() / RAND_MAX - 0.5) * ((i / (rate / 4)) % 2 ? 0.5 : 0.05);
        x[i] = gain * (float)(tone + noise_amount * noise);
    }
    return x;
}

static float *make_music(size_t n, int rate, unsigned seed, float gain)
{
    return make_music_noise(n, rate, seed, gain, 1.0);
}

static double max_abs_diff(const float *a, const float *b, int n)
{
    double d = 0;
    for (int i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void stream_in_blocks(gs_classifier *cls, const float *x, size_t n, unsigned seed, gs_track_result *r)
{
    gs_error err;
    srand(seed);
    gs_classifier_begin(cls);
    size_t pos = 0;
    while (pos < n) {
        size_t block = (size_t)(rand() % 3000);
        if (block > n - pos)
            block = n - pos;
        CHECK(gs_classifier_push(cls, x + pos, block, &err) == GS_OK);
        pos += block;
    }
    CHECK(gs_classifier_finish(cls, r, &err) == GS_OK);
}

static void test_stream_equals_window(gs_classifier *cls)
{
    const size_t n = 8000 * 4; /* 4 s: within one 5 s window */
    float *x = make_music(n, 8000, 1, 1.0f);
    gs_track_result whole, blocks;
    stream_in_blocks(cls, x, n, 7, &blocks);
    gs_error err;
    gs_classifier_begin(cls);
    CHECK(gs_classifier_push(cls, x, n, &err) == GS_OK);
    CHECK(gs_classifier_finish(cls, &whole, &err) == GS_OK);
    float probs[3];
    int patches = 0;
    CHECK(gs_classifier_classify_window(cls, x, n, probs, &patches, &err) == GS_OK);

    /* 4 s at hop 128 -> 1 + (32000-256)/128 = 249 frames -> (249-32)/16+1 = 14
     * patches, the last ending at frame 240; the 9 frames left are more than
     * half a hop, so + 1 patch aligned to the end (217..248) */
    CHECK_MSG(whole.num_patches == 15, "patches %d", whole.num_patches);
    CHECK(patches == whole.num_patches);
    CHECK(blocks.num_patches == whole.num_patches);
    CHECK_MSG(max_abs_diff(whole.probabilities, blocks.probabilities, 3) < 1e-6, "block sizes changed the verdict");
    CHECK_MSG(max_abs_diff(whole.probabilities, probs, 3) < 1e-5, "window path differs from streaming");
    CHECK_MSG(max_abs_diff(whole.embedding, blocks.embedding, whole.embedding_size) < 1e-5, "embedding differs");
    double sum = 0, norm = 0;
    for (int i = 0; i < 3; i++)
        sum += whole.probabilities[i];
    for (int i = 0; i < whole.embedding_size; i++)
        norm += (double)whole.embedding[i] * whole.embedding[i];
    CHECK_NEAR(sum, 1.0, 1e-5);
    CHECK_NEAR(norm, 1.0, 1e-5);
    CHECK(whole.top_label == gs_argmax(whole.probabilities, 3));
    CHECK(whole.confidence == whole.probabilities[whole.top_label]);
    CHECK(whole.padded == 0);
    CHECK(whole.num_windows == 1);
    CHECK_NEAR(whole.duration_seconds, 4.0, 1e-9);
    gs_track_result_free(&whole);
    gs_track_result_free(&blocks);
    free(x);
}

static void test_windows_aggregate(gs_classifier *cls)
{
    const size_t n = 8000 * 12; /* 12 s -> windows [0,5) [5,10) [10,15) */
    float *x = make_music(n, 8000, 2, 1.0f);
    gs_track_result r;
    stream_in_blocks(cls, x, n, 3, &r);
    CHECK_MSG(r.num_windows == 3, "windows %d", r.num_windows);
    int total = 0;
    double weighted[3] = {0, 0, 0};
    for (int w = 0; w < r.num_windows; w++) {
        CHECK_NEAR(r.windows[w].start_seconds, 5.0 * w, 1e-9);
        /* the last window ends with the audio */
        CHECK_NEAR(r.windows[w].end_seconds, w == 2 ? 12.0 : 5.0 * (w + 1), 1e-9);
        CHECK(r.windows[w].top_label == gs_argmax(r.windows[w].probabilities, 3));
        total += r.windows[w].num_patches;
        for (int i = 0; i < 3; i++)
            weighted[i] += (double)r.windows[w].probabilities[i] * r.windows[w].num_patches;
    }
    CHECK(total == r.num_patches);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(weighted[i] / total, r.probabilities[i], 1e-5);
    /* A patch belongs to the window its first frame falls in: 5 s = 312.5
     * frames, so window 0 holds starts 0..304 -> 20 patches. */
    CHECK_MSG(r.windows[0].num_patches == 20, "window 0 has %d patches", r.windows[0].num_patches);
    gs_track_result_free(&r);
    free(x);
}

/* The tail after the last regular patch is heard: 85376 samples (10.672 s)
 * give 666 frames; the last regular patch starts at frame 624, in window 1
 * (which ends at 10 s = frame 625) and ends at 656, leaving 10 frames (more
 * than half a hop); the only patch of window 2 is the one aligned to the
 * end, starting at frame 634. */
/* Each window's embedding is its own patches' mean (unit norm, or zero
 * when the window has none), the same however the audio is pushed; with
 * one window it is the track's, and windows of different audio are each
 * closest to that audio analysed alone: what lets the tagger compare the
 * parts of a DJ mix. */
static double dot(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void test_window_embeddings(gs_classifier *cls)
{
    const int rate = 8000;
    /* Windows of 5 s: tones, silence, silence, noisy tones. A patch belongs
     * to the window it starts in and may reach into the next, so only
     * window 1 is wholly silent. */
    const size_t part = (size_t)rate * 5, n = 4 * part;
    float *tones = make_music_noise(part, rate, 21, 1.0f, 0.0);
    float *noisy = make_music_noise(part, rate, 22, 1.0f, 1.0);
    float *x = calloc(n, sizeof(float));
    memcpy(x, tones, part * sizeof(float));
    memcpy(x + 3 * part, noisy, part * sizeof(float));
    gs_track_result r, blocks, alone_tones, alone_noisy;
    gs_error err;
    gs_classifier_begin(cls);
    CHECK(gs_classifier_push(cls, x, n, &err) == GS_OK);
    CHECK(gs_classifier_finish(cls, &r, &err) == GS_OK);
    stream_in_blocks(cls, x, n, 23, &blocks);
    stream_in_blocks(cls, tones, part, 24, &alone_tones);
    stream_in_blocks(cls, noisy, part, 25, &alone_noisy);
    const int d = r.embedding_size;
    CHECK(d > 0);
    CHECK_MSG(r.num_windows == 4 && blocks.num_windows == 4, "windows %d", r.num_windows);
    if (r.num_windows == 4 && blocks.num_windows == 4 && d > 0) {
        for (int w = 0; w < 4; w++) {
            CHECK(r.windows[w].embedding != NULL);
            CHECK_MSG(max_abs_diff(r.windows[w].embedding, blocks.windows[w].embedding, d) < 1e-6,
                      "window %d embedding depends on block sizes", w);
        }
        CHECK(r.windows[1].num_patches == 0);
        for (int i = 0; i < d; i++)
            CHECK(r.windows[1].embedding[i] == 0.0f);
        CHECK_NEAR(dot(r.windows[0].embedding, r.windows[0].embedding, d), 1.0, 1e-5);
        CHECK_NEAR(dot(r.windows[3].embedding, r.windows[3].embedding, d), 1.0, 1e-5);
        double a0 = dot(r.windows[0].embedding, alone_tones.embedding, d);
        double b0 = dot(r.windows[0].embedding, alone_noisy.embedding, d);
        double a2 = dot(r.windows[3].embedding, alone_tones.embedding, d);
        double b2 = dot(r.windows[3].embedding, alone_noisy.embedding, d);
        CHECK_MSG(a0 > b0 && b2 > a2, "parts not told apart: w0 %.4f/%.4f, w2 %.4f/%.4f", a0, b0, a2, b2);
    }
    /* One window: the window's embedding is the track's, bit for bit. */
    CHECK(alone_tones.num_windows == 1);
    if (alone_tones.num_windows == 1 && d > 0)
        CHECK(memcmp(alone_tones.windows[0].embedding, alone_tones.embedding, sizeof(float) * (size_t)d) == 0);
    gs_track_result_free(&r);
    gs_track_result_free(&blocks);
    gs_track_result_free(&alone_tones);
    gs_track_result_free(&alone_noisy);
    free(x);
    free(tones);
    free(noisy);
}

static void test_tail_window(gs_classifier *cls)
{
    const size_t n = 85376;
    float *x = make_music(n, 8000, 12, 1.0f);
    gs_track_result r;
    stream_in_blocks(cls, x, n, 4, &r);
    CHECK_MSG(r.num_windows == 3, "windows %d", r.num_windows);
    if (r.num_windows == 3) {
        CHECK(r.windows[2].num_patches == 1 && r.windows[2].top_label >= 0);
        CHECK_NEAR(r.windows[2].end_seconds, 10.672, 1e-9);
    }
    gs_track_result_free(&r);
    free(x);
}

static void test_silence(gs_classifier *cls)
{
    const size_t n = 8000 * 3;
    float *x = calloc(n, sizeof(float));
    gs_track_result r;
    stream_in_blocks(cls, x, n, 5, &r);
    CHECK(r.top_label == -1);
    CHECK(r.confidence == 0.0f);
    CHECK(r.num_patches == 0);
    CHECK(r.num_silent_patches > 0);
    for (int i = 0; i < 3; i++)
        CHECK(r.probabilities[i] == 0.0f);
    CHECK(r.num_windows == 1 && r.windows[0].top_label == -1);
    float probs[3] = {1, 1, 1};
    int patches = -1;
    gs_error err;
    CHECK(gs_classifier_classify_window(cls, x, n, probs, &patches, &err) == GS_OK);
    CHECK(patches == 0 && probs[0] == 0.0f && probs[1] == 0.0f && probs[2] == 0.0f);
    gs_track_result_free(&r);
    free(x);
}

static void test_short_inputs(gs_classifier *cls)
{
    size_t lengths[] = {0, 100, 256, 2000, 4223};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        size_t n = lengths[k];
        float *x = make_music(n ? n : 1, 8000, 9, 1.0f);
        gs_track_result r;
        gs_error err;
        gs_classifier_begin(cls);
        CHECK(gs_classifier_push(cls, x, n, &err) == GS_OK);
        CHECK(gs_classifier_finish(cls, &r, &err) == GS_OK);
        CHECK_MSG(r.padded == 1, "length %zu not marked padded", n);
        if (n > 0) {
            CHECK_MSG(r.num_patches == 1 && r.top_label >= 0, "length %zu: %d patches", n, r.num_patches);
            float probs[3];
            int patches;
            CHECK(gs_classifier_classify_window(cls, x, n, probs, &patches, &err) == GS_OK);
            CHECK(patches == 1);
            CHECK_MSG(max_abs_diff(probs, r.probabilities, 3) < 1e-5, "length %zu: window path differs", n);
            /* padding repeats the audio, so a short clip stays level-invariant */
            for (size_t i = 0; i < n; i++)
                x[i] *= 10.0f;
            CHECK(gs_classifier_classify_window(cls, x, n, probs, &patches, &err) == GS_OK);
            CHECK_MSG(max_abs_diff(probs, r.probabilities, 3) < 2e-3,
                      "length %zu: +20 dB moved the padded verdict by %g", n, max_abs_diff(probs, r.probabilities, 3));
        } else {
            CHECK(r.top_label == -1 && r.num_patches == 0); /* no audio at all: silence */
        }
        gs_track_result_free(&r);
        free(x);
    }
}

static void test_nonfinite_and_level(gs_classifier *cls)
{
    const size_t n = 8000 * 3;
    float *x = make_music(n, 8000, 4, 1.0f);
    float *loud = make_music(n, 8000, 4, 10.0f); /* +20 dB (float, unclipped) */
    float *quiet = make_music(n, 8000, 4, 0.1f); /* -20 dB */
    gs_track_result ref, l, q, bad;
    stream_in_blocks(cls, x, n, 1, &ref);
    stream_in_blocks(cls, loud, n, 2, &l);
    stream_in_blocks(cls, quiet, n, 3, &q);
    /* Mean-centred log-mel is exactly gain invariant but for the log_offset
     * floor: where every band is far above it (+20 dB) the verdict must not
     * move; at -20 dB the quietest bands approach the floor, so only the
     * top genre must stay. */
    CHECK_MSG(max_abs_diff(ref.probabilities, l.probabilities, 3) < 2e-3, "+20 dB changed probabilities by %g",
              max_abs_diff(ref.probabilities, l.probabilities, 3));
    CHECK(ref.top_label == l.top_label);
    CHECK(ref.top_label == q.top_label);
    x[100] = NAN;
    x[5000] = INFINITY;
    x[9000] = -INFINITY;
    stream_in_blocks(cls, x, n, 3, &bad);
    CHECK(bad.nonfinite_samples == 3);
    for (int i = 0; i < 3; i++)
        CHECK(isfinite(bad.probabilities[i]));
    CHECK(bad.top_label >= 0);
    gs_track_result_free(&ref);
    gs_track_result_free(&l);
    gs_track_result_free(&q);
    gs_track_result_free(&bad);
    free(x);
    free(loud);
    free(quiet);
}

static void test_file(gs_classifier *cls)
{
    char path[600];
    path_in_tmp(path, sizeof path, "classify_music.wav");
    const size_t n = 8000 * 7;
    float *x = make_music(n, 8000, 6, 0.8f);
    int written = gs_test_write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, x, (int64_t)n);
    CHECK(written == 0);
    if (written != 0)
        return;
    gs_track_result from_file, from_samples;
    gs_error err;
    CHECK(gs_classify_file(cls, path, &from_file, &err) == GS_OK);
    stream_in_blocks(cls, x, n, 11, &from_samples);
    CHECK(from_file.num_patches == from_samples.num_patches);
    CHECK(from_file.num_windows == 2);
    CHECK_MSG(max_abs_diff(from_file.probabilities, from_samples.probabilities, 3) < 1e-5, "file path differs");
    CHECK(from_file.audio_digest != 0 && from_samples.audio_digest == 0);

    /* The audio digest is the decoded audio's: the same samples with a title
     * tag in another container share it; other samples do not. */
    const struct {
        const char *name;
        int format;
        float gain;
        int same;
    } twins[] = {
        {"classify_twin.w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT, 1.0f, 1},
        {"classify_quieter.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5f, 0},
    };
    for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++) {
        char twin[600];
        path_in_tmp(twin, sizeof twin, twins[k].name);
        SF_INFO ti = {.samplerate = 8000, .channels = 1, .format = twins[k].format};
        SNDFILE *tf = sf_open(twin, SFM_WRITE, &ti);
        CHECK(tf != NULL);
        if (!tf)
            continue;
        sf_set_string(tf, SF_STR_TITLE, "a title changes the bytes, not the audio");
        for (size_t i = 0; i < n; i++) {
            float v = x[i] * twins[k].gain;
            sf_writef_float(tf, &v, 1);
        }
        sf_close(tf);
        gs_track_result t;
        CHECK(gs_classify_file(cls, twin, &t, &err) == GS_OK);
        CHECK_MSG((t.audio_digest == from_file.audio_digest) == twins[k].same, "%s: digest %llx vs %llx", twins[k].name,
                  (unsigned long long)t.audio_digest, (unsigned long long)from_file.audio_digest);
        gs_track_result_free(&t);
    }
    gs_track_result_free(&from_file);
    gs_track_result_free(&from_samples);

    gs_track_result r;
    path_in_tmp(path, sizeof path, "does-not-exist.flac");
    gs_status st = gs_classify_file(cls, path, &r, &err);
    CHECK(st != GS_OK);
    CHECK_MSG(strstr(err.message, "does-not-exist.flac") != NULL, "message lacks the path: %s", err.message);
    CHECK(r.probabilities == NULL && r.top_label == -1);
    free(x);
}

static int write_music_file(const char *path, int rate, int channels, double seconds, int format)
{
    size_t n = (size_t)(seconds * rate);
    float *mono = make_music_noise(n, rate, 21, 0.5f, 0.0);
    float *frames = malloc(sizeof(float) * n * (size_t)channels);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++)
            frames[i * (size_t)channels + (size_t)c] = mono[i];
    int rc = gs_test_write_audio(path, format, rate, channels, frames, (int64_t)n);
    free(mono);
    free(frames);
    return rc;
}

/* End to end through the decoder: odd rates and channel counts give a verdict
 * like the plain mono file; broken files give a clear error, never a crash. */
static void test_file_inputs(gs_classifier *cls)
{
    char path[600], ref_path[600];
    gs_error err;
    gs_track_result ref, r;
    path_in_tmp(ref_path, sizeof ref_path, "inputs_ref.wav");
    CHECK(write_music_file(ref_path, 8000, 1, 3.0, SF_FORMAT_WAV | SF_FORMAT_FLOAT) == 0);
    CHECK(gs_classify_file(cls, ref_path, &ref, &err) == GS_OK);
    struct {
        int rate, channels;
    } variants[] = {{8000, 8}, {44100, 2}, {192000, 1}, {22050, 5}};
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        path_in_tmp(path, sizeof path, "inputs_variant.flac");
        CHECK(write_music_file(path, variants[k].rate, variants[k].channels, 3.0, SF_FORMAT_FLAC | SF_FORMAT_PCM_24) ==
              0);
        gs_status st = gs_classify_file(cls, path, &r, &err);
        CHECK_MSG(st == GS_OK, "%d Hz x %d: %s", variants[k].rate, variants[k].channels, err.message);
        if (st != GS_OK)
            continue;
        CHECK_NEAR(r.duration_seconds, 3.0, 0.01);
        CHECK_MSG(r.top_label == ref.top_label && max_abs_diff(r.probabilities, ref.probabilities, 3) < 0.05,
                  "%d Hz x %d changed the verdict", variants[k].rate, variants[k].channels);
        gs_track_result_free(&r);
    }
    gs_track_result_free(&ref);

    /* zero-length, truncated header, random bytes with an audio extension */
    static const char *const names[] = {"empty.wav", "truncated.wav", "noise_bytes.flac"};
    for (int k = 0; k < 3; k++) {
        path_in_tmp(path, sizeof path, names[k]);
        FILE *f = fopen(path, "wb");
        if (k == 1)
            fwrite("RIFF\x24\x00\x00\x00WAVEfmt ", 1, 16, f);
        for (int i = 0; k == 2 && i < 5000; i++)
            fputc((i * 7919 + 13) & 0xff, f);
        fclose(f);
        gs_status st = gs_classify_file(cls, path, &r, &err);
        CHECK_MSG(st != GS_OK, "%s was accepted", names[k]);
        CHECK_MSG(strstr(err.message, names[k]) != NULL, "message lacks the path: %s", err.message);
        CHECK(r.probabilities == NULL);
    }
}

/* finish leaves the classifier ready: a second track without begin gives
 * the same verdict as a fresh classifier, not one mixed with the first. */
static void test_reuse_after_finish(gs_classifier *cls)
{
    const size_t n = 8000 * 2;
    float *a = make_music(n, 8000, 31, 1.0f), *b = make_music_noise(n, 8000, 32, 0.5f, 0.0);
    gs_track_result first, second, fresh;
    gs_error err;
    stream_in_blocks(cls, a, n, 1, &first);
    CHECK(gs_classifier_push(cls, b, n, &err) == GS_OK); /* no begin on purpose */
    CHECK(gs_classifier_finish(cls, &second, &err) == GS_OK);
    stream_in_blocks(cls, b, n, 2, &fresh);
    CHECK(second.num_patches == fresh.num_patches);
    CHECK(second.num_windows == fresh.num_windows);
    CHECK(max_abs_diff(second.probabilities, fresh.probabilities, 3) < 1e-6);
    gs_track_result_free(&first);
    gs_track_result_free(&second);
    gs_track_result_free(&fresh);
    free(a);
    free(b);
}

/* A model that carries its own filterbank must carry it in the right shape. */
static void test_filterbank_tensor(void)
{
    char path[600];
    gs_error err;
    path_in_tmp(path, sizeof path, "classify_fb_good.safetensors");
    CHECK(fixture_write_model_ex(path, 16, 16, 129) == 0);
    gs_model *model = gs_model_load(path, &err);
    gs_classifier *cls = model ? gs_classifier_new(model, NULL, &err) : NULL;
    CHECK_MSG(cls != NULL, "%s", err.message);
    gs_classifier_free(cls);
    gs_model_free(model);

    path_in_tmp(path, sizeof path, "classify_fb_bad.safetensors");
    CHECK(fixture_write_model_ex(path, 16, 16, 100) == 0);
    model = gs_model_load(path, &err);
    CHECK(model != NULL);
    cls = model ? gs_classifier_new(model, NULL, &err) : NULL;
    CHECK(cls == NULL);
    CHECK(err.code == GS_ERR_MODEL && strstr(err.message, "mel_filterbank") != NULL);
    gs_classifier_free(cls);
    gs_model_free(model);
}

static void test_mismatched_model(void)
{
    char path[600];
    path_in_tmp(path, sizeof path, "classify_mismatch.safetensors");
    CHECK(fixture_write_model(path, 20) == 0);
    gs_error err;
    gs_model *model = gs_model_load(path, &err);
    CHECK(model != NULL);
    if (!model)
        return;
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK(cls == NULL);
    CHECK(err.code == GS_ERR_MODEL);
    CHECK_MSG(strstr(err.message, "does not match") != NULL, "%s", err.message);
    gs_model_free(model);
}

int main(void)
{
    if (gs_test_tmpdir(tmpdir, sizeof tmpdir, "test_classify") != 0)
        return EXIT_FAILURE;
    char path[600];
    path_in_tmp(path, sizeof path, "classify_fixture.safetensors");
    if (fixture_write_model(path, 16) != 0)
        return gs_test_finish("test_classify");
    gs_error err;
    gs_model *model = gs_model_load(path, &err);
    CHECK_MSG(model != NULL, "%s", err.message);
    if (!model)
        return gs_test_finish("test_classify");
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(cls != NULL, "%s", err.message);
    if (cls) {
        test_stream_equals_window(cls);
        test_windows_aggregate(cls);
        test_tail_window(cls);
        test_window_embeddings(cls);
        test_silence(cls);
        test_short_inputs(cls);
        test_nonfinite_and_level(cls);
        test_file(cls);
        test_file_inputs(cls);
        test_reuse_after_finish(cls);
    }
    gs_classifier_free(cls);
    gs_model_free(model);
    test_mismatched_model();
    test_filterbank_tensor();
    if (!gs_test_failures)
        gs_test_rmtree(tmpdir);
    return gs_test_finish("test_classify");
}
