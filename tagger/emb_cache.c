/* The embedding cache file (<db>.emb), native little-endian:
 *
 *   offset 0   header (128 bytes, struct emb_header below)
 *   128        int64   ids[count]            track ids: the vec_count
 *                                            searchable ones ascending, then
 *                                            the others ascending
 *   align 64   uint16  genres[count]         top genre: index into the
 *                                            string table, 0xffff: none
 *   align 64   uint16  models[count]         model_id: index into the
 *                                            string table, 0xffff: none
 *   align 64   float32 vectors[vec_count][dim]  L2-normalised
 *   align 64   uint32  part_track[part_count]   position (< vec_count) of
 *                                            the long track a part is of,
 *                                            ascending
 *   align 64   float32 part_span[part_count][2] start and end, seconds
 *   align 64   float32 part_vectors[part_count][dim]  L2-normalised
 *   ...        string table: num_strings NUL-terminated genre labels and
 *              model ids
 *
 * The tracks after vec_count have an embedding of another size (so of
 * another model): they are never candidates, but a search counts them
 * when it leaves them out for their model. Parts are the windows of the
 * searchable tracks of at least GS_EMB_PART_MIN_SECONDS that have a window
 * embedding (schema 6), in window order. The file size must be exactly
 * what the header implies. Vectors are 64-byte aligned in the file and the
 * mapping is page aligned, so the scan runs on aligned memory. */
#include "emb_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genrescope/outfile.h"
#include "index_read.h"

#define EMB_MAGIC  "GSEMBED3"
#define EMB_ENDIAN 0x01020304u
#define NO_CODE    0xffffu
#define MAX_DIM    65536u

typedef struct emb_header {
    char magic[8];
    uint32_t endian;
    uint32_t header_size;
    int64_t uid;
    int64_t generation;
    uint64_t count;
    uint64_t vec_count;
    uint32_t dim;
    uint32_t num_strings;
    uint64_t strings_offset;
    uint64_t strings_bytes;
    uint64_t part_count;
    unsigned char reserved[48];
} emb_header;

_Static_assert(sizeof(emb_header) == 128, "the header is 128 bytes on disk");

struct gs_emb_cache {
    void *base; /* the image: mapping or heap */
    size_t size;
    int mapped;
    gs_emb_cache_source source;
    int64_t generation;
    size_t count, vec_count, dim;
    const int64_t *ids;
    const uint16_t *genres;
    const uint16_t *models;
    const float *vectors;
    size_t part_count;
    const uint32_t *part_track;
    const float *part_span;
    const float *part_vectors;
    const char *strings;
    uint32_t num_strings;
};

static uint64_t align64(uint64_t x)
{
    return (x + 63) & ~(uint64_t)63;
}

typedef struct emb_layout {
    uint64_t genres, models, vectors, part_track, part_span, part_vectors, strings;
} emb_layout;

/* Section offsets for count tracks, vec_count of them with dim floats, and
 * part_count parts; 0 on overflow. */
static int layout(uint64_t count, uint64_t vec_count, uint64_t dim, uint64_t part_count, emb_layout *l)
{
    const uint64_t limit = (UINT64_MAX / 16) / (dim ? dim : 1) / 16;
    if (dim > MAX_DIM || vec_count > count || count > limit || part_count > limit)
        return 0;
    l->genres = align64(sizeof(emb_header) + count * 8);
    l->models = align64(l->genres + count * 2);
    l->vectors = align64(l->models + count * 2);
    l->part_track = align64(l->vectors + vec_count * dim * 4);
    l->part_span = align64(l->part_track + part_count * 4);
    l->part_vectors = align64(l->part_span + part_count * 8);
    l->strings = l->part_vectors + part_count * dim * 4;
    return 1;
}

/* Points c's views into the image at base if it is well formed and made
 * for (uid, generation); 0 if not (then it must not be used). */
