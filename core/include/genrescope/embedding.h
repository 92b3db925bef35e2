/* Embeddings: the classifier's track and window embeddings
 * (genrescope/classify.h) are L2-normalised, so the similarity of two is
 * their dot product. Whoever averages or stores embeddings (the tagger's
 * index and its cache) normalises them with the same function, so a
 * vector normalised twice or in another program gives the same floats. */
#ifndef GENRESCOPE_EMBEDDING_H
#define GENRESCOPE_EMBEDDING_H

#include "genrescope/api.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Scales the n floats at v (the caller's, changed in place) to unit L2
 * norm: the norm is summed in double and v multiplied by its float
 * reciprocal. A vector of zero norm (all zeros) is left as it is. Cannot
 * fail; v may be NULL when n is 0. */
GS_API void gs_l2_normalise(float *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
