/* The plugin's inline display (Ardour's mixer-strip picture) through a lilv
 * host: the sizes render() promises, a picture that follows the verdict
 * (genre name vs "none", the most probable label's bar the tallest, bar
 * heights and the fill bar matching the output ports), queue_draw only on
 * change, no allocation/lock/I/O in render(), and a seqlock hand-over that
 * never yields a torn state. */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "display.h"
#include "genrescope.h"
#include "gs_plugin_bundle.h"
#include "host.h"
#include "inline_display.h"
#include "rt_trap.h"
#include "synth.h"

#define URI_MONO GS_PLUGIN_URI_BASE "#mono"
#define RATE     44100.0

static const char *const names[GS_PLUGIN_NUM_LABELS] = GS_PLUGIN_DISPLAY_NAMES_INIT;

static gs_host *open_host(void)
{
    char err[512];
    gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, URI_MONO, RATE, 1, 0, 1};
    gs_host *h = gs_host_new(&o, err, sizeof err);
    CHECK_MSG(h != NULL, "%s", err);
    return h;
}

static LV2_Inline_Display_Image_Surface *render(gs_host *h, uint32_t w, uint32_t max_h)
{
    const LV2_Inline_Display_Interface *idpy = gs_host_extension_data(h, LV2_INLINEDISPLAY__interface);
    return idpy ? idpy->render(gs_host_handle(h), w, max_h) : NULL;
}

static uint32_t pixel(const LV2_Inline_Display_Image_Surface *s, int x, int y)
{
    uint32_t v;
    memcpy(&v, s->data + (size_t)y * (size_t)s->stride + (size_t)x * 4, sizeof v);
    return v;
}

static int is_bar(uint32_t c)
{
    return c == GS_DISPLAY_BAR || c == GS_DISPLAY_BAR_SHOWN || c == GS_DISPLAY_BAR_NOTMUSIC;
}

static int count_colour(const LV2_Inline_Display_Image_Surface *s, uint32_t c)
{
    int n = 0;
    for (int y = 0; y < s->height; y++)
        for (int x = 0; x < s->width; x++)
            n += pixel(s, x, y) == c;
    return n;
}

static char prob_symbol[GS_PLUGIN_NUM_LABELS][96];

static float port_prob(const gs_host *h, int k)
{
    return gs_host_get(h, prob_symbol[k]);
}

/* Feeds n frames of x (NULL: silence) in blocks of 1024. */
static void feed(gs_host *h, const float *x, size_t n)
{
    static float zeros[1024], out[1024];
    for (size_t pos = 0; pos < n;) {
        uint32_t b = n - pos < 1024 ? (uint32_t)(n - pos) : 1024;
        const float *in[1] = {x ? x + pos : zeros};
        float *o[1] = {out};
        gs_host_run(h, in, o, b);
        pos += b;
    }
    /* One empty cycle: run() writes the ports from the verdict the last
     * response brought, which the picture already shows. */
    const float *in[1] = {zeros};
    float *o[1] = {out};
    gs_host_run(h, in, o, 0);
}

/* What render() promises for w x max_h, worked out here independently. */
static void expected_size(uint32_t w, uint32_t max_h, int *ew, int *eh)
{
    uint32_t a = w > 512 ? 512 : w;
    uint32_t b = a / 2;
    if (b > max_h)
        b = max_h;
    if (b > 256)
        b = 256;
    *ew = (int)a;
    *eh = (int)b;
}

