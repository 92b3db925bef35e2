/* Trainable network: layers from the core's architecture description
 * (genrescope/net_desc.h, the schema's one parser, so the trainer accepts
 * exactly the nets the core loads), one allocation each for parameters,
 * gradients, running statistics and activations, and the forward/backward
 * passes over the layer list. Each op's trainer side (forward, backward,
 * initialisation, what it keeps for the backward) is one tnet_ops entry,
 * its functions side by side, as the kernels are in core/src/op_*.c. */
#include "tnet.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope/cnn_ops.h"
#include "genrescope/net_desc.h"
#include "ops_backward.h"
#include "rng.h"

#define TNET_NAME_SIZE (GS_NET_DESC_NAME_MAX + 1)
#define BN_MOMENTUM    0.1f

/* N below is the batch (max_batch when allocated); a layer's shapes are
 * its description's (flat vectors have h = w = 1). */
typedef struct layer {
    const gs_layer_desc *d; /* op, name, shapes and parameters; owned by net->desc */
    /* The layer's tensors (the op table's list, genrescope/net_desc.h) and
     * where each lives: trainable ones in net->params (gradient at the same
     * offset in net->grads), statistics in net->stats. */
    gs_tensor_spec tensors[GS_LAYER_TENSORS_MAX];
    size_t tensor_off[GS_LAYER_TENSORS_MAX];
    int num_tensors;
    /* The same, by role: weight [w_off, +w_size), bias [b_off, +b_size)
     * (b_size 0: none) in net->params; running mean [C] then running var
     * [C] from stats_off in net->stats. */
    size_t w_off, w_size, b_off, b_size;
    size_t stats_off;
    /* Activation buffers, set by place_layers. */
    float *out;                     /* [N, out_c, out_h, out_w]; a relu's is its input's (in place) */
    int *argmax;                    /* max pools: [N, out_c, out_h, out_w], flat input index of each max */
    float *mask;                    /* dropout: [N, out_c, out_h, out_w], 0 or 1/(1-p) */
    float *save_mean, *save_invstd; /* batchnorm: [out_c] each, the last forward's */
} layer;

struct gs_tnet {
    int in_c, in_h, in_w;
    int max_batch;
    int num_layers;
    layer *layers; /* [num_layers], desc->layers' order */
    gs_net_desc *desc;
    char *arch_json;
    /* Every layer's trainable tensors end to end [num_param_floats], their
     * gradients in the same layout, and batch norm's running statistics
     * [num_stat_floats] (layer->tensor_off says where each starts). */
    float *params, *grads, *stats;
    size_t num_param_floats, num_stat_floats;
    gs_tparam *tparams; /* [num_tparams], pointing into params/grads */
    char (*tparam_names)[TNET_NAME_SIZE + 16];
    int num_tparams;
    /* Activations, N = max_batch: input first, then each layer's buffers
     * in layer order (place_layers). */
    float *act_mem;
    int *argmax_mem; /* every max pool's argmax, layer order */
    float *input;    /* [N, in_c, in_h, in_w]: the last forward's, for conv backward */
    /* Ping-pong gradients w.r.t. activations: [N * largest layer output] each. */
    float *grad_a, *grad_b;
    /* One sample's im2col matrix [Ci*kh*kw, oh*ow] for the largest conv
     * (or its forward workspace if larger); forward and backward share it. */
    float *col;
    int last_batch, last_training, has_forward;
};

static size_t numel_out(const layer *l)
{
    return (size_t)l->d->out_c * l->d->out_h * l->d->out_w;
}
static size_t numel_in(const layer *l)
{
    return (size_t)l->d->in_c * l->d->in_h * l->d->in_w;
}

/* ---- the ops: each one's forward, backward, initialisation and buffers -- */

/* One layer's view of a forward or backward pass. */
typedef struct pass {
    gs_tnet *net;
    layer *l;
    const gs_layer_desc *d; /* l->d */
    int index;              /* l's position in net->layers */
    int batch;              /* N */
    int training;           /* the forward's mode (the backward follows it) */
    uint64_t rng_seed;      /* the forward's seed */
    const float *x;         /* input [N, in_c, in_h, in_w] */
    const float *w, *b;     /* weight, bias (NULL: none) in net->params */
    /* Backward only: gradients of the weight and bias (+=; bg NULL: no
     * bias), of the output g [N, out_c, out_h, out_w] and of the input dx
     * (overwritten; NULL for the first layer, whose input needs none). */
    float *wg, *bg;
    const float *g;
    float *dx;
} pass;

