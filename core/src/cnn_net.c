/* Network construction: architecture JSON -> checked, BN-folded, fused
 * steps (see cnn_forward.c for running them).
 *
 * Batch norm: a batchnorm2d must directly follow a conv2d (in the layer
 * list) and is folded into it; anywhere else it is rejected, because the
 * shipped designs never need a stand-alone affine layer and silently
 * accepting one would hide an architecture typo. */
#include "genrescope/cnn.h"

#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_internal.h"
#include "cnn_winograd.h"
#include "genrescope/cnn_ops.h"

/* Largest spatial/channel extent accepted; keeps every size product well
 * inside size_t and int. */
#define MAX_DIM 65536
#define MAX_ELEMS ((size_t)1 << 28)

/* ---- JSON helpers ------------------------------------------------------ */

static int json_int(const cJSON *v, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d))
        return 0;
    *out = (int)d;
    return 1;
}

/* Reads key as an int or [a, b] pair into out[0..1]; def (may be NULL) is
 * used when the key is absent. */
static gs_status get_pair(const cJSON *layer, const char *key, const int *def, int lo, int hi,
                          int out[2], const char *where, gs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, key);
    if (!v) {
        if (!def)
            return gs_error_set(err, GS_ERR_MODEL, "%s: missing \"%s\"", where, key);
        out[0] = def[0];
        out[1] = def[1];
        return GS_OK;
    }
    if (json_int(v, lo, hi, &out[0])) {
        out[1] = out[0];
        return GS_OK;
    }
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 &&
        json_int(cJSON_GetArrayItem(v, 0), lo, hi, &out[0]) &&
        json_int(cJSON_GetArrayItem(v, 1), lo, hi, &out[1]))
        return GS_OK;
    return gs_error_set(err, GS_ERR_MODEL, "%s: \"%s\" must be an integer or [a,b] in %d..%d",
                        where, key, lo, hi);
}

static gs_status get_int(const cJSON *layer, const char *key, int lo, int hi, int *out,
                         const char *where, gs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, key);
    if (!v)
        return gs_error_set(err, GS_ERR_MODEL, "%s: missing \"%s\"", where, key);
    if (!json_int(v, lo, hi, out))
        return gs_error_set(err, GS_ERR_MODEL, "%s: \"%s\" must be an integer in %d..%d", where,
                            key, lo, hi);
    return GS_OK;
}

static const char *get_name(const cJSON *layer, const char *where, gs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, "name");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 200) {
        gs_error_set(err, GS_ERR_MODEL, "%s: missing or invalid \"name\"", where);
        return NULL;
    }
    return v->valuestring;
}

/* ---- Tensor helpers ---------------------------------------------------- */

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                 (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Finds "<name>.<suffix>" with exactly the expected shape and copies its
 * data (which may be unaligned) into a new buffer the caller owns. */
static float *take_tensor(const gs_model *model, const char *name, const char *suffix, int ndim,
                          const int64_t *shape, const char *where, gs_error *err)
{
    char full[256];
    snprintf(full, sizeof full, "%s.%s", name, suffix);
    const gs_tensor *t = gs_model_tensor(model, full);
    if (!t) {
        gs_error_set(err, GS_ERR_MODEL, "%s: missing tensor \"%s\"", where, full);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[96], want[96];
        format_shape(got, sizeof got, t->ndim, t->shape);
        format_shape(want, sizeof want, ndim, shape);
        gs_error_set(err, GS_ERR_MODEL, "%s: tensor \"%s\" has shape %s, expected %s", where, full,
                     got, want);
        return NULL;
    }
    size_t n = (size_t)t->numel;
    float *copy = malloc(sizeof(float) * (n ? n : 1));
    if (!copy) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory copying \"%s\"", full);
        return NULL;
    }
    memcpy(copy, t->data, sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(copy[i])) {
            free(copy);
            gs_error_set(err, GS_ERR_MODEL, "%s: tensor \"%s\" holds a non-finite value", where,
                         full);
            return NULL;
        }
    }
    return copy;
}

/* ---- Building ---------------------------------------------------------- */

typedef struct builder {
    const gs_model *model;
    gs_net *net;
    int capacity;
    int c, h, w;  /* current per-sample shape */
    int flat;     /* after a global pool: [F] with F = c */
    gs_error *err;
} builder;

