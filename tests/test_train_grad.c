/* Gradient checks for train/: every backward kernel and whole small nets
 * (including batch norm in training mode) against central finite
 * differences, optimiser steps against hand-computed values, schedules, and
 * export -> core inference equivalence.
 *
 * Finite differences run in float (the code under test is float), so the
 * step h = 1e-2 is a compromise between truncation error (O(h^2), ~1e-4
 * relative for these smooth maps) and float round-off in the loss
 * (~1e-7 * |L| / h). Each check compares whole gradient vectors:
 * ||g_fd - g|| / max(||g_fd||, ||g||, GRAD_FLOOR) <= GRAD_TOL. The
 * analytic gradients agree with PyTorch autograd to ~1e-5 (see
 * test_train_grad_torch.py), so GRAD_TOL bounds the FD error only; the
 * largest error measured here is 1.3e-3 (global_avgpool, whose gradient
 * is small relative to the loss round-off). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "genrescope/cnn.h"
#include "genrescope/cnn_ops.h"
#include "genrescope/model.h"
#include "ops_backward.h"
#include "optim.h"
#include "rng.h"
#include "tnet.h"
#include "support/tmpdir.h"

#define FD_H       1e-2f
#define GRAD_TOL   1e-2
#define GRAD_FLOOR 1e-3

static gs_rng rng;

static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)gs_rng_uniform(&rng);
}

static float *alloc_rand(size_t n, float lo, float hi)
{
    float *x = malloc(n * sizeof *x);
    fill(x, n, lo, hi);
    return x;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double rel_err(const float *a, const double *b, size_t n)
{
    double d = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        na += (double)a[i] * a[i];
        nb += b[i] * b[i];
    }
    /* The floor keeps an exactly-zero gradient (a conv bias before training
     * batch norm) from turning FD round-off (~1e-5 per element at h = 1e-2)
     * into a relative error of 1. */
    double m = sqrt(na > nb ? na : nb);
    return sqrt(d) / (m > GRAD_FLOOR ? m : GRAD_FLOOR);
}

/* ---- op-level checks: loss = sum(out * r) for a fixed random r ---------- */

typedef struct op_case {
    void (*forward)(struct op_case *c); /* reads c->x, c->w..., writes c->out */
    float *x, *w, *b;
    size_t nx, nw, nb, nout;
    float *out, *r;
    void *ctx;
} op_case;

static double op_loss(op_case *c)
{
    c->forward(c);
    return dot(c->out, c->r, c->nout);
}

/* Central differences of op_loss w.r.t. every element of v. */
static void numeric_grad(op_case *c, float *v, size_t n, double *g)
{
    for (size_t i = 0; i < n; i++) {
        const float keep = v[i];
        v[i] = keep + FD_H;
        double lp = op_loss(c);
        v[i] = keep - FD_H;
        double lm = op_loss(c);
        v[i] = keep;
        g[i] = (lp - lm) / (2.0 * FD_H);
    }
}

static void check_grad(const char *what, op_case *c, float *v, size_t n, const float *analytic)
{
    double *g = malloc(n * sizeof *g);
    numeric_grad(c, v, n, g);
    double e = rel_err(analytic, g, n);
    CHECK_MSG(e <= GRAD_TOL, "%s: relative error %g", what, e);
    if (getenv("GS_TEST_VERBOSE"))
        printf("%s: %g\n", what, e);
    free(g);
}

/* conv2d: 2x7x6 input, 3 outputs, kernel 3x2, stride 2x1, padding 1x0. */
static gs_conv2d_shape conv_shape = {2, 3, 7, 6, 3, 2, 2, 1, 1, 0};
static float conv_ws[4096];
static void conv_fwd(op_case *c)
{
    gs_conv2d_forward(c->x, 2, &conv_shape, c->w, c->b, c->out, conv_ws);
}

static void test_conv2d(void)
{
    const gs_conv2d_shape *s = &conv_shape;
    op_case c = {.forward = conv_fwd};
    c.nx = 2 * (size_t)s->in_channels * s->in_height * s->in_width;
    c.nw = (size_t)s->out_channels * s->in_channels * s->kernel_h * s->kernel_w;
    c.nb = (size_t)s->out_channels;
    c.nout = 2 * (size_t)s->out_channels * gs_conv2d_out_height(s) * gs_conv2d_out_width(s);
    c.x = alloc_rand(c.nx, -1, 1), c.w = alloc_rand(c.nw, -1, 1), c.b = alloc_rand(c.nb, -1, 1);
    c.out = malloc(c.nout * sizeof(float));
    c.r = alloc_rand(c.nout, -1, 1);
    float *dx = malloc(c.nx * sizeof(float)), *dw = calloc(c.nw, sizeof(float)), *db = calloc(c.nb, sizeof(float)),
          *col = malloc(gs_conv2d_col_size(s) * sizeof(float));
    gs_conv2d_backward(c.x, c.r, 2, s, c.w, dw, db, dx, col);
    check_grad("conv2d input", &c, c.x, c.nx, dx);
    check_grad("conv2d weight", &c, c.w, c.nw, dw);
    check_grad("conv2d bias", &c, c.b, c.nb, db);
    /* Parameter gradients accumulate: a second call doubles them. */
    float dw0 = dw[0];
    gs_conv2d_backward(c.x, c.r, 2, s, c.w, dw, db, NULL, col);
    CHECK_NEAR(dw[0], 2.0f * dw0, 1e-5 + 1e-5 * fabsf(dw0));
    free(c.x), free(c.w), free(c.b), free(c.out), free(c.r), free(dx), free(dw), free(db), free(col);
}

