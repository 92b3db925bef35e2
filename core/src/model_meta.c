/* Genrescope's __metadata__ keys: format, labels, frontend, architecture,
 * provenance. Everything the rest of core/ reads from a model file is
 * checked here once, so consumers can trust the accessors. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "genrescope/verdict.h"

typedef enum field_kind { FIELD_INT, FIELD_FLOAT, FIELD_NORMALIZE } field_kind;

typedef struct frontend_field {
    const char *key;
    field_kind kind;
    size_t offset;
} frontend_field;

static const frontend_field frontend_fields[] = {
    {"sample_rate", FIELD_INT, offsetof(gs_frontend_params, sample_rate)},
    {"n_fft", FIELD_INT, offsetof(gs_frontend_params, n_fft)},
    {"hop_length", FIELD_INT, offsetof(gs_frontend_params, hop_length)},
    {"n_mels", FIELD_INT, offsetof(gs_frontend_params, n_mels)},
    {"fmin", FIELD_FLOAT, offsetof(gs_frontend_params, fmin)},
    {"fmax", FIELD_FLOAT, offsetof(gs_frontend_params, fmax)},
    {"log_offset", FIELD_FLOAT, offsetof(gs_frontend_params, log_offset)},
    {"patch_frames", FIELD_INT, offsetof(gs_frontend_params, patch_frames)},
    {"patch_hop_frames", FIELD_INT, offsetof(gs_frontend_params, patch_hop_frames)},
    {"window_seconds", FIELD_FLOAT, offsetof(gs_frontend_params, window_seconds)},
    {"patch_normalize", FIELD_NORMALIZE, offsetof(gs_frontend_params, patch_normalize)},
};

static int compare_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Metadata values are JSON documents inside strings: parse one, refusing
 * trailing garbage (plain cJSON_Parse would ignore it). */
static cJSON *parse_document(const char *text)
{
    return cJSON_ParseWithOpts(text, NULL, 1);
}

static gs_status check_metadata_object(const cJSON *meta, gs_error *err)
{
    if (!meta)
        return gs_error_set(err, GS_ERR_MODEL, "missing __metadata__ (labels, frontend, format)");
    if (!cJSON_IsObject(meta))
        return gs_error_set(err, GS_ERR_MODEL, "__metadata__ is not a JSON object");
    int count = cJSON_GetArraySize(meta);
    const char **keys = calloc(count ? (size_t)count : 1, sizeof *keys);
    if (!keys)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory checking %d metadata keys", count);
    int n = 0;
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            free(keys);
            return gs_error_set(err, GS_ERR_MODEL, "metadata '%.64s': value is not a string", e->string);
        }
        keys[n++] = e->string;
    }
    /* Duplicate keys would make gs_model_metadata's answer depend on order. */
    qsort(keys, (size_t)n, sizeof *keys, compare_cstr);
    for (int i = 1; i < n; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            gs_status st = gs_error_set(err, GS_ERR_MODEL, "metadata key '%.64s' appears twice", keys[i]);
            free(keys);
            return st;
        }
    }
    free(keys);
    return GS_OK;
}

/* The writer stores the bare string; a value written as a JSON string
 * ("\"genrescope-model-1\"", as the other keys are JSON documents) is
 * accepted too, so converters written either way interoperate. */
static gs_status check_format(const cJSON *meta, gs_error *err)
{
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(meta, "format");
    if (!format)
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'format' missing (expected \"%s\")", GS_MODEL_FORMAT);
    const char *v = format->valuestring;
    if (strcmp(v, GS_MODEL_FORMAT) == 0 || strcmp(v, "\"" GS_MODEL_FORMAT "\"") == 0)
        return GS_OK;
    return gs_error_set(err, GS_ERR_MODEL, "metadata 'format' is \"%.64s\", expected \"%s\"", v, GS_MODEL_FORMAT);
}

