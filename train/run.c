/* The training command: data -> spectrogram cache -> split -> (baseline,
 * cross-validated CNN) -> final model with provenance. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "baseline.h"
#include "cli.h"
#include "crossval.h"
#include "dataset.h"
#include "evaluate.h"
#include "genrescope.h"
#include "spec_cache.h"
#include "tnet.h"
#include "trainer.h"
#include "calibrate.h"
#include "genrescope/verdict.h"
#include "genrescope/outfile.h"

typedef struct run_ctx {
    const gs_train_cli *cli;
    gs_frontend_params params;
    gs_model *init_model;
    gs_dataset ds;
    gs_spec_set set;
    char *arch;
    char design[128];
    int *fold;
    int num_folds; /* k-fold: k; given split: 1 (fold 1 = valid) */
    int given_split;
    int not_music_label; /* index of the --not-music label, or -1 */
    char split_desc[9000];
    cJSON *summary;
    double started;
} run_ctx;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const gs_error *err)
{
    fprintf(stderr, "genrescope-train: %s\n", err->message);
    return 1;
}

static void default_cache_dir_for(char *out, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0]) {
        snprintf(out, n, "%s/genrescope-train", xdg);
    } else if (home && home[0]) {
        char parent[4000];
        snprintf(parent, sizeof parent, "%s/.cache", home);
        mkdir(parent, 0777);
        snprintf(out, n, "%s/genrescope-train", parent);
    } else {
        out[0] = '\0'; /* no cache: a fixed name in /tmp is anybody's to plant */
    }
}

static int split_labels(const char *list, char names[][GS_MAX_LABEL_LENGTH], const char **ptrs)
{
    int n = 0;
    const char *s = list;
    while (*s && n < GS_MAX_LABELS) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len > 0 && len < GS_MAX_LABEL_LENGTH) {
            memcpy(names[n], s, len);
            names[n][len] = '\0';
            ptrs[n] = names[n];
            n++;
        }
        if (!e)
            break;
        s = e + 1;
    }
    return n;
}

static gs_status load_data(run_ctx *r, gs_error *err)
{
    const gs_train_cli *c = r->cli;
    char names[GS_MAX_LABELS][GS_MAX_LABEL_LENGTH];
    const char *allowed[GS_MAX_LABELS];
    int num_allowed = 0;
    if (c->labels)
        num_allowed = split_labels(c->labels, names, allowed);
    else if (r->init_model && !c->replace_head) {
        num_allowed = gs_model_num_labels(r->init_model);
        for (int l = 0; l < num_allowed; l++)
            allowed[l] = gs_model_label(r->init_model, l);
    }
    gs_status st;
    if (c->csv) {
        st = gs_dataset_from_csv(&r->ds, c->csv, allowed, num_allowed, err);
    } else if (c->tags_dir) {
        int untagged = 0;
        st = gs_dataset_from_tags(&r->ds, c->tags_dir, &untagged, stderr, err);
        if (st == GS_OK && untagged)
            fprintf(stderr, "note: %d file(s) without a genre tag are not used\n", untagged);
    } else {
        st = gs_dataset_from_folder(&r->ds, c->data_dir, stderr, err);
    }
    if (st != GS_OK)
        return st;
    if (num_allowed > 0) {
        for (int l = 0; l < r->ds.num_labels; l++) {
            int known = 0;
            for (int a = 0; a < num_allowed; a++)
                known |= !strcmp(allowed[a], r->ds.labels[l]);
            if (!known)
                fprintf(stderr, "warning: label '%s' is not in the label set; its files are not used\n",
                        r->ds.labels[l]);
        }
        int dropped = 0;
        st = gs_dataset_remap(&r->ds, allowed, num_allowed, &dropped, err);
        if (st != GS_OK)
            return st;
    }
    r->not_music_label = -1;
    if (c->not_music_dir) {
        if (r->init_model && !c->replace_head && gs_model_label_index(r->init_model, GS_NOT_MUSIC_LABEL) < 0)
            return gs_error_set(err, GS_ERR_INVALID,
                                "--not-music adds a label the --init-from model lacks: add --replace-head");
        int added = 0;
        st = gs_dataset_add_folder(&r->ds, c->not_music_dir, GS_NOT_MUSIC_LABEL, &added, err);
        if (st != GS_OK)
            return st;
        for (int l = 0; l < r->ds.num_labels; l++)
            if (!strcmp(r->ds.labels[l], GS_NOT_MUSIC_LABEL))
                r->not_music_label = l;
        if (!c->quiet)
            fprintf(stderr, "not music: %d training-only examples from %s\n", added, c->not_music_dir);
    }
    return gs_dataset_check_trainable(&r->ds, 2, err);
}

/* Not-music examples only ever train: in every fold, in the final model,
 * never held out. */
#define TRAIN_ONLY (-2)

static void mark_train_only(run_ctx *r)
{
    for (int i = 0; i < r->ds.num_items; i++)
        if (r->ds.items[i].label == r->not_music_label)
            r->fold[i] = TRAIN_ONLY;
}