/* batch norm over N=3, C=2, S=5 */
enum { BN_N = 3, BN_C = 2, BN_S = 5 };
static float bn_rm[BN_C], bn_rv[BN_C], bn_mean[BN_C], bn_invstd[BN_C];
static void bn_train_fwd(op_case *c)
{
    gs_batchnorm_train_forward(c->x, BN_N, BN_C, BN_S, c->w, c->b, 1e-5f, 0.1f, bn_rm, bn_rv, bn_mean, bn_invstd,
                               c->out);
}
static void bn_eval_fwd(op_case *c)
{
    gs_batchnorm_eval_forward(c->x, BN_N, BN_C, BN_S, c->w, c->b, 1e-5f, bn_rm, bn_rv, bn_mean, bn_invstd, c->out);
}

static void test_batchnorm(int training)
{
    op_case c = {.forward = training ? bn_train_fwd : bn_eval_fwd};
    c.nx = c.nout = BN_N * BN_C * BN_S;
    c.nw = c.nb = BN_C;
    c.x = alloc_rand(c.nx, -2, 3), c.w = alloc_rand(c.nw, 0.5f, 1.5f), c.b = alloc_rand(c.nb, -1, 1);
    c.out = malloc(c.nout * sizeof(float));
    c.r = alloc_rand(c.nout, -1, 1);
    for (int i = 0; i < BN_C; i++)
        bn_rm[i] = 0.3f * i, bn_rv[i] = 1.0f + i;
    const float rm0[BN_C] = {bn_rm[0], bn_rm[1]}, rv0[BN_C] = {bn_rv[0], bn_rv[1]};
    c.forward(&c);
    if (training) {
        /* Running statistics: momentum 0.1, unbiased variance (PyTorch). */
        for (int ch = 0; ch < BN_C; ch++) {
            double s = 0.0, ss = 0.0;
            for (int n = 0; n < BN_N; n++)
                for (int i = 0; i < BN_S; i++)
                    s += c.x[(n * BN_C + ch) * BN_S + i];
            const double m = s / (BN_N * BN_S);
            for (int n = 0; n < BN_N; n++)
                for (int i = 0; i < BN_S; i++) {
                    double d = c.x[(n * BN_C + ch) * BN_S + i] - m;
                    ss += d * d;
                }
            CHECK_NEAR(bn_rm[ch], 0.9 * rm0[ch] + 0.1 * m, 1e-6);
            CHECK_NEAR(bn_rv[ch], 0.9 * rv0[ch] + 0.1 * ss / (BN_N * BN_S - 1), 1e-6);
            /* Normalisation uses the biased variance. */
            CHECK_NEAR(bn_invstd[ch], 1.0 / sqrt(ss / (BN_N * BN_S) + 1e-5), 1e-5);
        }
    }
    float *dx = malloc(c.nx * sizeof(float)), *dg = calloc(BN_C, sizeof(float)), *dbeta = calloc(BN_C, sizeof(float));
    (training ? gs_batchnorm_train_backward : gs_batchnorm_eval_backward)(c.x, c.r, BN_N, BN_C, BN_S, c.w, bn_mean,
                                                                          bn_invstd, dg, dbeta, dx);
    check_grad(training ? "bn train input" : "bn eval input", &c, c.x, c.nx, dx);
    check_grad(training ? "bn train gamma" : "bn eval gamma", &c, c.w, c.nw, dg);
    check_grad(training ? "bn train beta" : "bn eval beta", &c, c.b, c.nb, dbeta);
    free(c.x), free(c.w), free(c.b), free(c.out), free(c.r), free(dx), free(dg), free(dbeta);
}

static void relu_fwd(op_case *c)
{
    memcpy(c->out, c->x, c->nx * sizeof(float));
    gs_relu_forward(c->out, c->nx);
}

enum { PN = 2, PC = 3, PH = 7, PW = 8 };
static int pool_argmax[PN * PC * PH * PW];
static int pool_kind; /* 0 max, 1 avg, 2 global avg, 3 global max */
static void pool_fwd(op_case *c)
{
    switch (pool_kind) {
    case 0: gs_maxpool2d_forward(c->x, PN, PC, PH, PW, 3, 2, 2, 2, c->out, pool_argmax); break;
    case 1: gs_avgpool2d_forward(c->x, PN, PC, PH, PW, 3, 2, 2, 1, c->out); break;
    case 2: gs_global_avgpool_forward(c->x, PN, PC, PH * PW, c->out); break;
    default: gs_global_maxpool_forward(c->x, PN, PC, PH * PW, c->out, pool_argmax); break;
    }
}

