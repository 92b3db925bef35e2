/* Audio decoding: any file libsndfile reads (WAV, AIFF, FLAC, Ogg Vorbis,
 * Opus, MP3...) and, through FFmpeg's libavformat/libavcodec, what it cannot
 * (M4A/AAC, ALAC...). Output is mono float at a chosen rate, streamed in
 * blocks so memory stays bounded for files of any length.
 * Channels are averaged; non-finite samples (NaN/Inf) become 0 and are
 * counted, finite ones beyond +-1e4 (80 dB over full scale) are clamped, so
 * the output is always finite; resampling uses libsoxr (high quality,
 * streaming). */
#ifndef GENRESCOPE_AUDIO_H
#define GENRESCOPE_AUDIO_H

#include "genrescope/api.h"

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_audio_info {
    int source_rate; /* Hz of the file */
    int source_channels;
    int target_rate;           /* Hz of what gs_audio_read returns */
    int64_t source_frames;     /* frames in the file, -1 if unknown */
    double duration_seconds;   /* -1 if unknown */
    const char *decoder;       /* "sndfile" or "ffmpeg" */
    char format[64];           /* e.g. "FLAC", "MP3", "mov,mp4,m4a..." */
    int64_t nonfinite_samples; /* NaN/Inf samples replaced by 0 so far */
} gs_audio_info;

typedef struct gs_audio gs_audio;

/* Source sample rates outside this range are refused (GS_ERR_UNSUPPORTED):
 * nothing real lives there (768 kHz DXD with a margin at the top), and a
 * fake header must not cost memory. */
#define GS_AUDIO_MIN_SOURCE_RATE 1000
#define GS_AUDIO_MAX_SOURCE_RATE 1536000

/* Opens path for decoding to mono at target_rate Hz (8000..384000). Tries
 * libsndfile first, then FFmpeg (MPEG audio goes to FFmpeg directly: the
 * libmpg123 inside libsndfile prints to stderr). Errors: GS_ERR_IO (cannot
 * open/read, with the OS reason; also a FIFO, device or directory, which are
 * never opened for reading), GS_ERR_FORMAT (empty, truncated header, not
 * audio), GS_ERR_UNSUPPORTED (no decoder for the codec, or a source rate
 * outside GS_AUDIO_MIN_SOURCE_RATE..GS_AUDIO_MAX_SOURCE_RATE). Caller closes with
 * gs_audio_close(). */
GS_API gs_audio *gs_audio_open(const char *path, int target_rate, gs_error *err);
GS_API void gs_audio_close(gs_audio *audio);

GS_API const gs_audio_info *gs_audio_get_info(const gs_audio *audio);

/* Reads up to max_frames mono samples at the target rate into out. Returns
 * the number written, 0 at the end of the stream, or a negative gs_status
 * (decode error mid-file, e.g. truncated data) with *err set. Memory use is
 * bounded regardless of file length. */
GS_API long gs_audio_read(gs_audio *audio, float *out, size_t max_frames, gs_error *err);

/* Convenience for short files (tests, training): decodes everything into a
 * malloc'd buffer the caller frees with free(). */
GS_API gs_status gs_audio_decode_file(const char *path, int target_rate, float **samples, size_t *n_samples,
                                      gs_audio_info *info, gs_error *err);

/* 1 when the last component of path (a file name or a path) ends in an
 * extension of a format the decoder handles (wav, flac, mp3, ogg, opus, m4a,
 * aac, ...; case-insensitive), else 0. A name that is only an extension
 * (".mp3") is not audio. The single list every program uses; NULL gives 0. */
GS_API int gs_audio_is_audio_name(const char *path);

/* Finite samples beyond +-GS_AUDIO_SAMPLE_LIMIT (80 dB over full scale)
 * are clamped to it, by the decoder and by gs_audio_sanitize: nothing real
 * lives there, and they would overflow a resampler's filter sums or a
 * spectrum's power into Inf. */
#define GS_AUDIO_SAMPLE_LIMIT 1e4f

/* Samples smaller in magnitude than this (denormals among them) are 0 to
 * gs_audio_sanitize: far below anything audible, and slow to compute with. */
#define GS_AUDIO_SAMPLE_TINY 1e-30f

/* Makes samples safe to analyse: the one rule for audio that reaches the
 * analysis without the decoder (gs_classifier_push and the whole-window
 * calls, gs_sliding_push, the LV2 plugin before its resampler). NaN and
 * +-Inf become 0 and are counted; finite values beyond
 * +-GS_AUDIO_SAMPLE_LIMIT become +-GS_AUDIO_SAMPLE_LIMIT; values smaller in
 * magnitude than GS_AUDIO_SAMPLE_TINY become 0; the rest are copied. Writes
 * n samples to out, which may be in (in place) but must not otherwise
 * overlap it; both belong to the caller. Returns how many were NaN or Inf.
 * Cannot fail and allocates nothing (real-time safe). */
GS_API size_t gs_audio_sanitize(const float *in, size_t n, float *out);

/* ---- Streaming resampler (mono) ---------------------------------------- */

typedef struct gs_resampler gs_resampler;

/* Creates a mono resampler in_rate -> out_rate for blocks of at most
 * max_in_block input samples. Caller frees with gs_resampler_free(). */
GS_API gs_resampler *gs_resampler_new(double in_rate, double out_rate, size_t max_in_block, gs_error *err);
GS_API void gs_resampler_free(gs_resampler *r);
/* Maximum output samples one call can produce for max_in_block input. */
GS_API size_t gs_resampler_max_output(const gs_resampler *r);
/* Processes n_in (<= max_in_block) samples; in == NULL with n_in == 0
 * flushes the tail at end of stream. Writes up to out_capacity samples and
 * returns how many, or a negative gs_status. All input is always consumed;
 * output that does not fit (or exceeds gs_resampler_max_output) stays queued
 * for later calls. To drain at the end, repeat the flush call until it
 * returns 0; input after a flush is an error (GS_ERR_INVALID).
 * Real time: soxr may allocate during the first calls (until its internal
 * FIFOs reach their steady size for the block size), never afterwards; equal
 * rates never allocate. See core/src/resample.c for measurements. */
GS_API long gs_resampler_process(gs_resampler *r, const float *in, size_t n_in, float *out, size_t out_capacity,
                                 gs_error *err);

#ifdef __cplusplus
}
#endif
#endif