static void check_surface(const LV2_Inline_Display_Image_Surface *s, uint32_t w, uint32_t max_h)
{
    int ew, eh;
    expected_size(w, max_h, &ew, &eh);
    if (ew < 1 || eh < 1) {
        CHECK_MSG(s == NULL, "render(%u, %u) drew a picture with no room for it", w, max_h);
        return;
    }
    CHECK_MSG(s != NULL, "render(%u, %u) returned NULL", w, max_h);
    if (!s)
        return;
    CHECK_MSG(s->width == ew && s->height == eh, "render(%u, %u): %dx%d, expected %dx%d", w, max_h, s->width, s->height,
              ew, eh);
    CHECK(s->width <= (int)w && s->height <= (int)max_h);
    CHECK(s->stride >= s->width * 4 && s->stride % 4 == 0);
    CHECK(s->data != NULL);
    /* Opaque everywhere: premultiplied ARGB is then valid whatever the
     * colour channels hold. */
    int translucent = 0;
    for (int y = 0; y < s->height; y++)
        for (int x = 0; x < s->width; x++)
            translucent += (pixel(s, x, y) >> 24) != 0xFF;
    CHECK_MSG(translucent == 0, "%d pixels not opaque at %dx%d", translucent, s->width, s->height);
}

/* The picture agrees with the ports: byte for byte with the reference
 * drawing of the ports' values, and measured independently: every bar is
 * as tall as its probability, the most probable label's bar the tallest,
 * the shown genre's bar highlighted and the fill bar as long as the fill. */
static void check_picture(gs_host *h, uint32_t w, uint32_t max_h, const char *what)
{
    LV2_Inline_Display_Image_Surface *s = render(h, w, max_h);
    check_surface(s, w, max_h);
    if (!s)
        return;
    gs_display_state st;
    memset(&st, 0, sizeof st);
    st.genre = (int)gs_host_get(h, "genre");
    st.fill = gs_host_get(h, "fill");
    for (int k = 0; k < GS_PLUGIN_NUM_LABELS; k++)
        st.probs[k] = port_prob(h, k);
    static uint32_t ref[GS_DISPLAY_MAX_W * GS_DISPLAY_MAX_H];
    gs_display_draw(ref, s->width, s->width, s->height, &st, names, GS_PLUGIN_NUM_LABELS, GS_PLUGIN_NOT_MUSIC_LABEL);
    int diff = 0;
    for (int y = 0; y < s->height; y++)
        for (int x = 0; x < s->width; x++)
            diff += pixel(s, x, y) != ref[y * s->width + x];
    CHECK_MSG(diff == 0, "%s %dx%d: %d pixels differ from the ports' picture", what, s->width, s->height, diff);

    gs_display_layout l;
    gs_display_layout_for(s->width, s->height, GS_PLUGIN_NUM_LABELS, st.genre >= 0 ? names[st.genre] : "none", &l);
    int area = l.bars_bottom - l.bars_top;
    CHECK_MSG(area >= 4 && l.bar_w >= 1, "%s %dx%d: no room for bars", what, s->width, s->height);
    int heights[GS_PLUGIN_NUM_LABELS], best = 0, tallest = 0;
    for (int k = 0; k < GS_PLUGIN_NUM_LABELS; k++) {
        int x = l.bar_x0[k] + l.bar_w / 2, n = 0;
        for (int y = 0; y < s->height; y++)
            n += is_bar(pixel(s, x, y));
        heights[k] = n;
        float p = st.probs[k];
        CHECK_MSG(abs(n - (int)(p * (float)area + 0.5f)) <= 1, "%s %dx%d: bar %d is %d px for p=%.3f over %d px", what,
                  s->width, s->height, k, n, p, area);
        if (p > st.probs[best])
            best = k;
        if (n > tallest)
            tallest = n;
    }
    CHECK_MSG(heights[best] == tallest && (st.probs[best] == 0.0f || tallest > 0),
              "%s %dx%d: the most probable label (%d) has a %d px bar, the tallest is %d", what, s->width, s->height,
              best, heights[best], tallest);
    if (st.genre >= 0 && heights[st.genre] > 0)
        CHECK(pixel(s, l.bar_x0[st.genre], l.bars_bottom - 1) == GS_DISPLAY_BAR_SHOWN);
    if (GS_PLUGIN_NOT_MUSIC_LABEL >= 0 && heights[GS_PLUGIN_NOT_MUSIC_LABEL] > 0)
        CHECK(pixel(s, l.bar_x0[GS_PLUGIN_NOT_MUSIC_LABEL], l.bars_bottom - 1) == GS_DISPLAY_BAR_NOTMUSIC);

    int filled = 0;
    for (int x = 0; x < s->width; x++)
        filled += pixel(s, x, l.fill_y0) == GS_DISPLAY_FILL;
    CHECK_MSG(abs(filled - (int)(st.fill * (float)l.fill_w + 0.5f)) <= 1,
              "%s %dx%d: fill bar %d px for fill %.3f of %d px", what, s->width, s->height, filled, st.fill, l.fill_w);
}