static gs_status make_split(run_ctx *r, gs_error *err)
{
    const gs_train_cli *c = r->cli;
    r->fold = malloc((size_t)r->ds.num_items * sizeof *r->fold);
    if (!r->fold)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    char tpath[4200], vpath[4200];
    const char *tl = c->split_train, *vl = c->split_valid;
    if (!tl && c->auto_split && c->data_dir) {
        snprintf(tpath, sizeof tpath, "%s/train.txt", c->data_dir);
        snprintf(vpath, sizeof vpath, "%s/valid.txt", c->data_dir);
        if (access(tpath, R_OK) == 0 && access(vpath, R_OK) == 0) {
            tl = tpath;
            vl = vpath;
        }
    }
    if (tl) {
        int missing = 0;
        gs_status st = gs_split_from_lists(&r->ds, tl, vl, r->fold, &missing, err);
        if (st != GS_OK)
            return st;
        if (missing)
            fprintf(stderr, "note: %d name(s) in the split lists have no audio here\n", missing);
        r->given_split = 1;
        r->num_folds = 1;
        snprintf(r->split_desc, sizeof r->split_desc, "given split %s / %s", tl, vl);
        mark_train_only(r);
        return GS_OK;
    }
    if (c->cv_folds) {
        r->num_folds = c->cv_folds;
        gs_status st;
        if (c->shuffled_folds) {
            snprintf(r->split_desc, sizeof r->split_desc,
                     "%d-fold cross-validation stratified by label, shuffled with fold seed %llu", c->cv_folds,
                     (unsigned long long)c->fold_seed);
            st = gs_stratified_folds(&r->ds, c->cv_folds, c->fold_seed, r->fold, err);
        } else {
            snprintf(r->split_desc, sizeof r->split_desc,
                     "%d-fold cross-validation stratified by label, contiguous runs of path order", c->cv_folds);
            st = gs_contiguous_folds(&r->ds, c->cv_folds, r->fold, err);
        }
        mark_train_only(r);
        return st;
    }
    for (int i = 0; i < r->ds.num_items; i++)
        r->fold[i] = -1;
    snprintf(r->split_desc, sizeof r->split_desc, "none (all data used for training)");
    return GS_OK;
}

/* Train/valid masks for fold k (given split: k is ignored, fold 0 trains). */
static void fold_masks(const run_ctx *r, int k, int *use_train, int *use_valid)
{
    for (int i = 0; i < r->ds.num_items; i++) {
        int f = r->fold[i];
        if (f == TRAIN_ONLY) {
            use_train[i] = 1;
            use_valid[i] = 0;
        } else if (r->given_split) {
            use_train[i] = f == 0;
            use_valid[i] = f == 1;
        } else {
            use_train[i] = f != k;
            use_valid[i] = f == k;
        }
    }
}

static double mean_of(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : NAN;
}

/* Sample standard deviation across folds (n - 1). */
static double std_of(const double *v, int n)
{
    if (n < 2)
        return 0.0;
    double m = mean_of(v, n), s = 0.0;
    for (int i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    return sqrt(s / (n - 1));
}

static cJSON *fold_results_json(const double *acc, int n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "accuracy_mean", mean_of(acc, n));
    cJSON_AddNumberToObject(o, "accuracy_std", std_of(acc, n));
    cJSON_AddItemToObject(o, "per_fold", cJSON_CreateDoubleArray(acc, n));
    return o;
}

static gs_status run_baseline(run_ctx *r, gs_error *err)
{
    int n = r->ds.num_items, dim = 2 * r->params.n_mels;
    float *x = malloc((size_t)n * dim * sizeof *x);
    int *y = malloc((size_t)n * sizeof *y), *use_train = malloc((size_t)n * sizeof(int)),
        *use_valid = malloc((size_t)n * sizeof(int));
    double acc[100];
    float probs[GS_MAX_LABELS];
    gs_status st = GS_OK;
    if (!x || !y || !use_train || !use_valid) {
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        gs_baseline_features(&r->set.specs[i], r->params.n_mels, x + (size_t)i * dim);
        y[i] = r->ds.items[i].label;
    }
    double t0 = now_seconds();
    for (int k = 0; k < r->num_folds && st == GS_OK; k++) {
        fold_masks(r, k, use_train, use_valid);
        gs_logreg m;
        st = gs_logreg_fit(&m, x, y, use_train, n, dim, r->ds.num_labels, 1e-2f, 1000, err);
        if (st != GS_OK)
            break;
        int correct = 0, total = 0;
        for (int i = 0; i < n; i++)
            if (use_valid[i]) {
                correct += gs_logreg_predict(&m, x + (size_t)i * dim, probs) == y[i];
                total++;
            }
        acc[k] = total ? (double)correct / total : NAN;
        gs_logreg_free(&m);
        if (!r->cli->quiet)
            fprintf(stderr, "baseline fold %d/%d: %.1f%% (%d/%d)\n", k + 1, r->num_folds, 100.0 * acc[k], correct,
                    total);
    }
    if (st == GS_OK) {
        printf("baseline (logistic regression on band mean+std): %.1f%% +- %.1f (%s, %.2fs)\n",
               100.0 * mean_of(acc, r->num_folds), 100.0 * std_of(acc, r->num_folds), r->split_desc,
               now_seconds() - t0);
        cJSON *b = fold_results_json(acc, r->num_folds);
        cJSON_AddStringToObject(b, "method",
                                "multinomial logistic regression, L2 1e-2, on per-band mean and std "
                                "of the clip's log-mel spectrogram");
        cJSON_AddItemToObject(r->summary, "baseline", b);
    }
out:
    free(x);
    free(y);
    free(use_train);
    free(use_valid);
    return st;
}

