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
#define MAX_DIM 65536
#define MAX_ELEMS ((size_t)1 << 28)

static const char *const op_names[] = {"conv2d",         "batchnorm2d",    "relu",
                                       "maxpool2d",      "avgpool2d",      "global_avgpool",
                                       "global_maxpool", "dropout",        "dense",
                                       "softmax"};

const char *gs_layer_op_name(gs_layer_op op)
{
    return (unsigned)op < sizeof op_names / sizeof *op_names ? op_names[op] : "?";
}

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
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: needs a [C,H,W] input but follows a global pool", where);
    return GS_OK;
}

static gs_status check_size(const cursor *cur, int oh, int ow, const char *where, gs_error *err)
{
    if (oh < 1 || ow < 1)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: input %dx%d is too small, the output size would collapse to %dx%d",
                            where, cur->h, cur->w, oh < 0 ? 0 : oh, ow < 0 ? 0 : ow);
    return GS_OK;
}

static gs_status parse_conv(const cJSON *layer, const cursor *cur, gs_layer_desc *l,
                            const char *where, gs_error *err)
{
    static const int one[2] = {1, 1}, zero[2] = {0, 0};
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    int in, out, k[2], s[2], pad[2];
    st = check_spatial(cur, where, err);
    if (!st) st = get_int(layer, "in", 1, MAX_DIM, &in, where, err);
    if (!st) st = get_int(layer, "out", 1, MAX_DIM, &out, where, err);
    if (!st) st = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, err);
    if (!st) st = get_pair(layer, "stride", one, 1, MAX_DIM, s, where, err);
    if (!st) st = get_pair(layer, "padding", zero, 0, MAX_DIM, pad, where, err);
    if (st)
        return st;
    const cJSON *bias_v = cJSON_GetObjectItemCaseSensitive(layer, "bias");
    if (bias_v && !cJSON_IsBool(bias_v))
        return gs_error_set(err, GS_ERR_MODEL, "%s: \"bias\" must be true or false", where);
    l->has_bias = !bias_v || cJSON_IsTrue(bias_v);
    if (in != cur->c)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: channel mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, cur->c);
    gs_conv2d_shape cs = {in, out, cur->h, cur->w, k[0], k[1], s[0], s[1], pad[0], pad[1]};
    if (pad[0] >= MAX_DIM / 2 || pad[1] >= MAX_DIM / 2)
        return gs_error_set(err, GS_ERR_MODEL, "%s: padding too large", where);
    int oh = cur->h + 2 * pad[0] >= k[0] ? gs_conv2d_out_height(&cs) : 0;
    int ow = cur->w + 2 * pad[1] >= k[1] ? gs_conv2d_out_width(&cs) : 0;
    if (check_size(cur, oh, ow, where, err))
        return GS_ERR_MODEL;
    size_t kk = (size_t)in * k[0] * k[1];
    if (kk > MAX_ELEMS || (size_t)out * oh * ow > MAX_ELEMS || kk * oh * ow > MAX_ELEMS ||
        (size_t)out * kk > MAX_ELEMS)
        return gs_error_set(err, GS_ERR_MODEL, "%s: layer too large", where);
    l->conv = cs;
    l->out_c = out;
    l->out_h = oh;
    l->out_w = ow;
    return GS_OK;
}

