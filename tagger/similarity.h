/* Cosine similarity of float32 embeddings and top-k selection, shared by
 * the CLI and the loadable SQLite extension. */
#ifndef GS_TAGGER_SIMILARITY_H
#define GS_TAGGER_SIMILARITY_H

#include <stddef.h>

/* gs_l2_normalise, which every embedding here has been through. */
#include "genrescope/embedding.h"

/* Cosine of a and b (n floats); 0 if either has zero norm. */
float gs_cosine(const float *a, const float *b, size_t n);

/* Dot product (for vectors already L2-normalised). */
float gs_dot(const float *a, const float *b, size_t n);

typedef struct gs_scored {
    long index;
    float score;
} gs_scored;

/* Keeps the k best (highest score) of a stream: call gs_topk_push for each
 * candidate into heap (capacity k, *count starts at 0), then gs_topk_sort
 * to order the result best first. */
void gs_topk_push(gs_scored *heap, size_t k, size_t *count, long index, float score);
void gs_topk_sort(gs_scored *heap, size_t count);

#endif