static cJSON *augment_json(const gs_augment_config *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "crops", "random patch crops");
    cJSON_AddNumberToObject(o, "gain_db", a->gain_db);
    cJSON_AddNumberToObject(o, "time_masks", a->time_masks);
    cJSON_AddNumberToObject(o, "time_mask_max", a->time_mask_max);
    cJSON_AddNumberToObject(o, "freq_masks", a->freq_masks);
    cJSON_AddNumberToObject(o, "freq_mask_max", a->freq_mask_max);
    cJSON_AddNumberToObject(o, "mixup_alpha", a->mixup_alpha);
    cJSON_AddNumberToObject(o, "label_smoothing", a->label_smoothing);
    cJSON_AddNumberToObject(o, "lowpass_p", a->lowpass_p);
    cJSON_AddNumberToObject(o, "pitch_semitones", a->pitch_semitones);
    cJSON_AddNumberToObject(o, "tempo", a->tempo);
    if (a->lowpass_p > 0.0f) {
        cJSON_AddNumberToObject(o, "lowpass_min_hz", a->lowpass_min_hz);
        cJSON_AddNumberToObject(o, "lowpass_max_hz", a->lowpass_max_hz);
    }
    return o;
}

static const char *balance_desc(gs_balance b)
{
    switch (b) {
    case GS_BALANCE_NONE: return "none: every clip crops_per_clip times";
    case GS_BALANCE_GENRE_LENGTH: return "genre-length: a genre uniformly, then one of its clips by non-silent length";
    default: return "genre: a genre uniformly, then one of its clips uniformly";
    }
}

static cJSON *recipe_json(const run_ctx *r)
{
    const gs_train_config *t = &r->cli->train;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "design", r->design);
    cJSON_AddNumberToObject(o, "epochs", t->epochs);
    cJSON_AddNumberToObject(o, "batch", t->batch);
    cJSON_AddNumberToObject(o, "crops_per_clip", t->crops_per_clip);
    cJSON_AddStringToObject(o, "balance", balance_desc(t->balance));
    cJSON_AddStringToObject(o, "patch_plan",
                            "the core's patch plan in training crops and scoring: short clips "
                            "repeated to one patch, silent patches skipped");
    cJSON_AddStringToObject(o, "optimizer", t->optim.kind == GS_OPTIM_ADAMW ? "adamw" : "sgd");
    cJSON_AddNumberToObject(o, "lr", t->optim.lr);
    cJSON_AddNumberToObject(o, "weight_decay", t->optim.weight_decay);
    cJSON_AddStringToObject(o, "schedule", "cosine with linear warm-up");
    cJSON_AddNumberToObject(o, "warmup_epochs", t->warmup_epochs);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON *aug = augment_json(&t->augment);
    const gs_clip_variant_config *cv = &r->cli->clip;
    if (cv->count > 0) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "variants_per_clip", cv->count);
        cJSON_AddNumberToObject(c, "gain_db_min", cv->min_db);
        cJSON_AddNumberToObject(c, "gain_db_max", cv->max_db);
        cJSON_AddStringToObject(c, "method",
                                "waveform scaled by a gain fixed by the seed and the clip, hard-clipped "
                                "to [-1,1], through the same front-end; training crops draw from the "
                                "original or a variant; never used for validation");
        cJSON_AddItemToObject(aug, "clip_variants", c);
    }
    cJSON_AddItemToObject(o, "augmentation", aug);
    if (r->cli->init_from) {
        cJSON_AddStringToObject(o, "init_from", r->cli->init_from);
        cJSON_AddBoolToObject(o, "replace_head", r->cli->replace_head);
    }
    return o;
}

static void fold_file(char *out, size_t n, const char *base, const char *suffix, int k)
{
    if (snprintf(out, n, "%s.fold%d%s", base, k + 1, suffix) >= (int)n)
        out[0] = '\0'; /* unreachable for paths the OS accepts */
}

/* Points labels[0 .. num_labels) at the dataset's label names (borrowed). */
static void label_names(const run_ctx *r, const char **labels)
{
    for (int l = 0; l < r->ds.num_labels; l++)
        labels[l] = r->ds.labels[l];
}

/* Writes net as a complete model file (tensors, labels, front-end,
 * architecture, provenance). */
/* Sets metadata key to obj as compact JSON; a NULL obj sets nothing. */
static gs_status set_json_metadata(gs_model_writer *w, const char *key, const cJSON *obj, gs_error *err)
{
    if (!obj)
        return GS_OK;
    char *text = cJSON_PrintUnformatted(obj);
    gs_status st =
        text ? gs_model_writer_set_metadata(w, key, text, err) : gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    free(text);
    return st;
}

static gs_status write_model(const run_ctx *r, const gs_tnet *net, const char *path, cJSON *provenance,
                             const cJSON *calibration, const cJSON *tagging, const cJSON *not_music_decision,
                             gs_error *err)
{
    gs_model_writer *w = gs_model_writer_new();
    if (!w)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    const char *labels[GS_MAX_LABELS];
    label_names(r, labels);
    gs_status st = gs_tnet_export(net, w, err);
    if (st == GS_OK)
        st = gs_model_writer_set_standard_metadata(w, labels, r->ds.num_labels, &r->params, err);
    if (st == GS_OK)
        st = provenance ? set_json_metadata(w, "provenance", provenance, err)
                        : gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    if (st == GS_OK && r->not_music_label >= 0)
        st = gs_model_writer_set_metadata(w, "not_music_label", r->ds.labels[r->not_music_label], err);
    if (st == GS_OK)
        st = set_json_metadata(w, "calibration", calibration, err);
    if (st == GS_OK)
        st = set_json_metadata(w, "tagging", tagging, err);
    if (st == GS_OK)
        st = set_json_metadata(w, "not_music_decision", not_music_decision, err);
    if (st == GS_OK)
        st = gs_model_writer_save(w, path, err);
    gs_model_writer_free(w);
    return st;
}

