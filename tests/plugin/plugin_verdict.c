/* What the LV2 plugin shows for an audio file: decodes each file at 48 kHz
 * (the core decoder, as a DAW would play it), plays it through the mono
 * plugin in 1024-frame blocks with the default window, update and
 * smoothing, and prints the genre port and the not-music probability at the
 * end, one line per file: "PATH GENRE CONFIDENCE NOT_MUSIC" (GENRE -1 is
 * "none"). Used by tests/test_nonmusic.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope.h"
#include "host.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    const double rate = 48000;
    char err_text[512];
    gs_host_options o = {GS_PLUGIN_BUNDLE_DIR, GS_PLUGIN_URI_BASE "#mono", rate, 1, 0, 0};
    int rc = 0;
    for (int f = 1; f < argc; f++) {
        gs_host *h = gs_host_new(&o, err_text, sizeof err_text);
        if (!h) {
            fprintf(stderr, "%s\n", err_text);
            return 1;
        }
        float *x = NULL;
        size_t n = 0;
        gs_error err;
        if (gs_audio_decode_file(argv[f], (int)rate, &x, &n, NULL, &err) != GS_OK) {
            fprintf(stderr, "%s\n", err.message);
            rc = 1;
            gs_host_free(h);
            continue;
        }
        gs_host_activate(h);
        static float out[1024];
        for (size_t pos = 0; pos < n; pos += 1024) {
            uint32_t b = (uint32_t)(n - pos < 1024 ? n - pos : 1024);
            const float *in[1] = {x + pos};
            float *o_[1] = {out};
            gs_host_run(h, in, o_, b);
        }
        /* A last update for the tail: the verdict is due every 2 s. */
        static float silence_pad[1] = {0};
        const float *in[1] = {silence_pad};
        float *o_[1] = {out};
        gs_host_run(h, in, o_, 0);
        float nm = gs_host_port(h, "prob_notmusic") >= 0 ? gs_host_get(h, "prob_notmusic") : 0.0f;
        printf("%s %d %.4f %.4f\n", argv[f], (int)gs_host_get(h, "genre"), gs_host_get(h, "confidence"), nm);
        free(x);
        gs_host_free(h);
    }
    return rc;
}
