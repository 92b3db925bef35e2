/* The LV2 plugin in a lilv host: passthrough is bit-exact, output controls
 * stay in range, silence reports no genre, the worker verdict equals the
 * core's verdict on the same audio, and the bundle's failure modes (no
 * model, unsupported rate) degrade to passthrough with a log message. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lilv/lilv.h>
#include <lv2/presets/presets.h>

#include "check.h"
#include "genre_names.h"
#include "genrescope/verdict.h"
#include "genrescope.h"
#include "host.h"
#include "synth.h"
#include "support/tmpdir.h"

#define URI_MONO   GS_PLUGIN_URI_BASE "#mono"
#define URI_STEREO GS_PLUGIN_URI_BASE "#stereo"
#define MAX_BLOCK  8192u

static gs_model *model;
static int num_labels;

static gs_host *open_host(const char *bundle, const char *uri, double rate)
{
    char err[512];
    gs_host_options o = {bundle, uri, rate, 1, 0, 0};
    gs_host *h = gs_host_new(&o, err, sizeof err);
    CHECK_MSG(h != NULL, "%s", err);
    return h;
}

static float prob(const gs_host *h, int i);

/* The plugin reached a verdict (a genre, or "not music"): its probabilities
 * form a distribution. Silence and "no data yet" leave them all at 0. The
 * synthetic loops these tests play are not GTZAN music, and the model may
 * well call them not music; what is tested here is the plugin. */
static int has_verdict(const gs_host *h)
{
    float sum = 0;
    for (int i = 0; i < num_labels; i++)
        sum += prob(h, i);
    return sum > 0.99f && sum < 1.01f;
}

static float prob(const gs_host *h, int i)
{
    char sym[96];
    char lower[GS_MAX_LABEL_LENGTH + 1];
    const char *label = gs_model_label(model, i);
    size_t k = 0;
    for (; label[k] && k < GS_MAX_LABEL_LENGTH; k++) {
        char c = label[k];
        lower[k] = (c >= 'A' && c <= 'Z')                        ? (char)(c - 'A' + 'a')
            : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c
                                                                 : '_';
    }
    lower[k] = 0;
    snprintf(sym, sizeof sym, "prob_%s", lower);
    return gs_host_get(h, sym);
}

/* Every output control within its declared range; genre an integer; the
 * probabilities a (sub-)distribution; a genre shown is the most probable
 * genre with its probability as the confidence and "not music" below the
 * model's not-music threshold; "none" with probabilities means not music
 * (at least that threshold). */
static int outputs_ok(const gs_host *h)
{
    int ok = 1;
    for (int p = 0; p < gs_host_num_ports(h); p++) {
        if (!gs_host_is_output_control(h, p))
            continue;
        float mn, mx, def;
        gs_host_range(h, p, &mn, &mx, &def);
        float v = gs_host_get(h, gs_host_symbol(h, p));
        if (!(v >= mn && v <= mx)) {
            fprintf(stderr, "port %s = %g outside [%g, %g]\n", gs_host_symbol(h, p), v, mn, mx);
            ok = 0;
        }
    }
    float genre = gs_host_get(h, "genre");
    if (genre != floorf(genre))
        ok = 0;
    const int nm = gs_model_not_music_label(model);
    float sum = 0, best = 0;
    for (int i = 0; i < num_labels; i++) {
        sum += prob(h, i);
        if (i != nm && prob(h, i) > best)
            best = prob(h, i);
    }
    float not_music = nm >= 0 ? prob(h, nm) : 0.0f;
    const float nm_min = gs_model_not_music_min_probability(model);
    if (sum > 1.001f)
        ok = 0;
    if (genre >= 0 && (fabsf(best - gs_host_get(h, "confidence")) > 1e-6f || not_music >= nm_min))
        ok = 0;
    if (genre < 0 && (gs_host_get(h, "confidence") != 0.0f || (sum > 0.0f && not_music < nm_min)))
        ok = 0;
    if (gs_host_get(h, "latency") != 0.0f)
        ok = 0;
    return ok;
}

/* Feeds n frames in random block sizes; checks bit-exact passthrough and
 * output ranges after every block. Returns the number of blocks run. */
