/* `genrescope stats`: counts, genre histogram, tag outcomes, index size. */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "genre_names.h"
#include "index_read.h"

typedef struct stats_ctx {
    cJSON *list;      /* JSON: the array or object being filled; NULL: text */
    int64_t analysed; /* tracks with a genre: the histogram's 100% */
    int first;
} stats_ctx;

static int print_genre(const char *label, int64_t n, double mean_confidence, void *arg)
{
    stats_ctx *c = arg;
    char display[128];
    gs_genre_display_name(label, display, sizeof display);
    if (c->list) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "genre", display);
        cJSON_AddStringToObject(g, "label", label);
        cJSON_AddNumberToObject(g, "tracks", (double)n);
        cJSON_AddNumberToObject(g, "mean_confidence", mean_confidence);
        cJSON_AddItemToArray(c->list, g);
    } else {
        double share = c->analysed ? (double)n / (double)c->analysed : 0;
        char bar[41];
        int len = (int)(share * 40 + 0.5);
        memset(bar, '#', (size_t)len);
        bar[len] = '\0';
        printf("  %-12s %7lld %5.1f%%  %-40s mean confidence %.2f\n", display, (long long)n, share * 100, bar,
               mean_confidence);
    }
    return 0;
}

static int print_tag_status(const char *status, int64_t n, double unused, void *arg)
{
    (void)unused;
    stats_ctx *c = arg;
    if (c->list)
        cJSON_AddNumberToObject(c->list, status, (double)n);
    else
        printf("%s%s %lld", c->first ? "tags: " : ", ", status, (long long)n);
    c->first = 0;
    return 0;
}

static int print_model(const char *model, int64_t n, double unused, void *arg)
{
    (void)unused;
    stats_ctx *c = arg;
    if (c->list)
        cJSON_AddNumberToObject(c->list, model, (double)n);
    else
        printf("model %s: %lld tracks\n", model, (long long)n);
    return 0;
}

int gs_cmd_stats(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("stats");
    gs_cli_shared shared;
    int status = gs_cli_parse_shared_only(spec, argc, argv, &shared);
    if (status >= 0)
        return status;
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_READ_ONLY, &ix)) != GS_EXIT_OK)
        return status;
    gs_error err;
    gs_index_counts n;
    if (gs_index_count(ix, &n, &err) != GS_OK) {
        fprintf(stderr, "genrescope stats: %s\n", err.message);
        gs_index_close(ix);
        return GS_EXIT_FATAL;
    }
    double hours = (double)n.seconds / 3600.0;
    cJSON *j = shared.json ? cJSON_CreateObject() : NULL;
    if (j) {
        cJSON_AddStringToObject(j, "index", gs_index_path(ix));
        cJSON_AddNumberToObject(j, "tracks", (double)n.tracks);
        cJSON_AddNumberToObject(j, "analysed", (double)(n.tracks - n.failed));
        cJSON_AddNumberToObject(j, "failed", (double)n.failed);
        cJSON_AddNumberToObject(j, "silent", (double)n.silent);
        cJSON_AddNumberToObject(j, "not_music", (double)n.not_music);
        cJSON_AddNumberToObject(j, "hours", hours);
        cJSON_AddNumberToObject(j, "index_bytes", (double)n.bytes);
        cJSON_AddNumberToObject(j, "bytes_per_track", n.tracks ? (double)n.bytes / (double)n.tracks : 0);
    } else {
        printf("index %s: %lld tracks (%.1f h of audio), %lld failed, %lld silent, %lld not music\n", gs_index_path(ix),
               (long long)n.tracks, hours, (long long)n.failed, (long long)n.silent, (long long)n.not_music);
        printf("index size: %.1f KiB (%.0f bytes per track)\n", (double)n.bytes / 1024.0,
               n.tracks ? (double)n.bytes / (double)n.tracks : 0.0);
    }
    stats_ctx ctx = {.list = j ? cJSON_AddArrayToObject(j, "genres") : NULL,
                     .analysed = n.tracks - n.failed - n.silent - n.not_music};
    gs_status st = gs_index_group(ix, GS_BY_GENRE, print_genre, &ctx, &err);
    ctx.list = j ? cJSON_AddObjectToObject(j, "tags") : NULL;
    ctx.first = 1;
    if (st == GS_OK)
        st = gs_index_group(ix, GS_BY_TAG_STATUS, print_tag_status, &ctx, &err);
    if (st == GS_OK && !j && !ctx.first)
        printf("\n");
    ctx.list = j ? cJSON_AddObjectToObject(j, "models") : NULL;
    if (st == GS_OK)
        st = gs_index_group(ix, GS_BY_MODEL, print_model, &ctx, &err);
    gs_index_close(ix);
    if (st != GS_OK) {
        cJSON_Delete(j);
        fprintf(stderr, "genrescope stats: %s\n", err.message);
        return GS_EXIT_FATAL;
    }
    if (j)
        gs_cli_print_json(stdout, j);
    return GS_EXIT_OK;
}
