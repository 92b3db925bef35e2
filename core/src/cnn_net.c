/* Network construction: a checked architecture description (net_desc.c,
 * the one place its rules live) plus the model's tensors -> BN-folded,
 * fused steps (see cnn_forward.c for running them). Tensor names, shapes
 * and values are checked here, as they are taken. */
#include "genrescope/cnn.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_internal.h"
#include "cnn_winograd.h"
#include "genrescope/cnn_ops.h"
#include "genrescope/net_desc.h"

/* ---- Tensor helpers ---------------------------------------------------- */

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Finds "<name>.<suffix>" with exactly the expected shape and copies its
 * data (which may be unaligned) into a new buffer the caller owns. */
static float *take_tensor(const gs_model *model, const char *name, const char *suffix, int ndim, const int64_t *shape,
                          const char *where, gs_error *err)
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
        gs_error_set(err, GS_ERR_MODEL, "%s: tensor \"%s\" has shape %s, expected %s", where, full, got, want);
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
            gs_error_set(err, GS_ERR_MODEL, "%s: tensor \"%s\" holds a non-finite value", where, full);
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
    gs_error *err;
} builder;

static net_step *push_step(builder *b, step_kind kind, const gs_layer_desc *l)
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
    s->in_c = l->in_c;
    s->in_h = l->in_h;
    s->in_w = l->in_w;
    s->out_c = l->out_c;
    s->out_h = l->out_h;
    s->out_w = l->out_w;
    return s;
}

static net_step *last_step(builder *b)
{
    return b->net->num_steps ? &b->net->steps[b->net->num_steps - 1] : NULL;
}

/* Takes every tensor the op table lists for l (gs_layer_tensors), in its
 * order, into t[]; on failure frees what it took. */
static gs_status take_layer_tensors(builder *b, const gs_layer_desc *l, const char *where,
                                    float *t[GS_LAYER_TENSORS_MAX])
{
    gs_tensor_spec spec[GS_LAYER_TENSORS_MAX];
    const int n = gs_layer_tensors(l, spec);
    for (int i = 0; i < n; i++) {
        t[i] = take_tensor(b->model, l->name, spec[i].suffix, spec[i].ndim, spec[i].shape, where, b->err);
        if (!t[i]) {
            while (i--)
                free(t[i]);
            return b->err->code;
        }
    }
    return GS_OK;
}

/* Takes ownership of weight and bias (also on failure). */
static gs_status add_weighted_step(builder *b, step_kind kind, const gs_layer_desc *l, float *weight, float *bias)
{
    net_step *s = push_step(b, kind, l);
    if (!s) {
        free(weight);
        free(bias);
        return GS_ERR_NOMEM;
    }
    s->weight = weight;
    s->bias = bias;
    return GS_OK;
}

static gs_status add_conv(builder *b, const gs_layer_desc *l, const char *where)
{
    float *t[GS_LAYER_TENSORS_MAX] = {0};
    gs_status st = take_layer_tensors(b, l, where, t);
    if (st)
        return st;
    /* The step always has a bias, so the fused epilogue needs no branch. */
    if (!l->has_bias && !(t[1] = calloc((size_t)l->conv.out_channels, sizeof(float)))) {
        free(t[0]);
        return gs_error_set(b->err, GS_ERR_NOMEM, "out of memory");
    }
    st = add_weighted_step(b, STEP_CONV, l, t[0], t[1]);
    if (!st) {
        net_step *s = last_step(b);
        s->conv = l->conv;
        s->conv_h = l->out_h;
        s->conv_w = l->out_w;
    }
    return st;
}

/* Folds the batch norm into the conv step just built (the description
 * guarantees the layer before is that conv). */
