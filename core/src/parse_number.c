/* The strict number parsers of genrescope/parse_number.h. */
#include "genrescope/parse_number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* strto* stopped at end having set errno as it does: 0 when it consumed
 * the whole, non-empty string without a range error. */
static int strict_end(const char *s, const char *end)
{
    return errno || end == s || *end ? -1 : 0;
}

int gs_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (strict_end(s, end) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int gs_parse_int(const char *s, int min, int max, int *out)
{
    long v;
    if (gs_parse_long(s, min, max, &v))
        return -1;
    *out = (int)v;
    return 0;
}

int gs_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (strict_end(s, end) || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int gs_parse_float(const char *s, float min, float max, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (strict_end(s, end) || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
