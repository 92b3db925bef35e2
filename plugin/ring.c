/* The audio thread's hand-over of samples to the worker (ring.h): release
 * and acquire on the running counters, no locks. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

int gs_ring_init(gs_ring *ring, size_t min_capacity)
{
    memset(ring, 0, sizeof *ring);
    if (min_capacity == 0 || min_capacity > ((size_t)1 << 40))
        return -1;
    size_t cap = 1;
    while (cap < min_capacity)
        cap <<= 1;
    ring->data = calloc(cap, sizeof *ring->data);
    if (!ring->data)
        return -1;
    ring->capacity = cap;
    ring->mask = cap - 1;
    atomic_init(&ring->write_pos, 0);
    atomic_init(&ring->read_pos, 0);
    return 0;
}

void gs_ring_destroy(gs_ring *ring)
{
    free(ring->data);
    memset(ring, 0, sizeof *ring);
}

void gs_ring_reset(gs_ring *ring)
{
    atomic_store(&ring->write_pos, 0);
    atomic_store(&ring->read_pos, 0);
}

size_t gs_ring_write_space(const gs_ring *ring)
{
    uint64_t w = atomic_load_explicit(&ring->write_pos, memory_order_relaxed);
    /* acquire: the consumer finished reading those slots before publishing */
    uint64_t r = atomic_load_explicit(&ring->read_pos, memory_order_acquire);
    return ring->capacity - (size_t)(w - r);
}

uint64_t gs_ring_written(const gs_ring *ring)
{
    return atomic_load_explicit(&ring->write_pos, memory_order_relaxed);
}

size_t gs_ring_regions(gs_ring *ring, size_t n, float **a, size_t *na, float **b, size_t *nb)
{
    size_t space = gs_ring_write_space(ring);
    if (n > space)
        n = space;
    size_t start = (size_t)atomic_load_explicit(&ring->write_pos, memory_order_relaxed) & ring->mask;
    size_t first = ring->capacity - start;
    if (first > n)
        first = n;
    *a = ring->data + start;
    *na = first;
    *b = ring->data;
    *nb = n - first;
    return n;
}

void gs_ring_commit(gs_ring *ring, size_t n)
{
    uint64_t w = atomic_load_explicit(&ring->write_pos, memory_order_relaxed);
    /* release: the samples are visible before the consumer sees the count */
    atomic_store_explicit(&ring->write_pos, w + n, memory_order_release);
}

size_t gs_ring_write(gs_ring *ring, const float *src, size_t n)
{
    float *a, *b;
    size_t na, nb;
    n = gs_ring_regions(ring, n, &a, &na, &b, &nb);
    memcpy(a, src, na * sizeof *src);
    if (nb)
        memcpy(b, src + na, nb * sizeof *src);
    gs_ring_commit(ring, n);
    return n;
}

size_t gs_ring_read_space(const gs_ring *ring)
{
    uint64_t w = atomic_load_explicit(&ring->write_pos, memory_order_acquire);
    uint64_t r = atomic_load_explicit(&ring->read_pos, memory_order_relaxed);
    return (size_t)(w - r);
}

size_t gs_ring_read(gs_ring *ring, float *dst, size_t n, uint64_t limit)
{
    uint64_t w = atomic_load_explicit(&ring->write_pos, memory_order_acquire);
    uint64_t r = atomic_load_explicit(&ring->read_pos, memory_order_relaxed);
    if (limit < w)
        w = limit;
    if (w <= r)
        return 0;
    if (n > w - r)
        n = (size_t)(w - r);
    size_t start = (size_t)r & ring->mask;
    size_t first = ring->capacity - start;
    if (first > n)
        first = n;
    memcpy(dst, ring->data + start, first * sizeof *dst);
    if (n > first)
        memcpy(dst + first, ring->data, (n - first) * sizeof *dst);
    atomic_store_explicit(&ring->read_pos, r + n, memory_order_release);
    return n;
}
