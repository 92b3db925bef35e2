/* CNN kernels against naive direct loops, and networks built from model
 * files against a direct (unfolded, NCHW, double precision) reference. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "genrescope/cnn.h"
#include "genrescope/cnn_ops.h"
#include "genrescope/model.h"
#include "support/files.h"
#include "support/rng.h"
#include "support/tmpdir.h"

/* ---- Allocation counter -------------------------------------------------
 * Interposes malloc/calloc/realloc (glibc exports the originals as
 * __libc_*) to prove gs_net_forward allocates nothing. Not under ASan, which
 * owns the allocator. */
#if defined(__SANITIZE_ADDRESS__)
#define GS_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GS_COUNT_ALLOCS 0
#endif
#endif
#ifndef GS_COUNT_ALLOCS
#define GS_COUNT_ALLOCS 1
#endif
#if GS_COUNT_ALLOCS
static volatile long alloc_count;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n)
{
    alloc_count++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    alloc_count++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    alloc_count++;
    return __libc_realloc(p, n);
}
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(float lo, float hi)
{
    double u = (double)(gs_test_lcg64(&rng_state) >> 11) / 9007199254740992.0;
    return (float)(lo + (hi - lo) * u);
}
static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = frand(lo, hi);
}
static float *rand_array(size_t n)
{
    float *x = malloc(sizeof(float) * n);
    fill(x, n, -1.0f, 1.0f);
    return x;
}

/* Largest |a-b| / (1 + |b|): absolute near zero, relative for large values. */
static double max_err(const float *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1.0 + fabs(b[i]));
        if (!(e <= m))
            m = e;
    }
    return m;
}

/* ---- Naive references (NCHW, one sample, double accumulation) ---------- */

static void ref_conv(const float *in, const gs_conv2d_shape *s, const float *w, const float *b, double *out)
{
    int oh = (s->in_height + 2 * s->pad_h - s->kernel_h) / s->stride_h + 1;
    int ow = (s->in_width + 2 * s->pad_w - s->kernel_w) / s->stride_w + 1;
    for (int o = 0; o < s->out_channels; o++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double acc = b ? b[o] : 0.0;
                for (int c = 0; c < s->in_channels; c++)
                    for (int i = 0; i < s->kernel_h; i++)
                        for (int j = 0; j < s->kernel_w; j++) {
                            int iy = y * s->stride_h - s->pad_h + i;
                            int ix = x * s->stride_w - s->pad_w + j;
                            if (iy < 0 || ix < 0 || iy >= s->in_height || ix >= s->in_width)
                                continue;
                            acc += (double)w[((o * s->in_channels + c) * s->kernel_h + i) * s->kernel_w + j] *
                                in[(c * s->in_height + iy) * s->in_width + ix];
                        }
                out[(o * oh + y) * ow + x] = acc;
            }
}

static void ref_pool(const double *in, int c, int h, int w, int kh, int kw, int sh, int sw, int is_max, double *out)
{
    int oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
    for (int p = 0; p < c; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double acc = is_max ? -INFINITY : 0.0;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) {
                        double v = in[(p * h + y * sh + i) * w + x * sw + j];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                    }
                out[(p * oh + y) * ow + x] = is_max ? acc : acc / (kh * kw);
            }
}

/* ---- Kernel tests ------------------------------------------------------ */

