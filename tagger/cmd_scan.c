/* `genrescope scan DIR...` and `genrescope rescan [DIR...]`: walk, analyse
 * with all cores, tag, index. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyser.h"
#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "emb_cache.h"
#include "genre_names.h"
#include "scan.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    /* A second Ctrl-C kills at once; the index survives that too. */
    stop_requested = 1;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

static void walk_warning(void *user, const char *path, const char *reason)
{
    const gs_scan_options *o = user;
    if (o->report == GS_REPORT_JSON) {
        cJSON *j = cJSON_CreateObject();
        gs_cli_add_path(j, "path", path);
        cJSON_AddStringToObject(j, "status", "skipped");
        cJSON_AddStringToObject(j, "error", reason);
        gs_cli_print_json(o->out, j);
    } else {
        fprintf(stderr, "skipped: %s: %s\n", path, reason); /* --quiet too: it is a problem */
    }
}

/* The file list of `rescan` without DIRs: every path in the index. A path
 * that vanished stays in the list with size -1 and fails as "missing". */
static gs_status list_indexed(gs_index *ix, gs_walk_list *out, gs_error *err)
{
    gs_index_known *known;
    size_t n;
    gs_status st = gs_index_load_known(ix, &known, &n, err);
    if (st != GS_OK)
        return st;
    out->entries = calloc(n ? n : 1, sizeof *out->entries);
    if (!out->entries) {
        gs_index_known_free(known, n);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    out->capacity = n;
    for (size_t i = 0; i < n; i++) {
        gs_walk_entry *e = &out->entries[out->count++];
        e->path = known[i].path;
        known[i].path = NULL;
        e->rel = strdup(e->path);
        struct stat sb;
        e->size = -1;
        if (stat(e->path, &sb) == 0) {
            e->size = (int64_t)sb.st_size;
            e->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
        }
    }
    gs_index_known_free(known, n);
    return GS_OK;
}

static void free_roots(char **roots, int n)
{
    for (int i = 0; roots && i < n; i++)
        free(roots[i]);
    free(roots);
}

/* The configuration file's settings (config.h): defaults the command line
 * overrides. Values were checked when the file was read. */
static void apply_config(gs_scan_options *o)
{
    const char *v;
    if (gs_config_flag(GS_CONFIG_MULTI))
        o->multi = 1;
    if ((v = gs_config_value(GS_CONFIG_MULTI_THRESHOLD)))
        o->multi_threshold = strtof(v, NULL);
    if ((v = gs_config_value(GS_CONFIG_MULTI_SEPARATOR)))
        o->multi_separator = v;
    if ((v = gs_config_value(GS_CONFIG_MIN_CONFIDENCE)))
        o->min_confidence = strtof(v, NULL);
    if (gs_config_flag(GS_CONFIG_OVERWRITE))
        o->overwrite = 1;
    if ((v = gs_config_value(GS_CONFIG_JOBS)))
        o->num_workers = atoi(v);
}

/* What the command line asks of one scan or rescan. */
typedef struct scan_request {
    const char *cmd;
    const gs_cli_spec *spec;
    gs_cli_shared shared;
    gs_scan_options o;
    const char *model_path;
    int include_hidden, shard_k, shard_n;
    int num_paths; /* the DIR|FILE operands */
    char *const *paths;
} scan_request;

/* Parses argv into *r (defaults from the configuration). Returns -1 when
 * all is well, else the exit status (the message printed). */
static int parse_request(int argc, char **argv, int rescan, scan_request *r)
{
    r->cmd = rescan ? "rescan" : "scan";
    r->spec = gs_cli_find(r->cmd);
    const gs_cli_spec *spec = r->spec;
    gs_cli_parser parser;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &r->shared);
    gs_scan_options *o = &r->o;
    *o = (gs_scan_options){
        .num_workers = (int)sysconf(_SC_NPROCESSORS_ONLN),
        .force = rescan,
        .write_tags = 1,
        .multi_threshold = 0.25f,
        .min_confidence = -1.0f, /* unset: the model's recommendation */
        .batch_size = 50,
        .batch_seconds = 2.0,
        .report = GS_REPORT_PROGRESS,
        .out = stdout,
        .progress = stderr,
        .progress_tty = isatty(STDERR_FILENO),
        .stop = &stop_requested,
    };
    r->model_path = gs_config_value(GS_CONFIG_MODEL);
    r->shard_k = r->shard_n = 1;
    apply_config(o);
    int c, status;
    long lv;
    double dv;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case 'm': r->model_path = optarg; break;
        case 'j':
            if (gs_parse_long(optarg, 1, 1024, &lv))
                goto bad;
            o->num_workers = (int)lv;
            break;
        case GS_OPT_NO_TAGS: o->write_tags = 0; break;
        case GS_OPT_OVERWRITE: o->overwrite = 1; break;
        case GS_OPT_NO_OVERWRITE: o->overwrite = 0; break;
        case 'n': o->dry_run = 1; break;
        case GS_OPT_MULTI:
            o->multi = 1;
            o->no_multi = 0;
            break;
        case GS_OPT_NO_MULTI:
            o->multi = 0;
            o->no_multi = 1;
            break;
        case GS_OPT_MULTI_THRESHOLD:
            if (gs_parse_double(optarg, 0.0, 1.0, &dv))
                goto bad;
            o->multi_threshold = (float)dv;
            o->multi = 1;
            break;
        case GS_OPT_MULTI_SEPARATOR:
            if (!optarg[0] || strpbrk(optarg, "\n\r"))
                goto bad;
            o->multi_separator = optarg;
            break;
        case GS_OPT_HIDDEN: r->include_hidden = 1; break;
        case GS_OPT_SHARD:
            if (sscanf(optarg, "%d/%d", &r->shard_k, &r->shard_n) != 2 || r->shard_n < 1 || r->shard_k < 1 ||
                r->shard_k > r->shard_n)
                return gs_cli_usage_error(spec, "--shard wants K/N with 1 <= K <= N");
            break;
        case GS_OPT_BATCH:
            if (gs_parse_long(optarg, 1, 100000, &lv))
                goto bad;
            o->batch_size = (int)lv;
            break;
        case GS_OPT_BATCH_SECONDS:
            if (gs_parse_double(optarg, 0.001, 3600, &dv))
                goto bad;
            o->batch_seconds = dv;
            break;
        case 'q': o->report = GS_REPORT_QUIET; break;
        case GS_OPT_FORCE: o->force = 1; break;
        case GS_OPT_MIN_CONFIDENCE:
            if (gs_parse_double(optarg, 0.0, 1.0, &dv))
                goto bad;
            o->min_confidence = (float)dv;
            break;
        case GS_OPT_BREAK_HARDLINKS: o->break_hardlinks = 1; break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind >= argc && !rescan)
        return gs_cli_usage_error(spec, "no DIR or FILE to scan");
    r->num_paths = argc - optind;
    r->paths = argv + optind;
    if (r->shared.json) {
        o->report = GS_REPORT_JSON;
        o->progress_tty = 0;
    }
    if (gs_cli_load_genre_names(r->cmd, r->shared.genre_names) != 0)
        return GS_EXIT_USAGE;
    /* A path that is not there is a typo: say so before creating an index
     * for nothing. */
    for (int i = 0; i < r->num_paths; i++) {
        struct stat ps;
        if (stat(r->paths[i], &ps) != 0) {
            fprintf(stderr, "genrescope %s: %s: %s\n", r->cmd, r->paths[i], strerror(errno));
            return GS_EXIT_USAGE;
        }
    }
    return -1;
