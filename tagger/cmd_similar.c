/* `genrescope similar FILE|ID [-c 20] [--genre G] [--at TIME]`: nearest
 * tracks, of the query's model only, by cosine similarity of the
 * embeddings, long tracks by their parts (exhaustive scan of the
 * memory-mapped embedding cache: 100k tracks of 128 floats take a few
 * milliseconds, no approximate index needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "genre_names.h"
#include "similar_query.h"

static void add_span(cJSON *j, const char *key, gs_similar_span span)
{
    if (span.start < 0)
        return;
    cJSON *o = cJSON_AddObjectToObject(j, key);
    cJSON_AddNumberToObject(o, "start", span.start);
    cJSON_AddNumberToObject(o, "end", span.end);
}

/* Appends "<prefix>M:SS-M:SS" for a part, nothing for a whole track. */
static void span_text(const char *prefix, gs_similar_span span, char *out, size_t n)
{
    if (span.start < 0 || n == 0)
        return;
    char a[32], b[32];
    gs_cli_clock_text(span.start, a, sizeof a);
    gs_cli_clock_text(span.end, b, sizeof b);
    snprintf(out, n, "%s%s-%s", prefix, a, b);
}

int gs_cmd_similar(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("similar");
    gs_cli_parser parser;
    gs_cli_shared shared;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &shared);
    const char *genre = NULL;
    int c, status;
    long count = 20;
    double at = -1;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case GS_OPT_GENRE: genre = optarg; break;
        case GS_OPT_AT:
            if (gs_cli_parse_clock(optarg, &at))
                return gs_cli_bad_value(spec, c, optarg);
            break;
        case 'c':
            if (gs_parse_long(optarg, 1, 1000000, &count))
                return gs_cli_bad_value(spec, c, optarg);
            break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind != argc - 1)
        return gs_cli_usage_error(spec, optind == argc ? "no FILE or ID" : "one FILE or ID at a time");
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_READ_ONLY, &ix)) != GS_EXIT_OK)
        return status;
    const int json = shared.json;
    gs_error err;
    gs_error_clear(&err);
    gs_similar_result res;
    memset(&res, 0, sizeof res);
    int rc = GS_EXIT_SOME_FAILED;
    /* An unknown genre is a bad argument, as in query: exit 2, not 1. */
    char label[128];
    if (genre && gs_index_resolve_genre(ix, genre, label, sizeof label, &err) != GS_OK) {
        rc = err.code == GS_ERR_INVALID ? GS_EXIT_USAGE : GS_EXIT_FATAL;
        fprintf(stderr, "genrescope similar: %s\n", err.message);
        gs_index_close(ix);
        return rc;
    }
    gs_status st = gs_similar_query(ix, argv[optind], genre, (size_t)count, at, &res, &err);
    if (st != GS_OK) {
        if (st != GS_ERR_INVALID)
            rc = GS_EXIT_FATAL;
        goto fail;
    }
    for (size_t r = 0; r < res.count; r++) {
        const gs_similar_hit *h = &res.hits[r];
        char display[128] = "";
        if (h->genre)
            gs_genre_display_name(h->genre, display, sizeof display);
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "rank", (double)(r + 1));
            cJSON_AddNumberToObject(j, "id", (double)h->id);
            gs_cli_add_path(j, "path", h->path);
            cJSON_AddNumberToObject(j, "similarity", h->similarity);
            cJSON_AddStringToObject(j, "genre", display);
            if (h->genre)
                cJSON_AddStringToObject(j, "label", h->genre);
            add_span(j, "part", h->part);
            add_span(j, "query_part", h->query_part);
            gs_cli_print_json(stdout, j);
        } else {
            char where[96] = "";
            span_text(" at ", h->part, where, sizeof where);
            if (res.query_parts > 1)
                span_text(" (query ", h->query_part, where + strlen(where), sizeof where - strlen(where));
            printf("%3zu  %.3f  %-10s %s%s%s\n", r + 1, (double)h->similarity, display, h->path, where,
                   res.query_parts > 1 && h->query_part.start >= 0 ? ")" : "");
        }
    }
    gs_cli_report_other_model("similar", json, stdout, res.query.model_id, res.other_model);
    rc = GS_EXIT_OK;
fail:
    if (rc != GS_EXIT_OK)
        fprintf(stderr, "genrescope similar: %s\n", err.message);
    gs_similar_result_free(&res);
    gs_index_close(ix);
    return rc;
}
