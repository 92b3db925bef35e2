/* Single-producer single-consumer lock-free ring of floats.
 *
 * The audio thread (producer) writes downmixed host-rate samples; the LV2
 * worker (consumer) drains them. Positions are 64-bit running counters that
 * never wrap in practice, so "how much was ever written" doubles as a time
 * stamp the worker can drain up to. Only init/destroy/reset allocate or
 * require exclusive access; everything else is wait-free and allocation-free. */
#ifndef GS_PLUGIN_RING_H
#define GS_PLUGIN_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gs_ring {
    float *data;
    size_t capacity; /* power of two */
    size_t mask;
    _Atomic uint64_t write_pos; /* stored by the producer only */
    _Atomic uint64_t read_pos;  /* stored by the consumer only */
} gs_ring;

/* Allocates a ring holding at least min_capacity samples (rounded up to a
 * power of two). Returns 0, or -1 when out of memory / min_capacity is 0. */
int gs_ring_init(gs_ring *ring, size_t min_capacity);
void gs_ring_destroy(gs_ring *ring);
/* Empties the ring; neither side may run concurrently. */
void gs_ring_reset(gs_ring *ring);

/* Producer: free space, and the running count of samples written. */
size_t gs_ring_write_space(const gs_ring *ring);
uint64_t gs_ring_written(const gs_ring *ring);
/* Producer, zero-copy: exposes up to n writable samples as at most two
 * contiguous regions (a then b) and returns their total; fill them, then
 * publish with gs_ring_commit(). */
size_t gs_ring_regions(gs_ring *ring, size_t n, float **a, size_t *na, float **b, size_t *nb);
void gs_ring_commit(gs_ring *ring, size_t n);
/* Producer convenience: copies up to n samples; returns how many fitted. */
size_t gs_ring_write(gs_ring *ring, const float *src, size_t n);

/* Consumer: samples available, and a copy of at most n of them that were
 * written before position limit (UINT64_MAX: no limit). Returns the count. */
size_t gs_ring_read_space(const gs_ring *ring);
size_t gs_ring_read(gs_ring *ring, float *dst, size_t n, uint64_t limit);

#endif
