/* The architecture schema's one parser and validator (see
 * genrescope/net_desc.h): JSON -> gs_net_desc with every shape worked out,
 * or the first rule broken, named by layer. The messages are the ones the
 * core's loader has always given, since it is their first user.
 *
 * Batch norm must directly follow a conv2d: the core folds it into the conv,
 * and the shipped designs never need a stand-alone affine layer; silently
 * accepting one would hide an architecture typo. */
#include "genrescope/net_desc.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest spatial/channel extent accepted; keeps every size product well
 * inside size_t and int. */
#define MAX_DIM   65536
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
static gs_status get_pair(const cJSON *layer, const char *key, const int *def, int lo, int hi, int out[2],
                          const char *where, gs_error *err)
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
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && json_int(cJSON_GetArrayItem(v, 0), lo, hi, &out[0]) &&
        json_int(cJSON_GetArrayItem(v, 1), lo, hi, &out[1]))
        return GS_OK;
    return gs_error_set(err, GS_ERR_MODEL, "%s: \"%s\" must be an integer or [a,b] in %d..%d", where, key, lo, hi);
}

static gs_status get_int(const cJSON *layer, const char *key, int lo, int hi, int *out, const char *where,
                         gs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, key);
    if (!v)
        return gs_error_set(err, GS_ERR_MODEL, "%s: missing \"%s\"", where, key);
    if (!json_int(v, lo, hi, out))
        return gs_error_set(err, GS_ERR_MODEL, "%s: \"%s\" must be an integer in %d..%d", where, key, lo, hi);
    return GS_OK;
}

/* Copies the layer's "name" into the description (owned by it). */
static gs_status get_name(const cJSON *layer, gs_layer_desc *l, const char *where, gs_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(layer, "name");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > GS_NET_DESC_NAME_MAX)
        return gs_error_set(err, GS_ERR_MODEL, "%s: missing or invalid \"name\"", where);
    char *copy = strdup(v->valuestring);
    if (!copy)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    l->name = copy;
    return GS_OK;
}

/* ---- Layers ------------------------------------------------------------ */

/* The running shape as the layers are read. */
typedef struct cursor {
    int c, h, w;
    int flat; /* after a global pool: [F] with F = c */
} cursor;

static gs_status check_spatial(const cursor *cur, const char *where, gs_error *err)
{
    if (cur->flat)
        return gs_error_set(err, GS_ERR_MODEL, "%s: needs a [C,H,W] input but follows a global pool", where);
    return GS_OK;
}

static gs_status check_size(const cursor *cur, int oh, int ow, const char *where, gs_error *err)
{
    if (oh < 1 || ow < 1)
        return gs_error_set(err, GS_ERR_MODEL, "%s: input %dx%d is too small, the output size would collapse to %dx%d",
                            where, cur->h, cur->w, oh < 0 ? 0 : oh, ow < 0 ? 0 : ow);
    return GS_OK;
}

/* Each op's keys and shape rule: reads the op's keys from layer, checks
 * them against the input (cur) and the layer before (prev, NULL for the
 * first), and sets l's output shape when it differs from the input's. */
#define PARSE_ARGS                                                                                                     \
    const cJSON *layer, const cursor *cur, const gs_layer_desc *prev, int is_last, gs_layer_desc *l,                   \
        const char *where, gs_error *err

static gs_status parse_conv(PARSE_ARGS)
{
    static const int one[2] = {1, 1}, zero[2] = {0, 0};
    (void)prev, (void)is_last;
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    int in, out, k[2], s[2], pad[2];
    st = check_spatial(cur, where, err);
    if (!st)
        st = get_int(layer, "in", 1, MAX_DIM, &in, where, err);
    if (!st)
        st = get_int(layer, "out", 1, MAX_DIM, &out, where, err);
    if (!st)
        st = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, err);
    if (!st)
        st = get_pair(layer, "stride", one, 1, MAX_DIM, s, where, err);
    if (!st)
        st = get_pair(layer, "padding", zero, 0, MAX_DIM, pad, where, err);
    if (st)
        return st;
    const cJSON *bias_v = cJSON_GetObjectItemCaseSensitive(layer, "bias");
    if (bias_v && !cJSON_IsBool(bias_v))
        return gs_error_set(err, GS_ERR_MODEL, "%s: \"bias\" must be true or false", where);
    l->has_bias = !bias_v || cJSON_IsTrue(bias_v);
    if (in != cur->c)
        return gs_error_set(err, GS_ERR_MODEL, "%s: channel mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, cur->c);
    gs_conv2d_shape cs = {in, out, cur->h, cur->w, k[0], k[1], s[0], s[1], pad[0], pad[1]};
    if (pad[0] >= MAX_DIM / 2 || pad[1] >= MAX_DIM / 2)
        return gs_error_set(err, GS_ERR_MODEL, "%s: padding too large", where);
    int oh = cur->h + 2 * pad[0] >= k[0] ? gs_conv2d_out_height(&cs) : 0;
    int ow = cur->w + 2 * pad[1] >= k[1] ? gs_conv2d_out_width(&cs) : 0;
    if (check_size(cur, oh, ow, where, err))
        return GS_ERR_MODEL;
    size_t kk = (size_t)in * k[0] * k[1];
    if (kk > MAX_ELEMS || (size_t)out * oh * ow > MAX_ELEMS || kk * oh * ow > MAX_ELEMS || (size_t)out * kk > MAX_ELEMS)
        return gs_error_set(err, GS_ERR_MODEL, "%s: layer too large", where);
    l->conv = cs;
    l->out_c = out;
    l->out_h = oh;
    l->out_w = ow;
    return GS_OK;
}

