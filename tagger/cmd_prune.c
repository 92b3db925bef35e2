/* `genrescope prune`: removes the index rows of files that no longer exist
 * (a scan of DIR does this for DIR only). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "commands.h"
#include "emb_cache.h"

int gs_cmd_prune(int argc, char **argv)
{
    enum { O_DB = 256, O_JSON, O_BUSY };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB},
        {"json", no_argument, NULL, O_JSON},
        {"dry-run", no_argument, NULL, 'n'},
        {"busy-timeout", required_argument, NULL, O_BUSY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db_path = NULL;
    int json = 0, dry_run = 0, c;
    long busy = 5000;
    optind = 1;
    while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB: db_path = optarg; break;
        case O_JSON: json = 1; break;
        case 'n': dry_run = 1; break;
        case O_BUSY:
            if (gs_cli_parse_int(optarg, 0, 3600000, &busy)) {
                fprintf(stderr, "genrescope prune: bad value for --busy-timeout: '%s'\n", optarg);
                return GS_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: genrescope prune [--db FILE] [-n|--dry-run] [--json]\n\n"
                   "Removes from the index every file that no longer exists (moved or deleted).\n"
                   "A file on an unmounted disk is missing too: mount it first.\n");
            return GS_EXIT_OK;
        default: return GS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "genrescope prune: unexpected argument '%s'\n", argv[optind]);
        return GS_EXIT_USAGE;
    }
    gs_index *ix = gs_cli_open_index("prune", db_path, dry_run ? GS_INDEX_READ_ONLY : 0, (int)busy);
    if (!ix)
        return GS_EXIT_FATAL;
    gs_error err;
    gs_error_clear(&err);
    gs_index_known *known = NULL;
    size_t n = 0, removed = 0;
    gs_status st = gs_index_load_known(ix, &known, &n, &err);
    int in_tx = 0;
    for (size_t i = 0; st == GS_OK && i < n; i++) {
        struct stat sb;
        if (!known[i].path || lstat(known[i].path, &sb) == 0 || (errno != ENOENT && errno != ENOTDIR))
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
            cJSON_AddStringToObject(j, "status", "removed");
            gs_cli_print_json(stdout, j);
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
        printf("%zu of %zu indexed files no longer exist: %s\n", removed, n,
               dry_run ? "would be removed" : "removed");
    }
    if (!dry_run && removed && gs_emb_cache_refresh(ix, &err) != GS_OK)
        fprintf(stderr, "genrescope prune: warning: similarity cache not updated: %s\n",
                err.message);
    gs_index_close(ix);
    return GS_EXIT_OK;
}
