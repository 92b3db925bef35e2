/* A small, deterministic model written with gs_model_writer, for tests that
 * need a real network without depending on the shipped model. */
#ifndef GS_TEST_MODEL_FIXTURE_H
#define GS_TEST_MODEL_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "genrescope/model.h"
#include "support/rng.h"

static uint64_t fixture_rng_state = 0x9E3779B97F4A7C15ull;

static float fixture_uniform(void)
{
    gs_test_xorshift64(&fixture_rng_state);
    return (float)((fixture_rng_state >> 40) / (double)(1u << 24)) * 2.0f - 1.0f;
}

static void fixture_add(gs_model_writer *w, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                        float scale, float offset)
{
    int64_t shape[4] = {d0, d1, d2, d3};
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *data = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        data[i] = offset + scale * fixture_uniform();
    gs_error err;
    if (gs_model_writer_add_tensor(w, name, ndim, shape, data, &err) != GS_OK)
        fprintf(stderr, "fixture: %s\n", err.message);
    free(data);
}

/* Front-end: 8 kHz, 256-point FFT, hop 128, 16 mels, 32-frame patches every
 * 16 frames (0.5 s patches), 5 s windows. Labels "a","b","c". */
static void fixture_frontend(gs_frontend_params *fp)
{
    gs_frontend_params_default(fp);
    fp->sample_rate = 8000;
    fp->n_fft = 256;
    fp->hop_length = 128;
    fp->n_mels = 16;
    fp->fmin = 0.0f;
    fp->fmax = 4000.0f;
    fp->patch_frames = 32;
    fp->patch_hop_frames = 16;
    fp->window_seconds = 5.0f;
    fp->patch_normalize = GS_PATCH_NORMALIZE_MEAN;
}

/* Writes the fixture model to path; returns 0 on success. input_height lets
 * a test build a deliberately mismatched network; fb_rows x fb_cols > 0 adds
 * a frontend.mel_filterbank tensor of that shape (129 bins for this model). */
static int fixture_write_model_ex(const char *path, int input_height, int fb_rows, int fb_cols)
{
    static const char *const labels[] = {"a", "b", "c"};
    char arch[1024];
    snprintf(
        arch, sizeof arch,
        "{\"input\":[1,%d,32],\"layers\":["
        "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":4,\"kernel\":[3,3],\"stride\":[1,1],\"padding\":[1,1]},"
        "{\"op\":\"batchnorm2d\",\"name\":\"bn1\",\"eps\":1e-5},"
        "{\"op\":\"relu\"},"
        "{\"op\":\"maxpool2d\",\"kernel\":[2,2],\"stride\":[2,2]},"
        "{\"op\":\"conv2d\",\"name\":\"c2\",\"in\":4,\"out\":8,\"kernel\":[3,3],\"stride\":[1,1],\"padding\":[1,1]},"
        "{\"op\":\"relu\"},"
        "{\"op\":\"global_avgpool\"},"
        "{\"op\":\"dense\",\"name\":\"fc\",\"in\":8,\"out\":3},"
        "{\"op\":\"softmax\"}]}",
        input_height);
    gs_frontend_params fp;
    fixture_frontend(&fp);
    gs_model_writer *w = gs_model_writer_new();
    gs_error err;
    fixture_add(w, "c1.weight", 4, 4, 1, 3, 3, 0.5f, 0.0f);
    fixture_add(w, "c1.bias", 1, 4, 1, 1, 1, 0.1f, 0.0f);
    fixture_add(w, "bn1.weight", 1, 4, 1, 1, 1, 0.2f, 1.0f);
    fixture_add(w, "bn1.bias", 1, 4, 1, 1, 1, 0.1f, 0.0f);
    fixture_add(w, "bn1.running_mean", 1, 4, 1, 1, 1, 0.1f, 0.0f);
    fixture_add(w, "bn1.running_var", 1, 4, 1, 1, 1, 0.2f, 1.0f);
    fixture_add(w, "c2.weight", 4, 8, 4, 3, 3, 0.3f, 0.0f);
    fixture_add(w, "c2.bias", 1, 8, 1, 1, 1, 0.1f, 0.0f);
    fixture_add(w, "fc.weight", 2, 3, 8, 1, 1, 1.0f, 0.0f);
    fixture_add(w, "fc.bias", 1, 3, 1, 1, 1, 0.1f, 0.0f);
    if (fb_rows > 0 && fb_cols > 0)
        fixture_add(w, "frontend.mel_filterbank", 2, fb_rows, fb_cols, 1, 1, 0.01f, 0.02f);
    int rc = 0;
    if (gs_model_writer_set_standard_metadata(w, labels, 3, &fp, &err) != GS_OK ||
        gs_model_writer_set_metadata(w, "architecture", arch, &err) != GS_OK ||
        gs_model_writer_save(w, path, &err) != GS_OK) {
        fprintf(stderr, "fixture: %s\n", err.message);
        rc = -1;
    }
    gs_model_writer_free(w);
    return rc;
}

static int fixture_write_model(const char *path, int input_height)
{
    return fixture_write_model_ex(path, input_height, 0, 0);
}

#endif
