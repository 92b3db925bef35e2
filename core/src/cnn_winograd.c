/* Winograd F(2x2, 3x3) convolution; see cnn_winograd.h.
 *
 * Work is split into chunks of whole tile rows (across samples) sized so a
 * chunk's transformed input and products stay cache-resident between the
 * input transform, the 16 sgemms and the output transform. */
#include "cnn_winograd.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Transformed input + products per chunk, in floats (512 KiB: an L2). */
#define CHUNK_FLOATS ((size_t)1 << 17)

/* Below this many input channels the 16 sgemms have too short an inner
 * dimension to run near peak and im2col's single sgemm wins (measured with
 * bench_inference on the shipped network: its first conv, 1 channel, ran
 * no faster through Winograd). */
#define MIN_IN_CHANNELS 8

int gs_wino_applies(const net_step *s)
{
    const gs_conv2d_shape *c = &s->conv;
    if (c->kernel_h != 3 || c->kernel_w != 3 || c->stride_h != 1 || c->stride_w != 1 || c->pad_h != 1 ||
        c->pad_w != 1 || c->in_channels < MIN_IN_CHANNELS)
        return 0;
    if (s->pool_fused && !(s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2))
        return 0;
    /* A fused pool needs at least one whole tile. */
    return !s->pool_fused || (s->conv_h >= 2 && s->conv_w >= 2);
}

float *gs_wino_weights_new(const float *weight, int out_channels, int in_channels)
{
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const size_t pairs = (size_t)out_channels * in_channels;
    float *u = malloc(sizeof(float) * 16 * pairs);
    if (!u)
        return NULL;
    for (size_t p = 0; p < pairs; p++) {
        const float *g = weight + 9 * p;
        double gg[4][3]; /* G g */
        for (int i = 0; i < 4; i++)
            for (int b = 0; b < 3; b++)
                gg[i][b] = G[i][0] * g[b] + G[i][1] * g[3 + b] + G[i][2] * g[6 + b];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                u[(size_t)(4 * i + j) * pairs + p] =
                    (float)(gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2]);
    }
    return u;
}

/* Tile grid of one sample: with a fused pool only whole tiles (= pooling
 * windows, floor mode); without, enough tiles to cover every output. */
static void tile_grid(const net_step *s, int *th, int *tw)
{
    if (s->pool_fused) {
        *th = s->conv_h / 2;
        *tw = s->conv_w / 2;
    } else {
        *th = (s->conv_h + 1) / 2;
        *tw = (s->conv_w + 1) / 2;
    }
}

/* Tile rows per chunk. */
static int chunk_rows(const net_step *s, int batch)
{
    int th, tw;
    tile_grid(s, &th, &tw);
    size_t per_row = (size_t)16 * (s->conv.in_channels + s->conv.out_channels) * tw;
    size_t rows = CHUNK_FLOATS / per_row;
    size_t total = (size_t)batch * th;
    if (rows > total)
        rows = total;
    return rows < 1 ? 1 : (int)rows;
}

/* Distance between the 16 transformed planes of a chunk: n floats rounded
 * up to 4 KiB plus one cache line, so the 16 streams the transforms read
 * or write together fall in different cache sets (at a 4 KiB multiple they
 * would all share one set of an 8-way L1 and evict each other). */
static size_t plane_stride(size_t n)
{
    return (n + 1023) / 1024 * 1024 + 16;
}

void gs_wino_workspace(const net_step *s, int batch, size_t *in_floats, size_t *out_floats, size_t *row_floats)
{
    int th, tw;
    tile_grid(s, &th, &tw);
    size_t tiles = (size_t)chunk_rows(s, batch) * tw;
    *in_floats = 16 * plane_stride((size_t)s->conv.in_channels * tiles);
    *out_floats = 16 * plane_stride((size_t)s->conv.out_channels * tiles);
    *row_floats = 8 * ((size_t)tw + 1);
}

/* Input rows 2*ty-1 .. 2*ty+2 of one plane, zero-padded and split into
 * even and odd padded columns so the tile loop reads unit-stride (and so
 * vectorises): padded column p of row k (input column p-1, 0 outside) is
 * at even[k*half + p/2] or odd[k*half + p/2], half = tw + 1. */
