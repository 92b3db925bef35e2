/* Model writer: collects F32 tensors and __metadata__ strings, then writes
 * a safetensors file atomically (temporary file, fsync, rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_internal.h"
#include "genrescope/outfile.h"

typedef struct writer_tensor {
    char *name;
    int ndim;
    int64_t shape[GS_MAX_TENSOR_DIMS];
    int64_t numel;
    float *data;
} writer_tensor;

typedef struct writer_meta {
    char *key;
    char *value;
} writer_meta;

struct gs_model_writer {
    writer_tensor *tensors;
    int num_tensors, cap_tensors;
    writer_meta *meta;
    int num_meta, cap_meta;
};

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Grows *items (of item_size bytes) so one more fits. */
static int reserve(void **items, int *cap, int count, size_t item_size)
{
    if (count < *cap)
        return 1;
    int new_cap = *cap ? *cap * 2 : 8;
    void *grown = realloc(*items, (size_t)new_cap * item_size);
    if (!grown)
        return 0;
    *items = grown;
    *cap = new_cap;
    return 1;
}

gs_model_writer *gs_model_writer_new(void)
{
    return calloc(1, sizeof(gs_model_writer));
}

void gs_model_writer_free(gs_model_writer *writer)
{
    if (!writer)
        return;
    for (int i = 0; i < writer->num_tensors; i++) {
        free(writer->tensors[i].name);
        free(writer->tensors[i].data);
    }
    for (int i = 0; i < writer->num_meta; i++) {
        free(writer->meta[i].key);
        free(writer->meta[i].value);
    }
    free(writer->tensors);
    free(writer->meta);
    free(writer);
}

gs_status gs_model_writer_add_tensor(gs_model_writer *writer, const char *name, int ndim, const int64_t *shape,
                                     const float *data, gs_error *err)
{
    if (!writer || !name || !shape || !data)
        return gs_error_set(err, GS_ERR_INVALID, "add_tensor: NULL argument");
    if (!name[0] || strcmp(name, "__metadata__") == 0)
        return gs_error_set(err, GS_ERR_INVALID, "add_tensor: invalid tensor name '%.64s'", name);
    if (ndim < 1 || ndim > GS_MAX_TENSOR_DIMS)
        return gs_error_set(err, GS_ERR_INVALID, "tensor '%.64s': ndim %d outside 1..%d", name, ndim,
                            GS_MAX_TENSOR_DIMS);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0)
            return gs_error_set(err, GS_ERR_INVALID, "tensor '%.64s': dimension %d is %lld (must be > 0)", name, d,
                                (long long)shape[d]);
        if (__builtin_mul_overflow(numel, shape[d], &numel) || numel > INT64_MAX / 4 ||
            (uint64_t)numel > SIZE_MAX / sizeof(float))
            return gs_error_set(err, GS_ERR_INVALID, "tensor '%.64s': element count overflows", name);
    }
    for (int i = 0; i < writer->num_tensors; i++)
        if (strcmp(writer->tensors[i].name, name) == 0)
            return gs_error_set(err, GS_ERR_INVALID, "tensor '%.64s' added twice", name);
    if (!reserve((void **)&writer->tensors, &writer->cap_tensors, writer->num_tensors, sizeof *writer->tensors))
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory adding tensor '%.64s'", name);
    writer_tensor t = {.ndim = ndim, .numel = numel};
    memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    t.name = dup_string(name);
    t.data = malloc((size_t)numel * sizeof(float));
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory copying tensor '%.64s' (%lld floats)", name,
                            (long long)numel);
    }
    memcpy(t.data, data, (size_t)numel * sizeof(float));
    writer->tensors[writer->num_tensors++] = t;
    return GS_OK;
}

gs_status gs_model_writer_set_metadata(gs_model_writer *writer, const char *key, const char *value, gs_error *err)
{
    if (!writer || !key || !value)
        return gs_error_set(err, GS_ERR_INVALID, "set_metadata: NULL argument");
    if (!key[0])
        return gs_error_set(err, GS_ERR_INVALID, "set_metadata: empty key");
    char *copy = dup_string(value);
    if (!copy)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory for metadata '%.64s'", key);
    for (int i = 0; i < writer->num_meta; i++) {
        if (strcmp(writer->meta[i].key, key) == 0) {
            free(writer->meta[i].value);
            writer->meta[i].value = copy;
            return GS_OK;
        }
    }
    writer_meta m = {dup_string(key), copy};
    if (!m.key || !reserve((void **)&writer->meta, &writer->cap_meta, writer->num_meta, sizeof *writer->meta)) {
        free(m.key);
        free(copy);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory for metadata '%.64s'", key);
    }
    writer->meta[writer->num_meta++] = m;
    return GS_OK;
}