static size_t pass_numel_out(const pass *p)
{
    return numel_out(p->l) * p->batch;
}
static int pass_spatial(const pass *p)
{
    return p->d->in_h * p->d->in_w;
}

/* PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) gives bound =
 * gain*sqrt(3/fan_in) with gain = sqrt(2/(1+5)), i.e. 1/sqrt(fan_in); the
 * bias uses the same bound. Weight first, then bias, from rng. */
static void kaiming_init(gs_tnet *net, const layer *l, size_t fan_in, gs_rng *rng)
{
    float *wv = net->params + l->w_off, *bv = net->params + l->b_off;
    const float bound = (float)(1.0 / sqrt((double)fan_in));
    for (size_t i = 0; i < l->w_size; i++)
        wv[i] = (float)(2.0 * gs_rng_uniform(rng) - 1.0) * bound;
    for (size_t i = 0; i < l->b_size; i++)
        bv[i] = (float)(2.0 * gs_rng_uniform(rng) - 1.0) * bound;
}

static void conv2d_forward(const pass *p)
{
    gs_conv2d_forward(p->x, p->batch, &p->d->conv, p->w, p->b, p->l->out, p->net->col);
}

static int conv2d_backward(const pass *p)
{
    gs_conv2d_backward(p->x, p->g, p->batch, &p->d->conv, p->w, p->wg, p->bg, p->dx, p->net->col);
    return 1;
}

static void conv2d_init(gs_tnet *net, const layer *l, gs_rng *rng)
{
    const gs_conv2d_shape *cs = &l->d->conv;
    kaiming_init(net, l, (size_t)cs->in_channels * cs->kernel_h * cs->kernel_w, rng);
}

static void batchnorm2d_forward(const pass *p)
{
    const gs_layer_desc *d = p->d;
    const layer *l = p->l;
    float *running_mean = p->net->stats + l->stats_off, *running_var = running_mean + d->out_c;
    if (p->training)
        gs_batchnorm_train_forward(p->x, p->batch, d->in_c, pass_spatial(p), p->w, p->b, (float)d->eps, BN_MOMENTUM,
                                   running_mean, running_var, l->save_mean, l->save_invstd, l->out);
    else
        gs_batchnorm_eval_forward(p->x, p->batch, d->in_c, pass_spatial(p), p->w, p->b, (float)d->eps, running_mean,
                                  running_var, l->save_mean, l->save_invstd, l->out);
}

static int batchnorm2d_backward(const pass *p)
{
    (p->training ? gs_batchnorm_train_backward : gs_batchnorm_eval_backward)(p->x, p->g, p->batch, p->d->in_c,
                                                                             pass_spatial(p), p->w, p->l->save_mean,
                                                                             p->l->save_invstd, p->wg, p->bg, p->dx);
    return 1;
}

/* PyTorch's: weight 1, bias 0, running mean 0, running var 1. */
static void batchnorm2d_init(gs_tnet *net, const layer *l, gs_rng *rng)
{
    (void)rng;
    float *wv = net->params + l->w_off, *bv = net->params + l->b_off;
    for (int c = 0; c < l->d->out_c; c++) {
        wv[c] = 1.0f;
        bv[c] = 0.0f;
        net->stats[l->stats_off + c] = 0.0f;
        net->stats[l->stats_off + l->d->out_c + c] = 1.0f;
    }
}

static void relu_forward(const pass *p)
{
    if (p->l->out != p->x)
        memcpy(p->l->out, p->x, pass_numel_out(p) * sizeof(float));
    gs_relu_forward(p->l->out, pass_numel_out(p));
}

static int relu_backward(const pass *p)
{
    gs_relu_backward(p->l->out, p->g, pass_numel_out(p), p->dx);
    return 1;
}

