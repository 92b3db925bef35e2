/* The logistic-regression baseline (baseline.h): per-band mean/std
 * features and a deterministic full-batch fit, the yardstick a trained CNN
 * must beat. */
#include "baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope/classify.h"

void gs_baseline_features(const gs_spec *spec, int n_mels, float *out)
{
    for (int m = 0; m < n_mels; m++) {
        double s = 0.0, s2 = 0.0;
        for (int t = 0; t < spec->frames; t++) {
            double v = spec->data[(size_t)t * n_mels + m];
            s += v;
            s2 += v * v;
        }
        double mean = s / spec->frames;
        double var = s2 / spec->frames - mean * mean;
        out[m] = (float)mean;
        out[n_mels + m] = (float)sqrt(var > 0.0 ? var : 0.0);
    }
}

static void softmax_row(const float *w, const float *xs, int dim, int L, float *p)
{
    double mx = -INFINITY;
    for (int c = 0; c < L; c++) {
        const float *wc = w + (size_t)c * (dim + 1);
        double z = wc[dim];
        for (int j = 0; j < dim; j++)
            z += wc[j] * xs[j];
        p[c] = (float)z;
        if (z > mx)
            mx = z;
    }
    double sum = 0.0;
    for (int c = 0; c < L; c++) {
        p[c] = (float)exp(p[c] - mx);
        sum += p[c];
    }
    for (int c = 0; c < L; c++)
        p[c] = (float)(p[c] / sum);
}

gs_status gs_logreg_fit(gs_logreg *m, const float *x, const int *y, const int *use, int n, int dim, int num_labels,
                        float l2, int iterations, gs_error *err)
{
    memset(m, 0, sizeof *m);
    m->dim = dim;
    m->num_labels = num_labels;
    size_t wn = (size_t)num_labels * (dim + 1);
    m->mean = calloc((size_t)dim, sizeof(float));
    m->scale = calloc((size_t)dim, sizeof(float));
    m->weight = calloc(wn, sizeof(float));
    float *grad = calloc(wn, sizeof(float));
    float *xs = calloc((size_t)n * dim, sizeof(float));
    float *p = calloc((size_t)num_labels, sizeof(float));
    if (!m->mean || !m->scale || !m->weight || !grad || !xs || !p) {
        free(grad);
        free(xs);
        free(p);
        gs_logreg_free(m);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    int count = 0;
    for (int i = 0; i < n; i++)
        count += !use || use[i];
    if (count == 0) {
        free(grad);
        free(xs);
        free(p);
        gs_logreg_free(m);
        return gs_error_set(err, GS_ERR_INVALID, "no training rows");
    }
    for (int j = 0; j < dim; j++) {
        double s = 0.0, s2 = 0.0;
        for (int i = 0; i < n; i++)
            if (!use || use[i]) {
                s += x[(size_t)i * dim + j];
                s2 += (double)x[(size_t)i * dim + j] * x[(size_t)i * dim + j];
            }
        double mean = s / count, var = s2 / count - mean * mean;
        m->mean[j] = (float)mean;
        m->scale[j] = (float)(1.0 / sqrt(var > 1e-12 ? var : 1e-12));
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dim; j++)
            xs[(size_t)i * dim + j] = (x[(size_t)i * dim + j] - m->mean[j]) * m->scale[j];
    /* The softmax loss's curvature is at most half the largest eigenvalue of
     * the feature covariance (mel bands are strongly correlated, so that can
     * approach dim): estimate it by power iteration and take the step that
     * bound allows, so gradient descent cannot diverge. */
    double *v = calloc((size_t)dim, sizeof *v), *w = calloc((size_t)dim, sizeof *w);
    double lambda = (double)dim;
    if (v && w) {
        for (int j = 0; j < dim; j++)
            v[j] = 1.0 / sqrt((double)dim);
        for (int pi = 0; pi < 30; pi++) {
            memset(w, 0, (size_t)dim * sizeof *w);
            for (int i = 0; i < n; i++) {
                if (use && !use[i])
                    continue;
                const float *row = xs + (size_t)i * dim;
                double d = 0.0;
                for (int j = 0; j < dim; j++)
                    d += row[j] * v[j];
                for (int j = 0; j < dim; j++)
                    w[j] += d * row[j] / count;
            }
            double norm = 0.0;
            for (int j = 0; j < dim; j++)
                norm += w[j] * w[j];
            norm = sqrt(norm);
            if (norm <= 0.0)
                break;
            lambda = norm;
            for (int j = 0; j < dim; j++)
                v[j] = w[j] / norm;
        }
    }
    free(v);
    free(w);
    float lr = (float)(1.0 / (0.5 * (lambda * 1.1 + 1.0) + l2));
    for (int it = 0; it < iterations; it++) {
        memset(grad, 0, wn * sizeof(float));
        for (int i = 0; i < n; i++) {
            if (use && !use[i])
                continue;
            const float *row = xs + (size_t)i * dim;
            softmax_row(m->weight, row, dim, num_labels, p);
            for (int c = 0; c < num_labels; c++) {
                float g = (p[c] - (c == y[i] ? 1.0f : 0.0f)) / count;
                float *gc = grad + (size_t)c * (dim + 1);
                for (int j = 0; j < dim; j++)
                    gc[j] += g * row[j];
                gc[dim] += g;
            }
        }
        for (int c = 0; c < num_labels; c++)
            for (int j = 0; j <= dim; j++) {
                size_t k = (size_t)c * (dim + 1) + j;
                float reg = j < dim ? l2 * m->weight[k] : 0.0f;
                m->weight[k] -= lr * (grad[k] + reg);
            }
    }
    free(grad);
    free(xs);
    free(p);
    return GS_OK;
}

int gs_logreg_predict(const gs_logreg *m, const float *row, float *probs)
{
    float xs[2048];
    int dim = m->dim < 2048 ? m->dim : 2048;
    for (int j = 0; j < dim; j++)
        xs[j] = (row[j] - m->mean[j]) * m->scale[j];
    softmax_row(m->weight, xs, dim, m->num_labels, probs);
    return gs_argmax(probs, m->num_labels);
}

void gs_logreg_free(gs_logreg *m)
{
    if (!m)
        return;
    free(m->mean);
    free(m->scale);
    free(m->weight);
    memset(m, 0, sizeof *m);
}
