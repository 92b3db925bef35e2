/* The allocation-free forward pass over a built gs_net.
 *
 * Layout: activations are kept as [C][N][H][W] ("CNHW") inside a forward
 * pass so that a convolution over several samples is one sgemm
 * (Co x K) * (K x n*OH*OW) whose result is already in the same layout (no
 * transposes); the pooling kernels only see independent planes, so the
 * layout costs nothing there. After a global pool, activations are [N][F].
 *
 * Fusion: conv + bias + relu (+ a following max pool) is one step whose
 * epilogue runs per cache-sized tile; since relu and max commute with adding
 * a per-channel constant, the pool runs first and bias/relu touch only the
 * pooled values. Dropout is dropped; dense + relu is one step.
 *
 * 3x3/1/1 convolutions with enough input channels run as Winograd
 * F(2x2, 3x3) instead (cnn_winograd.c): 2.25x fewer multiplications, the
 * same fusions. */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_internal.h"
#include "cnn_winograd.h"
#include "genrescope/cnn.h"
#include "genrescope/cnn_ops.h"

/* Floats of column matrix plus conv output to keep cache-resident per
 * tile: a convolution runs as one sgemm per tile of output columns (whole
 * samples when they fit, else bands of rows), and its bias/relu/pool
 * epilogue runs on the tile while it is still in cache. */
#define TILE_FLOATS ((size_t)1 << 18)

/* N = max_batch. Sizes are the largest any step needs (gs_net_ctx_new). */
struct gs_net_ctx {
    const gs_net *net;
    int max_batch;
    /* Ping-pong step input/output: [C][N][H][W] up to net->act_floats per
     * sample; [N][F] once flat. */
    float *buf[2];
    /* im2col of one tile: [Ci*kh*kw][tile columns] (a tile: whole samples
     * or a band of output rows, see plan_tile). NULL: no conv needs one. */
    float *col;
    /* A tile's conv output before its fused max pool: [Co][tile columns]. */
    float *scratch;
    /* Winograd convs (cnn_winograd.c), per chunk of 2x2 tiles: transformed
     * input [16][Ci][tiles], products [16][Co][tiles] (planes padded, see
     * gs_wino_workspace), and four zero-padded input rows with even and
     * odd columns apart [2][4][tiles per row + 1]. */
    float *wino_in, *wino_out, *wino_row;
};

/* ---- Context and forward ----------------------------------------------- */

/* A conv's unit of work: `group` whole samples, or (group == 1) a band of
 * `rows` output rows of one sample. */
typedef struct tile {
    int group, rows;
} tile;

static tile plan_tile(const net_step *s, int batch)
{
    const gs_conv2d_shape *cs = &s->conv;
    size_t per_col = (size_t)cs->in_channels * cs->kernel_h * cs->kernel_w + (s->pool_fused ? (size_t)s->out_c : 0);
    size_t target = TILE_FLOATS / per_col;
    size_t ohw = (size_t)s->conv_h * s->conv_w;
    tile t = {1, s->conv_h};
    if (ohw <= target) {
        size_t g = target / ohw;
        t.group = g > (size_t)batch ? batch : (int)g;
        return t;
    }
    int rows = (int)(target / (size_t)s->conv_w);
    if (s->pool_fused) {
        /* Bands must hold whole pooling windows and start on one. */
        if (s->kh != s->sh)
            return t;
        rows = rows / s->sh * s->sh;
        if (rows < s->sh)
            rows = s->sh;
    }
    if (rows < 1)
        rows = 1;
    if (rows < t.rows)
        t.rows = rows;
    return t;
}