static void test_relu_and_pools(void)
{
    op_case c = {.forward = relu_fwd};
    c.nx = c.nout = 40;
    c.x = alloc_rand(c.nx, -1, 1);
    /* Keep inputs away from the kink so FD never straddles it. */
    for (size_t i = 0; i < c.nx; i++)
        c.x[i] += c.x[i] >= 0 ? 0.05f : -0.05f;
    c.out = malloc(c.nout * sizeof(float));
    c.r = alloc_rand(c.nout, -1, 1);
    float *dx = malloc(c.nx * sizeof(float));
    c.forward(&c);
    gs_relu_backward(c.out, c.r, c.nx, dx);
    check_grad("relu", &c, c.x, c.nx, dx);
    free(c.x), free(c.out), free(c.r), free(dx);

    static const char *names[] = {"maxpool2d", "avgpool2d", "global_avgpool", "global_maxpool"};
    const int oh_max = (PH - 3) / 2 + 1, ow_max = (PW - 2) / 2 + 1;
    const int oh_avg = (PH - 3) / 2 + 1, ow_avg = (PW - 2) / 1 + 1;
    const size_t outs[] = {(size_t)PN * PC * oh_max * ow_max, (size_t)PN * PC * oh_avg * ow_avg, PN * PC, PN * PC};
    for (pool_kind = 0; pool_kind < 4; pool_kind++) {
        op_case p = {.forward = pool_fwd};
        p.nx = PN * PC * PH * PW;
        p.nout = outs[pool_kind];
        /* Distinct values spaced > 2h apart: the max never switches under
         * the perturbation. */
        p.x = malloc(p.nx * sizeof(float));
        for (size_t i = 0; i < p.nx; i++)
            p.x[i] = 0.05f * (float)i;
        for (size_t i = p.nx - 1; i > 0; i--) {
            size_t j = (size_t)gs_rng_int(&rng, (int)i + 1);
            float t = p.x[i];
            p.x[i] = p.x[j], p.x[j] = t;
        }
        p.out = malloc(p.nout * sizeof(float));
        p.r = alloc_rand(p.nout, -1, 1);
        float *g = malloc(p.nx * sizeof(float));
        p.forward(&p);
        switch (pool_kind) {
        case 0: gs_maxpool2d_backward(p.r, pool_argmax, PN, PC, PH, PW, oh_max, ow_max, g); break;
        case 1: gs_avgpool2d_backward(p.r, PN, PC, PH, PW, 3, 2, 2, 1, g); break;
        case 2: gs_global_avgpool_backward(p.r, PN, PC, PH * PW, g); break;
        default: gs_global_maxpool_backward(p.r, pool_argmax, PN, PC, PH * PW, g); break;
        }
        check_grad(names[pool_kind], &p, p.x, p.nx, g);
        free(p.x), free(p.out), free(p.r), free(g);
    }
}

/* The 2x2 fast path and the fused ReLU + max-pool backward against the
 * general kernels, including ties (ReLU zeros) and odd sizes. */
static void test_maxpool_fast_paths(void)
{
    enum { N = 2, C = 3, H = 7, W = 9, OH = 3, OW = 4 };
    float x[N * C * H * W], y1[N * C * OH * OW], y2[N * C * OH * OW], g[N * C * OH * OW];
    float d1[N * C * H * W], d2[N * C * H * W];
    int a1[N * C * OH * OW], a2[N * C * OH * OW];
    fill(x, N * C * H * W, -1, 1);
    gs_relu_forward(x, N * C * H * W); /* many zeros: ties inside windows */
    x[5] = NAN;
    gs_maxpool2d_forward(x, N, C, H, W, 2, 2, 2, 2, y1, a1);
    gs_maxpool2x2_forward(x, N, C, H, W, y2, a2);
    CHECK(memcmp(a1, a2, sizeof a1) == 0);
    int same = 1;
    for (int i = 0; i < N * C * OH * OW; i++)
        same &= (isnan(y1[i]) && isnan(y2[i])) || y1[i] == y2[i];
    CHECK(same);
    x[5] = 0.5f;
    gs_maxpool2x2_forward(x, N, C, H, W, y2, a2);
    fill(g, N * C * OH * OW, -1, 1);
    gs_maxpool2d_backward(g, a2, N, C, H, W, OH, OW, d1);
    gs_relu_backward(x, d1, N * C * H * W, d1);
    gs_relu_maxpool2d_backward(g, a2, x, N, C, H, W, OH, OW, d2);
    CHECK(memcmp(d1, d2, sizeof d1) == 0);
}

static float dropout_p;
static void dropout_fwd(op_case *c)
{
    gs_dropout_forward(c->x, c->nx, dropout_p, 1234, c->w, c->out);
}

static void test_dropout(void)
{
    enum { N = 20000 };
    op_case c = {.forward = dropout_fwd};
    dropout_p = 0.3f;
    c.nx = c.nout = N;
    c.x = alloc_rand(N, -1, 1);
    c.w = malloc(N * sizeof(float)); /* the mask */
    c.out = malloc(N * sizeof(float));
    c.r = alloc_rand(N, -1, 1);
    c.forward(&c);
    int zeros = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        if (c.w[i] == 0.0f)
            zeros++;
        else if (fabsf(c.w[i] - 1.0f / 0.7f) > 1e-6f)
            bad++;
    }
    /* Binomial(20000, 0.3): sd ~ 65, so +-400 is > 6 sigma. */
    CHECK_MSG(abs(zeros - 6000) < 400, "dropped %d of %d", zeros, N);
    CHECK(bad == 0);
    float *mask2 = malloc(N * sizeof(float)), *out2 = malloc(N * sizeof(float));
    gs_dropout_forward(c.x, N, 0.3f, 1234, mask2, out2);
    CHECK(memcmp(mask2, c.w, N * sizeof(float)) == 0); /* same seed, same mask */
    gs_dropout_forward(c.x, N, 0.3f, 1235, mask2, out2);
    CHECK(memcmp(mask2, c.w, N * sizeof(float)) != 0);
    float *dx = malloc(N * sizeof(float));
    gs_dropout_backward(c.r, c.w, N, dx);
    c.nx = 200; /* FD on a prefix; the op is elementwise */
    c.nout = 200;
    check_grad("dropout", &c, c.x, 200, dx);
    free(c.x), free(c.w), free(c.out), free(c.r), free(mask2), free(out2), free(dx);
}

