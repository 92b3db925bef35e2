/* Level invariance of the shipped model on every clip in $GS_GTZAN_DIR,
 * scaled by -20 dB and by +6 dB (clipped to [-1, 1], as a hot master would
 * be): the verdict (a genre, or not music) must not change for any clip the
 * model has decided (the top answer at least 0.1 ahead of the next one), and
 * the probabilities must move little (mean total-variation distance below
 * 0.05). A near-tie may flip with any perturbation, level or not: such
 * flips are counted and printed, not failed. Skips when the clips or the
 * model are absent. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "genrescope.h"

#ifndef GS_SHIPPED_MODEL
#define GS_SHIPPED_MODEL "models/genrescope-gtzan.safetensors"
#endif

typedef struct answer {
    int label;    /* the genre, the not-music label, or -1 (silent) */
    float margin; /* top answer's probability minus the next one's */
    float p[GS_MAX_LABELS];
} answer;

/* The verdict as one answer among the labels: a genre, or "not music". */
static int classify_scaled(gs_classifier *cls, const float *x, size_t n, float gain, float *buf, answer *a)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * gain;
        buf[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
    gs_track_result r;
    gs_error err;
    gs_classifier_begin(cls);
    if (gs_classifier_push(cls, buf, n, &err) != GS_OK || gs_classifier_finish(cls, &r, &err) != GS_OK) {
        fprintf(stderr, "classify failed: %s\n", err.message);
        return -2;
    }
    const gs_model *m = gs_classifier_model(cls);
    int top = r.verdict == GS_VERDICT_NOT_MUSIC ? gs_model_not_music_label(m) : r.top_label;
    a->label = top;
    float first = -1, second = -1;
    for (int i = 0; i < r.num_labels && i < GS_MAX_LABELS; i++) {
        a->p[i] = r.probabilities[i];
        if (a->p[i] > first) {
            second = first;
            first = a->p[i];
        } else if (a->p[i] > second) {
            second = a->p[i];
        }
    }
    a->margin = first - second;
    gs_track_result_free(&r);
    return top;
}

int main(void)
{
    const char *dir = getenv("GS_GTZAN_DIR");
    struct stat sb;
    if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("test_train_level: no GTZAN clips (GS_GTZAN_DIR), skipped\n");
        return GS_TEST_SKIP;
    }
    gs_error err;
    gs_model *model = gs_model_load(GS_SHIPPED_MODEL, &err);
    if (!model) {
        printf("test_train_level: no shipped model (%s), skipped\n", err.message);
        return GS_TEST_SKIP;
    }
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    CHECK_MSG(cls != NULL, "%s", err.message);
    if (!cls)
        return gs_test_finish("test_train_level");
    int rate = gs_model_frontend(model)->sample_rate;
    int clips = 0, changed_decided = 0, flipped_ties = 0;
    double tv_sum = 0.0, tv_max = 0.0;
    const int nl = gs_model_num_labels(model);
    for (int l = 0; l < gs_model_num_labels(model); l++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, gs_model_label(model, l));
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !gs_audio_is_audio_name(e->d_name))
                continue;
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            float *x = NULL;
            size_t n = 0;
            if (gs_audio_decode_file(path, rate, &x, &n, NULL, &err) != GS_OK) {
                CHECK_MSG(0, "%s", err.message);
                continue;
            }
            float *buf = malloc(n * sizeof *buf);
            answer ref, quiet, loud;
            int r0 = classify_scaled(cls, x, n, 1.0f, buf, &ref);
            int rq = classify_scaled(cls, x, n, powf(10.0f, -20.0f / 20.0f), buf, &quiet);
            int rl = classify_scaled(cls, x, n, powf(10.0f, 6.0f / 20.0f), buf, &loud);
            CHECK(r0 >= 0);
            for (int k = 0; k < 2; k++) {
                const answer *o = k ? &loud : &quiet;
                double tv = 0.0;
                for (int i = 0; i < nl; i++)
                    tv += 0.5 * fabs((double)o->p[i] - ref.p[i]);
                tv_sum += tv;
                if (tv > tv_max)
                    tv_max = tv;
            }
            if (rq != r0 || rl != r0) {
                int decided = ref.margin >= 0.1f;
                if (decided)
                    changed_decided++;
                else
                    flipped_ties++;
                fprintf(stderr, "%s: %s at 0 dB (margin %.2f), %s at -20 dB, %s at +6 dB clipped%s\n", e->d_name,
                        r0 >= 0 ? gs_model_label(model, r0) : "?", (double)ref.margin,
                        rq >= 0 ? gs_model_label(model, rq) : "?", rl >= 0 ? gs_model_label(model, rl) : "?",
                        decided ? "" : " (a near-tie: not a failure)");
            }
            clips++;
            free(buf);
            free(x);
        }
        closedir(d);
    }
    double tv_mean = clips ? tv_sum / (2.0 * clips) : 0.0;
    printf("test_train_level: %d clips; verdict changed on %d decided clips and %d near-ties; "
           "total-variation distance mean %.4f, max %.4f\n",
           clips, changed_decided, flipped_ties, tv_mean, tv_max);
    CHECK(clips > 0);
    CHECK(changed_decided == 0);
    CHECK_MSG(tv_mean < 0.05, "probabilities move with the level: mean distance %.4f", tv_mean);
    gs_classifier_free(cls);
    gs_model_free(model);
    return gs_test_finish("test_train_level");
}