static void test_conv_cases(void)
{
    /* {Ci, Co, H, W, kh, kw, sh, sw, ph, pw} */
    static const int cases[][10] = {
        {1, 4, 8, 9, 3, 3, 1, 1, 1, 1},  {3, 5, 7, 6, 3, 3, 1, 1, 0, 0},  {2, 3, 9, 10, 3, 3, 2, 2, 1, 1},
        {2, 4, 8, 11, 5, 5, 1, 1, 2, 2}, {3, 2, 7, 9, 1, 1, 1, 1, 0, 0},  {2, 3, 6, 7, 1, 1, 2, 2, 0, 0},
        {2, 3, 10, 9, 3, 5, 2, 1, 1, 2}, {1, 2, 5, 12, 5, 1, 1, 3, 0, 2}, {4, 6, 4, 4, 4, 4, 1, 1, 0, 0},
        {1, 1, 3, 3, 5, 5, 1, 1, 2, 2},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int *p = cases[t];
        gs_conv2d_shape s = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]};
        int oh = gs_conv2d_out_height(&s), ow = gs_conv2d_out_width(&s);
        CHECK(oh == (p[2] + 2 * p[8] - p[4]) / p[6] + 1);
        CHECK(ow == (p[3] + 2 * p[9] - p[5]) / p[7] + 1);
        const int batch = 3;
        size_t in_n = (size_t)s.in_channels * s.in_height * s.in_width;
        size_t out_n = (size_t)s.out_channels * oh * ow;
        float *in = rand_array(in_n * batch);
        float *w = rand_array((size_t)s.out_channels * s.in_channels * s.kernel_h * s.kernel_w);
        float *b = rand_array((size_t)s.out_channels);
        size_t ws = gs_conv2d_workspace_size(&s);
        int pointwise = p[4] == 1 && p[5] == 1 && p[6] == 1 && p[7] == 1 && p[8] == 0 && p[9] == 0;
        CHECK_MSG(pointwise ? ws == 0 : ws == (size_t)s.in_channels * p[4] * p[5] * oh * ow, "case %zu workspace %zu",
                  t, ws);
        float *work = malloc(sizeof(float) * (ws ? ws : 1));
        float *out = malloc(sizeof(float) * out_n * batch);
        double *ref = malloc(sizeof(double) * out_n);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            gs_conv2d_forward(in, batch, &s, w, with_bias ? b : NULL, out, work);
            for (int n = 0; n < batch; n++) {
                ref_conv(in + n * in_n, &s, w, with_bias ? b : NULL, ref);
                double e = max_err(out + n * out_n, ref, out_n);
                CHECK_MSG(e < 1e-5, "conv case %zu bias %d sample %d err %g", t, with_bias, n, e);
            }
        }
        /* col2im is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>. */
        if (ws) {
            float *y = rand_array(ws), *xg = calloc(in_n, sizeof(float));
            gs_im2col(in, &s, work);
            gs_col2im(y, &s, xg);
            double lhs = 0.0, rhs = 0.0;
            for (size_t i = 0; i < ws; i++)
                lhs += (double)work[i] * y[i];
            for (size_t i = 0; i < in_n; i++)
                rhs += (double)in[i] * xg[i];
            CHECK_MSG(fabs(lhs - rhs) < 1e-4 * (1.0 + fabs(lhs)), "adjoint case %zu: %g vs %g", t, lhs, rhs);
            free(y);
            free(xg);
        }
        free(in);
        free(w);
        free(b);
        free(work);
        free(out);
        free(ref);
    }
}

static void test_pools(void)
{
    /* {C, H, W, kh, kw, sh, sw} */
    static const int cases[][7] = {
        {3, 8, 10, 2, 2, 2, 2}, {2, 9, 11, 2, 2, 2, 2}, {2, 7, 8, 3, 2, 1, 2},
        {1, 5, 5, 5, 5, 5, 5},  {2, 6, 9, 3, 3, 2, 3},  {1, 4, 7, 1, 2, 1, 1},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int *p = cases[t];
        const int batch = 2, c = p[0], h = p[1], w = p[2];
        int oh = (h - p[3]) / p[5] + 1, ow = (w - p[4]) / p[6] + 1;
        size_t in_n = (size_t)batch * c * h * w, out_n = (size_t)batch * c * oh * ow;
        float *in = rand_array(in_n);
        double *din = malloc(sizeof(double) * in_n), *ref = malloc(sizeof(double) * out_n);
        for (size_t i = 0; i < in_n; i++)
            din[i] = in[i];
        float *out = malloc(sizeof(float) * out_n), *out2 = malloc(sizeof(float) * out_n);
        int *arg = malloc(sizeof(int) * out_n);
        ref_pool(din, batch * c, h, w, p[3], p[4], p[5], p[6], 1, ref);
        gs_maxpool2d_forward(in, batch, c, h, w, p[3], p[4], p[5], p[6], out, NULL);
        CHECK_MSG(max_err(out, ref, out_n) == 0.0, "maxpool case %zu", t);
        gs_maxpool2d_forward(in, batch, c, h, w, p[3], p[4], p[5], p[6], out2, arg);
        int arg_ok = 1;
        for (size_t i = 0; i < out_n; i++)
            arg_ok &= arg[i] >= 0 && (size_t)arg[i] < in_n && in[arg[i]] == out2[i] && out2[i] == out[i] &&
                (size_t)arg[i] / ((size_t)h * w) == i / ((size_t)oh * ow);
        CHECK_MSG(arg_ok, "maxpool argmax case %zu", t);
        ref_pool(din, batch * c, h, w, p[3], p[4], p[5], p[6], 0, ref);
        gs_avgpool2d_forward(in, batch, c, h, w, p[3], p[4], p[5], p[6], out);
        CHECK_MSG(max_err(out, ref, out_n) < 1e-6, "avgpool case %zu", t);

        /* Global pools over each plane. */
        size_t planes = (size_t)batch * c, hw = (size_t)h * w;
        double gref[64];
        float gout[64];
        int garg[64];
        for (size_t q = 0; q < planes; q++) {
            double sum = 0.0;
            for (size_t i = 0; i < hw; i++)
                sum += din[q * hw + i];
            gref[q] = sum / (double)hw;
        }
        gs_global_avgpool_forward(in, batch, c, (int)hw, gout);
        CHECK_MSG(max_err(gout, gref, planes) < 1e-6, "global avg case %zu", t);
        for (size_t q = 0; q < planes; q++) {
            double m = -INFINITY;
            for (size_t i = 0; i < hw; i++)
                m = din[q * hw + i] > m ? din[q * hw + i] : m;
            gref[q] = m;
        }
        gs_global_maxpool_forward(in, batch, c, (int)hw, gout, garg);
        CHECK_MSG(max_err(gout, gref, planes) == 0.0, "global max case %zu", t);
        for (size_t q = 0; q < planes; q++)
            CHECK(garg[q] >= (int)(q * hw) && garg[q] < (int)((q + 1) * hw) && in[garg[q]] == gout[q]);
        free(in);
        free(din);
        free(ref);
        free(out);
        free(out2);
        free(arg);
    }
}

