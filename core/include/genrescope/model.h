/* Model files: safetensors with Genrescope metadata.
 *
 * Layout (https://github.com/huggingface/safetensors): 8-byte little-endian
 * header length N, N bytes of JSON, then raw little-endian tensor data.
 * The JSON maps tensor names to {"dtype","shape","data_offsets"} and holds a
 * "__metadata__" object whose values are strings (the safetensors rule).
 * Genrescope's metadata keys, each a JSON document encoded as a string:
 *   "format"       "genrescope-model-1"
 *   "labels"       ["blues", "classical", ...]
 *   "frontend"     {"sample_rate":22050,"n_fft":1024,"hop_length":512,
 *                   "n_mels":96,"fmin":0,"fmax":11025,"log_offset":1e-6,
 *                   "patch_frames":128,"patch_hop_frames":128,
 *                   "window_seconds":30,"patch_normalize":"mean"}
 *   "architecture" {"input":[1,96,128],"layers":[{"op":"conv2d",...},...]}
 *                  (see cnn.h for the layer vocabulary)
 *   "provenance"   free-form JSON object (training data, folds, accuracy...)
 *   "not_music_label" (optional) the one label that means "not music" (noise,
 *                  tones, speech...) rather than a genre, e.g. notmusic
 *   "calibration"  (optional) {"method":"temperature","temperature":T,...}:
 *                  averaged probabilities are calibrated as softmax(log p / T)
 *                  (gs_calibrate_probabilities); the other keys say how T
 *                  was fitted
 *   "tagging"      (optional) {"min_confidence":P,...}: the confidence from
 *                  which the model's genres were measured right often enough
 *                  to be written into files (the tagger's default threshold)
 * Only F32 tensors are accepted. */
#ifndef GENRESCOPE_MODEL_H
#define GENRESCOPE_MODEL_H

#include "genrescope/api.h"

#include <stddef.h>
#include <stdint.h>

#include "genrescope/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GS_MAX_TENSOR_DIMS  4
#define GS_MAX_LABELS       64
#define GS_MAX_LABEL_LENGTH 64

typedef enum gs_patch_normalize {
    GS_PATCH_NORMALIZE_NONE = 0,
    /* Subtract the patch's mean log-mel value: a gain change is an additive
     * constant in the log domain, so this makes patches level-invariant. */
    GS_PATCH_NORMALIZE_MEAN = 1
} gs_patch_normalize;

/* Front-end parameters: everything that turns samples into network input. */
typedef struct gs_frontend_params {
    int sample_rate;      /* Hz, audio is resampled to this */
    int n_fft;            /* FFT and (periodic Hann) window length */
    int hop_length;       /* samples between frames */
    int n_mels;           /* mel bands (Slaney scale, Slaney area norm) */
    float fmin, fmax;     /* Hz, filterbank edges; fmax <= sample_rate/2 */
    float log_offset;     /* feature = ln(mel_power + log_offset) */
    int patch_frames;     /* frames per network input patch */
    int patch_hop_frames; /* frames between consecutive patches */
    float window_seconds; /* verdict window length (30 s) */
    gs_patch_normalize patch_normalize;
} gs_frontend_params;

/* Defaults used by the shipped design; useful for tests and the trainer. */
GS_API void gs_frontend_params_default(gs_frontend_params *out);

/* Returns GS_OK if every field is in range, else GS_ERR_INVALID with a
 * message naming the field. */
GS_API gs_status gs_frontend_params_validate(const gs_frontend_params *p, gs_error *err);

typedef struct gs_tensor {
    const char *name; /* owned by the model */
    int ndim;
    int64_t shape[GS_MAX_TENSOR_DIMS];
    int64_t numel;
    const float *data; /* owned by the model (may be mmapped, so
                                         possibly unaligned for >4 bytes) */
} gs_tensor;

typedef struct gs_model gs_model;

/* Maps and validates a model file. Returns NULL on failure with *err set:
 * GS_ERR_IO (cannot open/map), GS_ERR_MODEL (malformed: header length, JSON,
 * dtype, shape, offsets, missing tensor or metadata). The caller owns the
 * result and frees it with gs_model_free(). */
GS_API gs_model *gs_model_load(const char *path, gs_error *err);