static void maxpool2d_forward(const pass *p)
{
    const gs_layer_desc *d = p->d;
    if (d->kh == 2 && d->kw == 2 && d->sh == 2 && d->sw == 2)
        gs_maxpool2x2_forward(p->x, p->batch, d->in_c, d->in_h, d->in_w, p->l->out, p->l->argmax);
    else
        gs_maxpool2d_forward(p->x, p->batch, d->in_c, d->in_h, d->in_w, d->kh, d->kw, d->sh, d->sw, p->l->out,
                             p->l->argmax);
}

/* After a ReLU (not the first layer), also does the ReLU's backward: only
 * pooled positions get a gradient, so the ReLU's pass over the larger
 * input is skipped; returns 2, the layers done. */
static int maxpool2d_backward(const pass *p)
{
    const gs_layer_desc *d = p->d;
    if (p->index > 1 && p->net->layers[p->index - 1].d->op == GS_OP_RELU) {
        gs_relu_maxpool2d_backward(p->g, p->l->argmax, p->x, p->batch, d->in_c, d->in_h, d->in_w, d->out_h, d->out_w,
                                   p->dx);
        return 2;
    }
    gs_maxpool2d_backward(p->g, p->l->argmax, p->batch, d->in_c, d->in_h, d->in_w, d->out_h, d->out_w, p->dx);
    return 1;
}

static void avgpool2d_forward(const pass *p)
{
    const gs_layer_desc *d = p->d;
    gs_avgpool2d_forward(p->x, p->batch, d->in_c, d->in_h, d->in_w, d->kh, d->kw, d->sh, d->sw, p->l->out);
}

static int avgpool2d_backward(const pass *p)
{
    const gs_layer_desc *d = p->d;
    gs_avgpool2d_backward(p->g, p->batch, d->in_c, d->in_h, d->in_w, d->kh, d->kw, d->sh, d->sw, p->dx);
    return 1;
}

static void global_avgpool_forward(const pass *p)
{
    gs_global_avgpool_forward(p->x, p->batch, p->d->in_c, pass_spatial(p), p->l->out);
}

static int global_avgpool_backward(const pass *p)
{
    gs_global_avgpool_backward(p->g, p->batch, p->d->in_c, pass_spatial(p), p->dx);
    return 1;
}

static void global_maxpool_forward(const pass *p)
{
    gs_global_maxpool_forward(p->x, p->batch, p->d->in_c, pass_spatial(p), p->l->out, p->l->argmax);
}

static int global_maxpool_backward(const pass *p)
{
    gs_global_maxpool_backward(p->g, p->l->argmax, p->batch, p->d->in_c, pass_spatial(p), p->dx);
    return 1;
}

/* Each dropout layer gets its own stream from the forward's seed. */
static uint64_t mix_seed(uint64_t seed, int layer_index)
{
    gs_rng r;
    gs_rng_seed(&r, seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(layer_index + 1)));
    return gs_rng_next(&r);
}

static void dropout_forward(const pass *p)
{
    if (p->training)
        gs_dropout_forward(p->x, pass_numel_out(p), p->d->p, mix_seed(p->rng_seed, p->index), p->l->mask, p->l->out);
    else
        memcpy(p->l->out, p->x, pass_numel_out(p) * sizeof(float));
}

static int dropout_backward(const pass *p)
{
    if (p->training)
        gs_dropout_backward(p->g, p->l->mask, pass_numel_out(p), p->dx);
    else
        memcpy(p->dx, p->g, pass_numel_out(p) * sizeof(float));
    return 1;
}

static void dense_forward(const pass *p)
{
    gs_dense_forward(p->x, p->batch, (int)numel_in(p->l), p->d->out_c, p->w, p->b, p->l->out);
}

static int dense_backward(const pass *p)
{
    gs_dense_backward(p->x, p->g, p->batch, (int)numel_in(p->l), p->d->out_c, p->w, p->wg, p->bg, p->dx);
    return 1;
}

static void dense_init(gs_tnet *net, const layer *l, gs_rng *rng)
{
    kaiming_init(net, l, numel_in(l), rng);
}

static void softmax_forward(const pass *p)
{
    memcpy(p->l->out, p->x, pass_numel_out(p) * sizeof(float));
    gs_softmax_forward(p->l->out, p->batch, p->d->out_c);
}

