/* `genrescope classify FILE|DIR...`: the verdict for each file (a folder's
 * audio files as a scan finds them, in path order) on stdout, one clear
 * line per failure on stderr. With --json, one JSON object per line per
 * file, so scripts can rely on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "genre_names.h"
#include "genrescope.h"
#include "genrescope/walk.h"

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

/* "genre": the display name people read; "label": the model's raw label,
 * what scripts match on. Both null when the verdict is not a genre. */
static void add_genre_json(cJSON *o, const gs_model *model, int label)
{
    if (label < 0) {
        cJSON_AddNullToObject(o, "genre");
        cJSON_AddNullToObject(o, "label");
        return;
    }
    char display[128];
    gs_genre_display_name(gs_model_label(model, label), display, sizeof display);
    cJSON_AddStringToObject(o, "genre", display);
    cJSON_AddStringToObject(o, "label", gs_model_label(model, label));
}

static void print_json(const gs_model *model, const char *path, const gs_track_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "path", gs_cli_path_json(path));
    add_genre_json(o, model, r->top_label);
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
        add_genre_json(wj, model, w->top_label);
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
static void print_verdict(const gs_model *model, gs_verdict_kind verdict, float not_music, const float *probs, int n,
                          int top)
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
        char display[128];
        gs_genre_display_name(gs_model_label(model, order[i]), display, sizeof display);
        printf("%s%s %.1f%%", shown ? ", " : "", display, 100.0 * probs[order[i]]);
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

/* What one run classifies with and how it prints. */
typedef struct classify_run {
    const gs_model *model;
    gs_classifier *cls;
    int json, top, windows;
    int failures;
} classify_run;

/* One failure: a stderr line, and with --json a row in the form scan's
 * failed rows have, so a reader of the JSON lines sees it too. */
static void report_failure(classify_run *run, const char *path, const char *message)
{
    fprintf(stderr, "genrescope classify: %s\n", message);
    if (run->json) {
        cJSON *j = cJSON_CreateObject();
        gs_cli_add_path(j, "path", path);
        cJSON_AddStringToObject(j, "status", "failed");
        cJSON_AddStringToObject(j, "error", gs_cli_error_reason(path, message));
        gs_cli_print_json(stdout, j);
    }
    run->failures++;
}

static void classify_one(classify_run *run, const char *path)
{
    gs_track_result r;
    gs_error err;
    if (gs_classify_file(run->cls, path, &r, &err) != GS_OK) {
        report_failure(run, path, err.message);
        return;
    }
    if (run->json)
        print_json(run->model, path, &r);
    else
        print_text(run->model, path, &r, run->top, run->windows);
    fflush(stdout);
    gs_track_result_free(&r);
}

/* A folder entry the walk could not read (a folder without permission, a
 * dangling link) is a failure like an unreadable file. */
static void walk_warning(void *user, const char *path, const char *reason)
{
    char message[4200];
    snprintf(message, sizeof message, "%s: %s", path, reason);
    report_failure(user, path, message);
}

/* A folder argument: its audio files, found as `scan` finds them (the
 * core's walk: recursive, hidden and system folders skipped, in path
 * order). A folder without audio is said on stderr, not a failure. */
static void classify_folder(classify_run *run, const char *dir)
{
    gs_walk_options opts = {0};
    opts.warn = walk_warning;
    opts.user = run;
    gs_walk_list list = {0};
    gs_error err;
    if (gs_walk(&dir, 1, &opts, &list, &err) != GS_OK)
        report_failure(run, dir, err.message);
    else if (list.count == 0)
        fprintf(stderr, "genrescope classify: no audio files under %s\n", dir);
    for (size_t i = 0; i < list.count; i++)
        classify_one(run, list.entries[i].path);
    gs_walk_list_free(&list);
}

static int is_folder(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int gs_cmd_classify(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("classify");
    gs_cli_parser parser;
    gs_cli_shared shared;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &shared);
    const char *model_path = gs_config_value(GS_CONFIG_MODEL);
    int windows = 0, c, status;
    long top = 3;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case 'm': model_path = optarg; break;
        case 'c':
        case GS_OPT_ALIAS_TOP:
            if (gs_parse_long(optarg, 1, GS_MAX_LABELS, &top))
                return gs_cli_bad_value(spec, c, optarg);
            break;
        case 'w': windows = 1; break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind >= argc)
        return gs_cli_usage_error(spec, "no input files");
    if (gs_cli_load_genre_names("classify", shared.genre_names) != 0)
        return GS_EXIT_USAGE;
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
    classify_run run = {model, cls, shared.json, (int)top, windows, 0};
    for (int i = optind; i < argc; i++) {
        if (is_folder(argv[i]))
            classify_folder(&run, argv[i]);
        else
            classify_one(&run, argv[i]);
    }
    gs_classifier_free(cls);
    gs_model_free(model);
    return run.failures ? 1 : 0;
}
