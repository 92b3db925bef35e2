/* The verdict the output ports show (smoothing.h): smoothing in the audio
 * thread, so nothing here allocates or blocks. */
#include "smoothing.h"

#include <math.h>
#include <string.h>

#include "genrescope/verdict.h"

void gs_smoothed_verdict_reset(gs_smoothed_verdict *v, int num_labels, int not_music_label, float not_music_min)
{
    memset(v, 0, sizeof *v);
    if (num_labels < 0)
        num_labels = 0;
    if (num_labels > GS_MAX_LABELS)
        num_labels = GS_MAX_LABELS;
    v->num_labels = num_labels;
    v->not_music_label = not_music_label >= 0 && not_music_label < num_labels ? not_music_label : -1;
    v->not_music_min = not_music_min;
    v->genre = -1;
}

void gs_smoothed_verdict_update(gs_smoothed_verdict *v, const float *probs, int num_patches, float smoothing)
{
    int n = v->num_labels;
    float sum = 0.0f;
    int finite = 1;
    for (int i = 0; i < n; i++) {
        if (!isfinite(probs[i]) || probs[i] < 0.0f)
            finite = 0;
        else
            sum += probs[i];
    }
    if (num_patches <= 0 || !finite || !(sum > 0.0f)) {
        gs_smoothed_verdict_reset(v, n, v->not_music_label, v->not_music_min);
        return;
    }
    if (!(smoothing >= 0.0f))
        smoothing = 0.0f;
    if (smoothing > 0.99f)
        smoothing = 0.99f;
    if (!v->have)
        smoothing = 0.0f; /* nothing to blend with yet */
    for (int i = 0; i < n; i++) {
        float p = smoothing * v->smoothed[i] + (1.0f - smoothing) * probs[i];
        v->smoothed[i] = p < 0.0f ? 0.0f : (p > 1.0f ? 1.0f : p);
    }
    v->have = 1;
    gs_verdict d = gs_verdict_decide_labels(v->smoothed, n, v->not_music_label, v->not_music_min, 1);
    v->genre = d.kind == GS_VERDICT_GENRE ? d.label : -1;
    v->confidence = d.confidence;
    v->not_music = d.not_music;
}