static int feed(gs_host *h, float *const *src, size_t n, uint32_t *rng, int in_place, size_t last_block_end)
{
    int ch = gs_host_channels(h);
    static float work[2][MAX_BLOCK], out[2][MAX_BLOCK];
    int blocks = 0, exact = 1, ranges = 1;
    (void)last_block_end;
    for (size_t pos = 0; pos < n || blocks == 0;) {
        uint32_t b = gs_synth_block_size(rng, MAX_BLOCK);
        if (b > n - pos)
            b = (uint32_t)(n - pos);
        const float *in[2];
        float *o[2];
        for (int c = 0; c < ch; c++) {
            memcpy(work[c], src[c] + pos, b * sizeof(float));
            in[c] = work[c];
            o[c] = in_place ? work[c] : out[c];
        }
        gs_host_run(h, in, o, b);
        for (int c = 0; c < ch; c++)
            if (memcmp(o[c], src[c] + pos, b * sizeof(float)) != 0)
                exact = 0;
        if (!outputs_ok(h))
            ranges = 0;
        pos += b;
        blocks++;
        if (pos >= n)
            break;
    }
    CHECK_MSG(exact, "passthrough not bit-exact");
    CHECK_MSG(ranges, "output controls out of range");
    return blocks;
}

static void run_empty(gs_host *h)
{
    float dummy[2][1];
    const float *in[2] = {dummy[0], dummy[1]};
    float *out[2] = {dummy[0], dummy[1]};
    gs_host_run(h, in, out, 0);
}

static float **alloc_audio(int ch, size_t n)
{
    float **a = calloc(2, sizeof *a);
    for (int c = 0; c < ch; c++)
        a[c] = calloc(n ? n : 1, sizeof(float));
    return a;
}

static void free_audio(float **a)
{
    free(a[0]);
    free(a[1]);
    free(a);
}

static void test_metadata(void)
{
    LilvWorld *w = lilv_world_new();
    LilvNode *b = lilv_new_file_uri(w, NULL, GS_PLUGIN_BUNDLE_DIR "/");
    lilv_world_load_bundle(w, b);
    const LilvPlugins *all = lilv_world_get_all_plugins(w);
    CHECK(lilv_plugins_size(all) == 2);
    LilvNode *pset = lilv_new_uri(w, LV2_PRESETS__Preset);
    LilvNode *label_pred = lilv_new_uri(w, "http://www.w3.org/2000/01/rdf-schema#label");
    const char *uris[2] = {URI_MONO, URI_STEREO};
    for (int v = 0; v < 2; v++) {
        LilvNode *u = lilv_new_uri(w, uris[v]);
        const LilvPlugin *p = lilv_plugins_get_by_uri(all, u);
        CHECK_MSG(p != NULL, "%s missing", uris[v]);
        if (p) {
            /* audio, 8 single controls, one probability per label */
            CHECK(lilv_plugin_get_num_ports(p) == (uint32_t)(2 * (v + 1) + 8 + num_labels));
            LilvNode *sym = lilv_new_string(w, "genre");
            const LilvPort *g = lilv_plugin_get_port_by_symbol(p, sym);
            CHECK(g != NULL);
            LilvScalePoints *sp = g ? lilv_port_get_scale_points(p, g) : NULL;
            /* "none" and one per genre: the not-music label is never a genre. */
            const int genres = num_labels - (gs_model_not_music_label(model) >= 0);
            CHECK(sp && lilv_scale_points_size(sp) == (unsigned)genres + 1);
            int matched = 0;
            LILV_FOREACH(scale_points, i, sp)
            {
                const LilvScalePoint *pt = lilv_scale_points_get(sp, i);
                int idx = (int)lilv_node_as_float(lilv_scale_point_get_value(pt));
                const char *name = lilv_node_as_string(lilv_scale_point_get_label(pt));
                /* The tagger's display name, as written into tags. */
                char display[64] = "";
                if (idx >= 0 && idx < num_labels)
                    gs_genre_display_name(gs_model_label(model, idx), display, sizeof display);
                if (idx == -1 ? strcmp(name, "none") == 0
                              : (gs_model_is_genre_label(model, idx) && strcmp(name, display) == 0))
                    matched++;
            }
            CHECK(matched == genres + 1);
            lilv_scale_points_free(sp);
            lilv_node_free(sym);
            CHECK(lilv_plugin_has_latency(p));
            /* Presets load and each names a value for all three inputs. */
            LilvNodes *presets = lilv_plugin_get_related(p, pset);
            CHECK(lilv_nodes_size(presets) == 3);
            LILV_FOREACH(nodes, i, presets)
            {
                const LilvNode *pr = lilv_nodes_get(presets, i);
                lilv_world_load_resource(w, pr);
                LilvNodes *labels = lilv_world_find_nodes(w, pr, label_pred, NULL);
                CHECK(labels && lilv_nodes_size(labels) == 1);
                lilv_nodes_free(labels);
            }
            lilv_nodes_free(presets);
        }
        lilv_node_free(u);
    }
    lilv_node_free(pset);
    lilv_node_free(label_pred);
    lilv_node_free(b);
    lilv_world_free(w);
}

