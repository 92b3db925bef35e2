/* `genrescope playlist --seed FILE [-c 30] [--out list.m3u]`: a greedy
 * walk through embedding space. Each next track is the unused one closest
 * to a blend of the current track and the seed, so the list drifts
 * smoothly but never wanders far from the seed, and never repeats. The
 * vectors come from the embedding cache (as for `similar`), not from
 * SQLite. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "emb_cache.h"
#include "genre_names.h"
#include "genrescope/outfile.h"
#include "index_read.h"
#include "m3u.h"
#include "similarity.h"
#include "tag_writer.h"

/* Weight of the seed in each step's target (the rest is the current track). */
#define SEED_PULL 0.5f

/* The tracks a playlist may use: row positions into ids/vectors (all rows
 * when positions is NULL). From the embedding cache, or, when the seed's
 * model has another embedding size than the cache holds, from its tracks
 * read through SQLite. */
typedef struct playlist_space {
    size_t count, dim;
    const size_t *positions;
    const int64_t *ids;
    const float *vectors;
} playlist_space;

static const float *vector_at(const playlist_space *sp, size_t i)
{
    return sp->vectors + (sp->positions ? sp->positions[i] : i) * sp->dim;
}

static int64_t id_at(const playlist_space *sp, size_t i)
{
    return sp->ids[sp->positions ? sp->positions[i] : i];
}

/* The greedy walk from candidate seed: order receives up to length
 * candidate indices (the seed first); returns how many. */
static long walk(const playlist_space *sp, size_t seed, long length, long *order, unsigned char *used,
                 float *target)
{
    const size_t dim = sp->dim;
    const float *sv = vector_at(sp, seed);
    long n = 0;
    size_t cur = seed;
    order[n++] = (long)seed;
    used[seed] = 1;
    while (n < length) {
        const float *cv = vector_at(sp, cur);
        for (size_t d = 0; d < dim; d++)
            target[d] = SEED_PULL * sv[d] + (1 - SEED_PULL) * cv[d];
        long best = -1;
        float best_score = -2;
        for (size_t i = 0; i < sp->count; i++) {
            if (used[i])
                continue;
            float sc = gs_dot(target, vector_at(sp, i), dim);
            if (sc > best_score) {
                best_score = sc;
                best = (long)i;
            }
        }
        if (best < 0)
            break; /* the library is smaller than the list */
        used[best] = 1;
        order[n++] = best;
        cur = (size_t)best;
    }
    return n;
}

