/* Safetensors header validation: length prefix, JSON, and every tensor
 * entry's dtype, shape and data offsets checked against the data section
 * before any pointer into the file is handed out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* Integers in the header travel as JSON numbers (doubles); beyond 2^53 they
 * are no longer exact, and no real file comes near that. */
#define MAX_EXACT_INT 9007199254740992.0

typedef struct span {
    uint64_t begin, end;
    int index;
} span;

static int is_json_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* 1 if item is a non-negative integral number that a double holds exactly. */
static int json_uint(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double d = item->valuedouble;
    /* Range first, so the cast is defined; no floor(): gs_model must not
     * need libm. */
    if (!isfinite(d) || d < 0.0 || d > MAX_EXACT_INT || (double)(uint64_t)d != d)
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static int compare_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static int compare_tensor_name(const void *a, const void *b)
{
    return strcmp(((const gs_tensor *)a)->name, ((const gs_tensor *)b)->name);
}

static gs_status parse_shape(const cJSON *entry, const char *name, gs_tensor *t, gs_error *err)
{
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    if (!shape)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': missing shape", name);
    if (!cJSON_IsArray(shape))
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': shape is not an array", name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > GS_MAX_TENSOR_DIMS)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': shape has %d dims (at most %d supported)", name, ndim,
                            GS_MAX_TENSOR_DIMS);
    t->ndim = ndim;
    t->numel = 1;
    int d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++) {
        if (cJSON_IsNumber(dim) && dim->valuedouble < 0.0)
            return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': negative dimension %g in shape", name,
                                dim->valuedouble);
        uint64_t v;
        if (!json_uint(dim, &v))
            return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': shape entry %d is not a non-negative integer", name,
                                d);
        t->shape[d] = (int64_t)v;
        /* numel * 4 must also fit, so the byte count below cannot wrap. */
        if (__builtin_mul_overflow(t->numel, (int64_t)v, &t->numel) || t->numel > INT64_MAX / 4)
            return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': element count of shape overflows", name);
    }
    return GS_OK;
}

static gs_status parse_tensor(const cJSON *entry, uint64_t data_size, gs_tensor *t, span *s, gs_error *err)
{
    const char *name = entry->string;
    if (!name[0])
        return gs_error_set(err, GS_ERR_MODEL, "tensor with an empty name");
    if (!cJSON_IsObject(entry))
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': entry is not a JSON object", name);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!dtype)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': missing dtype", name);
    if (!cJSON_IsString(dtype))
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': dtype is not a string", name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': dtype %.32s not supported (only F32)", name,
                            dtype->valuestring);

    gs_status st = parse_shape(entry, name, t, err);
    if (st != GS_OK)
        return st;

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!offsets)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': missing data_offsets", name);
    uint64_t begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 || !json_uint(offsets->child, &begin) ||
        !json_uint(offsets->child->next, &end))
        return gs_error_set(err, GS_ERR_MODEL,
                            "tensor '%.64s': data_offsets must be [begin, end] with non-negative integers", name);
    if (begin > end)
        return gs_error_set(err, GS_ERR_MODEL, "tensor '%.64s': data_offsets begin %llu > end %llu", name,
                            (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return gs_error_set(err, GS_ERR_MODEL,
                            "tensor '%.64s': data_offsets end %llu beyond the data section (%llu bytes)", name,
                            (unsigned long long)end, (unsigned long long)data_size);
    uint64_t need = (uint64_t)t->numel * 4u;
    if (end - begin != need)
        return gs_error_set(err, GS_ERR_MODEL,
                            "tensor '%.64s': data_offsets cover %llu bytes but shape needs %llu (numel %lld x 4)", name,
                            (unsigned long long)(end - begin), (unsigned long long)need, (long long)t->numel);
    t->name = name;
    s->begin = begin;
    s->end = end;
    return GS_OK;
}

/* Sorting by offset makes overlap a neighbour check. Empty tensors occupy
 * no bytes, so they overlap nothing wherever they point. */
static gs_status check_overlaps(const gs_model *m, span *spans, gs_error *err)
{
    qsort(spans, (size_t)m->num_tensors, sizeof *spans, compare_span);
    const span *prev = NULL;
    for (int i = 0; i < m->num_tensors; i++) {
        const span *s = &spans[i];
        if (s->begin == s->end)
            continue;
        if (prev && s->begin < prev->end)
            return gs_error_set(err, GS_ERR_MODEL, "tensors '%.64s' [%llu, %llu) and '%.64s' [%llu, %llu) overlap",
                                m->tensors[prev->index].name, (unsigned long long)prev->begin,
                                (unsigned long long)prev->end, m->tensors[s->index].name, (unsigned long long)s->begin,
                                (unsigned long long)s->end);
        prev = s;
    }
    return GS_OK;
}

/* Copies the header so cJSON always sees a NUL-terminated buffer and so
 * the trailing-whitespace check below can look at every header byte. */
static gs_status parse_json(gs_model *m, uint64_t header_len, gs_error *err)
{
    char *text = malloc((size_t)header_len + 1);
    if (!text)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory copying a %llu-byte header",
                            (unsigned long long)header_len);
    memcpy(text, m->bytes + 8, (size_t)header_len);
    text[header_len] = '\0';
    const char *end = NULL;
    m->header = cJSON_ParseWithLengthOpts(text, (size_t)header_len, &end, 0);
    if (!m->header) {
        size_t at = end ? (size_t)(end - text) : 0;
        free(text);
        return gs_error_set(err, GS_ERR_MODEL, "header is not valid JSON (error near byte %zu of %llu)", at,
                            (unsigned long long)header_len);
    }
    /* Padding after the JSON must be whitespace (the safetensors rule);
     * anything else means the length prefix or the JSON is wrong. */
    for (size_t i = (size_t)(end - text); i < header_len; i++) {
        if (!is_json_space((unsigned char)text[i])) {
            free(text);
            return gs_error_set(err, GS_ERR_MODEL, "header has non-whitespace bytes after the JSON (byte %zu)", i);
        }
    }
    free(text);
    if (!cJSON_IsObject(m->header))
        return gs_error_set(err, GS_ERR_MODEL, "header JSON is not an object");
    return GS_OK;
}

