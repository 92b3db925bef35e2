/* `genrescope merge OUT.sqlite SHARD.sqlite...`: combines the indexes of
 * `scan --shard K/N` runs. Each shard is merged in one transaction. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "commands.h"
#include "emb_cache.h"

int gs_cmd_merge(int argc, char **argv)
{
    enum { O_JSON = 256, O_BUSY };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, O_JSON}, {"busy-timeout", required_argument, NULL, O_BUSY},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    long busy = 5000;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = 1; break;
        case O_BUSY:
            if (gs_cli_parse_int(optarg, 0, 3600000, &busy)) {
                fprintf(stderr, "genrescope merge: bad value for --busy-timeout: '%s'\n", optarg);
                return GS_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: genrescope merge [--json] OUT.sqlite SHARD.sqlite...\n\n"
                   "Adds every track of the shard indexes to OUT (created if missing); a path\n"
                   "present in several takes the last shard's row.\n");
            return GS_EXIT_OK;
        default: return GS_EXIT_USAGE;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: genrescope merge OUT.sqlite SHARD.sqlite...\n");
        return GS_EXIT_USAGE;
    }
    /* Merging the output into itself would wait on its own lock and then
     * blame "database is locked". */
    struct stat out_st;
    if (stat(argv[optind], &out_st) == 0)
        for (int i = optind + 1; i < argc; i++) {
            struct stat in_st;
            if (stat(argv[i], &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
                in_st.st_ino == out_st.st_ino) {
                fprintf(stderr, "genrescope merge: the output %s is also an input\n",
                        argv[optind]);
                return GS_EXIT_USAGE;
            }
        }
    gs_index *ix = gs_cli_open_index("merge", argv[optind], GS_INDEX_CREATE, (int)busy);
    if (!ix)
        return GS_EXIT_FATAL;
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
        fprintf(stderr, "genrescope merge: warning: similarity cache not updated: %s\n",
                err.message);
    gs_index_close(ix);
    return rc;
}
