/* Evaluation through the deployed path: every file goes through
 * gs_classify_file (decode, front-end, patches, averaging) exactly as the
 * tagger and plugin see it. Results are a confusion matrix over the model's
 * labels with accuracy and per-class precision/recall. */
#ifndef GS_TRAIN_EVALUATE_H
#define GS_TRAIN_EVALUATE_H

#include <stdio.h>

#include "dataset.h"
#include "genrescope/model.h"

typedef struct gs_confusion {
    int num_labels;
    char labels[GS_MAX_LABELS][GS_MAX_LABEL_LENGTH];
    int counts[GS_MAX_LABELS][GS_MAX_LABELS]; /* [true][predicted] */
    int total, correct;
    int failed; /* files that could not be classified */
    int silent; /* files with no non-silent patch (counted wrong) */
} gs_confusion;

void gs_confusion_init(gs_confusion *c, const char *const *labels, int num_labels);
void gs_confusion_add(gs_confusion *c, int truth, int predicted);
/* Adds b's counts to a (same labels). */
void gs_confusion_merge(gs_confusion *a, const gs_confusion *b);
double gs_confusion_accuracy(const gs_confusion *c);
double gs_confusion_precision(const gs_confusion *c, int label); /* NAN if never predicted */
double gs_confusion_recall(const gs_confusion *c, int label);    /* NAN if no examples */

/* Classifies the items of ds (labels already indexed like the model's) for
 * which use[i] != 0 (use may be NULL), accumulating into c (initialised by
 * the caller). Files that fail are reported on warn and counted. When
 * predicted is not NULL (ds->num_items entries), predicted[i] receives
 * item i's answer: its genre, the model's not-music label when the verdict
 * is "not music", -1 when silent throughout, -2 when it could not be
 * classified. When probabilities is not NULL (ds->num_items x the model's
 * label count), row i receives item i's probabilities (calibrated by the
 * model's own calibration, if any). Entries of unused items are left
 * alone. */
gs_status gs_evaluate_model(const gs_model *model, const gs_dataset *ds, const int *use, gs_confusion *c,
                            int *predicted, float *probabilities, FILE *warn, gs_error *err);

void gs_confusion_print(const gs_confusion *c, FILE *out);
void gs_confusion_print_json(const gs_confusion *c, const char *model_id, FILE *out);
/* Gnuplot-friendly matrix: one row per true label, columns predicted. */
gs_status gs_confusion_write_dat(const gs_confusion *c, const char *path, gs_error *err);

#endif
