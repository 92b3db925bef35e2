/* Fuzz target: decoding arbitrary bytes as audio (both decoders, chosen by
 * content) and classifying what comes out with a small fixture network.
 * The first byte picks the file extension, since the decoders also look at
 * the name. */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_scratch.h"
#include "genrescope.h"
#include "test_model_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gs_model *model;
static gs_classifier *cls;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"x.wav", "x.flac", "x.mp3", "x.ogg", "x.opus", "x.m4a", "x.aiff", "x.caf"};
    if (!model) {
        const char *dir = fuzz_scratch();
        char path[1024];
        snprintf(path, sizeof path, "%s/model.safetensors", dir ? dir : ".");
        gs_error err;
        if (fixture_write_model(path, 16) != 0 || !(model = gs_model_load(path, &err)) ||
            !(cls = gs_classifier_new(model, NULL, &err)))
            abort();
    }
    if (size < 1)
        return 0;
    const char *path = fuzz_write_file(names[data[0] % 8], data + 1, size - 1);
    if (!path)
        return 0;
    gs_track_result r;
    gs_error err;
    if (gs_classify_file(cls, path, &r, &err) == GS_OK) {
        /* The decoder promises finite samples; the classifier a verdict. */
        for (int i = 0; i < r.num_labels; i++)
            if (!(r.probabilities[i] >= 0.0f && r.probabilities[i] <= 1.0f))
                abort();
        gs_track_result_free(&r);
    }
    return 0;
}
