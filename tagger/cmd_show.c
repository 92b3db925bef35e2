/* `genrescope show FILE|ID`: what the index knows of one file, with its
 * genre timeline (one verdict per 30 s window). */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "genre_names.h"
#include "index_read.h"

int gs_cmd_show(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("show");
    gs_cli_parser parser;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    const char *db_path = gs_config_value(GS_CONFIG_DB), *names = gs_config_value(GS_CONFIG_GENRE_NAMES);
    int json = 0, c, status;
    long busy_ms = 5000;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case GS_OPT_DB: db_path = optarg; break;
        case GS_OPT_JSON: json = 1; break;
        case GS_OPT_GENRE_NAMES: names = optarg; break;
        case GS_OPT_BUSY_TIMEOUT:
            if (gs_cli_parse_int(optarg, 0, 3600000, &busy_ms))
                return gs_cli_bad_value(spec, c, optarg);
            break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind != argc - 1)
        return gs_cli_usage_error(spec, optind == argc ? "no FILE or ID" : "one FILE or ID at a time");
    if (gs_cli_load_genre_names("show", names) != 0)
        return GS_EXIT_USAGE;
    gs_index *ix = gs_cli_open_index("show", db_path, GS_INDEX_READ_ONLY, (int)busy_ms);
    if (!ix)
        return GS_EXIT_FATAL;
    gs_error err;
    gs_track_row row;
    if (gs_index_find_track(ix, argv[optind], &row, &err) != GS_OK) {
        fprintf(stderr, "genrescope show: %s\n", err.message);
        gs_index_close(ix);
        return GS_EXIT_SOME_FAILED;
    }
    sqlite3 *db = gs_index_sqlite(ix);
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
        printf("%s\n  id %lld, %s, %.1f s, model %s\n", row.path, (long long)row.id,
               row.format ? row.format : "?", row.duration, row.model_id ? row.model_id : "?");
        if (row.error)
            printf("  failed: %s\n", row.error);
        else if (row.top_genre)
            printf("  genre: %s (%.2f)   tag: %s\n", display, (double)row.confidence,
                   row.tag_status ? row.tag_status : "none");
        else if ((row.verdict && !strcmp(row.verdict, "not-music")) ||
                 (!row.verdict && row.tag_status && !strcmp(row.tag_status, "not-music")))
            printf("  not music (noise, tones, speech...): no genre\n");
        else
            printf("  silent throughout: no genre\n");
        /* The file's own genre, whoever wrote it: what a kept tag holds. */
        if (row.file_genre)
            printf("  genre in the file: %s%s\n", row.file_genre[0] ? row.file_genre : "none",
                   row.tag_status && !strcmp(row.tag_status, "kept-existing") ? " (the user's, kept)" : "");
    }

    sqlite3_stmt *s;
    cJSON *scores = j ? cJSON_AddObjectToObject(j, "scores") : NULL;
    if (sqlite3_prepare_v2(db, "SELECT genre, score FROM scores WHERE track_id = ?1 ORDER BY score DESC",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, row.id);
        int first = 1;
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *label = (const char *)sqlite3_column_text(s, 0);
            if (!label)
                continue;
            gs_genre_display_name(label, display, sizeof display);
            /* Keyed by label in JSON (stable for scripts, as classify's
             * probabilities); display names for people. */
            if (j)
                cJSON_AddNumberToObject(scores, label, sqlite3_column_double(s, 1));
            else
                printf("%s%s %.2f", first ? "  scores: " : ", ", display, sqlite3_column_double(s, 1));
            first = 0;
        }
        if (!j && !first)
            printf("\n");
        sqlite3_finalize(s);
    }
    cJSON *timeline = j ? cJSON_AddArrayToObject(j, "timeline") : NULL;
    if (sqlite3_prepare_v2(db, "SELECT start, end, top_genre, confidence FROM windows"
                               " WHERE track_id = ?1 ORDER BY idx", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, row.id);
        int first = 1;
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *g = (const char *)sqlite3_column_text(s, 2);
            if (g)
                gs_genre_display_name(g, display, sizeof display);
            else
                snprintf(display, sizeof display, "(silence)");
            if (j) {
                cJSON *w = cJSON_CreateObject();
                cJSON_AddNumberToObject(w, "start", sqlite3_column_double(s, 0));
                cJSON_AddNumberToObject(w, "end", sqlite3_column_double(s, 1));
                cJSON_AddStringToObject(w, "genre", display);
                if (g)
                    cJSON_AddStringToObject(w, "label", g);
                cJSON_AddNumberToObject(w, "confidence", sqlite3_column_double(s, 3));
                cJSON_AddItemToArray(timeline, w);
            } else {
                char a[32], b[32];
                gs_cli_clock_text(sqlite3_column_double(s, 0), a, sizeof a);
                gs_cli_clock_text(sqlite3_column_double(s, 1), b, sizeof b);
                printf("%s  %8s-%-8s %-12s %.2f\n", first ? "  timeline:\n" : "", a, b, display,
                       sqlite3_column_double(s, 3));
            }
            first = 0;
        }
        sqlite3_finalize(s);
    }
    if (j)
        gs_cli_print_json(stdout, j);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return GS_EXIT_OK;
}
