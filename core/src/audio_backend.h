/* Internal interface between the streaming front (audio.c) and the decoders
 * (audio_sndfile.c, audio_ffmpeg.c). A backend hands out mono float frames at
 * the file's own rate; audio.c resamples them. Backends downmix themselves
 * because a stream's channel count may change between FFmpeg frames, and
 * they count non-finite samples before averaging hides them. */
#ifndef GS_AUDIO_BACKEND_H
#define GS_AUDIO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "genrescope/audio.h"

/* Frames a backend decodes per internal block. Bounded so memory is
 * bounded; capped further for very wide files (see gs_audio_block_frames). */
#define GS_AUDIO_BLOCK_FRAMES 4096

typedef struct gs_audio_backend gs_audio_backend;

struct gs_audio_backend {
    /* Reads up to max_frames mono frames at the source rate into out.
     * Returns frames written (0 only at the end of the stream) or a negative
     * gs_status with *err set. Adds replaced NaN/Inf samples to *nonfinite. */
    long (*read)(gs_audio_backend *self, float *out, size_t max_frames, int64_t *nonfinite, gs_error *err);
    void (*close)(gs_audio_backend *self);
};

/* Each opener fills info's source_* fields, duration, decoder and format.
 * On failure it returns NULL with *err set (message includes the path). */

/* Returns the backend, or NULL with *err set. *unrecognised is set to 1 when
 * libsndfile does not know the container or encoding (FFmpeg should try). */
gs_audio_backend *gs_audio_sndfile_open(const char *path, gs_audio_info *info, int *unrecognised, gs_error *err);
gs_audio_backend *gs_audio_ffmpeg_open(const char *path, gs_audio_info *info, gs_error *err);

/* Frames per decode block for a file with this many channels: the block of
 * interleaved samples stays at most GS_AUDIO_BLOCK_FRAMES * 16 floats. */
size_t gs_audio_block_frames(int channels);

/* Averages interleaved frames to mono; NaN/Inf samples count as 0 and are
 * added to *nonfinite. in and out must not overlap unless channels == 1. */
void gs_audio_downmix(const float *in, size_t frames, int channels, float *out, int64_t *nonfinite);

#endif