static void train_config_for(const run_ctx *r, gs_train_config *t, const char *checkpoint, const char *log,
                             const char *tag)
{
    *t = r->cli->train;
    t->architecture_json = r->arch;
    t->init_model = r->init_model;
    t->replace_head = r->cli->replace_head;
    t->checkpoint = checkpoint;
    t->resume = r->cli->resume;
    t->csv_log = log;
    t->progress = r->cli->quiet ? NULL : stderr;
    t->progress_tty = !r->cli->quiet && isatty(fileno(stderr));
    t->tag = tag;
    t->stop_after_epochs = r->cli->stop_after;
}

#define NOT_HELD_OUT (-3)

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* --predictions: one line per held-out clip, as gs_evaluate_model scored it,
 * with the probability of every label (uncalibrated: fold models carry no
 * calibration), which is what --calibrate-from fits on. */
static gs_status write_predictions(const run_ctx *r, const int *predicted, const float *probs, const char *path,
                                   gs_error *err)
{
    gs_outfile *out = gs_outfile_open(path, GS_OUTFILE_ALLOW_STDOUT, err);
    FILE *f = out ? gs_outfile_stream(out) : NULL;
    if (!f) {
        gs_outfile_discard(out);
        return err ? err->code : GS_ERR_IO;
    }
    fprintf(f, "stem,fold,label,predicted");
    for (int l = 0; l < r->ds.num_labels; l++) {
        fputs(",", f);
        char col[GS_MAX_LABEL_LENGTH + 3];
        snprintf(col, sizeof col, "p_%s", r->ds.labels[l]);
        csv_field(f, col);
    }
    fputc('\n', f);
    for (int i = 0; i < r->ds.num_items; i++) {
        int p = predicted[i];
        if (p == NOT_HELD_OUT)
            continue;
        /* The fold as --cv numbers it (1..K); a given split's held-out list is "valid". */
        char fold[16];
        if (r->given_split)
            snprintf(fold, sizeof fold, "valid");
        else
            snprintf(fold, sizeof fold, "%d", r->fold[i] + 1);
        csv_field(f, r->ds.items[i].stem);
        fprintf(f, ",%s,", fold);
        csv_field(f, r->ds.labels[r->ds.items[i].label]);
        fputc(',', f);
        csv_field(f, p >= 0 ? r->ds.labels[p] : p == -1 ? "(silent)" : "(error)");
        for (int l = 0; l < r->ds.num_labels; l++)
            fprintf(f, ",%.9g", (double)probs[(size_t)i * r->ds.num_labels + l]);
        fputc('\n', f);
    }
    return gs_outfile_commit(out, err);
}

/* What the folds of a cross-validation scored (at most 100 folds, the
 * CLI's limit): accuracy through the classifier, on spectrogram patches,
 * seconds per epoch, and the pooled confusion. */
typedef struct cv_scores {
    double acc[100], epoch_secs[100], spec_acc[100];
    gs_confusion total;
} cv_scores;

/* Fold k: trains on the others, writes the fold's model and scores it
 * through the deployed path (load the file, classify the held-out audio)
 * into predicted, probs and sc; removes the fold's files once scored. */
static gs_status cv_fold(run_ctx *r, int k, const char *work, int *use_train, int *use_valid, int *predicted,
                         float *probs, cv_scores *sc, gs_error *err)
{
    fold_masks(r, k, use_train, use_valid);
    char ckpt[4200], log[4200], model_path[4200], tag[200];
    fold_file(ckpt, sizeof ckpt, work, ".ckpt", k);
    fold_file(model_path, sizeof model_path, work, ".safetensors", k);
    log[0] = '\0';
    if (r->cli->log_csv)
        fold_file(log, sizeof log, r->cli->log_csv, ".csv", k);
    snprintf(tag, sizeof tag, "%s fold %d/%d", r->design, k + 1, r->num_folds);
    gs_train_config t;
    train_config_for(r, &t, ckpt, log[0] ? log : NULL, tag);
    gs_train_stats stats;
    gs_tnet *net = gs_train(&t, &r->ds, &r->set, &r->params, use_train, use_valid, &stats, err);
    if (!net)
        return err->code;
    cJSON *prov = cJSON_CreateObject();
    cJSON_AddStringToObject(prov, "note", "cross-validation fold model (not for deployment)");
    gs_status st = write_model(r, net, model_path, prov, NULL, NULL, NULL, err);
    cJSON_Delete(prov);
    gs_tnet_free(net);
    if (st != GS_OK)
        return st;
    gs_model *m = gs_model_load(model_path, err);
    if (!m)
        return err->code;
    const char *labels[GS_MAX_LABELS];
    label_names(r, labels);
    gs_confusion conf;
    gs_confusion_init(&conf, labels, r->ds.num_labels);
    st = gs_evaluate_model(m, &r->ds, use_valid, &conf, predicted, probs, stderr, err);
    gs_model_free(m);
    if (st != GS_OK)
        return st;
    sc->acc[k] = gs_confusion_accuracy(&conf);
    sc->spec_acc[k] = stats.valid_acc;
    sc->epoch_secs[k] = stats.seconds_per_epoch;
    gs_confusion_merge(&sc->total, &conf);
    if (!r->cli->quiet)
        fprintf(stderr,
                "%s fold %d/%d: accuracy %.1f%% (%d/%d) through the classifier, %.1f%% on spectrogram "
                "patches; %.2fs/epoch\n",
                r->design, k + 1, r->num_folds, 100.0 * sc->acc[k], conf.correct, conf.total, 100.0 * sc->spec_acc[k],
                sc->epoch_secs[k]);
    unlink(ckpt);
    char optim_path[4300];
    snprintf(optim_path, sizeof optim_path, "%s.optim", ckpt);
    unlink(optim_path);
    if (!r->cli->keep_fold_models)
        unlink(model_path);
    return GS_OK;
}