static int attach(gs_emb_cache *c, const unsigned char *base, size_t size, int64_t uid, int64_t generation)
{
    emb_header h;
    if (size < sizeof h)
        return 0;
    memcpy(&h, base, sizeof h);
    emb_layout l;
    if (memcmp(h.magic, EMB_MAGIC, 8) != 0 || h.endian != EMB_ENDIAN || h.header_size != sizeof h || h.uid != uid ||
        h.generation != generation || h.dim == 0 || !layout(h.count, h.vec_count, h.dim, h.part_count, &l) ||
        h.strings_offset != l.strings || h.strings_bytes > size || l.strings > size - h.strings_bytes ||
        l.strings + h.strings_bytes != size || h.num_strings >= NO_CODE)
        return 0;
    /* The string table: exactly num_strings NUL-terminated strings. Codes
     * are only compared, never followed, so they need no check. */
    const char *t = (const char *)base + l.strings;
    uint32_t strings = 0;
    for (uint64_t i = 0; i < h.strings_bytes; i++)
        strings += t[i] == '\0';
    if (strings != h.num_strings || (h.strings_bytes && t[h.strings_bytes - 1] != '\0'))
        return 0;
    /* Parts are followed (a track position indexes ids): check them. */
    const uint32_t *part_track = (const uint32_t *)(base + l.part_track);
    for (uint64_t i = 0; i < h.part_count; i++)
        if (part_track[i] >= h.vec_count || (i && part_track[i] < part_track[i - 1]))
            return 0;
    c->generation = generation;
    c->count = (size_t)h.count;
    c->vec_count = (size_t)h.vec_count;
    c->dim = h.dim;
    c->ids = (const int64_t *)(base + sizeof h);
    c->genres = (const uint16_t *)(base + l.genres);
    c->models = (const uint16_t *)(base + l.models);
    c->vectors = (const float *)(base + l.vectors);
    c->part_count = (size_t)h.part_count;
    c->part_track = part_track;
    c->part_span = (const float *)(base + l.part_span);
    c->part_vectors = (const float *)(base + l.part_vectors);
    c->strings = t;
    c->num_strings = h.num_strings;
    return 1;
}

int gs_emb_cache_path(const char *db_path, char *out, size_t out_size)
{
    int n = snprintf(out, out_size, "%s.emb", db_path);
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}

static int try_map(gs_emb_cache *c, const char *file, int64_t uid, int64_t gen)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    void *p = MAP_FAILED;
    /* MAP_POPULATE: the search reads every page, and mapping them all in
     * one call costs less than a fault per page (7.8 ms -> 5.7 ms for open
     * + search of 100k x 128 floats). */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(emb_header))
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return 0;
    if (!attach(c, p, (size_t)st.st_size, uid, gen)) {
        munmap(p, (size_t)st.st_size);
        return 0;
    }
    c->base = p;
    c->size = (size_t)st.st_size;
    c->mapped = 1;
    return 1;
}

typedef struct builder {
    size_t count, vec_count, cap, dim;
    int64_t *ids;
    uint16_t *genres, *models;
    float *vectors; /* vec_count * dim */
    size_t part_count, part_cap;
    uint32_t *part_track;
    float *part_span;    /* part_count * 2 */
    float *part_vectors; /* part_count * dim */
    char **names;
    uint32_t num_names;
    uint32_t last;
} builder;

static void builder_free(builder *b)
{
    for (uint32_t i = 0; i < b->num_names; i++)
        free(b->names[i]);
    free(b->names);
    free(b->ids);
    free(b->genres);
    free(b->models);
    free(b->vectors);
    free(b->part_track);
    free(b->part_span);
    free(b->part_vectors);
}

/* Code of a genre label or model id, adding it to the string table;
 * NO_CODE for NULL, -1 on OOM. */