/* The rows the name is drawn in: the same at two moments, or not. */
static int text_rows_equal(const LV2_Inline_Display_Image_Surface *a, const uint32_t *b, int rows)
{
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < a->width; x++)
            if (pixel(a, x, y) != b[y * a->width + x])
                return 0;
    return 1;
}

static void test_sizes(void)
{
    gs_host *h = open_host();
    if (!h)
        return;
    CHECK(gs_host_extension_data(h, LV2_INLINEDISPLAY__interface) != NULL);
    gs_host_activate(h);
    static const uint32_t sizes[][2] = {{40, 20},   {120, 60}, {200, 100}, {200, 30}, {120, 500}, {1000, 1000},
                                        {512, 256}, {7, 100},  {1, 1},     {3, 2},    {0, 50},    {100, 0}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        LV2_Inline_Display_Image_Surface *s = render(h, sizes[i][0], sizes[i][1]);
        check_surface(s, sizes[i][0], sizes[i][1]);
        /* Before any audio: "none", no bars, an empty fill bar. */
        if (s && s->width >= 40 && s->height >= 20) {
            CHECK(count_colour(s, GS_DISPLAY_TEXT_NONE) > 0);
            CHECK(count_colour(s, GS_DISPLAY_TEXT) == 0);
            CHECK(count_colour(s, GS_DISPLAY_BAR) + count_colour(s, GS_DISPLAY_BAR_SHOWN) +
                      count_colour(s, GS_DISPLAY_BAR_NOTMUSIC) ==
                  0);
            CHECK(count_colour(s, GS_DISPLAY_FILL) == 0);
            CHECK(count_colour(s, GS_DISPLAY_FILL_TRACK) > 0);
        }
    }
    gs_host_free(h);
}

/* A recording the model calls a genre, when the GTZAN clips are here (the
 * first classical clip); otherwise the synthetic groove, which the model
 * may call not music. Returns frames, *x owned by the caller. */
static size_t music(float **x, int *real)
{
    const char *dir = getenv("GS_GTZAN_DIR");
    char path[1200];
    *real = 0;
    if (dir) {
        snprintf(path, sizeof path, "%s/classical/classical.00000.opus", dir);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            gs_error err = {0};
            size_t n = 0;
            CHECK_MSG(gs_audio_decode_file(path, (int)RATE, x, &n, NULL, &err) == GS_OK, "%s: %s", path, err.message);
            if (*x && n >= (size_t)(12 * RATE)) {
                *real = 1;
                return (size_t)(12 * RATE);
            }
            free(*x);
        }
    }
    size_t n = (size_t)(12 * RATE);
    *x = calloc(n, sizeof(float));
    gs_synth_music(*x, NULL, n, RATE, 3);
    return n;
}