enum { DN = 3, DI = 7, DO = 4 };
static void dense_fwd(op_case *c)
{
    gs_dense_forward(c->x, DN, DI, DO, c->w, c->b, c->out);
}

static void test_dense(void)
{
    op_case c = {.forward = dense_fwd};
    c.nx = DN * DI, c.nw = DO * DI, c.nb = DO, c.nout = DN * DO;
    c.x = alloc_rand(c.nx, -1, 1), c.w = alloc_rand(c.nw, -1, 1), c.b = alloc_rand(c.nb, -1, 1);
    c.out = malloc(c.nout * sizeof(float));
    c.r = alloc_rand(c.nout, -1, 1);
    float *dx = malloc(c.nx * sizeof(float)), *dw = calloc(c.nw, sizeof(float)), *db = calloc(c.nb, sizeof(float));
    gs_dense_backward(c.x, c.r, DN, DI, DO, c.w, dw, db, dx);
    check_grad("dense input", &c, c.x, c.nx, dx);
    check_grad("dense weight", &c, c.w, c.nw, dw);
    check_grad("dense bias", &c, c.b, c.nb, db);
    free(c.x), free(c.w), free(c.b), free(c.out), free(c.r), free(dx), free(dw), free(db);
}

static void test_softmax_xent(void)
{
    enum { B = 3, K = 5 };
    float z[B * K], p[B * K], t[B * K], dz[B * K];
    fill(z, B * K, -3, 3);
    for (int b = 0; b < B; b++) { /* soft targets (mixup-like) */
        float s = 0.0f;
        for (int k = 0; k < K; k++)
            s += (t[b * K + k] = (float)gs_rng_uniform(&rng));
        for (int k = 0; k < K; k++)
            t[b * K + k] /= s;
    }
    memcpy(p, z, sizeof z);
    gs_softmax_forward(p, B, K);
    float loss = gs_softmax_xent_backward(z, p, t, B, K, dz);
    double expect = 0.0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++)
            expect -= t[b * K + k] * log(p[b * K + k]) / B;
    CHECK_NEAR(loss, expect, 1e-5);
    double g[B * K];
    for (int i = 0; i < B * K; i++) {
        float keep = z[i], tmp[B * K], pp[B * K];
        z[i] = keep + FD_H;
        memcpy(pp, z, sizeof z);
        gs_softmax_forward(pp, B, K);
        double lp = gs_softmax_xent_backward(z, pp, t, B, K, tmp);
        z[i] = keep - FD_H;
        memcpy(pp, z, sizeof z);
        gs_softmax_forward(pp, B, K);
        double lm = gs_softmax_xent_backward(z, pp, t, B, K, tmp);
        z[i] = keep;
        g[i] = (lp - lm) / (2.0 * FD_H);
    }
    double e = rel_err(dz, g, B * K);
    CHECK_MSG(e <= GRAD_TOL, "softmax xent: relative error %g", e);
    /* A confident wrong answer must give a finite loss (log-sum-exp). */
    float zz[2] = {200.0f, -200.0f}, pz[2], tz[2] = {0.0f, 1.0f}, dzz[2];
    memcpy(pz, zz, sizeof zz);
    gs_softmax_forward(pz, 1, 2);
    float big = gs_softmax_xent_backward(zz, pz, tz, 1, 2, dzz);
    CHECK_NEAR(big, 400.0, 1e-3);
}

/* ---- whole nets --------------------------------------------------------- */

/* Whole-net checks use kink-free compositions: in a net this small a
 * ReLU or max-pool kink lies within h of most perturbations (batch norm
 * moves every pre-activation of a channel at once), which makes finite
 * differences meaningless there. ReLU and the max pools are checked at op
 * level above with inputs kept away from their kinks, and inside whole
 * nets against PyTorch autograd (test_train_grad_torch.py). */
static const char *arch_bn = "{\"input\":[1,8,10],\"layers\":["
                             "{\"op\":\"conv2d\",\"name\":\"conv1\",\"in\":1,\"out\":3,\"kernel\":[3,3],\"stride\":[1,"
                             "1],\"padding\":[1,1],\"bias\":true},"
                             "{\"op\":\"batchnorm2d\",\"name\":\"bn1\",\"eps\":1e-5},"
                             "{\"op\":\"avgpool2d\",\"kernel\":[2,2],\"stride\":[2,2]},"
                             "{\"op\":\"conv2d\",\"name\":\"conv2\",\"in\":3,\"out\":4,\"kernel\":[3,3],\"stride\":[1,"
                             "1],\"padding\":[1,1],\"bias\":false},"
                             "{\"op\":\"batchnorm2d\",\"name\":\"bn2\",\"eps\":1e-5},"
                             "{\"op\":\"global_avgpool\"},{\"op\":\"dropout\",\"p\":0.3},"
                             "{\"op\":\"dense\",\"name\":\"fc\",\"in\":4,\"out\":3},{\"op\":\"softmax\"}]}";