static gs_status parse_batchnorm(PARSE_ARGS)
{
    (void)cur, (void)is_last;
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    if (!prev || prev->op != GS_OP_CONV2D)
        return gs_error_set(err, GS_ERR_MODEL, "%s: batchnorm2d must directly follow a conv2d (it is folded into it)",
                            where);
    l->eps = 1e-5;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(layer, "eps");
    if (e) {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0.0) || !(e->valuedouble < 1.0))
            return gs_error_set(err, GS_ERR_MODEL, "%s: \"eps\" must be a number in [0,1)", where);
        l->eps = e->valuedouble;
    }
    return GS_OK;
}

static gs_status parse_pool(PARSE_ARGS)
{
    (void)prev, (void)is_last;
    int k[2], s[2];
    gs_status st = check_spatial(cur, where, err);
    if (!st)
        st = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, err);
    if (!st)
        st = get_pair(layer, "stride", k, 1, MAX_DIM, s, where, err);
    if (st)
        return st;
    int oh = cur->h >= k[0] ? (cur->h - k[0]) / s[0] + 1 : 0;
    int ow = cur->w >= k[1] ? (cur->w - k[1]) / s[1] + 1 : 0;
    if (check_size(cur, oh, ow, where, err))
        return GS_ERR_MODEL;
    l->kh = k[0];
    l->kw = k[1];
    l->sh = s[0];
    l->sw = s[1];
    l->out_h = oh;
    l->out_w = ow;
    return GS_OK;
}

static gs_status parse_dense(PARSE_ARGS)
{
    (void)prev, (void)is_last;
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    int in, out;
    if (!cur->flat)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: dense needs a flat input: add global_avgpool or global_maxpool "
                            "before it",
                            where);
    st = get_int(layer, "in", 1, MAX_DIM, &in, where, err);
    if (!st)
        st = get_int(layer, "out", 1, MAX_DIM, &out, where, err);
    if (st)
        return st;
    if (in != cur->c)
        return gs_error_set(err, GS_ERR_MODEL, "%s: feature mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, cur->c);
    l->out_c = out;
    return GS_OK;
}

static gs_status parse_global_pool(PARSE_ARGS)
{
    (void)layer, (void)prev, (void)is_last;
    l->out_h = l->out_w = 1;
    return check_spatial(cur, where, err);
}

static gs_status parse_dropout(PARSE_ARGS)
{
    (void)cur, (void)prev, (void)is_last;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(layer, "p");
    if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0.0) || !(p->valuedouble < 1.0)))
        return gs_error_set(err, GS_ERR_MODEL, "%s: \"p\" must be a number in [0,1)", where);
    l->p = p ? (float)p->valuedouble : 0.5f;
    return GS_OK;
}

static gs_status parse_softmax(PARSE_ARGS)
{
    (void)layer, (void)cur, (void)l;
    if (!is_last || !prev || prev->op != GS_OP_DENSE)
        return gs_error_set(err, GS_ERR_MODEL, "%s: softmax must be the last layer, directly after a dense layer",
                            where);
    return GS_OK;
}

/* ---- Tensors ----------------------------------------------------------- */

static void spec_set(gs_tensor_spec *t, const char *suffix, int trainable, int decay, int ndim, int64_t d0, int64_t d1,
                     int64_t d2, int64_t d3)
{
    t->suffix = suffix;
    t->trainable = trainable;
    t->decay = decay;
    t->ndim = ndim;
    t->shape[0] = d0, t->shape[1] = d1, t->shape[2] = d2, t->shape[3] = d3;
}

