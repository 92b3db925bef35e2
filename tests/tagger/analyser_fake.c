/* A synthetic analysis backend for the tagger tests: decodes with
 * libsndfile and "classifies" by pitch (zero-crossing rate), so results are
 * deterministic, fast, and meaningful enough to test similarity: tones of
 * the same frequency get the same genre and near-identical embeddings
 * whatever their level. Environment knobs for the tests:
 *   GS_FAKE_MODEL_ID  model id to report (default "fake-1"): a new id must
 *                     make incremental scans re-analyse
 *   GS_FAKE_DELAY_MS  sleep per file, so a scan can be killed mid-way
 *   GS_FAKE_KILL_AT   N: the process kills itself (SIGKILL, as kill -9)
 *                     when the Nth analysis starts, so a test knows exactly
 *                     which files were analysed and tagged before the kill
 *   GS_FAKE_TAG_THRESHOLD  the model's recommended --min-confidence
 *   GS_FAKE_NOT_MUSIC 1: an 11th label "notmusic" (the model's not-music
 *                     label), which noise gets (zero crossings of the first
 *                     difference well above the signal's own, as for noise
 *                     and not for tones) */
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyser.h"

#define MAX_LABELS     11
#define NOT_MUSIC      10
#define EMBED          8
#define WINDOW_SECONDS 30.0

static const char *const labels[MAX_LABELS] = {"blues", "classical", "country", "disco", "hiphop",  "jazz",
                                               "metal", "pop",       "reggae",  "rock",  "notmusic"};

struct gs_analyser {
    char model_id[128];
    int delay_ms;
    int kill_at; /* 0: never */
    atomic_int analyses_started;
    int num_labels; /* 10, or 11 with the not-music label */
};

struct gs_analyser_worker {
    gs_analyser *an;
};

gs_analyser *gs_analyser_open(const char *model_path, int num_workers, gs_error *err)
{
    (void)num_workers;
    gs_analyser *an = calloc(1, sizeof *an);
    if (!an) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *id = getenv("GS_FAKE_MODEL_ID");
    snprintf(an->model_id, sizeof an->model_id, "%s", model_path ? model_path : id ? id : "fake-1");
    const char *d = getenv("GS_FAKE_DELAY_MS");
    an->delay_ms = d ? atoi(d) : 0;
    const char *k = getenv("GS_FAKE_KILL_AT");
    an->kill_at = k ? atoi(k) : 0;
    const char *nm = getenv("GS_FAKE_NOT_MUSIC");
    an->num_labels = nm && !strcmp(nm, "1") ? MAX_LABELS : MAX_LABELS - 1;
    return an;
}

void gs_analyser_close(gs_analyser *an)
{
    free(an);
}
const char *gs_analyser_model_id(const gs_analyser *an)
{
    return an->model_id;
}
int gs_analyser_num_labels(const gs_analyser *an)
{
    return an->num_labels;
}
float gs_analyser_tag_min_confidence(const gs_analyser *an)
{
    (void)an;
    const char *t = getenv("GS_FAKE_TAG_THRESHOLD");
    return t ? (float)atof(t) : -1.0f;
}

int gs_analyser_not_music_label(const gs_analyser *an)
{
    return an->num_labels > NOT_MUSIC ? NOT_MUSIC : -1;
}
const char *gs_analyser_label(const gs_analyser *an, int i)
{
    return i >= 0 && i < an->num_labels ? labels[i] : NULL;
}

gs_analyser_worker *gs_analyser_worker_new(gs_analyser *an, gs_error *err)
{
    gs_analyser_worker *w = calloc(1, sizeof *w);
    if (!w)
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    else
        w->an = an;
    return w;
}

void gs_analyser_worker_free(gs_analyser_worker *w)
{
    free(w);
}

/* Pitch position on a log scale: 0 at 55 Hz, +1 per octave; *noisy when
 * the first difference crosses zero far more often than the signal. */
static double octave_of(const float *x, size_t n, int rate, double *rms, int *noisy)
{
    size_t crossings = 0, diff_crossings = 0;
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        e += (double)x[i] * x[i];
        if (i && ((x[i - 1] < 0) != (x[i] < 0)))
            crossings++;
        if (i >= 2 && ((x[i - 1] - x[i - 2] < 0) != (x[i] - x[i - 1] < 0)))
            diff_crossings++;
    }
    *noisy = (double)diff_crossings > 1.2 * (double)crossings + 10;
    *rms = n ? sqrt(e / (double)n) : 0;
    double f = n ? (double)crossings * rate / (2.0 * (double)n) : 0;
    return f > 0 ? log2(f / 55.0) : 0;
}

static void probabilities(const gs_analyser *an, double octave, int noisy, float *p)
{
    double sum = 0;
    for (int i = 0; i < NOT_MUSIC; i++) {
        double d = octave - (i + 0.5);
        p[i] = (float)exp(-2.0 * d * d);
        sum += p[i];
    }
    double music = 1.0;
    if (an->num_labels > NOT_MUSIC) {
        music = noisy ? 0.1 : 0.95;
        p[NOT_MUSIC] = (float)(1.0 - music);
    }
    for (int i = 0; i < NOT_MUSIC; i++)
        p[i] = (float)(music * p[i] / sum);
}

/* Smooth bumps along the pitch axis, then a weak level feature;
 * L2-normalised. */