static const char *arch_pools =
    "{\"input\":[2,9,8],\"layers\":["
    "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":2,\"out\":3,\"kernel\":[3,2],\"stride\":[2,1],\"padding\":[1,0]},"
    "{\"op\":\"avgpool2d\",\"kernel\":[2,2],\"stride\":[1,2]},"
    "{\"op\":\"conv2d\",\"name\":\"c2\",\"in\":3,\"out\":2,\"kernel\":[1,1]},"
    "{\"op\":\"global_avgpool\"},"
    "{\"op\":\"dense\",\"name\":\"h\",\"in\":2,\"out\":5},{\"op\":\"dropout\",\"p\":0.2},"
    "{\"op\":\"dense\",\"name\":\"out\",\"in\":5,\"out\":4},{\"op\":\"softmax\"}]}";

/* Kink layers (for the API and export checks, not for whole-net FD). */
static const char *arch_relu =
    "{\"input\":[1,8,10],\"layers\":["
    "{\"op\":\"conv2d\",\"name\":\"conv1\",\"in\":1,\"out\":3,\"kernel\":[3,3],\"padding\":[1,1]},"
    "{\"op\":\"batchnorm2d\",\"name\":\"bn1\"},{\"op\":\"relu\"},"
    "{\"op\":\"maxpool2d\",\"kernel\":[2,2],\"stride\":[2,2]},"
    "{\"op\":\"conv2d\",\"name\":\"conv2\",\"in\":3,\"out\":4,\"kernel\":[3,3],\"padding\":[1,1],\"bias\":false},"
    "{\"op\":\"batchnorm2d\",\"name\":\"bn2\"},{\"op\":\"relu\"},"
    "{\"op\":\"global_maxpool\"},{\"op\":\"dropout\",\"p\":0.3},"
    "{\"op\":\"dense\",\"name\":\"fc\",\"in\":4,\"out\":3},{\"op\":\"softmax\"}]}";

static float net_loss(gs_tnet *net, const float *x, const float *t, int batch, int training)
{
    gs_status st = gs_tnet_forward(net, x, batch, training, 99, NULL, NULL, NULL);
    CHECK(st == GS_OK);
    return gs_tnet_backward(net, t, batch);
}

static void check_net(const char *name, const char *arch, int batch, int training)
{
    gs_error err;
    gs_tnet *net = gs_tnet_new(arch, 4, 7, &err);
    CHECK_MSG(net != NULL, "%s: %s", name, net ? "" : err.message);
    if (!net)
        return;
    int c, h, w;
    gs_tnet_input_shape(net, &c, &h, &w);
    const int k = gs_tnet_num_outputs(net);
    const size_t in_n = (size_t)c * h * w * batch;
    float *x = alloc_rand(in_n, -1, 1), *t = calloc((size_t)batch * k, sizeof(float));
    for (int b = 0; b < batch; b++)
        t[b * k + b % k] = 1.0f;
    if (!training) {
        /* Give BN non-trivial running statistics first. */
        for (int i = 0; i < 3; i++)
            net_loss(net, x, t, batch, 1);
    }
    float *probs = malloc((size_t)batch * k * sizeof(float));
    CHECK(gs_tnet_forward(net, x, batch, training, 99, probs, NULL, &err) == GS_OK);
    for (int b = 0; b < batch; b++) {
        double s = 0.0;
        for (int j = 0; j < k; j++)
            s += probs[b * k + j];
        CHECK_NEAR(s, 1.0, 1e-5);
    }
    const float loss = gs_tnet_backward(net, t, batch);
    double expect = 0.0;
    for (int b = 0; b < batch; b++)
        expect -= log(probs[b * k + b % k]) / batch;
    CHECK_NEAR(loss, expect, 1e-5);
    for (int pi = 0; pi < gs_tnet_num_params(net); pi++) {
        gs_tparam *p = gs_tnet_param(net, pi);
        /* The FD loop below leaves gradients from a perturbed point. */
        net_loss(net, x, t, batch, training);
        float *analytic = malloc(p->size * sizeof(float));
        memcpy(analytic, p->grad, p->size * sizeof(float));
        double *g = malloc(p->size * sizeof(double));
        for (size_t i = 0; i < p->size; i++) {
            const float keep = p->value[i];
            p->value[i] = keep + FD_H;
            double lp = net_loss(net, x, t, batch, training);
            p->value[i] = keep - FD_H;
            double lm = net_loss(net, x, t, batch, training);
            p->value[i] = keep;
            g[i] = (lp - lm) / (2.0 * FD_H);
        }
        double e = rel_err(analytic, g, p->size);
        if (getenv("GS_TEST_VERBOSE"))
            printf("%s (%s) %s: %g\n", name, training ? "train" : "eval", p->name, e);
        CHECK_MSG(e <= GRAD_TOL, "%s (%s) %s: relative error %g", name, training ? "train" : "eval", p->name, e);
        free(analytic), free(g);
    }
    free(x), free(t), free(probs);
    gs_tnet_free(net);
}

