/* Calibration of held-out predictions: the temperature that makes averaged
 * probabilities mean what they say (gs_calibrate_probabilities in core
 * applies it), and the expected calibration error that measures it. */
#ifndef GS_TRAIN_CALIBRATE_H
#define GS_TRAIN_CALIBRATE_H

#include "genrescope/error.h"

/* Fits T minimising the mean negative log-likelihood of the true labels
 * under softmax(log p / T), over n examples of k probabilities (row-major,
 * borrowed) with labels[i] in 0..k-1. Probabilities are floored at 1e-12
 * before the log. The loss is convex in 1/T, so bisection on its derivative
 * over T in [0.05, 20] finds the optimum (to 1e-9 in 1/T); an optimum
 * outside the range is clamped to it. Errors: GS_ERR_INVALID for n < 1,
 * k < 2, a label out of range or a non-finite or negative probability. */
gs_status gs_fit_temperature(const float *probs, const int *labels, int n, int k, double *temperature, gs_error *err);

/* Mean negative log-likelihood of the true labels after calibration at
 * temperature (1: as given). Same input rules as gs_fit_temperature;
 * returns -1 on invalid input. */
double gs_calibrated_nll(const float *probs, const int *labels, int n, int k, double temperature);

/* Expected calibration error of top-1 predictions: examples binned by
 * their top probability into `bins` equal-width bins over [0, 1]; the mean
 * over bins, weighted by bin size, of |accuracy - mean confidence|.
 * Probabilities are used as given (calibrate first). bins_out, when not
 * NULL, receives per bin: count, mean confidence, accuracy (3 * bins
 * doubles). Returns -1 on invalid input. */
double gs_expected_calibration_error(const float *probs, const int *labels, int n, int k, int bins, double *bins_out);

/* Reads a --predictions CSV (stem, fold, label, predicted, p_<label>...),
 * fits the temperature on its clips whose true label is one of labels
 * (num_labels, the model's order; every label needs its p_ column) and is
 * not GS_NOT_MUSIC_LABEL, and returns the model's "calibration" metadata in
 * *out (caller frees with cJSON_Delete): method, temperature, and how it was
 * fitted (file, clips, NLL and 15-bin ECE before and after). Errors:
 * GS_ERR_IO (cannot read), GS_ERR_FORMAT (a malformed line or missing
 * column, named), GS_ERR_INVALID (no usable clip). */
struct cJSON;
gs_status gs_calibration_from_predictions(const char *csv_path, const char *const *labels, int num_labels,
                                          struct cJSON **out, gs_error *err);

#endif