int gs_cmd_playlist(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("playlist");
    gs_cli_parser parser;
    gs_cli_shared shared;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, &shared);
    const char *seed = NULL, *out_path = NULL, *relative_arg = NULL;
    char relative_to[PATH_MAX];
    long length = 30;
    int c, status;
    while ((c = gs_cli_next(&parser, argc, argv, &status)) != GS_CLI_END) {
        switch (c) {
        case GS_CLI_EXIT: return status;
        case GS_OPT_SEED: seed = optarg; break;
        case GS_OPT_OUT: out_path = optarg; break;
        case GS_OPT_RELATIVE_TO: relative_arg = optarg; break;
        case 'c':
        case GS_OPT_ALIAS_LENGTH:
            if (gs_cli_parse_int(optarg, 1, 100000, &length))
                return gs_cli_bad_value(spec, c, optarg);
            break;
        default: return gs_cli_unhandled(spec, c);
        }
    }
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    if (!seed)
        return gs_cli_usage_error(spec, "--seed is needed");
    struct stat rst;
    if (relative_arg && (!realpath(relative_arg, relative_to) || stat(relative_to, &rst) != 0 ||
                         (!S_ISDIR(rst.st_mode) && (errno = ENOTDIR))))
        return gs_cli_usage_error(spec, "--relative-to %s: %s", relative_arg, strerror(errno));
    const char *relative = relative_arg ? relative_to : NULL;
    gs_error err;
    gs_error_clear(&err);
    /* Opened before any work, so a bad --out fails at once. The list goes
     * to a temporary file renamed over --out when complete: a failure never
     * leaves half a list or destroys the previous one. */
    gs_outfile *outfile = NULL;
    if (out_path && !(outfile = gs_outfile_open(out_path, GS_OUTFILE_ALLOW_STDOUT, &err))) {
        fprintf(stderr, "genrescope playlist: --out: %s\n", err.message);
        return GS_EXIT_FATAL;
    }
    gs_index *ix;
    if ((status = gs_cli_shared_open(&shared, spec, GS_INDEX_READ_ONLY, &ix)) != GS_EXIT_OK) {
        gs_outfile_discard(outfile);
        return status;
    }
    const int json = shared.json;
    gs_track_row row = {0}, hit = {0};
    gs_embedding_set set = {0};
    gs_emb_cache *cache = NULL;
    size_t *positions = NULL;
    unsigned char *used = NULL;
    long *order = NULL, n = 0;
    float *target = NULL, *seed_vec = NULL;
    size_t dim = 0, other_model = 0;
    playlist_space sp = {0};
    FILE *out = stdout;
    int rc = GS_EXIT_SOME_FAILED;
    if (gs_index_find_track(ix, seed, &row, &err) != GS_OK ||
        gs_index_track_embedding(ix, row.id, &seed_vec, &dim, &err) != GS_OK ||
        gs_emb_cache_open(ix, 0, &cache, &err) != GS_OK)
        goto done;
    /* Only the seed's model: embeddings of different models are not
     * comparable. */
    if (gs_emb_cache_dim(cache) == dim) {
        size_t count = 0;
        if (gs_emb_cache_model_positions(cache, row.model_id, &positions, &count, &other_model, &err) !=
            GS_OK)
            goto done;
        sp = (playlist_space){count, dim, positions, gs_emb_cache_ids(cache), gs_emb_cache_vectors(cache)};
    } else {
        if (gs_embedding_set_load_model(ix, NULL, row.model_id, &set, &other_model, &err) != GS_OK)
            goto done;
        sp = (playlist_space){set.count, set.dim, NULL, set.ids, set.vectors};
    }
    long s = -1;
    for (size_t i = 0; i < sp.count && s < 0; i++)
        if (id_at(&sp, i) == row.id)
            s = (long)i;
    if (s < 0 || sp.dim != dim) {
        gs_error_set(&err, GS_ERR_INVALID,
                     "%s has no embedding (failed or silent) or another size than its model's "
                     "other tracks",
                     row.path);
        goto done;
    }
    used = calloc(sp.count, 1);
    order = malloc((size_t)length * sizeof *order);
    target = malloc(dim * sizeof *target);
    if (!used || !order || !target) {
        gs_error_set(&err, GS_ERR_NOMEM, "out of memory");
        goto done;
    }
    n = walk(&sp, (size_t)s, length, order, used, target);
    if (outfile && !(out = gs_outfile_stream(outfile))) {
        out = stdout;
        gs_error_set(&err, GS_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!json && gs_m3u_write_header(out) != 0) {
        gs_error_set(&err, GS_ERR_IO, "cannot write the playlist");
        goto done;
    }
    const float *sv = vector_at(&sp, (size_t)s);
    long listed = 0;
    for (long i = 0; i < n; i++) {
        /* Path, genre and duration of the chosen tracks only: point lookups.
         * A track a concurrent scan pruned since the cache was read is left
         * out. */
        gs_track_row_clear(&hit);
        gs_status st = gs_index_track_by_id(ix, id_at(&sp, (size_t)order[i]), &hit, &err);
        if (st == GS_ERR_INVALID)
            continue;
        if (st != GS_OK)
            goto done;
        listed++;
        char display[128] = "";
        if (hit.top_genre)
            gs_genre_display_name(hit.top_genre, display, sizeof display);
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "position", (double)listed);
            cJSON_AddNumberToObject(j, "id", (double)hit.id);
            gs_cli_add_path(j, "path", hit.path);
            cJSON_AddStringToObject(j, "genre", display);
            if (hit.top_genre)
                cJSON_AddStringToObject(j, "label", hit.top_genre);
            cJSON_AddNumberToObject(j, "similarity_to_seed", gs_dot(sv, vector_at(&sp, (size_t)order[i]), dim));
            gs_cli_print_json(out, j);
        } else {
            char title[512];
            gs_tag_read_title(hit.path, title, sizeof title);
            if (gs_m3u_write_entry(out, hit.path, hit.duration, title, relative) != 0) {
                gs_error_set(&err, GS_ERR_IO, "cannot write the playlist");
                goto done;
            }
        }
    }
    if (listed < length)
        fprintf(stderr, "genrescope playlist: only %ld tracks available\n", listed);
    gs_cli_report_other_model("playlist", json, out, row.model_id, other_model);
    rc = GS_EXIT_OK;
done:
    if (outfile) {
        if (rc != GS_EXIT_OK)
            gs_outfile_discard(outfile);
        else if (gs_outfile_commit(outfile, &err) != GS_OK)
            rc = GS_EXIT_FATAL;
    }
    if (rc != GS_EXIT_OK)
        fprintf(stderr, "genrescope playlist: %s\n", err.message);
    free(used);
    free(order);
    free(target);
    free(seed_vec);
    free(positions);
    gs_emb_cache_close(cache);
    gs_embedding_set_free(&set);
    gs_track_row_clear(&hit);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return rc;
}
