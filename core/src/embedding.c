/* The one L2 normalisation of embeddings (genrescope/embedding.h): the
 * classifier's and the tagger's must give the same floats, or a stored
 * embedding and a freshly computed one would disagree. */
#include "genrescope/embedding.h"

#include <math.h>

void gs_l2_normalise(float *v, size_t n)
{
    double norm = 0.0;
    for (size_t i = 0; i < n; i++)
        norm += (double)v[i] * v[i];
    if (norm <= 0.0)
        return;
    float scale = (float)(1.0 / sqrt(norm));
    for (size_t i = 0; i < n; i++)
        v[i] *= scale;
}