static void test_dense_relu_softmax(void)
{
    const int in_f = 37, out_f = 11;
    float *w = rand_array((size_t)in_f * out_f), *b = rand_array(out_f);
    for (int batch = 1; batch <= 4; batch += 3) {
        float *x = rand_array((size_t)batch * in_f), *y = malloc(sizeof(float) * batch * out_f);
        double *ref = malloc(sizeof(double) * batch * out_f);
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < out_f; o++) {
                double acc = b[o];
                for (int i = 0; i < in_f; i++)
                    acc += (double)w[o * in_f + i] * x[n * in_f + i];
                ref[n * out_f + o] = acc;
            }
        gs_dense_forward(x, batch, in_f, out_f, w, b, y);
        CHECK_MSG(max_err(y, ref, (size_t)batch * out_f) < 1e-5, "dense batch %d", batch);
        free(x);
        free(y);
        free(ref);
    }
    free(w);
    free(b);

    float r[6] = {-2.0f, -0.0f, 0.0f, 1e-30f, 3.5f, -1e30f};
    gs_relu_forward(r, 6);
    CHECK(r[0] == 0.0f && r[1] == 0.0f && r[2] == 0.0f && r[3] == 1e-30f && r[4] == 3.5f && r[5] == 0.0f);

    /* Softmax: rows sum to 1, match exp/sum, survive extreme logits. */
    float rows[4][5] = {
        {0.1f, -1.0f, 2.0f, 0.5f, 0.0f},
        {1000.0f, 999.0f, -1000.0f, 0.0f, 998.0f},
        {-1e30f, 1e30f, 3e38f, -3e38f, 0.0f},
        {-500.0f, -500.0f, -500.0f, -500.0f, -500.0f},
    };
    double expect0[5], sum = 0.0;
    for (int i = 0; i < 5; i++)
        sum += exp((double)rows[0][i]);
    for (int i = 0; i < 5; i++)
        expect0[i] = exp((double)rows[0][i]) / sum;
    double expect1[5];
    sum = 0.0;
    for (int i = 0; i < 5; i++)
        sum += exp((double)rows[1][i] - 1000.0);
    for (int i = 0; i < 5; i++)
        expect1[i] = exp((double)rows[1][i] - 1000.0) / sum;
    gs_softmax_forward(&rows[0][0], 4, 5);
    for (int rI = 0; rI < 4; rI++) {
        double s = 0.0;
        int finite = 1;
        for (int i = 0; i < 5; i++) {
            s += rows[rI][i];
            finite &= isfinite(rows[rI][i]) && rows[rI][i] >= 0.0f;
        }
        CHECK_MSG(finite && fabs(s - 1.0) < 1e-6, "softmax row %d sum %g", rI, s);
    }
    CHECK(max_err(rows[0], expect0, 5) < 1e-6);
    CHECK(max_err(rows[1], expect1, 5) < 1e-6);
    CHECK(rows[2][2] == 1.0f && rows[2][0] == 0.0f);
    CHECK_NEAR(rows[3][0], 0.2, 1e-6);
}

/* ---- Networks from model files ----------------------------------------- */

static char tmp_dir[400];

/* Adds a random tensor; running variances positive, as a trained BN's are. */
static void add_tensor(gs_model_writer *w, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t shape[4] = {d0, d1, d2, d3};
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *data = malloc(sizeof(float) * (size_t)n);
    int is_var = strstr(name, "running_var") != NULL;
    int is_gamma = strstr(name, "bn") && strstr(name, ".weight");
    fill(data, (size_t)n, is_var ? 0.3f : is_gamma ? 0.5f : -0.6f, is_var || is_gamma ? 1.5f : 0.6f);
    gs_error err;
    CHECK(gs_model_writer_add_tensor(w, name, ndim, shape, data, &err) == GS_OK);
    free(data);
}

static gs_model *save_and_load(gs_model_writer *w, const char *arch, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, file);
    gs_error err;
    static const char *labels[3] = {"a", "b", "c"};
    gs_frontend_params fe;
    gs_frontend_params_default(&fe);
    gs_model_writer_set_standard_metadata(w, labels, 3, &fe, &err);
    CHECK(gs_model_writer_set_metadata(w, "architecture", arch, &err) == GS_OK);
    CHECK_MSG(gs_model_writer_save(w, path, &err) == GS_OK, "%s", err.message);
    gs_model *m = gs_model_load(path, &err);
    CHECK_MSG(m != NULL, "load %s: %s", path, err.message);
    remove(path);
    return m;
}