static long string_code(builder *b, const char *str)
{
    if (!str)
        return NO_CODE;
    /* Consecutive tracks often share a genre or model, and there are few. */
    if (b->last < b->num_names && !strcmp(b->names[b->last], str))
        return b->last;
    for (uint32_t i = 0; i < b->num_names; i++)
        if (!strcmp(b->names[i], str))
            return b->last = i;
    if (b->num_names + 1 >= NO_CODE)
        return NO_CODE; /* absurdly many strings: the extra ones never match */
    char **n = realloc(b->names, (b->num_names + 1) * sizeof *n);
    if (!n)
        return -1;
    b->names = n;
    if (!(n[b->num_names] = strdup(str)))
        return -1;
    return b->last = b->num_names++;
}

/* Appends one track; vec (dim floats) only while the searchable part is
 * being read. */
static gs_status add_row(builder *b, int64_t id, const char *genre, const char *model, const void *vec, gs_error *err)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        int64_t *ids = realloc(b->ids, cap * sizeof *ids);
        if (ids)
            b->ids = ids;
        uint16_t *g = realloc(b->genres, cap * sizeof *g);
        if (g)
            b->genres = g;
        uint16_t *m = realloc(b->models, cap * sizeof *m);
        if (m)
            b->models = m;
        float *v = vec ? realloc(b->vectors, cap * b->dim * sizeof *v) : b->vectors;
        if (v)
            b->vectors = v;
        if (!ids || !g || !m || (vec && !v))
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory loading embeddings");
        b->cap = cap;
    }
    long gc = string_code(b, genre), mc = string_code(b, model);
    if (gc < 0 || mc < 0)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory loading embeddings");
    size_t i = b->count++;
    b->ids[i] = id;
    b->genres[i] = (uint16_t)gc;
    b->models[i] = (uint16_t)mc;
    if (vec) {
        float *v = b->vectors + i * b->dim;
        memcpy(v, vec, b->dim * sizeof(float));
        gs_l2_normalise(v, b->dim);
        b->vec_count++;
    }
    return GS_OK;
}

static gs_status add_embedding_row(const gs_embedding_row *row, void *arg, gs_error *err)
{
    return add_row(arg, row->id, row->top_genre, row->model_id, row->vector, err);
}

/* Reads the embeddings of the most common dimension, as
 * gs_embedding_set_load does (same selection, same normalisation), then
 * the id, genre and model of every other embedded track. */
static gs_status load_rows(gs_index *ix, builder *b, gs_error *err)
{
    int64_t dim;
    gs_status st = gs_index_common_embedding_dim(ix, &dim, err);
    if (st != GS_OK)
        return st;
    b->dim = (size_t)dim;
    if (b->dim == 0 || b->dim > MAX_DIM) {
        b->dim = 0;
        return GS_OK;
    }
    /* The searchable tracks (right size) first, then the rest. */
    st = gs_index_each_embedding(ix, b->dim, 1, add_embedding_row, b, err);
    if (st == GS_OK)
        st = gs_index_each_embedding(ix, b->dim, 0, add_embedding_row, b, err);
    return st;
}

/* Position of id among the searchable tracks (ascending ids), or -1. */
static long find_position(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (long)lo : -1;
}

static gs_status add_part(builder *b, uint32_t track, double start, double end, const void *vec, gs_error *err)
{
    if (b->part_count == b->part_cap) {
        size_t cap = b->part_cap ? b->part_cap * 2 : 256;
        uint32_t *t = realloc(b->part_track, cap * sizeof *t);
        if (t)
            b->part_track = t;
        float *sp = realloc(b->part_span, cap * 2 * sizeof *sp);
        if (sp)
            b->part_span = sp;
        float *v = realloc(b->part_vectors, cap * b->dim * sizeof *v);
        if (v)
            b->part_vectors = v;
        if (!t || !sp || !v)
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory loading window embeddings");
        b->part_cap = cap;
    }
    size_t i = b->part_count++;
    b->part_track[i] = track;
    b->part_span[2 * i] = (float)start;
    b->part_span[2 * i + 1] = (float)end;
    float *v = b->part_vectors + i * b->dim;
    memcpy(v, vec, b->dim * sizeof(float));
    gs_l2_normalise(v, b->dim);
    return GS_OK;
}

