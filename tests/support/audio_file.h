/* Writes test audio with libsndfile. Its own library (gs_test_audio) so only
 * the tests that write audio link libsndfile for it. */
#ifndef GS_TEST_AUDIO_FILE_H
#define GS_TEST_AUDIO_FILE_H

#include <stdint.h>

/* Writes frames of channels interleaved floats to path as one file of the
 * given SF_FORMAT_* (container | encoding). Clipping is off, so a float file
 * keeps NaN, Inf and out-of-range values as given. 0 on success; -1 when the
 * file cannot be created or written. */
int gs_test_write_audio(const char *path, int format, int rate, int channels, const float *data, int64_t frames);

#endif