/* Awkward input: NaN, +-Inf, denormals, huge values mixed into music. */
static void poison(float *x, size_t n, uint32_t seed)
{
    uint32_t st = seed;
    for (size_t i = 0; i < n; i += 1 + gs_synth_rand(&st) % 3000) {
        switch (gs_synth_rand(&st) % 5) {
        case 0: x[i] = NAN; break;
        case 1: x[i] = INFINITY; break;
        case 2: x[i] = -INFINITY; break;
        case 3: x[i] = 1e-42f; break;
        default: x[i] = 3e38f; break;
        }
    }
}

static void test_passthrough(const char *uri, double rate, int in_place)
{
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, uri, rate);
    if (!h)
        return;
    int ch = gs_host_channels(h);
    size_t n = (size_t)(4.0 * rate);
    float **a = alloc_audio(ch, n);
    gs_synth_music(a[0], ch == 2 ? a[1] : NULL, n, rate, 7);
    for (int c = 0; c < ch; c++)
        poison(a[c], n, 99u + (uint32_t)c);
    gs_host_set(h, "window", 3.0f);
    gs_host_set(h, "update", 0.5f);
    gs_host_activate(h);
    uint32_t rng = 12345u + (uint32_t)rate;
    int blocks = feed(h, a, n, &rng, in_place, 0);
    CHECK(blocks > 1);
    CHECK_NEAR(gs_host_get(h, "fill"), 1.0, 0.0);
    /* The poison is sanitised for analysis: a verdict is still reached. */
    CHECK(has_verdict(h));
    CHECK(gs_host_log_errors(h) == 0);
    gs_host_deactivate(h);
    gs_host_free(h);
    free_audio(a);
}

static void test_silence_and_nan(void)
{
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_STEREO, 48000);
    if (!h)
        return;
    size_t n = 4 * 48000;
    float **a = alloc_audio(2, n);
    gs_host_set(h, "window", 3.0f);
    gs_host_set(h, "update", 0.5f);
    gs_host_activate(h);
    uint32_t rng = 5;
    feed(h, a, n, &rng, 0, 0);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "confidence") == 0.0f);
    CHECK(gs_host_get(h, "fill") == 1.0f);
    CHECK(gs_host_responses(h) > 0);

    /* Only NaN and Inf: passed through unchanged, analysed as silence. */
    for (size_t i = 0; i < n; i++) {
        a[0][i] = (i % 2) ? NAN : INFINITY;
        a[1][i] = (i % 3) ? -INFINITY : NAN;
    }
    feed(h, a, n, &rng, 0, 0);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "confidence") == 0.0f);
    gs_host_free(h);
    free_audio(a);
}

/* Music gives a verdict; once the window holds only silence it goes away;
 * deactivate/activate starts afresh. */
