/* Winograd F(2x2, 3x3) convolution (core/src/cnn_winograd.c) against a
 * direct double-precision convolution, on shapes that cover partial tiles
 * (odd sizes), 1x1 and 2x2 inputs, fused relu and 2x2 max pool, several
 * samples in the [C][N][H][W] layout, and chunks that end inside a sample.
 * Also: which steps of the shipped network take the Winograd path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/src/cnn_winograd.h"
#include "check.h"
#include "genrescope/model.h"
#include "support/rng.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static float frand(void)
{
    gs_test_xorshift64(&rng);
    return (float)((rng >> 40) / 16777216.0 * 2.0 - 1.0);
}

typedef struct shape_case {
    int ci, co, h, w, batch, pool, relu;
} shape_case;

/* Direct convolution in double: conv[n][o][y][x] and, for the error bound,
 * the sum of |terms| at each output. */
static void direct_conv(const shape_case *c, const float *in, const float *weight, const float *bias, double *conv,
                        double *mag)
{
    for (int n = 0; n < c->batch; n++)
        for (int o = 0; o < c->co; o++)
            for (int y = 0; y < c->h; y++)
                for (int x = 0; x < c->w; x++) {
                    double acc = bias[o], m = fabs(bias[o]);
                    for (int i = 0; i < c->ci; i++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int yy = y + ky - 1, xx = x + kx - 1;
                                if (yy < 0 || yy >= c->h || xx < 0 || xx >= c->w)
                                    continue;
                                /* CNHW input */
                                double t = (double)weight[((o * c->ci + i) * 3 + ky) * 3 + kx] *
                                    in[(((size_t)i * c->batch + n) * c->h + yy) * c->w + xx];
                                acc += t;
                                m += fabs(t);
                            }
                    size_t k = (((size_t)n * c->co + o) * c->h + y) * c->w + x;
                    conv[k] = acc;
                    mag[k] = m;
                }
}

static void check_case(const shape_case *c)
{
    net_step s;
    memset(&s, 0, sizeof s);
    s.kind = STEP_CONV;
    s.conv = (gs_conv2d_shape){c->ci, c->co, c->h, c->w, 3, 3, 1, 1, 1, 1};
    s.conv_h = c->h;
    s.conv_w = c->w;
    s.relu_fused = c->relu;
    s.pool_fused = c->pool;
    s.kh = s.kw = s.sh = s.sw = 2;
    s.out_c = c->co;
    s.out_h = c->pool ? c->h / 2 : c->h;
    s.out_w = c->pool ? c->w / 2 : c->w;
    int applies = gs_wino_applies(&s);
    CHECK_MSG(applies, "case %dx%d ci %d should take the Winograd path", c->h, c->w, c->ci);
    if (!applies)
        return;

    size_t in_n = (size_t)c->ci * c->batch * c->h * c->w;
    size_t conv_n = (size_t)c->batch * c->co * c->h * c->w;
    size_t out_n = (size_t)c->co * c->batch * s.out_h * s.out_w;
    float *in = malloc(sizeof(float) * in_n), *weight = malloc(sizeof(float) * 9 * c->ci * c->co);
    float *bias = malloc(sizeof(float) * c->co), *out = malloc(sizeof(float) * (out_n + 1));
    double *conv = malloc(sizeof(double) * conv_n), *mag = malloc(sizeof(double) * conv_n);
    for (size_t i = 0; i < in_n; i++)
        in[i] = 4.0f * frand();
    for (int i = 0; i < 9 * c->ci * c->co; i++)
        weight[i] = 0.3f * frand();
    for (int i = 0; i < c->co; i++)
        bias[i] = frand();
    s.weight = weight;
    s.bias = bias;
    s.wino_weight = gs_wino_weights_new(weight, c->co, c->ci);
    size_t ws[3];
    gs_wino_workspace(&s, c->batch, &ws[0], &ws[1], &ws[2]);
    float *w0 = malloc(sizeof(float) * ws[0]), *w1 = malloc(sizeof(float) * ws[1]);
    float *w2 = malloc(sizeof(float) * ws[2]);
    for (size_t i = 0; i < out_n; i++)
        out[i] = NAN;      /* every output must be written */
    out[out_n] = 12345.0f; /* guard: nothing written past the output */
    gs_wino_conv(&s, c->batch, in, out, w0, w1, w2);
    direct_conv(c, in, weight, bias, conv, mag);

    double worst = 0.0;
    for (int n = 0; n < c->batch; n++)
        for (int o = 0; o < c->co; o++)
            for (int y = 0; y < s.out_h; y++)
                for (int x = 0; x < s.out_w; x++) {
                    double want, m = 0.0;
                    if (c->pool) {
                        want = -INFINITY;
                        for (int a = 0; a < 4; a++) {
                            size_t k = (((size_t)n * c->co + o) * c->h + 2 * y + a / 2) * c->w + 2 * x + a % 2;
                            want = conv[k] > want ? conv[k] : want;
                            m = mag[k] > m ? mag[k] : m;
                        }
                    } else {
                        size_t k = (((size_t)n * c->co + o) * c->h + y) * c->w + x;
                        want = conv[k];
                        m = mag[k];
                    }
                    if (c->relu && want < 0.0)
                        want = 0.0;
                    double got = out[(((size_t)o * c->batch + n) * s.out_h + y) * s.out_w + x];
                    double e = fabs(got - want) / (m + 1e-30);
                    worst = e > worst || e != e ? e : worst; /* NaN sticks */
                }
    CHECK_MSG(worst < 2e-6, "ci %d co %d %dx%d batch %d pool %d relu %d: relative error %g", c->ci, c->co, c->h, c->w,
              c->batch, c->pool, c->relu, worst);
    CHECK(out[out_n] == 12345.0f);
    free(in);
    free(weight);
    free(bias);
    free(out);
    free(conv);
    free(mag);
    free(w0);
    free(w1);
    free(w2);
    free(s.wino_weight);
}