/* Shortest decimal that reads back as the same float, so the file says
 * 1e-06 rather than 9.9999999747524271e-07 and still round-trips exactly. */
static void format_float(char *buf, size_t size, float v)
{
    /* Whole numbers as integers: "30", not %g's "3e+01". */
    if (v > -1e9f && v < 1e9f && v == (float)(int32_t)v) {
        snprintf(buf, size, "%ld", (long)(int32_t)v);
        return;
    }
    for (int precision = 1; precision <= 9; precision++) {
        snprintf(buf, size, "%.*g", precision, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
}

static cJSON *frontend_json(const gs_frontend_params *p)
{
    cJSON *o = cJSON_CreateObject();
    char num[32];
#define ADD_INT(field) cJSON_AddItemToObject(o, #field, cJSON_CreateNumber(p->field))
#define ADD_FLOAT(field)                                                                                               \
    (format_float(num, sizeof num, p->field), cJSON_AddItemToObject(o, #field, cJSON_CreateRaw(num)))
    if (o) {
        ADD_INT(sample_rate);
        ADD_INT(n_fft);
        ADD_INT(hop_length);
        ADD_INT(n_mels);
        ADD_FLOAT(fmin);
        ADD_FLOAT(fmax);
        ADD_FLOAT(log_offset);
        ADD_INT(patch_frames);
        ADD_INT(patch_hop_frames);
        ADD_FLOAT(window_seconds);
        cJSON_AddStringToObject(o, "patch_normalize", p->patch_normalize == GS_PATCH_NORMALIZE_MEAN ? "mean" : "none");
    }
#undef ADD_INT
#undef ADD_FLOAT
    return o;
}

/* Prints json (consumed) and stores it as metadata key. cJSON reports
 * allocation failures only as NULL somewhere in the tree, which printing
 * then surfaces as a missing item; so a tree is checked by counting. */
static gs_status set_json_metadata(gs_model_writer *writer, const char *key, cJSON *json, int expected_items,
                                   gs_error *err)
{
    char *text = NULL;
    if (json && cJSON_GetArraySize(json) == expected_items)
        text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory building metadata '%s'", key);
    gs_status st = gs_model_writer_set_metadata(writer, key, text, err);
    cJSON_free(text);
    return st;
}

gs_status gs_model_writer_set_standard_metadata(gs_model_writer *writer, const char *const *labels, int num_labels,
                                                const gs_frontend_params *frontend, gs_error *err)
{
    if (!writer || !labels || !frontend)
        return gs_error_set(err, GS_ERR_INVALID, "set_standard_metadata: NULL argument");
    if (num_labels < 1 || num_labels > GS_MAX_LABELS)
        return gs_error_set(err, GS_ERR_INVALID, "%d labels (need 1..%d)", num_labels, GS_MAX_LABELS);
    for (int i = 0; i < num_labels; i++) {
        size_t len = labels[i] ? strlen(labels[i]) : 0;
        if (len == 0 || len >= GS_MAX_LABEL_LENGTH)
            return gs_error_set(err, GS_ERR_INVALID, "label %d has length %zu (need 1..%d)", i, len,
                                GS_MAX_LABEL_LENGTH - 1);
        for (int j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return gs_error_set(err, GS_ERR_INVALID, "duplicate label '%s'", labels[i]);
    }
    if (gs_frontend_params_validate(frontend, err) != GS_OK) {
        gs_error_prefix(err, "frontend");
        return GS_ERR_INVALID;
    }
    gs_status st = gs_model_writer_set_metadata(writer, "format", GS_MODEL_FORMAT, err);
    if (st != GS_OK)
        return st;
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < num_labels; i++)
        cJSON_AddItemToArray(array, cJSON_CreateString(labels[i]));
    st = set_json_metadata(writer, "labels", array, num_labels, err);
    if (st != GS_OK)
        return st;
    return set_json_metadata(writer, "frontend", frontend_json(frontend), 11, err);
}

static int compare_tensor_ptr(const void *a, const void *b)
{
    return strcmp((*(const writer_tensor *const *)a)->name, (*(const writer_tensor *const *)b)->name);
}

static int compare_meta_ptr(const void *a, const void *b)
{
    return strcmp((*(const writer_meta *const *)a)->key, (*(const writer_meta *const *)b)->key);
}

static cJSON *dims_json(const char *fmt_a, int64_t a, const int64_t *rest, int n_rest)
{
    char text[8 + 24 * (GS_MAX_TENSOR_DIMS + 1)];
    size_t used = (size_t)snprintf(text, sizeof text, fmt_a, (long long)a);
    for (int i = 0; i < n_rest; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, ",%lld", (long long)rest[i]);
    snprintf(text + used, sizeof text - used, "]");
    return cJSON_CreateRaw(text);
}

/* Builds the header text, padded with spaces to a multiple of 8 bytes so
 * tensor data starts 8-byte aligned (as the safetensors reference does).
 * Metadata keys are sorted too, so equal content gives an identical file
 * (and model id) whatever order the setters were called in. */
static char *build_header(const gs_model_writer *w, const writer_tensor **sorted, size_t *out_len, gs_error *err)
{
    cJSON *root = cJSON_CreateObject();
    int expected = 0, ok = root != NULL;
    if (ok && w->num_meta > 0) {
        const writer_meta **meta = malloc((size_t)w->num_meta * sizeof *meta);
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = meta && m;
        if (ok) {
            for (int i = 0; i < w->num_meta; i++)
                meta[i] = &w->meta[i];
            qsort(meta, (size_t)w->num_meta, sizeof *meta, compare_meta_ptr);
            for (int i = 0; i < w->num_meta; i++)
                cJSON_AddItemToObject(m, meta[i]->key, cJSON_CreateString(meta[i]->value));
            ok = cJSON_GetArraySize(m) == w->num_meta;
        }
        free(meta);
        expected = 1;
    }
    uint64_t offset = 0;
    for (int i = 0; ok && i < w->num_tensors; i++) {
        const writer_tensor *t = sorted[i];
        uint64_t end = offset + (uint64_t)t->numel * 4u;
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddItemToObject(root, t->name, entry);
        ok = entry && cJSON_AddStringToObject(entry, "dtype", "F32");
        if (ok) {
            int64_t b = (int64_t)offset;
            cJSON_AddItemToObject(entry, "shape", dims_json("[%lld", t->shape[0], t->shape + 1, t->ndim - 1));
            cJSON_AddItemToObject(entry, "data_offsets", dims_json("[%lld", b, (const int64_t[]){(int64_t)end}, 1));
            ok = cJSON_GetArraySize(entry) == 3;
        }
        offset = end;
        expected++;
    }
    char *json = ok && cJSON_GetArraySize(root) == expected ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory building the model header");
        return NULL;
    }
    size_t len = strlen(json);
    size_t padded = (len + 7) & ~(size_t)7;
    char *header = malloc(padded);
    if (header) {
        memcpy(header, json, len);
        memset(header + len, ' ', padded - len);
        *out_len = padded;
    } else {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory building the model header");
    }
    cJSON_free(json);
    return header;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

static int write_contents(int fd, const char *header, size_t header_len, const writer_tensor **sorted, int n)
{
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    if (!write_all(fd, prefix, sizeof prefix) || !write_all(fd, header, header_len))
        return 0;
    for (int i = 0; i < n; i++)
        if (!write_all(fd, sorted[i]->data, (size_t)sorted[i]->numel * sizeof(float)))
            return 0;
    return 1; /* gs_outfile_commit syncs */
}

gs_status gs_model_writer_save(const gs_model_writer *writer, const char *path, gs_error *err)
{
    if (!writer || !path || !path[0])
        return gs_error_set(err, GS_ERR_INVALID, "save: NULL writer or empty path");
    const writer_tensor **sorted = malloc((size_t)(writer->num_tensors ? writer->num_tensors : 1) * sizeof *sorted);
    if (!sorted)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory saving %s", path);
    for (int i = 0; i < writer->num_tensors; i++)
        sorted[i] = &writer->tensors[i];
    qsort(sorted, (size_t)writer->num_tensors, sizeof *sorted, compare_tensor_ptr);

    size_t header_len = 0;
    char *header = build_header(writer, sorted, &header_len, err);
    gs_status st = GS_OK;
    gs_outfile *out = NULL;
    if (!header) {
        st = err ? err->code : GS_ERR_NOMEM;
        goto done;
    }
    /* Through the write-path rules: never onto a device or a planted
     * temporary name, and the old model stays whole until the new one is. */
    if (!(out = gs_outfile_open(path, 0, err))) {
        st = err ? err->code : GS_ERR_IO;
        goto done;
    }
    if (!write_contents(gs_outfile_fd(out), header, header_len, sorted, writer->num_tensors)) {
        st = gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        gs_outfile_discard(out);
        goto done;
    }
    st = gs_outfile_commit(out, err);
done:
    free(header);
    free(sorted);
    return st;
}
