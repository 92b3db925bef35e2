/* The training loop (trainer.h): sets up the sampler, net, optimiser and
 * buffers, resumes from a checkpoint, runs the epochs and reports them, and
 * predicts whole clips for validation as the classifier does. */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "sampler.h"
#include "genrescope/classify.h"
#include "rng.h"
#include "genrescope/outfile.h"

void gs_train_config_default(gs_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->epochs = 30;
    c->batch = 32;
    c->crops_per_clip = 8;
    c->balance = GS_BALANCE_GENRE;
    c->optim.kind = GS_OPTIM_ADAMW;
    c->optim.lr = 1e-3f;
    c->optim.momentum = 0.9f;
    c->optim.beta1 = 0.9f;
    c->optim.beta2 = 0.999f;
    c->optim.eps = 1e-8f;
    c->optim.weight_decay = 1e-2f;
    c->warmup_epochs = 2.0f;
    c->min_lr_ratio = 0.01f;
    c->seed = 1;
    gs_augment_default(&c->augment);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

gs_status gs_tnet_predict_clip(gs_tnet *net, int max_batch, const gs_spec *spec, const gs_frontend_params *p,
                               float *buffer, float *patch_probs, float *probs, int *num_patches, gs_error *err)
{
    int L = gs_tnet_num_outputs(net);
    size_t size = (size_t)p->n_mels * p->patch_frames;
    long long count = gs_patch_plan_count(p, spec->frames);
    int used = 0;
    for (int c = 0; c < L; c++)
        probs[c] = 0.0f;
    /* The classifier's patches in plan order; silent ones are skipped, as
     * gs_classifier skips them. Batches of up to max_batch. */
    for (long long k = 0; k < count;) {
        int b = 0;
        for (; k < count && b < max_batch; k++) {
            long long start = gs_patch_plan_start(p, spec->frames, k);
            if (gs_patch_is_silent(spec->rms + start, spec->frames - start, p->patch_frames))
                continue;
            gs_spec_patch(spec, p->n_mels, (int)start, p->patch_frames, p->patch_normalize, buffer + b * size);
            b++;
        }
        if (b == 0)
            break;
        gs_status st = gs_tnet_forward(net, buffer, b, 0, 0, patch_probs, NULL, err);
        if (st != GS_OK)
            return st;
        for (int j = 0; j < b; j++)
            for (int c = 0; c < L; c++)
                probs[c] += patch_probs[j * L + c];
        used += b;
    }
    if (used > 0)
        for (int c = 0; c < L; c++)
            probs[c] /= used;
    if (num_patches)
        *num_patches = used;
    return GS_OK;
}

static void format_duration(char *out, size_t n, double s)
{
    if (s < 0 || s > 1e7)
        snprintf(out, n, "?");
    else if (s >= 3600)
        snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, n, "%.0fs", s);
}

/* Everything one training run owns. loop_free releases all of it (the net
 * too, unless gs_train has handed it to its caller), so every failure takes
 * the same way out. Buffer shapes: B = cfg->batch, L = labels. */
typedef struct loop_state {
    const gs_train_config *cfg;
    const gs_dataset *ds;
    const gs_spec_set *set;
    const gs_frontend_params *p;
    int L;                /* labels = network outputs */
    long per_epoch;       /* crops drawn per epoch: clips with sound x crops_per_clip */
    long steps_per_epoch; /* optimiser steps per epoch, >= 1 */
    gs_tnet *net;
    gs_optim *opt;
    gs_sampler sm;
    gs_band_table bands; /* filled only when the low-pass or pitch augmentation is on */
    FILE *csv;           /* the per-epoch log, or NULL */
    float *inputs;       /* [B][n_mels][patch_frames] batch, also validation patches */
    float *targets;      /* [B][L] soft targets after mixup / smoothing */
    float *probs;        /* [B][L] network outputs */
    float *scratch;      /* gs_make_batch_scratch(B) floats */
    float *clip_probs;   /* [L] one validation clip's mean probabilities */
    int *order;          /* [max(per_epoch, B)] the epoch's clip per crop */
    int *labels_batch;   /* [B] */
    int *clip_batch;     /* [B] */
} loop_state;