static int conv_tensors(const gs_layer_desc *l, gs_tensor_spec *t)
{
    const gs_conv2d_shape *c = &l->conv;
    spec_set(&t[0], "weight", 1, 1, 4, c->out_channels, c->in_channels, c->kernel_h, c->kernel_w);
    if (!l->has_bias)
        return 1;
    spec_set(&t[1], "bias", 1, 0, 1, c->out_channels, 0, 0, 0);
    return 2;
}

/* Batch norm's scale and shift, like every bias, get no weight decay. */
static int batchnorm_tensors(const gs_layer_desc *l, gs_tensor_spec *t)
{
    spec_set(&t[0], "weight", 1, 0, 1, l->out_c, 0, 0, 0);
    spec_set(&t[1], "bias", 1, 0, 1, l->out_c, 0, 0, 0);
    spec_set(&t[2], "running_mean", 0, 0, 1, l->out_c, 0, 0, 0);
    spec_set(&t[3], "running_var", 0, 0, 1, l->out_c, 0, 0, 0);
    return 4;
}

static int dense_tensors(const gs_layer_desc *l, gs_tensor_spec *t)
{
    spec_set(&t[0], "weight", 1, 1, 2, l->out_c, l->in_c, 0, 0);
    spec_set(&t[1], "bias", 1, 0, 1, l->out_c, 0, 0, 0);
    return 2;
}

/* ---- The op table ------------------------------------------------------ */

/* One entry per op kind, indexed by gs_layer_op. Adding an op starts here
 * (and in the gs_layer_op enum); see docs/architecture.md for the rest. */
typedef struct op_info {
    const char *name; /* as in the JSON */
    /* Keys and shape rule; NULL: no keys, output shape = input shape. */
    gs_status (*parse)(PARSE_ARGS);
    /* The layer's tensors (gs_layer_tensors); NULL: none, and no "name". */
    int (*tensors)(const gs_layer_desc *l, gs_tensor_spec *spec);
    int flattens; /* [C,H,W] -> [C]: later layers see a flat input */
} op_info;

static const op_info op_table[] = {
    [GS_OP_CONV2D] = {"conv2d", parse_conv, conv_tensors, 0},
    [GS_OP_BATCHNORM2D] = {"batchnorm2d", parse_batchnorm, batchnorm_tensors, 0},
    [GS_OP_RELU] = {"relu", NULL, NULL, 0},
    [GS_OP_MAXPOOL2D] = {"maxpool2d", parse_pool, NULL, 0},
    [GS_OP_AVGPOOL2D] = {"avgpool2d", parse_pool, NULL, 0},
    [GS_OP_GLOBAL_AVGPOOL] = {"global_avgpool", parse_global_pool, NULL, 1},
    [GS_OP_GLOBAL_MAXPOOL] = {"global_maxpool", parse_global_pool, NULL, 1},
    [GS_OP_DROPOUT] = {"dropout", parse_dropout, NULL, 0},
    [GS_OP_DENSE] = {"dense", parse_dense, dense_tensors, 0},
    [GS_OP_SOFTMAX] = {"softmax", parse_softmax, NULL, 0},
};
#define NUM_OPS ((int)(sizeof op_table / sizeof *op_table))
_Static_assert(NUM_OPS == GS_OP_COUNT, "an op without an entry in op_table");

const char *gs_layer_op_name(gs_layer_op op)
{
    return (unsigned)op < (unsigned)NUM_OPS ? op_table[op].name : "?";
}

int gs_layer_tensors(const gs_layer_desc *l, gs_tensor_spec spec[GS_LAYER_TENSORS_MAX])
{
    const op_info *info = &op_table[l->op];
    return info->tensors ? info->tensors(l, spec) : 0;
}

/* Reads layer index into l; prev is the layer before (NULL for the first). */
static gs_status parse_layer(const cJSON *layer, int index, int is_last, const gs_layer_desc *prev, cursor *cur,
                             gs_layer_desc *l, gs_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "architecture layer %d", index);
    if (!cJSON_IsObject(layer))
        return gs_error_set(err, GS_ERR_MODEL, "%s: not a JSON object", where);
    const cJSON *opv = cJSON_GetObjectItemCaseSensitive(layer, "op");
    if (!cJSON_IsString(opv))
        return gs_error_set(err, GS_ERR_MODEL, "%s: missing \"op\"", where);
    const char *op = opv->valuestring;
    snprintf(where, sizeof where, "architecture layer %d (%.24s)", index, op);
    int kind = -1;
    for (int k = 0; k < NUM_OPS; k++)
        if (strcmp(op, op_table[k].name) == 0)
            kind = k;
    if (kind < 0)
        return gs_error_set(err, GS_ERR_MODEL, "%s: unknown op \"%.40s\"", where, op);
    const op_info *info = &op_table[kind];
    l->op = (gs_layer_op)kind;
    l->in_c = l->out_c = cur->c;
    l->in_h = l->out_h = cur->h;
    l->in_w = l->out_w = cur->w;
    gs_status st = info->parse ? info->parse(layer, cur, prev, is_last, l, where, err) : GS_OK;
    if (st)
        return st;
    cur->c = l->out_c;
    cur->h = l->out_h;
    cur->w = l->out_w;
    cur->flat |= info->flattens;
    return GS_OK;
}

