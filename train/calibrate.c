/* Temperature calibration (calibrate.h): the fit, its loss and the
 * expected calibration error, plus the reader of --predictions CSV files
 * that --calibrate-from fits on. */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "genrescope/classify.h"
#include "genrescope/model.h"
#include "genrescope/verdict.h"

#define PROB_FLOOR 1e-12
#define T_MIN      0.05
#define T_MAX      20.0

static int valid_input(const float *probs, const int *labels, int n, int k)
{
    if (!probs || !labels || n < 1 || k < 2)
        return 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return 0;
        for (int j = 0; j < k; j++)
            if (!isfinite(probs[(size_t)i * k + j]) || probs[(size_t)i * k + j] < 0.0f)
                return 0;
    }
    return 1;
}

/* One example's loss at inverse temperature beta, and its derivative in
 * beta: loss = -beta l_y + log sum_j exp(beta l_j) with l = log p, so
 * d loss / d beta = E_q[l] - l_y where q = softmax(beta l). */
static void example_loss(const float *p, int y, int k, double beta, double *loss, double *grad)
{
    double lmax = -INFINITY;
    for (int j = 0; j < k; j++) {
        double l = log(fmax((double)p[j], PROB_FLOOR));
        if (l > lmax)
            lmax = l;
    }
    double z = 0.0, el = 0.0;
    for (int j = 0; j < k; j++) {
        double l = log(fmax((double)p[j], PROB_FLOOR));
        double e = exp(beta * (l - lmax));
        z += e;
        el += e * l;
    }
    double ly = log(fmax((double)p[y], PROB_FLOOR));
    if (loss)
        *loss = -beta * (ly - lmax) + log(z);
    if (grad)
        *grad = el / z - ly;
}

static double mean_grad(const float *probs, const int *labels, int n, int k, double beta)
{
    double g = 0.0;
    for (int i = 0; i < n; i++) {
        double gi;
        example_loss(probs + (size_t)i * k, labels[i], k, beta, NULL, &gi);
        g += gi;
    }
    return g / n;
}

gs_status gs_fit_temperature(const float *probs, const int *labels, int n, int k, double *temperature, gs_error *err)
{
    if (!temperature || !valid_input(probs, labels, n, k))
        return gs_error_set(err, GS_ERR_INVALID, "calibration: no usable predictions");
    double lo = 1.0 / T_MAX, hi = 1.0 / T_MIN;
    /* The derivative grows with beta (convex loss): its sign change is the
     * optimum; none inside means the optimum is at an end. */
    if (mean_grad(probs, labels, n, k, lo) >= 0.0) {
        *temperature = T_MAX;
        return GS_OK;
    }
    if (mean_grad(probs, labels, n, k, hi) <= 0.0) {
        *temperature = T_MIN;
        return GS_OK;
    }
    while (hi - lo > 1e-9) {
        double mid = 0.5 * (lo + hi);
        if (mean_grad(probs, labels, n, k, mid) < 0.0)
            lo = mid;
        else
            hi = mid;
    }
    *temperature = 2.0 / (lo + hi);
    return GS_OK;
}

double gs_calibrated_nll(const float *probs, const int *labels, int n, int k, double temperature)
{
    if (!valid_input(probs, labels, n, k) || !(temperature > 0.0))
        return -1.0;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        double li;
        example_loss(probs + (size_t)i * k, labels[i], k, 1.0 / temperature, &li, NULL);
        sum += li;
    }
    return sum / n;
}

double gs_expected_calibration_error(const float *probs, const int *labels, int n, int k, int bins, double *bins_out)
{
    if (!valid_input(probs, labels, n, k) || bins < 1)
        return -1.0;
    double *acc = calloc((size_t)bins * 3, sizeof *acc); /* count, sum conf, sum correct */
    if (!acc)
        return -1.0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int top = gs_argmax(p, k); /* k >= 2 (valid_input) */
        int b = (int)(p[top] * bins);
        if (b >= bins)
            b = bins - 1;
        acc[3 * b] += 1.0;
        acc[3 * b + 1] += p[top];
        acc[3 * b + 2] += top == labels[i];
    }
    double ece = 0.0;
    for (int b = 0; b < bins; b++) {
        double c = acc[3 * b];
        double conf = c > 0 ? acc[3 * b + 1] / c : 0.0, hit = c > 0 ? acc[3 * b + 2] / c : 0.0;
        ece += c / n * fabs(hit - conf);
        if (bins_out) {
            bins_out[3 * b] = c;
            bins_out[3 * b + 1] = conf;
            bins_out[3 * b + 2] = hit;
        }
    }
    free(acc);
    return ece;
}

