/* The tagger's analysis backend on the core library: one shared immutable
 * network, one classifier (own buffers) per worker thread. */
#include <stdlib.h>

#include "analyser.h"
#include "genrescope.h"

struct gs_analyser {
    gs_model *model;
    gs_net *net;
    int single_threaded_blas;
};

struct gs_analyser_worker {
    gs_analyser *an;
    gs_classifier *cls;
};

gs_analyser *gs_analyser_open(const char *model_path, int num_workers, gs_error *err)
{
    gs_analyser *an = calloc(1, sizeof *an);
    if (!an) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    an->model = model_path ? gs_model_load(model_path, err) : gs_model_load_default(err);
    if (an->model)
        an->net = gs_net_from_model(an->model, err);
    if (!an->net) {
        gs_analyser_close(an);
        return NULL;
    }
    an->single_threaded_blas = num_workers > 1;
    if (an->single_threaded_blas)
        gs_net_set_blas_threads(1); /* the workers already use every core */
    return an;
}

void gs_analyser_close(gs_analyser *an)
{
    if (!an)
        return;
    gs_net_free(an->net);
    gs_model_free(an->model);
    free(an);
}

const char *gs_analyser_model_id(const gs_analyser *an)
{
    return gs_model_id(an->model);
}

int gs_analyser_num_labels(const gs_analyser *an)
{
    return gs_model_num_labels(an->model);
}

float gs_analyser_tag_min_confidence(const gs_analyser *an)
{
    return gs_model_tag_min_confidence(an->model);
}

int gs_analyser_not_music_label(const gs_analyser *an)
{
    return gs_model_not_music_label(an->model);
}

const char *gs_analyser_label(const gs_analyser *an, int index)
{
    return gs_model_label(an->model, index);
}

gs_analyser_worker *gs_analyser_worker_new(gs_analyser *an, gs_error *err)
{
    gs_analyser_worker *w = calloc(1, sizeof *w);
    if (!w) {
        gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->an = an;
    w->cls = gs_classifier_new(an->model, an->net, err);
    if (!w->cls) {
        free(w);
        return NULL;
    }
    return w;
}

void gs_analyser_worker_free(gs_analyser_worker *w)
{
    if (!w)
        return;
    gs_classifier_free(w->cls);
    free(w);
}

gs_status gs_analyser_analyse(gs_analyser_worker *w, const char *path, gs_track_result *result, gs_error *err)
{
    /* Again from the worker's own thread: with an OpenMP build of OpenBLAS
     * the thread count is per calling thread, and the call in
     * gs_analyser_open only reached the main thread. */
    static _Thread_local int blas_configured;
    if (w->an->single_threaded_blas && !blas_configured) {
        gs_net_set_blas_threads(1);
        blas_configured = 1;
    }
    return gs_classify_file(w->cls, path, result, err);
}

void gs_analyser_result_free(gs_track_result *result)
{
    gs_track_result_free(result);
}
