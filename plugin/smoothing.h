/* The verdict shown on the output ports: exponential smoothing of the
 * worker's per-window probabilities, then the core's decision
 * (genrescope/verdict.h) on the smoothed values. Pure logic, no I/O, no
 * allocation: it runs in the audio thread (work_response). */
#ifndef GS_PLUGIN_SMOOTHING_H
#define GS_PLUGIN_SMOOTHING_H

#include "genrescope/model.h" /* GS_MAX_LABELS */

typedef struct gs_smoothed_verdict {
    int num_labels;
    int not_music_label; /* index or -1 (the model has none) */
    float not_music_min; /* the model's not-music threshold */
    int have;            /* 1 once a non-silent window was seen */
    int genre;           /* -1: nothing to report (silence, not
                                        music, no data) */
    float confidence;    /* smoothed[genre], 0 when genre is -1 */
    float not_music;     /* smoothed not-music probability */
    float smoothed[GS_MAX_LABELS];
} gs_smoothed_verdict;

/* num_labels is clamped to 0..GS_MAX_LABELS; not_music_label outside
 * 0..num_labels-1 means none; not_music_min is the model's not-music
 * threshold (gs_model_not_music_min_probability; outside (0, 1] means the
 * core's default). */
void gs_smoothed_verdict_reset(gs_smoothed_verdict *v, int num_labels, int not_music_label, float not_music_min);

/* Folds one window's probabilities in. smoothing in [0, 1) is the weight of
 * the previous state (0: show the latest window as is); out-of-range or NaN
 * values are clamped. A silent window (num_patches == 0, or probabilities
 * that are all zero or not finite) resets the verdict to "none" at once, so
 * silence never keeps showing a genre. */
void gs_smoothed_verdict_update(gs_smoothed_verdict *v, const float *probs, int num_patches, float smoothing);

#endif
