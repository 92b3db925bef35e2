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
        printf("%-16s %-18s file: %-14s %s\n",
               row->error            ? "failed"
                   : row->tag_status ? row->tag_status
                                     : "-",
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
static gs_status current_model_id(const char *model_path, char *out, size_t out_size, gs_error *err)
{
    gs_analyser *an = gs_analyser_open(model_path, 1, err);
    if (!an)
        return err->code != GS_OK ? err->code : GS_ERR_INVALID;
    snprintf(out, out_size, "%s", gs_analyser_model_id(an));
    gs_analyser_close(an);
    return GS_OK;
}

/* Prints one track of --genre/--mixed. */
typedef struct genre_print {
    int json, mixed, rows;
} genre_print;

static int print_genre_hit(const gs_genre_hit *h, void *arg)
{
    genre_print *p = arg;
    char display[128] = "";
    if (h->top_genre)
        gs_genre_display_name(h->top_genre, display, sizeof display);
    if (p->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "id", (double)h->id);
        gs_cli_add_path(j, "path", h->path);
        cJSON_AddStringToObject(j, "genre", display);
        if (h->top_genre)
            cJSON_AddStringToObject(j, "label", h->top_genre);
        cJSON_AddNumberToObject(j, "confidence", h->confidence);
        if (p->mixed)
            cJSON_AddNumberToObject(j, "combined_score", h->score);
        gs_cli_print_json(stdout, j);
    } else {
        printf("%.3f  %-10s %s\n", h->score, display, h->path);
    }
    p->rows++;
    return 0;
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
            if (gs_parse_double(optarg, 0, 1, &min_conf))
                goto bad;
            break;
        case GS_OPT_MIN_SCORE:
            if (gs_parse_double(optarg, 0, 1, &min_score))
                goto bad;
            break;
        case 'c':
        case GS_OPT_ALIAS_LIMIT:
            if (gs_parse_long(optarg, 1, 100000000, &limit))
                goto bad;
            break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    int listing = filter.status || filter.file_genre;
    if ((listing || duplicates) && (genre || mixed || (listing && duplicates)))
        return gs_cli_usage_error(spec,
                                  "--genre/--mixed, --status/--tag-genre and --duplicates are separate "
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
        fprintf(stderr, "genrescope query: %s (--any-model lists every model's tracks)\n", err.message);
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
    const char *mixed_ptrs[MAX_MIXED];
    for (int i = 0; i < num_mixed; i++)
        mixed_ptrs[i] = mixed_labels[i];
    gs_genre_query gq = {.top_label = top_label[0] ? top_label : NULL,
                         .min_confidence = min_conf,
                         .mixed = mixed_ptrs,
                         .num_mixed = num_mixed,
                         .min_score = min_score,
                         .model_id = any_model ? NULL : model_id,
                         .limit = limit};
    genre_print printing = {.json = json, .mixed = num_mixed > 0};
    size_t other_model = 0;
    if (gs_index_query_genres(ix, &gq, print_genre_hit, &printing, &other_model, &err) != GS_OK) {
        rc = GS_EXIT_FATAL;
        goto fail;
    }
    int rows = printing.rows;
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