/* Loads the model file's bytes from an odd address, so every tensor is
 * misaligned (as an mmapped file may be); *blob must outlive the model. */
static gs_model *load_misaligned(gs_model_writer *w, const char *arch, const char *file, char **blob)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, file);
    gs_error err;
    *blob = NULL;
    CHECK(gs_model_writer_set_metadata(w, "architecture", arch, &err) == GS_OK);
    CHECK_MSG(gs_model_writer_save(w, path, &err) == GS_OK, "%s", err.message);
    size_t size = 0;
    unsigned char *bytes = gs_test_read_file(path, &size);
    remove(path);
    CHECK(bytes != NULL);
    if (!bytes)
        return NULL;
    *blob = malloc(size + 1);
    memcpy(*blob + 1, bytes, size);
    free(bytes);
    gs_model *m = gs_model_load_memory(*blob + 1, size, &err);
    CHECK_MSG(m != NULL, "misaligned load: %s", err.message);
    return m;
}

/* The reference net's architecture: a C > 1 input (layout transposition),
 * BN with and without conv bias, pointwise conv, non-square stride/kernel,
 * avg pool, relu after pool, global max, a dense-relu-dropout-dense head. */
static const char *ref_arch = "{\"input\":[2,9,11],\"layers\":["
                              "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":2,\"out\":4,\"kernel\":[3,3],\"stride\":[1,1],"
                              "\"padding\":[1,1],\"bias\":true},"
                              "{\"op\":\"batchnorm2d\",\"name\":\"bn1\",\"eps\":1e-5},{\"op\":\"relu\"},"
                              "{\"op\":\"maxpool2d\",\"kernel\":[2,2],\"stride\":[2,2]},"
                              "{\"op\":\"conv2d\",\"name\":\"c2\",\"in\":4,\"out\":5,\"kernel\":[1,1],\"bias\":false},"
                              "{\"op\":\"batchnorm2d\",\"name\":\"bn2\",\"eps\":0.001},{\"op\":\"relu\"},"
                              "{\"op\":\"conv2d\",\"name\":\"c3\",\"in\":5,\"out\":6,\"kernel\":[2,3],\"stride\":[1,2],"
                              "\"padding\":[0,1]},"
                              "{\"op\":\"avgpool2d\",\"kernel\":[2,2],\"stride\":[1,1]},{\"op\":\"relu\"},"
                              "{\"op\":\"global_maxpool\"},"
                              "{\"op\":\"dense\",\"name\":\"d1\",\"in\":6,\"out\":7},{\"op\":\"relu\"},"
                              "{\"op\":\"dropout\",\"p\":0.3},"
                              "{\"op\":\"dense\",\"name\":\"d2\",\"in\":7,\"out\":3},{\"op\":\"softmax\"}]}";

static void add_ref_tensors(gs_model_writer *w)
{
    add_tensor(w, "c1.weight", 4, 4, 2, 3, 3);
    add_tensor(w, "c1.bias", 1, 4, 0, 0, 0);
    add_tensor(w, "bn1.weight", 1, 4, 0, 0, 0);
    add_tensor(w, "bn1.bias", 1, 4, 0, 0, 0);
    add_tensor(w, "bn1.running_mean", 1, 4, 0, 0, 0);
    add_tensor(w, "bn1.running_var", 1, 4, 0, 0, 0);
    add_tensor(w, "c2.weight", 4, 5, 4, 1, 1);
    add_tensor(w, "bn2.weight", 1, 5, 0, 0, 0);
    add_tensor(w, "bn2.bias", 1, 5, 0, 0, 0);
    add_tensor(w, "bn2.running_mean", 1, 5, 0, 0, 0);
    add_tensor(w, "bn2.running_var", 1, 5, 0, 0, 0);
    add_tensor(w, "c3.weight", 4, 6, 5, 2, 3);
    add_tensor(w, "c3.bias", 1, 6, 0, 0, 0);
    add_tensor(w, "d1.weight", 2, 7, 6, 0, 0);
    add_tensor(w, "d1.bias", 1, 7, 0, 0, 0);
    add_tensor(w, "d2.weight", 2, 3, 7, 0, 0);
    add_tensor(w, "d2.bias", 1, 3, 0, 0, 0);
}

static const float *T(const gs_model *m, const char *name)
{
    const gs_tensor *t = gs_model_tensor(m, name);
    return t ? t->data : NULL;
}

/* Copies a possibly unaligned tensor. */
static float *TC(const gs_model *m, const char *name)
{
    const gs_tensor *t = gs_model_tensor(m, name);
    float *x = malloc(sizeof(float) * (size_t)t->numel);
    memcpy(x, t->data, sizeof(float) * (size_t)t->numel);
    return x;
}

