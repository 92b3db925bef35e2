/* `genrescope show FILE|ID`: what the index knows of one file, with its
 * genre timeline (one verdict per 30 s window). */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "genre_names.h"
#include "index_read.h"
#include "tag_writer.h"

typedef struct show_ctx {
    cJSON *json; /* NULL: text */
    cJSON *list; /* the JSON object or array being filled */
    int first;
} show_ctx;

static int show_score(const char *label, double score, void *arg)
{
    show_ctx *c = arg;
    char display[128];
    gs_genre_display_name(label, display, sizeof display);
    /* Keyed by label in JSON (stable for scripts, as classify's
     * probabilities); display names for people. */
    if (c->json)
        cJSON_AddNumberToObject(c->list, label, score);
    else
        printf("%s%s %.2f", c->first ? "  scores: " : ", ", display, score);
    c->first = 0;
    return 0;
}

static int show_window(const gs_timeline_window *w, void *arg)
{
    show_ctx *c = arg;
    char display[128];
    if (w->label)
        gs_genre_display_name(w->label, display, sizeof display);
    else
        snprintf(display, sizeof display, "(silence)");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "start", w->start);
        cJSON_AddNumberToObject(o, "end", w->end);
        cJSON_AddStringToObject(o, "genre", display);
        if (w->label)
            cJSON_AddStringToObject(o, "label", w->label);
        cJSON_AddNumberToObject(o, "confidence", w->confidence);
        cJSON_AddItemToArray(c->list, o);
    } else {
        char a[32], b[32];
        gs_cli_clock_text(w->start, a, sizeof a);
        gs_cli_clock_text(w->end, b, sizeof b);
        printf("%s  %8s-%-8s %-12s %.2f\n", c->first ? "  timeline:\n" : "", a, b, display, w->confidence);
    }
    c->first = 0;
    return 0;
}

int gs_cmd_show(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("show");
    gs_cli_shared shared;
    int status = gs_cli_parse_shared_only(spec, argc, argv, &shared);
    if (status >= 0)
        return status;
    if (optind != argc - 1)
        return gs_cli_usage_error(spec, optind == argc ? "no FILE or ID" : "one FILE or ID at a time");
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_READ_ONLY, &ix)) != GS_EXIT_OK)
        return status;
    const int json = shared.json;
    gs_error err;
    gs_track_row row;
    if (gs_index_find_track(ix, argv[optind], &row, &err) != GS_OK) {
        fprintf(stderr, "genrescope show: %s\n", err.message);
        gs_index_close(ix);
        return GS_EXIT_SOME_FAILED;
    }
    char display[128] = "";
    if (row.top_genre)
        gs_genre_display_name(row.top_genre, display, sizeof display);
    cJSON *j = json ? cJSON_CreateObject() : NULL;
    if (j) {
        cJSON_AddNumberToObject(j, "id", (double)row.id);
        gs_cli_add_path(j, "path", row.path);
        if (row.top_genre) {
            cJSON_AddStringToObject(j, "genre", display);
            cJSON_AddStringToObject(j, "label", row.top_genre);
            cJSON_AddNumberToObject(j, "confidence", row.confidence);
        }
        cJSON_AddNumberToObject(j, "duration", row.duration);
        cJSON_AddStringToObject(j, "model", row.model_id ? row.model_id : "");
        if (row.verdict)
            cJSON_AddStringToObject(j, "verdict", row.verdict);
        cJSON_AddStringToObject(j, "tag", row.tag_status ? row.tag_status : "");
        if (row.file_genre)
            cJSON_AddStringToObject(j, "file_genre", row.file_genre);
        if (row.error)
            cJSON_AddStringToObject(j, "error", row.error);
    } else {
        printf("%s\n  id %lld, %s, %.1f s, model %s\n", row.path, (long long)row.id, row.format ? row.format : "?",
               row.duration, row.model_id ? row.model_id : "?");
        if (row.error)
            printf("  failed: %s\n", row.error);
        else if (row.top_genre)
            printf("  genre: %s (%.2f)   tag: %s\n", display, (double)row.confidence,
                   row.tag_status ? row.tag_status : "none");
        else if ((row.verdict && !strcmp(row.verdict, "not-music")) ||
                 (!row.verdict && gs_tag_outcome_parse(row.tag_status) == GS_TAG_NOT_MUSIC))
            printf("  not music (noise, tones, speech...): no genre\n");
        else
            printf("  silent throughout: no genre\n");
        /* The file's own genre, whoever wrote it: what a kept tag holds. */
        if (row.file_genre)
            printf("  genre in the file: %s%s\n", row.file_genre[0] ? row.file_genre : "none",
                   gs_tag_outcome_parse(row.tag_status) == GS_TAG_KEPT ? " (the user's, kept)" : "");
    }

    show_ctx ctx = {.json = j, .first = 1};
    ctx.list = j ? cJSON_AddObjectToObject(j, "scores") : NULL;
    gs_status st = gs_index_track_scores(ix, row.id, show_score, &ctx, &err);
    if (!j && !ctx.first)
        printf("\n");
    ctx.list = j ? cJSON_AddArrayToObject(j, "timeline") : NULL;
    ctx.first = 1;
    if (st == GS_OK)
        st = gs_index_track_timeline(ix, row.id, show_window, &ctx, &err);
    if (st != GS_OK) {
        fprintf(stderr, "genrescope show: %s\n", err.message);
        cJSON_Delete(j);
        gs_track_row_clear(&row);
        gs_index_close(ix);
        return GS_EXIT_FATAL;
    }
    if (j)
        gs_cli_print_json(stdout, j);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return GS_EXIT_OK;
}
