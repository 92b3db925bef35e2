/* The classic baseline: multinomial logistic regression on the per-band mean
 * and standard deviation of a clip's whole log-mel spectrogram (2 x n_mels
 * features, standardised with the training set's statistics, L2-regularised,
 * full-batch gradient descent: deterministic, no seed). */
#ifndef GS_TRAIN_BASELINE_H
#define GS_TRAIN_BASELINE_H

#include "genrescope/error.h"
#include "spec_cache.h"

/* out[0..n_mels) = band means, out[n_mels..2n_mels) = band stds. */
void gs_baseline_features(const gs_spec *spec, int n_mels, float *out);

typedef struct gs_logreg {
    int dim, num_labels;
    float *mean, *scale; /* standardisation, dim each */
    float *weight;       /* num_labels x (dim + 1), bias last */
} gs_logreg;

/* Fits on the rows of x (n x dim) whose use[i] is nonzero (use may be NULL). */
gs_status gs_logreg_fit(gs_logreg *m, const float *x, const int *y, const int *use, int n, int dim, int num_labels,
                        float l2, int iterations, gs_error *err);
/* Class probabilities of one row into probs[num_labels]; returns the argmax. */
int gs_logreg_predict(const gs_logreg *m, const float *row, float *probs);
void gs_logreg_free(gs_logreg *m);

#endif
