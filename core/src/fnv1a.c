/* The one FNV-1a (genrescope/fnv1a.h). */
#include "genrescope/fnv1a.h"

uint64_t gs_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