bad:
    return gs_cli_bad_value(spec, c, optarg);
}

/* Opens the index the scan writes, locked for this scan; a dry run reads
 * an existing one (for incremental decisions) or works against an empty
 * one in memory, and never creates or migrates anything. NULL after
 * printing why. */
static gs_index *open_scan_index(const scan_request *r)
{
    char def[PATH_MAX];
    const char *db_path = r->shared.db_path;
    if (!db_path && gs_index_default_path(def, sizeof def) == 0)
        db_path = def;
    struct stat dbst;
    int flags = GS_INDEX_CREATE;
    if (r->o.dry_run) {
        flags = GS_INDEX_READ_ONLY;
        if (!db_path || stat(db_path, &dbst) != 0) {
            db_path = ":memory:";
            flags = GS_INDEX_CREATE;
        }
    }
    gs_index *ix = gs_cli_open_index(r->cmd, db_path, flags, (int)r->shared.busy_ms);
    gs_error err;
    gs_error_clear(&err);
    /* Two scans of one index would analyse everything twice and each take
     * the other's tags for the user's. A dry run changes nothing. */
    if (ix && !r->o.dry_run && (gs_index_lock_scan(ix, &err) != GS_OK || gs_index_check(ix, &err) != GS_OK)) {
        fprintf(stderr, "genrescope %s: %s\n", r->cmd, err.message);
        gs_index_close(ix);
        return NULL;
    }
    return ix;
}

/* The scan's files (the operands walked, or every indexed file for a
 * rescan without operands, then this shard's part) and the directories
 * whose vanished files it may prune (canonical, as the walk names files;
 * *roots malloc'd, free with free_roots). Returns -1, or the exit status
 * after printing why. */
