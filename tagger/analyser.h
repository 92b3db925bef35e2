/* The analysis backend the tagger drives: a model plus one worker per
 * thread. tagger/analyser_core.c implements it with the core classifier;
 * tests link a synthetic one instead (tests/tagger/analyser_fake.c), so the
 * scan pipeline, index and tags can be tested quickly and deterministically. */
#ifndef GS_TAGGER_ANALYSER_H
#define GS_TAGGER_ANALYSER_H

#include "genrescope/classify.h"
#include "genrescope/error.h"

typedef struct gs_analyser gs_analyser;
typedef struct gs_analyser_worker gs_analyser_worker;

/* Loads model_path (NULL: the model built into the library) for up to
 * num_workers concurrent workers. NULL + err on failure. Caller closes it
 * after freeing every worker. */
gs_analyser *gs_analyser_open(const char *model_path, int num_workers, gs_error *err);
void gs_analyser_close(gs_analyser *an);

/* Owned by an; valid until gs_analyser_close. */
const char *gs_analyser_model_id(const gs_analyser *an);
int gs_analyser_num_labels(const gs_analyser *an);
const char *gs_analyser_label(const gs_analyser *an, int index);
/* The model's label meaning "not music", or -1 when it has none. */
int gs_analyser_not_music_label(const gs_analyser *an);
/* The model's recommended tagging threshold, or -1 when it has none. */
float gs_analyser_tag_min_confidence(const gs_analyser *an);

/* One per thread. NULL + err on failure. */
gs_analyser_worker *gs_analyser_worker_new(gs_analyser *an, gs_error *err);
void gs_analyser_worker_free(gs_analyser_worker *w);

/* Analyses path into *result (freed with gs_analyser_result_free). On
 * failure result is zeroed and err says why (GS_ERR_IO with the OS reason,
 * GS_ERR_FORMAT for non-audio or corrupt data, GS_ERR_UNSUPPORTED). */
gs_status gs_analyser_analyse(gs_analyser_worker *w, const char *path, gs_track_result *result, gs_error *err);
void gs_analyser_result_free(gs_track_result *result);

#endif