static net_step *push_step(builder *b, step_kind kind)
{
    gs_net *net = b->net;
    if (net->num_steps == b->capacity) {
        int cap = b->capacity ? 2 * b->capacity : 16;
        net_step *s = realloc(net->steps, sizeof *s * (size_t)cap);
        if (!s) {
            gs_error_set(b->err, GS_ERR_NOMEM, "out of memory building the network");
            return NULL;
        }
        net->steps = s;
        b->capacity = cap;
    }
    net_step *s = &net->steps[net->num_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in_c = b->c;
    s->in_h = b->h;
    s->in_w = b->w;
    return s;
}

static void set_output(builder *b, net_step *s, int c, int h, int w)
{
    s->out_c = b->c = c;
    s->out_h = b->h = h;
    s->out_w = b->w = w;
}

static net_step *last_step(builder *b)
{
    return b->net->num_steps ? &b->net->steps[b->net->num_steps - 1] : NULL;
}

static gs_status check_spatial(builder *b, const char *where)
{
    if (b->flat)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: needs a [C,H,W] input but follows a global pool", where);
    return GS_OK;
}

static gs_status check_size(builder *b, int oh, int ow, const char *where)
{
    if (oh < 1 || ow < 1)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: input %dx%d is too small, the output size would collapse to %dx%d",
                            where, b->h, b->w, oh < 0 ? 0 : oh, ow < 0 ? 0 : ow);
    return GS_OK;
}

static gs_status add_conv(builder *b, const cJSON *layer, const char *where)
{
    static const int one[2] = {1, 1}, zero[2] = {0, 0};
    const char *name = get_name(layer, where, b->err);
    if (!name)
        return GS_ERR_MODEL;
    int in, out, k[2], st[2], pad[2];
    gs_status st_ = check_spatial(b, where);
    if (!st_) st_ = get_int(layer, "in", 1, MAX_DIM, &in, where, b->err);
    if (!st_) st_ = get_int(layer, "out", 1, MAX_DIM, &out, where, b->err);
    if (!st_) st_ = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, b->err);
    if (!st_) st_ = get_pair(layer, "stride", one, 1, MAX_DIM, st, where, b->err);
    if (!st_) st_ = get_pair(layer, "padding", zero, 0, MAX_DIM, pad, where, b->err);
    if (st_)
        return st_;
    const cJSON *bias_v = cJSON_GetObjectItemCaseSensitive(layer, "bias");
    if (bias_v && !cJSON_IsBool(bias_v))
        return gs_error_set(b->err, GS_ERR_MODEL, "%s: \"bias\" must be true or false", where);
    int has_bias = !bias_v || cJSON_IsTrue(bias_v);
    if (in != b->c)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: channel mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, b->c);
    gs_conv2d_shape cs = {in, out, b->h, b->w, k[0], k[1], st[0], st[1], pad[0], pad[1]};
    if (pad[0] >= MAX_DIM / 2 || pad[1] >= MAX_DIM / 2)
        return gs_error_set(b->err, GS_ERR_MODEL, "%s: padding too large", where);
    int oh = b->h + 2 * pad[0] >= k[0] ? gs_conv2d_out_height(&cs) : 0;
    int ow = b->w + 2 * pad[1] >= k[1] ? gs_conv2d_out_width(&cs) : 0;
    if (check_size(b, oh, ow, where))
        return GS_ERR_MODEL;
    size_t kk = (size_t)in * k[0] * k[1];
    if (kk > MAX_ELEMS || (size_t)out * oh * ow > MAX_ELEMS || kk * oh * ow > MAX_ELEMS ||
        (size_t)out * kk > MAX_ELEMS)
        return gs_error_set(b->err, GS_ERR_MODEL, "%s: layer too large", where);

    int64_t wshape[4] = {out, in, k[0], k[1]}, bshape[1] = {out};
    float *weight = take_tensor(b->model, name, "weight", 4, wshape, where, b->err);
    if (!weight)
        return b->err ? b->err->code : GS_ERR_MODEL;
    float *bias = has_bias ? take_tensor(b->model, name, "bias", 1, bshape, where, b->err)
                           : calloc((size_t)out, sizeof(float));
    if (!bias) {
        free(weight);
        if (!has_bias)
            return gs_error_set(b->err, GS_ERR_NOMEM, "out of memory");
        return b->err ? b->err->code : GS_ERR_MODEL;
    }
    net_step *s = push_step(b, STEP_CONV);
    if (!s) {
        free(weight);
        free(bias);
        return GS_ERR_NOMEM;
    }
    s->conv = cs;
    s->conv_h = oh;
    s->conv_w = ow;
    s->weight = weight;
    s->bias = bias;
    set_output(b, s, out, oh, ow);
    return GS_OK;
}