static gs_status parse_batchnorm(const cJSON *layer, const gs_layer_desc *prev, gs_layer_desc *l,
                                 const char *where, gs_error *err)
{
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    if (!prev || prev->op != GS_OP_CONV2D)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: batchnorm2d must directly follow a conv2d (it is folded into it)",
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

static gs_status parse_pool(const cJSON *layer, const cursor *cur, gs_layer_desc *l,
                            const char *where, gs_error *err)
{
    int k[2], s[2];
    gs_status st = check_spatial(cur, where, err);
    if (!st) st = get_pair(layer, "kernel", NULL, 1, MAX_DIM, k, where, err);
    if (!st) st = get_pair(layer, "stride", k, 1, MAX_DIM, s, where, err);
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

static gs_status parse_dense(const cJSON *layer, const cursor *cur, gs_layer_desc *l,
                             const char *where, gs_error *err)
{
    gs_status st = get_name(layer, l, where, err);
    if (st)
        return st;
    int in, out;
    if (!cur->flat)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: dense needs a flat input: add global_avgpool or global_maxpool "
                            "before it", where);
    st = get_int(layer, "in", 1, MAX_DIM, &in, where, err);
    if (!st) st = get_int(layer, "out", 1, MAX_DIM, &out, where, err);
    if (st)
        return st;
    if (in != cur->c)
        return gs_error_set(err, GS_ERR_MODEL,
                            "%s: feature mismatch: \"in\" is %d but the previous layer gives %d",
                            where, in, cur->c);
    l->out_c = out;
    return GS_OK;
}

/* Reads layer index into l; prev is the layer before (NULL for the first). */
static gs_status parse_layer(const cJSON *layer, int index, int is_last, const gs_layer_desc *prev,
                             cursor *cur, gs_layer_desc *l, gs_error *err)
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
    for (int k = 0; k < (int)(sizeof op_names / sizeof *op_names); k++)
        if (strcmp(op, op_names[k]) == 0)
            kind = k;
    if (kind < 0)
        return gs_error_set(err, GS_ERR_MODEL, "%s: unknown op \"%.40s\"", where, op);
    l->op = (gs_layer_op)kind;
    l->in_c = l->out_c = cur->c;
    l->in_h = l->out_h = cur->h;
    l->in_w = l->out_w = cur->w;
    gs_status st = GS_OK;
    switch (l->op) {
    case GS_OP_CONV2D:
        st = parse_conv(layer, cur, l, where, err);
        break;
    case GS_OP_BATCHNORM2D:
        st = parse_batchnorm(layer, prev, l, where, err);
        break;
    case GS_OP_MAXPOOL2D:
    case GS_OP_AVGPOOL2D:
        st = parse_pool(layer, cur, l, where, err);
        break;
    case GS_OP_DENSE:
        st = parse_dense(layer, cur, l, where, err);
        break;
    case GS_OP_DROPOUT: {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(layer, "p");
        if (p && (!cJSON_IsNumber(p) || !(p->valuedouble >= 0.0) || !(p->valuedouble < 1.0)))
            return gs_error_set(err, GS_ERR_MODEL, "%s: \"p\" must be a number in [0,1)", where);
        l->p = p ? (float)p->valuedouble : 0.5f;
        break;
    }
    case GS_OP_GLOBAL_AVGPOOL:
    case GS_OP_GLOBAL_MAXPOOL:
        st = check_spatial(cur, where, err);
        l->out_h = l->out_w = 1;
        break;
    case GS_OP_SOFTMAX:
        if (!is_last || !prev || prev->op != GS_OP_DENSE)
            return gs_error_set(err, GS_ERR_MODEL,
                                "%s: softmax must be the last layer, directly after a dense layer",
                                where);
        break;
    case GS_OP_RELU:
        break;
    }
    if (st)
        return st;
    cur->c = l->out_c;
    cur->h = l->out_h;
    cur->w = l->out_w;
    if (l->op == GS_OP_GLOBAL_AVGPOOL || l->op == GS_OP_GLOBAL_MAXPOOL)
        cur->flat = 1;
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
                            "each in 1..%d", MAX_DIM);
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
        return gs_error_set(err, GS_ERR_MODEL,
                            "architecture: \"layers\" must be a list ending in dense and softmax");
    const int n = cJSON_GetArraySize(layers);
    d->layers = calloc((size_t)n, sizeof *d->layers);
    if (!d->layers)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    cursor cur = {d->in_c, d->in_h, d->in_w, 0};
    for (int i = 0; i < n && !st; i++) {
        d->num_layers = i + 1; /* so that free() sees this layer's name */
        st = parse_layer(cJSON_GetArrayItem(layers, i), i, i == n - 1,
                         i ? &d->layers[i - 1] : NULL, &cur, &d->layers[i], err);
    }
    if (!st && (d->layers[n - 1].op != GS_OP_SOFTMAX || d->layers[n - 2].op != GS_OP_DENSE))
        st = gs_error_set(err, GS_ERR_MODEL,
                          "architecture: the last layers must be dense then softmax");
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
    gs_status st = d ? parse_root(root, d, err ? err : &local)
                     : gs_error_set(err, GS_ERR_NOMEM, "out of memory");
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
                                "train (a channel's batch variance can be 0)", i);
        for (int j = 0; l->name && j < i; j++)
            if (d->layers[j].name && strcmp(d->layers[j].name, l->name) == 0)
                return gs_error_set(err, GS_ERR_MODEL,
                                    "architecture layer %d (%s): name \"%.64s\" is already used by "
                                    "layer %d; training needs one set of tensors per name",
                                    i, gs_layer_op_name(l->op), l->name, j);
    }
    return GS_OK;
}
