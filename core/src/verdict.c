/* See genrescope/verdict.h. Comparisons are written so that NaN is never
 * greater than anything: a broken network output cannot become a genre. */
#include "genrescope/verdict.h"

#include <math.h>

gs_verdict gs_verdict_decide_labels(const float *probabilities, int n, int nm, float not_music_min, int num_patches)
{
    if (!(not_music_min > 0.0f && not_music_min <= 1.0f))
        not_music_min = GS_NOT_MUSIC_THRESHOLD;
    gs_verdict v = {.kind = GS_VERDICT_SILENT, .label = -1, .confidence = 0.0f, .not_music = 0.0f};
    if (num_patches <= 0 || !probabilities || n <= 0)
        return v;
    if (nm >= n)
        nm = -1;
    /* One non-finite value means the network's output is broken: no part
     * of it is trusted. */
    for (int i = 0; i < n; i++) {
        if (!isfinite(probabilities[i])) {
            v.kind = GS_VERDICT_INVALID;
            return v;
        }
    }
    if (nm >= 0)
        v.not_music = probabilities[nm];
    int best = -1;
    for (int i = 0; i < n; i++)
        if (i != nm && (best < 0 || probabilities[i] > probabilities[best]))
            best = i;
    if (best < 0) {
        v.kind = GS_VERDICT_INVALID;
        return v;
    }
    if (nm >= 0 && v.not_music >= not_music_min) {
        v.kind = GS_VERDICT_NOT_MUSIC;
        return v;
    }
    v.kind = GS_VERDICT_GENRE;
    v.label = best;
    v.confidence = probabilities[best];
    return v;
}

void gs_calibrate_probabilities(float *p, int n, float temperature)
{
    if (!p || n <= 0 || n > GS_MAX_LABELS || !isfinite(temperature) || temperature <= 0.0f || temperature == 1.0f)
        return;
    const double beta = 1.0 / (double)temperature;
    double max_log = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (!isfinite(p[i]) || p[i] < 0.0f)
            return;
        if (p[i] > 0.0f && log((double)p[i]) > max_log)
            max_log = log((double)p[i]);
    }
    if (max_log == -INFINITY)
        return; /* all zero */
    /* exp(beta * (log p - max)) keeps the largest term at 1: no overflow
     * for any temperature. */
    double sum = 0.0;
    double q[GS_MAX_LABELS];
    for (int i = 0; i < n; i++) {
        q[i] = p[i] > 0.0f ? exp(beta * (log((double)p[i]) - max_log)) : 0.0;
        sum += q[i];
    }
    for (int i = 0; i < n; i++)
        p[i] = (float)(q[i] / sum);
}

const char *gs_verdict_kind_name(gs_verdict_kind kind)
{
    switch (kind) {
    case GS_VERDICT_SILENT: return "silent";
    case GS_VERDICT_GENRE: return "genre";
    case GS_VERDICT_NOT_MUSIC: return "not-music";
    case GS_VERDICT_INVALID: return "invalid";
    }
    return "invalid";
}
