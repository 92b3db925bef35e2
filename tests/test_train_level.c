/* Level invariance of the shipped model: the top genre of every clip in
 * $GS_GTZAN_DIR must not change when the audio is scaled by -20 dB or by
 * +6 dB (clipped to [-1, 1], as a hot master would be). Skips when the
 * clips or the model are absent. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "genrescope.h"

#ifndef GS_SHIPPED_MODEL
#define GS_SHIPPED_MODEL "models/genrescope-gtzan.safetensors"
#endif

static int classify_scaled(gs_classifier *cls, const float *x, size_t n, float gain, float *buf)
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
    int top = r.top_label;
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
    int clips = 0, changed = 0;
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
            int ref = classify_scaled(cls, x, n, 1.0f, buf);
            int quiet = classify_scaled(cls, x, n, powf(10.0f, -20.0f / 20.0f), buf);
            int loud = classify_scaled(cls, x, n, powf(10.0f, 6.0f / 20.0f), buf);
            CHECK(ref >= 0);
            if (quiet != ref || loud != ref) {
                changed++;
                fprintf(stderr, "%s: top genre %s at 0 dB, %s at -20 dB, %s at +6 dB clipped\n", e->d_name,
                        gs_model_label(model, ref), quiet >= 0 ? gs_model_label(model, quiet) : "?",
                        loud >= 0 ? gs_model_label(model, loud) : "?");
            }
            clips++;
            free(buf);
            free(x);
        }
        closedir(d);
    }
    printf("test_train_level: %d clips, %d changed their top genre\n", clips, changed);
    CHECK(clips > 0);
    CHECK(changed == 0);
    gs_classifier_free(cls);
    gs_model_free(model);
    return gs_test_finish("test_train_level");
}