/* Prints the cross-validation's result (and its pooled confusion unless
 * quiet), records it in the summary as "cv" and writes --confusion-dat.
 * t0: when the folds started. */
static gs_status cv_report(run_ctx *r, const cv_scores *sc, double t0, gs_error *err)
{
    int k = r->num_folds;
    printf("%s: %.1f%% +- %.1f accuracy (%s), %.2f s/epoch, %.0f s total\n", r->design, 100.0 * mean_of(sc->acc, k),
           100.0 * std_of(sc->acc, k), r->split_desc, mean_of(sc->epoch_secs, k), now_seconds() - t0);
    cJSON *cv = fold_results_json(sc->acc, k);
    cJSON_AddStringToObject(cv, "split", r->split_desc);
    cJSON_AddStringToObject(cv, "scored_by", "gs_classify_file on the held-out fold's audio (deployment path)");
    cJSON_AddNumberToObject(cv, "seconds_per_epoch", mean_of(sc->epoch_secs, k));
    cJSON_AddNumberToObject(cv, "seconds_total", now_seconds() - t0);
    cJSON *cm = cJSON_CreateArray();
    for (int t = 0; t < sc->total.num_labels; t++)
        cJSON_AddItemToArray(cm, cJSON_CreateIntArray(sc->total.counts[t], sc->total.num_labels));
    cJSON_AddItemToObject(cv, "confusion", cm);
    cJSON_AddItemToObject(r->summary, "cv", cv);
    if (!r->cli->quiet) {
        printf("\npooled confusion over the %d held-out folds:\n", k);
        gs_confusion_print(&sc->total, stdout);
    }
    if (r->cli->confusion_dat)
        return gs_confusion_write_dat(&sc->total, r->cli->confusion_dat, err);
    return GS_OK;
}

/* A cross-validation with neither -o nor --summary to name its fold files
 * after (--cv-only) keeps them in a folder of its own under $TMPDIR (or
 * /tmp): never in the working directory, never shared with another run. */
static gs_status make_scratch_dir(char *out, size_t size, gs_error *err)
{
    const char *base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    if (snprintf(out, size, "%s/genrescope-train-cv.XXXXXX", base) >= (int)size)
        return gs_error_set(err, GS_ERR_IO, "TMPDIR is too long: %s", base);
    if (!mkdtemp(out))
        return gs_error_set_errno(err, errno, "cannot make a scratch folder in %s", base);
    return GS_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    remove(path);
    return 0;
}

static gs_status run_cv(run_ctx *r, const char *work, gs_error *err)
{
    int n = r->ds.num_items;
    int *use_train = malloc((size_t)n * sizeof(int)), *use_valid = malloc((size_t)n * sizeof(int)),
        *predicted = malloc((size_t)n * sizeof(int));
    float *probs = calloc((size_t)n * (size_t)r->ds.num_labels, sizeof *probs);
    cv_scores sc;
    gs_status st = GS_OK;
    double t0 = 0.0;
    if (!use_train || !use_valid || !predicted || !probs) {
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    } else {
        for (int i = 0; i < n; i++)
            predicted[i] = NOT_HELD_OUT;
        const char *labels[GS_MAX_LABELS];
        label_names(r, labels);
        gs_confusion_init(&sc.total, labels, r->ds.num_labels);
        t0 = now_seconds();
        for (int k = 0; k < r->num_folds && st == GS_OK; k++)
            st = cv_fold(r, k, work, use_train, use_valid, predicted, probs, &sc, err);
        if (st == GS_OK && r->cli->predictions)
            st = write_predictions(r, predicted, probs, r->cli->predictions, err);
    }
    if (st == GS_OK)
        st = cv_report(r, &sc, t0, err);
    free(use_train);
    free(use_valid);
    free(predicted);
    free(probs);
    return st;
}

