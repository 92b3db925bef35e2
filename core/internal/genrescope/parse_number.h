/* Strict parsing of a number given on a command line or in a settings file,
 * defined once for the tagger and the trainer so both accept and refuse the
 * same text: the whole string must be the number (leading white space aside,
 * as strtol/strtod allow), within [min, max], and representable in the
 * type; otherwise nothing is stored. Callers word their own message (they
 * know the option and the range).
 *
 * Internal: not installed, not exported from the shared library; in-tree
 * programs reach it through the core's internal include directory. */
#ifndef GENRESCOPE_PARSE_NUMBER_H
#define GENRESCOPE_PARSE_NUMBER_H

/* A decimal integer within [min, max] into *out: 0, or -1 (not a whole
 * number, out of range or overflowing a long; *out untouched). */
int gs_parse_long(const char *s, long min, long max, long *out);
int gs_parse_int(const char *s, int min, int max, int *out);

/* A finite number within [min, max] into *out: 0, or -1 (not a number,
 * infinite or NaN, out of range, or overflowing the type; *out untouched).
 * gs_parse_float reads the text as a float (strtof), not as a double
 * rounded afterwards, and compares in float, so "0.95" is within a max of
 * 0.95f. min and max must be finite. */
int gs_parse_double(const char *s, double min, double max, double *out);
int gs_parse_float(const char *s, float min, float max, float *out);

#endif
