/* `genrescope classify FILE...`: the verdict for each file on stdout, one
 * clear line per failure on stderr. With --json, one JSON object per line
 * per file, so scripts can rely on it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_common.h"
#include "commands.h"
#include "genrescope.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: genrescope classify [OPTIONS] FILE...\n\n"
            "Prints the most likely genres of each audio file (any format libsndfile or\n"
            "FFmpeg decodes: WAV, AIFF, FLAC, Ogg, Opus, MP3, M4A/AAC, ALAC...).\n\n"
            "options:\n"
            "  -m, --model FILE   model to use (default: the model built into genrescope)\n"
            "  -n, --top N        genres to show per file (default 3)\n"
            "  -w, --windows      also show the verdict of every 30 s window\n"
            "      --json         one JSON object per line per file: path, genre (null\n"
            "                     unless a genre), verdict (genre, not-music, silent),\n"
            "                     confidence, not_music, probabilities, duration,\n"
            "                     windows...\n"
            "  -h, --help         show this help\n\n"
            "exit status: 0 if every file was classified, 1 if any failed, 2 on bad usage.\n");
}

/* Label indices sorted by descending probability (insertion sort: n <= 64). */
static void rank_labels(const float *probs, int n, int *order)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && probs[order[j - 1]] < probs[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

static cJSON *probabilities_json(const gs_model *model, const float *probs, int n)
{
    cJSON *obj = cJSON_CreateObject();
    for (int i = 0; obj && i < n; i++)
        cJSON_AddNumberToObject(obj, gs_model_label(model, i), (double)probs[i]);
    return obj;
}

static void print_json(const gs_model *model, const char *path, const gs_track_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "path", gs_cli_path_json(path));
    if (r->top_label >= 0)
        cJSON_AddStringToObject(o, "genre", gs_model_label(model, r->top_label));
    else
        cJSON_AddNullToObject(o, "genre");
    cJSON_AddStringToObject(o, "verdict", gs_verdict_kind_name(r->verdict));
    cJSON_AddNumberToObject(o, "confidence", (double)r->confidence);
    cJSON_AddNumberToObject(o, "not_music", (double)r->not_music);
    cJSON_AddItemToObject(o, "probabilities", probabilities_json(model, r->probabilities, r->num_labels));
    cJSON_AddNumberToObject(o, "duration", r->duration_seconds);
    cJSON_AddNumberToObject(o, "patches", r->num_patches);
    cJSON_AddNumberToObject(o, "silent_patches", r->num_silent_patches);
    cJSON_AddBoolToObject(o, "silent", r->verdict == GS_VERDICT_SILENT);
    cJSON_AddBoolToObject(o, "padded", r->padded);
    cJSON_AddNumberToObject(o, "nonfinite_samples", (double)r->nonfinite_samples);
    cJSON *windows = cJSON_AddArrayToObject(o, "windows");
    for (int i = 0; i < r->num_windows; i++) {
        const gs_window_verdict *w = &r->windows[i];
        cJSON *wj = cJSON_CreateObject();
        cJSON_AddNumberToObject(wj, "start", w->start_seconds);
        cJSON_AddNumberToObject(wj, "end", w->end_seconds);
        if (w->top_label >= 0)
            cJSON_AddStringToObject(wj, "genre", gs_model_label(model, w->top_label));
        else
            cJSON_AddNullToObject(wj, "genre");
        cJSON_AddStringToObject(wj, "verdict", gs_verdict_kind_name(w->verdict));
        cJSON_AddNumberToObject(wj, "confidence", (double)w->confidence);
        cJSON_AddNumberToObject(wj, "not_music", (double)w->not_music);
        cJSON_AddItemToObject(wj, "probabilities", probabilities_json(model, w->probabilities, r->num_labels));
        cJSON_AddItemToArray(windows, wj);
    }
    cJSON_AddStringToObject(o, "model", gs_model_id(model));
    char *text = cJSON_PrintUnformatted(o);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(o);
}

/* The verdict in words: the top genres with their probabilities, or what
 * else it is. */
static void print_verdict(const gs_model *model, gs_verdict_kind verdict, float not_music, const float *probs,
                          int n, int top)
{
    if (verdict == GS_VERDICT_SILENT) {
        printf("silent (no genre)");
        return;
    }
    if (verdict == GS_VERDICT_NOT_MUSIC) {
        printf("not music %.1f%% (no genre)", 100.0 * not_music);
        return;
    }
    if (verdict != GS_VERDICT_GENRE) {
        printf("no verdict (%s)", gs_verdict_kind_name(verdict));
        return;
    }
    int order[GS_MAX_LABELS];
    rank_labels(probs, n, order);
    for (int i = 0, shown = 0; shown < top && i < n; i++) {
        if (!gs_model_is_genre_label(model, order[i]))
            continue;
        printf("%s%s %.1f%%", shown ? ", " : "", gs_model_label(model, order[i]), 100.0 * probs[order[i]]);
        shown++;
    }
}

static void print_text(const gs_model *model, const char *path, const gs_track_result *r, int top, int windows)
{
    printf("%s: ", path);
    print_verdict(model, r->verdict, r->not_music, r->probabilities, r->num_labels, top);
    printf("  [%.1f s, %d patches%s]\n", r->duration_seconds, r->num_patches,
           r->padded ? ", shorter than one patch: padded by repeating it" : "");
    for (int i = 0; windows && i < r->num_windows; i++) {
        const gs_window_verdict *w = &r->windows[i];
        printf("  %7.1f-%7.1f s  ", w->start_seconds, w->end_seconds);
        print_verdict(model, w->verdict, w->not_music, w->probabilities, r->num_labels, top);
        putchar('\n');
    }
}

int gs_cmd_classify(int argc, char **argv)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'}, {"top", required_argument, NULL, 'n'},
        {"windows", no_argument, NULL, 'w'},     {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL;
    int top = 3, json = 0, windows = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:n:wh", options, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > GS_MAX_LABELS) {
                fprintf(stderr, "genrescope classify: --top needs a number from 1 to %d\n", GS_MAX_LABELS);
                return 2;
            }
            top = (int)v;
            break;
        }
        case 'w': windows = 1; break;
        case 'J': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "genrescope classify: no input files\n");
        usage(stderr);
        return 2;
    }
    gs_error err;
    gs_model *model = model_path ? gs_model_load(model_path, &err) : gs_model_load_default(&err);
    if (!model) {
        fprintf(stderr, "genrescope classify: %s\n", err.message);
        return 1;
    }
    gs_classifier *cls = gs_classifier_new(model, NULL, &err);
    if (!cls) {
        fprintf(stderr, "genrescope classify: %s\n", err.message);
        gs_model_free(model);
        return 1;
    }
    int failures = 0;
    for (int i = optind; i < argc; i++) {
        gs_track_result r;
        if (gs_classify_file(cls, argv[i], &r, &err) != GS_OK) {
            fprintf(stderr, "genrescope classify: %s\n", err.message);
            failures++;
            continue;
        }
        if (json)
            print_json(model, argv[i], &r);
        else
            print_text(model, argv[i], &r, top, windows);
        fflush(stdout);
        gs_track_result_free(&r);
    }
    gs_classifier_free(cls);
    gs_model_free(model);
    return failures ? 1 : 0;
}