static cJSON *data_json(const run_ctx *r)
{
    const gs_train_cli *c = r->cli;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "source", c->csv ? c->csv : c->tags_dir ? c->tags_dir : c->data_dir);
    cJSON_AddStringToObject(d, "labelled_by", c->csv ? "csv" : c->tags_dir ? "genre tags" : "folder names");
    cJSON_AddNumberToObject(d, "clips", r->ds.num_items);
    cJSON_AddNumberToObject(d, "skipped_unreadable", r->set.failed);
    int counts[GS_MAX_LABELS];
    gs_dataset_counts(&r->ds, counts);
    cJSON *per = cJSON_CreateObject();
    double seconds = 0.0;
    for (int l = 0; l < r->ds.num_labels; l++)
        cJSON_AddNumberToObject(per, r->ds.labels[l], counts[l]);
    for (int i = 0; i < r->set.count; i++)
        seconds += (double)r->set.specs[i].frames * r->params.hop_length / r->params.sample_rate;
    cJSON_AddItemToObject(d, "clips_per_label", per);
    cJSON_AddNumberToObject(d, "total_seconds", round(seconds));
    return d;
}

static cJSON *read_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        char *t = realloc(text, len + got + 1);
        if (!t) {
            free(text);
            fclose(f);
            return NULL;
        }
        text = t;
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    if (!text)
        return NULL;
    text[len] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* The final model's provenance: trainer, data, recipe, size, training
 * time (since t0) and loss, this run's cross-validation and baseline, then
 * the keys of --provenance-extra (which win), and the date. *out is the
 * caller's to delete; NULL on error. Errors: GS_ERR_FORMAT when the extra
 * file is not a JSON object. */
static gs_status final_provenance(const run_ctx *r, const gs_tnet *net, int used, double t0,
                                  const gs_train_stats *stats, cJSON **out, gs_error *err)
{
    *out = NULL;
    cJSON *prov = cJSON_CreateObject();
    cJSON_AddStringToObject(prov, "trainer", "genrescope-train " GENRESCOPE_VERSION);
    cJSON_AddItemToObject(prov, "data", data_json(r));
    cJSON_AddNumberToObject(prov, "trained_on_clips", used);
    cJSON_AddStringToObject(prov, "trained_on", r->given_split ? "train + valid lists" : "all clips");
    cJSON_AddItemToObject(prov, "recipe", recipe_json(r));
    cJSON_AddNumberToObject(prov, "parameters", (double)gs_tnet_total_parameters(net));
    cJSON_AddNumberToObject(prov, "train_seconds", round(now_seconds() - t0));
    cJSON_AddNumberToObject(prov, "final_train_loss", stats->train_loss);
    cJSON *cv = cJSON_GetObjectItem(r->summary, "cv");
    if (cv)
        cJSON_AddItemToObject(prov, "validation", cJSON_Duplicate(cv, 1));
    cJSON *base = cJSON_GetObjectItem(r->summary, "baseline");
    if (base)
        cJSON_AddItemToObject(prov, "baseline", cJSON_Duplicate(base, 1));
    if (r->cli->provenance_extra) {
        cJSON *extra = read_json_file(r->cli->provenance_extra);
        if (!extra) {
            cJSON_Delete(prov);
            return gs_error_set(err, GS_ERR_FORMAT, "%s is not a JSON object", r->cli->provenance_extra);
        }
        cJSON *item = extra->child;
        while (item) {
            cJSON *next = item->next;
            cJSON_DeleteItemFromObject(prov, item->string);
            cJSON_AddItemToObject(prov, item->string, cJSON_DetachItemViaPointer(extra, item));
            item = next;
        }
        cJSON_Delete(extra);
    }
    time_t now = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    cJSON_AddStringToObject(prov, "date", date);
    *out = prov;
    return GS_OK;
}

/* The final model's optional metadata, each NULL when not asked for: the
 * calibration fitted from --calibrate-from (printed unless quiet), and
 * --tagging and --not-music-decision as read. The caller deletes all three,
 * on error too. Errors: the calibration's, GS_ERR_FORMAT for a file that is
 * not a JSON object. */
static gs_status final_metadata(const run_ctx *r, cJSON **calibration, cJSON **tagging, cJSON **not_music_decision,
                                gs_error *err)
{
    gs_status st = GS_OK;
    if (r->cli->calibrate_from) {
        const char *labels[GS_MAX_LABELS];
        label_names(r, labels);
        st = gs_calibration_from_predictions(r->cli->calibrate_from, labels, r->ds.num_labels, calibration, err);
        if (st == GS_OK && !r->cli->quiet) {
            char *text = cJSON_PrintUnformatted(*calibration);
            printf("calibration: %s\n", text ? text : "");
            free(text);
        }
    }
    if (st == GS_OK && r->cli->tagging_json && !(*tagging = read_json_file(r->cli->tagging_json)))
        st = gs_error_set(err, GS_ERR_FORMAT, "%s is not a JSON object", r->cli->tagging_json);
    if (st == GS_OK && r->cli->not_music_decision_json &&
        !(*not_music_decision = read_json_file(r->cli->not_music_decision_json)))
        st = gs_error_set(err, GS_ERR_FORMAT, "%s is not a JSON object", r->cli->not_music_decision_json);
    return st;
}

/* Loads the written model the way the tagger and the plugin will, then
 * says what was written. */
static gs_status check_written_model(const run_ctx *r, gs_error *err)
{
    gs_model *m = gs_model_load(r->cli->output, err);
    if (!m)
        return err->code;
    gs_net *check = gs_net_from_model(m, err);
    if (!check) {
        gs_model_free(m);
        return err->code;
    }
    struct stat sb;
    stat(r->cli->output, &sb);
    printf("wrote %s (%s, %.2f MB, %d labels)\n", r->cli->output, gs_model_id(m), sb.st_size / 1e6,
           gs_model_num_labels(m));
    gs_net_free(check);
    gs_model_free(m);
    return GS_OK;
}