static void pitch_embedding(double oct, double rms, float *e)
{
    double norm = 0;
    for (int i = 0; i < EMBED - 1; i++) {
        double d = oct - 1.5 * i;
        e[i] = (float)exp(-d * d);
    }
    e[EMBED - 1] = (float)(0.05 * log10(rms + 1e-9));
    for (int i = 0; i < EMBED; i++)
        norm += (double)e[i] * e[i];
    for (int i = 0; i < EMBED; i++)
        e[i] = (float)(e[i] / sqrt(norm));
}

gs_status gs_analyser_analyse(gs_analyser_worker *w, const char *path, gs_track_result *r, gs_error *err)
{
    memset(r, 0, sizeof *r);
    if (w->an->kill_at > 0 && atomic_fetch_add(&w->an->analyses_started, 1) + 1 == w->an->kill_at)
        raise(SIGKILL);
    if (w->an->delay_ms > 0) {
        struct timespec ts = {w->an->delay_ms / 1000, (w->an->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: %s", path, sf_strerror(NULL));
    size_t frames = (size_t)info.frames;
    float *inter = malloc((frames ? frames : 1) * (size_t)info.channels * sizeof *inter);
    float *mono = malloc((frames ? frames : 1) * sizeof *mono);
    if (!inter || !mono) {
        free(inter);
        free(mono);
        sf_close(f);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    sf_count_t got = sf_readf_float(f, inter, (sf_count_t)frames);
    int sf_err = sf_error(f);
    sf_close(f);
    if (got <= 0 || sf_err) {
        free(inter);
        free(mono);
        return gs_error_set(err, GS_ERR_FORMAT, "%s: truncated or unreadable audio data", path);
    }
    frames = (size_t)got;
    for (size_t i = 0; i < frames; i++) {
        double s = 0;
        for (int c = 0; c < info.channels; c++)
            s += inter[i * (size_t)info.channels + (size_t)c];
        mono[i] = (float)(s / info.channels);
    }
    free(inter);
    /* An identity of the decoded audio, as the core's is (its own hash:
     * only equality matters to the tagger). */
    uint64_t digest = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < frames; i++) {
        uint32_t bits;
        memcpy(&bits, &mono[i], sizeof bits);
        digest = (digest ^ bits) * 0x100000001b3ULL;
    }
    r->audio_digest = (digest ^ (digest >> 29)) | 1;

    const int nl = w->an->num_labels, nm = gs_analyser_not_music_label(w->an);
    r->num_labels = nl;
    r->embedding_size = EMBED;
    r->duration_seconds = (double)frames / info.samplerate;
    size_t win = (size_t)(WINDOW_SECONDS * info.samplerate);
    r->num_windows = (int)((frames + win - 1) / win);
    r->probabilities = calloc(nl, sizeof(float));
    r->embedding = calloc(EMBED, sizeof(float));
    r->windows = calloc((size_t)r->num_windows, sizeof *r->windows);
    r->window_storage = calloc((size_t)r->num_windows * nl, sizeof(float));
    r->window_embedding_storage = calloc((size_t)r->num_windows * EMBED, sizeof(float));
    if (!r->probabilities || !r->embedding || !r->windows || !r->window_storage || !r->window_embedding_storage) {
        free(mono);
        gs_analyser_result_free(r);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    int voiced = 0;
    for (int k = 0; k < r->num_windows; k++) {
        gs_window_verdict *v = &r->windows[k];
        size_t a = (size_t)k * win, n = frames - a < win ? frames - a : win;
        double rms;
        int noisy;
        double oct = octave_of(mono + a, n, info.samplerate, &rms, &noisy);
        v->start_seconds = (double)a / info.samplerate;
        v->end_seconds = (double)(a + n) / info.samplerate;
        v->probabilities = r->window_storage + (size_t)k * nl;
        v->embedding = r->window_embedding_storage + (size_t)k * EMBED;
        v->top_label = -1;
        if (rms < 1e-4)
            continue;
        probabilities(w->an, oct, noisy, v->probabilities);
        pitch_embedding(oct, rms, v->embedding);
        v->num_patches = 1;
        gs_verdict d = gs_verdict_decide_labels(v->probabilities, nl, nm, GS_NOT_MUSIC_THRESHOLD, 1);
        v->verdict = d.kind;
        v->top_label = d.label;
        v->confidence = d.confidence;
        v->not_music = d.not_music;
        for (int i = 0; i < nl; i++)
            r->probabilities[i] += v->probabilities[i];
        voiced++;
    }
    double rms;
    int noisy;
    double oct = octave_of(mono, frames, info.samplerate, &rms, &noisy);
    free(mono);
    r->top_label = -1;
    if (voiced) {
        for (int i = 0; i < nl; i++)
            r->probabilities[i] /= (float)voiced;
        gs_verdict d = gs_verdict_decide_labels(r->probabilities, nl, nm, GS_NOT_MUSIC_THRESHOLD, voiced);
        r->verdict = d.kind;
        r->top_label = d.label;
        r->confidence = d.confidence;
        r->not_music = d.not_music;
        /* Of the whole file's pitch: for a mix of tones, a blend that is
         * like none of its parts, as a real mix's mean embedding is. */
        pitch_embedding(oct, rms, r->embedding);
        r->num_patches = voiced;
    }
    return GS_OK;
}

void gs_analyser_result_free(gs_track_result *r)
{
    free(r->probabilities);
    free(r->embedding);
    free(r->windows);
    free(r->window_storage);
    free(r->window_embedding_storage);
    memset(r, 0, sizeof *r);
}
