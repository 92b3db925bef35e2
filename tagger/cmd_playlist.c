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
static long walk(const playlist_space *sp, size_t seed, long length, long *order, unsigned char *used, float *target)
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

/* The playlist chosen from the seed: its space and the walk's order. */
typedef struct playlist_tracks {
    playlist_space sp;
    gs_emb_cache *cache; /* the space's storage: the cache ... */
    size_t *positions;
    gs_embedding_set set; /* ... or the seed model's tracks from SQLite */
    size_t seed;          /* the seed's candidate index */
    long *order, n;       /* candidate indices, the seed first */
    size_t other_model;   /* tracks left out for another model */
} playlist_tracks;

static void playlist_tracks_free(playlist_tracks *pt)
{
    free(pt->order);
    free(pt->positions);
    gs_emb_cache_close(pt->cache);
    gs_embedding_set_free(&pt->set);
    memset(pt, 0, sizeof *pt);
}

/* Finds the seed's model's tracks and walks length of them from the seed
 * (row) into *pt (free with playlist_tracks_free, also after a failure).
 * Errors: GS_ERR_INVALID (the seed has no usable embedding), GS_ERR_IO,
 * GS_ERR_NOMEM. */
static gs_status choose_tracks(gs_index *ix, const gs_track_row *row, long length, playlist_tracks *pt, gs_error *err)
{
    float *seed_vec = NULL;
    size_t dim = 0;
    gs_status st = gs_index_track_embedding(ix, row->id, &seed_vec, &dim, err);
    free(seed_vec); /* only its size matters: the walk reads the space's copy */
    if (st == GS_OK)
        st = gs_emb_cache_open(ix, 0, &pt->cache, err);
    if (st != GS_OK)
        return st;
    /* Only the seed's model: embeddings of different models are not
     * comparable. */
    if (gs_emb_cache_dim(pt->cache) == dim) {
        size_t count = 0;
        st = gs_emb_cache_model_positions(pt->cache, row->model_id, &pt->positions, &count, &pt->other_model, err);
        pt->sp =
            (playlist_space){count, dim, pt->positions, gs_emb_cache_ids(pt->cache), gs_emb_cache_vectors(pt->cache)};
    } else {
        st = gs_embedding_set_load_model(ix, NULL, row->model_id, &pt->set, &pt->other_model, err);
        pt->sp = (playlist_space){pt->set.count, pt->set.dim, NULL, pt->set.ids, pt->set.vectors};
    }
    if (st != GS_OK)
        return st;
    long s = -1;
    for (size_t i = 0; i < pt->sp.count && s < 0; i++)
        if (id_at(&pt->sp, i) == row->id)
            s = (long)i;
    if (s < 0 || pt->sp.dim != dim)
        return gs_error_set(err, GS_ERR_INVALID,
                            "%s has no embedding (failed or silent) or another size than its model's other tracks",
                            row->path);
    unsigned char *used = calloc(pt->sp.count, 1);
    float *target = malloc(dim * sizeof *target);
    pt->order = malloc((size_t)length * sizeof *pt->order);
    if (used && target && pt->order) {
        pt->seed = (size_t)s;
        pt->n = walk(&pt->sp, pt->seed, length, pt->order, used, target);
    } else {
        st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    free(used);
    free(target);
    return st;
}

/* Writes the chosen tracks to out: an M3U8 list, or JSON lines. A track a
 * concurrent scan pruned since the cache was read is left out; *listed
 * counts the others. Errors: GS_ERR_IO (the index, or out), GS_ERR_NOMEM. */
static gs_status write_list(gs_index *ix, const playlist_tracks *pt, FILE *out, int json, const char *relative,
                            long *listed, gs_error *err)
{
    const playlist_space *sp = &pt->sp;
    if (!json && gs_m3u_write_header(out) != 0)
        return gs_error_set(err, GS_ERR_IO, "cannot write the playlist");
    const float *sv = vector_at(sp, pt->seed);
    gs_track_row hit = {0};
    gs_status st = GS_OK;
    *listed = 0;
    for (long i = 0; i < pt->n && st == GS_OK; i++) {
        /* Path, genre and duration of the chosen tracks only: point lookups. */
        gs_track_row_clear(&hit);
        st = gs_index_track_by_id(ix, id_at(sp, (size_t)pt->order[i]), &hit, err);
        if (st == GS_ERR_INVALID) {
            st = GS_OK;
            continue;
        }
        if (st != GS_OK)
            break;
        ++*listed;
        char display[128] = "";
        if (hit.top_genre)
            gs_genre_display_name(hit.top_genre, display, sizeof display);
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "position", (double)*listed);
            cJSON_AddNumberToObject(j, "id", (double)hit.id);
            gs_cli_add_path(j, "path", hit.path);
            cJSON_AddStringToObject(j, "genre", display);
            if (hit.top_genre)
                cJSON_AddStringToObject(j, "label", hit.top_genre);
            cJSON_AddNumberToObject(j, "similarity_to_seed", gs_dot(sv, vector_at(sp, (size_t)pt->order[i]), sp->dim));
            gs_cli_print_json(out, j);
        } else {
            char title[512];
            gs_tag_read_title(hit.path, title, sizeof title);
            if (gs_m3u_write_entry(out, hit.path, hit.duration, title, relative) != 0)
                st = gs_error_set(err, GS_ERR_IO, "cannot write the playlist");
        }
    }
    gs_track_row_clear(&hit);
    return st;
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
            if (gs_parse_long(optarg, 1, 100000, &length))
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
    if (relative_arg &&
        (!realpath(relative_arg, relative_to) || stat(relative_to, &rst) != 0 ||
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
    gs_track_row row = {0};
    playlist_tracks pt = {0};
    FILE *out = stdout;
    long listed = 0;
    int rc = GS_EXIT_SOME_FAILED;
    if (gs_index_find_track(ix, seed, &row, &err) != GS_OK || choose_tracks(ix, &row, length, &pt, &err) != GS_OK)
        goto done;
    if (outfile && !(out = gs_outfile_stream(outfile))) {
        out = stdout;
        gs_error_set(&err, GS_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (write_list(ix, &pt, out, json, relative, &listed, &err) != GS_OK)
        goto done;
    if (listed < length)
        fprintf(stderr, "genrescope playlist: only %ld tracks available\n", listed);
    gs_cli_report_other_model("playlist", json, out, row.model_id, pt.other_model);
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
    playlist_tracks_free(&pt);
    gs_track_row_clear(&row);
    gs_index_close(ix);
    return rc;
}
