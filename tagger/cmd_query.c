/* `genrescope query --genre G [--min-confidence X] [--mixed a,b]`: tracks
 * by genre distribution, straight from the scores table's index. Only
 * tracks the current model (--model, default the built-in one) analysed:
 * probabilities of different models are not comparable (--any-model mixes
 * them anyway). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyser.h"
#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "genre_names.h"
#include "index_read.h"

#define MAX_MIXED 16

static int print_duplicates(const char *const *paths, size_t n, void *arg)
{
    int *state = arg; /* [0]: json, [1]: groups printed */
    if (state[0]) {
        cJSON *j = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(j, "paths");
        for (size_t i = 0; a && i < n; i++) {
            cJSON *p = gs_cli_path_json(paths[i]);
            if (p)
                cJSON_AddItemToArray(a, p);
        }
        gs_cli_print_json(stdout, j);
    } else {
        printf("%s", state[1] ? "\n" : "");
        for (size_t i = 0; i < n; i++)
            printf("%s\n", paths[i]);
    }
    state[1]++;
    return 0;
}

static int print_listed(const gs_track_row *row, void *arg)
{
    const int *json = arg;
    char display[128] = "";
    if (row->top_genre)
        gs_genre_display_name(row->top_genre, display, sizeof display);
    if (*json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "id", (double)row->id);
        gs_cli_add_path(j, "path", row->path);
        if (row->top_genre) {
            cJSON_AddStringToObject(j, "genre", display);
            cJSON_AddStringToObject(j, "label", row->top_genre);
            cJSON_AddNumberToObject(j, "confidence", row->confidence);
        }
        if (row->verdict)
            cJSON_AddStringToObject(j, "verdict", row->verdict);
        cJSON_AddStringToObject(j, "tag", row->tag_status ? row->tag_status : "");
        if (row->file_genre)
            cJSON_AddStringToObject(j, "file_genre", row->file_genre);
        if (row->error)
            cJSON_AddStringToObject(j, "error", row->error);
        gs_cli_print_json(stdout, j);
    } else {
        char verdict[160];
        if (row->top_genre)
            snprintf(verdict, sizeof verdict, "%s %.2f", display, (double)row->confidence);
        else if (row->verdict)
            snprintf(verdict, sizeof verdict, "(%s)", row->verdict);
        else
            snprintf(verdict, sizeof verdict, "-");
        printf("%-16s %-18s file: %-14s %s\n", row->error ? "failed" : row->tag_status ? row->tag_status : "-",
               verdict, row->file_genre ? (row->file_genre[0] ? row->file_genre : "(none)") : "?", row->path);
    }
    return 0;
}

/* --status, --tag-genre and --duplicates: what the index knows of the
 * files, without SQL. */
static int run_listing(const gs_cli_shared *shared, const gs_cli_spec *spec, const gs_track_filter *filter,
                       int duplicates)
{
    gs_index *ix;
    int rc = gs_cli_shared_open(shared, spec, GS_INDEX_READ_ONLY, &ix);
    if (rc != GS_EXIT_OK)
        return rc;
    int json = shared->json;
    gs_error err;
    gs_error_clear(&err);
    int state[2] = {json, 0};
    gs_status st = duplicates ? gs_index_duplicates(ix, print_duplicates, state, &err)
                              : gs_index_list_tracks(ix, filter, print_listed, &json, &err);
    gs_index_close(ix);
    if (st != GS_OK) {
        fprintf(stderr, "genrescope query: %s\n", err.message);
        return st == GS_ERR_INVALID ? GS_EXIT_USAGE : GS_EXIT_FATAL;
    }
    return GS_EXIT_OK;
}

/* The id of the model --model names (NULL: the built-in one), which the
 * index stores per track. */
static gs_status current_model_id(const char *model_path, char *out, size_t out_size,
                                  gs_error *err)
{
    gs_analyser *an = gs_analyser_open(model_path, 1, err);
    if (!an)
        return err->code != GS_OK ? err->code : GS_ERR_INVALID;
    snprintf(out, out_size, "%s", gs_analyser_model_id(an));
    gs_analyser_close(an);
    return GS_OK;
}

/* Both forms share their conditions: the mixed form joins scores only when
 * genres were listed (carray is not in every SQLite build, so the list goes
 * in as a JSON array). ?7 is the model (NULL: any). */
#define MIXED_FROM                                                                  \
    " FROM tracks t JOIN scores s ON s.track_id = t.id"                             \
    " WHERE s.genre IN (SELECT value FROM json_each(?1)) AND s.score >= ?2"         \
    " AND (?3 IS NULL OR (t.top_genre = ?3 AND t.confidence >= ?4)) AND "
#define MIXED_GROUP " GROUP BY t.id HAVING count(*) = ?5"
#define TOP_FROM " FROM tracks t WHERE t.top_genre = ?3 AND t.confidence >= ?4 AND "
#define SAME_MODEL "(?7 IS NULL OR t.model_id = ?7)"
#define OTHER_MODEL "t.model_id IS NOT ?7"
#define LIST_SQL(mixed)                                                                     \
    ((mixed) ? "SELECT t.id, t.path, t.top_genre, t.confidence, sum(s.score) AS combined"   \
               MIXED_FROM SAME_MODEL MIXED_GROUP " ORDER BY combined DESC, t.path LIMIT ?6" \
             : "SELECT t.id, t.path, t.top_genre, t.confidence, t.confidence"               \
               TOP_FROM SAME_MODEL " ORDER BY t.confidence DESC, t.path LIMIT ?6")