static void test_net_api(void)
{
    gs_error err;
    gs_tnet *net = gs_tnet_new(arch_relu, 4, 7, &err);
    CHECK(net != NULL);
    if (!net)
        return;
    CHECK(gs_tnet_num_outputs(net) == 3);
    CHECK(gs_tnet_embedding_size(net) == 4);
    CHECK(gs_tnet_num_params(net) == 9); /* conv1 w,b; bn1 w,b; conv2 w; bn2 w,b; fc w,b */
    size_t total = 0;
    for (int i = 0; i < gs_tnet_num_params(net); i++)
        total += gs_tnet_param(net, i)->size;
    CHECK(total == gs_tnet_total_parameters(net));
    CHECK(gs_tnet_total_parameters(net) == 27 + 3 + 3 + 3 + 108 + 4 + 4 + 12 + 3);
    gs_tparam *w = gs_tnet_param(net, 0), *bnw = gs_tnet_param(net, 2), *fcw = gs_tnet_param(net, 7);
    CHECK(strcmp(w->name, "conv1.weight") == 0 && w->decay);
    CHECK(strcmp(gs_tnet_param(net, 1)->name, "conv1.bias") == 0 && !gs_tnet_param(net, 1)->decay);
    CHECK(strcmp(bnw->name, "bn1.weight") == 0 && !bnw->decay && bnw->value[0] == 1.0f);
    CHECK(strcmp(fcw->name, "fc.weight") == 0 && fcw->decay);
    CHECK(gs_tnet_param(net, 9) == NULL);
    /* Kaiming-uniform bounds: 1/sqrt(fan_in), and the init actually spreads. */
    float lo = 1, hi = -1;
    for (size_t i = 0; i < w->size; i++)
        lo = fminf(lo, w->value[i]), hi = fmaxf(hi, w->value[i]);
    CHECK(lo >= -1.0f / 3.0f && hi <= 1.0f / 3.0f && hi - lo > 0.3f);
    lo = 1, hi = -1;
    for (size_t i = 0; i < fcw->size; i++)
        lo = fminf(lo, fcw->value[i]), hi = fmaxf(hi, fcw->value[i]);
    CHECK(lo >= -0.5f && hi <= 0.5f);
    /* Same seed, same weights; another seed, other weights. */
    gs_tnet *same = gs_tnet_new(arch_relu, 2, 7, &err), *other = gs_tnet_new(arch_relu, 2, 8, &err);
    CHECK(memcmp(gs_tnet_param(same, 0)->value, w->value, w->size * sizeof(float)) == 0);
    CHECK(memcmp(gs_tnet_param(other, 0)->value, w->value, w->size * sizeof(float)) != 0);
    CHECK(gs_tnet_copy_weights(other, net, &err) == GS_OK);
    CHECK(memcmp(gs_tnet_param(other, 0)->value, w->value, w->size * sizeof(float)) == 0);
    gs_tnet *pools = gs_tnet_new(arch_pools, 2, 1, &err);
    CHECK(gs_tnet_copy_weights(pools, net, &err) == GS_ERR_INVALID);
    /* Batch limits. */
    float x[2 * 80] = {0};
    CHECK(gs_tnet_forward(same, x, 3, 1, 0, NULL, NULL, &err) == GS_ERR_INVALID);
    CHECK(gs_tnet_forward(same, x, 0, 1, 0, NULL, NULL, &err) == GS_ERR_INVALID);
    /* Dropout: same seed reproduces, another seed changes the output. */
    fill(x, 160, -1, 1);
    float p1[6], p2[6], p3[6], e1[8];
    gs_tnet_forward(same, x, 2, 1, 5, p1, e1, &err);
    gs_tnet_forward(same, x, 2, 1, 5, p2, NULL, &err);
    gs_tnet_forward(same, x, 2, 1, 6, p3, NULL, &err);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    for (int i = 0; i < 8; i++)
        CHECK(e1[i] >= 0.0f); /* embeddings: after ReLU + global max pool */
    /* Bad architectures fail with a message. */
    const char *bad[] = {
        "not json",
        "{\"input\":[1,4,4],\"layers\":[{\"op\":\"relu\"},{\"op\":\"softmax\"}]}",
        "{\"input\":[1,4,4],\"layers\":[{\"op\":\"dense\",\"name\":\"fc\",\"in\":15,\"out\":3},{\"op\":\"softmax\"}]}",
        "{\"input\":[1,4,4],\"layers\":[{\"op\":\"conv2d\",\"name\":\"c\",\"in\":2,\"out\":3,\"kernel\":[3,3]},"
        "{\"op\":\"global_avgpool\"},{\"op\":\"dense\",\"name\":\"fc\",\"in\":3,\"out\":3},{\"op\":\"softmax\"}]}",
        "{\"input\":[1,4,4],\"layers\":[{\"op\":\"warp\"},{\"op\":\"dense\",\"name\":\"fc\",\"in\":16,\"out\":3},{"
        "\"op\":\"softmax\"}]}",
        "{\"input\":[1,4,4],\"layers\":[{\"op\":\"global_avgpool\"},{\"op\":\"batchnorm2d\",\"name\":\"b\"},"
        "{\"op\":\"dense\",\"name\":\"fc\",\"in\":1,\"out\":3},{\"op\":\"softmax\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gs_error_clear(&err);
        gs_tnet *b = gs_tnet_new(bad[i], 2, 1, &err);
        CHECK_MSG(b == NULL && err.code != GS_OK && err.message[0], "bad architecture %zu accepted", i);
        gs_tnet_free(b);
    }
    gs_tnet_free(net), gs_tnet_free(same), gs_tnet_free(other), gs_tnet_free(pools);
}

/* ---- optimisers and schedules ------------------------------------------ */

/* The global pool over 1x1 is the identity: the core needs one before any
 * dense layer. */
