/* From probabilities to an answer people can act on: a genre, "not music",
 * or nothing (silence). One definition, used for track and window verdicts
 * by the classifier, and by the plugin and the tagger through them.
 *
 * - No classified patch (all silent): GS_VERDICT_SILENT.
 * - The model has a not-music label and its probability reaches the
 *   model's not-music threshold: GS_VERDICT_NOT_MUSIC. The threshold is 0.5
 *   (more likely not music than music) unless the model carries one chosen
 *   on held-out music ("not_music_decision": a lower one catches sounds the
 *   model half-recognises as music, at a measured cost in music rejected).
 * - Else GS_VERDICT_GENRE: the most probable genre label and its probability
 *   (the model's calibrated probability that this is music of that genre).
 * A non-finite probability anywhere means a broken network output:
 * GS_VERDICT_INVALID, never a genre. Whether a genre is sure enough
 * to act on (tag a file) is the caller's threshold on confidence. */
#ifndef GENRESCOPE_VERDICT_H
#define GENRESCOPE_VERDICT_H

#include "genrescope/api.h"

#include "genrescope/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The not-music threshold of a model that sets none. */
#define GS_NOT_MUSIC_THRESHOLD 0.5f
/* The name genrescope-train gives the not-music label (a model may use
 * another: its "not_music_label" metadata is what counts). */
#define GS_NOT_MUSIC_LABEL "notmusic"

typedef enum gs_verdict_kind {
    GS_VERDICT_SILENT = 0,    /* nothing to judge */
    GS_VERDICT_GENRE = 1,     /* label is a genre */
    GS_VERDICT_NOT_MUSIC = 2, /* noise, tones, speech...: no genre */
    GS_VERDICT_INVALID = 3    /* the probabilities were not numbers */
} gs_verdict_kind;

typedef struct gs_verdict {
    gs_verdict_kind kind;
    int label;        /* best genre label for GS_VERDICT_GENRE, else -1 */
    float confidence; /* probability of label; 0 unless GS_VERDICT_GENRE */
    float not_music;  /* probability of the not-music label (0 when the model
                         has none or it is not finite) */
} gs_verdict;

/* Decides the verdict for probabilities (num_labels values, borrowed)
 * averaged over num_patches patches; not_music_label is the index of the
 * not-music label or -1; not_music_min_probability is the threshold (one
 * outside (0, 1] means GS_NOT_MUSIC_THRESHOLD). probabilities may be NULL
 * only when num_patches is 0. Pure: no allocation, safe in a real-time
 * thread. Never fails. */
GS_API gs_verdict gs_verdict_decide_labels(const float *probabilities, int num_labels, int not_music_label,
                                           float not_music_min_probability, int num_patches);

/* The same with the label count, not-music label and threshold of model
 * (borrowed, not NULL). Inline so that pure users of the decision (the plugin's audio
 * thread logic) need not link the model module. */
static inline gs_verdict gs_verdict_decide(const gs_model *model, const float *probabilities, int num_patches)
{
    return gs_verdict_decide_labels(probabilities, gs_model_num_labels(model), gs_model_not_music_label(model),
                                    gs_model_not_music_min_probability(model), num_patches);
}

/* Temperature calibration of averaged probabilities (in place):
 * p_i <- p_i^(1/T) / sum_j p_j^(1/T), i.e. a softmax of log p / T, which
 * keeps the ranking and makes the confidence mean what it says once T is
 * fitted on held-out predictions (the model's "calibration" metadata).
 * T = 1 (or not finite, or <= 0) leaves p as is. A vector with a
 * non-finite value is left alone (the verdict reports it as invalid); all
 * zeros stay zeros. Pure, no allocation. */
GS_API void gs_calibrate_probabilities(float *probabilities, int n, float temperature);

/* Stable lower-case name for JSON and the index: "silent", "genre",
 * "not-music", "invalid". */
GS_API const char *gs_verdict_kind_name(gs_verdict_kind kind);

#ifdef __cplusplus
}
#endif
#endif