static int gather_files(const scan_request *r, gs_index *ix, gs_scan_options *o, gs_walk_list *files, char ***roots)
{
    gs_error err;
    gs_error_clear(&err);
    gs_status st = r->num_paths > 0
        ? gs_walk_library((const char *const *)r->paths, r->num_paths, r->include_hidden, walk_warning, o, files, &err)
        : list_indexed(ix, files, &err);
    if (st != GS_OK) {
        fprintf(stderr, "genrescope %s: %s\n", r->cmd, err.message);
        return st == GS_ERR_NOMEM ? GS_EXIT_FATAL : GS_EXIT_USAGE;
    }
    gs_walk_list_shard(files, r->shard_k, r->shard_n);
    *roots = calloc((size_t)(r->num_paths > 0 ? r->num_paths : 1), sizeof **roots);
    int kept = 0;
    for (int i = 0; *roots && i < r->num_paths; i++) {
        char *root = realpath(r->paths[i], NULL);
        struct stat rs;
        if (root && stat(root, &rs) == 0 && S_ISDIR(rs.st_mode))
            (*roots)[kept++] = root;
        else
            free(root);
    }
    o->prune_roots = (const char *const *)*roots;
    o->num_prune_roots = kept;
    return -1;
}

/* Runs the scan with Ctrl-C and SIGTERM asking it to stop, prints the
 * summary and refreshes the similarity cache. Returns the exit status. */
static int run_and_report(const scan_request *r, gs_analyser *an, gs_index *ix, const gs_walk_list *files,
                          gs_scan_options *o)
{
    /* The model knows from which confidence its genres were right often
     * enough to write (measured when it was trained); older models do not. */
    if (o->min_confidence < 0.0f) {
        float recommended = gs_analyser_tag_min_confidence(an);
        o->min_confidence = recommended > 0.0f ? recommended : GS_DEFAULT_MIN_CONFIDENCE;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gs_scan_stats stats;
    gs_error err;
    gs_error_clear(&err);
    gs_status st = gs_scan_run(an, ix, files, o, &stats, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    /* A scan stopped before any file (a locked index) has nothing to sum up. */
    if (st == GS_OK || stats.analysed + stats.failed + stats.unchanged + stats.removed > 0)
        gs_scan_report_summary(o, &stats, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    int rc = GS_EXIT_OK;
    if (st != GS_OK) {
        fprintf(stderr, "genrescope %s: %s\n", r->cmd, err.message);
        rc = GS_EXIT_FATAL;
    } else if (stats.interrupted) {
        rc = GS_EXIT_INTERRUPTED;
    } else if (stats.failed || stats.tag_failed) {
        rc = GS_EXIT_SOME_FAILED;
    }
    /* Rebuild the similarity cache now rather than on the first query (a
     * no-op when nothing it reads changed). Only a cache: a failure is
     * worth a warning, never the exit status. */
    if (st == GS_OK && !o->dry_run && !stats.interrupted && stats.analysed > 0 &&
        gs_emb_cache_refresh(ix, &err) != GS_OK && o->report != GS_REPORT_QUIET)
        fprintf(stderr, "genrescope %s: warning: similarity cache not updated: %s\n", r->cmd, err.message);
    return rc;
}

static int run_scan(int argc, char **argv, int rescan)
{
    scan_request r = {0};
    int rc = parse_request(argc, argv, rescan, &r);
    if (rc >= 0)
        return rc;
    gs_index *ix = open_scan_index(&r);
    if (!ix)
        return GS_EXIT_FATAL;
    gs_walk_list files = {0};
    char **roots = NULL;
    gs_analyser *an = NULL;
    gs_error err;
    gs_error_clear(&err);
    if ((rc = gather_files(&r, ix, &r.o, &files, &roots)) >= 0)
        goto done;
    if (!(an = gs_analyser_open(r.model_path, r.o.num_workers, &err))) {
        fprintf(stderr, "genrescope %s: %s\n", r.cmd, err.message);
        rc = GS_EXIT_FATAL;
        goto done;
    }
    rc = run_and_report(&r, an, ix, &files, &r.o);
done:
    gs_analyser_close(an);
    gs_walk_list_free(&files);
    free_roots(roots, r.o.num_prune_roots);
    gs_index_close(ix);
    return rc;
}

int gs_cmd_scan(int argc, char **argv)
{
    return run_scan(argc, argv, 0);
}

int gs_cmd_rescan(int argc, char **argv)
{
    return run_scan(argc, argv, 1);
}