static void test_music_then_silence(void)
{
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_MONO, 44100);
    if (!h)
        return;
    size_t n = 4 * 44100;
    float **a = alloc_audio(1, n);
    gs_synth_music(a[0], NULL, n, 44100, 3);
    gs_host_set(h, "window", 3.0f);
    gs_host_set(h, "update", 0.5f);
    gs_host_set(h, "smoothing", 0.0f);
    gs_host_activate(h);
    uint32_t rng = 77;
    feed(h, a, n, &rng, 1, 0);
    float genre = gs_host_get(h, "genre");
    CHECK(genre >= -1 && genre < num_labels);
    CHECK(has_verdict(h));
    CHECK(genre < 0 || gs_host_get(h, "confidence") >= 1.0f / (float)num_labels);

    memset(a[0], 0, n * sizeof(float));
    feed(h, a, n, &rng, 1, 0);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "confidence") == 0.0f);
    for (int i = 0; i < num_labels; i++)
        CHECK(prob(h, i) == 0.0f);

    gs_host_deactivate(h);
    gs_host_activate(h);
    run_empty(h);
    CHECK(gs_host_get(h, "fill") == 0.0f);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    gs_synth_music(a[0], NULL, n, 44100, 4);
    feed(h, a, n, &rng, 0, 0);
    CHECK(has_verdict(h));
    gs_host_free(h);
    free_audio(a);
}

/* Rates across the supported range (22050 skips the resampler), hosts that
 * run work() inside schedule_work(), and repeated instantiation. */
static void test_rates(void)
{
    static const double rates[] = {22050, 88200, 96000, 192000};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        for (int sync = 0; sync < 2; sync++) {
            char err[512];
            gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, URI_STEREO, rates[r], 1, sync, 0};
            gs_host *h = gs_host_new(&o, err, sizeof err);
            CHECK_MSG(h != NULL, "%s", err);
            if (!h)
                continue;
            size_t n = (size_t)(3.5 * rates[r]);
            float **a = alloc_audio(2, n);
            gs_synth_music(a[0], a[1], n, rates[r], 11);
            gs_host_set(h, "window", 3.0f);
            gs_host_set(h, "update", 1.0f);
            gs_host_activate(h);
            uint32_t rng = 9 + (uint32_t)r;
            feed(h, a, n, &rng, sync, 0);
            CHECK_MSG(has_verdict(h), "no verdict at %g Hz", rates[r]);
            CHECK(gs_host_log_errors(h) == 0);
            gs_host_deactivate(h);
            gs_host_free(h);
            free_audio(a);
        }
    }
}

static void test_unsupported_rate(void)
{
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_MONO, 8000);
    if (!h)
        return;
    CHECK(gs_host_log_errors(h) >= 1);
    CHECK(strstr(gs_host_log(h), "sample rate") != NULL);
    size_t n = 8000 * 4;
    float **a = alloc_audio(1, n);
    gs_synth_music(a[0], NULL, n, 8000, 1);
    gs_host_activate(h);
    uint32_t rng = 3;
    feed(h, a, n, &rng, 0, 0);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "fill") == 0.0f);
    CHECK(gs_host_requests(h) == 0);
    gs_host_free(h);
    free_audio(a);
}

static int count_substrings(const char *s, const char *sub)
{
    int n = 0;
    for (const char *q = strstr(s, sub); q; q = strstr(q + 1, sub))
        n++;
    return n;
}

/* A worker that falls behind: while the host holds the work requests, the
 * ring takes what it can (at least GS_RING_SECONDS, 8 s) and every later
 * sample is counted on the "dropped" output, exactly; the log says so once,
 * however often it happens; the audio passes through unchanged all along
 * (feed() checks); and once the worker runs again it catches up and the
 * count stops growing. */
