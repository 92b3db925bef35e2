/* `genrescope prune`: removes the index rows of files that no longer exist
 * (a scan of DIR does this for DIR only). */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "emb_cache.h"
#include "walk.h"

int gs_cmd_prune(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("prune");
    gs_cli_parser parser;
    gs_cli_shared shared;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &shared);
    int dry_run = 0, c, status;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case 'n': dry_run = 1; break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind < argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, dry_run ? GS_INDEX_READ_ONLY : 0, &ix)) != GS_EXIT_OK)
        return status;
    const int json = shared.json;
    gs_error err;
    gs_error_clear(&err);
    gs_index_known *known = NULL;
    size_t n = 0, removed = 0;
    gs_status st = gs_index_load_known(ix, &known, &n, &err);
    int in_tx = 0;
    for (size_t i = 0; st == GS_OK && i < n; i++) {
        if (!known[i].path || !gs_walk_path_vanished(known[i].path))
            continue;
        if (!dry_run) {
            if (!in_tx && (st = gs_index_begin(ix, &err)) != GS_OK)
                break;
            in_tx = 1;
            if ((st = gs_index_remove(ix, known[i].path, &err)) != GS_OK)
                break;
        }
        removed++;
        if (json) {
            cJSON *j = cJSON_CreateObject();
            gs_cli_add_path(j, "path", known[i].path);
            cJSON_AddStringToObject(j, "status", dry_run ? "would-remove" : "removed");
            gs_cli_print_json(stdout, j);
        } else {
            /* Which files, not only how many: a missing mount shows here. */
            printf("%s %s\n", dry_run ? "would remove:" : "removed:", known[i].path);
        }
    }
    if (in_tx) {
        if (st == GS_OK)
            st = gs_index_commit(ix, &err);
        else
            gs_index_rollback(ix);
    }
    gs_index_known_free(known, n);
    if (st != GS_OK) {
        fprintf(stderr, "genrescope prune: %s\n", err.message);
        gs_index_close(ix);
        return GS_EXIT_FATAL;
    }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON *sum = cJSON_AddObjectToObject(j, "summary");
        cJSON_AddNumberToObject(sum, "tracks", (double)n);
        cJSON_AddNumberToObject(sum, "removed", (double)removed);
        cJSON_AddBoolToObject(sum, "dry_run", dry_run);
        gs_cli_print_json(stdout, j);
    } else {
        printf("%zu of %zu indexed files no longer exist: %s\n", removed, n, dry_run ? "would be removed" : "removed");
    }
    if (!dry_run && removed && gs_emb_cache_refresh(ix, &err) != GS_OK)
        fprintf(stderr, "genrescope prune: warning: similarity cache not updated: %s\n", err.message);
    gs_index_close(ix);
    return GS_EXIT_OK;
}