static gs_status add_batchnorm(builder *b, const gs_layer_desc *l, const char *where)
{
    net_step *s = last_step(b);
    const double eps = l->eps;
    const int c = s->out_c;
    /* weight, bias, running_mean, running_var */
    float *t[GS_LAYER_TENSORS_MAX] = {0};
    gs_status st = take_layer_tensors(b, l, where, t);
    for (int o = 0; o < c && !st; o++) {
        double var = (double)t[3][o] + eps;
        if (!(var > 0.0))
            st = gs_error_set(b->err, GS_ERR_MODEL, "%s: running_var + eps must be positive (channel %d)", where, o);
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

static gs_status add_pool(builder *b, const gs_layer_desc *l)
{
    const int is_max = l->op == GS_OP_MAXPOOL2D;
    net_step *prev = last_step(b);
    if (is_max && prev && prev->kind == STEP_CONV && !prev->pool_fused && prev->out_h == l->in_h &&
        prev->out_w == l->in_w) {
        /* max(relu(x + b)) == relu(max(x) + b): pool before the bias. */
        prev->pool_fused = 1;
        prev->kh = l->kh;
        prev->kw = l->kw;
        prev->sh = l->sh;
        prev->sw = l->sw;
        prev->out_h = l->out_h;
        prev->out_w = l->out_w;
        return GS_OK;
    }
    net_step *s = push_step(b, is_max ? STEP_MAXPOOL : STEP_AVGPOOL, l);
    if (!s)
        return GS_ERR_NOMEM;
    s->kh = l->kh;
    s->kw = l->kw;
    s->sh = l->sh;
    s->sw = l->sw;
    return GS_OK;
}

static gs_status add_dense(builder *b, const gs_layer_desc *l, const char *where)
{
    float *t[GS_LAYER_TENSORS_MAX] = {0};
    gs_status st = take_layer_tensors(b, l, where, t);
    return st ? st : add_weighted_step(b, STEP_DENSE, l, t[0], t[1]);
}

static gs_status add_layer(builder *b, const gs_layer_desc *l, int index)
{
    char where[64];
    snprintf(where, sizeof where, "architecture layer %d (%.24s)", index, gs_layer_op_name(l->op));
    net_step *s;
    switch (l->op) {
    case GS_OP_CONV2D: return add_conv(b, l, where);
    case GS_OP_BATCHNORM2D: return add_batchnorm(b, l, where);
    case GS_OP_MAXPOOL2D:
    case GS_OP_AVGPOOL2D: return add_pool(b, l);
    case GS_OP_DENSE: return add_dense(b, l, where);
    case GS_OP_DROPOUT: return GS_OK; /* identity at inference */
    case GS_OP_RELU:
        s = last_step(b);
        /* A conv's fused relu comes after its fused pool, which is equivalent
         * because relu and max commute; relu is idempotent, so fusing twice
         * is harmless. */
        if (s && (s->kind == STEP_CONV || s->kind == STEP_DENSE)) {
            s->relu_fused = 1;
            return GS_OK;
        }
        return push_step(b, STEP_RELU, l) ? GS_OK : GS_ERR_NOMEM;
    case GS_OP_GLOBAL_AVGPOOL:
    case GS_OP_GLOBAL_MAXPOOL:
        s = push_step(b, l->op == GS_OP_GLOBAL_AVGPOOL ? STEP_GLOBAL_AVG : STEP_GLOBAL_MAX, l);
        return s ? GS_OK : GS_ERR_NOMEM;
    case GS_OP_SOFTMAX: return push_step(b, STEP_SOFTMAX, l) ? GS_OK : GS_ERR_NOMEM;
    }
    return gs_error_set(b->err, GS_ERR_INTERNAL, "%s: op not handled", where);
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

gs_net *gs_net_from_model(const gs_model *model, gs_error *err)
{
    if (!model) {
        gs_error_set(err, GS_ERR_INVALID, "no model");
        return NULL;
    }
    gs_error local;
    if (!err)
        err = &local;
    gs_net_desc *desc = gs_net_desc_parse(gs_model_architecture_json(model), err);
    if (!desc)
        return NULL;
    gs_net *net = calloc(1, sizeof *net);
    if (!net) {
        gs_net_desc_free(desc);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    builder b = {model, net, 0, err};
    net->in_c = desc->in_c;
    net->in_h = desc->in_h;
    net->in_w = desc->in_w;
    net->act_floats = (size_t)desc->in_c * desc->in_h * desc->in_w;
    gs_status st = GS_OK;
    for (int i = 0; i < desc->num_layers && !st; i++)
        st = add_layer(&b, &desc->layers[i], i);
    gs_net_desc_free(desc);
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
                st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        }
        net->last_dense = net->num_steps - 2;
        const net_step *d = &net->steps[net->last_dense];
        net->num_outputs = d->out_c;
        net->embedding_size = d->in_c;
    }
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