/* Same, from a caller-owned buffer that must outlive the model (used for the
 * model embedded in the library). The buffer is not copied. */
GS_API gs_model *gs_model_load_memory(const void *data, size_t size, gs_error *err);

/* The model compiled into the library (models/genrescope-gtzan.safetensors at
 * build time). Caller frees with gs_model_free(). NULL + err on failure. */
GS_API gs_model *gs_model_load_default(gs_error *err);

/* Frees everything the model owns; model may be NULL. */
GS_API void gs_model_free(gs_model *model);

/* Accessors: all returned pointers are owned by the model and live as long
 * as it does. */
GS_API const gs_frontend_params *gs_model_frontend(const gs_model *model);
GS_API int gs_model_num_labels(const gs_model *model);
GS_API const char *gs_model_label(const gs_model *model, int index); /* NULL if out of range */
/* Index of label, or -1. */
GS_API int gs_model_label_index(const gs_model *model, const char *label);
/* Index of the label that means "not music", or -1 when the model has none
 * (it then only knows genres). */
GS_API int gs_model_not_music_label(const gs_model *model);
/* Calibration temperature the classifier applies to averaged
 * probabilities; 1 when the model carries none. */
GS_API float gs_model_calibration_temperature(const gs_model *model);
/* The model's recommended tagging threshold (its "tagging" metadata), or
 * -1 when it has none. */
GS_API float gs_model_tag_min_confidence(const gs_model *model);
/* The not-music probability from which the verdict is "not music" (the
 * model's "not_music_decision" metadata), GS_NOT_MUSIC_THRESHOLD (0.5)
 * when it sets none. */
GS_API float gs_model_not_music_min_probability(const gs_model *model);
/* 1 when index is a label and names a genre (not the not-music label). */
GS_API int gs_model_is_genre_label(const gs_model *model, int index);
/* Short stable identifier: "<name>-<first 16 hex of FNV-1a 64 of the file>".
 * Changes whenever any byte of the model changes. */
GS_API const char *gs_model_id(const gs_model *model);
/* Raw "architecture" and "provenance" JSON text ("{}" if absent). */
GS_API const char *gs_model_architecture_json(const gs_model *model);
GS_API const char *gs_model_provenance_json(const gs_model *model);
/* Value of any __metadata__ key, or NULL. */
GS_API const char *gs_model_metadata(const gs_model *model, const char *key);
GS_API int gs_model_num_tensors(const gs_model *model);
GS_API const gs_tensor *gs_model_tensor_at(const gs_model *model, int index);
/* Tensor by name, or NULL. */
GS_API const gs_tensor *gs_model_tensor(const gs_model *model, const char *name);

/* ---- Writer ------------------------------------------------------------ */

typedef struct gs_model_writer gs_model_writer;

/* Creates an empty writer. NULL only when out of memory. */
GS_API gs_model_writer *gs_model_writer_new(void);
GS_API void gs_model_writer_free(gs_model_writer *writer);

/* Adds an F32 tensor; name and data are copied. Tensors are written sorted
 * by name (the safetensors convention). Fails on duplicate names, ndim out
 * of 1..GS_MAX_TENSOR_DIMS or non-positive dimensions. */
GS_API gs_status gs_model_writer_add_tensor(gs_model_writer *writer, const char *name, int ndim, const int64_t *shape,
                                            const float *data, gs_error *err);

/* Sets a __metadata__ entry (copied; replaces an existing key). */
GS_API gs_status gs_model_writer_set_metadata(gs_model_writer *writer, const char *key, const char *value,
                                              gs_error *err);

/* Convenience: sets "format", "labels" and "frontend" metadata from structs. */
GS_API gs_status gs_model_writer_set_standard_metadata(gs_model_writer *writer, const char *const *labels,
                                                       int num_labels, const gs_frontend_params *frontend,
                                                       gs_error *err);

/* Writes the file atomically under the write-path rules of
 * genrescope/outfile.h (temporary file + fsync + rename; symlinks written
 * through; directories, devices and FIFOs refused), so a crash never leaves
 * a half-written model at path. Errors: GS_ERR_IO with the reason. */
GS_API gs_status gs_model_writer_save(const gs_model_writer *writer, const char *path, gs_error *err);

#ifdef __cplusplus
}
#endif
#endif