static gs_status run_final(run_ctx *r, gs_error *err)
{
    int n = r->ds.num_items;
    int *use = malloc((size_t)n * sizeof(int));
    if (!use)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    int used = 0;
    for (int i = 0; i < n; i++) {
        use[i] = !r->given_split || r->fold[i] >= 0 || r->fold[i] == TRAIN_ONLY;
        used += use[i];
    }
    char ckpt[4200];
    if (r->cli->checkpoint)
        snprintf(ckpt, sizeof ckpt, "%s", r->cli->checkpoint);
    else
        snprintf(ckpt, sizeof ckpt, "%s.ckpt", r->cli->output);
    char tag[160];
    snprintf(tag, sizeof tag, "%s final", r->design);
    gs_train_config t;
    train_config_for(r, &t, ckpt, r->cli->log_csv, tag);
    gs_train_stats stats;
    double t0 = now_seconds();
    gs_tnet *net = gs_train(&t, &r->ds, &r->set, &r->params, use, NULL, &stats, err);
    free(use);
    if (!net)
        return err->code;
    if (stats.stopped_early) {
        printf("stopped after epoch %d of %d; checkpoint %s; rerun with --resume to continue\n", stats.epochs_done,
               t.epochs, ckpt);
        gs_tnet_free(net);
        return GS_OK;
    }
    cJSON *prov = NULL, *calibration = NULL, *tagging = NULL, *not_music_decision = NULL;
    gs_status st = final_provenance(r, net, used, t0, &stats, &prov, err);
    if (st == GS_OK)
        st = final_metadata(r, &calibration, &tagging, &not_music_decision, err);
    if (st == GS_OK)
        st = write_model(r, net, r->cli->output, prov, calibration, tagging, not_music_decision, err);
    cJSON_Delete(calibration);
    cJSON_Delete(tagging);
    cJSON_Delete(not_music_decision);
    cJSON_Delete(prov);
    gs_tnet_free(net);
    return st == GS_OK ? check_written_model(r, err) : st;
}

static int write_summary(const run_ctx *r)
{
    if (!r->cli->summary)
        return 0;
    cJSON_AddStringToObject(r->summary, "design", r->design);
    cJSON_AddItemToObject(r->summary, "recipe", recipe_json(r));
    cJSON_AddItemToObject(r->summary, "data", data_json(r));
    char *text = cJSON_Print(r->summary);
    gs_error err;
    gs_error_clear(&err);
    gs_outfile *out = gs_outfile_open(r->cli->summary, GS_OUTFILE_ALLOW_STDOUT, &err);
    FILE *f = out ? gs_outfile_stream(out) : NULL;
    int ok = text && f && fputs(text, f) >= 0;
    free(text);
    if (ok)
        ok = gs_outfile_commit(out, &err) == GS_OK;
    else
        gs_outfile_discard(out);
    if (!ok)
        fprintf(stderr, "genrescope-train: --summary: %s\n", err.message[0] ? err.message : "cannot write");
    return ok ? 0 : 1;
}

static void design_name(run_ctx *r)
{
    const gs_train_cli *c = r->cli;
    if (c->design_name) {
        snprintf(r->design, sizeof r->design, "%s", c->design_name);
    } else if (c->arch_path) {
        const char *b = strrchr(c->arch_path, '/');
        snprintf(r->design, sizeof r->design, "%s", b ? b + 1 : c->arch_path);
        char *dot = strrchr(r->design, '.');
        if (dot)
            *dot = '\0';
    } else if (c->init_from) {
        snprintf(r->design, sizeof r->design, "fine-tuned");
    } else {
        snprintf(r->design, sizeof r->design, "shortchunk-w%d", c->width);
    }
}

static void run_free(run_ctx *r)
{
    gs_spec_set_free(&r->set);
    gs_dataset_free(&r->ds);
    gs_model_free(r->init_model);
    free(r->arch);
    free(r->fold);
    cJSON_Delete(r->summary);
}

/* The JSON files whose objects go into the final model, read before
 * training so a typo fails in a second rather than after the last epoch. */
static gs_status check_metadata_files(const gs_train_cli *c, gs_error *err)
{
    const char *files[] = {c->provenance_extra, c->tagging_json, c->not_music_decision_json};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (!files[i])
            continue;
        cJSON *doc = read_json_file(files[i]);
        cJSON_Delete(doc);
        if (!doc)
            return gs_error_set(err, GS_ERR_FORMAT, "%s: not a readable JSON object", files[i]);
    }
    return GS_OK;
}

/* The architecture, checked before the data is read and its spectrograms
 * computed, so a net the core could not load fails in a second rather than
 * at export. The label count is not known yet; the head's size cannot make
 * a valid architecture invalid, so a stand-in count of 2 is checked. */
static gs_status check_architecture(const run_ctx *r, gs_error *err)
{
    const gs_train_cli *c = r->cli;
    if (r->init_model) {
        gs_status st = gs_tnet_check_architecture(gs_model_architecture_json(r->init_model), err);
        if (st != GS_OK)
            gs_error_prefix(err, c->init_from);
        return st;
    }
    char *arch = c->arch_path ? gs_arch_load_adapted(c->arch_path, &r->params, 2, err)
                              : gs_arch_shortchunk(&r->params, 2, c->width, c->dropout);
    if (!arch)
        return err->code != GS_OK ? err->code : gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    gs_status st = gs_tnet_check_architecture(arch, err);
    free(arch);
    if (st != GS_OK && c->arch_path)
        gs_error_prefix(err, c->arch_path);
    return st;
}