/* What a layer keeps beside its output (place_layers). */
enum {
    KEEPS_MASK = 1,   /* [N, out]: the dropout mask */
    KEEPS_STATS = 2,  /* [out_c] twice: the batch's mean and invstd */
    KEEPS_ARGMAX = 4, /* [N, out] ints: where each max came from */
    /* The output is the input's buffer: ReLU runs in place (no layer's
     * backward needs its own pre-ReLU output), except on the net's input. */
    IN_PLACE = 8
};

/* The trainer's side of the op table (genrescope/net_desc.h), indexed by
 * gs_layer_op. backward returns how many layers it did (a fused pair: 2);
 * softmax has none, since the loss's gradient (gs_softmax_xent_backward)
 * starts from its input. init: NULL for ops without tensors. */
typedef struct tnet_op {
    void (*forward)(const pass *p);
    int (*backward)(const pass *p);
    void (*init)(gs_tnet *net, const layer *l, gs_rng *rng);
    unsigned keeps;
} tnet_op;

static const tnet_op tnet_ops[] = {
    [GS_OP_CONV2D] = {conv2d_forward, conv2d_backward, conv2d_init, 0},
    [GS_OP_BATCHNORM2D] = {batchnorm2d_forward, batchnorm2d_backward, batchnorm2d_init, KEEPS_STATS},
    [GS_OP_RELU] = {relu_forward, relu_backward, NULL, IN_PLACE},
    [GS_OP_MAXPOOL2D] = {maxpool2d_forward, maxpool2d_backward, NULL, KEEPS_ARGMAX},
    [GS_OP_AVGPOOL2D] = {avgpool2d_forward, avgpool2d_backward, NULL, 0},
    [GS_OP_GLOBAL_AVGPOOL] = {global_avgpool_forward, global_avgpool_backward, NULL, 0},
    [GS_OP_GLOBAL_MAXPOOL] = {global_maxpool_forward, global_maxpool_backward, NULL, KEEPS_ARGMAX},
    [GS_OP_DROPOUT] = {dropout_forward, dropout_backward, NULL, KEEPS_MASK},
    [GS_OP_DENSE] = {dense_forward, dense_backward, dense_init, 0},
    [GS_OP_SOFTMAX] = {softmax_forward, NULL, NULL, 0},
};
_Static_assert(sizeof tnet_ops / sizeof *tnet_ops == GS_OP_COUNT, "an op without an entry in tnet_ops");

/* ---- construction ------------------------------------------------------ */

static void add_tparam(gs_tnet *net, const layer *l, const char *suffix, size_t off, size_t size, int decay)
{
    gs_tparam *p = &net->tparams[net->num_tparams];
    snprintf(net->tparam_names[net->num_tparams], sizeof net->tparam_names[0], "%s.%s", l->d->name, suffix);
    p->name = net->tparam_names[net->num_tparams];
    p->value = net->params + off;
    p->grad = net->grads + off;
    p->size = size;
    p->decay = decay;
    net->num_tparams++;
}

