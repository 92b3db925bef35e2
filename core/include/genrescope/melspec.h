/* Log-mel spectrogram front-end (FFTW3 single precision).
 *
 * Frames are not centred: frame t covers samples [t*hop, t*hop + n_fft) of
 * the stream, windowed by a periodic Hann window, so a signal of n samples
 * gives 1 + (n - n_fft) / hop frames (0 if n < n_fft). Each frame is
 * n_mels values ln(sum_k fb[m][k] * |X_k|^2 + log_offset), with a Slaney-
 * scale, Slaney-normalised filterbank (librosa's default). The streaming and
 * whole-buffer paths give identical frames. */
#ifndef GENRESCOPE_MELSPEC_H
#define GENRESCOPE_MELSPEC_H

#include "genrescope/api.h"

#include <stddef.h>

#include "genrescope/error.h"
#include "genrescope/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_mel gs_mel;

/* Creates a front-end for params (validated). filterbank, when not NULL, is
 * an [n_mels][n_fft/2+1] matrix to use instead of the computed one (a model
 * may carry its own); it is copied. All buffers are allocated here; push and
 * pull allocate nothing. Not thread-safe: one per thread. FFTW planning is
 * serialised internally and FFTW's planner is made thread-safe once, so
 * other code in the process may plan concurrently. Caller frees with gs_mel_free(). */
GS_API gs_mel *gs_mel_new(const gs_frontend_params *params, const float *filterbank, gs_error *err);
GS_API void gs_mel_free(gs_mel *mel);

GS_API int gs_mel_num_bands(const gs_mel *mel);
/* The filterbank in use, [n_mels][n_fft/2+1], owned by mel. */
GS_API const float *gs_mel_filterbank(const gs_mel *mel);

/* Computes the Slaney filterbank for params into out ([n_mels][n_fft/2+1]). */
GS_API gs_status gs_mel_compute_filterbank(const gs_frontend_params *params, float *out, gs_error *err);

/* Number of frames the whole-buffer path gives for n samples. */
GS_API size_t gs_mel_num_frames(const gs_mel *mel, size_t n_samples);

/* Whole buffer: writes gs_mel_num_frames(n) frames of n_mels floats
 * (time-major) to out. Independent of any streaming state. */
GS_API gs_status gs_mel_compute(gs_mel *mel, const float *samples, size_t n_samples, float *out, gs_error *err);

/* Same, and when rms is not NULL also writes each frame's time-domain RMS
 * (the value gs_mel_pull reports) to rms[gs_mel_num_frames(n)]. */
GS_API gs_status gs_mel_compute_with_rms(gs_mel *mel, const float *samples, size_t n_samples, float *out, float *rms,
                                         gs_error *err);

/* Streaming: push blocks of 0..GS_MEL_MAX_PUSH samples, pulling frames until
 * gs_mel_pull returns 0 between pushes. The pending buffer holds
 * n_fft + GS_MEL_MAX_PUSH samples; a push that would overflow it returns
 * GS_ERR_INVALID and changes nothing. */
#define GS_MEL_MAX_PUSH 65536
GS_API gs_status gs_mel_push(gs_mel *mel, const float *samples, size_t n_samples, gs_error *err);
/* Writes the next frame's n_mels values to frame (and, if rms is not NULL,
 * the frame's time-domain RMS before windowing) and returns 1, or returns 0
 * when fewer than n_fft samples are pending. */
GS_API int gs_mel_pull(gs_mel *mel, float *frame, float *rms);
/* Forgets all pushed samples. */
GS_API void gs_mel_reset(gs_mel *mel);

#ifdef __cplusplus
}
#endif
#endif
