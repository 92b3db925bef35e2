#include "calibrate.h"

#include <math.h>
#include <stdlib.h>

#define PROB_FLOOR 1e-12
#define T_MIN 0.05
#define T_MAX 20.0

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

gs_status gs_fit_temperature(const float *probs, const int *labels, int n, int k, double *temperature,
                             gs_error *err)
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

double gs_expected_calibration_error(const float *probs, const int *labels, int n, int k, int bins,
                                     double *bins_out)
{
    if (!valid_input(probs, labels, n, k) || bins < 1)
        return -1.0;
    double *acc = calloc((size_t)bins * 3, sizeof *acc); /* count, sum conf, sum correct */
    if (!acc)
        return -1.0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int top = 0;
        for (int j = 1; j < k; j++)
            if (p[j] > p[top])
                top = j;
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