static const char *arch_tiny = "{\"input\":[2,1,1],\"layers\":[{\"op\":\"global_avgpool\"},"
                               "{\"op\":\"dense\",\"name\":\"fc\",\"in\":2,\"out\":2},{\"op\":\"softmax\"}]}";

/* Sets every weight and bias to 1 and every gradient to 0.2. */
static void set_tiny(gs_tnet *net)
{
    for (int i = 0; i < gs_tnet_num_params(net); i++) {
        gs_tparam *p = gs_tnet_param(net, i);
        for (size_t j = 0; j < p->size; j++)
            p->value[j] = 1.0f, p->grad[j] = 0.2f;
    }
}

static void test_optim(void)
{
    gs_error err;
    gs_tnet *net = gs_tnet_new(arch_tiny, 1, 1, &err);
    gs_tparam *w = gs_tnet_param(net, 0), *b = gs_tnet_param(net, 1);
    /* SGD lr 0.5, momentum 0.9, wd 0.1 (weights only), grad 0.2 twice:
     * weight: g = 0.2 + 0.1*1 = 0.3, buf 0.3, p = 1 - 0.15 = 0.85;
     *         g = 0.2 + 0.085 = 0.285, buf = 0.27 + 0.285 = 0.555,
     *         p = 0.85 - 0.2775 = 0.5725.
     * bias:   buf 0.2, p 0.9; buf 0.38, p = 0.9 - 0.19 = 0.71. */
    gs_optim_config sgd = {.kind = GS_OPTIM_SGD, .lr = 0.5f, .momentum = 0.9f, .weight_decay = 0.1f};
    set_tiny(net);
    gs_optim *o = gs_optim_new(&sgd, net, &err);
    CHECK(gs_optim_state_size(o) == 6);
    gs_optim_step(o, 0.5f);
    CHECK_NEAR(w->value[0], 0.85, 1e-6);
    CHECK_NEAR(b->value[0], 0.9, 1e-6);
    gs_optim_step(o, 0.5f);
    CHECK_NEAR(w->value[3], 0.5725, 1e-6);
    CHECK_NEAR(b->value[1], 0.71, 1e-6);
    /* Checkpoint round trip: a fresh optimiser with the saved state takes
     * the same third step. */
    float state[6];
    long step;
    gs_optim_get_state(o, state, &step);
    CHECK(step == 2);
    CHECK_NEAR(state[0], 0.555, 1e-6);
    gs_optim *o2 = gs_optim_new(&sgd, net, &err);
    gs_optim_set_state(o2, state, step);
    float keep = w->value[0];
    gs_optim_step(o, 0.5f);
    float after = w->value[0];
    w->value[0] = keep;
    gs_optim_step(o2, 0.5f);
    CHECK(w->value[0] == after);
    gs_optim_free(o), gs_optim_free(o2);

    /* AdamW lr 0.1, betas (0.9, 0.999), wd 0.01, constant grad 0.2: with a
     * constant gradient m_hat/sqrt(v_hat) = 1, so each step subtracts lr
     * after decoupled decay p *= 1 - lr*wd (weights only):
     * weight: 1*0.999 - 0.1 = 0.899; 0.899*0.999 - 0.1 = 0.798101.
     * bias:   0.9; 0.8. */
    gs_optim_config adamw = {
        .kind = GS_OPTIM_ADAMW, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
    set_tiny(net);
    o = gs_optim_new(&adamw, net, &err);
    CHECK(gs_optim_state_size(o) == 12);
    gs_optim_step(o, 0.1f);
    CHECK_NEAR(w->value[0], 0.899, 2e-6);
    CHECK_NEAR(b->value[0], 0.9, 2e-6);
    gs_optim_step(o, 0.1f);
    CHECK_NEAR(w->value[0], 0.798101, 2e-6);
    CHECK_NEAR(b->value[0], 0.8, 2e-6);
    float ast[12];
    gs_optim_get_state(o, ast, &step);
    CHECK(step == 2);
    CHECK_NEAR(ast[0], 0.038, 1e-7);    /* m = 0.9*0.02 + 0.02 */
    CHECK_NEAR(ast[6], 7.996e-5, 3e-9); /* v = 0.999*4e-5 + 4e-5; float 1-beta2 is off by 1.3e-5 */
    gs_optim_free(o);
    gs_optim_config bad = adamw;
    bad.beta2 = 1.0f;
    CHECK(gs_optim_new(&bad, net, &err) == NULL && err.code == GS_ERR_INVALID);
    gs_tnet_free(net);

    gs_schedule s = {
        .kind = GS_SCHEDULE_COSINE, .base_lr = 1.0f, .warmup_steps = 10, .total_steps = 110, .min_lr = 0.1f};
    CHECK_NEAR(gs_schedule_lr(&s, 0), 0.0, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&s, 5), 0.5, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&s, 10), 1.0, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&s, 60), 0.55, 1e-6); /* halfway: (base+min)/2 */
    CHECK_NEAR(gs_schedule_lr(&s, 35), 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 4)), 1e-6);
    CHECK_NEAR(gs_schedule_lr(&s, 110), 0.1, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&s, 500), 0.1, 1e-7);
    gs_schedule st = {.kind = GS_SCHEDULE_STEP, .base_lr = 0.8f, .warmup_steps = 0, .step_size = 30, .gamma = 0.5f};
    CHECK_NEAR(gs_schedule_lr(&st, 0), 0.8, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&st, 29), 0.8, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&st, 30), 0.4, 1e-7);
    CHECK_NEAR(gs_schedule_lr(&st, 95), 0.1, 1e-7);
    gs_schedule cst = {.kind = GS_SCHEDULE_CONSTANT, .base_lr = 0.3f};
    CHECK_NEAR(gs_schedule_lr(&cst, 12345), 0.3, 1e-7);
}