static gs_status add_window_row(const gs_window_embedding_row *row, void *arg, gs_error *err)
{
    builder *b = arg;
    long pos = find_position(b->ids, b->vec_count, row->track_id);
    if (pos < 0)
        return GS_OK; /* not searchable (an embedding of another size) */
    return add_part(b, (uint32_t)pos, row->start, row->end, row->vector, err);
}

/* Reads the parts: the window embeddings of the searchable tracks that are
 * long enough (an index before schema 6 has none). */
static gs_status load_parts(gs_index *ix, builder *b, gs_error *err)
{
    if (b->vec_count == 0)
        return GS_OK;
    return gs_index_each_window_embedding(ix, b->dim, GS_EMB_PART_MIN_SECONDS, add_window_row, b, err);
}

/* Serialises b into one heap image (the file's exact bytes). */
static unsigned char *build_image(const builder *b, int64_t uid, int64_t gen, size_t *size)
{
    emb_layout l;
    uint64_t tbytes = 0;
    if (!layout(b->count, b->vec_count, b->dim, b->part_count, &l))
        return NULL;
    for (uint32_t i = 0; i < b->num_names; i++)
        tbytes += strlen(b->names[i]) + 1;
    *size = (size_t)(l.strings + tbytes);
    unsigned char *img = calloc(1, *size);
    if (!img)
        return NULL;
    emb_header h = {.endian = EMB_ENDIAN,
                    .header_size = sizeof h,
                    .uid = uid,
                    .generation = gen,
                    .count = b->count,
                    .vec_count = b->vec_count,
                    .dim = (uint32_t)b->dim,
                    .num_strings = b->num_names,
                    .strings_offset = l.strings,
                    .strings_bytes = tbytes,
                    .part_count = b->part_count};
    memcpy(h.magic, EMB_MAGIC, 8);
    memcpy(img, &h, sizeof h);
    if (b->count) {
        memcpy(img + sizeof h, b->ids, b->count * 8);
        memcpy(img + l.genres, b->genres, b->count * 2);
        memcpy(img + l.models, b->models, b->count * 2);
    }
    if (b->vec_count)
        memcpy(img + l.vectors, b->vectors, b->vec_count * b->dim * 4);
    if (b->part_count) {
        memcpy(img + l.part_track, b->part_track, b->part_count * 4);
        memcpy(img + l.part_span, b->part_span, b->part_count * 8);
        memcpy(img + l.part_vectors, b->part_vectors, b->part_count * b->dim * 4);
    }
    unsigned char *t = img + l.strings;
    for (uint32_t i = 0; i < b->num_names; i++) {
        size_t n = strlen(b->names[i]) + 1;
        memcpy(t, b->names[i], n);
        t += n;
    }
    return img;
}

/* Replaces file with img atomically (genrescope/outfile.h): a reader sees
 * the old file or the whole new one, never a part; the cache takes the
 * database's permission bits. 0 on success. */
static int write_atomically(const char *file, const char *db_path, const void *img, size_t size)
{
    gs_outfile *out = gs_outfile_open(file, 0, NULL);
    if (!out)
        return -1;
    int fd = gs_outfile_fd(out);
    struct stat dbst;
    if (stat(db_path, &dbst) == 0)
        (void)fchmod(fd, dbst.st_mode & 0666);
    const unsigned char *p = img;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    if (left != 0) {
        gs_outfile_discard(out);
        return -1;
    }
    return gs_outfile_commit(out, NULL) == GS_OK ? 0 : -1;
}

