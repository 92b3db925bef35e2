/* Private to the model module: the gs_model layout shared by the loader
 * (model_load.c), the header validator (model_header.c) and the metadata
 * validator (model_meta.c). */
#ifndef GENRESCOPE_MODEL_INTERNAL_H
#define GENRESCOPE_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "genrescope/model.h"

/* Tensor data is reinterpreted in place as float, which is only correct on a
 * little-endian host (the safetensors byte order). */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model module assumes a little-endian host"
#endif

#define GS_MODEL_FORMAT "genrescope-model-1"
/* Larger headers are refused before anything is allocated for them: real
 * models have headers of a few kB, a hostile length must not cost 4 GB. */
#define GS_MODEL_MAX_HEADER ((uint64_t)100 * 1024 * 1024)

struct gs_model {
    const unsigned char *bytes; /* the whole file */
    size_t size;
    void *mapping; /* our mmap of bytes, or NULL for caller memory */
    size_t mapping_size;
    /* Parsed header, kept alive because tensor names and metadata values
     * point into it (no copies). */
    cJSON *header;
    const cJSON *metadata; /* the "__metadata__" object inside header */
    gs_tensor *tensors;    /* sorted by name, for bsearch */
    int num_tensors;
    gs_frontend_params frontend;
    int num_labels;
    char labels[GS_MAX_LABELS][GS_MAX_LABEL_LENGTH];
    int not_music_label;             /* index into labels, or -1 */
    float calibration_temperature;   /* 1 when the model carries none */
    float tag_min_confidence;        /* -1 when the model recommends none */
    float not_music_min_probability; /* GS_NOT_MUSIC_THRESHOLD unless the model sets it */
    const char *architecture;        /* raw JSON text, "{}" when absent */
    const char *provenance;
    char *id;
};

/* Parses and validates the header of m->bytes/m->size: fills m->header,
 * m->metadata (may stay NULL), m->tensors, m->num_tensors. On failure
 * returns GS_ERR_MODEL or GS_ERR_NOMEM with *err set; whatever was
 * allocated stays attached to m for gs_model_free. */
gs_status gs_model_parse_header(gs_model *m, gs_error *err);

/* Validates m->metadata and fills labels, frontend, architecture and
 * provenance. Same error contract as gs_model_parse_header. */
gs_status gs_model_parse_metadata(gs_model *m, gs_error *err);

#endif
