/* FNV-1a, 64 bits, defined once for everything that keys data by a hash:
 * the model id (core), the tagger's file digests and shards, the trainer's
 * spectrogram cache keys and clip-variant gains. Stable across builds and
 * machines, so what it keys never moves; not a defence against crafted
 * collisions.
 *
 * Internal: not installed, not exported from the shared library; in-tree
 * programs reach it through the core's internal include directory. */
#ifndef GENRESCOPE_FNV1A_H
#define GENRESCOPE_FNV1A_H

#include <stddef.h>
#include <stdint.h>

/* The standard FNV-1a 64-bit offset basis. */
#define GS_FNV1A64_INIT 0xcbf29ce484222325ULL

/* The hash of n bytes at data, continuing from h (GS_FNV1A64_INIT for a
 * fresh hash, or a previous result to hash several pieces as one). data may
 * be NULL when n is 0. Cannot fail. */
uint64_t gs_fnv1a64(uint64_t h, const void *data, size_t n);

#endif
