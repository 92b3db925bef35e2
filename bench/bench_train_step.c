/* Training step cost of the C trainer on the shipped design: forward +
 * backward + optimiser step per batch (default 32), with the split.
 * bench/train_step.py runs this and the same step in PyTorch side by side
 * and prints the ratio.
 * usage: bench_train_step [ARCH.json] [BATCH] [STEPS]
 * (default models/arch/shortchunk-cnn.json under GS_SOURCE_DIR or the
 * source tree this was built from). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optim.h"
#include "tnet.h"

#ifndef GS_SOURCE_DIR_DEFAULT
#define GS_SOURCE_DIR_DEFAULT "."
#endif

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *src = getenv("GS_SOURCE_DIR");
    if (argc > 1)
        snprintf(path, sizeof path, "%s", argv[1]);
    else
        snprintf(path, sizeof path, "%s/models/arch/shortchunk-cnn.json", src ? src : GS_SOURCE_DIR_DEFAULT);
    const int batch = argc > 2 ? atoi(argv[2]) : 32;
    const int steps = argc > 3 ? atoi(argv[3]) : 10;
    char *arch = read_text(path);
    if (!arch || batch < 1 || steps < 1) {
        fprintf(stderr, "bench_train_step: cannot read %s (or bad batch/steps)\n", path);
        return 1;
    }
    gs_error err;
    gs_tnet *net = gs_tnet_new(arch, batch, 1, &err);
    free(arch);
    if (!net) {
        fprintf(stderr, "bench_train_step: %s\n", err.message);
        return 1;
    }
    int c, h, w;
    gs_tnet_input_shape(net, &c, &h, &w);
    const int k = gs_tnet_num_outputs(net);
    const size_t in_n = (size_t)batch * c * h * w;
    float *x = malloc(in_n * sizeof(float)), *t = calloc((size_t)batch * k, sizeof(float));
    unsigned s = 1;
    for (size_t i = 0; i < in_n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    for (int b = 0; b < batch; b++)
        t[b * k + b % k] = 1.0f;
    gs_optim_config cfg = {
        .kind = GS_OPTIM_ADAMW, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 1e-4f};
    gs_optim *opt = gs_optim_new(&cfg, net, &err);
    double *fwd = malloc(sizeof(double) * steps), *bwd = malloc(sizeof(double) * steps),
           *upd = malloc(sizeof(double) * steps), *tot = malloc(sizeof(double) * steps);
    float loss = 0.0f;
    for (int i = -2; i < steps; i++) { /* two warm-up steps */
        double t0 = now_ms();
        gs_tnet_forward(net, x, batch, 1, (uint64_t)i, NULL, NULL, &err);
        double t1 = now_ms();
        loss = gs_tnet_backward(net, t, batch);
        double t2 = now_ms();
        gs_optim_step(opt, cfg.lr);
        double t3 = now_ms();
        if (i >= 0) {
            fwd[i] = t1 - t0, bwd[i] = t2 - t1, upd[i] = t3 - t2, tot[i] = t3 - t0;
        }
    }
    qsort(fwd, steps, sizeof *fwd, cmp_double);
    qsort(bwd, steps, sizeof *bwd, cmp_double);
    qsort(upd, steps, sizeof *upd, cmp_double);
    qsort(tot, steps, sizeof *tot, cmp_double);
    printf("batch: %d\n", batch);
    printf("parameters: %zu\n", gs_tnet_total_parameters(net));
    printf("c_forward_ms: %.2f\n", fwd[steps / 2]);
    printf("c_backward_ms: %.2f\n", bwd[steps / 2]);
    printf("c_optim_ms: %.2f\n", upd[steps / 2]);
    printf("c_train_step_ms: %.2f\n", tot[steps / 2]);
    printf("c_loss_after: %.4f\n", loss);
    free(fwd), free(bwd), free(upd), free(tot), free(x), free(t);
    gs_optim_free(opt);
    gs_tnet_free(net);
    return 0;
}
