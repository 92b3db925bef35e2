/* Runs one forward + backward of the trainable net for the PyTorch
 * comparison (test_train_grad_torch.py), then two SGD and two AdamW steps
 * (on the same gradients, from the same starting weights).
 *
 * usage: gs_tnet_run MODEL INPUT.f32 TARGETS.f32 TRAINING(0|1) OUTDIR
 * INPUT holds N*C*H*W floats, TARGETS N*K (raw little-endian float32).
 * Writes to OUTDIR:
 *   result.f32          loss, then N*K probabilities, then N*E embeddings
 *   grads.safetensors   every parameter gradient (PyTorch name, flat)
 *   forward.safetensors gs_tnet_export after the forward (updated BN stats)
 *   sgd.safetensors     export after two SGD steps (lr 0.1, momentum 0.9,
 *                       weight decay 0.01 on conv/dense weights)
 *   adamw.safetensors   export after two AdamW steps (lr 0.01, betas 0.9,
 *                       0.999, eps 1e-8, weight decay 0.1 decoupled) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genrescope/model.h"
#include "support/files.h"
#include "optim.h"
#include "tnet.h"

static float *read_floats(const char *path, size_t *n)
{
    size_t size = 0;
    /* malloc's alignment suits float. */
    float *x = (float *)gs_test_read_file(path, &size);
    *n = size / sizeof(float);
    return x;
}

static int save_export(const gs_tnet *net, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gs_error err;
    gs_model_writer *w = gs_model_writer_new();
    int ok = w && gs_tnet_export(net, w, &err) == GS_OK && gs_model_writer_save(w, path, &err) == GS_OK;
    if (!ok)
        fprintf(stderr, "tnet_run: cannot write %s: %s\n", path, w ? err.message : "out of memory");
    gs_model_writer_free(w);
    return ok;
}

static int save_grads(gs_tnet *net, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    gs_error err;
    gs_model_writer *w = gs_model_writer_new();
    int ok = w != NULL;
    for (int i = 0; ok && i < gs_tnet_num_params(net); i++) {
        gs_tparam *p = gs_tnet_param(net, i);
        int64_t shape[1] = {(int64_t)p->size};
        ok = gs_model_writer_add_tensor(w, p->name, 1, shape, p->grad, &err) == GS_OK;
    }
    ok = ok && gs_model_writer_save(w, path, &err) == GS_OK;
    if (!ok)
        fprintf(stderr, "tnet_run: cannot write %s: %s\n", path, w ? err.message : "out of memory");
    gs_model_writer_free(w);
    return ok;
}

/* Two steps of opt on the current gradients, export, then restore. */
static int run_optim(gs_tnet *net, const gs_optim_config *cfg, const float *start, size_t total, const char *dir,
                     const char *name)
{
    gs_error err;
    gs_optim *opt = gs_optim_new(cfg, net, &err);
    if (!opt) {
        fprintf(stderr, "tnet_run: %s\n", err.message);
        return 0;
    }
    gs_optim_step(opt, cfg->lr);
    gs_optim_step(opt, cfg->lr);
    gs_optim_free(opt);
    int ok = save_export(net, dir, name);
    size_t off = 0;
    for (int i = 0; i < gs_tnet_num_params(net); i++) {
        gs_tparam *p = gs_tnet_param(net, i);
        memcpy(p->value, start + off, p->size * sizeof(float));
        off += p->size;
    }
    return ok && off == total;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL INPUT.f32 TARGETS.f32 TRAINING OUTDIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[5];
    const int training = atoi(argv[4]);
    gs_error err;
    gs_model *model = gs_model_load(argv[1], &err);
    if (!model) {
        fprintf(stderr, "tnet_run: %s\n", err.message);
        return 1;
    }
    size_t n_in = 0, n_t = 0;
    float *input = read_floats(argv[2], &n_in), *targets = read_floats(argv[3], &n_t);
    gs_tnet *net = NULL;
    int status = 1;
    if (!input || !targets) {
        fprintf(stderr, "tnet_run: cannot read input or targets\n");
        goto done;
    }
    /* Build once to learn the shape, then for the batch found in the file. */
    net = gs_tnet_from_model(model, 1, 0, 0, &err);
    if (!net) {
        fprintf(stderr, "tnet_run: %s\n", err.message);
        goto done;
    }
    int c, h, w;
    gs_tnet_input_shape(net, &c, &h, &w);
    const int k = gs_tnet_num_outputs(net), e = gs_tnet_embedding_size(net);
    const size_t per = (size_t)c * h * w;
    const int batch = (int)(n_in / per);
    gs_tnet_free(net);
    net = NULL;
    if (batch < 1 || n_in != per * (size_t)batch || n_t != (size_t)batch * k) {
        fprintf(stderr, "tnet_run: input/targets sizes do not match the model\n");
        goto done;
    }
    net = gs_tnet_from_model(model, batch, 0, 0, &err);
    if (!net) {
        fprintf(stderr, "tnet_run: %s\n", err.message);
        goto done;
    }
    float *result = malloc((1 + (size_t)batch * (k + e)) * sizeof(float));
    if (gs_tnet_forward(net, input, batch, training, 1, result + 1, result + 1 + (size_t)batch * k, &err) != GS_OK) {
        fprintf(stderr, "tnet_run: %s\n", err.message);
        free(result);
        goto done;
    }
    result[0] = gs_tnet_backward(net, targets, batch);
    char path[4096];
    snprintf(path, sizeof path, "%s/result.f32", dir);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(result, sizeof(float), 1 + (size_t)batch * (k + e), f) == 1 + (size_t)batch * (k + e);
    if (f)
        ok = (fclose(f) == 0) && ok;
    free(result);
    if (!ok || !save_grads(net, dir) || !save_export(net, dir, "forward.safetensors"))
        goto done;

    size_t total = gs_tnet_total_parameters(net), off = 0;
    float *start = malloc(total * sizeof(float));
    for (int i = 0; i < gs_tnet_num_params(net); i++) {
        gs_tparam *p = gs_tnet_param(net, i);
        memcpy(start + off, p->value, p->size * sizeof(float));
        off += p->size;
    }
    gs_optim_config sgd = {.kind = GS_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
    gs_optim_config adamw = {
        .kind = GS_OPTIM_ADAMW, .lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.1f};
    if (run_optim(net, &sgd, start, total, dir, "sgd.safetensors") &&
        run_optim(net, &adamw, start, total, dir, "adamw.safetensors"))
        status = 0;
    free(start);
done:
    gs_tnet_free(net);
    free(input);
    free(targets);
    gs_model_free(model);
    return status;
}