static void loop_free(loop_state *s)
{
    if (s->csv)
        fclose(s->csv);
    gs_tnet_free(s->net);
    gs_optim_free(s->opt);
    gs_sampler_free(&s->sm);
    gs_band_table_free(&s->bands);
    free(s->inputs);
    free(s->targets);
    free(s->probs);
    free(s->scratch);
    free(s->clip_probs);
    free(s->order);
    free(s->labels_batch);
    free(s->clip_batch);
    memset(s, 0, sizeof *s);
}

/* Mean loss and accuracy over the clips with use_valid[i], each scored as
 * the classifier scores a whole clip. */
static gs_status validate(loop_state *s, const int *use_valid, float *loss, float *acc, gs_error *err)
{
    const gs_dataset *ds = s->ds;
    int L = s->L, n = 0, correct = 0;
    double total = 0.0;
    for (int i = 0; i < ds->num_items; i++) {
        if (!use_valid[i])
            continue;
        int patches = 0;
        gs_status st = gs_tnet_predict_clip(s->net, s->cfg->batch, &s->set->specs[i], s->p, s->inputs, s->probs,
                                            s->clip_probs, &patches, err);
        if (st != GS_OK)
            return st;
        int y = ds->items[i].label;
        total += -log(s->clip_probs[y] > 1e-12f ? s->clip_probs[y] : 1e-12f);
        /* All silent: no verdict, wrong (as gs_confusion_add counts it). */
        correct += patches > 0 && gs_argmax(s->clip_probs, L) == y;
        n++;
    }
    *loss = n ? (float)(total / n) : -1.0f;
    *acc = n ? (float)correct / n : -1.0f;
    return GS_OK;
}

static gs_status check_config(const gs_train_config *cfg, gs_error *err)
{
    if (cfg->batch < 2 || cfg->batch > 64)
        return gs_error_set(err, GS_ERR_INVALID, "batch size %d outside 2..64", cfg->batch);
    if (cfg->epochs < 1 || cfg->crops_per_clip < 1)
        return gs_error_set(err, GS_ERR_INVALID, "need epochs >= 1 and crops per clip >= 1");
    return GS_OK;
}

/* The sampler over the training clips that have sound; the silent ones are
 * noted on the progress stream, and fewer than two left is an error. Sets
 * per_epoch and steps_per_epoch from the clips kept. */
static gs_status init_sampler(loop_state *s, const int *use_train, gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    gs_status st = gs_sampler_init(&s->sm, cfg->balance, s->ds, s->set, s->p, use_train, err);
    if (st != GS_OK)
        return st;
    int n_train = 0;
    for (int i = 0; i < s->ds->num_items; i++)
        n_train += use_train[i] != 0;
    if (n_train > s->sm.n_items && cfg->progress)
        fprintf(cfg->progress, "%s%snote: %d of %d training clips are silent throughout and are not trained on\n",
                cfg->tag ? cfg->tag : "", cfg->tag ? ": " : "", n_train - s->sm.n_items, n_train);
    n_train = s->sm.n_items;
    if (n_train < 2)
        return gs_error_set(err, GS_ERR_INVALID, "need at least 2 training clips with sound, have %d", n_train);
    s->per_epoch = (long)n_train * cfg->crops_per_clip;
    s->steps_per_epoch = s->per_epoch / cfg->batch > 0 ? s->per_epoch / cfg->batch : 1;
    return GS_OK;
}

/* A fresh net from the architecture, or one started from cfg->init_model;
 * either must take one-channel patches of the front-end's shape and have an
 * output per label. */
static gs_status init_net(loop_state *s, gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    const gs_frontend_params *p = s->p;
    s->net = cfg->init_model
        ? gs_tnet_from_model(cfg->init_model, cfg->batch, cfg->replace_head ? s->L : 0, cfg->seed, err)
        : gs_tnet_new(cfg->architecture_json, cfg->batch, cfg->seed, err);
    if (!s->net)
        return GS_ERR_INVALID; /* err says why */
    int c, h, w;
    gs_tnet_input_shape(s->net, &c, &h, &w);
    if (c != 1 || h != p->n_mels || w != p->patch_frames || gs_tnet_num_outputs(s->net) != s->L)
        return gs_error_set(err, GS_ERR_INVALID,
                            "network input [%d,%d,%d] with %d outputs does not fit the data: need [1,%d,%d] "
                            "(n_mels, patch_frames) and %d outputs%s",
                            c, h, w, gs_tnet_num_outputs(s->net), p->n_mels, p->patch_frames, s->L,
                            cfg->init_model && !cfg->replace_head ? " (use --replace-head for a new label set)" : "");
    return GS_OK;
}