static void pad_rows(const float *plane, int H, int W, int ty, int half, float *restrict even, float *restrict odd)
{
    for (int k = 0; k < 4; k++) {
        float *e = even + (size_t)k * half, *o = odd + (size_t)k * half;
        const int y = 2 * ty - 1 + k;
        if (y < 0 || y >= H) {
            memset(e, 0, sizeof(float) * (size_t)half);
            memset(o, 0, sizeof(float) * (size_t)half);
            continue;
        }
        const float *row = plane + (size_t)y * W;
        /* Padded column 2i is input column 2i-1, padded 2i+1 is input 2i. */
        const int ne = W / 2 + 1 < half ? W / 2 + 1 : half;     /* 2i-1 < W */
        const int no = (W + 1) / 2 < half ? (W + 1) / 2 : half; /* 2i < W */
        e[0] = 0.0f;
        for (int i = 1; i < ne; i++)
            e[i] = row[2 * i - 1];
        for (int i = ne; i < half; i++)
            e[i] = 0.0f;
        for (int i = 0; i < no; i++)
            o[i] = row[2 * i];
        for (int i = no; i < half; i++)
            o[i] = 0.0f;
    }
}

/* V = B^T d B for the tw tiles of one tile row, written at v[xi * xi_stride + tx]. */
static void transform_input_row(const float *restrict even, const float *restrict odd, int half, int tw,
                                float *restrict v, size_t xi_stride)
{
    const float *e0 = even, *e1 = e0 + half, *e2 = e1 + half, *e3 = e2 + half;
    const float *o0 = odd, *o1 = o0 + half, *o2 = o1 + half, *o3 = o2 + half;
    float *v0 = v, *v1 = v0 + xi_stride, *v2 = v1 + xi_stride, *v3 = v2 + xi_stride;
    float *v4 = v3 + xi_stride, *v5 = v4 + xi_stride, *v6 = v5 + xi_stride, *v7 = v6 + xi_stride;
    float *v8 = v7 + xi_stride, *v9 = v8 + xi_stride, *v10 = v9 + xi_stride, *v11 = v10 + xi_stride;
    float *v12 = v11 + xi_stride, *v13 = v12 + xi_stride, *v14 = v13 + xi_stride, *v15 = v14 + xi_stride;
    /* The 16 outputs are disjoint rows of one array: tell the vectoriser. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
    for (int tx = 0; tx < tw; tx++) {
        /* Tile columns 0..3 are padded columns 2tx .. 2tx+3. */
        const float d00 = e0[tx], d01 = o0[tx], d02 = e0[tx + 1], d03 = o0[tx + 1];
        const float d10 = e1[tx], d11 = o1[tx], d12 = e1[tx + 1], d13 = o1[tx + 1];
        const float d20 = e2[tx], d21 = o2[tx], d22 = e2[tx + 1], d23 = o2[tx + 1];
        const float d30 = e3[tx], d31 = o3[tx], d32 = e3[tx + 1], d33 = o3[tx + 1];
        /* t = B^T d (rows) */
        const float t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23;
        const float t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23;
        const float t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13;
        const float t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33;
        /* v = t B (columns) */
        v0[tx] = t00 - t02, v1[tx] = t01 + t02, v2[tx] = t02 - t01, v3[tx] = t01 - t03;
        v4[tx] = t10 - t12, v5[tx] = t11 + t12, v6[tx] = t12 - t11, v7[tx] = t11 - t13;
        v8[tx] = t20 - t22, v9[tx] = t21 + t22, v10[tx] = t22 - t21, v11[tx] = t21 - t23;
        v12[tx] = t30 - t32, v13[tx] = t31 + t32, v14[tx] = t32 - t31, v15[tx] = t31 - t33;
    }
}

/* The 2x2 outputs Y = A^T m A of the tw tiles of one tile row of one
 * output channel (m at m[xi * xi_stride + tx]), bias added. */
static void transform_output_row(const float *restrict m, size_t xi_stride, int tw, float bias, float *restrict y00,
                                 float *restrict y01, float *restrict y10, float *restrict y11)
{
    const float *m0 = m, *m1 = m0 + xi_stride, *m2 = m1 + xi_stride, *m3 = m2 + xi_stride;
    const float *m4 = m3 + xi_stride, *m5 = m4 + xi_stride, *m6 = m5 + xi_stride, *m7 = m6 + xi_stride;
    const float *m8 = m7 + xi_stride, *m9 = m8 + xi_stride, *m10 = m9 + xi_stride, *m11 = m10 + xi_stride;
    const float *m12 = m11 + xi_stride, *m13 = m12 + xi_stride, *m14 = m13 + xi_stride, *m15 = m14 + xi_stride;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
    for (int tx = 0; tx < tw; tx++) {
        /* r = A^T m (rows) */
        const float r00 = m0[tx] + m4[tx] + m8[tx], r01 = m1[tx] + m5[tx] + m9[tx];
        const float r02 = m2[tx] + m6[tx] + m10[tx], r03 = m3[tx] + m7[tx] + m11[tx];
        const float r10 = m4[tx] - m8[tx] - m12[tx], r11 = m5[tx] - m9[tx] - m13[tx];
        const float r12 = m6[tx] - m10[tx] - m14[tx], r13 = m7[tx] - m11[tx] - m15[tx];
        /* y = r A (columns) */
        y00[tx] = r00 + r01 + r02 + bias;
        y01[tx] = r01 - r02 - r03 + bias;
        y10[tx] = r10 + r11 + r12 + bias;
        y11[tx] = r11 - r12 - r13 + bias;
    }
}