gs_status gs_model_parse_header(gs_model *m, gs_error *err)
{
    if (m->size < 8)
        return gs_error_set(err, GS_ERR_MODEL, "file is %zu bytes, shorter than the 8-byte header length", m->size);
    uint64_t header_len = read_le64(m->bytes);
    if (header_len == 0)
        return gs_error_set(err, GS_ERR_MODEL, "header length is 0");
    if (header_len > GS_MODEL_MAX_HEADER)
        return gs_error_set(err, GS_ERR_MODEL,
                            "not a safetensors model file: header length %llu exceeds the 100 MB limit",
                            (unsigned long long)header_len);
    if (header_len > m->size - 8)
        return gs_error_set(
            err, GS_ERR_MODEL,
            "not a safetensors model file: header length %llu larger than the file (%zu bytes after the prefix)",
            (unsigned long long)header_len, m->size - 8);
    gs_status st = parse_json(m, header_len, err);
    if (st != GS_OK)
        return st;

    const unsigned char *data = m->bytes + 8 + header_len;
    uint64_t data_size = m->size - 8 - header_len;
    int count = 0;
    for (const cJSON *e = m->header->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") != 0)
            count++;
        else if (m->metadata)
            return gs_error_set(err, GS_ERR_MODEL, "header has more than one __metadata__");
        else
            m->metadata = e;
    }
    m->tensors = calloc(count ? (size_t)count : 1, sizeof *m->tensors);
    span *spans = calloc(count ? (size_t)count : 1, sizeof *spans);
    if (!m->tensors || !spans) {
        free(spans);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory for %d tensors", count);
    }
    for (const cJSON *e = m->header->child; e; e = e->next) {
        if (e == m->metadata)
            continue;
        gs_tensor *t = &m->tensors[m->num_tensors];
        span *s = &spans[m->num_tensors];
        st = parse_tensor(e, data_size, t, s, err);
        if (st != GS_OK) {
            free(spans);
            return st;
        }
        t->data = (const float *)(const void *)(data + s->begin);
        s->index = m->num_tensors++;
    }
    st = check_overlaps(m, spans, err);
    free(spans);
    if (st != GS_OK)
        return st;

    qsort(m->tensors, (size_t)m->num_tensors, sizeof *m->tensors, compare_tensor_name);
    for (int i = 1; i < m->num_tensors; i++)
        if (strcmp(m->tensors[i - 1].name, m->tensors[i].name) == 0)
            return gs_error_set(err, GS_ERR_MODEL, "duplicate tensor '%.64s'", m->tensors[i].name);
    return GS_OK;
}