#define OTHER_SQL(mixed)                                                               \
    ((mixed) ? "SELECT count(*) FROM (SELECT t.id" MIXED_FROM OTHER_MODEL MIXED_GROUP ")" \
             : "SELECT count(*)" TOP_FROM OTHER_MODEL)

static int prepare(gs_index *ix, const char *sql, int num_mixed, char (*mixed_labels)[128],
                   const char *top_label, double min_conf, double min_score, long limit,
                   const char *model_id, sqlite3_stmt **out)
{
    sqlite3_stmt *s;
    *out = NULL;
    int rc = sqlite3_prepare_v2(gs_index_sqlite(ix), sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
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
    if (top_label[0])
        sqlite3_bind_text(s, 3, top_label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 4, min_conf);
    /* The count query has no ?6: binding it is a harmless SQLITE_RANGE. */
    sqlite3_bind_int64(s, 6, limit);
    if (model_id)
        sqlite3_bind_text(s, 7, model_id, -1, SQLITE_TRANSIENT);
    *out = s;
    return SQLITE_OK;
}

int gs_cmd_query(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("query");
    gs_cli_parser parser;
    gs_cli_shared shared;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &shared);
    const char *genre = NULL, *mixed = NULL;
    const char *model_path = gs_config_value(GS_CONFIG_MODEL);
    int any_model = 0, duplicates = 0;
    gs_track_filter filter = {0};
    double min_conf = 0, min_score = 0.2;
    long limit = -1;
    int c, status;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case GS_OPT_GENRE: genre = optarg; break;
        case GS_OPT_MIXED: mixed = optarg; break;
        case 'm': model_path = optarg; break;
        case GS_OPT_ANY_MODEL: any_model = 1; break;
        case GS_OPT_DUPLICATES: duplicates = 1; break;
        case GS_OPT_STATUS: filter.status = optarg; break;
        case GS_OPT_TAG_GENRE: filter.file_genre = optarg; break;
        case GS_OPT_MIN_CONFIDENCE:
            if (gs_cli_parse_float(optarg, 0, 1, &min_conf)) goto bad;
            break;
        case GS_OPT_MIN_SCORE:
            if (gs_cli_parse_float(optarg, 0, 1, &min_score)) goto bad;
            break;
        case 'c':
        case GS_OPT_ALIAS_LIMIT:
            if (gs_cli_parse_int(optarg, 1, 100000000, &limit)) goto bad;
            break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    int listing = filter.status || filter.file_genre;
    if ((listing || duplicates) && (genre || mixed || (listing && duplicates)))
        return gs_cli_usage_error(spec, "--genre/--mixed, --status/--tag-genre and --duplicates are separate "
                                        "queries");
    if (listing || duplicates) {
        filter.limit = limit;
        return run_listing(&shared, spec, &filter, duplicates);
    }
    if (!genre && !mixed)
        return gs_cli_usage_error(spec, "--genre, --mixed, --status, --tag-genre or --duplicates is needed");
    if (any_model && model_path) {
        return gs_cli_usage_error(spec, "--model and --any-model exclude each other");
    }
    gs_error err;
    gs_error_clear(&err);
    char model_id[256] = "";
    if (!any_model && current_model_id(model_path, model_id, sizeof model_id, &err) != GS_OK) {
        fprintf(stderr, "genrescope query: %s (--any-model lists every model's tracks)\n",
                err.message);
        return GS_EXIT_USAGE;
    }
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_READ_ONLY, &ix)) != GS_EXIT_OK)
        return status;
    const int json = shared.json;
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
    sqlite3_stmt *s;
    if (prepare(ix, LIST_SQL(num_mixed), num_mixed, mixed_labels, top_label, min_conf, min_score,
                limit, any_model ? NULL : model_id, &s) != SQLITE_OK) {
        gs_index_error(ix, &err, "cannot query");
        rc = GS_EXIT_FATAL;
        goto fail;
    }
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
            if (g)
                cJSON_AddStringToObject(j, "label", g);
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
    /* What the model filter left out: the same query for other models. */
    size_t other_model = 0;
    if (!any_model) {
        if (prepare(ix, OTHER_SQL(num_mixed), num_mixed, mixed_labels, top_label, min_conf,
                    min_score, limit, model_id, &s) != SQLITE_OK ||
            sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_finalize(s);
            gs_index_error(ix, &err, "cannot query");
            rc = GS_EXIT_FATAL;
            goto fail;
        }
        other_model = (size_t)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    if (!json && rows == 0)
        fprintf(stderr, "genrescope query: no matching tracks\n");
    gs_cli_report_other_model("query", json, stdout, model_id, other_model);
    gs_index_close(ix);
    return GS_EXIT_OK;
fail:
    fprintf(stderr, "genrescope query: %s\n", err.message);
    gs_index_close(ix);
    return rc;
bad:
    return gs_cli_bad_value(spec, c, optarg);
}
