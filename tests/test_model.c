/* Model reader/writer: round trip, one test per malformation the loader
 * must reject, I/O failures, every truncation of a small file, and a
 * byte-flipping fuzz loop. Files go to $GS_TEST_TMP (fallback /tmp). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "genrescope/model.h"
#include "genrescope/verdict.h"
#include "support/files.h"
#include "support/tmpdir.h"

/* ---- helpers ------------------------------------------------------------ */

static char tmp_dir[512];

static void path_for(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/test_model_%ld_%s", tmp_dir, (long)getpid(), name);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* [8-byte length][header][data]: the raw safetensors layout. */
static unsigned char *raw_file(const char *header, const void *data, size_t data_size, size_t *size)
{
    size_t n = strlen(header);
    *size = 8 + n + data_size;
    unsigned char *buf = malloc(*size);
    put_le64(buf, n);
    memcpy(buf + 8, header, n);
    if (data_size)
        memcpy(buf + 8 + n, data, data_size);
    return buf;
}

/* Loads from an exact-size heap copy, so ASan sees any read past the end.
 * The copy must outlive the model: release both with free_loaded. */
static gs_model *load_copy(const unsigned char *bytes, size_t size, gs_error *err, unsigned char **copy)
{
    *copy = malloc(size ? size : 1);
    if (size)
        memcpy(*copy, bytes, size);
    return gs_model_load_memory(*copy, size, err);
}

static void free_loaded(gs_model *m, unsigned char *copy)
{
    gs_model_free(m);
    free(copy);
}

/* ---- describing a file -------------------------------------------------- */

/* A file built from parts so each malformation changes exactly one thing.
 * Metadata values are plain JSON text here; build_spec escapes them into
 * the __metadata__ strings. NULL means "leave the key out". */
typedef struct spec {
    const char *tensors; /* JSON members, e.g. "\"a\":{...}" */
    int with_metadata;
    const char *metadata_raw; /* if set, replaces the whole __metadata__ value */
    const char *format;
    const char *labels;
    const char *frontend;
    const char *architecture;
    const char *provenance;
    const char *name;
} spec;

static const char good_tensors[] = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                                   "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}";
static const float good_data[10] = {1, 2, 3, 4, 5, 6, -1.5f, 0.25f, 1e-7f, 3e8f};

static char *frontend_text(const char *key, const char *raw_value)
{
    gs_frontend_params p;
    gs_frontend_params_default(&p);
    char text[1024];
    snprintf(text, sizeof text,
             "{\"sample_rate\":%d,\"n_fft\":%d,\"hop_length\":%d,\"n_mels\":%d,\"fmin\":%.9g,\"fmax\":%.9g,"
             "\"log_offset\":%.9g,\"patch_frames\":%d,\"patch_hop_frames\":%d,\"window_seconds\":%.9g,"
             "\"patch_normalize\":\"mean\"}",
             p.sample_rate, p.n_fft, p.hop_length, p.n_mels, (double)p.fmin, (double)p.fmax, (double)p.log_offset,
             p.patch_frames, p.patch_hop_frames, (double)p.window_seconds);
    cJSON *o = cJSON_Parse(text);
    if (key) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
        if (raw_value)
            cJSON_AddItemToObject(o, key, cJSON_CreateRaw(raw_value));
    }
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static spec good_spec(void)
{
    static char *frontend;
    if (!frontend)
        frontend = frontend_text(NULL, NULL); /* freed at exit by the OS; built once */
    spec s = {good_tensors,
              1,
              NULL,
              "genrescope-model-1",
              "[\"rock\",\"jazz\"]",
              frontend,
              "{\"input\":[1,96,128],\"layers\":[]}",
              "{\"epochs\":3}",
              NULL};
    return s;
}

static unsigned char *build_spec(const spec *s, size_t *size)
{
    char *meta = NULL;
    if (s->with_metadata && !s->metadata_raw) {
        cJSON *m = cJSON_CreateObject();
        const char *keys[] = {"format", "labels", "frontend", "architecture", "provenance", "name"};
        const char *values[] = {s->format, s->labels, s->frontend, s->architecture, s->provenance, s->name};
        for (int i = 0; i < 6; i++)
            if (values[i])
                cJSON_AddStringToObject(m, keys[i], values[i]);
        meta = cJSON_PrintUnformatted(m);
        cJSON_Delete(m);
    }
    const char *meta_text = s->metadata_raw ? s->metadata_raw : meta;
    size_t cap = strlen(s->tensors) + (meta_text ? strlen(meta_text) : 0) + 64;
    char *header = malloc(cap);
    if (meta_text)
        snprintf(header, cap, "{\"__metadata__\":%s%s%s}", meta_text, s->tensors[0] ? "," : "", s->tensors);
    else
        snprintf(header, cap, "{%s}", s->tensors);
    unsigned char *buf = raw_file(header, good_data, sizeof good_data, size);
    free(header);
    cJSON_free(meta);
    return buf;
}

static int contains(const char *haystack, const char *needle)
{
    return needle == NULL || strstr(haystack, needle) != NULL;
}

/* Checks that bytes are rejected with code and a message containing both
 * needles, from memory and from a file (whose message names the path). */
static void expect_reject(const char *what, const unsigned char *bytes, size_t size, gs_status code,
                          const char *needle1, const char *needle2)
{
    gs_error err;
    gs_error_clear(&err);
    unsigned char *copy = malloc(size ? size : 1);
    if (size)
        memcpy(copy, bytes, size);
    gs_model *m = gs_model_load_memory(copy, size, &err);
    CHECK_MSG(m == NULL, "%s: loaded from memory", what);
    gs_model_free(m);
    free(copy);
    CHECK_MSG(err.code == code, "%s: code %d (%s), message '%s'", what, err.code, gs_status_name(err.code),
              err.message);
    CHECK_MSG(contains(err.message, needle1) && contains(err.message, needle2), "%s: message '%s' lacks '%s' / '%s'",
              what, err.message, needle1, needle2 ? needle2 : "");

    char path[700];
    path_for(path, sizeof path, "bad.safetensors");
    CHECK(gs_test_write_file(path, bytes, size) == 0);
    gs_error_clear(&err);
    m = gs_model_load(path, &err);
    CHECK_MSG(m == NULL, "%s: loaded from file", what);
    gs_model_free(m);
    CHECK_MSG(err.code == code && contains(err.message, needle1) && contains(err.message, path),
              "%s (file): code %d, message '%s'", what, err.code, err.message);
    unlink(path);
}

static void expect_spec_reject(const char *what, const spec *s, const char *needle1, const char *needle2)
{
    size_t size;
    unsigned char *bytes = build_spec(s, &size);
    expect_reject(what, bytes, size, GS_ERR_MODEL, needle1, needle2);
    free(bytes);
}

static void expect_header_reject(const char *what, const char *header, const char *needle1, const char *needle2)
{
    size_t size;
    unsigned char *bytes = raw_file(header, good_data, sizeof good_data, &size);
    expect_reject(what, bytes, size, GS_ERR_MODEL, needle1, needle2);
    free(bytes);
}

/* ---- a model written by the writer -------------------------------------- */

static const char *const labels3[] = {"blues", "classical", "hip-hop"};

static gs_model_writer *make_writer(void)
{
    gs_error err;
    gs_model_writer *w = gs_model_writer_new();
    CHECK(w != NULL);
    /* Added out of name order to check the writer sorts. */
    static const float conv[2 * 1 * 3 * 3] = {0.5f, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -17.25f};
    static const float bias[2] = {0.125f, -0.5f};
    static const float dense[3 * 4] = {1e-3f, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1e30f};
    static const float scalarish[1] = {42};
    CHECK(gs_model_writer_add_tensor(w, "conv1.weight", 4, (const int64_t[]){2, 1, 3, 3}, conv, &err) == GS_OK);
    CHECK(gs_model_writer_add_tensor(w, "dense.weight", 2, (const int64_t[]){3, 4}, dense, &err) == GS_OK);
    CHECK(gs_model_writer_add_tensor(w, "conv1.bias", 1, (const int64_t[]){2}, bias, &err) == GS_OK);
    CHECK(gs_model_writer_add_tensor(w, "a.one", 3, (const int64_t[]){1, 1, 1}, scalarish, &err) == GS_OK);
    gs_frontend_params p;
    gs_frontend_params_default(&p);
    p.fmin = 20.5f;
    p.fmax = 8000.25f;
    p.log_offset = 1e-5f;
    p.n_mels = 64;
    p.patch_normalize = GS_PATCH_NORMALIZE_NONE;
    CHECK(gs_model_writer_set_standard_metadata(w, labels3, 3, &p, &err) == GS_OK);
    CHECK(gs_model_writer_set_metadata(w, "architecture", "{\"input\":[1,64,128],\"layers\":[]}", &err) == GS_OK);
    CHECK(gs_model_writer_set_metadata(w, "provenance", "{\"epochs\":1}", &err) == GS_OK);
    /* Replacing a key keeps one entry with the new value. */
    CHECK(gs_model_writer_set_metadata(w, "provenance", "{\"epochs\":7,\"acc\":0.5}", &err) == GS_OK);
    CHECK(gs_model_writer_set_metadata(w, "name", "tiny", &err) == GS_OK);
    return w;
}

static void check_header_convention(const unsigned char *bytes, size_t size)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | bytes[i];
    CHECK(n % 8 == 0);
    CHECK(8 + n <= size);
    char *text = malloc(n + 1);
    memcpy(text, bytes + 8, n);
    text[n] = '\0';
    cJSON *h = cJSON_Parse(text);
    CHECK(cJSON_IsObject(h));
    const char *end = strrchr(text, '}');
    CHECK(end != NULL);
    for (const char *c = end ? end + 1 : text; *c; c++)
        CHECK(*c == ' ');
    CHECK(h && h->child && strcmp(h->child->string, "__metadata__") == 0);
    uint64_t expect_begin = 0;
    const char *prev = "";
    int tensors = 0;
    for (const cJSON *e = h ? h->child : NULL; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            for (const cJSON *m = e->child; m; m = m->next)
                CHECK_MSG(cJSON_IsString(m), "metadata %s not a string", m->string);
            continue;
        }
        tensors++;
        CHECK(strcmp(prev, e->string) < 0); /* sorted by name */
        prev = e->string;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        CHECK(cJSON_IsString(dt) && strcmp(dt->valuestring, "F32") == 0);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        CHECK(cJSON_IsArray(shape));
        double numel = 1;
        for (const cJSON *d = shape ? shape->child : NULL; d; d = d->next)
            numel *= d->valuedouble;
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        CHECK(cJSON_GetArraySize(off) == 2);
        if (cJSON_GetArraySize(off) == 2) {
            CHECK(off->child->valuedouble == (double)expect_begin);
            CHECK(off->child->next->valuedouble - off->child->valuedouble == numel * 4);
            expect_begin = (uint64_t)off->child->next->valuedouble;
        }
    }
    CHECK(tensors == 4);
    CHECK(8 + n + expect_begin == size); /* data packed, nothing after it */
    cJSON_Delete(h);
    free(text);
}