static gs_status add_batchnorm(builder *b, const cJSON *layer, const char *prev_op,
                               const char *where)
{
    const char *name = get_name(layer, where, b->err);
    if (!name)
        return GS_ERR_MODEL;
    net_step *s = last_step(b);
    if (!prev_op || strcmp(prev_op, "conv2d") != 0 || !s || s->kind != STEP_CONV || s->bn_folded)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: batchnorm2d must directly follow a conv2d (it is folded into it)",
                            where);
    double eps = 1e-5;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(layer, "eps");
    if (e) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0.0) || !(e->valuedouble < 1.0))
            return gs_error_set(b->err, GS_ERR_MODEL, "%s: \"eps\" must be a number in [0,1)", where);
        eps = e->valuedouble;
    }
    const int c = s->out_c;
    int64_t shape[1] = {c};
    static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    float *t[4] = {0};
    gs_status st = GS_OK;
    for (int i = 0; i < 4 && !st; i++) {
        t[i] = take_tensor(b->model, name, suffix[i], 1, shape, where, b->err);
        if (!t[i])
            st = b->err ? b->err->code : GS_ERR_MODEL;
    }
    for (int o = 0; o < c && !st; o++) {
        double var = (double)t[3][o] + eps;
        if (!(var > 0.0))
            st = gs_error_set(b->err, GS_ERR_MODEL,
                              "%s: running_var + eps must be positive (channel %d)", where, o);
    }
    if (!st) {
        const size_t k = (size_t)s->conv.in_channels * s->conv.kernel_h * s->conv.kernel_w;
        for (int o = 0; o < c; o++) {
            double scale = (double)t[0][o] / sqrt((double)t[3][o] + eps);
            float *w = s->weight + (size_t)o * k;
            for (size_t i = 0; i < k; i++)
                w[i] = (float)(w[i] * scale);
            s->bias[o] = (float)(((double)s->bias[o] - t[2][o]) * scale + t[1][o]);
        }
        s->bn_folded = 1;
    }
    for (int i = 0; i < 4; i++)
        free(t[i]);
    return st;
}

static gs_status add_pool(builder *b, const cJSON *layer, int is_max, const char *where)
{
    int k[2], st[2];
    gs_status r = check_spatial(b, where);
    if (!r) r = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, b->err);
    if (!r) r = get_pair(layer, "stride", k, 1, MAX_DIM, st, where, b->err);
    if (r)
        return r;
    int oh = b->h >= k[0] ? (b->h - k[0]) / st[0] + 1 : 0;
    int ow = b->w >= k[1] ? (b->w - k[1]) / st[1] + 1 : 0;
    if (check_size(b, oh, ow, where))
        return GS_ERR_MODEL;
    net_step *prev = last_step(b);
    if (is_max && prev && prev->kind == STEP_CONV && !prev->pool_fused &&
        prev->out_h == b->h && prev->out_w == b->w) {
        /* max(relu(x + b)) == relu(max(x) + b): pool before the bias. */
        prev->pool_fused = 1;
        prev->kh = k[0];
        prev->kw = k[1];
        prev->sh = st[0];
        prev->sw = st[1];
        set_output(b, prev, b->c, oh, ow);
        return GS_OK;
    }
    net_step *s = push_step(b, is_max ? STEP_MAXPOOL : STEP_AVGPOOL);
    if (!s)
        return GS_ERR_NOMEM;
    s->kh = k[0];
    s->kw = k[1];
    s->sh = st[0];
    s->sw = st[1];
    set_output(b, s, b->c, oh, ow);
    return GS_OK;
}

