/* `genrescope stats`: counts, genre histogram, tag outcomes, index size. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "genre_names.h"

static sqlite3_int64 scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    sqlite3_int64 v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

int gs_cmd_stats(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("stats");
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
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    if (gs_cli_load_genre_names("stats", names) != 0)
        return GS_EXIT_USAGE;
    gs_index *ix = gs_cli_open_index("stats", db_path, GS_INDEX_READ_ONLY, (int)busy_ms);
    if (!ix)
        return GS_EXIT_FATAL;
    sqlite3 *db = gs_index_sqlite(ix);
    sqlite3_int64 tracks = scalar(db, "SELECT count(*) FROM tracks");
    sqlite3_int64 failed = scalar(db, "SELECT count(*) FROM tracks WHERE error IS NOT NULL");
    /* Before schema 6 silence and "not music" are one count. */
    int v6 = gs_index_schema_version(ix) >= 6;
    sqlite3_int64 silent = scalar(db, v6 ? "SELECT count(*) FROM tracks WHERE verdict = 'silent'"
                                         : "SELECT count(*) FROM tracks WHERE error IS NULL AND top_genre IS NULL");
    sqlite3_int64 not_music = v6 ? scalar(db, "SELECT count(*) FROM tracks WHERE verdict = 'not-music'") : 0;
    sqlite3_int64 bytes = scalar(db, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", gs_index_path(ix));
    if (stat(wal, &st) == 0)
        bytes += st.st_size;
    double hours = (double)scalar(db, "SELECT CAST(total(duration) AS INTEGER) FROM tracks") / 3600.0;

    cJSON *j = json ? cJSON_CreateObject() : NULL;
    if (j) {
        cJSON_AddStringToObject(j, "index", gs_index_path(ix));
        cJSON_AddNumberToObject(j, "tracks", (double)tracks);
        cJSON_AddNumberToObject(j, "analysed", (double)(tracks - failed));
        cJSON_AddNumberToObject(j, "failed", (double)failed);
        cJSON_AddNumberToObject(j, "silent", (double)silent);
        cJSON_AddNumberToObject(j, "not_music", (double)not_music);
        cJSON_AddNumberToObject(j, "hours", hours);
        cJSON_AddNumberToObject(j, "index_bytes", (double)bytes);
        cJSON_AddNumberToObject(j, "bytes_per_track", tracks ? (double)bytes / (double)tracks : 0);
    } else {
        printf("index %s: %lld tracks (%.1f h of audio), %lld failed, %lld silent, %lld not music\n",
               gs_index_path(ix), (long long)tracks, hours, (long long)failed, (long long)silent,
               (long long)not_music);
        printf("index size: %.1f KiB (%.0f bytes per track)\n", (double)bytes / 1024.0,
               tracks ? (double)bytes / (double)tracks : 0.0);
    }
    sqlite3_stmt *s;
    cJSON *genres = j ? cJSON_AddArrayToObject(j, "genres") : NULL;
    if (sqlite3_prepare_v2(db, "SELECT top_genre, count(*) AS n, avg(confidence) FROM tracks"
                               " WHERE top_genre IS NOT NULL GROUP BY top_genre ORDER BY n DESC, top_genre",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_int64 analysed = tracks - failed - silent - not_music;
        while (sqlite3_step(s) == SQLITE_ROW) {
            char display[128];
            gs_genre_display_name((const char *)sqlite3_column_text(s, 0), display, sizeof display);
            sqlite3_int64 n = sqlite3_column_int64(s, 1);
            double share = analysed ? (double)n / (double)analysed : 0;
            if (j) {
                cJSON *g = cJSON_CreateObject();
                cJSON_AddStringToObject(g, "genre", display);
                cJSON_AddStringToObject(g, "label", (const char *)sqlite3_column_text(s, 0));
                cJSON_AddNumberToObject(g, "tracks", (double)n);
                cJSON_AddNumberToObject(g, "mean_confidence", sqlite3_column_double(s, 2));
                cJSON_AddItemToArray(genres, g);
            } else {
                char bar[41];
                int len = (int)(share * 40 + 0.5);
                memset(bar, '#', (size_t)len);
                bar[len] = '\0';
                printf("  %-12s %7lld %5.1f%%  %-40s mean confidence %.2f\n", display, (long long)n,
                       share * 100, bar, sqlite3_column_double(s, 2));
            }
        }
        sqlite3_finalize(s);
    }
    cJSON *tags = j ? cJSON_AddObjectToObject(j, "tags") : NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(tag_status, 'none'), count(*) FROM tracks"
                               " WHERE error IS NULL GROUP BY 1 ORDER BY 2 DESC", -1, &s, NULL) == SQLITE_OK) {
        int first = 1;
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(s, 0);
            if (j)
                cJSON_AddNumberToObject(tags, k, (double)sqlite3_column_int64(s, 1));
            else
                printf("%s%s %lld", first ? "tags: " : ", ", k, (long long)sqlite3_column_int64(s, 1));
            first = 0;
        }
        if (!j && !first)
            printf("\n");
        sqlite3_finalize(s);
    }
    cJSON *models = j ? cJSON_AddObjectToObject(j, "models") : NULL;
    if (sqlite3_prepare_v2(db, "SELECT model_id, count(*) FROM tracks GROUP BY 1 ORDER BY 2 DESC",
                           -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(s, 0);
            if (j)
                cJSON_AddNumberToObject(models, k ? k : "?", (double)sqlite3_column_int64(s, 1));
            else
                printf("model %s: %lld tracks\n", k ? k : "?", (long long)sqlite3_column_int64(s, 1));
        }
        sqlite3_finalize(s);
    }
    if (j)
        gs_cli_print_json(stdout, j);
    gs_index_close(ix);
    return GS_EXIT_OK;
}