/* The optimiser, the batch buffers and (with low-pass augmentation) the
 * mel band table. */
static gs_status init_buffers(loop_state *s, gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    const gs_frontend_params *p = s->p;
    const int L = s->L;
    size_t size = (size_t)p->n_mels * p->patch_frames;
    s->opt = gs_optim_new(&cfg->optim, s->net, err);
    s->inputs = malloc((size_t)cfg->batch * size * sizeof(float));
    s->scratch = malloc(gs_make_batch_scratch(cfg->batch, p) * sizeof(float));
    s->targets = malloc((size_t)cfg->batch * L * sizeof(float));
    s->probs = malloc((size_t)cfg->batch * L * sizeof(float));
    s->clip_probs = malloc((size_t)L * sizeof(float));
    s->order = malloc((size_t)(s->per_epoch > cfg->batch ? s->per_epoch : cfg->batch) * sizeof(int));
    s->labels_batch = malloc((size_t)cfg->batch * sizeof(int));
    s->clip_batch = malloc((size_t)cfg->batch * sizeof(int));
    if (!s->opt)
        return GS_ERR_NOMEM; /* gs_optim_new filled err */
    if (!s->inputs || !s->scratch || !s->targets || !s->probs || !s->clip_probs || !s->order || !s->labels_batch ||
        !s->clip_batch)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    if (cfg->augment.lowpass_p > 0.0f || cfg->augment.pitch_semitones > 0.0f)
        return gs_band_table_init(&s->bands, p, err);
    return GS_OK;
}

/* With cfg->resume and an existing checkpoint: the net, optimiser, epoch,
 * step and RNG state continue from it. */
static gs_status resume_from_checkpoint(loop_state *s, const char *const *labels, gs_checkpoint_state *ck, gs_rng *rng,
                                        gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    struct stat sb;
    if (!(cfg->checkpoint && cfg->resume && stat(cfg->checkpoint, &sb) == 0))
        return GS_OK;
    gs_status st = gs_checkpoint_load(cfg->checkpoint, s->net, s->opt, labels, s->L, s->p, ck, err);
    if (st != GS_OK)
        return st;
    if (ck->seed != cfg->seed && cfg->progress)
        fprintf(cfg->progress, "note: checkpoint was started with seed %llu; continuing with its RNG state\n",
                (unsigned long long)ck->seed);
    rng->state = ck->rng_state;
    if (cfg->progress)
        fprintf(cfg->progress, "%s%sresuming from %s after epoch %d/%d\n", cfg->tag ? cfg->tag : "",
                cfg->tag ? ": " : "", cfg->checkpoint, ck->epoch, cfg->epochs);
    return GS_OK;
}

/* The CSV log: appended to when resuming a run whose log exists, else
 * started with its header. */
static gs_status open_log(loop_state *s, int resumed_epoch, gs_error *err)
{
    const char *path = s->cfg->csv_log;
    if (!path)
        return GS_OK;
    struct stat sb;
    int fresh = !(resumed_epoch > 0 && stat(path, &sb) == 0);
    s->csv = gs_output_open_in_place(path, !fresh, err);
    if (!s->csv) {
        gs_error_prefix(err, "training log");
        return GS_ERR_IO;
    }
    if (fresh)
        fprintf(s->csv, "epoch,lr,train_loss,train_acc,valid_loss,valid_acc,seconds\n");
    return GS_OK;
}

/* What one epoch's steps add up to. */
typedef struct epoch_sums {
    double loss_sum;
    long correct, seen;
    float lr; /* of the last step */
} epoch_sums;

/* One epoch of optimisation steps: the epoch's crops are drawn, then batch
 * by batch augmented, run forward and backward, and stepped. On a terminal
 * the progress line is redrawn after every step. Fails when the network
 * does or the loss stops being finite. */