static gs_status add_dense(builder *b, const cJSON *layer, const char *where)
{
    const char *name = get_name(layer, where, b->err);
    if (!name)
        return GS_ERR_MODEL;
    int in, out;
    if (!b->flat)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: dense needs a flat input: add global_avgpool or global_maxpool "
                            "before it", where);
    gs_status r = get_int(layer, "in", 1, MAX_DIM, &in, where, b->err);
    if (!r) r = get_int(layer, "out", 1, MAX_DIM, &out, where, b->err);
    if (r)
        return r;
    if (in != b->c)
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "%s: feature mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, b->c);
    int64_t wshape[2] = {out, in}, bshape[1] = {out};
    float *weight = take_tensor(b->model, name, "weight", 2, wshape, where, b->err);
    if (!weight)
        return b->err ? b->err->code : GS_ERR_MODEL;
    float *bias = take_tensor(b->model, name, "bias", 1, bshape, where, b->err);
    if (!bias) {
        free(weight);
        return b->err ? b->err->code : GS_ERR_MODEL;
    }
    net_step *s = push_step(b, STEP_DENSE);
    if (!s) {
        free(weight);
        free(bias);
        return GS_ERR_NOMEM;
    }
    s->weight = weight;
    s->bias = bias;
    set_output(b, s, out, 1, 1);
    return GS_OK;
}

static gs_status add_layer(builder *b, const cJSON *layer, int index, const char *prev_op,
                           int is_last, const char **op_out)
{
    char where[64];
    snprintf(where, sizeof where, "architecture layer %d", index);
    if (!cJSON_IsObject(layer))
        return gs_error_set(b->err, GS_ERR_MODEL, "%s: not a JSON object", where);
    const cJSON *opv = cJSON_GetObjectItemCaseSensitive(layer, "op");
    if (!cJSON_IsString(opv))
        return gs_error_set(b->err, GS_ERR_MODEL, "%s: missing \"op\"", where);
    const char *op = opv->valuestring;
    *op_out = op;
    snprintf(where, sizeof where, "architecture layer %d (%.24s)", index, op);
    if (strcmp(op, "conv2d") == 0)
        return add_conv(b, layer, where);
    if (strcmp(op, "batchnorm2d") == 0)
        return add_batchnorm(b, layer, prev_op, where);
    if (strcmp(op, "maxpool2d") == 0)
        return add_pool(b, layer, 1, where);
    if (strcmp(op, "avgpool2d") == 0)
        return add_pool(b, layer, 0, where);
    if (strcmp(op, "dense") == 0)
        return add_dense(b, layer, where);
    if (strcmp(op, "dropout") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(layer, "p");
        if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0.0) || !(p->valuedouble < 1.0)))
            return gs_error_set(b->err, GS_ERR_MODEL, "%s: \"p\" must be a number in [0,1)", where);
        return GS_OK; /* identity at inference */
    }
    if (strcmp(op, "relu") == 0) {
        net_step *prev = last_step(b);
        /* A conv's fused relu comes after its fused pool, which is equivalent
         * because relu and max commute; relu is idempotent, so fusing twice
         * is harmless. */
        if (prev && (prev->kind == STEP_CONV || prev->kind == STEP_DENSE)) {
            prev->relu_fused = 1;
            return GS_OK;
        }
        net_step *s = push_step(b, STEP_RELU);
        if (!s)
            return GS_ERR_NOMEM;
        set_output(b, s, b->c, b->h, b->w);
        return GS_OK;
    }
    if (strcmp(op, "global_avgpool") == 0 || strcmp(op, "global_maxpool") == 0) {
        if (check_spatial(b, where))
            return GS_ERR_MODEL;
        net_step *s = push_step(b, op[7] == 'a' ? STEP_GLOBAL_AVG : STEP_GLOBAL_MAX);
        if (!s)
            return GS_ERR_NOMEM;
        set_output(b, s, b->c, 1, 1);
        b->flat = 1;
        return GS_OK;
    }
    if (strcmp(op, "softmax") == 0) {
        if (!is_last || !prev_op || strcmp(prev_op, "dense") != 0)
            return gs_error_set(b->err, GS_ERR_MODEL,
                                "%s: softmax must be the last layer, directly after a dense layer",
                                where);
        net_step *s = push_step(b, STEP_SOFTMAX);
        if (!s)
            return GS_ERR_NOMEM;
        set_output(b, s, b->c, 1, 1);
        return GS_OK;
    }
    return gs_error_set(b->err, GS_ERR_MODEL, "%s: unknown op \"%.40s\"", where, op);
}