static gs_status parse_labels(gs_model *m, gs_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, "labels");
    if (!item)
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'labels' missing");
    cJSON *labels = parse_document(item->valuestring);
    if (!labels || !cJSON_IsArray(labels)) {
        cJSON_Delete(labels);
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'labels' is not a JSON array");
    }
    gs_status st = GS_OK;
    int n = cJSON_GetArraySize(labels);
    if (n < 1 || n > GS_MAX_LABELS) {
        st = gs_error_set(err, GS_ERR_MODEL, "metadata 'labels' has %d entries (need 1..%d)", n, GS_MAX_LABELS);
        goto done;
    }
    int i = 0;
    for (const cJSON *l = labels->child; l; l = l->next, i++) {
        if (!cJSON_IsString(l)) {
            st = gs_error_set(err, GS_ERR_MODEL, "metadata 'labels': entry %d is not a string", i);
            goto done;
        }
        size_t len = strlen(l->valuestring);
        if (len == 0 || len >= GS_MAX_LABEL_LENGTH) {
            st = gs_error_set(err, GS_ERR_MODEL, "metadata 'labels': entry %d has length %zu (need 1..%d)", i, len,
                              GS_MAX_LABEL_LENGTH - 1);
            goto done;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(m->labels[j], l->valuestring) == 0) {
                st = gs_error_set(err, GS_ERR_MODEL, "metadata 'labels': duplicate label '%s'", l->valuestring);
                goto done;
            }
        }
        memcpy(m->labels[i], l->valuestring, len + 1);
    }
    m->num_labels = n;
done:
    cJSON_Delete(labels);
    return st;
}

static gs_status parse_field(const frontend_field *f, const cJSON *v, gs_frontend_params *p, gs_error *err)
{
    char *dst = (char *)p + f->offset;
    if (f->kind == FIELD_NORMALIZE) {
        gs_patch_normalize mode;
        if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0)
            mode = GS_PATCH_NORMALIZE_NONE;
        else if (cJSON_IsString(v) && strcmp(v->valuestring, "mean") == 0)
            mode = GS_PATCH_NORMALIZE_MEAN;
        else
            return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend': %s must be \"none\" or \"mean\"", f->key);
        memcpy(dst, &mode, sizeof mode);
        return GS_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend': %s is not a finite number", f->key);
    double d = v->valuedouble;
    if (f->kind == FIELD_INT) {
        if (d < INT_MIN || d > INT_MAX || (double)(int)d != d)
            return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend': %s = %g is not an int", f->key, d);
        int value = (int)d;
        memcpy(dst, &value, sizeof value);
    } else {
        if (d > FLT_MAX || d < -FLT_MAX)
            return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend': %s = %g out of float range", f->key, d);
        float value = (float)d;
        memcpy(dst, &value, sizeof value);
    }
    return GS_OK;
}

/* Every field is required: a model whose front-end silently fell back to a
 * default would produce features the network was never trained on.
 * Unknown keys are ignored so later format revisions can add fields. */
static gs_status parse_frontend(gs_model *m, gs_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, "frontend");
    if (!item)
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend' missing");
    cJSON *obj = parse_document(item->valuestring);
    if (!obj || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend' is not a JSON object");
    }
    gs_status st = GS_OK;
    for (size_t i = 0; i < sizeof frontend_fields / sizeof frontend_fields[0]; i++) {
        const frontend_field *f = &frontend_fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
        if (!v) {
            st = gs_error_set(err, GS_ERR_MODEL, "metadata 'frontend': missing %s", f->key);
            break;
        }
        st = parse_field(f, v, &m->frontend, err);
        if (st != GS_OK)
            break;
    }
    cJSON_Delete(obj);
    if (st != GS_OK)
        return st;
    if (gs_frontend_params_validate(&m->frontend, err) != GS_OK) {
        gs_error_prefix(err, "metadata 'frontend'");
        if (err)
            err->code = GS_ERR_MODEL; /* a bad file, not a bad argument */
        return GS_ERR_MODEL;
    }
    return GS_OK;
}

/* "not_music_label": the one label (if any) that means "this is not music"
 * rather than a genre. Stored bare or as a JSON string, like "format". It
 * must name one of the labels, and a model needs at least one genre too. */
static gs_status parse_not_music_label(gs_model *m, gs_error *err)
{
    m->not_music_label = -1;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, "not_music_label");
    if (!item)
        return GS_OK;
    char name[GS_MAX_LABEL_LENGTH + 2];
    const char *v = item->valuestring;
    size_t len = strlen(v);
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"' && len - 2 < GS_MAX_LABEL_LENGTH) {
        memcpy(name, v + 1, len - 2);
        name[len - 2] = '\0';
    } else if (len < GS_MAX_LABEL_LENGTH) {
        memcpy(name, v, len + 1);
    } else {
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'not_music_label' is too long");
    }
    m->not_music_label = gs_model_label_index(m, name);
    if (m->not_music_label < 0)
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'not_music_label' \"%.64s\" is not one of the labels", name);
    if (m->num_labels < 2)
        return gs_error_set(err, GS_ERR_MODEL, "metadata 'not_music_label': the model has no genre label");
    return GS_OK;
}

/* "calibration": {"method": "temperature", "temperature": T, ...} (other
 * keys say how T was fitted). T in (0, 100]; absent means 1. */