gs_status gs_emb_cache_open(gs_index *ix, int flags, gs_emb_cache **out, gs_error *err)
{
    *out = NULL;
    gs_emb_cache *c = calloc(1, sizeof *c);
    if (!c)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    /* One read transaction: the generation read here is the one of the rows
     * a rebuild reads, whatever a concurrent writer commits meanwhile. */
    int own_txn;
    gs_status st = gs_index_read_begin(ix, &own_txn, err);
    if (st != GS_OK) {
        free(c);
        return st;
    }
    int have = 0;
    int64_t uid = 0, gen = 0;
    char file[4096];
    const char *db_path = gs_index_path(ix);
    int has_file = db_path[0] && strcmp(db_path, ":memory:") != 0 && gs_emb_cache_path(db_path, file, sizeof file) == 0;
    st = gs_index_embeddings_generation(ix, &have, &uid, &gen, err);
    /* A schema without a generation maps nothing, or it could not tell. */
    if (st == GS_OK && have && has_file && try_map(c, file, uid, gen)) {
        c->source = GS_EMB_CACHE_MAPPED;
    } else if (st == GS_OK) {
        builder b = {0};
        st = load_rows(ix, &b, err);
        if (st == GS_OK)
            st = load_parts(ix, &b, err);
        size_t size = 0;
        unsigned char *img = NULL;
        if (st == GS_OK && !(img = build_image(&b, uid, gen, &size)))
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory building the embedding cache");
        builder_free(&b);
        if (st == GS_OK) {
            c->base = img;
            c->size = size;
            c->source = GS_EMB_CACHE_MEMORY;
            attach(c, img, size, uid, gen);
            if (have && has_file && !(flags & GS_EMB_CACHE_NO_WRITE)) {
                /* Nothing to cache: remove a stale file rather than write
                 * an empty one. */
                if (c->count == 0)
                    unlink(file);
                else if (write_atomically(file, db_path, img, size) == 0)
                    c->source = GS_EMB_CACHE_REBUILT;
            }
        }
    }
    gs_index_read_end(ix, own_txn);
    if (st != GS_OK) {
        gs_emb_cache_close(c);
        return st;
    }
    *out = c;
    return GS_OK;
}

void gs_emb_cache_close(gs_emb_cache *c)
{
    if (!c)
        return;
    if (c->mapped)
        munmap(c->base, c->size);
    else
        free(c->base);
    free(c);
}

gs_status gs_emb_cache_refresh(gs_index *ix, gs_error *err)
{
    gs_emb_cache *c;
    gs_status st = gs_emb_cache_open(ix, 0, &c, err);
    gs_emb_cache_close(c);
    return st;
}

gs_emb_cache_source gs_emb_cache_get_source(const gs_emb_cache *c)
{
    return c->source;
}

size_t gs_emb_cache_count(const gs_emb_cache *c)
{
    return c->vec_count;
}

size_t gs_emb_cache_dim(const gs_emb_cache *c)
{
    return c->vec_count ? c->dim : 0;
}

int64_t gs_emb_cache_generation(const gs_emb_cache *c)
{
    return c->generation;
}

const int64_t *gs_emb_cache_ids(const gs_emb_cache *c)
{
    return c->ids;
}

const float *gs_emb_cache_vectors(const gs_emb_cache *c)
{
    return c->vectors;
}

/* Code of str in the cache's string table, or -1 if no track has it. */
static long find_code(const gs_emb_cache *c, const char *str)
{
    const char *t = c->strings;
    for (uint32_t i = 0; i < c->num_strings; i++) {
        if (!strcmp(t, str))
            return i;
        t += strlen(t) + 1;
    }
    return -1;
}

gs_status gs_emb_cache_model_positions(const gs_emb_cache *c, const char *model_id, size_t **positions, size_t *n,
                                       size_t *other_model, gs_error *err)
{
    /* A model no cached track has matches nothing. */
    long model = model_id ? find_code(c, model_id) : -1;
    int all = !model_id;
    size_t *p = c->vec_count ? malloc(c->vec_count * sizeof *p) : NULL;
    *positions = NULL;
    *n = 0;
    if (c->vec_count && !p)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    size_t k = 0, others = 0;
    for (size_t i = 0; i < c->count; i++) {
        int mine = all || (model >= 0 && c->models[i] == (uint16_t)model);
        if (!mine)
            others++;
        else if (i < c->vec_count)
            p[k++] = i;
    }
    *positions = p;
    *n = k;
    if (other_model)
        *other_model = others;
    return GS_OK;
}

