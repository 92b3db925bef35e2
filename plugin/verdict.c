#include "verdict.h"

#include <math.h>
#include <string.h>

void gs_verdict_reset(gs_verdict *v, int num_labels)
{
    memset(v, 0, sizeof *v);
    if (num_labels < 0)
        num_labels = 0;
    if (num_labels > GS_MAX_LABELS)
        num_labels = GS_MAX_LABELS;
    v->num_labels = num_labels;
    v->genre = -1;
}

void gs_verdict_update(gs_verdict *v, const float *probs, int num_patches, float smoothing)
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
        gs_verdict_reset(v, n);
        return;
    }
    if (!(smoothing >= 0.0f))
        smoothing = 0.0f;
    if (smoothing > 0.99f)
        smoothing = 0.99f;
    if (!v->have)
        smoothing = 0.0f; /* nothing to blend with yet */
    int best = 0;
    for (int i = 0; i < n; i++) {
        float p = smoothing * v->smoothed[i] + (1.0f - smoothing) * probs[i];
        v->smoothed[i] = p < 0.0f ? 0.0f : (p > 1.0f ? 1.0f : p);
        if (v->smoothed[i] > v->smoothed[best])
            best = i;
    }
    v->have = 1;
    v->genre = best;
    v->confidence = v->smoothed[best];
}
