/* `genrescope query --genre G [--min-confidence X] [--mixed a,b]`: tracks
 * by genre distribution, straight from the scores table's index. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "genre_names.h"
#include "index_read.h"

#define MAX_MIXED 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: genrescope query [--db FILE] [--genre G] [--min-confidence X]\n"
            "                        [--mixed G1,G2,...] [--min-score S] [-n N] [--json]\n\n"
            "--genre G: tracks whose top genre is G with at least --min-confidence,\n"
            "most confident first. --mixed G1,G2: tracks scoring at least --min-score\n"
            "(default 0.2) in every listed genre, by their combined score. Genres are\n"
            "labels or display names, any case.\n");
}

int gs_cmd_query(int argc, char **argv)
{
    enum { O_DB = 256, O_JSON, O_GENRE, O_MINC, O_MIXED, O_MINS, O_NAMES };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB}, {"json", no_argument, NULL, O_JSON},
        {"genre", required_argument, NULL, O_GENRE}, {"min-confidence", required_argument, NULL, O_MINC},
        {"mixed", required_argument, NULL, O_MIXED}, {"min-score", required_argument, NULL, O_MINS},
        {"genre-names", required_argument, NULL, O_NAMES}, {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *db_path = NULL, *genre = NULL, *mixed = NULL, *names = NULL;
    double min_conf = 0, min_score = 0.2;
    long limit = -1;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB: db_path = optarg; break;
        case O_JSON: json = 1; break;
        case O_GENRE: genre = optarg; break;
        case O_MIXED: mixed = optarg; break;
        case O_NAMES: names = optarg; break;
        case O_MINC:
            if (gs_cli_parse_float(optarg, 0, 1, &min_conf)) goto bad;
            break;
        case O_MINS:
            if (gs_cli_parse_float(optarg, 0, 1, &min_score)) goto bad;
            break;
        case 'n':
            if (gs_cli_parse_int(optarg, 1, 100000000, &limit)) goto bad;
            break;
        case 'h': usage(stdout); return GS_EXIT_OK;
        default: usage(stderr); return GS_EXIT_USAGE;
        }
    }
    if (optind != argc || (!genre && !mixed)) {
        usage(stderr);
        return GS_EXIT_USAGE;
    }
    if (gs_cli_load_genre_names("query", names) != 0)
        return GS_EXIT_USAGE;
    gs_index *ix = gs_cli_open_index("query", db_path, GS_INDEX_READ_ONLY, 5000);
    if (!ix)
        return GS_EXIT_FATAL;
    gs_error err;
    gs_error_clear(&err);
    char top_label[128] = "";
    char mixed_labels[MAX_MIXED][128];
    int num_mixed = 0, rc = GS_EXIT_USAGE;
    if (genre && gs_index_resolve_genre(ix, genre, top_label, sizeof top_label, &err) != GS_OK)
        goto fail;
    if (mixed) {
        char *copy = strdup(mixed), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (num_mixed == MAX_MIXED) {
                gs_error_set(&err, GS_ERR_INVALID, "--mixed takes at most %d genres", MAX_MIXED);
                break;
            }
            if (gs_index_resolve_genre(ix, tok, mixed_labels[num_mixed], 128, &err) != GS_OK)
                break;
            num_mixed++;
        }
        free(copy);
        if (err.code != GS_OK)
            goto fail;
    }
    /* One statement for both forms: the mixed part joins scores only when
     * genres were listed (carray is not in every SQLite build, so the list
     * goes in as a JSON array). */
    const char *sql =
        num_mixed
            ? "SELECT t.id, t.path, t.top_genre, t.confidence, sum(s.score) AS combined FROM tracks t"
              " JOIN scores s ON s.track_id = t.id"
              " WHERE s.genre IN (SELECT value FROM json_each(?1)) AND s.score >= ?2"
              " AND (?3 IS NULL OR (t.top_genre = ?3 AND t.confidence >= ?4))"
              " GROUP BY t.id HAVING count(*) = ?5 ORDER BY combined DESC, t.path LIMIT ?6"
            : "SELECT t.id, t.path, t.top_genre, t.confidence, t.confidence FROM tracks t"
              " WHERE t.top_genre = ?3 AND t.confidence >= ?4"
              " ORDER BY t.confidence DESC, t.path LIMIT ?6";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL) != SQLITE_OK) {
        gs_index_error(ix, &err, "cannot query");
        rc = GS_EXIT_FATAL;
        goto fail;
    }
    if (num_mixed) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < num_mixed; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(mixed_labels[i]));
        char *txt = cJSON_PrintUnformatted(arr);
        sqlite3_bind_text(s, 1, txt, -1, SQLITE_TRANSIENT);
        cJSON_free(txt);
        cJSON_Delete(arr);
        sqlite3_bind_double(s, 2, min_score);
        sqlite3_bind_int(s, 5, num_mixed);
    }
    if (genre)
        sqlite3_bind_text(s, 3, top_label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 4, min_conf);
    sqlite3_bind_int64(s, 6, limit);
    int rows = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *g = (const char *)sqlite3_column_text(s, 2);
        char display[128] = "";
        if (g)
            gs_genre_display_name(g, display, sizeof display);
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "id", (double)sqlite3_column_int64(s, 0));
            gs_cli_add_path(j, "path", (const char *)sqlite3_column_text(s, 1));
            cJSON_AddStringToObject(j, "genre", display);
            cJSON_AddNumberToObject(j, "confidence", sqlite3_column_double(s, 3));
            if (num_mixed)
                cJSON_AddNumberToObject(j, "combined_score", sqlite3_column_double(s, 4));
            gs_cli_print_json(stdout, j);
        } else {
            printf("%.3f  %-10s %s\n", sqlite3_column_double(s, 4), display,
                   (const char *)sqlite3_column_text(s, 1));
        }
        rows++;
    }
    sqlite3_finalize(s);
    if (step != SQLITE_DONE) {
        gs_index_error(ix, &err, "cannot query");
        rc = GS_EXIT_FATAL;
        goto fail;
    }
    if (!json && rows == 0)
        fprintf(stderr, "genrescope query: no matching tracks\n");
    gs_index_close(ix);
    return GS_EXIT_OK;
fail:
    fprintf(stderr, "genrescope query: %s\n", err.message);
    gs_index_close(ix);
    return rc;
bad:
    fprintf(stderr, "genrescope query: bad value for %s: '%s'\n", gs_cli_option_name(longopts, c), optarg);
    return GS_EXIT_USAGE;
}