static void ref_bn(double *x, int c, int hw, const gs_model *m, const char *bn, double eps)
{
    char n[64];
    float g[8], b[8], mean[8], var[8];
    snprintf(n, sizeof n, "%s.weight", bn);
    memcpy(g, T(m, n), sizeof(float) * c);
    snprintf(n, sizeof n, "%s.bias", bn);
    memcpy(b, T(m, n), sizeof(float) * c);
    snprintf(n, sizeof n, "%s.running_mean", bn);
    memcpy(mean, T(m, n), sizeof(float) * c);
    snprintf(n, sizeof n, "%s.running_var", bn);
    memcpy(var, T(m, n), sizeof(float) * c);
    for (int i = 0; i < c; i++)
        for (int p = 0; p < hw; p++) {
            double *v = &x[i * hw + p];
            *v = (*v - mean[i]) / sqrt(var[i] + eps) * g[i] + b[i];
        }
}

static void ref_relu(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0 ? x[i] : 0.0;
}

/* The reference net, unfolded: conv then BN as separate steps. */
static void ref_forward(const gs_model *m, const float *in, double *probs, double *emb)
{
    double a[4 * 9 * 11], b[4 * 9 * 11];
    float fa[4 * 9 * 11];
    float *w1 = TC(m, "c1.weight"), *b1 = TC(m, "c1.bias"), *w2 = TC(m, "c2.weight"), *w3 = TC(m, "c3.weight"),
          *b3 = TC(m, "c3.bias");
    gs_conv2d_shape s1 = {2, 4, 9, 11, 3, 3, 1, 1, 1, 1};
    ref_conv(in, &s1, w1, b1, a);
    ref_bn(a, 4, 99, m, "bn1", 1e-5);
    ref_relu(a, 4 * 99);
    ref_pool(a, 4, 9, 11, 2, 2, 2, 2, 1, b); /* [4,4,5] */
    for (int i = 0; i < 80; i++)
        fa[i] = (float)b[i];
    gs_conv2d_shape s2 = {4, 5, 4, 5, 1, 1, 1, 1, 0, 0};
    ref_conv(fa, &s2, w2, NULL, a); /* [5,4,5] */
    ref_bn(a, 5, 20, m, "bn2", 1e-3);
    ref_relu(a, 100);
    for (int i = 0; i < 100; i++)
        fa[i] = (float)a[i];
    gs_conv2d_shape s3 = {5, 6, 4, 5, 2, 3, 1, 2, 0, 1};
    ref_conv(fa, &s3, w3, b3, a);           /* [6,3,3] */
    ref_pool(a, 6, 3, 3, 2, 2, 1, 1, 0, b); /* [6,2,2] */
    ref_relu(b, 24);
    double g[6];
    for (int c = 0; c < 6; c++) {
        g[c] = b[c * 4];
        for (int i = 1; i < 4; i++)
            g[c] = b[c * 4 + i] > g[c] ? b[c * 4 + i] : g[c];
    }
    const float *dw1 = TC(m, "d1.weight"), *db1 = TC(m, "d1.bias"), *dw2 = TC(m, "d2.weight"), *db2 = TC(m, "d2.bias");
    for (int o = 0; o < 7; o++) {
        double acc = db1[o];
        for (int i = 0; i < 6; i++)
            acc += (double)dw1[o * 6 + i] * g[i];
        emb[o] = acc > 0.0 ? acc : 0.0;
    }
    double logits[3], mx = -INFINITY, sum = 0.0;
    for (int o = 0; o < 3; o++) {
        double acc = db2[o];
        for (int i = 0; i < 7; i++)
            acc += (double)dw2[o * 7 + i] * emb[i];
        logits[o] = acc;
        mx = acc > mx ? acc : mx;
    }
    for (int o = 0; o < 3; o++)
        sum += exp(logits[o] - mx);
    for (int o = 0; o < 3; o++)
        probs[o] = exp(logits[o] - mx) / sum;
    free(w1);
    free(b1);
    free(w2);
    free(w3);
    free(b3);
    free((void *)dw1);
    free((void *)db1);
    free((void *)dw2);
    free((void *)db2);
}

