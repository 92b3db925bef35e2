/* Reads held-out predictions from stdin, one example per line:
 * "label,p0,p1,...", and prints the fitted calibration temperature with the
 * NLL and 15-bin ECE before and after (train/calibrate.c), for the numpy
 * reference check in tests/test_calibration.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "genrescope/verdict.h"

int main(void)
{
    size_t cap = 1024, n = 0;
    int k = 0;
    float *probs = malloc(cap * 64 * sizeof *probs);
    int *labels = malloc(cap * sizeof *labels);
    char line[8192];
    while (probs && labels && fgets(line, sizeof line, stdin)) {
        if (n == cap) {
            cap *= 2;
            probs = realloc(probs, cap * 64 * sizeof *probs);
            labels = realloc(labels, cap * sizeof *labels);
            if (!probs || !labels)
                break;
        }
        char *s = line, *end;
        labels[n] = (int)strtol(s, &end, 10);
        int j = 0;
        while (*end == ',' && j < 64) {
            s = end + 1;
            probs[n * 64 + (size_t)j++] = strtof(s, &end);
        }
        if (k == 0)
            k = j;
        if (j != k) {
            fprintf(stderr, "line %zu: %d probabilities, expected %d\n", n + 1, j, k);
            return 2;
        }
        n++;
    }
    if (!probs || !labels)
        return 2;
    /* Pack rows to k columns. */
    for (size_t i = 0; i < n; i++)
        memmove(probs + i * (size_t)k, probs + i * 64, (size_t)k * sizeof *probs);
    gs_error err;
    double t = 0;
    if (gs_fit_temperature(probs, labels, (int)n, k, &t, &err) != GS_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("temperature %.12g\n", t);
    printf("nll_before %.12g\n", gs_calibrated_nll(probs, labels, (int)n, k, 1.0));
    printf("nll_after %.12g\n", gs_calibrated_nll(probs, labels, (int)n, k, t));
    printf("ece_before %.12g\n", gs_expected_calibration_error(probs, labels, (int)n, k, 15, NULL));
    /* After: calibrate each row the way the core does at inference. */
    float *cal = malloc(n * (size_t)k * sizeof *cal);
    memcpy(cal, probs, n * (size_t)k * sizeof *cal);
    for (size_t i = 0; i < n; i++)
        gs_calibrate_probabilities(cal + i * (size_t)k, k, (float)t);
    printf("ece_after %.12g\n", gs_expected_calibration_error(cal, labels, (int)n, k, 15, NULL));
    free(cal);
    free(probs);
    free(labels);
    return 0;
}