static void test_dropped(void)
{
    const double rate = 48000;
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_STEREO, rate);
    if (!h)
        return;
    size_t n = (size_t)(12.0 * rate), m = (size_t)(3.0 * rate);
    float **a = alloc_audio(2, n);
    gs_synth_music(a[0], a[1], n, rate, 5);
    gs_host_set(h, "window", 3.0f);
    gs_host_set(h, "update", 0.5f);
    gs_host_activate(h);
    uint32_t rng = 404;

    gs_host_hold_work(h, 1);
    feed(h, a, (size_t)(8.0 * rate), &rng, 0, 0);
    CHECK_MSG(gs_host_get(h, "dropped") == 0.0f, "dropped %g within 8 s", gs_host_get(h, "dropped"));
    feed(h, a, n - (size_t)(8.0 * rate), &rng, 0, 0);
    float d1 = gs_host_get(h, "dropped");
    size_t kept = n - (size_t)d1; /* what the ring holds */
    CHECK_MSG(d1 > 0 && kept >= (size_t)(8.0 * rate), "dropped %g of %zu", d1, n);
    feed(h, a, m, &rng, 0, 0);
    CHECK_MSG(gs_host_get(h, "dropped") == d1 + (float)m, "dropped %g, expected %g", gs_host_get(h, "dropped"),
              d1 + (float)m);
    CHECK(strstr(gs_host_log(h), "fell behind") == NULL); /* the worker has not run */

    /* Released: the first blocks still meet a full ring until the worker
     * has drained it; after that, nothing more is dropped. */
    gs_host_hold_work(h, 0);
    feed(h, a, (size_t)rate, &rng, 0, 0);
    float d2 = gs_host_get(h, "dropped");
    CHECK(d2 >= d1 + (float)m);
    feed(h, a, n, &rng, 0, 0);
    CHECK_MSG(gs_host_get(h, "dropped") == d2, "dropped %g after catching up at %g", gs_host_get(h, "dropped"), d2);
    CHECK(has_verdict(h));
    CHECK_MSG(count_substrings(gs_host_log(h), "fell behind") == 1, "log: %s", gs_host_log(h));
    CHECK(gs_host_log_errors(h) == 0); /* a warning, not an error */

    /* Again: counted on, not logged again. */
    gs_host_hold_work(h, 1);
    feed(h, a, n, &rng, 0, 0);
    feed(h, a, m, &rng, 0, 0);
    gs_host_hold_work(h, 0);
    feed(h, a, m, &rng, 0, 0);
    CHECK(gs_host_get(h, "dropped") > d2 + (float)m);
    CHECK(count_substrings(gs_host_log(h), "fell behind") == 1);

    /* activate() starts a new count. */
    gs_host_deactivate(h);
    gs_host_activate(h);
    run_empty(h);
    CHECK(gs_host_get(h, "dropped") == 0.0f);
    gs_host_free(h);
    free_audio(a);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok;
}

/* A bundle whose model is missing or corrupt: the plugin still loads,
 * passes audio through, reports no genre and says why in the log. */
static void test_bad_model(int corrupt)
{
    char scratch[1024], dir[1100], path[1200], src[1200];
    CHECK(gs_test_tmpdir(scratch, sizeof scratch, "badmodel") == 0);
    snprintf(dir, sizeof dir, "%s/%s.lv2", scratch, corrupt ? "corrupt" : "nomodel");
    CHECK(mkdir(dir, 0755) == 0);
    static const char *files[] = {"manifest.ttl", "genrescope.ttl", "presets.ttl", "genrescope.so",
                                  "model.safetensors"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(src, sizeof src, "%s/%s", GS_PLUGIN_BUNDLE_DIR, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK(copy_file(src, path));
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    if (corrupt) {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            fputs("\x10\0\0\0\0\0\0\0{not json", f);
            fclose(f);
        }
    }
    gs_host *h = open_host(dir, URI_STEREO, 48000);
    if (!h)
        goto cleanup;
    CHECK(gs_host_log_errors(h) == 1);
    CHECK_MSG(strstr(gs_host_log(h), "cannot load the model") != NULL, "log: %s", gs_host_log(h));
    size_t n = 48000 * 4;
    float **a = alloc_audio(2, n);
    gs_synth_music(a[0], a[1], n, 48000, 2);
    gs_host_set(h, "window", 3.0f);
    gs_host_activate(h);
    uint32_t rng = 21;
    feed(h, a, n, &rng, 0, 0);
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "confidence") == 0.0f);
    gs_host_free(h);
    free_audio(a);
cleanup:
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    CHECK(rmdir(dir) == 0 && rmdir(scratch) == 0);
}

/* Resamples mono host-rate audio to the model rate the way the worker does
 * (gs_resampler, no flush: the plugin never sees the end of the stream):
 * in blocks of up to 4096 samples that also end where the worker drained
 * the ring (every `segment` samples; 0: never), since how many samples the
 * resampler has given out at the end depends on the blocks it was fed. */
