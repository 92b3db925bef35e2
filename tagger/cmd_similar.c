/* `genrescope similar FILE|ID [-n 20] [--genre G]`: nearest tracks by
 * cosine similarity of the embeddings (exhaustive scan: 100k tracks of a
 * few hundred floats is a few milliseconds, no approximate index needed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "genre_names.h"
#include "index_read.h"
#include "similarity.h"

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
                   "cosine similarity of their embeddings, most similar first.\n");
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
    gs_track_row row;
    float *q = NULL;
    size_t dim = 0;
    char label[128];
    gs_embedding_set set = {0};
    int rc = GS_EXIT_SOME_FAILED;
    if (gs_index_find_track(ix, argv[optind], &row, &err) != GS_OK)
        goto fail;
    if (gs_index_track_embedding(ix, row.id, &q, &dim, &err) != GS_OK)
        goto fail;
    if (genre && gs_index_resolve_genre(ix, genre, label, sizeof label, &err) != GS_OK)
        goto fail;
    if (gs_embedding_set_load(ix, genre ? label : NULL, &set, &err) != GS_OK) {
        rc = GS_EXIT_FATAL;
        goto fail;
    }
    if (set.count && set.dim != dim) {
        gs_error_set(&err, GS_ERR_INVALID, "%s was analysed by a model with another embedding size"
                     " than most of the index; rescan it", row.path);
        goto fail;
    }
    gs_scored *top = malloc((size_t)count * sizeof *top);
    if (!top) {
        gs_error_set(&err, GS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t n = 0;
    for (size_t i = 0; i < set.count; i++)
        if (set.ids[i] != row.id)
            gs_topk_push(top, (size_t)count, &n, (long)i, gs_dot(q, set.vectors + i * dim, dim));
    gs_topk_sort(top, n);
    for (size_t r = 0; r < n; r++) {
        size_t i = (size_t)top[r].index;
        char display[128] = "";
        if (set.genres[i])
            gs_genre_display_name(set.genres[i], display, sizeof display);
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "rank", (double)(r + 1));
            cJSON_AddNumberToObject(j, "id", (double)set.ids[i]);
            cJSON_AddStringToObject(j, "path", set.paths[i]);
            cJSON_AddNumberToObject(j, "similarity", top[r].score);
            cJSON_AddStringToObject(j, "genre", display);
            gs_cli_print_json(stdout, j);
        } else {
            printf("%3zu  %.3f  %-10s %s\n", r + 1, (double)top[r].score, display, set.paths[i]);
        }
    }
    free(top);
    rc = GS_EXIT_OK;
fail:
    if (rc != GS_EXIT_OK)
        fprintf(stderr, "genrescope similar: %s\n", err.message);
    free(q);
    gs_embedding_set_free(&set);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return rc;
}