static void test_net_reference(void)
{
    gs_model_writer *w = gs_model_writer_new();
    add_ref_tensors(w);
    gs_model *m = save_and_load(w, ref_arch, "cnn_ref.safetensors");
    char *blob;
    gs_model *mis = load_misaligned(w, ref_arch, "cnn_ref_mis.safetensors", &blob);
    gs_model_writer_free(w);
    if (!m || !mis) {
        gs_model_free(m);
        gs_model_free(mis);
        free(blob);
        return;
    }
    gs_error err;
    gs_net *net = gs_net_from_model(m, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    if (!net) {
        gs_model_free(m);
        return;
    }
    int c, h, wd;
    gs_net_input_shape(net, &c, &h, &wd);
    CHECK(c == 2 && h == 9 && wd == 11);
    CHECK(gs_net_num_outputs(net) == 3);
    CHECK(gs_net_embedding_size(net) == 7);

    enum { N = 5, IN = 2 * 9 * 11 };
    float *in = rand_array((size_t)N * IN);
    double ref_p[N][3], ref_e[N][7];
    for (int n = 0; n < N; n++)
        ref_forward(m, in + n * IN, ref_p[n], ref_e[n]);
    /* The net copied its weights: the model can go before inference. */
    gs_model_free(m);

    gs_net_ctx *ctx = gs_net_ctx_new(net, N, &err);
    CHECK_MSG(ctx != NULL, "%s", err.message);
    float probs[N * 3], emb[N * 7], p1[3], e1[7];
    CHECK(gs_net_forward(ctx, in, N, probs, emb, &err) == GS_OK);
    for (int n = 0; n < N; n++) {
        CHECK_MSG(max_err(probs + n * 3, ref_p[n], 3) < 1e-5, "probs sample %d", n);
        CHECK_MSG(max_err(emb + n * 7, ref_e[n], 7) < 1e-5, "embedding sample %d", n);
        /* A batch of N equals N forwards of one. */
        CHECK(gs_net_forward(ctx, in + n * IN, 1, p1, e1, &err) == GS_OK);
        double pb[3], eb[7];
        for (int i = 0; i < 3; i++)
            pb[i] = probs[n * 3 + i];
        for (int i = 0; i < 7; i++)
            eb[i] = emb[n * 7 + i];
        CHECK_MSG(max_err(p1, pb, 3) < 1e-6 && max_err(e1, eb, 7) < 1e-6, "batch vs single %d", n);
    }
    /* Misaligned tensor data gives the same network. */
    gs_net *net_mis = gs_net_from_model(mis, &err);
    gs_model_free(mis);
    free(blob);
    CHECK_MSG(net_mis != NULL, "%s", err.message);
    gs_net_ctx *ctx_mis = net_mis ? gs_net_ctx_new(net_mis, N, &err) : NULL;
    float probs_mis[N * 3];
    CHECK(ctx_mis && gs_net_forward(ctx_mis, in, N, probs_mis, NULL, &err) == GS_OK &&
          memcmp(probs_mis, probs, sizeof probs) == 0);
    gs_net_ctx_free(ctx_mis);
    gs_net_free(net_mis);

    /* Embeddings are optional. */
    CHECK(gs_net_forward(ctx, in, 2, probs, NULL, &err) == GS_OK);
    CHECK(max_err(probs, ref_p[0], 3) < 1e-5);

#if GS_COUNT_ALLOCS
    long before = alloc_count;
    CHECK(gs_net_forward(ctx, in, N, probs, emb, &err) == GS_OK);
    CHECK(gs_net_forward(ctx, in, 1, probs, emb, &err) == GS_OK);
    CHECK_MSG(alloc_count == before, "forward allocated %ld times", alloc_count - before);
#endif

    CHECK(gs_net_forward(ctx, in, 0, probs, emb, &err) == GS_ERR_INVALID);
    CHECK(gs_net_forward(ctx, in, N + 1, probs, emb, &err) == GS_ERR_INVALID);
    CHECK(gs_net_ctx_new(net, 0, &err) == NULL && err.code == GS_ERR_INVALID);
    gs_net_ctx_free(ctx);
    gs_net_free(net);
    free(in);
}

/* Inputs large enough that convolutions run in bands of rows, with odd
 * heights (a fused pool drops the trailing row) and an overlapping pool
 * that cannot be banded; checked against the direct reference. With
 * cnn_net.c's tile of 2^18 floats, c1 (8 outputs, K = 9) runs in bands of
 * 50 rows: [0,50) and [50,67), whose last row no pool window uses. */
static const char *band_arch =
    "{\"input\":[1,67,301],\"layers\":["
    "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":8,\"kernel\":3,\"padding\":1},"
    "{\"op\":\"batchnorm2d\",\"name\":\"bn1\"},{\"op\":\"relu\"},{\"op\":\"maxpool2d\",\"kernel\":2},"
    "{\"op\":\"conv2d\",\"name\":\"c2\",\"in\":8,\"out\":4,\"kernel\":3,\"padding\":1},{\"op\":\"relu\"},"
    "{\"op\":\"maxpool2d\",\"kernel\":[3,2],\"stride\":[2,2]},"
    "{\"op\":\"global_avgpool\"},{\"op\":\"dense\",\"name\":\"d\",\"in\":4,\"out\":3},"
    "{\"op\":\"softmax\"}]}";

static void band_ref(const gs_model *m, const float *in, double *probs, double *emb)
{
    enum { H = 67, W = 301, H1 = 33, W1 = 150, H2 = 16, W2 = 75 };
    double *a = malloc(sizeof(double) * 8 * H * W), *b = malloc(sizeof(double) * 8 * H * W);
    float *fa = malloc(sizeof(float) * 8 * H1 * W1);
    float *w1 = TC(m, "c1.weight"), *b1 = TC(m, "c1.bias"), *w2 = TC(m, "c2.weight"), *b2 = TC(m, "c2.bias"),
          *dw = TC(m, "d.weight"), *db = TC(m, "d.bias");
    gs_conv2d_shape s1 = {1, 8, H, W, 3, 3, 1, 1, 1, 1}, s2 = {8, 4, H1, W1, 3, 3, 1, 1, 1, 1};
    ref_conv(in, &s1, w1, b1, a);
    ref_bn(a, 8, H * W, m, "bn1", 1e-5);
    ref_relu(a, 8 * H * W);
    ref_pool(a, 8, H, W, 2, 2, 2, 2, 1, b);
    for (int i = 0; i < 8 * H1 * W1; i++)
        fa[i] = (float)b[i];
    ref_conv(fa, &s2, w2, b2, a);
    ref_relu(a, 4 * H1 * W1);
    ref_pool(a, 4, H1, W1, 3, 2, 2, 2, 1, b);
    for (int c = 0; c < 4; c++) {
        double sum = 0.0;
        for (int i = 0; i < H2 * W2; i++)
            sum += b[c * H2 * W2 + i];
        emb[c] = sum / (H2 * W2);
    }
    double l[3], mx = -INFINITY, z = 0.0;
    for (int o = 0; o < 3; o++) {
        l[o] = db[o];
        for (int i = 0; i < 4; i++)
            l[o] += (double)dw[o * 4 + i] * emb[i];
        mx = l[o] > mx ? l[o] : mx;
    }
    for (int o = 0; o < 3; o++)
        z += exp(l[o] - mx);
    for (int o = 0; o < 3; o++)
        probs[o] = exp(l[o] - mx) / z;
    free(a);
    free(b);
    free(fa);
    free(w1);
    free(b1);
    free(w2);
    free(b2);
    free(dw);
    free(db);
}

static void test_net_bands(void)
{
    gs_model_writer *w = gs_model_writer_new();
    add_tensor(w, "c1.weight", 4, 8, 1, 3, 3);
    add_tensor(w, "c1.bias", 1, 8, 0, 0, 0);
    add_tensor(w, "bn1.weight", 1, 8, 0, 0, 0);
    add_tensor(w, "bn1.bias", 1, 8, 0, 0, 0);
    add_tensor(w, "bn1.running_mean", 1, 8, 0, 0, 0);
    add_tensor(w, "bn1.running_var", 1, 8, 0, 0, 0);
    add_tensor(w, "c2.weight", 4, 4, 8, 3, 3);
    add_tensor(w, "c2.bias", 1, 4, 0, 0, 0);
    add_tensor(w, "d.weight", 2, 3, 4, 0, 0);
    add_tensor(w, "d.bias", 1, 3, 0, 0, 0);
    gs_model *m = save_and_load(w, band_arch, "cnn_band.safetensors");
    gs_model_writer_free(w);
    if (!m)
        return;
    gs_error err;
    gs_net *net = gs_net_from_model(m, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    enum { N = 3, IN = 67 * 301 };
    float *in = rand_array((size_t)N * IN);
    gs_net_ctx *ctx = net ? gs_net_ctx_new(net, N, &err) : NULL;
    float probs[N * 3], emb[N * 4];
    if (ctx && gs_net_forward(ctx, in, N, probs, emb, &err) == GS_OK) {
        for (int n = 0; n < N; n++) {
            double rp[3], re[4];
            band_ref(m, in + (size_t)n * IN, rp, re);
            CHECK_MSG(max_err(probs + n * 3, rp, 3) < 1e-5, "banded probs sample %d", n);
            CHECK_MSG(max_err(emb + n * 4, re, 4) < 1e-5, "banded embedding sample %d", n);
        }
    } else {
        CHECK_MSG(0, "banded net: %s", err.message);
    }
    gs_net_ctx_free(ctx);
    gs_net_free(net);
    gs_model_free(m);
    free(in);
}

/* ---- Malformed architectures ------------------------------------------- */

/* A small valid net: conv(1->2, 3x3) bn relu maxpool gap dense(2->3) softmax. */
#define GOOD_HEAD "{\"input\":[1,6,6],\"layers\":["
#define CONV1     "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":2,\"kernel\":[3,3],\"padding\":[1,1]},"
#define BN1       "{\"op\":\"batchnorm2d\",\"name\":\"bn1\"},"
#define TAIL      "{\"op\":\"global_avgpool\"},{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},{\"op\":\"softmax\"}]}"

static gs_status build_status(const char *arch, int skip_tensor, int bad_shape, char *msg)
{
    gs_model_writer *w = gs_model_writer_new();
    if (skip_tensor != 1)
        add_tensor(w, "c1.weight", 4, 2, 1, bad_shape ? 5 : 3, 3);
    add_tensor(w, "c1.bias", 1, 2, 0, 0, 0);
    add_tensor(w, "bn1.weight", 1, 2, 0, 0, 0);
    add_tensor(w, "bn1.bias", 1, 2, 0, 0, 0);
    add_tensor(w, "bn1.running_mean", 1, 2, 0, 0, 0);
    add_tensor(w, "bn1.running_var", 1, 2, 0, 0, 0);
    add_tensor(w, "d.weight", 2, 3, 2, 0, 0);
    if (skip_tensor != 2)
        add_tensor(w, "d.bias", 1, 3, 0, 0, 0);
    gs_model *m = save_and_load(w, arch, "cnn_bad.safetensors");
    gs_model_writer_free(w);
    if (!m) {
        snprintf(msg, GS_ERROR_MESSAGE_SIZE, "model did not load");
        return GS_ERR_IO;
    }
    gs_error err;
    gs_error_clear(&err);
    gs_net *net = gs_net_from_model(m, &err);
    gs_status st = net ? GS_OK : err.code;
    snprintf(msg, GS_ERROR_MESSAGE_SIZE, "%s", err.message);
    gs_net_free(net);
    gs_model_free(m);
    return st;
}

static void expect_reject(const char *arch, int skip_tensor, int bad_shape, const char *needle)
{
    char msg[GS_ERROR_MESSAGE_SIZE];
    gs_status st = build_status(arch, skip_tensor, bad_shape, msg);
    CHECK_MSG(st == GS_ERR_MODEL && strstr(msg, needle), "expected \"%s\", got %d \"%s\"", needle, (int)st, msg);
}

static void test_malformed(void)
{
    char msg[GS_ERROR_MESSAGE_SIZE];
    /* The baseline is accepted, so each rejection below is about its change. */
    gs_status st = build_status(GOOD_HEAD CONV1 BN1 "{\"op\":\"relu\"},"
                                                    "{\"op\":\"maxpool2d\",\"kernel\":[2,2]}," TAIL,
                                0, 0, msg);
    CHECK_MSG(st == GS_OK, "baseline rejected: %s", msg);

    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"swish\"}," TAIL, 0, 0, "unknown op \"swish\"");
    expect_reject(GOOD_HEAD CONV1 TAIL, 1, 0, "missing tensor \"c1.weight\"");
    expect_reject(GOOD_HEAD CONV1 TAIL, 2, 0, "missing tensor \"d.bias\"");
    expect_reject(GOOD_HEAD CONV1 TAIL, 0, 1, "shape [2,1,5,3], expected [2,1,3,3]");
    expect_reject(GOOD_HEAD "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":3,\"out\":2,\"kernel\":3}," TAIL, 0, 0,
                  "channel mismatch");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"global_avgpool\"},{\"op\":\"dense\",\"name\":\"d\",\"in\":4,\"out\":3},"
                                  "{\"op\":\"softmax\"}]}",
                  0, 0, "feature mismatch");
    expect_reject("{\"input\":[1,0,6],\"layers\":[" CONV1 TAIL, 0, 0, "input shape invalid");
    expect_reject("{\"input\":[1,6],\"layers\":[" CONV1 TAIL, 0, 0, "input shape invalid");
    expect_reject("{\"layers\":[" CONV1 TAIL, 0, 0, "input shape invalid");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"maxpool2d\",\"kernel\":[4,4]},"
                                  "{\"op\":\"maxpool2d\",\"kernel\":[2,2]}," TAIL,
                  0, 0, "collapse");
    expect_reject(GOOD_HEAD
                  "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":2,\"kernel\":[3,3],"
                  "\"stride\":[4,4]},{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":2,\"out\":2,\"kernel\":[3,3]}," TAIL,
                  0, 0, "collapse");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"global_avgpool\"},"
                                  "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3}]}",
                  0, 0, "dense then softmax");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"global_avgpool\"},"
                                  "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},{\"op\":\"relu\"},"
                                  "{\"op\":\"softmax\"}]}",
                  0, 0, "softmax must be the last layer, directly after a dense");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"relu\"}," BN1 TAIL, 0, 0, "must directly follow a conv2d");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},"
                                  "{\"op\":\"softmax\"}]}",
                  0, 0, "flat input");
    expect_reject(GOOD_HEAD CONV1 "{\"op\":\"global_avgpool\"},{\"op\":\"maxpool2d\",\"kernel\":1},"
                                  "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},{\"op\":\"softmax\"}]}",
                  0, 0, "follows a global pool");
    expect_reject(GOOD_HEAD "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":2,\"kernel\":[3,-1]}," TAIL, 0, 0,
                  "\"kernel\" must be");
    expect_reject(GOOD_HEAD "{\"op\":\"conv2d\",\"in\":1,\"out\":2,\"kernel\":3}," TAIL, 0, 0, "\"name\"");
    expect_reject("{\"input\":[1,6,6]}", 0, 0, "layers");
    expect_reject("{\"input\":[1,6,6],\"layers\":[]}", 0, 0, "layers");
}

int main(void)
{
    if (gs_test_tmpdir(tmp_dir, sizeof tmp_dir, "test_cnn") != 0)
        return EXIT_FAILURE;
    test_conv_cases();
    test_pools();
    test_dense_relu_softmax();
    test_net_reference();
    test_net_bands();
    test_malformed();
    if (!gs_test_failures)
        gs_test_rmtree(tmp_dir);
    return gs_test_finish("test_cnn");
}