static float *resample(const float *x, size_t n, double rate, int model_rate, size_t *n_out, int flush, size_t segment)
{
    gs_error err = {0};
    gs_resampler *rs = gs_resampler_new(rate, model_rate, 4096, &err);
    size_t cap = (size_t)((double)n * model_rate / rate) + 65536;
    float *out = calloc(cap, sizeof(float));
    size_t m = 0;
    for (size_t pos = 0, b; pos < n; pos += b) {
        b = n - pos < 4096 ? n - pos : 4096;
        if (segment && (pos / segment + 1) * segment - pos < b)
            b = (pos / segment + 1) * segment - pos;
        long k = gs_resampler_process(rs, x + pos, b, out + m, cap - m, &err);
        CHECK(k >= 0);
        m += k > 0 ? (size_t)k : 0;
    }
    while (flush) {
        long k = gs_resampler_process(rs, NULL, 0, out + m, cap - m, &err);
        CHECK(k >= 0);
        if (k <= 0)
            break;
        m += (size_t)k;
    }
    gs_resampler_free(rs);
    *n_out = m;
    return out;
}

/* n frames (three update intervals) of audio at a host rate: the plugin's
 * verdict at the end equals the core's on the same audio. */
static void check_verdict(gs_host *h, const char *uri, double rate, float **a, size_t n, float update)
{
    int ch = gs_host_channels(h);
    gs_host_set(h, "window", 30.0f);
    gs_host_set(h, "update", update); /* verdicts at 1/3, 2/3 and exactly the end */
    gs_host_set(h, "smoothing", 0.0f);
    gs_host_activate(h);
    uint32_t rng = 4242u + (uint32_t)rate;
    feed(h, a, n, &rng, 0, 0);
    run_empty(h); /* the last response lands after the last block */
    CHECK(gs_host_get(h, "fill") >= (float)(n / rate / 30.0) - 1e-6f);
    float plugin_probs[GS_MAX_LABELS];
    for (int i = 0; i < num_labels; i++)
        plugin_probs[i] = prob(h, i);
    int plugin_genre = (int)gs_host_get(h, "genre");

    float *mono = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        mono[i] = ch == 2 ? 0.5f * (a[0][i] + a[1][i]) : a[0][i];
    const gs_frontend_params *fp = gs_model_frontend(model);
    gs_error err = {0};
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(cls != NULL, "%s", err.message);

    /* Same samples through the core's whole-window call: identical result. */
    size_t m;
    float *rs = resample(mono, n, rate, fp->sample_rate, &m, 0, (size_t)llround(update * rate));
    size_t cap = (size_t)ceil((double)fp->window_seconds * fp->sample_rate);
    size_t use = m < cap ? m : cap;
    float ref[GS_MAX_LABELS];
    int patches = 0;
    CHECK(gs_classifier_classify_window(cls, rs + (m - use), use, ref, &patches, &err) == GS_OK);
    float maxdiff = 0;
    for (int i = 0; i < num_labels; i++)
        maxdiff = fmaxf(maxdiff, fabsf(ref[i] - plugin_probs[i]));
    CHECK_MSG(maxdiff <= 1e-6f, "plugin vs classify_window: max |dp| = %g", maxdiff);
    gs_verdict expected = gs_verdict_decide(model, ref, patches);
    CHECK(plugin_genre == (expected.kind == GS_VERDICT_GENRE ? expected.label : -1));

    /* The core's own track pipeline (streaming, flushed resampler): its
     * first 30 s window must give the same genre. */
    free(rs);
    rs = resample(mono, n, rate, fp->sample_rate, &m, 1, 0);
    gs_track_result res;
    memset(&res, 0, sizeof res);
    gs_classifier_begin(cls);
    CHECK(gs_classifier_push(cls, rs, m, &err) == GS_OK);
    CHECK(gs_classifier_finish(cls, &res, &err) == GS_OK);
    CHECK(res.num_windows >= 1);
    if (res.num_windows >= 1) {
        const float *wp = res.windows[0].probabilities;
        float d = 0;
        for (int i = 0; i < num_labels; i++)
            d = fmaxf(d, fabsf(wp[i] - plugin_probs[i]));
        printf("%s @ %g Hz: genre %d (%s) conf %.4f; core window verdict %d; max |dp| %.2g; "
               "patches %d/%d\n",
               uri, rate, plugin_genre, plugin_genre >= 0 ? gs_model_label(model, plugin_genre) : "-",
               gs_host_get(h, "confidence"), res.windows[0].top_label, d, patches, res.windows[0].num_patches);
        CHECK(res.windows[0].top_label == plugin_genre);
        CHECK(res.windows[0].num_patches == patches);
        CHECK_MSG(d <= 1e-3f, "plugin vs core track window: max |dp| = %g", d);
    }
    gs_track_result_free(&res);
    gs_classifier_free(cls);
    free(rs);
    free(mono);
}