/* ---- The whole net ----------------------------------------------------- */

void gs_net_desc_free(gs_net_desc *desc)
{
    if (!desc)
        return;
    for (int i = 0; i < desc->num_layers; i++)
        free((char *)desc->layers[i].name);
    free(desc->layers);
    free(desc);
}

static gs_status parse_input(const cJSON *root, gs_net_desc *d, gs_error *err)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    int dims[3];
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) != 3 ||
        !json_int(cJSON_GetArrayItem(in, 0), 1, MAX_DIM, &dims[0]) ||
        !json_int(cJSON_GetArrayItem(in, 1), 1, MAX_DIM, &dims[1]) ||
        !json_int(cJSON_GetArrayItem(in, 2), 1, MAX_DIM, &dims[2]))
        return gs_error_set(err, GS_ERR_MODEL,
                            "architecture: input shape invalid: \"input\" must be [C,H,W] with "
                            "each in 1..%d",
                            MAX_DIM);
    if ((size_t)dims[0] * dims[1] * dims[2] > MAX_ELEMS)
        return gs_error_set(err, GS_ERR_MODEL, "architecture: input shape invalid: too large");
    d->in_c = dims[0];
    d->in_h = dims[1];
    d->in_w = dims[2];
    return GS_OK;
}

static gs_status parse_root(const cJSON *root, gs_net_desc *d, gs_error *err)
{
    gs_status st = parse_input(root, d, err);
    if (st)
        return st;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 2)
        return gs_error_set(err, GS_ERR_MODEL, "architecture: \"layers\" must be a list ending in dense and softmax");
    const int n = cJSON_GetArraySize(layers);
    d->layers = calloc((size_t)n, sizeof *d->layers);
    if (!d->layers)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    cursor cur = {d->in_c, d->in_h, d->in_w, 0};
    for (int i = 0; i < n && !st; i++) {
        d->num_layers = i + 1; /* so that free() sees this layer's name */
        st = parse_layer(cJSON_GetArrayItem(layers, i), i, i == n - 1, i ? &d->layers[i - 1] : NULL, &cur,
                         &d->layers[i], err);
    }
    if (!st && (d->layers[n - 1].op != GS_OP_SOFTMAX || d->layers[n - 2].op != GS_OP_DENSE))
        st = gs_error_set(err, GS_ERR_MODEL, "architecture: the last layers must be dense then softmax");
    return st;
}

gs_net_desc *gs_net_desc_parse(const char *json, gs_error *err)
{
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        gs_error_set(err, GS_ERR_MODEL, "architecture: missing or not a JSON object");
        return NULL;
    }
    gs_net_desc *d = calloc(1, sizeof *d);
    gs_error local;
    gs_status st = d ? parse_root(root, d, err ? err : &local) : gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    cJSON_Delete(root);
    if (st) {
        gs_net_desc_free(d);
        return NULL;
    }
    return d;
}

gs_status gs_net_desc_check_trainable(const gs_net_desc *d, gs_error *err)
{
    for (int i = 0; i < d->num_layers; i++) {
        const gs_layer_desc *l = &d->layers[i];
        if (l->op == GS_OP_BATCHNORM2D && !((float)l->eps > 0.0f))
            return gs_error_set(err, GS_ERR_MODEL,
                                "architecture layer %d (batchnorm2d): \"eps\" must be positive to "
                                "train (a channel's batch variance can be 0)",
                                i);
        for (int j = 0; l->name && j < i; j++)
            if (d->layers[j].name && strcmp(d->layers[j].name, l->name) == 0)
                return gs_error_set(err, GS_ERR_MODEL,
                                    "architecture layer %d (%s): name \"%.64s\" is already used by "
                                    "layer %d; training needs one set of tensors per name",
                                    i, gs_layer_op_name(l->op), l->name, j);
    }
    return GS_OK;
}