gs_net_ctx *gs_net_ctx_new(const gs_net *net, int max_batch, gs_error *err)
{
    if (!net) {
        gs_error_set(err, GS_ERR_INVALID, "no network");
        return NULL;
    }
    if (max_batch < 1 || max_batch > 65536) {
        gs_error_set(err, GS_ERR_INVALID, "max_batch %d outside 1..65536", max_batch);
        return NULL;
    }
    /* BLAS takes int dimensions and leading dimensions. */
    if (net->act_floats > (size_t)INT32_MAX / (size_t)max_batch) {
        gs_error_set(err, GS_ERR_NOMEM, "batch of %d is too large for this network", max_batch);
        return NULL;
    }
    gs_net_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ctx->net = net;
    ctx->max_batch = max_batch;
    size_t act = net->act_floats * (size_t)max_batch, col = 0, scratch = 0;
    size_t wino[3] = {0, 0, 0};
    for (int i = 0; i < net->num_steps; i++) {
        const net_step *s = &net->steps[i];
        if (s->kind != STEP_CONV)
            continue;
        if (s->wino_weight) {
            size_t need[3];
            gs_wino_workspace(s, max_batch, &need[0], &need[1], &need[2]);
            for (int k = 0; k < 3; k++)
                wino[k] = need[k] > wino[k] ? need[k] : wino[k];
            continue;
        }
        tile t = plan_tile(s, max_batch);
        size_t cols = (size_t)t.group * t.rows * s->conv_w;
        if (!gs_cnn_conv_is_pointwise(&s->conv)) {
            size_t k = (size_t)s->conv.in_channels * s->conv.kernel_h * s->conv.kernel_w;
            col = k * cols > col ? k * cols : col;
        }
        if (s->pool_fused)
            scratch = (size_t)s->out_c * cols > scratch ? (size_t)s->out_c * cols : scratch;
    }
    /* 64-byte alignment: AVX-512 loads in the BLAS kernels and our loops. */
    for (int i = 0; i < 2; i++)
        ctx->buf[i] = aligned_alloc(64, (sizeof(float) * act + 63) / 64 * 64);
    ctx->col = col ? aligned_alloc(64, (sizeof(float) * col + 63) / 64 * 64) : NULL;
    ctx->scratch = scratch ? aligned_alloc(64, (sizeof(float) * scratch + 63) / 64 * 64) : NULL;
    float **wino_buf[3] = {&ctx->wino_in, &ctx->wino_out, &ctx->wino_row};
    int wino_failed = 0;
    for (int k = 0; k < 3; k++) {
        *wino_buf[k] = wino[k] ? aligned_alloc(64, (sizeof(float) * wino[k] + 63) / 64 * 64) : NULL;
        wino_failed |= wino[k] && !*wino_buf[k];
    }
    if (!ctx->buf[0] || !ctx->buf[1] || (col && !ctx->col) || (scratch && !ctx->scratch) || wino_failed) {
        gs_net_ctx_free(ctx);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory allocating network buffers");
        return NULL;
    }
    return ctx;
}

void gs_net_ctx_free(gs_net_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->buf[0]);
    free(ctx->buf[1]);
    free(ctx->col);
    free(ctx->scratch);
    free(ctx->wino_in);
    free(ctx->wino_out);
    free(ctx->wino_row);
    free(ctx);
}

/* Max pools one channel's band of conv output (rows x conv_w) into dst and
 * applies the bias (and relu) to the pooled values only. */
static void pool_bias_act(const net_step *s, const float *src, int rows, float *dst, float bias)
{
    gs_maxpool2d_forward(src, 1, 1, rows, s->conv_w, s->kh, s->kw, s->sh, s->sw, dst, NULL);
    size_t n = (size_t)((rows - s->kh) / s->sh + 1) * s->out_w;
    if (s->relu_fused) {
        for (size_t i = 0; i < n; i++) {
            float v = dst[i] + bias;
            dst[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] += bias;
    }
}

/* Convolution (+ fused epilogue) of one tile: samples n0..n0+g-1, output
 * rows [y0, y1) (all rows when g > 1). */
static void conv_tile(const gs_net_ctx *ctx, const net_step *s, int batch, const float *in, float *out, int n0, int g,
                      int y0, int y1)
{
    const gs_conv2d_shape *cs = &s->conv;
    const int ow = s->conv_w, rows = y1 - y0, co = cs->out_channels;
    const int K = cs->in_channels * cs->kernel_h * cs->kernel_w;
    const size_t ohw = (size_t)s->conv_h * ow, band = (size_t)rows * ow;
    const size_t cols = (size_t)g * band;
    const size_t in_plane = (size_t)cs->in_height * cs->in_width;
    const float *b;
    size_t ldb;
    if (gs_cnn_conv_is_pointwise(cs)) {
        /* CNHW input is already the [Ci][N*H*W] column matrix. */
        b = in + (size_t)n0 * ohw + (size_t)y0 * ow;
        ldb = (size_t)batch * ohw;
    } else {
        for (int n = 0; n < g; n++)
            gs_cnn_im2col_rows(in + (size_t)(n0 + n) * in_plane, (size_t)batch * in_plane, cs, y0, y1,
                               ctx->col + (size_t)n * band, cols);
        b = ctx->col;
        ldb = cols;
    }
    if (s->pool_fused) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)cols, K, 1.0f, s->weight, K, b, (int)ldb, 0.0f,
                    ctx->scratch, (int)cols);
        const size_t pooled_plane = (size_t)s->out_h * s->out_w;
        const size_t row_off = (size_t)(y0 / s->sh) * s->out_w;
        for (int o = 0; o < co; o++)
            for (int n = 0; n < g; n++)
                pool_bias_act(s, ctx->scratch + (size_t)o * cols + (size_t)n * band, rows,
                              out + ((size_t)o * batch + n0 + n) * pooled_plane + row_off, s->bias[o]);
    } else {
        float *c = out + (size_t)n0 * ohw + (size_t)y0 * ow;
        const size_t ldc = (size_t)batch * ohw;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)cols, K, 1.0f, s->weight, K, b, (int)ldb, 0.0f,
                    c, (int)ldc);
        for (int o = 0; o < co; o++) {
            float *p = c + (size_t)o * ldc;
            const float bo = s->bias[o];
            if (s->relu_fused) {
                for (size_t i = 0; i < cols; i++) {
                    float v = p[i] + bo;
                    p[i] = v > 0.0f ? v : 0.0f;
                }
            } else {
                for (size_t i = 0; i < cols; i++)
                    p[i] += bo;
            }
        }
    }
}