/* Splits one CSV line in place into at most max fields (quotes as
 * run.c's csv_field writes them: "..." with "" for a quote). Returns the
 * count. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (!*p) {
                    break;
                } else {
                    *w++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                *w++ = *p++;
        }
        char end = *p;
        *w = '\0';
        fields[n++] = start;
        if (end != ',')
            break;
        p++;
    }
    return n;
}

gs_status gs_calibration_from_predictions(const char *csv_path, const char *const *labels, int num_labels, cJSON **out,
                                          gs_error *err)
{
    *out = NULL;
    FILE *f = fopen(csv_path, "r");
    if (!f)
        return gs_error_set(err, GS_ERR_IO, "cannot read %s", csv_path);
    enum { MAX_FIELDS = GS_MAX_LABELS + 8 };
    char *line = NULL;
    size_t cap = 0;
    char *fields[MAX_FIELDS];
    int column_of[GS_MAX_LABELS], label_col = -1, lineno = 0, n = 0, capacity = 0;
    float *probs = NULL;
    int *truth = NULL;
    gs_status st = GS_OK;
    for (int l = 0; l < num_labels; l++)
        column_of[l] = -1;
    while (st == GS_OK && getline(&line, &cap, f) >= 0) {
        lineno++;
        int nf = split_csv(line, fields, MAX_FIELDS);
        if (lineno == 1) {
            for (int c = 0; c < nf; c++) {
                if (!strcmp(fields[c], "label"))
                    label_col = c;
                for (int l = 0; l < num_labels; l++)
                    if (!strncmp(fields[c], "p_", 2) && !strcmp(fields[c] + 2, labels[l]))
                        column_of[l] = c;
            }
            for (int l = 0; l < num_labels && st == GS_OK; l++)
                if (column_of[l] < 0)
                    st = gs_error_set(err, GS_ERR_FORMAT, "%s: no column p_%s", csv_path, labels[l]);
            if (st == GS_OK && label_col < 0)
                st = gs_error_set(err, GS_ERR_FORMAT, "%s: no column 'label'", csv_path);
            continue;
        }
        if (nf == 1 && !fields[0][0])
            continue;
        int y = -1;
        for (int l = 0; l < num_labels && label_col < nf; l++)
            if (!strcmp(fields[label_col], labels[l]))
                y = l;
        if (y < 0 || !strcmp(labels[y], GS_NOT_MUSIC_LABEL))
            continue; /* another label set's clip, or never held out */
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 256;
            float *np = realloc(probs, (size_t)capacity * (size_t)num_labels * sizeof *np);
            int *nt = realloc(truth, (size_t)capacity * sizeof *nt);
            if (np)
                probs = np;
            if (nt)
                truth = nt;
            if (!np || !nt) {
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
                break;
            }
        }
        for (int l = 0; l < num_labels && st == GS_OK; l++) {
            char *end = NULL;
            double v = column_of[l] < nf ? strtod(fields[column_of[l]], &end) : NAN;
            if (!end || *end || !(v >= 0.0 && v <= 1.0))
                st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: p_%s is not a probability", csv_path, lineno, labels[l]);
            else
                probs[(size_t)n * num_labels + l] = (float)v;
        }
        truth[n++] = y;
    }
    free(line);
    fclose(f);
    double t = 1.0;
    if (st == GS_OK && n < 1)
        st = gs_error_set(err, GS_ERR_INVALID, "%s: no held-out music clip to calibrate on", csv_path);
    if (st == GS_OK)
        st = gs_fit_temperature(probs, truth, n, num_labels, &t, err);
    if (st == GS_OK) {
        double ece_before = gs_expected_calibration_error(probs, truth, n, num_labels, 15, NULL);
        double nll_before = gs_calibrated_nll(probs, truth, n, num_labels, 1.0);
        double nll_after = gs_calibrated_nll(probs, truth, n, num_labels, t);
        for (int i = 0; i < n; i++)
            gs_calibrate_probabilities(probs + (size_t)i * num_labels, num_labels, (float)t);
        double ece_after = gs_expected_calibration_error(probs, truth, n, num_labels, 15, NULL);
        const char *base = strrchr(csv_path, '/');
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "method", "temperature");
        cJSON_AddNumberToObject(c, "temperature", t);
        cJSON_AddStringToObject(c, "fit_on", base ? base + 1 : csv_path);
        cJSON_AddNumberToObject(c, "clips", n);
        cJSON_AddNumberToObject(c, "nll_before", nll_before);
        cJSON_AddNumberToObject(c, "nll_after", nll_after);
        cJSON_AddNumberToObject(c, "ece_before", ece_before);
        cJSON_AddNumberToObject(c, "ece_after", ece_after);
        *out = c;
    }
    free(probs);
    free(truth);
    return st;
}
