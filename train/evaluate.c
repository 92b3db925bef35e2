/* Evaluation through the deployed path (evaluate.h): classifies every file
 * with gs_classify_file and keeps the confusion matrix, printed as text,
 * JSON or a gnuplot .dat. */
#include "evaluate.h"

#include "genrescope/verdict.h"

#include <math.h>
#include <string.h>

#include "genrescope/classify.h"
#include "genrescope/outfile.h"

void gs_confusion_init(gs_confusion *c, const char *const *labels, int num_labels)
{
    memset(c, 0, sizeof *c);
    c->num_labels = num_labels;
    for (int i = 0; i < num_labels; i++)
        snprintf(c->labels[i], GS_MAX_LABEL_LENGTH, "%s", labels[i]);
}

void gs_confusion_add(gs_confusion *c, int truth, int predicted)
{
    c->total++;
    if (predicted < 0) {
        c->silent++;
        return;
    }
    c->counts[truth][predicted]++;
    c->correct += truth == predicted;
}

void gs_confusion_merge(gs_confusion *a, const gs_confusion *b)
{
    for (int i = 0; i < a->num_labels; i++)
        for (int j = 0; j < a->num_labels; j++)
            a->counts[i][j] += b->counts[i][j];
    a->total += b->total;
    a->correct += b->correct;
    a->failed += b->failed;
    a->silent += b->silent;
}

double gs_confusion_accuracy(const gs_confusion *c)
{
    return c->total ? (double)c->correct / c->total : NAN;
}

double gs_confusion_precision(const gs_confusion *c, int l)
{
    int predicted = 0;
    for (int t = 0; t < c->num_labels; t++)
        predicted += c->counts[t][l];
    return predicted ? (double)c->counts[l][l] / predicted : NAN;
}

double gs_confusion_recall(const gs_confusion *c, int l)
{
    int n = 0;
    for (int p = 0; p < c->num_labels; p++)
        n += c->counts[l][p];
    return n ? (double)c->counts[l][l] / n : NAN;
}

gs_status gs_evaluate_model(const gs_model *model, const gs_dataset *ds, const int *use, gs_confusion *c,
                            int *predicted, float *probabilities, FILE *warn, gs_error *err)
{
    const int nl = gs_model_num_labels(model);
    gs_classifier *cls = gs_classifier_new(model, NULL, err);
    if (!cls)
        return err ? err->code : GS_ERR_MODEL;
    for (int i = 0; i < ds->num_items; i++) {
        if (use && !use[i])
            continue;
        gs_track_result r;
        gs_error e;
        gs_error_clear(&e);
        if (gs_classify_file(cls, ds->items[i].path, &r, &e) != GS_OK) {
            if (warn)
                fprintf(warn, "warning: cannot classify %s: %s\n", ds->items[i].path, e.message);
            c->failed++;
            if (predicted)
                predicted[i] = -2;
            continue;
        }
        /* "Not music" is an answer: its own column of the confusion. */
        int answer = r.verdict == GS_VERDICT_NOT_MUSIC ? gs_model_not_music_label(model) : r.top_label;
        gs_confusion_add(c, ds->items[i].label, answer);
        if (predicted)
            predicted[i] = answer;
        if (probabilities)
            for (int l = 0; l < nl && l < r.num_labels; l++)
                probabilities[(size_t)i * nl + l] = r.probabilities[l];
        gs_track_result_free(&r);
    }
    gs_classifier_free(cls);
    return GS_OK;
}

static void print_pct(FILE *out, double v)
{
    if (isnan(v))
        fprintf(out, "     -");
    else
        fprintf(out, " %5.1f", 100.0 * v);
}

void gs_confusion_print(const gs_confusion *c, FILE *out)
{
    fprintf(out, "accuracy: %.1f%% (%d/%d)", 100.0 * gs_confusion_accuracy(c), c->correct, c->total);
    if (c->failed)
        fprintf(out, ", %d file(s) could not be read", c->failed);
    if (c->silent)
        fprintf(out, ", %d silent file(s) counted wrong", c->silent);
    fprintf(out, "\n\n%-12s %6s %6s %6s\n", "label", "prec%", "rec%", "n");
    for (int l = 0; l < c->num_labels; l++) {
        int n = 0;
        for (int p = 0; p < c->num_labels; p++)
            n += c->counts[l][p];
        fprintf(out, "%-12.12s", c->labels[l]);
        print_pct(out, gs_confusion_precision(c, l));
        print_pct(out, gs_confusion_recall(c, l));
        fprintf(out, " %6d\n", n);
    }
    fprintf(out, "\nconfusion (rows: true, columns: predicted)\n%-12s", "");
    for (int p = 0; p < c->num_labels; p++)
        fprintf(out, " %5.5s", c->labels[p]);
    fputc('\n', out);
    for (int t = 0; t < c->num_labels; t++) {
        fprintf(out, "%-12.12s", c->labels[t]);
        for (int p = 0; p < c->num_labels; p++)
            fprintf(out, " %5d", c->counts[t][p]);
        fputc('\n', out);
    }
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", *s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void json_number(FILE *out, double v)
{
    if (isnan(v))
        fprintf(out, "null");
    else
        fprintf(out, "%.6g", v);
}

void gs_confusion_print_json(const gs_confusion *c, const char *model_id, FILE *out)
{
    fprintf(out, "{\"model\":");
    json_string(out, model_id ? model_id : "");
    fprintf(out, ",\"accuracy\":");
    json_number(out, gs_confusion_accuracy(c));
    fprintf(out, ",\"correct\":%d,\"total\":%d,\"failed\":%d,\"silent\":%d,\"labels\":[", c->correct, c->total,
            c->failed, c->silent);
    for (int l = 0; l < c->num_labels; l++) {
        if (l)
            fputc(',', out);
        json_string(out, c->labels[l]);
    }
    fprintf(out, "],\"per_class\":{");
    for (int l = 0; l < c->num_labels; l++) {
        if (l)
            fputc(',', out);
        json_string(out, c->labels[l]);
        fprintf(out, ":{\"precision\":");
        json_number(out, gs_confusion_precision(c, l));
        fprintf(out, ",\"recall\":");
        json_number(out, gs_confusion_recall(c, l));
        fputc('}', out);
    }
    fprintf(out, "},\"confusion\":[");
    for (int t = 0; t < c->num_labels; t++) {
        fprintf(out, "%s[", t ? "," : "");
        for (int p = 0; p < c->num_labels; p++)
            fprintf(out, "%s%d", p ? "," : "", c->counts[t][p]);
        fputc(']', out);
    }
    fprintf(out, "]}\n");
}

gs_status gs_confusion_write_dat(const gs_confusion *c, const char *path, gs_error *err)
{
    gs_outfile *out = gs_outfile_open(path, 0, err);
    FILE *f = out ? gs_outfile_stream(out) : NULL;
    if (!f) {
        gs_outfile_discard(out);
        return err ? err->code : GS_ERR_IO;
    }
    fprintf(f, "# confusion matrix, rows true, columns predicted:");
    for (int l = 0; l < c->num_labels; l++)
        fprintf(f, " %s", c->labels[l]);
    fputc('\n', f);
    for (int t = 0; t < c->num_labels; t++) {
        for (int p = 0; p < c->num_labels; p++)
            fprintf(f, "%s%d", p ? " " : "", c->counts[t][p]);
        fputc('\n', f);
    }
    return gs_outfile_commit(out, err);
}