int gs_run_training(const gs_train_cli *c)
{
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.not_music_label = -1;
    r.cli = c;
    r.started = now_seconds();
    r.summary = cJSON_CreateObject();
    gs_error err;
    gs_error_clear(&err);
    gs_status st = GS_OK;
    gs_frontend_params_default(&r.params);
    if (c->init_from) {
        r.init_model = gs_model_load(c->init_from, &err);
        if (!r.init_model)
            return run_free(&r), fail(&err);
        r.params = *gs_model_frontend(r.init_model);
    }
    if (c->log_offset > 0.0f && !c->init_from)
        r.params.log_offset = c->log_offset;
    if (c->patch_hop > 0) {
        r.params.patch_hop_frames = c->patch_hop;
        if (gs_frontend_params_validate(&r.params, &err) != GS_OK)
            return run_free(&r), fail(&err);
    }
    design_name(&r);
    st = check_architecture(&r, &err);
    if (st == GS_OK)
        st = check_metadata_files(c, &err);
    if (st == GS_OK)
        st = load_data(&r, &err);
    if (st == GS_OK) {
        char cache[4096];
        if (c->cache_dir)
            snprintf(cache, sizeof cache, "%s", c->cache_dir);
        else
            default_cache_dir_for(cache, sizeof cache);
        double t0 = now_seconds();
        const char *cache_dir = c->no_cache || !cache[0] ? NULL : cache;
        st = gs_spec_set_load(&r.set, &r.ds, &r.params, cache_dir, stderr, &err);
        if (st == GS_OK)
            st = gs_spec_set_add_clip_variants(&r.set, &r.ds, &r.params, &c->clip, cache_dir, &err);
        if (st == GS_OK && !c->quiet) {
            int counts[GS_MAX_LABELS];
            gs_dataset_counts(&r.ds, counts);
            fprintf(stderr, "data: %d clips, %d labels (", r.ds.num_items, r.ds.num_labels);
            for (int l = 0; l < r.ds.num_labels; l++)
                fprintf(stderr, "%s%s %d", l ? ", " : "", r.ds.labels[l], counts[l]);
            fprintf(stderr, "); spectrograms: %d computed, %d from cache, %d unreadable skipped (%.1fs)\n",
                    r.set.computed, r.set.cached, r.set.failed, now_seconds() - t0);
            if (r.set.num_variants)
                fprintf(stderr, "clip variants (training only): %d per clip, %d computed, %d from cache\n",
                        r.set.num_variants, r.set.variants_computed, r.set.variants_cached);
        }
    }
    if (st == GS_OK)
        st = gs_dataset_check_trainable(&r.ds, 2, &err);
    if (st == GS_OK)
        st = make_split(&r, &err);
    if (st == GS_OK && !c->init_from) {
        r.arch = c->arch_path ? gs_arch_load_adapted(c->arch_path, &r.params, r.ds.num_labels, &err)
                              : gs_arch_shortchunk(&r.params, r.ds.num_labels, c->width, c->dropout);
        if (!r.arch)
            st = err.code != GS_OK ? err.code : gs_error_set(&err, GS_ERR_NOMEM, "out of memory");
    }
    if (st == GS_OK && c->export_dir) {
        st = gs_spec_set_export(&r.set, &r.ds, r.fold, &r.params, c->export_dir, &err);
        if (st == GS_OK) {
            /* Tells the reference script how to read the fold column. */
            char p[4200];
            snprintf(p, sizeof p, "%.4000s/split.txt", c->export_dir);
            gs_outfile *out = gs_outfile_open(p, 0, &err);
            FILE *f = out ? gs_outfile_stream(out) : NULL;
            if (f && fprintf(f, "%s %d\n", r.given_split ? "given" : "kfold", r.num_folds) > 0)
                st = gs_outfile_commit(out, &err);
            else {
                gs_outfile_discard(out);
                st = err.code != GS_OK ? err.code : gs_error_set(&err, GS_ERR_IO, "cannot write %s", p);
            }
        }
        if (st == GS_OK && !c->quiet)
            fprintf(stderr, "exported %d spectrograms to %s\n", r.set.count, c->export_dir);
    }
    if (st == GS_OK && c->baseline && r.num_folds)
        st = run_baseline(&r, &err);
    if (st == GS_OK && r.num_folds && !c->final_only && (c->output || c->cv_only)) {
        char work[4200], scratch[4100] = "";
        if (c->output)
            snprintf(work, sizeof work, "%s", c->output);
        else if (c->summary)
            snprintf(work, sizeof work, "%s", c->summary);
        else if ((st = make_scratch_dir(scratch, sizeof scratch, &err)) == GS_OK)
            snprintf(work, sizeof work, "%s/cv", scratch);
        if (st == GS_OK)
            st = run_cv(&r, work, &err);
        if (scratch[0])
            nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (st == GS_OK && c->output && !c->cv_only)
        st = run_final(&r, &err);
    int rc = st == GS_OK ? write_summary(&r) : fail(&err);
    run_free(&r);
    return rc;
}
