/* `genrescope show FILE|ID`: what the index knows of one file, with its
 * genre timeline (one verdict per 30 s window). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "genre_names.h"
#include "index_read.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: genrescope show [--db FILE] [--json] [--genre-names FILE] FILE|ID\n\n"
                 "Prints a file's genre, confidence, every genre's score and the genre\n"
                 "timeline (per 30 s window) recorded by the last scan.\n");
}

static void clock_text(double s, char *out, size_t n)
{
    /* An index is data from outside: a NaN or 1e300 must not reach the
     * integer conversion (undefined behaviour). */
    if (!(s >= 0.0 && s < 1e12)) {
        snprintf(out, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

int gs_cmd_show(int argc, char **argv)
{
    enum { O_DB = 256, O_JSON, O_NAMES };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB}, {"json", no_argument, NULL, O_JSON},
        {"genre-names", required_argument, NULL, O_NAMES}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db_path = NULL, *names = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB: db_path = optarg; break;
        case O_JSON: json = 1; break;
        case O_NAMES: names = optarg; break;
        case 'h': usage(stdout); return GS_EXIT_OK;
        default: usage(stderr); return GS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return GS_EXIT_USAGE;
    }
    if (gs_cli_load_genre_names("show", names) != 0)
        return GS_EXIT_USAGE;
    gs_index *ix = gs_cli_open_index("show", db_path, GS_INDEX_READ_ONLY, 5000);
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
        else if (row.tag_status && !strcmp(row.tag_status, "not-music"))
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
            gs_genre_display_name((const char *)sqlite3_column_text(s, 0), display, sizeof display);
            if (j)
                cJSON_AddNumberToObject(scores, display, sqlite3_column_double(s, 1));
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
                cJSON_AddNumberToObject(w, "confidence", sqlite3_column_double(s, 3));
                cJSON_AddItemToArray(timeline, w);
            } else {
                char a[32], b[32];
                clock_text(sqlite3_column_double(s, 0), a, sizeof a);
                clock_text(sqlite3_column_double(s, 1), b, sizeof b);
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