void gs_net_free(gs_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->num_steps; i++) {
        free(net->steps[i].weight);
        free(net->steps[i].bias);
        free(net->steps[i].wino_weight);
    }
    free(net->steps);
    free(net);
}

static gs_status parse_input(builder *b, const cJSON *root)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    int dims[3];
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) != 3 ||
        !json_int(cJSON_GetArrayItem(in, 0), 1, MAX_DIM, &dims[0]) ||
        !json_int(cJSON_GetArrayItem(in, 1), 1, MAX_DIM, &dims[1]) ||
        !json_int(cJSON_GetArrayItem(in, 2), 1, MAX_DIM, &dims[2]))
        return gs_error_set(b->err, GS_ERR_MODEL,
                            "architecture: input shape invalid: \"input\" must be [C,H,W] with "
                            "each in 1..%d", MAX_DIM);
    if ((size_t)dims[0] * dims[1] * dims[2] > MAX_ELEMS)
        return gs_error_set(b->err, GS_ERR_MODEL, "architecture: input shape invalid: too large");
    b->net->in_c = b->c = dims[0];
    b->net->in_h = b->h = dims[1];
    b->net->in_w = b->w = dims[2];
    b->net->act_floats = (size_t)dims[0] * dims[1] * dims[2];
    return GS_OK;
}

gs_net *gs_net_from_model(const gs_model *model, gs_error *err)
{
    if (!model) {
        gs_error_set(err, GS_ERR_INVALID, "no model");
        return NULL;
    }
    const char *json = gs_model_architecture_json(model);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        gs_error_set(err, GS_ERR_MODEL, "architecture: missing or not a JSON object");
        return NULL;
    }
    gs_net *net = calloc(1, sizeof *net);
    if (!net) {
        cJSON_Delete(root);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    gs_error local;
    builder b = {model, net, 0, 0, 0, 0, 0, err ? err : &local};
    gs_status st = parse_input(&b, root);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!st && (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 2))
        st = gs_error_set(b.err, GS_ERR_MODEL, "architecture: \"layers\" must be a list ending in "
                                               "dense and softmax");
    const char *prev_op = NULL;
    int n = st ? 0 : cJSON_GetArraySize(layers);
    for (int i = 0; i < n && !st; i++) {
        const char *op = NULL;
        st = add_layer(&b, cJSON_GetArrayItem(layers, i), i, prev_op, i == n - 1, &op);
        prev_op = op;
    }
    if (!st && (net->num_steps < 2 || net->steps[net->num_steps - 1].kind != STEP_SOFTMAX))
        st = gs_error_set(b.err, GS_ERR_MODEL,
                          "architecture: the last layers must be dense then softmax");
    if (!st) {
        /* Ping-pong buffers hold step outputs; a conv's pre-pool output
         * only ever exists one tile at a time (ctx->scratch). */
        for (int i = 0; i < net->num_steps; i++) {
            const net_step *s = &net->steps[i];
            size_t elems = (size_t)s->out_c * s->out_h * s->out_w;
            net->act_floats = elems > net->act_floats ? elems : net->act_floats;
        }
        for (int i = 0; i < net->num_steps && !st; i++) {
            net_step *s = &net->steps[i];
            if (s->kind != STEP_CONV || !gs_wino_applies(s))
                continue;
            s->wino_weight = gs_wino_weights_new(s->weight, s->conv.out_channels, s->conv.in_channels);
            if (!s->wino_weight)
                st = gs_error_set(b.err, GS_ERR_NOMEM, "out of memory");
        }
        net->last_dense = net->num_steps - 2;
        const net_step *d = &net->steps[net->last_dense];
        net->num_outputs = d->out_c;
        net->embedding_size = d->in_c;
    }
    cJSON_Delete(root);
    if (st) {
        gs_net_free(net);
        return NULL;
    }
    return net;
}

void gs_net_input_shape(const gs_net *net, int *channels, int *height, int *width)
{
    if (channels)
        *channels = net->in_c;
    if (height)
        *height = net->in_h;
    if (width)
        *width = net->in_w;
}

int gs_net_num_outputs(const gs_net *net)
{
    return net->num_outputs;
}

int gs_net_embedding_size(const gs_net *net)
{
    return net->embedding_size;
}
