/* Per-epoch checkpoints (checkpoint.h): the model file with its
 * "checkpoint" metadata plus the optimiser state beside it, written by the
 * outfile rules and checked against each other and the run on load. */
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "genrescope/outfile.h"

#define OPTIM_MAGIC "GSOPT01\n"

int gs_json_equal(const char *a, const char *b)
{
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    int eq = ja && jb && cJSON_Compare(ja, jb, 1);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return eq;
}

static gs_status save_optim(const char *path, const gs_optim *opt, long step, gs_error *err)
{
    size_t n = gs_optim_state_size(opt);
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    long ostep = 0;
    gs_optim_get_state(opt, buf, &ostep);
    gs_outfile *out = gs_outfile_open(path, 0, err);
    if (!out) {
        free(buf);
        return err ? err->code : GS_ERR_IO;
    }
    FILE *f = gs_outfile_stream(out);
    int64_t hdr[3] = {step, ostep, (int64_t)n};
    int ok = f && fwrite(OPTIM_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
        fwrite(buf, sizeof *buf, n, f) == n;
    free(buf);
    if (!ok) {
        gs_outfile_discard(out);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    return gs_outfile_commit(out, err);
}

gs_status gs_checkpoint_save(const char *path, const gs_tnet *net, const gs_optim *opt, const char *const *labels,
                             int num_labels, const gs_frontend_params *frontend, const gs_checkpoint_state *state,
                             gs_error *err)
{
    char opath[4200];
    snprintf(opath, sizeof opath, "%s.optim", path);
    gs_status st = save_optim(opath, opt, state->step, err);
    if (st != GS_OK)
        return st;
    gs_model_writer *w = gs_model_writer_new();
    if (!w)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    char meta[256];
    snprintf(meta, sizeof meta, "{\"epoch\":%d,\"step\":%ld,\"rng\":\"%016llx\",\"seed\":\"%016llx\"}", state->epoch,
             state->step, (unsigned long long)state->rng_state, (unsigned long long)state->seed);
    st = gs_tnet_export(net, w, err);
    if (st == GS_OK)
        st = gs_model_writer_set_standard_metadata(w, labels, num_labels, frontend, err);
    if (st == GS_OK)
        st = gs_model_writer_set_metadata(w, "checkpoint", meta, err);
    if (st == GS_OK)
        st = gs_model_writer_save(w, path, err);
    gs_model_writer_free(w);
    if (st != GS_OK)
        gs_error_prefix(err, "writing checkpoint");
    return st;
}

static int same_frontend(const gs_frontend_params *a, const gs_frontend_params *b)
{
    return a->sample_rate == b->sample_rate && a->n_fft == b->n_fft && a->hop_length == b->hop_length &&
        a->n_mels == b->n_mels && a->fmin == b->fmin && a->fmax == b->fmax && a->log_offset == b->log_offset &&
        a->patch_frames == b->patch_frames && a->patch_normalize == b->patch_normalize;
}

gs_status gs_checkpoint_load(const char *path, gs_tnet *net, gs_optim *opt, const char *const *labels, int num_labels,
                             const gs_frontend_params *frontend, gs_checkpoint_state *state, gs_error *err)
{
    gs_model *m = gs_model_load(path, err);
    if (!m) {
        gs_error_prefix(err, "cannot resume");
        return err ? err->code : GS_ERR_IO;
    }
    gs_status st = GS_OK;
    const char *meta = gs_model_metadata(m, "checkpoint");
    cJSON *j = meta ? cJSON_Parse(meta) : NULL;
    cJSON *je = cJSON_GetObjectItem(j, "epoch"), *js = cJSON_GetObjectItem(j, "step");
    cJSON *jr = cJSON_GetObjectItem(j, "rng"), *jseed = cJSON_GetObjectItem(j, "seed");
    if (!cJSON_IsNumber(je) || !cJSON_IsNumber(js) || !cJSON_IsString(jr) || !cJSON_IsString(jseed)) {
        st = gs_error_set(err, GS_ERR_FORMAT, "cannot resume: %s is a model, not a training checkpoint", path);
    } else if (!gs_json_equal(gs_model_architecture_json(m), gs_tnet_architecture_json(net))) {
        st = gs_error_set(err, GS_ERR_INVALID,
                          "cannot resume: checkpoint %s was trained with a different architecture than the one "
                          "requested; use the same --arch, or another --checkpoint path to start afresh",
                          path);
    } else if (gs_model_num_labels(m) != num_labels) {
        st = gs_error_set(err, GS_ERR_INVALID, "cannot resume: checkpoint %s has %d labels, the data has %d", path,
                          gs_model_num_labels(m), num_labels);
    } else if (!same_frontend(gs_model_frontend(m), frontend)) {
        st = gs_error_set(err, GS_ERR_INVALID, "cannot resume: checkpoint %s used other front-end parameters", path);
    } else {
        for (int i = 0; i < num_labels && st == GS_OK; i++)
            if (strcmp(gs_model_label(m, i), labels[i]))
                st = gs_error_set(err, GS_ERR_INVALID,
                                  "cannot resume: checkpoint %s label %d is '%s', the data's is '%s'", path, i,
                                  gs_model_label(m, i), labels[i]);
    }
    if (st == GS_OK) {
        state->epoch = je->valueint;
        state->step = (long)js->valuedouble;
        state->rng_state = strtoull(jr->valuestring, NULL, 16);
        state->seed = strtoull(jseed->valuestring, NULL, 16);
    }
    cJSON_Delete(j);
    /* Read the optimiser state fully before touching the net, so a refused
     * resume leaves the caller's net as it was. */
    float *buf = NULL;
    int64_t hdr[3] = {0, 0, 0};
    if (st == GS_OK) {
        char opath[4200];
        snprintf(opath, sizeof opath, "%s.optim", path);
        FILE *f = fopen(opath, "rb");
        size_t n = gs_optim_state_size(opt);
        char magic[8];
        buf = malloc((n ? n : 1) * sizeof *buf);
        if (!f) {
            st = gs_error_set(err, GS_ERR_IO, "cannot resume: cannot open %s: %s", opath, strerror(errno));
        } else if (!buf) {
            st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        } else if (fread(magic, 1, 8, f) != 8 || memcmp(magic, OPTIM_MAGIC, 8) || fread(hdr, sizeof hdr, 1, f) != 1 ||
                   hdr[2] != (int64_t)n || fread(buf, sizeof *buf, n, f) != n) {
            st = gs_error_set(err, GS_ERR_FORMAT, "cannot resume: %s is not optimiser state for this network", opath);
        } else if (hdr[0] != state->step) {
            st = gs_error_set(err, GS_ERR_FORMAT,
                              "cannot resume: %s is from step %lld but the checkpoint from step %ld (interrupted "
                              "while saving?)",
                              opath, (long long)hdr[0], state->step);
        }
        if (f)
            fclose(f);
    }
    if (st == GS_OK) {
        gs_tnet *loaded = gs_tnet_from_model(m, 1, 0, state->seed, err);
        if (!loaded) {
            gs_error_prefix(err, "cannot resume");
            st = err ? err->code : GS_ERR_MODEL;
        } else {
            st = gs_tnet_copy_weights(net, loaded, err);
            gs_tnet_free(loaded);
        }
    }
    if (st == GS_OK)
        gs_optim_set_state(opt, buf, (long)hdr[1]);
    free(buf);
    gs_model_free(m);
    return st;
}
