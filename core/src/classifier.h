/* The classifier object, as the files of the classify module share it. The
 * data flows through them in this order:
 *   classify_stream.c  samples -> front-end frames -> the patch plan's patches
 *                      (streaming path: begin / push / end of track)
 *   classify_whole.c   one window of samples -> its patches (whole-window path)
 *   classify_batch.c   patches -> one forward pass -> checked network outputs
 *   classify_window.c  outputs -> window and track sums -> window verdicts
 *   classify_track.c   sums -> the track result (gs_classifier_finish,
 *                      gs_classify_file)
 *   classify.c         the object's life: new, free, begin.
 * Every buffer is sized in gs_classifier_new; per-patch work only copies
 * into preallocated batch slots. Only window boundaries (growing the closed
 * window list) and finish allocate. Not part of the API. */
#ifndef GS_CLASSIFIER_H
#define GS_CLASSIFIER_H

#include "classify_batch.h"
#include "classify_internal.h"
#include "classify_window.h"

/* Samples handled per step of push and per decoder read. */
#define GS_CLASSIFY_CHUNK 4096
/* Front-end bands a classifier supports (the size of one pulled frame). */
#define GS_CLASSIFY_MAX_MELS 512

/* The streaming path's recent frames: enough to cut the next plan patch. */
typedef struct gs_frame_history {
    float *frames;         /* [capacity][n_mels], time-major, oldest first */
    float *rms;            /* [capacity], each frame's RMS */
    int capacity;          /* patch_frames + patch_hop_frames */
    int len;               /* frames held */
    long long start;       /* stream frame index of frames[0] */
    long long frames_seen; /* frames pulled since begin */
    long long patches_cut; /* plan patches cut (or counted silent) so far */
} gs_frame_history;

/* The whole-window path's buffers: one window analysed at once. */
typedef struct gs_whole_window {
    size_t samples_capacity; /* the model's window, in samples */
    float *samples;          /* [max(samples_capacity, n_fft)], sanitised input */
    size_t frames_capacity;  /* frames of samples_capacity samples, >= patch_frames */
    float *frames;           /* [frames_capacity][n_mels], time-major */
    float *rms;              /* [frames_capacity] */
    gs_patch_sums sums;      /* the window's patches, probabilities only */
} gs_whole_window;

struct gs_classifier {
    const gs_model *model;
    const gs_net *net;
    gs_net *owned_net; /* net, when built from the model; else NULL */
    gs_net_ctx *ctx;   /* workspace for GS_CLASSIFY_MAX_BATCH patches */
    gs_mel *mel;
    gs_frontend_params fp;
    int num_labels, n_mels, embedding_size;
    double window_frames; /* frames per verdict window (fractional) */

    gs_patch_batch batch; /* both paths; empty between calls */

    /* Streaming path. */
    gs_frame_history history;
    gs_track_sums sums;
    long long samples_seen;
    long long nonfinite;               /* NaN/Inf samples pushed */
    float scratch[GS_CLASSIFY_CHUNK];  /* sanitised copy of pushed samples */
    float frame[GS_CLASSIFY_MAX_MELS]; /* one pulled frame */
    float *pad;                        /* [n_fft] zeros: complete audio shorter than one FFT frame */
    gs_status deferred_status;         /* first failure inside push */
    gs_error deferred_error;

    float read_buffer[GS_CLASSIFY_CHUNK]; /* decoder output in gs_classify_file */

    gs_whole_window whole;
};

/* Streaming path (classify_stream.c). */
gs_status gs_frame_history_init(gs_frame_history *h, const gs_frontend_params *fp);
void gs_frame_history_free(gs_frame_history *h);
void gs_frame_history_reset(gs_frame_history *h);

/* Ends the track: cuts the plan's remaining patches (the tail patch, or the
 * repeated patch of audio shorter than one patch, completed with zeros to
 * one frame when shorter than that), classifies every queued patch and
 * closes the last window. *padded: the audio was shorter than one patch.
 * Errors: the front-end's or the network's, GS_ERR_NOMEM. */
gs_status gs_classify_stream_end(gs_classifier *cls, int *padded, gs_error *err);

/* Whole-window path (classify_whole.c). */
gs_status gs_whole_window_init(gs_whole_window *w, const gs_classifier *cls);
void gs_whole_window_free(gs_whole_window *w);

#endif
