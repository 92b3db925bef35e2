/* `genrescope similar FILE|ID [-n 20] [--genre G]`: nearest tracks, of
 * the query's model only, by cosine similarity of the embeddings (exhaustive scan of the memory-mapped
 * embedding cache: 100k tracks of 128 floats take a few milliseconds, no
 * approximate index needed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "genre_names.h"
#include "similar_query.h"

int gs_cmd_similar(int argc, char **argv)
{
    enum { O_DB = 256, O_JSON, O_GENRE, O_NAMES };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB}, {"json", no_argument, NULL, O_JSON},
        {"genre", required_argument, NULL, O_GENRE}, {"genre-names", required_argument, NULL, O_NAMES},
        {"count", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db_path = NULL, *genre = NULL, *names = NULL;
    int json = 0, c;
    long count = 20;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB: db_path = optarg; break;
        case O_JSON: json = 1; break;
        case O_GENRE: genre = optarg; break;
        case O_NAMES: names = optarg; break;
        case 'n':
            if (gs_cli_parse_int(optarg, 1, 1000000, &count)) {
                fprintf(stderr, "genrescope similar: -n wants a positive number\n");
                return GS_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: genrescope similar [--db FILE] [-n 20] [--genre G] [--json] FILE|ID\n\n"
                   "Lists the indexed tracks that sound most like FILE (or track ID), by\n"
                   "cosine similarity of their embeddings, most similar first. Only tracks\n"
                   "analysed by the same model as FILE are compared.\n");
            return GS_EXIT_OK;
        default: return GS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: genrescope similar [OPTIONS] FILE|ID\n");
        return GS_EXIT_USAGE;
    }
    if (gs_cli_load_genre_names("similar", names) != 0)
        return GS_EXIT_USAGE;
    gs_index *ix = gs_cli_open_index("similar", db_path, GS_INDEX_READ_ONLY, 5000);
    if (!ix)
        return GS_EXIT_FATAL;
    gs_error err;
    gs_error_clear(&err);
    gs_similar_result res;
    int rc = GS_EXIT_SOME_FAILED;
    gs_status st = gs_similar_query(ix, argv[optind], genre, (size_t)count, &res, &err);
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
            gs_cli_print_json(stdout, j);
        } else {
            printf("%3zu  %.3f  %-10s %s\n", r + 1, (double)h->similarity, display, h->path);
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
