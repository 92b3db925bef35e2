/* The BLAS thread policy, in the one module that calls the BLAS: callers
 * say how many threads they want and need not know it is OpenBLAS. */
#include "genrescope/cnn.h"

#include <cblas.h>

void gs_net_set_blas_threads(int threads)
{
    if (threads > 0)
        openblas_set_num_threads(threads);
}
