/* A cheap identity for a file as it is, so a scan recognises a file that
 * was moved or renamed without decoding it: the size and the first and last
 * 64 KiB. A copy or a move keeps it; any tag edit or re-encode changes it
 * (the audio digest of the analysis, gs_track_result.audio_digest, still
 * finds a moved file whose tags were edited). */
#ifndef GS_TAGGER_FILE_DIGEST_H
#define GS_TAGGER_FILE_DIGEST_H

#include <stdint.h>

/* gs_fnv1a64, which the digest and the walk's shards are keyed by. */
#include "genrescope/fnv1a.h"

/* Digest of the regular file at path, which must be size bytes long (as
 * the walk saw it). 0 on success with *out never 0; -1 when the file cannot
 * be read or is not a regular file of that size (errno says why). Reads at
 * most 128 KiB. */
int gs_file_digest(const char *path, int64_t size, uint64_t *out);

#endif