static gs_status train_steps(loop_state *s, int epoch, const gs_schedule *sched, gs_rng *rng, gs_checkpoint_state *ck,
                             double session_start, int first_epoch, int epochs_this_session, epoch_sums *sums,
                             gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    const int L = s->L;
    const long k = s->per_epoch;
    gs_sampler_epoch(&s->sm, cfg->crops_per_clip, rng, s->order, k);
    *sums = (epoch_sums){0.0, 0, 0, 0.0f};
    for (long b = 0; b < s->steps_per_epoch; b++) {
        for (int j = 0; j < cfg->batch; j++) {
            s->clip_batch[j] = s->order[(b * cfg->batch + j) % k];
            s->labels_batch[j] = s->ds->items[s->clip_batch[j]].label;
        }
        gs_make_batch(s->set, s->clip_batch, s->labels_batch, cfg->batch, L, s->p, &cfg->augment,
                      s->bands.cdf ? &s->bands : NULL, rng, s->inputs, s->targets, s->scratch);
        gs_status st = gs_tnet_forward(s->net, s->inputs, cfg->batch, 1, gs_rng_next(rng), s->probs, NULL, err);
        if (st != GS_OK)
            return st;
        float loss = gs_tnet_backward(s->net, s->targets, cfg->batch);
        sums->lr = gs_schedule_lr(sched, ck->step);
        gs_optim_step(s->opt, sums->lr);
        ck->step++;
        if (!isfinite(loss))
            return gs_error_set(err, GS_ERR_INTERNAL, "loss became %g at epoch %d step %ld: lower --lr (now %g)",
                                (double)loss, epoch + 1, b + 1, (double)cfg->optim.lr);
        sums->loss_sum += loss;
        for (int j = 0; j < cfg->batch; j++)
            sums->correct += gs_argmax(s->probs + j * L, L) == gs_argmax(s->targets + j * L, L);
        sums->seen += cfg->batch;
        if (cfg->progress && cfg->progress_tty) {
            /* Epochs done this session: the ETA is this session's pace. */
            double done = (epoch - first_epoch) + (double)(b + 1) / s->steps_per_epoch;
            double eta = (now_seconds() - session_start) / done * (epochs_this_session - done);
            char eta_s[32];
            format_duration(eta_s, sizeof eta_s, eta);
            fprintf(cfg->progress, "\r%s%sepoch %d/%d  step %ld/%ld  loss %.3f  acc %.1f%%  lr %.2e  ETA %s   ",
                    cfg->tag ? cfg->tag : "", cfg->tag ? "  " : "", epoch + 1, cfg->epochs, b + 1, s->steps_per_epoch,
                    sums->loss_sum / (b + 1), 100.0 * sums->correct / sums->seen, (double)sums->lr, eta_s);
            fflush(cfg->progress);
        }
    }
    return GS_OK;
}

/* The epoch's CSV log line and progress line. */
static void report_epoch(const loop_state *s, int epoch, int epochs_done, float lr, const gs_train_stats *stats,
                         int validated, double secs, double session_start)
{
    const gs_train_config *cfg = s->cfg;
    if (s->csv) {
        fprintf(s->csv, "%d,%.6g,%.5f,%.5f,%.5f,%.5f,%.3f\n", epoch + 1, (double)lr, (double)stats->train_loss,
                (double)stats->train_acc, (double)stats->valid_loss, (double)stats->valid_acc, secs);
        fflush(s->csv);
    }
    if (cfg->progress) {
        double eta = (now_seconds() - session_start) / stats->epochs_run * (cfg->epochs - epochs_done);
        char eta_s[32];
        format_duration(eta_s, sizeof eta_s, eta);
        char valid[64] = "";
        if (validated)
            snprintf(valid, sizeof valid, "  valid loss %.3f acc %.1f%%", (double)stats->valid_loss,
                     100.0 * stats->valid_acc);
        fprintf(cfg->progress, "%s%s%sepoch %d/%d  loss %.3f  acc %.1f%%%s  %.1fs/epoch  ETA %s\n",
                cfg->progress_tty ? "\r" : "", cfg->tag ? cfg->tag : "", cfg->tag ? "  " : "", epoch + 1, cfg->epochs,
                (double)stats->train_loss, 100.0 * stats->train_acc, valid, secs, eta_s);
        fflush(cfg->progress);
    }
}

