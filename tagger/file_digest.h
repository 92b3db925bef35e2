/* A cheap identity for a file as it is, so a scan recognises a file that
 * was moved or renamed without decoding it: the size and the first and last
 * 64 KiB. A copy or a move keeps it; any tag edit or re-encode changes it
 * (the audio digest of the analysis, gs_track_result.audio_digest, still
 * finds a moved file whose tags were edited). */
#ifndef GS_TAGGER_FILE_DIGEST_H
#define GS_TAGGER_FILE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits, over n bytes, continuing from h (start with
 * GS_FNV1A64_INIT): stable across builds and machines, so what it keys
 * (shards, file digests) never moves. Not a defence against crafted
 * collisions. */
#define GS_FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t gs_fnv1a64(uint64_t h, const void *data, size_t n);

/* Digest of the regular file at path, which must be size bytes long (as
 * the walk saw it). 0 on success with *out never 0; -1 when the file cannot
 * be read or is not a regular file of that size (errno says why). Reads at
 * most 128 KiB. */
int gs_file_digest(const char *path, int64_t size, uint64_t *out);

#endif