static void test_round_trip(void)
{
    gs_error err;
    char path[700];
    path_for(path, sizeof path, "round.safetensors");
    gs_model_writer *w = make_writer();
    CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
    gs_model_writer_free(w);

    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(!file_exists(tmp));

    size_t size = 0;
    unsigned char *bytes = gs_test_read_file(path, &size);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    check_header_convention(bytes, size);
    /* Floats are written in their shortest exact form. */
    const char *lo = "\\\"log_offset\\\":1e-05,", *ws = "\\\"window_seconds\\\":30,";
    CHECK(memmem(bytes, size, lo, strlen(lo)) != NULL);
    CHECK(memmem(bytes, size, ws, strlen(ws)) != NULL);

    gs_model *m = gs_model_load(path, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    if (!m) {
        free(bytes);
        return;
    }
    CHECK(gs_model_num_tensors(m) == 4);
    const char *names[] = {"a.one", "conv1.bias", "conv1.weight", "dense.weight"};
    for (int i = 0; i < 4; i++) {
        const gs_tensor *t = gs_model_tensor_at(m, i);
        CHECK(t && strcmp(t->name, names[i]) == 0);
        CHECK(gs_model_tensor(m, names[i]) == t);
    }
    CHECK(gs_model_tensor_at(m, 4) == NULL && gs_model_tensor_at(m, -1) == NULL);
    CHECK(gs_model_tensor(m, "conv1") == NULL && gs_model_tensor(m, "zzz") == NULL);

    const gs_tensor *conv = gs_model_tensor(m, "conv1.weight");
    CHECK(conv && conv->ndim == 4 && conv->shape[0] == 2 && conv->shape[1] == 1 && conv->shape[2] == 3 &&
          conv->shape[3] == 3 && conv->numel == 18);
    float v[18];
    if (conv) {
        memcpy(v, conv->data, sizeof v);
        CHECK(v[0] == 0.5f && v[1] == -1.0f && v[17] == -17.25f);
    }
    const gs_tensor *dense = gs_model_tensor(m, "dense.weight");
    CHECK(dense && dense->ndim == 2 && dense->shape[0] == 3 && dense->shape[1] == 4 && dense->numel == 12);
    if (dense) {
        memcpy(v, dense->data, 12 * sizeof(float));
        CHECK(v[0] == 1e-3f && v[11] == 1e30f);
    }
    const gs_tensor *bias = gs_model_tensor(m, "conv1.bias");
    CHECK(bias && bias->ndim == 1 && bias->numel == 2);
    if (bias) {
        memcpy(v, bias->data, 2 * sizeof(float));
        CHECK(v[0] == 0.125f && v[1] == -0.5f);
    }

    CHECK(gs_model_num_labels(m) == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(strcmp(gs_model_label(m, i), labels3[i]) == 0);
        CHECK(gs_model_label_index(m, labels3[i]) == i);
    }
    CHECK(gs_model_label(m, 3) == NULL && gs_model_label(m, -1) == NULL);
    CHECK(gs_model_label_index(m, "metal") == -1);

    const gs_frontend_params *fp = gs_model_frontend(m);
    gs_frontend_params def;
    gs_frontend_params_default(&def);
    CHECK(fp->sample_rate == def.sample_rate && fp->n_fft == def.n_fft && fp->hop_length == def.hop_length);
    CHECK(fp->n_mels == 64 && fp->fmin == 20.5f && fp->fmax == 8000.25f && fp->log_offset == 1e-5f);
    CHECK(fp->patch_frames == def.patch_frames && fp->patch_hop_frames == def.patch_hop_frames);
    CHECK(fp->window_seconds == def.window_seconds && fp->patch_normalize == GS_PATCH_NORMALIZE_NONE);

    CHECK(strcmp(gs_model_architecture_json(m), "{\"input\":[1,64,128],\"layers\":[]}") == 0);
    CHECK(strcmp(gs_model_provenance_json(m), "{\"epochs\":7,\"acc\":0.5}") == 0);
    CHECK(strcmp(gs_model_metadata(m, "format"), "genrescope-model-1") == 0);
    CHECK(strcmp(gs_model_metadata(m, "name"), "tiny") == 0);
    CHECK(gs_model_metadata(m, "missing") == NULL);

    const char *id = gs_model_id(m);
    CHECK(strncmp(id, "tiny-", 5) == 0 && strlen(id) == 5 + 16);
    CHECK(strspn(id + 5, "0123456789abcdef") == 16);
    /* The documented hash (FNV-1a 64 over every byte), recomputed here. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ bytes[i]) * 0x100000001b3ull;
    char expect_id[64];
    snprintf(expect_id, sizeof expect_id, "tiny-%016llx", (unsigned long long)h);
    CHECK_MSG(strcmp(id, expect_id) == 0, "%s vs %s", id, expect_id);

    /* Same bytes, same id, from memory too. */
    unsigned char *copy;
    gs_model *again = load_copy(bytes, size, &err, &copy);
    CHECK_MSG(again != NULL, "%s", err.message);
    if (again) {
        CHECK(strcmp(gs_model_id(again), id) == 0);
        /* No copy: data sits in the caller's buffer right after the header,
         * in name order (a.one 4 bytes, conv1.bias 8, conv1.weight 72...). */
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = (n << 8) | copy[i];
        const unsigned char *data = copy + 8 + n;
        CHECK((const unsigned char *)gs_model_tensor(again, "a.one")->data == data);
        CHECK((const unsigned char *)gs_model_tensor(again, "conv1.bias")->data == data + 4);
        CHECK((const unsigned char *)gs_model_tensor(again, "conv1.weight")->data == data + 12);
        CHECK((const unsigned char *)gs_model_tensor(again, "dense.weight")->data == data + 84);
    }
    free_loaded(again, copy);

    /* One flipped data byte (a float in dense.weight) changes the id. */
    unsigned char *changed = malloc(size);
    memcpy(changed, bytes, size);
    changed[size - 1] ^= 0x01;
    CHECK(gs_test_write_file(path, changed, size) == 0);
    gs_model *m2 = gs_model_load(path, &err);
    CHECK_MSG(m2 != NULL, "%s", err.message);
    if (m2) {
        CHECK(strncmp(gs_model_id(m2), "tiny-", 5) == 0);
        CHECK(strcmp(gs_model_id(m2), id) != 0);
        gs_model_free(m2);
    }
    free(changed);
    gs_model_free(m);
    free(bytes);
    unlink(path);
}

/* Same content written with setters in another order gives the same file. */
static void test_deterministic_bytes(void)
{
    gs_error err;
    char p1[700], p2[700];
    path_for(p1, sizeof p1, "det1.safetensors");
    path_for(p2, sizeof p2, "det2.safetensors");
    float x[3] = {1, 2, 3}, y[2] = {4, 5};
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    const char *labels[] = {"x"};

    gs_model_writer *w = gs_model_writer_new();
    gs_model_writer_add_tensor(w, "x", 1, (const int64_t[]){3}, x, &err);
    gs_model_writer_add_tensor(w, "y", 1, (const int64_t[]){2}, y, &err);
    gs_model_writer_set_metadata(w, "zzz", "last", &err);
    gs_model_writer_set_standard_metadata(w, labels, 1, &fp, &err);
    CHECK(gs_model_writer_save(w, p1, &err) == GS_OK);
    gs_model_writer_free(w);

    w = gs_model_writer_new();
    gs_model_writer_set_standard_metadata(w, labels, 1, &fp, &err);
    gs_model_writer_add_tensor(w, "y", 1, (const int64_t[]){2}, y, &err);
    gs_model_writer_set_metadata(w, "zzz", "last", &err);
    gs_model_writer_add_tensor(w, "x", 1, (const int64_t[]){3}, x, &err);
    CHECK(gs_model_writer_save(w, p2, &err) == GS_OK);
    gs_model_writer_free(w);

    size_t n1 = 0, n2 = 0;
    unsigned char *b1 = gs_test_read_file(p1, &n1), *b2 = gs_test_read_file(p2, &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    gs_model *m = gs_model_load(p1, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    /* No "name" metadata: the id falls back to "model-". */
    CHECK(m && strncmp(gs_model_id(m), "model-", 6) == 0 && strlen(gs_model_id(m)) == 6 + 16);
    CHECK(m && strcmp(gs_model_architecture_json(m), "{}") == 0 && strcmp(gs_model_provenance_json(m), "{}") == 0);
    gs_model_free(m);
    free(b1);
    free(b2);
    unlink(p1);
    unlink(p2);
}

static void test_writer_errors(void)
{
    gs_error err;
    float d[4] = {0};
    gs_model_writer *w = gs_model_writer_new();
    CHECK(gs_model_writer_add_tensor(w, "t", 1, (const int64_t[]){4}, d, &err) == GS_OK);
    gs_error_clear(&err);
    CHECK(gs_model_writer_add_tensor(w, "t", 1, (const int64_t[]){4}, d, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "'t'") && strstr(err.message, "twice"));
    CHECK(gs_model_writer_add_tensor(w, "u", 0, (const int64_t[]){4}, d, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "ndim 0"));
    CHECK(gs_model_writer_add_tensor(w, "u", 5, (const int64_t[]){1, 1, 1, 1, 4}, d, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "ndim 5"));
    CHECK(gs_model_writer_add_tensor(w, "u", 2, (const int64_t[]){2, 0}, d, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "dimension 1 is 0"));
    CHECK(gs_model_writer_add_tensor(w, "u", 1, (const int64_t[]){-4}, d, &err) == GS_ERR_INVALID);
    CHECK(gs_model_writer_add_tensor(w, "u", 2, (const int64_t[]){INT64_MAX / 2, 4}, d, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "overflow"));
    CHECK(gs_model_writer_add_tensor(w, "__metadata__", 1, (const int64_t[]){4}, d, &err) == GS_ERR_INVALID);
    CHECK(gs_model_writer_add_tensor(w, "", 1, (const int64_t[]){4}, d, &err) == GS_ERR_INVALID);
    CHECK(gs_model_writer_set_metadata(w, "", "x", &err) == GS_ERR_INVALID);

    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    const char *dup[] = {"a", "b", "a"};
    CHECK(gs_model_writer_set_standard_metadata(w, dup, 3, &fp, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "duplicate label 'a'"));
    const char *empty[] = {"a", ""};
    CHECK(gs_model_writer_set_standard_metadata(w, empty, 2, &fp, &err) == GS_ERR_INVALID);
    char long_label[GS_MAX_LABEL_LENGTH + 1];
    memset(long_label, 'x', GS_MAX_LABEL_LENGTH);
    long_label[GS_MAX_LABEL_LENGTH] = '\0';
    const char *too_long[] = {long_label};
    CHECK(gs_model_writer_set_standard_metadata(w, too_long, 1, &fp, &err) == GS_ERR_INVALID);
    CHECK(gs_model_writer_set_standard_metadata(w, dup, 0, &fp, &err) == GS_ERR_INVALID);
    CHECK(gs_model_writer_set_standard_metadata(w, dup, GS_MAX_LABELS + 1, &fp, &err) == GS_ERR_INVALID);
    fp.n_fft = 1023;
    CHECK(gs_model_writer_set_standard_metadata(w, dup, 2, &fp, &err) == GS_ERR_INVALID);
    CHECK(strstr(err.message, "frontend") && strstr(err.message, "n_fft"));

    /* Save into a missing directory: I/O error, nothing left behind. */
    CHECK(gs_model_writer_save(w, "/nonexistent-genrescope-dir/m.safetensors", &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "No such file or directory"));

    /* A directory is refused before anything is written (the write-path
     * rules themselves are tested in test_outfile). */
    char dir[700];
    path_for(dir, sizeof dir, "target_dir");
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    gs_error_clear(&err);
    CHECK(gs_model_writer_save(w, dir, &err) == GS_ERR_IO);
    CHECK(strstr(err.message, "a directory, not a regular file"));
    CHECK(rmdir(dir) == 0); /* still an empty directory */
    gs_model_writer_free(w);
}

/* ---- malformations ------------------------------------------------------ */

static void test_good_spec_loads(void)
{
    /* The baseline every malformation below changes in one place. */
    spec s = good_spec();
    size_t size;
    unsigned char *bytes = build_spec(&s, &size);
    gs_error err;
    unsigned char *copy;
    gs_model *m = load_copy(bytes, size, &err, &copy);
    CHECK_MSG(m != NULL, "good spec rejected: %s", err.message);
    if (m) {
        CHECK(gs_model_num_tensors(m) == 2 && gs_model_num_labels(m) == 2);
        const gs_tensor *b = gs_model_tensor(m, "b");
        float v[4];
        memcpy(v, b->data, sizeof v);
        CHECK(v[0] == -1.5f && v[3] == 3e8f);
    }
    free_loaded(m, copy);
    /* format written as a JSON string document is accepted as well. */
    s.format = "\"genrescope-model-1\"";
    free(bytes);
    bytes = build_spec(&s, &size);
    m = load_copy(bytes, size, &err, &copy);
    CHECK_MSG(m != NULL, "quoted format rejected: %s", err.message);
    free_loaded(m, copy);
    free(bytes);
}

static void test_length_prefix(void)
{
    expect_reject("5-byte file", (const unsigned char *)"abcde", 5, GS_ERR_MODEL, "shorter than the 8-byte", NULL);
    expect_reject("empty buffer", (const unsigned char *)"", 0, GS_ERR_MODEL, "0 bytes", NULL);

    spec s = good_spec();
    size_t size;
    unsigned char *bytes = build_spec(&s, &size);
    put_le64(bytes, 0);
    expect_reject("header length 0", bytes, size, GS_ERR_MODEL, "header length is 0", NULL);
    put_le64(bytes, size - 8 + 1);
    expect_reject("header longer than file", bytes, size, GS_ERR_MODEL, "larger than the file", NULL);
    put_le64(bytes, UINT64_MAX);
    expect_reject("header length 2^64-1", bytes, size, GS_ERR_MODEL, "100 MB", NULL);
    put_le64(bytes, (uint64_t)100 * 1024 * 1024 + 1);
    expect_reject("header > 100 MB", bytes, size, GS_ERR_MODEL, "100 MB", NULL);
    free(bytes);
}

static void test_bad_json(void)
{
    expect_header_reject("truncated JSON", "{\"a\":{\"dtype\":", "not valid JSON", NULL);
    expect_header_reject("not JSON at all", "hello world", "not valid JSON", NULL);
    expect_header_reject("top-level array", "[1,2,3]", "not an object", NULL);
    expect_header_reject("top-level string", "\"x\"", "not an object", NULL);
    expect_header_reject("garbage after JSON", "{}  x", "non-whitespace", NULL);
    /* An embedded NUL must not end the header early. */
    size_t size;
    unsigned char *bytes = raw_file("{}  _", NULL, 0, &size);
    bytes[8 + 3] = '\0';
    expect_reject("NUL inside header", bytes, size, GS_ERR_MODEL, "non-whitespace", NULL);
    free(bytes);
}

static void reject_tensors(const char *what, const char *tensors, const char *needle1, const char *needle2)
{
    spec s = good_spec();
    s.tensors = tensors;
    expect_spec_reject(what, &s, needle1, needle2);
}

static void test_bad_tensors(void)
{
    const char *b = ",\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}";
    char t[512];
#define A(entry) (snprintf(t, sizeof t, "\"a\":%s%s", entry, b), t)
    reject_tensors("entry not object", A("5"), "tensor 'a'", "not a JSON object");
    reject_tensors("missing dtype", A("{\"shape\":[2,3],\"data_offsets\":[0,24]}"), "tensor 'a'", "missing dtype");
    reject_tensors("dtype not string", A("{\"dtype\":32,\"shape\":[2,3],\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "dtype");
    reject_tensors("dtype F16", A("{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), "tensor 'a'", "F16");
    reject_tensors("dtype F64", A("{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]}"), "tensor 'a'", "F64");
    reject_tensors("missing shape", A("{\"dtype\":\"F32\",\"data_offsets\":[0,24]}"), "tensor 'a'", "missing shape");
    reject_tensors("shape not array", A("{\"dtype\":\"F32\",\"shape\":6,\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "shape");
    reject_tensors("negative dim", A("{\"dtype\":\"F32\",\"shape\":[-2,-3],\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "negative dimension");
    reject_tensors("fractional dim", A("{\"dtype\":\"F32\",\"shape\":[1.5,4],\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "shape entry 0");
    reject_tensors("5 dims", A("{\"dtype\":\"F32\",\"shape\":[1,1,1,2,3],\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "5 dims");
    reject_tensors("numel overflow", A("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,24]}"),
                   "tensor 'a'", "overflow");
    reject_tensors("numel*4 overflow",
                   A("{\"dtype\":\"F32\",\"shape\":[4503599627370496,1024],\"data_offsets\":[0,24]}"), "tensor 'a'",
                   "overflow");
    reject_tensors("missing data_offsets", A("{\"dtype\":\"F32\",\"shape\":[2,3]}"), "tensor 'a'",
                   "missing data_offsets");
    reject_tensors("data_offsets one entry", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[24]}"),
                   "tensor 'a'", "[begin, end]");
    reject_tensors("data_offsets three entries", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24,48]}"),
                   "tensor 'a'", "[begin, end]");
    reject_tensors("data_offsets strings", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[\"0\",\"24\"]}"),
                   "tensor 'a'", "[begin, end]");
    reject_tensors("data_offsets negative", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[-8,16]}"),
                   "tensor 'a'", "[begin, end]");
    reject_tensors("begin > end", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[24,0]}"), "tensor 'a'",
                   "begin 24 > end 0");
    reject_tensors("end beyond data", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[24,48]}"), "tensor 'a'",
                   "beyond the data section (40 bytes)");
    reject_tensors("size mismatch", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}"), "tensor 'a'",
                   "cover 20 bytes but shape needs 24");
    reject_tensors("overlap", A("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]}"), "'a'", "overlap");
    reject_tensors("overlap names both",
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12,28]}",
                   "'a' [0, 16) and 'b' [12, 28) overlap", NULL);
    reject_tensors("duplicate tensor",
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}",
                   "duplicate tensor 'a'", NULL);
    reject_tensors("empty tensor name", "\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "empty name",
                   NULL);
#undef A

    /* Boundaries that are valid: an empty tensor inside another's range
     * occupies no bytes; a 4-dim tensor; a scalar (shape []). */
    spec s = good_spec();
    s.tensors = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[8,8]},"
                "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[24,28]},"
                "\"q\":{\"dtype\":\"F32\",\"shape\":[1,1,1,3],\"data_offsets\":[28,40]}";
    size_t size;
    unsigned char *bytes = build_spec(&s, &size);
    gs_error err;
    unsigned char *copy;
    gs_model *m = load_copy(bytes, size, &err, &copy);
    CHECK_MSG(m != NULL, "valid edge tensors rejected: %s", err.message);
    if (m) {
        const gs_tensor *e = gs_model_tensor(m, "e"), *sc = gs_model_tensor(m, "s");
        CHECK(e && e->numel == 0 && e->ndim == 2);
        CHECK(sc && sc->numel == 1 && sc->ndim == 0);
    }
    free_loaded(m, copy);
    free(bytes);
}

static void test_bad_metadata(void)
{
    spec s = good_spec();
    s.with_metadata = 0;
    expect_spec_reject("no __metadata__", &s, "missing __metadata__", NULL);

    s = good_spec();
    s.metadata_raw = "[\"x\"]";
    expect_spec_reject("__metadata__ array", &s, "__metadata__ is not a JSON object", NULL);
    s.metadata_raw = "{\"format\":\"genrescope-model-1\",\"epochs\":3}";
    expect_spec_reject("metadata value number", &s, "'epochs'", "not a string");
    s.metadata_raw = "{\"format\":\"genrescope-model-1\",\"format\":\"genrescope-model-1\"}";
    expect_spec_reject("duplicate metadata key", &s, "'format'", "twice");

    s = good_spec();
    size_t size;
    unsigned char *good = build_spec(&s, &size);
    /* Two __metadata__ members: splice a second one into the header. */
    char header[4096];
    snprintf(header, sizeof header, "{\"__metadata__\":{},%.*s", (int)(size - 8 - sizeof good_data - 1),
             (const char *)good + 9);
    expect_header_reject("two __metadata__", header, "more than one __metadata__", NULL);
    free(good);

    s = good_spec();
    s.format = NULL;
    expect_spec_reject("format missing", &s, "'format' missing", NULL);
    s.format = "genrescope-model-2";
    expect_spec_reject("format wrong", &s, "genrescope-model-2", "expected");

    const char *bad_labels[][2] = {
        {"[rock", "not a JSON array"},
        {"{\"rock\":1}", "not a JSON array"},
        {"[\"rock\"] x", "not a JSON array"},
        {"[]", "0 entries"},
        {"[\"rock\",\"\"]", "entry 1 has length 0"},
        {"[\"rock\",3]", "entry 1 is not a string"},
        {"[\"rock\",\"jazz\",\"rock\"]", "duplicate label 'rock'"},
        {"[\"0123456789012345678901234567890123456789012345678901234567890123\"]", "length 64"},
    };
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        s = good_spec();
        s.labels = bad_labels[i][0];
        expect_spec_reject(bad_labels[i][0], &s, "'labels'", bad_labels[i][1]);
    }
    s = good_spec();
    s.labels = NULL;
    expect_spec_reject("labels missing", &s, "'labels' missing", NULL);

    /* 65 labels; 64 is the maximum and must load. */
    char many[65 * 8 + 4];
    for (int n = 64; n <= 65; n++) {
        size_t used = (size_t)snprintf(many, sizeof many, "[");
        for (int i = 0; i < n; i++)
            used += (size_t)snprintf(many + used, sizeof many - used, "%s\"g%d\"", i ? "," : "", i);
        snprintf(many + used, sizeof many - used, "]");
        s = good_spec();
        s.labels = many;
        if (n == 65) {
            expect_spec_reject("65 labels", &s, "65 entries", NULL);
        } else {
            unsigned char *bytes = build_spec(&s, &size);
            gs_error err;
            unsigned char *copy;
            gs_model *m = load_copy(bytes, size, &err, &copy);
            CHECK_MSG(m && gs_model_num_labels(m) == 64, "64 labels: %s", m ? "wrong count" : err.message);
            CHECK(m && gs_model_label_index(m, "g63") == 63);
            free_loaded(m, copy);
            free(bytes);
        }
    }

    s = good_spec();
    s.architecture = "[1,2]";
    expect_spec_reject("architecture array", &s, "'architecture' is not a JSON object", NULL);
    s = good_spec();
    s.provenance = "{\"epochs\":";
    expect_spec_reject("provenance invalid", &s, "'provenance' is not a JSON object", NULL);
}

static void test_bad_frontend(void)
{
    spec s = good_spec();
    s.frontend = NULL;
    expect_spec_reject("frontend missing", &s, "'frontend' missing", NULL);
    s.frontend = "[1]";
    expect_spec_reject("frontend array", &s, "'frontend' is not a JSON object", NULL);
    s.frontend = "{\"sample_rate\":";
    expect_spec_reject("frontend invalid JSON", &s, "'frontend' is not a JSON object", NULL);

    const char *fields[] = {"sample_rate",    "n_fft",      "hop_length",   "n_mels",           "fmin",
                            "fmax",           "log_offset", "patch_frames", "patch_hop_frames", "window_seconds",
                            "patch_normalize"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char *text = frontend_text(fields[i], NULL);
        s.frontend = text;
        char needle[64];
        snprintf(needle, sizeof needle, "missing %s", fields[i]);
        expect_spec_reject(needle, &s, "'frontend'", needle);
        cJSON_free(text);
    }

    struct {
        const char *key, *raw, *needle;
    } bad[] = {
        {"patch_normalize", "\"max\"", "patch_normalize must be"},
        {"patch_normalize", "1", "patch_normalize must be"},
        {"n_fft", "1024.5", "n_fft = 1024.5 is not an int"},
        {"n_fft", "\"1024\"", "n_fft is not a finite number"},
        {"hop_length", "1e12", "hop_length = 1e+12 is not an int"},
        {"fmax", "1e300", "out of float range"},
        {"n_fft", "1023", "n_fft 1023"}, /* fails gs_frontend_params_validate */
        {"fmax", "20000", "fmax 20000"}, /* above sample_rate/2 */
        {"log_offset", "0", "log_offset"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = frontend_text(bad[i].key, bad[i].raw);
        s.frontend = text;
        expect_spec_reject(bad[i].needle, &s, "'frontend'", bad[i].needle);
        cJSON_free(text);
    }
}

static void test_io_errors(void)
{
    gs_error err;
    char path[700];
    path_for(path, sizeof path, "does-not-exist.safetensors");
    gs_model *m = gs_model_load(path, &err);
    CHECK(m == NULL && err.code == GS_ERR_IO);
    CHECK(strstr(err.message, path) && strstr(err.message, "No such file or directory"));

    m = gs_model_load(tmp_dir, &err);
    CHECK(m == NULL && err.code == GS_ERR_IO);
    CHECK_MSG(strstr(err.message, "directory"), "%s", err.message);

    /* A FIFO is refused at once, not opened and waited on. */
    path_for(path, sizeof path, "fifo.safetensors");
    unlink(path);
    CHECK(mkfifo(path, 0644) == 0);
    m = gs_model_load(path, &err);
    CHECK(m == NULL && err.code == GS_ERR_IO && strstr(err.message, "not a regular file"));
    unlink(path);

    path_for(path, sizeof path, "empty.safetensors");
    CHECK(gs_test_write_file(path, "", 0) == 0);
    m = gs_model_load(path, &err);
    CHECK(m == NULL && err.code == GS_ERR_MODEL);
    CHECK_MSG(strstr(err.message, "0 bytes"), "%s", err.message);
    unlink(path);

    if (geteuid() != 0) { /* root reads anything */
        path_for(path, sizeof path, "unreadable.safetensors");
        CHECK(gs_test_write_file(path, "12345678", 8) == 0);
        chmod(path, 0);
        m = gs_model_load(path, &err);
        CHECK(m == NULL && err.code == GS_ERR_IO && strstr(err.message, "Permission denied"));
        unlink(path);
    }

    m = gs_model_load_memory(NULL, 10, &err);
    CHECK(m == NULL && err.code == GS_ERR_INVALID);
}

/* ---- truncation and fuzzing --------------------------------------------- */

static unsigned char *small_model(size_t *size)
{
    gs_error err;
    char path[700];
    path_for(path, sizeof path, "small.safetensors");
    gs_model_writer *w = gs_model_writer_new();
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {7, 8};
    const char *labels[] = {"rock", "jazz"};
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    gs_model_writer_add_tensor(w, "a", 2, (const int64_t[]){2, 3}, a, &err);
    gs_model_writer_add_tensor(w, "b", 1, (const int64_t[]){2}, b, &err);
    gs_model_writer_set_standard_metadata(w, labels, 2, &fp, &err);
    gs_model_writer_set_metadata(w, "architecture", "{\"layers\":[]}", &err);
    CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
    gs_model_writer_free(w);
    unsigned char *bytes = gs_test_read_file(path, size);
    unlink(path);
    return bytes;
}

static void test_truncation(void)
{
    size_t size = 0;
    unsigned char *bytes = small_model(&size);
    CHECK(bytes != NULL && size > 100);
    if (!bytes)
        return;
    gs_error err;
    unsigned char *copy;
    gs_model *full = load_copy(bytes, size, &err, &copy);
    CHECK_MSG(full != NULL, "%s", err.message);
    free_loaded(full, copy);

    int failures = 0;
    for (size_t len = 0; len < size; len++) {
        gs_error_clear(&err);
        gs_model *m = load_copy(bytes, len, &err, &copy);
        if (m != NULL || err.code != GS_ERR_MODEL || err.message[0] == '\0') {
            failures++;
            fprintf(stderr, "truncated to %zu: %s (code %d)\n", len, m ? "loaded" : err.message, err.code);
        }
        free_loaded(m, copy);
    }
    CHECK_MSG(failures == 0, "%d of %zu truncations not rejected", failures, size);

    /* A few of them through real files (mmap path). */
    char path[700];
    path_for(path, sizeof path, "trunc.safetensors");
    size_t lens[] = {1, 7, 8, 9, size / 2, size - 4, size - 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        CHECK(gs_test_write_file(path, bytes, lens[i]) == 0);
        gs_model *m = gs_model_load(path, &err);
        CHECK_MSG(m == NULL && err.code == GS_ERR_MODEL, "file truncated to %zu", lens[i]);
        gs_model_free(m);
    }
    unlink(path);
    free(bytes);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    /* xorshift64*: fixed seed, so a failure reproduces exactly. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void test_fuzz(void)
{
    size_t size = 0;
    unsigned char *bytes = small_model(&size);
    if (!bytes)
        return;
    unsigned char *buf = malloc(size);
    int loaded = 0, rejected = 0, bad = 0;
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(buf, bytes, size);
        int flips = 1 + (int)(rng_next() % 4);
        for (int f = 0; f < flips; f++) {
            /* Mostly the header, where the parser lives. */
            size_t header_end = size - 8 * sizeof(float);
            size_t at = (rng_next() % 4) ? (size_t)(rng_next() % header_end) : (size_t)(rng_next() % size);
            buf[at] ^= (unsigned char)(1 + rng_next() % 255);
        }
        gs_error err;
        gs_error_clear(&err);
        gs_model *m = gs_model_load_memory(buf, size, &err);
        if (!m) {
            rejected++;
            if (err.code != GS_ERR_MODEL || !err.message[0])
                bad++;
            continue;
        }
        loaded++;
        for (int i = 0; i < gs_model_num_tensors(m); i++) {
            const gs_tensor *t = gs_model_tensor_at(m, i);
            const unsigned char *p = (const unsigned char *)t->data;
            if (p < buf || p > buf + size || (size_t)(buf + size - p) < (size_t)t->numel * 4 || t->ndim < 0 ||
                t->ndim > GS_MAX_TENSOR_DIMS || gs_model_tensor(m, t->name) != t)
                bad++;
        }
        if (gs_model_num_labels(m) < 1 || gs_model_frontend(m)->n_fft < 16 || !gs_model_id(m) ||
            gs_frontend_params_validate(gs_model_frontend(m), NULL) != GS_OK)
            bad++;
        gs_model_free(m);
    }
    printf("fuzz: %d loaded, %d rejected\n", loaded, rejected);
    CHECK(bad == 0);
    CHECK(loaded > 0 && rejected > 0); /* both paths were exercised */
    free(buf);
    free(bytes);
}

/* The optional not-music label: found by name (bare or JSON-quoted), not a
 * genre, and a name that is not a label is a malformed model. */
static void test_not_music_label(void)
{
    gs_error err;
    char path[700];
    path_for(path, sizeof path, "not_music.safetensors");
    const char *values[] = {"hip-hop", "\"hip-hop\"", "jazz", "", NULL};
    const int expect[] = {2, 2, -2, -2, -1}; /* -2: rejected */
    for (int i = 0; i < 5; i++) {
        gs_model_writer *w = make_writer();
        if (values[i])
            CHECK(gs_model_writer_set_metadata(w, "not_music_label", values[i], &err) == GS_OK);
        CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
        gs_model_writer_free(w);
        gs_model *m = gs_model_load(path, &err);
        if (expect[i] == -2) {
            CHECK_MSG(m == NULL && err.code == GS_ERR_MODEL && strstr(err.message, "not_music_label"),
                      "value '%s' accepted", values[i]);
        } else {
            CHECK_MSG(m && gs_model_not_music_label(m) == expect[i], "value %s", values[i] ? values[i] : "(none)");
            CHECK(m && gs_model_is_genre_label(m, 0) && gs_model_is_genre_label(m, 1));
            CHECK(m && gs_model_is_genre_label(m, 2) == (expect[i] != 2));
            CHECK(m && !gs_model_is_genre_label(m, 3) && !gs_model_is_genre_label(m, -1));
        }
        gs_model_free(m);
    }
    CHECK(gs_model_not_music_label(NULL) == -1);
}

/* The optional calibration: a temperature in (0, 100], method named. */
static void test_calibration_metadata(void)
{
    gs_error err;
    char path[700];
    path_for(path, sizeof path, "calibration.safetensors");
    const char *values[] = {"{\"method\":\"temperature\",\"temperature\":1.75,\"fit_on\":\"cv\"}",
                            NULL,
                            "{\"method\":\"platt\",\"temperature\":2}",
                            "{\"method\":\"temperature\",\"temperature\":0}",
                            "{\"method\":\"temperature\",\"temperature\":1e9}",
                            "{\"method\":\"temperature\"}",
                            "[1.5]"};
    const float expect[] = {1.75f, 1.0f, -1, -1, -1, -1, -1}; /* -1: rejected */
    for (int i = 0; i < 7; i++) {
        gs_model_writer *w = make_writer();
        if (values[i])
            CHECK(gs_model_writer_set_metadata(w, "calibration", values[i], &err) == GS_OK);
        CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
        gs_model_writer_free(w);
        gs_model *m = gs_model_load(path, &err);
        if (expect[i] < 0)
            CHECK_MSG(m == NULL && err.code == GS_ERR_MODEL && strstr(err.message, "calibration"), "accepted %s",
                      values[i]);
        else
            CHECK_MSG(m && gs_model_calibration_temperature(m) == expect[i], "%s", values[i] ? values[i] : "none");
        gs_model_free(m);
    }
    CHECK(gs_model_calibration_temperature(NULL) == 1.0f);

    /* The recommended tagging threshold. */
    const char *tagging[] = {"{\"min_confidence\":0.62,\"precision\":0.95}", "{\"min_confidence\":0}",
                             "{\"min_confidence\":1.5}", "{\"precision\":0.9}"};
    const float want[] = {0.62f, -2, -2, -2};
    for (int i = 0; i < 4; i++) {
        gs_model_writer *w = make_writer();
        CHECK(gs_model_writer_set_metadata(w, "tagging", tagging[i], &err) == GS_OK);
        CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
        gs_model_writer_free(w);
        gs_model *m = gs_model_load(path, &err);
        if (want[i] < -1)
            CHECK_MSG(m == NULL && strstr(err.message, "tagging"), "accepted %s", tagging[i]);
        else
            CHECK(m && gs_model_tag_min_confidence(m) == want[i]);
        gs_model_free(m);
    }
    gs_model_writer *w = make_writer();
    CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
    gs_model_writer_free(w);
    gs_model *m = gs_model_load(path, &err);
    CHECK(m && gs_model_tag_min_confidence(m) == -1.0f);
    CHECK(m && gs_model_not_music_min_probability(m) == GS_NOT_MUSIC_THRESHOLD);
    gs_model_free(m);
    CHECK(gs_model_not_music_min_probability(NULL) == GS_NOT_MUSIC_THRESHOLD);

    /* The not-music threshold: a probability, and only with a not-music
     * label to apply it to. */
    const char *decision[] = {"{\"min_probability\":0.04,\"music_rejected\":0.01}",
                              "{\"min_probability\":0}",
                              "{\"min_probability\":1.5}",
                              "{\"music_rejected\":0.01}",
                              "0.2",
                              "{\"min_probability\":0.04}"};
    const int with_label[] = {1, 1, 1, 1, 1, 0};
    const float expect_min[] = {0.04f, -1, -1, -1, -1, -1}; /* -1: rejected */
    for (int i = 0; i < 6; i++) {
        w = make_writer();
        if (with_label[i])
            CHECK(gs_model_writer_set_metadata(w, "not_music_label", "hip-hop", &err) == GS_OK);
        CHECK(gs_model_writer_set_metadata(w, "not_music_decision", decision[i], &err) == GS_OK);
        CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
        gs_model_writer_free(w);
        m = gs_model_load(path, &err);
        if (expect_min[i] < 0)
            CHECK_MSG(m == NULL && err.code == GS_ERR_MODEL && strstr(err.message, "not_music_decision"),
                      "accepted %s (label %d)", decision[i], with_label[i]);
        else
            CHECK_MSG(m && gs_model_not_music_min_probability(m) == expect_min[i], "%s", decision[i]);
        gs_model_free(m);
    }
}

int main(void)
{
    if (gs_test_tmpdir(tmp_dir, sizeof tmp_dir, "test_model") != 0)
        return EXIT_FAILURE;

    test_round_trip();
    test_deterministic_bytes();
    test_writer_errors();
    test_good_spec_loads();
    test_length_prefix();
    test_bad_json();
    test_bad_tensors();
    test_bad_metadata();
    test_bad_frontend();
    test_not_music_label();
    test_calibration_metadata();
    test_io_errors();
    test_truncation();
    test_fuzz();
    if (!gs_test_failures)
        gs_test_rmtree(tmp_dir);
    return gs_test_finish("test_model");
}