long gs_emb_cache_position(const gs_emb_cache *c, int64_t id)
{
    return find_position(c->ids, c->vec_count, id);
}

/* First part of the track at position or after it (parts are sorted by
 * track). */
static size_t first_part_at(const gs_emb_cache *c, size_t position)
{
    size_t lo = 0, hi = c->part_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->part_track[mid] < position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void gs_emb_cache_track_parts(const gs_emb_cache *c, size_t position, size_t *first, size_t *n)
{
    size_t a = first_part_at(c, position), b = a;
    while (b < c->part_count && c->part_track[b] == position)
        b++;
    *first = a;
    *n = b - a;
}

const float *gs_emb_cache_part_vectors(const gs_emb_cache *c)
{
    return c->part_vectors;
}

const float *gs_emb_cache_part_spans(const gs_emb_cache *c)
{
    return c->part_span;
}

/* The best dot product of the queries with the vectors v[0..n) (n * dim),
 * and which pair gave it (the first on ties). */
static float best_pair(const float *q, size_t num_queries, const float *v, size_t n, size_t dim, size_t *which_query,
                       size_t *which_vector)
{
    float best = -INFINITY;
    *which_query = *which_vector = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t a = 0; a < num_queries; a++) {
            float d = gs_dot(q + a * dim, v + j * dim, dim);
            if (d > best) {
                best = d;
                *which_query = a;
                *which_vector = j;
            }
        }
    return best;
}

gs_status gs_emb_cache_search_parts(const gs_emb_cache *c, const float *q, size_t num_queries, int64_t exclude_id,
                                    const char *genre, const char *model_id, size_t k, gs_emb_match *out, size_t *found,
                                    size_t *other_model, gs_error *err)
{
    long want = -1, model = -1;
    size_t n = 0, others = 0, dim = c->dim, part = 0, qi, vi;
    if (other_model)
        *other_model = 0;
    *found = 0;
    if (num_queries == 0 || k == 0 || (genre && (want = find_code(c, genre)) < 0))
        return GS_OK;
    if (model_id && (model = find_code(c, model_id)) < 0)
        model = NO_CODE + 1L;
    /* The heap keeps (position, score); which pair matched is found again
     * for the k winners only. */
    gs_scored *heap = malloc(k * sizeof *heap);
    if (!heap)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->vec_count; i++) {
        size_t first = part;
        while (part < c->part_count && c->part_track[part] == i)
            part++;
        if (c->ids[i] == exclude_id || (want >= 0 && c->genres[i] != (uint16_t)want))
            continue;
        if (model >= 0 && c->models[i] != model) {
            others++;
            continue;
        }
        float score = part > first
            ? best_pair(q, num_queries, c->part_vectors + first * dim, part - first, dim, &qi, &vi)
            : best_pair(q, num_queries, c->vectors + i * dim, 1, dim, &qi, &vi);
        gs_topk_push(heap, k, &n, (long)i, score);
    }
    for (size_t i = c->vec_count; model >= 0 && i < c->count; i++)
        others += c->ids[i] != exclude_id && (want < 0 || c->genres[i] == (uint16_t)want) && c->models[i] != model;
    if (other_model)
        *other_model = others;
    gs_topk_sort(heap, n);
    for (size_t r = 0; r < n; r++) {
        size_t pos = (size_t)heap[r].index, first, count;
        gs_emb_cache_track_parts(c, pos, &first, &count);
        if (count)
            best_pair(q, num_queries, c->part_vectors + first * dim, count, dim, &qi, &vi);
        else
            best_pair(q, num_queries, c->vectors + pos * dim, 1, dim, &qi, &vi);
        out[r] = (gs_emb_match){
            .index = heap[r].index, .score = heap[r].score, .query = qi, .part = count ? (long)(first + vi) : -1};
    }
    free(heap);
    *found = n;
    return GS_OK;
}
