/* Optimisers and learning-rate schedules over gs_tparam groups. */
#ifndef GS_TRAIN_OPTIM_H
#define GS_TRAIN_OPTIM_H

#include <stddef.h>

#include "genrescope/error.h"
#include "tnet.h"

typedef enum gs_optim_kind { GS_OPTIM_SGD = 0, GS_OPTIM_ADAMW = 1 } gs_optim_kind;

typedef struct gs_optim_config {
    gs_optim_kind kind;
    float lr;                /* peak learning rate */
    float momentum;          /* SGD (Nesterov off), PyTorch semantics */
    float beta1, beta2, eps; /* AdamW */
    float weight_decay;      /* SGD: L2 added to grad; AdamW: decoupled */
} gs_optim_config;

typedef struct gs_optim gs_optim;

/* State (momentum / Adam moments) for every parameter of net. */
gs_optim *gs_optim_new(const gs_optim_config *config, gs_tnet *net, gs_error *err);
void gs_optim_free(gs_optim *opt);
/* One update with learning rate lr (from a schedule). */
void gs_optim_step(gs_optim *opt, float lr);
/* Serialise state for checkpoints: size in floats, and copy out/in. */
size_t gs_optim_state_size(const gs_optim *opt);
void gs_optim_get_state(const gs_optim *opt, float *out, long *step);
void gs_optim_set_state(gs_optim *opt, const float *in, long step);

typedef enum gs_schedule_kind {
    GS_SCHEDULE_CONSTANT = 0,
    GS_SCHEDULE_STEP = 1,
    GS_SCHEDULE_COSINE = 2
} gs_schedule_kind;
typedef struct gs_schedule {
    gs_schedule_kind kind;
    float base_lr;
    long warmup_steps; /* linear warm-up from 0 (cosine and step) */
    long total_steps;  /* cosine: decays to min_lr at total_steps */
    float min_lr;
    long step_size; /* step: multiply by gamma every step_size steps */
    float gamma;
} gs_schedule;
float gs_schedule_lr(const gs_schedule *s, long step);

#endif