static size_t spec_numel(const gs_tensor_spec *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

/* Gives each of l's tensors its place, in the op table's order (weight,
 * bias, statistics), after those of the layers before. */
static void place_tensors(gs_tnet *net, layer *l)
{
    l->num_tensors = gs_layer_tensors(l->d, l->tensors);
    l->w_off = l->b_off = net->num_param_floats;
    for (int t = 0; t < l->num_tensors; t++) {
        const gs_tensor_spec *ts = &l->tensors[t];
        const size_t n = spec_numel(ts);
        if (!ts->trainable) {
            if (t == 2)
                l->stats_off = net->num_stat_floats;
            l->tensor_off[t] = net->num_stat_floats;
            net->num_stat_floats += n;
            continue;
        }
        l->tensor_off[t] = net->num_param_floats;
        net->num_param_floats += n;
        if (t == 0)
            l->w_size = n;
        else
            l->b_off = l->tensor_off[t], l->b_size = n;
    }
    if (!l->b_size)
        l->b_off = l->w_off + l->w_size;
}

/* What the layers need in all, counted per sample (times max_batch when
 * allocated) except col, which holds one sample. */
typedef struct net_sizes {
    size_t max_act;     /* largest activation, for the ping-pong gradients */
    size_t col;         /* largest im2col or convolution workspace */
    size_t act_floats;  /* every float activation buffer end to end */
    size_t argmax_ints; /* every max-pool argmax buffer end to end */
} net_sizes;

/* What a layer needs beside its parameters (tnet_ops[].keeps), per
 * sample unless said otherwise, so that counting (size_layers) and
 * placing (place_layers) agree. */
typedef struct layer_buffers {
    int in_place;  /* the output is the input's buffer */
    size_t mask;   /* floats */
    size_t saved;  /* floats for the whole batch: batch norm's mean and invstd */
    size_t argmax; /* ints */
} layer_buffers;

static layer_buffers buffers_of(const layer *l, int index)
{
    const unsigned keeps = tnet_ops[l->d->op].keeps;
    layer_buffers b = {(keeps & IN_PLACE) && index > 0, 0, 0, 0};
    if (keeps & KEEPS_MASK)
        b.mask = numel_out(l);
    if (keeps & KEEPS_STATS)
        b.saved = 2 * (size_t)l->d->out_c;
    if (keeps & KEEPS_ARGMAX)
        b.argmax = numel_out(l);
    return b;
}

/* Fills net->layers from the description, with each layer's parameter
 * offsets and sizes, and counts the activation memory they need. */
static net_sizes size_layers(gs_tnet *net)
{
    net_sizes sz = {(size_t)net->in_c * net->in_h * net->in_w, 0, 0, 0};
    for (int i = 0; i < net->num_layers; i++) {
        layer *l = &net->layers[i];
        l->d = &net->desc->layers[i];
        if (l->d->op == GS_OP_CONV2D) {
            size_t cs = gs_conv2d_col_size(&l->d->conv), ws = gs_conv2d_workspace_size(&l->d->conv);
            sz.col = cs > sz.col ? cs : sz.col;
            sz.col = ws > sz.col ? ws : sz.col;
        }
        place_tensors(net, l);
        const size_t n = numel_out(l);
        sz.max_act = n > sz.max_act ? n : sz.max_act;
        const layer_buffers b = buffers_of(l, i);
        /* saved is counted per sample too: a little slack, never short. */
        sz.act_floats += (b.in_place ? 0 : n) + b.mask + b.saved;
        sz.argmax_ints += b.argmax;
    }
    return sz;
}

/* Parameters, gradients, statistics and the activation memory; 0, or -1
 * when out of memory (gs_tnet_free releases what was allocated). */
static int alloc_memory(gs_tnet *net, const net_sizes *sz)
{
    const size_t mb = (size_t)net->max_batch;
    net->params = calloc(net->num_param_floats, sizeof(float));
    net->grads = calloc(net->num_param_floats, sizeof(float));
    net->stats = calloc(net->num_stat_floats ? net->num_stat_floats : 1, sizeof(float));
    net->act_mem = malloc((sz->act_floats * mb + (size_t)net->in_c * net->in_h * net->in_w * mb) * sizeof(float));
    net->argmax_mem = malloc((sz->argmax_ints ? sz->argmax_ints * mb : 1) * sizeof(int));
    net->grad_a = malloc(sz->max_act * mb * sizeof(float));
    net->grad_b = malloc(sz->max_act * mb * sizeof(float));
    net->col = malloc((sz->col ? sz->col : 1) * sizeof(float));
    if (!net->params || !net->grads || !net->stats || !net->act_mem || !net->argmax_mem || !net->grad_a ||
        !net->grad_b || !net->col)
        return -1;
    return 0;
}

/* Points every layer at its activation buffers in the order size_layers
 * counted them, lists its trainable tensors and initialises them from
 * seed, layer by layer (the order fixes the random stream). */
static void place_layers(gs_tnet *net, uint64_t seed)
{
    const size_t mb = (size_t)net->max_batch;
    float *a = net->act_mem;
    int *am = net->argmax_mem;
    net->input = a;
    a += (size_t)net->in_c * net->in_h * net->in_w * mb;
    gs_rng rng;
    gs_rng_seed(&rng, seed);
    for (int i = 0; i < net->num_layers; i++) {
        layer *l = &net->layers[i];
        const layer_buffers b = buffers_of(l, i);
        if (b.in_place) {
            l->out = net->layers[i - 1].out;
        } else {
            l->out = a;
            a += numel_out(l) * mb;
        }
        if (b.mask) {
            l->mask = a;
            a += b.mask * mb;
        }
        if (b.saved) {
            l->save_mean = a;
            l->save_invstd = a + l->d->out_c;
            a += b.saved;
        }
        if (b.argmax) {
            l->argmax = am;
            am += b.argmax * mb;
        }
        if (l->w_size) {
            for (int t = 0; t < l->num_tensors; t++)
                if (l->tensors[t].trainable)
                    add_tparam(net, l, l->tensors[t].suffix, l->tensor_off[t], spec_numel(&l->tensors[t]),
                               l->tensors[t].decay);
            tnet_ops[l->d->op].init(net, l, &rng);
        }
    }
}

/* Takes ownership of desc and arch_json (also on failure). */
static gs_tnet *build(gs_net_desc *desc, char *arch_json, int max_batch, uint64_t seed, gs_error *err)
{
    gs_tnet *net = max_batch >= 1 ? calloc(1, sizeof *net) : NULL;
    if (!net) {
        gs_net_desc_free(desc);
        free(arch_json);
        if (max_batch < 1)
            gs_error_set(err, GS_ERR_INVALID, "max_batch must be at least 1");
        else
            gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* From here on gs_tnet_free releases everything, desc and text too. */
    net->desc = desc;
    net->arch_json = arch_json;
    net->in_c = desc->in_c, net->in_h = desc->in_h, net->in_w = desc->in_w;
    net->max_batch = max_batch;
    net->num_layers = desc->num_layers;
    net->layers = calloc((size_t)net->num_layers, sizeof *net->layers);
    net->tparams = calloc((size_t)net->num_layers * 2, sizeof *net->tparams);
    net->tparam_names = calloc((size_t)net->num_layers * 2, sizeof *net->tparam_names);
    int ok = net->layers && net->tparams && net->tparam_names;
    if (ok) {
        const net_sizes sz = size_layers(net);
        ok = alloc_memory(net, &sz) == 0;
    }
    if (!ok) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory building the network");
        gs_tnet_free(net);
        return NULL;
    }
    place_layers(net, seed);
    return net;
}

/* Checks json with the core's rules (so a net that would not load after
 * training fails now, with the core's message) and what training adds,
 * then builds. The stored text is json re-printed compactly: export writes
 * it as the model's "architecture". */
static gs_tnet *build_json(const char *json, int max_batch, uint64_t seed, gs_error *err)
{
    gs_net_desc *desc = gs_net_desc_parse(json, err);
    if (!desc)
        return NULL;
    if (gs_net_desc_check_trainable(desc, err) != GS_OK) {
        gs_net_desc_free(desc);
        return NULL;
    }
    cJSON *root = cJSON_Parse(json);
    char *printed = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    char *text = printed ? strdup(printed) : NULL;
    cJSON_free(printed);
    if (!text) {
        gs_net_desc_free(desc);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return build(desc, text, max_batch, seed, err);
}

gs_status gs_tnet_check_architecture(const char *architecture_json, gs_error *err)
{
    gs_net_desc *desc = gs_net_desc_parse(architecture_json, err);
    if (!desc)
        return err ? err->code : GS_ERR_MODEL;
    gs_status st = gs_net_desc_check_trainable(desc, err);
    gs_net_desc_free(desc);
    return st;
}

gs_tnet *gs_tnet_new(const char *architecture_json, int max_batch, uint64_t seed, gs_error *err)
{
    if (!architecture_json) {
        gs_error_set(err, GS_ERR_INVALID, "no architecture");
        return NULL;
    }
    return build_json(architecture_json, max_batch, seed, err);
}

/* The start of tensor t of l in the net's memory. */
static float *tensor_data(const gs_tnet *net, const layer *l, int t)
{
    return (l->tensors[t].trainable ? net->params : net->stats) + l->tensor_off[t];
}

static gs_status copy_tensor(const gs_model *model, const layer *l, const gs_tensor_spec *ts, float *dst, gs_error *err)
{
    char name[TNET_NAME_SIZE + 16];
    snprintf(name, sizeof name, "%s.%s", l->d->name, ts->suffix);
    const gs_tensor *t = gs_model_tensor(model, name);
    if (!t)
        return gs_error_set(err, GS_ERR_MODEL, "model has no tensor %s", name);
    int same = t->ndim == ts->ndim;
    for (int d = 0; same && d < ts->ndim; d++)
        same = t->shape[d] == ts->shape[d];
    if (!same)
        return gs_error_set(err, GS_ERR_MODEL, "tensor %s does not have the shape the architecture needs", name);
    /* Model data may be mmapped and unaligned: memcpy, never dereference. */
    memcpy(dst, t->data, (size_t)t->numel * sizeof(float));
    return GS_OK;
}

gs_tnet *gs_tnet_from_model(const gs_model *model, int max_batch, int num_outputs, uint64_t seed, gs_error *err)
{
    /* Head replacement edits the last dense layer's "out" before building,
     * so the stored architecture describes the new head. A JSON error is
     * left to build_json, which reports it as the core would. */
    const char *json = gs_model_architecture_json(model);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    int replace_head = 0;
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    int nl = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (num_outputs > 0 && nl >= 2) {
        cJSON *dense = cJSON_GetArrayItem(layers, nl - 2);
        cJSON *out = cJSON_GetObjectItemCaseSensitive(dense, "out");
        if (cJSON_IsNumber(out) && (int)out->valuedouble != num_outputs) {
            cJSON_SetNumberValue(out, num_outputs);
            replace_head = 1;
        }
    }
    char *edited = replace_head ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (replace_head && !edited) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    gs_tnet *net = build_json(edited ? edited : json, max_batch, seed, err);
    cJSON_free(edited);
    if (!net)
        return NULL;
    for (int i = 0; i < net->num_layers; i++) {
        layer *l = &net->layers[i];
        if (!l->w_size || (replace_head && i == net->num_layers - 2))
            continue;
        gs_status st = GS_OK;
        for (int t = 0; t < l->num_tensors && st == GS_OK; t++)
            st = copy_tensor(model, l, &l->tensors[t], tensor_data(net, l, t), err);
        if (st != GS_OK) {
            gs_tnet_free(net);
            return NULL;
        }
    }
    return net;
}

void gs_tnet_free(gs_tnet *net)
{
    if (!net)
        return;
    free(net->layers);
    gs_net_desc_free(net->desc);
    free(net->tparams);
    free(net->tparam_names);
    free(net->arch_json);
    free(net->params);
    free(net->grads);
    free(net->stats);
    free(net->act_mem);
    free(net->argmax_mem);
    free(net->grad_a);
    free(net->grad_b);
    free(net->col);
    free(net);
}

/* ---- accessors ---------------------------------------------------------- */

const char *gs_tnet_architecture_json(const gs_tnet *net)
{
    return net->arch_json;
}

void gs_tnet_input_shape(const gs_tnet *net, int *c, int *h, int *w)
{
    if (c)
        *c = net->in_c;
    if (h)
        *h = net->in_h;
    if (w)
        *w = net->in_w;
}

int gs_tnet_num_outputs(const gs_tnet *net)
{
    return net->layers[net->num_layers - 1].d->out_c;
}

int gs_tnet_embedding_size(const gs_tnet *net)
{
    return (int)numel_in(&net->layers[net->num_layers - 2]);
}

int gs_tnet_num_params(const gs_tnet *net)
{
    return net->num_tparams;
}

gs_tparam *gs_tnet_param(gs_tnet *net, int index)
{
    return index >= 0 && index < net->num_tparams ? &net->tparams[index] : NULL;
}

size_t gs_tnet_total_parameters(const gs_tnet *net)
{
    return net->num_param_floats;
}

/* ---- forward / backward ------------------------------------------------- */

gs_status gs_tnet_forward(gs_tnet *net, const float *input, int batch, int training, uint64_t rng_seed, float *probs,
                          float *embeddings, gs_error *err)
{
    if (batch < 1 || batch > net->max_batch)
        return gs_error_set(err, GS_ERR_INVALID, "batch %d outside 1..%d", batch, net->max_batch);
    if (!input)
        return gs_error_set(err, GS_ERR_INVALID, "no input");
    const size_t in_n = (size_t)net->in_c * net->in_h * net->in_w * batch;
    memcpy(net->input, input, in_n * sizeof(float));
    const float *x = net->input;
    for (int i = 0; i < net->num_layers; i++) {
        layer *l = &net->layers[i];
        const pass p = {.net = net,
                        .l = l,
                        .d = l->d,
                        .index = i,
                        .batch = batch,
                        .training = training,
                        .rng_seed = rng_seed,
                        .x = x,
                        .w = net->params + l->w_off,
                        .b = l->b_size ? net->params + l->b_off : NULL};
        tnet_ops[l->d->op].forward(&p);
        x = l->out;
    }
    net->last_batch = batch;
    net->last_training = training;
    net->has_forward = 1;
    const layer *last = &net->layers[net->num_layers - 1];
    if (probs)
        memcpy(probs, last->out, numel_out(last) * batch * sizeof(float));
    if (embeddings) {
        const int head = net->num_layers - 2;
        const float *e = head > 0 ? net->layers[head - 1].out : net->input;
        memcpy(embeddings, e, numel_in(&net->layers[head]) * batch * sizeof(float));
    }
    return GS_OK;
}

float gs_tnet_backward(gs_tnet *net, const float *targets, int batch)
{
    if (!net->has_forward || batch != net->last_batch || !targets)
        return NAN;
    memset(net->grads, 0, net->num_param_floats * sizeof(float));
    const int nl = net->num_layers;
    const layer *sm = &net->layers[nl - 1];
    float *g = net->grad_a, *g_in = net->grad_b;
    const float loss = gs_softmax_xent_backward(net->layers[nl - 2].out, sm->out, targets, batch, sm->d->out_c, g);
    for (int i = nl - 2; i >= 0;) {
        layer *l = &net->layers[i];
        float *dx = i > 0 ? g_in : NULL;
        if (!dx && !l->w_size)
            break; /* nothing before this layer needs a gradient */
        const pass p = {.net = net,
                        .l = l,
                        .d = l->d,
                        .index = i,
                        .batch = batch,
                        .training = net->last_training,
                        .x = i > 0 ? net->layers[i - 1].out : net->input,
                        .w = net->params + l->w_off,
                        .b = NULL,
                        .wg = net->grads + l->w_off,
                        .bg = l->b_size ? net->grads + l->b_off : NULL,
                        .g = g,
                        .dx = dx};
        i -= tnet_ops[l->d->op].backward(&p);
        float *t = g;
        g = g_in;
        g_in = t;
    }
    return loss;
}

/* ---- export / copy ------------------------------------------------------ */

gs_status gs_tnet_export(const gs_tnet *net, gs_model_writer *writer, gs_error *err)
{
    for (int i = 0; i < net->num_layers; i++) {
        const layer *l = &net->layers[i];
        for (int t = 0; t < l->num_tensors; t++) {
            char name[TNET_NAME_SIZE + 16];
            snprintf(name, sizeof name, "%s.%s", l->d->name, l->tensors[t].suffix);
            gs_status st = gs_model_writer_add_tensor(writer, name, l->tensors[t].ndim, l->tensors[t].shape,
                                                      tensor_data(net, l, t), err);
            if (st != GS_OK)
                return st;
        }
    }
    return gs_model_writer_set_metadata(writer, "architecture", net->arch_json, err);
}

gs_status gs_tnet_copy_weights(gs_tnet *dst, const gs_tnet *src, gs_error *err)
{
    if (dst->num_param_floats != src->num_param_floats || dst->num_stat_floats != src->num_stat_floats ||
        strcmp(dst->arch_json, src->arch_json) != 0)
        return gs_error_set(err, GS_ERR_INVALID, "copy_weights: architectures differ");
    memcpy(dst->params, src->params, src->num_param_floats * sizeof(float));
    if (src->num_stat_floats)
        memcpy(dst->stats, src->stats, src->num_stat_floats * sizeof(float));
    return GS_OK;
}
