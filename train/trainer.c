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

typedef struct loop_state {
    gs_tnet *net;
    gs_optim *opt;
    gs_sampler sm;
    gs_band_table bands;
    float *inputs, *targets, *probs, *scratch, *clip_probs;
    int *order, *labels_batch, *clip_batch;
} loop_state;

static void loop_free(loop_state *s)
{
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
}

static gs_status validate(gs_tnet *net, const gs_train_config *cfg, const gs_dataset *ds, const gs_spec_set *set,
                          const gs_frontend_params *p, const int *use_valid, loop_state *s, float *loss,
                          float *acc, gs_error *err)
{
    int L = ds->num_labels, n = 0, correct = 0;
    double total = 0.0;
    for (int i = 0; i < ds->num_items; i++) {
        if (!use_valid[i])
            continue;
        int patches = 0;
        gs_status st = gs_tnet_predict_clip(net, cfg->batch, &set->specs[i], p, s->inputs, s->probs,
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

gs_tnet *gs_train(const gs_train_config *cfg, const gs_dataset *ds, const gs_spec_set *set,
                  const gs_frontend_params *p, const int *use_train, const int *use_valid, gs_train_stats *stats,
                  gs_error *err)
{
    memset(stats, 0, sizeof *stats);
    stats->valid_loss = stats->valid_acc = -1.0f;
    int L = ds->num_labels;
    if (cfg->batch < 2 || cfg->batch > 64)
        return gs_error_set(err, GS_ERR_INVALID, "batch size %d outside 2..64", cfg->batch), NULL;
    if (cfg->epochs < 1 || cfg->crops_per_clip < 1)
        return gs_error_set(err, GS_ERR_INVALID, "need epochs >= 1 and crops per clip >= 1"), NULL;
    loop_state s = {0};
    if (gs_sampler_init(&s.sm, cfg->balance, ds, set, p, use_train, err) != GS_OK)
        return NULL;
    int n_train = 0;
    for (int i = 0; i < ds->num_items; i++)
        n_train += use_train[i] != 0;
    if (n_train > s.sm.n_items && cfg->progress)
        fprintf(cfg->progress, "%s%snote: %d of %d training clips are silent throughout and are not trained on\n",
                cfg->tag ? cfg->tag : "", cfg->tag ? ": " : "", n_train - s.sm.n_items, n_train);
    n_train = s.sm.n_items;
    if (n_train < 2) {
        gs_sampler_free(&s.sm);
        return gs_error_set(err, GS_ERR_INVALID, "need at least 2 training clips with sound, have %d", n_train),
               NULL;
    }

    gs_tnet *net = cfg->init_model
                       ? gs_tnet_from_model(cfg->init_model, cfg->batch, cfg->replace_head ? L : 0, cfg->seed, err)
                       : gs_tnet_new(cfg->architecture_json, cfg->batch, cfg->seed, err);
    if (!net) {
        gs_sampler_free(&s.sm);
        return NULL;
    }
    int c, h, w;
    gs_tnet_input_shape(net, &c, &h, &w);
    if (c != 1 || h != p->n_mels || w != p->patch_frames || gs_tnet_num_outputs(net) != L) {
        gs_error_set(err, GS_ERR_INVALID,
                     "network input [%d,%d,%d] with %d outputs does not fit the data: need [1,%d,%d] (n_mels, "
                     "patch_frames) and %d outputs%s",
                     c, h, w, gs_tnet_num_outputs(net), p->n_mels, p->patch_frames, L,
                     cfg->init_model && !cfg->replace_head ? " (use --replace-head for a new label set)" : "");
        gs_sampler_free(&s.sm);
        gs_tnet_free(net);
        return NULL;
    }
    s.net = net;
    size_t size = (size_t)p->n_mels * p->patch_frames;
    long per_epoch = (long)n_train * cfg->crops_per_clip;
    long steps_per_epoch = per_epoch / cfg->batch > 0 ? per_epoch / cfg->batch : 1;
    s.opt = gs_optim_new(&cfg->optim, net, err);
    s.inputs = malloc((size_t)cfg->batch * size * sizeof(float));
    s.scratch = malloc(gs_make_batch_scratch(cfg->batch, p) * sizeof(float));
    s.targets = malloc((size_t)cfg->batch * L * sizeof(float));
    s.probs = malloc((size_t)cfg->batch * L * sizeof(float));
    s.clip_probs = malloc((size_t)L * sizeof(float));
    s.order = malloc((size_t)(per_epoch > cfg->batch ? per_epoch : cfg->batch) * sizeof(int));
    s.labels_batch = malloc((size_t)cfg->batch * sizeof(int));
    s.clip_batch = malloc((size_t)cfg->batch * sizeof(int));
    if (!s.opt || !s.inputs || !s.scratch || !s.targets || !s.probs || !s.clip_probs || !s.order ||
        !s.labels_batch || !s.clip_batch) {
        if (s.opt)
            gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        loop_free(&s);
        gs_tnet_free(net);
        return NULL;
    }
    if (cfg->augment.lowpass_p > 0.0f && gs_band_table_init(&s.bands, p, err) != GS_OK) {
        loop_free(&s);
        gs_tnet_free(net);
        return NULL;
    }
    gs_schedule sched = {GS_SCHEDULE_COSINE,
                         cfg->optim.lr,
                         (long)(cfg->warmup_epochs * steps_per_epoch),
                         steps_per_epoch * cfg->epochs,
                         cfg->optim.lr * cfg->min_lr_ratio,
                         0,
                         1.0f};
    gs_rng rng;
    gs_rng_seed(&rng, cfg->seed);
    gs_checkpoint_state ck = {0, 0, rng.state, cfg->seed};
    const char *labels[GS_MAX_LABELS];
    for (int l = 0; l < L; l++)
        labels[l] = ds->labels[l];

    struct stat sb;
    if (cfg->checkpoint && cfg->resume && stat(cfg->checkpoint, &sb) == 0) {
        if (gs_checkpoint_load(cfg->checkpoint, net, s.opt, labels, L, p, &ck, err) != GS_OK) {
            loop_free(&s);
            gs_tnet_free(net);
            return NULL;
        }
        if (ck.seed != cfg->seed && cfg->progress)
            fprintf(cfg->progress, "note: checkpoint was started with seed %llu; continuing with its RNG state\n",
                    (unsigned long long)ck.seed);
        rng.state = ck.rng_state;
        if (cfg->progress)
            fprintf(cfg->progress, "%s%sresuming from %s after epoch %d/%d\n", cfg->tag ? cfg->tag : "",
                    cfg->tag ? ": " : "", cfg->checkpoint, ck.epoch, cfg->epochs);
    }
    FILE *csv = NULL;
    if (cfg->csv_log) {
        int fresh = !(ck.epoch > 0 && stat(cfg->csv_log, &sb) == 0);
        csv = gs_output_open_in_place(cfg->csv_log, !fresh, err);
        if (!csv) {
            gs_error_prefix(err, "training log");
            loop_free(&s);
            gs_tnet_free(net);
            return NULL;
        }
        if (fresh)
            fprintf(csv, "epoch,lr,train_loss,train_acc,valid_loss,valid_acc,seconds\n");
    }
    double session_start = now_seconds();
    int epochs_this_session = cfg->epochs - ck.epoch;
    gs_status st = GS_OK;
    int first_epoch = ck.epoch;
    double train_seconds = 0.0;
    for (int epoch = ck.epoch; epoch < cfg->epochs && st == GS_OK; epoch++) {
        if (cfg->stop_after_epochs > 0 && epoch - first_epoch >= cfg->stop_after_epochs) {
            stats->stopped_early = 1;
            break;
        }
        double t0 = now_seconds();
        long k = per_epoch;
        gs_sampler_epoch(&s.sm, cfg->crops_per_clip, &rng, s.order, k);
        double loss_sum = 0.0;
        long correct = 0, seen = 0;
        float lr = 0.0f;
        for (long b = 0; b < steps_per_epoch && st == GS_OK; b++) {
            for (int j = 0; j < cfg->batch; j++) {
                s.clip_batch[j] = s.order[(b * cfg->batch + j) % k];
                s.labels_batch[j] = ds->items[s.clip_batch[j]].label;
            }
            gs_make_batch(set, s.clip_batch, s.labels_batch, cfg->batch, L, p, &cfg->augment,
                          cfg->augment.lowpass_p > 0.0f ? &s.bands : NULL, &rng, s.inputs, s.targets, s.scratch);
            st = gs_tnet_forward(net, s.inputs, cfg->batch, 1, gs_rng_next(&rng), s.probs, NULL, err);
            if (st != GS_OK)
                break;
            float loss = gs_tnet_backward(net, s.targets, cfg->batch);
            lr = gs_schedule_lr(&sched, ck.step);
            gs_optim_step(s.opt, lr);
            ck.step++;
            if (!isfinite(loss)) {
                st = gs_error_set(err, GS_ERR_INTERNAL,
                                  "loss became %g at epoch %d step %ld: lower --lr (now %g)", (double)loss,
                                  epoch + 1, b + 1, (double)cfg->optim.lr);
                break;
            }
            loss_sum += loss;
            for (int j = 0; j < cfg->batch; j++)
                correct += gs_argmax(s.probs + j * L, L) == gs_argmax(s.targets + j * L, L);
            seen += cfg->batch;
            if (cfg->progress && cfg->progress_tty) {
                double done = (epoch - ck.epoch) + (double)(b + 1) / steps_per_epoch;
                double eta = (now_seconds() - session_start) / done * (epochs_this_session - done);
                char eta_s[32];
                format_duration(eta_s, sizeof eta_s, eta);
                fprintf(cfg->progress, "\r%s%sepoch %d/%d  step %ld/%ld  loss %.3f  acc %.1f%%  lr %.2e  ETA %s   ",
                        cfg->tag ? cfg->tag : "", cfg->tag ? "  " : "", epoch + 1, cfg->epochs, b + 1,
                        steps_per_epoch, loss_sum / (b + 1), 100.0 * correct / seen, (double)lr, eta_s);
                fflush(cfg->progress);
            }
        }
        if (st != GS_OK)
            break;
        train_seconds += now_seconds() - t0;
        stats->train_loss = (float)(loss_sum / steps_per_epoch);
        stats->train_acc = (float)correct / (float)seen;
        if (use_valid)
            st = validate(net, cfg, ds, set, p, use_valid, &s, &stats->valid_loss, &stats->valid_acc, err);
        if (st != GS_OK)
            break;
        double secs = now_seconds() - t0;
        ck.epoch = epoch + 1;
        ck.rng_state = rng.state;
        stats->epochs_run++;
        if (cfg->checkpoint)
            st = gs_checkpoint_save(cfg->checkpoint, net, s.opt, labels, L, p, &ck, err);
        if (csv) {
            fprintf(csv, "%d,%.6g,%.5f,%.5f,%.5f,%.5f,%.3f\n", epoch + 1, (double)lr, (double)stats->train_loss,
                    (double)stats->train_acc, (double)stats->valid_loss, (double)stats->valid_acc, secs);
            fflush(csv);
        }
        if (cfg->progress) {
            double eta = (now_seconds() - session_start) / stats->epochs_run * (cfg->epochs - ck.epoch);
            char eta_s[32];
            format_duration(eta_s, sizeof eta_s, eta);
            char valid[64] = "";
            if (use_valid)
                snprintf(valid, sizeof valid, "  valid loss %.3f acc %.1f%%", (double)stats->valid_loss,
                         100.0 * stats->valid_acc);
            fprintf(cfg->progress, "%s%s%sepoch %d/%d  loss %.3f  acc %.1f%%%s  %.1fs/epoch  ETA %s\n",
                    cfg->progress_tty ? "\r" : "", cfg->tag ? cfg->tag : "", cfg->tag ? "  " : "", epoch + 1,
                    cfg->epochs, (double)stats->train_loss, 100.0 * stats->train_acc, valid, secs, eta_s);
            fflush(cfg->progress);
        }
    }
    if (csv)
        fclose(csv);
    stats->epochs_done = ck.epoch;
    if (stats->epochs_run)
        stats->seconds_per_epoch = train_seconds / stats->epochs_run;
    loop_free(&s);
    if (st != GS_OK) {
        gs_tnet_free(net);
        return NULL;
    }
    return net;
}