static void test_verdict_matches_core(const char *uri, double rate)
{
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, uri, rate);
    if (!h)
        return;
    int ch = gs_host_channels(h);
    size_t n = (size_t)(30.0 * rate);
    float **a = alloc_audio(ch, n);
    gs_synth_music(a[0], ch == 2 ? a[1] : NULL, n, rate, 2024);
    check_verdict(h, uri, rate, a, n, 10.0f);
    gs_host_free(h);
    free_audio(a);
}

/* Feeds a[0][from, to) to a mono plugin in uneven blocks. */
static void feed_range(gs_host *h, const float *x, size_t from, size_t to, size_t *turn)
{
    static const uint32_t sizes[] = {1024, 333, 4096, 64, 2000, 8192, 1, 700};
    static float out[MAX_BLOCK];
    while (from < to) {
        uint32_t b = sizes[(*turn)++ % (sizeof sizes / sizeof sizes[0])];
        if (b > to - from)
            b = (uint32_t)(to - from);
        const float *in[1] = {x + from};
        float *o[1] = {out};
        gs_host_run(h, in, o, b);
        from += b;
    }
}

/* The worker's incremental verdict at every update of a long stream equals
 * the core's from-scratch sliding-window verdict on the same audio: while
 * the window fills (with updates before the first patch is complete), long
 * after the worker's rings have wrapped, across silence gaps longer than a
 * patch, after the window length changes, and after deactivate/activate
 * (the stream, and its patch grid, restart there). At the model's rate no
 * resampler stands between, so the worker's stream is exactly the input. */
static void test_incremental_matches_core(void)
{
    const gs_frontend_params *fp = gs_model_frontend(model);
    const double rate = fp->sample_rate;
    gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_MONO, rate);
    gs_error err = {0};
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(cls != NULL, "%s", err.message);
    if (!h || !cls) {
        gs_host_free(h);
        gs_classifier_free(cls);
        return;
    }
    const size_t n = (size_t)(100 * rate), restart = (size_t)(78.3 * rate);
    float **a = alloc_audio(1, n);
    gs_synth_music(a[0], NULL, n, rate, 77);
    for (size_t i = (size_t)(20 * rate); i < (size_t)(24.5 * rate); i++)
        a[0][i] = 0.0f; /* 4.5 s of silence: a silent patch on any grid */
    for (size_t i = (size_t)(40 * rate); i < (size_t)(47 * rate); i++)
        a[0][i] *= 1e-5f; /* below the silence threshold */
    const size_t cap = (size_t)ceil((double)fp->window_seconds * rate);
    gs_host_set(h, "smoothing", 0.0f);
    gs_host_set(h, "update", 0.25f);
    gs_host_set(h, "window", 30.0f);
    gs_host_activate(h);

    size_t start = 0, pos = 0, turn = 0;
    int compared = 0, silent = 0, early = 0, late = 0, failed = 0;
    float maxdiff = 0;
    for (size_t k = 1; pos < n; k++) {
        size_t update = (size_t)llround(0.25 * rate);
        size_t next = start + (pos - start) / update * update + update;
        if (next > n)
            break;
        if (pos < restart && next >= restart) {
            /* Mid-stream restart: the host deactivates and activates. */
            feed_range(h, a[0], pos, restart, &turn);
            gs_host_deactivate(h);
            gs_host_activate(h);
            start = pos = restart;
            continue;
        }
        /* Mostly the full window; now and then shorter ones, and 3 s
         * windows that hold only the silent stretch. */
        double t = (double)(next - start) / rate;
        float window = (t >= 23.2 && t <= 24.4) || k % 37 == 5 ? 3.0f : k % 53 == 7 ? 12.5f : 30.0f;
        gs_host_set(h, "window", window);
        feed_range(h, a[0], pos, next, &turn);
        pos = next;
        run_empty(h); /* the response lands after the block that asked */
        size_t want = (size_t)lround(window * rate);
        want = want < cap ? want : cap;
        float ref[GS_MAX_LABELS];
        int patches = -1;
        CHECK(gs_classifier_classify_stream_window(cls, a[0] + start, pos - start, want, ref, &patches, &err) == GS_OK);
        float d = 0;
        for (int i = 0; i < num_labels; i++)
            d = fmaxf(d, fabsf(ref[i] - prob(h, i)));
        gs_verdict expected = gs_verdict_decide(model, ref, patches);
        int genre_ok = (int)gs_host_get(h, "genre") == (expected.kind == GS_VERDICT_GENRE ? expected.label : -1);
        if (d > 1e-6f || !genre_ok) {
            if (failed++ < 5)
                fprintf(stderr, "at %.2f s of the stream (window %.1f s): max |dp| %g, genre %d vs %d\n",
                        (double)(pos - start) / rate, (double)window, (double)d, (int)gs_host_get(h, "genre"),
                        expected.kind == GS_VERDICT_GENRE ? expected.label : -1);
        }
        maxdiff = fmaxf(maxdiff, d);
        compared++;
        silent += patches == 0;
        early += pos - start < (size_t)fp->patch_frames * (size_t)fp->hop_length;
        late += pos - start > 2 * cap;
    }
    printf("incremental vs core: %d updates (%d before the first patch, %d after the rings wrapped twice, "
           "%d silent), max |dp| %.2g\n",
           compared, early, late, silent, (double)maxdiff);
    CHECK_MSG(failed == 0, "%d of %d updates differ from the core's sliding window", failed, compared);
    CHECK(compared > 300 && early > 0 && late > 0 && silent > 0);
    gs_classifier_free(cls);
    gs_host_free(h);
    free_audio(a);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same with a real recording from GTZAN when it is available (decoded
 * by the core at the host rate, as a DAW would have it): the first jazz clip
 * by name, in any audio format, long enough for three updates. Returns 0
 * when there is none, so the caller can say the check was skipped. */