static void conv_step(const gs_net_ctx *ctx, const net_step *s, int batch, const float *in, float *out)
{
    if (s->wino_weight) {
        gs_wino_conv(s, batch, in, out, ctx->wino_in, ctx->wino_out, ctx->wino_row);
        return;
    }
    tile t = plan_tile(s, batch);
    if (t.group > 1 || t.rows == s->conv_h) {
        for (int n0 = 0; n0 < batch; n0 += t.group)
            conv_tile(ctx, s, batch, in, out, n0, batch - n0 < t.group ? batch - n0 : t.group, 0, s->conv_h);
        return;
    }
    /* A fused pool drops trailing rows that make no whole window (floor
     * mode), so a last band shorter than the window is not computed. */
    const int min_rows = s->pool_fused ? s->kh : 1;
    for (int n = 0; n < batch; n++)
        for (int y0 = 0; y0 + min_rows <= s->conv_h; y0 += t.rows)
            conv_tile(ctx, s, batch, in, out, n, 1, y0, s->conv_h - y0 < t.rows ? s->conv_h : y0 + t.rows);
}

gs_status gs_net_forward(gs_net_ctx *ctx, const float *input, int batch, float *probs, float *embeddings, gs_error *err)
{
    if (!ctx || !input || !probs)
        return gs_error_set(err, GS_ERR_INVALID, "missing context, input or output");
    if (batch < 1 || batch > ctx->max_batch)
        return gs_error_set(err, GS_ERR_INVALID, "batch %d outside 1..%d", batch, ctx->max_batch);
    const gs_net *net = ctx->net;
    const size_t hw = (size_t)net->in_h * net->in_w;
    float *cur = ctx->buf[0], *other = ctx->buf[1];
    /* NCHW -> CNHW (identical when C == 1 or batch == 1). */
    for (int n = 0; n < batch; n++)
        for (int c = 0; c < net->in_c; c++)
            memcpy(cur + ((size_t)c * batch + n) * hw, input + ((size_t)n * net->in_c + c) * hw, sizeof(float) * hw);

    for (int i = 0; i < net->num_steps; i++) {
        const net_step *s = &net->steps[i];
        const size_t in_plane = (size_t)s->in_h * s->in_w;
        float *tmp;
        switch (s->kind) {
        case STEP_CONV:
            conv_step(ctx, s, batch, cur, other);
            tmp = cur, cur = other, other = tmp;
            break;
        case STEP_RELU: gs_relu_forward(cur, (size_t)batch * s->in_c * in_plane); break;
        case STEP_MAXPOOL:
        case STEP_AVGPOOL:
            if (s->kind == STEP_MAXPOOL)
                gs_maxpool2d_forward(cur, batch, s->in_c, s->in_h, s->in_w, s->kh, s->kw, s->sh, s->sw, other, NULL);
            else
                gs_avgpool2d_forward(cur, batch, s->in_c, s->in_h, s->in_w, s->kh, s->kw, s->sh, s->sw, other);
            tmp = cur, cur = other, other = tmp;
            break;
        case STEP_GLOBAL_AVG:
        case STEP_GLOBAL_MAX:
            /* CNHW planes are in (c, n) order; write [N][C]. */
            for (int c = 0; c < s->in_c; c++) {
                const float *plane = cur + (size_t)c * batch * in_plane;
                for (int n = 0; n < batch; n++) {
                    float *dst = other + (size_t)n * s->in_c + c;
                    if (s->kind == STEP_GLOBAL_AVG)
                        gs_global_avgpool_forward(plane + (size_t)n * in_plane, 1, 1, (int)in_plane, dst);
                    else
                        gs_global_maxpool_forward(plane + (size_t)n * in_plane, 1, 1, (int)in_plane, dst, NULL);
                }
            }
            tmp = cur, cur = other, other = tmp;
            break;
        case STEP_DENSE:
            if (i == net->last_dense && embeddings)
                memcpy(embeddings, cur, sizeof(float) * (size_t)batch * s->in_c);
            gs_dense_forward(cur, batch, s->in_c, s->out_c, s->weight, s->bias, other);
            if (s->relu_fused)
                gs_relu_forward(other, (size_t)batch * s->out_c);
            tmp = cur, cur = other, other = tmp;
            break;
        case STEP_SOFTMAX: gs_softmax_forward(cur, batch, s->in_c); break;
        }
    }
    memcpy(probs, cur, sizeof(float) * (size_t)batch * net->num_outputs);
    return GS_OK;
}
