/* Window accumulation (classify_window.c): the network outputs of
 * classified patches summed per verdict window and per track, and the
 * finished windows' verdicts. Not part of the API. */
#ifndef GS_CLASSIFY_WINDOW_H
#define GS_CLASSIFY_WINDOW_H

#include "genrescope/classify.h"

/* Sums over a set of patches (a window's, a track's): their means are the
 * verdict's probabilities and embedding. */
typedef struct gs_patch_sums {
    int num_labels, embedding_size;
    int num_patches; /* classified */
    int num_silent;
    double *probs; /* [num_labels] */
    double *embed; /* [embedding_size]; NULL when embedding_size is 0 */
} gs_patch_sums;

/* Allocates the sums (zeroed). embedding_size 0: probabilities only.
 * Returns GS_ERR_NOMEM (no message); free with gs_patch_sums_free either way. */
gs_status gs_patch_sums_init(gs_patch_sums *s, int num_labels, int embedding_size);
void gs_patch_sums_free(gs_patch_sums *s);
void gs_patch_sums_reset(gs_patch_sums *s);

/* Adds one classified patch: num_labels probabilities and, when the sums
 * keep them, embedding_size activations. */
void gs_patch_sums_add(gs_patch_sums *s, const float *probs, const float *embed);

/* out[i] = sum[i] / count for n values, all 0 when count is 0: the mean of
 * what gs_patch_sums_add summed. */
void gs_patch_sums_mean(const double *sum, int n, int count, float *out);

/* The streaming path's verdict so far. Patches arrive in window order, so
 * one window is open at a time; it is closed (its verdict recorded) when a
 * patch of a later window arrives, and at the end of the track. */
typedef struct gs_track_sums {
    const gs_model *model;      /* calibration, verdict, window length */
    int window_index;           /* the open window, -1 when none is */
    gs_patch_sums window;       /* the open window's patches */
    gs_patch_sums track;        /* every patch of the track */
    gs_window_verdict *windows; /* [capacity] closed windows; their probabilities and
                                      embedding are NULL (set by the result) */
    float *window_probs;        /* [capacity][num_labels], calibrated */
    float *window_embeds;       /* [capacity][embedding_size], L2-normalised */
    int num_windows, capacity;  /* grown at window boundaries */
} gs_track_sums;

/* Allocates the window and track sums for model's labels and embedding_size
 * (the closed-window list grows later). Returns GS_ERR_NOMEM (no message);
 * free with gs_track_sums_free either way. */
gs_status gs_track_sums_init(gs_track_sums *t, const gs_model *model, int embedding_size);
void gs_track_sums_free(gs_track_sums *t);

/* Starts a new track: no window open, no window closed, sums zero. */
void gs_track_sums_reset(gs_track_sums *t);

/* Makes window the open one, closing the open window first when it is
 * another. Errors: GS_ERR_NOMEM (no message) growing the closed-window list. */
gs_status gs_track_sums_enter(gs_track_sums *t, int window);

/* Counts a classified patch of the open window (and of the track). */
void gs_track_sums_add(gs_track_sums *t, const float *probs, const float *embed);

/* Counts a silent patch of the open window (and of the track). */
void gs_track_sums_silent(gs_track_sums *t);

/* Closes the open window, if any: the end of the track. Errors as
 * gs_track_sums_enter. */
gs_status gs_track_sums_close(gs_track_sums *t);

#endif
