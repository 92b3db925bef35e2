/* SGD with momentum and AdamW, following torch.optim (1.13) update rules
 * exactly, so a run can be checked step by step against PyTorch. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gs_optim {
    gs_optim_config config;
    gs_tnet *net;
    size_t total; /* floats over all parameter groups */
    float *state; /* SGD: momentum buffer; AdamW: first moments then second */
    long step;
};

gs_optim *gs_optim_new(const gs_optim_config *config, gs_tnet *net, gs_error *err)
{
    if (!config || !net) {
        gs_error_set(err, GS_ERR_INVALID, "optimiser: no config or net");
        return NULL;
    }
    if (config->kind != GS_OPTIM_SGD && config->kind != GS_OPTIM_ADAMW) {
        gs_error_set(err, GS_ERR_INVALID, "optimiser: unknown kind %d", (int)config->kind);
        return NULL;
    }
    if (config->kind == GS_OPTIM_ADAMW &&
        !(config->beta1 >= 0.0f && config->beta1 < 1.0f && config->beta2 >= 0.0f && config->beta2 < 1.0f &&
          config->eps > 0.0f)) {
        gs_error_set(err, GS_ERR_INVALID, "optimiser: AdamW needs 0 <= beta < 1 and eps > 0");
        return NULL;
    }
    if (!(config->momentum >= 0.0f) || !(config->weight_decay >= 0.0f)) {
        gs_error_set(err, GS_ERR_INVALID, "optimiser: momentum and weight decay must be >= 0");
        return NULL;
    }
    gs_optim *opt = calloc(1, sizeof *opt);
    if (!opt) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    opt->config = *config;
    opt->net = net;
    for (int i = 0; i < gs_tnet_num_params(net); i++)
        opt->total += gs_tnet_param(net, i)->size;
    size_t n = gs_optim_state_size(opt);
    opt->state = calloc(n ? n : 1, sizeof(float));
    if (!opt->state) {
        free(opt);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return opt;
}

void gs_optim_free(gs_optim *opt)
{
    if (!opt)
        return;
    free(opt->state);
    free(opt);
}

/* torch.optim.SGD (dampening 0, no Nesterov): g += wd*p; buf = m*buf + g
 * (buf = g on the first step, which is the same as starting from zeros);
 * p -= lr*buf. */
static void sgd_update(const gs_optim_config *c, gs_tparam *p, float *buf, float lr)
{
    const float wd = p->decay ? c->weight_decay : 0.0f;
    for (size_t i = 0; i < p->size; i++) {
        float g = p->grad[i] + wd * p->value[i];
        if (c->momentum != 0.0f) {
            buf[i] = c->momentum * buf[i] + g;
            g = buf[i];
        }
        p->value[i] -= lr * g;
    }
}

/* torch.optim.AdamW: p *= 1 - lr*wd; m,v moments; bias corrections as in
 * _single_tensor_adamw: p -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps). */
static void adamw_update(const gs_optim_config *c, gs_tparam *p, float *m, float *v, float lr, long step)
{
    const float wd = p->decay ? c->weight_decay : 0.0f;
    const double bc1 = 1.0 - pow(c->beta1, (double)step);
    const double bc2 = 1.0 - pow(c->beta2, (double)step);
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = 1.0f - lr * wd;
    for (size_t i = 0; i < p->size; i++) {
        const float g = p->grad[i];
        p->value[i] *= decay;
        m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g;
        v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g * g;
        const float denom = sqrtf(v[i]) / bc2_sqrt + c->eps;
        p->value[i] -= step_size * (m[i] / denom);
    }
}

void gs_optim_step(gs_optim *opt, float lr)
{
    opt->step++;
    size_t off = 0;
    for (int i = 0; i < gs_tnet_num_params(opt->net); i++) {
        gs_tparam *p = gs_tnet_param(opt->net, i);
        if (opt->config.kind == GS_OPTIM_SGD)
            sgd_update(&opt->config, p, opt->state + off, lr);
        else
            adamw_update(&opt->config, p, opt->state + off, opt->state + opt->total + off, lr, opt->step);
        off += p->size;
    }
}

size_t gs_optim_state_size(const gs_optim *opt)
{
    if (opt->config.kind == GS_OPTIM_ADAMW)
        return 2 * opt->total;
    return opt->config.momentum != 0.0f ? opt->total : 0;
}

void gs_optim_get_state(const gs_optim *opt, float *out, long *step)
{
    size_t n = gs_optim_state_size(opt);
    if (out && n)
        memcpy(out, opt->state, n * sizeof(float));
    if (step)
        *step = opt->step;
}

void gs_optim_set_state(gs_optim *opt, const float *in, long step)
{
    size_t n = gs_optim_state_size(opt);
    if (in && n)
        memcpy(opt->state, in, n * sizeof(float));
    opt->step = step;
}

/* Warm-up ramps linearly from 0 at step 0 to base_lr at warmup_steps (the
 * usual transformers convention); the decay then counts from the end of
 * warm-up, so warm-up never shortens it. */
float gs_schedule_lr(const gs_schedule *s, long step)
{
    if (step < 0)
        step = 0;
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->base_lr * (float)step / (float)s->warmup_steps;
    const long t = step - (s->warmup_steps > 0 ? s->warmup_steps : 0);
    switch (s->kind) {
    case GS_SCHEDULE_STEP:
        if (s->step_size <= 0)
            return s->base_lr;
        return (float)(s->base_lr * pow(s->gamma, (double)(t / s->step_size)));
    case GS_SCHEDULE_COSINE: {
        const long span = s->total_steps - (s->warmup_steps > 0 ? s->warmup_steps : 0);
        if (span <= 0 || t >= span)
            return s->min_lr;
        const double progress = (double)t / (double)span;
        return (float)(s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * progress)));
    }
    case GS_SCHEDULE_CONSTANT:
    default: return s->base_lr;
    }
}
