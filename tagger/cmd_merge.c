/* `genrescope merge OUT.sqlite SHARD.sqlite...`: combines the indexes of
 * `scan --shard K/N` runs. Each shard is merged in one transaction. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "emb_cache.h"

int gs_cmd_merge(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("merge");
    gs_cli_shared shared;
    int status = gs_cli_parse_shared_only(spec, argc, argv, &shared);
    if (status >= 0)
        return status;
    if (argc - optind < 2)
        return gs_cli_usage_error(spec, "OUT.sqlite and at least one SHARD.sqlite are needed");
    /* Merging the output into itself would wait on its own lock and then
     * blame "database is locked". */
    struct stat out_st;
    if (stat(argv[optind], &out_st) == 0)
        for (int i = optind + 1; i < argc; i++) {
            struct stat in_st;
            if (stat(argv[i], &in_st) == 0 && in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
                fprintf(stderr, "genrescope merge: the output %s is also an input\n", argv[optind]);
                return GS_EXIT_USAGE;
            }
        }
    /* OUT is an operand, not --db. */
    shared.db_path = argv[optind];
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_CREATE, &ix)) != GS_EXIT_OK)
        return status;
    const int json = shared.json;
    int rc = GS_EXIT_OK;
    for (int i = optind + 1; i < argc; i++) {
        gs_error err;
        gs_error_clear(&err);
        size_t n = 0;
        if (gs_index_merge_from(ix, argv[i], &n, &err) != GS_OK) {
            fprintf(stderr, "genrescope merge: %s: %s\n", argv[i], err.message);
            rc = GS_EXIT_FATAL;
            break;
        }
        if (json) {
            cJSON *j = cJSON_CreateObject();
            gs_cli_add_path(j, "shard", argv[i]);
            cJSON_AddNumberToObject(j, "tracks", (double)n);
            gs_cli_print_json(stdout, j);
        } else {
            printf("merged %zu tracks from %s\n", n, argv[i]);
        }
    }
    gs_error err;
    if (rc == GS_EXIT_OK && gs_emb_cache_refresh(ix, &err) != GS_OK)
        fprintf(stderr, "genrescope merge: warning: similarity cache not updated: %s\n", err.message);
    gs_index_close(ix);
    return rc;
}
