/* Dot products, cosines and top-k selection (similarity.h). */
#include "similarity.h"

#include <math.h>

float gs_dot(const float *a, const float *b, size_t n)
{
    /* Four partial sums let the compiler vectorise without -ffast-math. */
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

float gs_cosine(const float *a, const float *b, size_t n)
{
    double na = 0, nb = 0, ab = 0;
    for (size_t i = 0; i < n; i++) {
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
        ab += (double)a[i] * b[i];
    }
    if (na <= 0 || nb <= 0)
        return 0.0f;
    return (float)(ab / (sqrt(na) * sqrt(nb)));
}

/* Min-heap on score: the root is the worst of the k kept so far. */
static void sift_down(gs_scored *h, size_t count, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < count && h[l].score < h[m].score)
            m = l;
        if (r < count && h[r].score < h[m].score)
            m = r;
        if (m == i)
            return;
        gs_scored t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

void gs_topk_push(gs_scored *heap, size_t k, size_t *count, long index, float score)
{
    /* A NaN score (a damaged embedding) would break the heap's order and
     * could come out first: such a track is never a candidate. */
    if (k == 0 || !(score == score))
        return;
    if (*count < k) {
        size_t i = (*count)++;
        heap[i].index = index;
        heap[i].score = score;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (heap[p].score <= heap[i].score)
                break;
            gs_scored t = heap[p];
            heap[p] = heap[i];
            heap[i] = t;
            i = p;
        }
    } else if (score > heap[0].score) {
        heap[0].index = index;
        heap[0].score = score;
        sift_down(heap, *count, 0);
    }
}

void gs_topk_sort(gs_scored *heap, size_t count)
{
    /* Heap sort with the min-heap: repeatedly move the worst to the end,
     * which leaves the array best first. */
    for (size_t n = count; n > 1; n--) {
        gs_scored t = heap[0];
        heap[0] = heap[n - 1];
        heap[n - 1] = t;
        sift_down(heap, n - 1, 0);
    }
}