static int test_verdict_gtzan(double rate)
{
    const char *dir = getenv("GS_GTZAN_DIR");
    char sub[1200];
    if (!dir)
        return 0;
    snprintf(sub, sizeof sub, "%s/jazz", dir);
    DIR *d = opendir(sub);
    if (!d)
        return 0;
    char *names[512];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < sizeof names / sizeof names[0])
        if (e->d_name[0] != '.' && gs_audio_is_audio_name(e->d_name))
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);

    const float update = 9.5f; /* 28.5 s: fits a full-length GTZAN clip */
    size_t use = 3 * (size_t)llround(update * rate);
    int checked = 0;
    for (size_t i = 0; i < count && !checked; i++) {
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        gs_error err = {0};
        float *x = NULL;
        size_t n = 0;
        CHECK_MSG(gs_audio_decode_file(path, (int)rate, &x, &n, NULL, &err) == GS_OK, "%s: %s", path, err.message);
        if (x && n >= use) { /* short snippets cannot fill three updates */
            gs_host *h = open_host(GS_PLUGIN_BUNDLE_DIR, URI_MONO, rate);
            if (h) {
                float *a[2] = {x, NULL};
                char what[600];
                snprintf(what, sizeof what, "gtzan %s (mono)", names[i]);
                check_verdict(h, what, rate, a, use, update);
            }
            gs_host_free(h);
            checked = 1;
        }
        free(x);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    return checked;
}

int main(void)
{
    gs_error err = {0};
    model = gs_model_load(GS_PLUGIN_BUNDLE_DIR "/model.safetensors", &err);
    if (!model) {
        fprintf(stderr, "cannot load the bundle's model: %s\n", err.message);
        return EXIT_FAILURE;
    }
    num_labels = gs_model_num_labels(model);

    test_metadata();
    test_passthrough(URI_MONO, 44100, 0);
    test_passthrough(URI_STEREO, 48000, 1);
    test_silence_and_nan();
    test_music_then_silence();
    test_rates();
    test_unsupported_rate();
    test_dropped();
    test_bad_model(0);
    test_bad_model(1);
    test_verdict_matches_core(URI_MONO, 44100);
    test_verdict_matches_core(URI_STEREO, 48000);
    test_incremental_matches_core();
    if (!test_verdict_gtzan(44100))
        printf("GTZAN clips not found: real-recording verdict check skipped\n");
    gs_model_free(model);
    return gs_test_finish("test_plugin_host");
}