/* Relu (if fused) and the fused 2x2 pool of one tile row into dst, or the
 * four outputs of each tile into the unpooled plane at rows 2ty, 2ty+1. */
static void store_row(const net_step *s, const float *restrict y00, const float *restrict y01,
                      const float *restrict y10, const float *restrict y11, int tw, int ty, float *restrict plane)
{
    const int relu = s->relu_fused;
    if (s->pool_fused) {
        float *dst = plane + (size_t)ty * s->out_w;
        for (int tx = 0; tx < tw; tx++) {
            /* Plain comparisons so the loop vectorises (as in cnn_ops.c). */
            float p = y00[tx] > y01[tx] ? y00[tx] : y01[tx];
            float q = y10[tx] > y11[tx] ? y10[tx] : y11[tx];
            float v = p > q ? p : q;
            dst[tx] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
        return;
    }
    const int W = s->conv_w, oy = 2 * ty;
    const float *src[2][2] = {{y00, y01}, {y10, y11}};
    for (int a = 0; a < 2 && oy + a < s->conv_h; a++) {
        float *row = plane + (size_t)(oy + a) * W;
        for (int x = 0; x < W; x++) {
            float v = src[a][x & 1][x >> 1];
            row[x] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
    }
}

void gs_wino_conv(const net_step *s, int batch, const float *in, float *out, float *in_ws, float *out_ws, float *row_ws)
{
    const int ci = s->conv.in_channels, co = s->conv.out_channels;
    const int H = s->conv.in_height, W = s->conv.in_width;
    int th, tw;
    tile_grid(s, &th, &tw);
    const int half = tw + 1, rows = chunk_rows(s, batch), total = batch * th;
    const size_t in_plane = (size_t)H * W;
    const size_t out_plane = s->pool_fused ? (size_t)s->out_h * s->out_w : (size_t)s->conv_h * s->conv_w;
    float *even = row_ws, *odd = row_ws + 4 * (size_t)half;
    for (int r0 = 0; r0 < total; r0 += rows) {
        const int nr = total - r0 < rows ? total - r0 : rows;
        const size_t tiles = (size_t)nr * tw;
        const size_t in_stride = plane_stride((size_t)ci * tiles), out_stride = plane_stride((size_t)co * tiles);
        for (int c = 0; c < ci; c++) {
            for (int r = 0; r < nr; r++) {
                const int n = (r0 + r) / th, ty = (r0 + r) % th;
                pad_rows(in + ((size_t)c * batch + n) * in_plane, H, W, ty, half, even, odd);
                transform_input_row(even, odd, half, tw, in_ws + (size_t)c * tiles + (size_t)r * tw, in_stride);
            }
        }
        for (int xi = 0; xi < 16; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)tiles, ci, 1.0f,
                        s->wino_weight + (size_t)xi * co * ci, ci, in_ws + (size_t)xi * in_stride, (int)tiles, 0.0f,
                        out_ws + (size_t)xi * out_stride, (int)tiles);
        /* The transformed input is spent: its first 4*tw floats hold one
         * tile row's outputs before relu and pooling. */
        float *y = in_ws;
        for (int o = 0; o < co; o++) {
            for (int r = 0; r < nr; r++) {
                const int n = (r0 + r) / th, ty = (r0 + r) % th;
                transform_output_row(out_ws + (size_t)o * tiles + (size_t)r * tw, out_stride, tw, s->bias[o], y, y + tw,
                                     y + 2 * (size_t)tw, y + 3 * (size_t)tw);
                store_row(s, y, y + tw, y + 2 * (size_t)tw, y + 3 * (size_t)tw, tw, ty,
                          out + ((size_t)o * batch + n) * out_plane);
            }
        }
    }
}