/* ---- export and core inference ----------------------------------------- */

static void test_export(void)
{
    char dir[512], path[1024];
    if (gs_test_tmpdir(dir, sizeof dir, "train_grad") != 0) {
        CHECK_MSG(0, "cannot make a temporary directory");
        return;
    }
    snprintf(path, sizeof path, "%s/train_grad_export.safetensors", dir);
    gs_error err;
    gs_tnet *net = gs_tnet_new(arch_relu, 4, 3, &err);
    const int batch = 4;
    float x[4 * 80], t[4 * 3] = {0};
    fill(x, sizeof x / sizeof *x, -1, 1);
    for (int b = 0; b < batch; b++)
        t[b * 3 + b % 3] = 1.0f;
    /* Train a few steps so BN statistics and weights are not at init. */
    gs_optim_config cfg = {.kind = GS_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f};
    gs_optim *o = gs_optim_new(&cfg, net, &err);
    for (int i = 0; i < 5; i++) {
        gs_tnet_forward(net, x, batch, 1, (uint64_t)i, NULL, NULL, &err);
        gs_tnet_backward(net, t, batch);
        gs_optim_step(o, 0.1f);
    }
    gs_optim_free(o);
    float ref[4 * 3], emb[4 * 4];
    CHECK(gs_tnet_forward(net, x, batch, 0, 0, ref, emb, &err) == GS_OK);

    gs_model_writer *wr = gs_model_writer_new();
    const char *labels[] = {"a", "b", "c"};
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    fp.n_mels = 8;
    fp.patch_frames = 10;
    fp.patch_hop_frames = 5;
    CHECK(gs_model_writer_set_standard_metadata(wr, labels, 3, &fp, &err) == GS_OK);
    CHECK(gs_tnet_export(net, wr, &err) == GS_OK);
    CHECK_MSG(gs_model_writer_save(wr, path, &err) == GS_OK, "%s", err.message);
    gs_model_writer_free(wr);

    gs_model *m = gs_model_load(path, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    if (m) {
        gs_net *cn = gs_net_from_model(m, &err);
        CHECK_MSG(cn != NULL, "%s", err.message);
        if (cn) {
            gs_net_ctx *ctx = gs_net_ctx_new(cn, batch, &err);
            float probs[4 * 3], cemb[4 * 4];
            CHECK(gs_net_forward(ctx, x, batch, probs, cemb, &err) == GS_OK);
            for (int i = 0; i < batch * 3; i++)
                CHECK_NEAR(probs[i], ref[i], 1e-5);
            for (int i = 0; i < batch * 4; i++)
                CHECK_NEAR(cemb[i], emb[i], 1e-5 + 1e-5 * fabsf(emb[i]));
            gs_net_ctx_free(ctx);
            gs_net_free(cn);
        }
        /* Fine-tune: same head keeps every tensor... */
        gs_tnet *ft = gs_tnet_from_model(m, 4, 0, 11, &err);
        CHECK_MSG(ft != NULL, "%s", err.message);
        float p2[4 * 3];
        if (ft) {
            gs_tnet_forward(ft, x, batch, 0, 0, p2, NULL, &err);
            CHECK(memcmp(p2, ref, sizeof ref) == 0);
            CHECK(strcmp(gs_tnet_architecture_json(ft), gs_tnet_architecture_json(net)) == 0);
        }
        /* ...a new head keeps the body (same embeddings) with 5 outputs. */
        gs_tnet *nh = gs_tnet_from_model(m, 4, 5, 11, &err);
        CHECK_MSG(nh != NULL, "%s", err.message);
        if (nh) {
            float p5[4 * 5], e5[4 * 4];
            CHECK(gs_tnet_num_outputs(nh) == 5);
            CHECK(strstr(gs_tnet_architecture_json(nh), "\"out\":5") != NULL);
            gs_tnet_forward(nh, x, batch, 0, 0, p5, e5, &err);
            CHECK(memcmp(e5, emb, sizeof emb) == 0);
            gs_tparam *head = gs_tnet_param(nh, gs_tnet_num_params(nh) - 2);
            CHECK(strcmp(head->name, "fc.weight") == 0 && head->size == 20);
        }
        gs_tnet_free(ft), gs_tnet_free(nh);
        gs_model_free(m);
    }
    gs_test_rmtree(dir);
    gs_tnet_free(net);
}

int main(void)
{
    gs_rng_seed(&rng, 42);
    test_conv2d();
    test_batchnorm(1);
    test_batchnorm(0);
    test_relu_and_pools();
    test_maxpool_fast_paths();
    test_dropout();
    test_dense();
    test_softmax_xent();
    test_net_api();
    check_net("bn net", arch_bn, 3, 1);
    check_net("bn net", arch_bn, 3, 0);
    check_net("pool net", arch_pools, 2, 1);
    check_net("pool net", arch_pools, 2, 0);
    test_optim();
    test_export();
    return gs_test_finish("test_train_grad");
}