/* Epochs from ck->epoch to cfg->epochs (or until stop_after_epochs): each
 * trains, validates, checkpoints, logs and reports. */
static gs_status run_epochs(loop_state *s, const int *use_valid, const char *const *labels, gs_rng *rng,
                            gs_checkpoint_state *ck, gs_train_stats *stats, gs_error *err)
{
    const gs_train_config *cfg = s->cfg;
    const gs_frontend_params *p = s->p;
    gs_schedule sched = {GS_SCHEDULE_COSINE,
                         cfg->optim.lr,
                         (long)(cfg->warmup_epochs * s->steps_per_epoch),
                         s->steps_per_epoch * cfg->epochs,
                         cfg->optim.lr * cfg->min_lr_ratio,
                         0,
                         1.0f};
    double session_start = now_seconds();
    int epochs_this_session = cfg->epochs - ck->epoch;
    gs_status st = GS_OK;
    int first_epoch = ck->epoch;
    double train_seconds = 0.0;
    for (int epoch = ck->epoch; epoch < cfg->epochs && st == GS_OK; epoch++) {
        if (cfg->stop_after_epochs > 0 && epoch - first_epoch >= cfg->stop_after_epochs) {
            stats->stopped_early = 1;
            break;
        }
        double t0 = now_seconds();
        epoch_sums sums;
        st = train_steps(s, epoch, &sched, rng, ck, session_start, first_epoch, epochs_this_session, &sums, err);
        if (st != GS_OK)
            break;
        train_seconds += now_seconds() - t0;
        stats->train_loss = (float)(sums.loss_sum / s->steps_per_epoch);
        stats->train_acc = (float)sums.correct / (float)sums.seen;
        if (use_valid)
            st = validate(s, use_valid, &stats->valid_loss, &stats->valid_acc, err);
        if (st != GS_OK)
            break;
        double secs = now_seconds() - t0;
        ck->epoch = epoch + 1;
        ck->rng_state = rng->state;
        stats->epochs_run++;
        if (cfg->checkpoint)
            st = gs_checkpoint_save(cfg->checkpoint, s->net, s->opt, labels, s->L, p, ck, err);
        report_epoch(s, epoch, ck->epoch, sums.lr, stats, use_valid != NULL, secs, session_start);
    }
    stats->epochs_done = ck->epoch;
    if (stats->epochs_run)
        stats->seconds_per_epoch = train_seconds / stats->epochs_run;
    return st;
}

gs_tnet *gs_train(const gs_train_config *cfg, const gs_dataset *ds, const gs_spec_set *set, const gs_frontend_params *p,
                  const int *use_train, const int *use_valid, gs_train_stats *stats, gs_error *err)
{
    memset(stats, 0, sizeof *stats);
    stats->valid_loss = stats->valid_acc = -1.0f;
    if (check_config(cfg, err) != GS_OK)
        return NULL;
    loop_state s = {.cfg = cfg, .ds = ds, .set = set, .p = p, .L = ds->num_labels};
    gs_rng rng;
    gs_checkpoint_state ck = {0};
    const char *labels[GS_MAX_LABELS];
    for (int l = 0; l < s.L; l++)
        labels[l] = ds->labels[l];
    gs_status st = init_sampler(&s, use_train, err);
    if (st == GS_OK)
        st = init_net(&s, err);
    if (st == GS_OK)
        st = init_buffers(&s, err);
    if (st == GS_OK) {
        gs_rng_seed(&rng, cfg->seed);
        ck = (gs_checkpoint_state){0, 0, rng.state, cfg->seed};
        st = resume_from_checkpoint(&s, labels, &ck, &rng, err);
    }
    if (st == GS_OK)
        st = open_log(&s, ck.epoch, err);
    if (st == GS_OK)
        st = run_epochs(&s, use_valid, labels, &rng, &ck, stats, err);
    gs_tnet *net = NULL;
    if (st == GS_OK) {
        net = s.net; /* the caller's now */
        s.net = NULL;
    }
    loop_free(&s);
    return net;
}