static gs_status parse_calibration(gs_model *m, gs_error *err)
{
    m->calibration_temperature = 1.0f;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, "calibration");
    if (!item)
        return GS_OK;
    cJSON *doc = parse_document(item->valuestring);
    gs_status st = GS_OK;
    const cJSON *method = doc ? cJSON_GetObjectItemCaseSensitive(doc, "method") : NULL;
    const cJSON *t = doc ? cJSON_GetObjectItemCaseSensitive(doc, "temperature") : NULL;
    if (!doc || !cJSON_IsObject(doc))
        st = gs_error_set(err, GS_ERR_MODEL, "metadata 'calibration' is not a JSON object");
    else if (!cJSON_IsString(method) || strcmp(method->valuestring, "temperature") != 0)
        st = gs_error_set(err, GS_ERR_MODEL, "metadata 'calibration': method must be \"temperature\"");
    else if (!cJSON_IsNumber(t) || !(t->valuedouble > 0.0 && t->valuedouble <= 100.0))
        st = gs_error_set(err, GS_ERR_MODEL, "metadata 'calibration': temperature must be a number in (0, 100]");
    else
        m->calibration_temperature = (float)t->valuedouble;
    cJSON_Delete(doc);
    return st;
}

/* Metadata "<key>": {"<member>": P, ...} with P a probability in (0, 1]
 * (the other members say how P was measured): *out = P, or fallback when
 * the key is absent. */
static gs_status parse_probability_member(const gs_model *m, const char *key, const char *member, float fallback,
                                          float *out, gs_error *err)
{
    *out = fallback;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, key);
    if (!item)
        return GS_OK;
    cJSON *doc = parse_document(item->valuestring);
    const cJSON *p = doc ? cJSON_GetObjectItemCaseSensitive(doc, member) : NULL;
    gs_status st = GS_OK;
    if (!doc || !cJSON_IsObject(doc) || !cJSON_IsNumber(p) || !(p->valuedouble > 0.0 && p->valuedouble <= 1.0))
        st = gs_error_set(err, GS_ERR_MODEL, "metadata '%s': %s must be a number in (0, 1]", key, member);
    else
        *out = (float)p->valuedouble;
    cJSON_Delete(doc);
    return st;
}

/* "tagging": {"min_confidence": P}: the confidence above which the model's
 * genres were measured right often enough to write into files.
 * "not_music_decision": {"min_probability": P}: the not-music probability
 * from which the answer is "not music" (chosen on held-out music so that
 * few music clips reach it); 0.5 when absent. Needs a not-music label. */
static gs_status parse_decision_thresholds(gs_model *m, gs_error *err)
{
    gs_status st = parse_probability_member(m, "tagging", "min_confidence", -1.0f, &m->tag_min_confidence, err);
    if (st == GS_OK)
        st = parse_probability_member(m, "not_music_decision", "min_probability", GS_NOT_MUSIC_THRESHOLD,
                                      &m->not_music_min_probability, err);
    if (st == GS_OK && m->not_music_label < 0 && cJSON_GetObjectItemCaseSensitive(m->metadata, "not_music_decision"))
        st = gs_error_set(err, GS_ERR_MODEL, "metadata 'not_music_decision' without a not-music label");
    return st;
}

/* Raw JSON objects the CNN module or the user interprets later. */
static gs_status raw_object(const gs_model *m, const char *key, const char **out, gs_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(m->metadata, key);
    if (!item) {
        *out = "{}";
        return GS_OK;
    }
    cJSON *doc = parse_document(item->valuestring);
    int ok = doc && cJSON_IsObject(doc);
    cJSON_Delete(doc);
    if (!ok)
        return gs_error_set(err, GS_ERR_MODEL, "metadata '%s' is not a JSON object", key);
    *out = item->valuestring;
    return GS_OK;
}

gs_status gs_model_parse_metadata(gs_model *m, gs_error *err)
{
    gs_status st = check_metadata_object(m->metadata, err);
    if (st == GS_OK)
        st = check_format(m->metadata, err);
    if (st == GS_OK)
        st = parse_labels(m, err);
    if (st == GS_OK)
        st = parse_not_music_label(m, err);
    if (st == GS_OK)
        st = parse_calibration(m, err);
    if (st == GS_OK)
        st = parse_decision_thresholds(m, err);
    if (st == GS_OK)
        st = parse_frontend(m, err);
    if (st == GS_OK)
        st = raw_object(m, "architecture", &m->architecture, err);
    if (st == GS_OK)
        st = raw_object(m, "provenance", &m->provenance, err);
    return st;
}
