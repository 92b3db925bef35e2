/* genrescope-train: trains and evaluates genre models (see --help). This file
 * wires the pieces: data -> spectrogram cache -> folds -> training / baseline
 * -> evaluation through the deployed classifier -> model file. */
#include <cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dataset.h"
#include "evaluate.h"
#include "genrescope.h"

static int fail(const gs_error *err)
{
    fprintf(stderr, "genrescope-train: %s\n", err->message);
    return 1;
}

/* True when data is the folder or list the model's provenance says it was
 * trained from (same file after resolving links and relative paths). */
static int trained_on(const gs_model *model, const char *data)
{
    cJSON *prov = cJSON_Parse(gs_model_provenance_json(model));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(prov, "data");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(d, "source");
    char a[PATH_MAX], b[PATH_MAX];
    int same = cJSON_IsString(src) && realpath(src->valuestring, a) && realpath(data, b) && !strcmp(a, b);
    cJSON_Delete(prov);
    return same;
}

static int run_evaluate(const gs_train_cli *c)
{
    gs_error err;
    gs_error_clear(&err);
    gs_model *model =
        !strcmp(c->eval_model, "default") ? gs_model_load_default(&err) : gs_model_load(c->eval_model, &err);
    if (!model)
        return fail(&err);
    if (trained_on(model, c->eval_data))
        fprintf(stderr,
                "warning: the model was trained on %s (its provenance says so): accuracy on its own "
                "training data overstates what it does on other music\n",
                c->eval_data);
    int L = gs_model_num_labels(model);
    const char *labels[GS_MAX_LABELS];
    for (int l = 0; l < L; l++)
        labels[l] = gs_model_label(model, l);
    gs_dataset ds;
    struct stat sb;
    gs_status st = (stat(c->eval_data, &sb) == 0 && S_ISREG(sb.st_mode))
        ? gs_dataset_from_csv(&ds, c->eval_data, NULL, 0, &err)
        : gs_dataset_from_folder(&ds, c->eval_data, stderr, &err);
    if (st != GS_OK) {
        gs_model_free(model);
        return fail(&err);
    }
    /* Labels the model does not know cannot be scored; say so rather than
     * counting them wrong. */
    for (int l = 0; l < ds.num_labels; l++)
        if (gs_model_label_index(model, ds.labels[l]) < 0)
            fprintf(stderr, "warning: label '%s' is not one of the model's; its files are not scored\n", ds.labels[l]);
    int dropped = 0;
    st = gs_dataset_remap(&ds, labels, L, &dropped, &err);
    if (st != GS_OK) {
        gs_dataset_free(&ds);
        gs_model_free(model);
        return fail(&err);
    }
    gs_confusion conf;
    gs_confusion_init(&conf, labels, L);
    st = gs_evaluate_model(model, &ds, NULL, &conf, NULL, NULL, stderr, &err);
    if (st == GS_OK) {
        if (c->json)
            gs_confusion_print_json(&conf, gs_model_id(model), stdout);
        else {
            printf("model: %s\ndata: %s (%d files", gs_model_id(model), c->eval_data, ds.num_items);
            if (dropped)
                printf(", %d with unknown labels not scored", dropped);
            printf(")\n");
            gs_confusion_print(&conf, stdout);
        }
        if (c->confusion_dat)
            st = gs_confusion_write_dat(&conf, c->confusion_dat, &err);
    }
    gs_dataset_free(&ds);
    gs_model_free(model);
    return st == GS_OK ? 0 : fail(&err);
}

int main(int argc, char **argv)
{
    gs_train_cli c;
    int rc = gs_train_cli_parse(&c, argc, argv, stderr);
    if (rc)
        return rc;
    if (c.mode == GS_TRAIN_MODE_HELP) {
        gs_train_cli_usage(stdout);
        return 0;
    }
    if (c.mode == GS_TRAIN_MODE_VERSION) {
        printf("genrescope-train %s\n", GENRESCOPE_VERSION);
        return 0;
    }
    if (c.threads > 0)
        gs_net_set_blas_threads(c.threads);
    if (c.mode == GS_TRAIN_MODE_EVALUATE)
        return run_evaluate(&c);
    return gs_run_training(&c);
}