static void test_follows_verdict(void)
{
    gs_host *h = open_host();
    if (!h)
        return;
    gs_host_set(h, "window", 10.0f);
    gs_host_set(h, "update", 1.0f);
    gs_host_set(h, "smoothing", 0.0f);
    gs_host_activate(h);
    float *x = NULL;
    int real;
    size_t n = music(&x, &real);

    /* Silence first: "none" with a growing fill bar (the window is filling
     * even when there is nothing to hear). */
    feed(h, NULL, (size_t)(3 * RATE));
    CHECK(gs_host_get(h, "genre") == -1.0f);
    CHECK(gs_host_get(h, "fill") > 0.25f && gs_host_get(h, "fill") < 0.35f);
    check_picture(h, 200, 100, "silence, 3 of 10 s");
    LV2_Inline_Display_Image_Surface *s = render(h, 120, 60);
    static uint32_t none_pic[120 * 60];
    if (s)
        memcpy(none_pic, s->data, sizeof none_pic);

    unsigned long draws0 = gs_host_queue_draws(h);
    feed(h, x, n);
    float genre = gs_host_get(h, "genre");
    printf("%s: genre %g, confidence %.3f, fill %.3f, %lu redraws asked\n",
           real ? "GTZAN classical.00000" : "synthetic groove", genre, gs_host_get(h, "confidence"),
           gs_host_get(h, "fill"), gs_host_queue_draws(h) - draws0);
    if (real)
        CHECK_MSG(genre >= 0, "the classical clip got no genre; the picture test needs one");
    CHECK(gs_host_queue_draws(h) > draws0);
    CHECK(gs_host_queue_draws(h) <= gs_host_responses(h));
    static const uint32_t sizes[][2] = {{40, 20}, {120, 60}, {200, 100}, {200, 30}, {512, 256}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_picture(h, sizes[i][0], sizes[i][1], "music");
    s = render(h, 120, 60);
    if (s && genre >= 0) {
        /* The name replaced "none" (text rows 1..8 at this size). */
        CHECK(!text_rows_equal(s, none_pic, 9));
        CHECK(count_colour(s, GS_DISPLAY_TEXT) > 0 && count_colour(s, GS_DISPLAY_TEXT_NONE) == 0);
        CHECK(count_colour(s, GS_DISPLAY_BAR_SHOWN) > 0);
        /* And it is the genre's display name: at this size (5x7 glyphs, 6
         * px apart) its lit columns span about 6 px per character. */
        int x0 = s->width, x1 = -1;
        for (int y = 0; y < 9; y++)
            for (int x = 0; x < s->width; x++)
                if (pixel(s, x, y) == GS_DISPLAY_TEXT) {
                    x0 = x < x0 ? x : x0;
                    x1 = x > x1 ? x : x1;
                }
        int len = (int)strlen(names[(int)genre]);
        CHECK_MSG(x1 - x0 + 1 >= (len - 1) * 6 + 1 && x1 - x0 + 1 <= len * 6 - 1, "the name \"%s\" spans %d px",
                  names[(int)genre], x1 - x0 + 1);
    }
    if (s)
        CHECK(count_colour(s, GS_DISPLAY_BAR) + count_colour(s, GS_DISPLAY_BAR_SHOWN) > 0);

    /* Silence again: back to "none", no bars, a full fill bar. */
    feed(h, NULL, (size_t)(11 * RATE));
    CHECK(gs_host_get(h, "genre") == -1.0f && gs_host_get(h, "fill") == 1.0f);
    check_picture(h, 120, 60, "silence after music");
    s = render(h, 120, 60);
    if (s) {
        CHECK(text_rows_equal(s, none_pic, 9));
        CHECK(count_colour(s, GS_DISPLAY_BAR) + count_colour(s, GS_DISPLAY_BAR_SHOWN) == 0);
    }
    /* Nothing changes any more: no redraw is asked for. */
    unsigned long draws1 = gs_host_queue_draws(h);
    unsigned long resp1 = gs_host_responses(h);
    feed(h, NULL, (size_t)(4 * RATE));
    CHECK(gs_host_responses(h) > resp1);
    CHECK_MSG(gs_host_queue_draws(h) == draws1, "%lu redraws asked for an unchanged picture",
              gs_host_queue_draws(h) - draws1);

    /* activate() starts afresh: the picture shows an empty window. */
    gs_host_deactivate(h);
    gs_host_activate(h);
    feed(h, NULL, 0); /* the ports follow at the next run() */
    CHECK(gs_host_get(h, "fill") == 0.0f);
    check_picture(h, 200, 100, "after activate");
    gs_host_free(h);
    free(x);
}

/* render() in the GUI thread: no allocation, lock, I/O (rt_trap.c). */
static void test_render_rt(void)
{
    gs_host *h = open_host();
    if (!h)
        return;
    gs_host_activate(h);
    float *x = NULL;
    int real;
    size_t n = music(&x, &real);
    feed(h, x, n / 2);
    gs_rt_trap_clear();
    gs_rt_trap_arm(1);
    for (uint32_t w = 0; w <= 600; w += 37)
        for (uint32_t mh = 0; mh <= 300; mh += 29)
            (void)render(h, w, mh);
    gs_rt_trap_arm(0);
    CHECK_MSG(gs_rt_trap_count() == 0, "render() called %s (%lu trapped calls)", gs_rt_trap_first(),
              gs_rt_trap_count());
    gs_host_free(h);
    free(x);
}

/* The hand-over never yields a mix of two states: a writer alternates two
 * states as fast as it can while the reader checks every copy it gets. */
static gs_display_shared shared;
static atomic_int stop;

static void make_state(gs_display_state *s, int which)
{
    memset(s, 0, sizeof *s);
    s->genre = which ? 3 : -1;
    s->fill = which ? 0.75f : 0.25f;
    for (int k = 0; k < GS_PLUGIN_NUM_LABELS; k++)
        s->probs[k] = which ? (float)(k + 1) : -(float)(k + 1);
}

static void *writer(void *arg)
{
    (void)arg;
    gs_display_state s[2];
    make_state(&s[0], 0);
    make_state(&s[1], 1);
    for (unsigned i = 0; !atomic_load(&stop); i++) {
        gs_display_publish(&shared, &s[i & 1], GS_PLUGIN_NUM_LABELS);
        /* Gaps of varied length between publishes: reads overlap writes
         * at every phase, and some fall between them and succeed (a writer
         * that never pauses lets no read through on a busy machine). */
        for (volatile unsigned k = 0; k < (i * 2654435761u >> 26); k++) {
        }
    }
    return NULL;
}

static void test_seqlock(void)
{
    gs_display_state a, b;
    make_state(&a, 0);
    make_state(&b, 1);
    gs_display_publish(&shared, &a, GS_PLUGIN_NUM_LABELS);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer, NULL) == 0);
    long torn = 0, got = 0, missed = 0;
    for (long i = 0; i < 200000 || (got < 1000 && i < 50000000); i++) {
        gs_display_state r;
        if (!gs_display_read(&shared, &r, GS_PLUGIN_NUM_LABELS)) {
            missed++;
            continue;
        }
        got++;
        const gs_display_state *e = r.genre == 3 ? &b : &a;
        torn += r.fill != e->fill || memcmp(r.probs, e->probs, sizeof r.probs) != 0;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("seqlock: %ld copies, %ld gave up, %ld torn\n", got, missed, torn);
    CHECK(got > 0);
    CHECK(torn == 0);
}

int main(void)
{
    for (int k = 0; k < GS_PLUGIN_NUM_LABELS; k++) {
        /* Port symbols as the generator makes them: prob_ + the label as a
         * lower-case C identifier. */
        char *p = prob_symbol[k];
        snprintf(p, sizeof prob_symbol[k], "prob_%s", gs_plugin_labels[k]);
        for (; *p; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
            else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                *p = '_';
        }
    }
    test_sizes();
    test_follows_verdict();
    test_render_rt();
    test_seqlock();
    return gs_test_finish("test_plugin_display");
}
