/* See genrescope/verdict.h. Comparisons are written so that NaN is never
 * greater than anything: a broken network output cannot become a genre. */
#include "genrescope/verdict.h"

#include <math.h>

gs_verdict gs_verdict_decide_labels(const float *probabilities, int n, int nm, int num_patches)
{
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
    if (nm >= 0 && v.not_music >= GS_NOT_MUSIC_THRESHOLD) {
        v.kind = GS_VERDICT_NOT_MUSIC;
        return v;
    }
    v.kind = GS_VERDICT_GENRE;
    v.label = best;
    v.confidence = probabilities[best];
    return v;
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