static void test_shapes(void)
{
    static const shape_case cases[] = {
        {8, 1, 1, 1, 1, 0, 0},
        {8, 3, 2, 2, 2, 1, 1},
        {9, 4, 3, 5, 2, 0, 1},
        {16, 32, 6, 8, 3, 1, 1},
        {13, 5, 7, 9, 2, 1, 0},
        {8, 7, 7, 9, 3, 0, 0},
        {32, 16, 12, 16, 4, 1, 1},
        {16, 8, 1, 7, 2, 0, 1},
        {10, 6, 5, 1, 2, 0, 0},
        /* Many chunks: with the pool, chunks of 4 tile rows end inside
         * samples of 33; without, 34 rows per sample in chunks of 2. */
        {64, 64, 66, 64, 3, 1, 1},
        {48, 40, 67, 65, 2, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

static void test_eligibility(void)
{
    net_step s;
    memset(&s, 0, sizeof s);
    s.kind = STEP_CONV;
    s.conv = (gs_conv2d_shape){16, 16, 8, 8, 3, 3, 1, 1, 1, 1};
    s.conv_h = s.conv_w = 8;
    CHECK(gs_wino_applies(&s));
    s.conv.stride_w = 2;
    CHECK(!gs_wino_applies(&s));
    s.conv.stride_w = 1;
    s.conv.pad_h = 0;
    CHECK(!gs_wino_applies(&s));
    s.conv.pad_h = 1;
    s.conv.kernel_w = 5;
    CHECK(!gs_wino_applies(&s));
    s.conv.kernel_w = 3;
    s.pool_fused = 1;
    s.kh = s.kw = 3, s.sh = s.sw = 2;
    CHECK(!gs_wino_applies(&s)); /* a 3x3 pool window is not one tile */
    s.kh = s.kw = 2;
    CHECK(gs_wino_applies(&s));
    s.conv.in_channels = 1;
    CHECK(!gs_wino_applies(&s)); /* too few input channels to pay off */

    /* The shipped network: every conv after the first (16+ input channels). */
    gs_error err;
    gs_model *m = gs_model_load_default(&err);
    if (!m) {
        fprintf(stderr, "no default model: %s (eligibility of the shipped net not checked)\n", err.message);
        return;
    }
    gs_net *net = gs_net_from_model(m, &err);
    CHECK(net);
    int convs = 0, wino = 0;
    for (int i = 0; net && i < net->num_steps; i++) {
        if (net->steps[i].kind != STEP_CONV)
            continue;
        convs++;
        wino += net->steps[i].wino_weight != NULL;
        CHECK((net->steps[i].wino_weight != NULL) == (net->steps[i].conv.in_channels >= 8));
    }
    CHECK_MSG(convs == 5 && wino == 4, "shipped net: %d convs, %d Winograd", convs, wino);
    gs_net_free(net);
    gs_model_free(m);
}

int main(void)
{
    test_shapes();
    test_eligibility();
    return gs_test_finish("test_cnn_winograd");
}
