/* The verdict shown on the output ports: exponential smoothing of the
 * worker's per-window probabilities, then argmax. Pure logic, no I/O, no
 * allocation: it runs in the audio thread (work_response). */
#ifndef GS_PLUGIN_VERDICT_H
#define GS_PLUGIN_VERDICT_H

#include "genrescope/model.h" /* GS_MAX_LABELS */

typedef struct gs_verdict {
    int num_labels;
    int have;                        /* 1 once a non-silent window was seen */
    int genre;                       /* -1: nothing to report (silence, no data) */
    float confidence;                /* smoothed[genre], 0 when genre is -1 */
    float smoothed[GS_MAX_LABELS];
} gs_verdict;

/* num_labels is clamped to 0..GS_MAX_LABELS. */
void gs_verdict_reset(gs_verdict *v, int num_labels);

/* Folds one window's probabilities in. smoothing in [0, 1) is the weight of
 * the previous state (0: show the latest window as is); out-of-range or NaN
 * values are clamped. A silent window (num_patches == 0, or probabilities
 * that are all zero or not finite) resets the verdict to "none" at once, so
 * silence never keeps showing a genre. */
void gs_verdict_update(gs_verdict *v, const float *probs, int num_patches, float smoothing);

#endif
