/* Model loading: map the file, validate it (model_header.c, model_meta.c),
 * and the read-only accessors. Tensor data is never copied: it points into
 * the mapping or the caller's buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_internal.h"
#include "genrescope/fnv1a.h"
#include "genrescope/verdict.h"

static gs_status make_id(gs_model *m, gs_error *err)
{
    const char *name = gs_model_metadata(m, "name");
    if (!name || !name[0])
        name = "model";
    size_t size = strlen(name) + 1 + 16 + 1;
    m->id = malloc(size);
    if (!m->id)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory for the model id");
    snprintf(m->id, size, "%s-%016llx", name, (unsigned long long)gs_fnv1a64(GS_FNV1A64_INIT, m->bytes, m->size));
    return GS_OK;
}

/* Shared by both entry points; on failure frees m (including a mapping it
 * has already been handed). */
static gs_model *finish_load(gs_model *m, gs_error *err)
{
    gs_status st = gs_model_parse_header(m, err);
    if (st == GS_OK)
        st = gs_model_parse_metadata(m, err);
    if (st == GS_OK)
        st = make_id(m, err);
    if (st != GS_OK) {
        gs_model_free(m);
        return NULL;
    }
    return m;
}

gs_model *gs_model_load_memory(const void *data, size_t size, gs_error *err)
{
    if (!data && size) {
        gs_error_set(err, GS_ERR_INVALID, "model buffer is NULL");
        return NULL;
    }
    gs_model *m = calloc(1, sizeof *m);
    if (!m) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory for a model");
        return NULL;
    }
    /* A zero-length buffer may come with a NULL pointer; point at something
     * valid so the size checks never see NULL arithmetic. */
    static const unsigned char empty[1];
    m->bytes = data ? data : empty;
    m->size = size;
    return finish_load(m, err);
}

gs_model *gs_model_load(const char *path, gs_error *err)
{
    if (!path) {
        gs_error_set(err, GS_ERR_INVALID, "model path is NULL");
        return NULL;
    }
    /* O_NONBLOCK: a FIFO without a writer would block open() itself. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        gs_error_set(err, GS_ERR_IO, "%s: cannot open model: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        gs_error_set(err, GS_ERR_IO, "%s: cannot stat model: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        gs_error_set(err, GS_ERR_IO, "%s: not a regular file: %s", path,
                     strerror(S_ISDIR(sb.st_mode) ? EISDIR : EINVAL));
        close(fd);
        return NULL;
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    /* mmap refuses length 0; an empty file is reported by the header check. */
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            gs_error_set(err, GS_ERR_IO, "%s: cannot map model: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    close(fd); /* the mapping keeps the file contents reachable */

    gs_model *m = calloc(1, sizeof *m);
    if (!m) {
        if (map)
            munmap(map, size);
        gs_error_set(err, GS_ERR_NOMEM, "out of memory for a model");
        return NULL;
    }
    static const unsigned char empty[1];
    m->mapping = map;
    m->mapping_size = size;
    m->bytes = map ? map : empty;
    m->size = size;
    m = finish_load(m, err);
    if (!m)
        gs_error_prefix(err, path);
    return m;
}

void gs_model_free(gs_model *model)
{
    if (!model)
        return;
    if (model->mapping)
        munmap(model->mapping, model->mapping_size);
    cJSON_Delete(model->header);
    free(model->tensors);
    free(model->id);
    free(model);
}

const gs_frontend_params *gs_model_frontend(const gs_model *model)
{
    return &model->frontend;
}

int gs_model_num_labels(const gs_model *model)
{
    return model->num_labels;
}

const char *gs_model_label(const gs_model *model, int index)
{
    if (index < 0 || index >= model->num_labels)
        return NULL;
    return model->labels[index];
}

int gs_model_label_index(const gs_model *model, const char *label)
{
    if (!label)
        return -1;
    for (int i = 0; i < model->num_labels; i++)
        if (strcmp(model->labels[i], label) == 0)
            return i;
    return -1;
}

int gs_model_not_music_label(const gs_model *model)
{
    return model ? model->not_music_label : -1;
}

float gs_model_calibration_temperature(const gs_model *model)
{
    return model ? model->calibration_temperature : 1.0f;
}

float gs_model_tag_min_confidence(const gs_model *model)
{
    return model ? model->tag_min_confidence : -1.0f;
}

float gs_model_not_music_min_probability(const gs_model *model)
{
    return model ? model->not_music_min_probability : GS_NOT_MUSIC_THRESHOLD;
}

int gs_model_is_genre_label(const gs_model *model, int index)
{
    return model && index >= 0 && index < model->num_labels && index != model->not_music_label;
}

const char *gs_model_id(const gs_model *model)
{
    return model->id;
}

const char *gs_model_architecture_json(const gs_model *model)
{
    return model->architecture;
}

const char *gs_model_provenance_json(const gs_model *model)
{
    return model->provenance;
}

const char *gs_model_metadata(const gs_model *model, const char *key)
{
    if (!key || !model->metadata)
        return NULL;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(model->metadata, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int gs_model_num_tensors(const gs_model *model)
{
    return model->num_tensors;
}

const gs_tensor *gs_model_tensor_at(const gs_model *model, int index)
{
    if (index < 0 || index >= model->num_tensors)
        return NULL;
    return &model->tensors[index];
}

static int compare_key_tensor(const void *key, const void *elem)
{
    return strcmp(key, ((const gs_tensor *)elem)->name);
}

const gs_tensor *gs_model_tensor(const gs_model *model, const char *name)
{
    if (!name || model->num_tensors == 0)
        return NULL;
    return bsearch(name, model->tensors, (size_t)model->num_tensors, sizeof *model->tensors, compare_key_tensor);
}
