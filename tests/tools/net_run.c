/* gs_net_run MODEL INPUT.f32 BATCH PROBS.f32 EMBEDDINGS.f32
 *
 * Runs a model's network on BATCH raw little-endian float32 inputs
 * [BATCH][C][H][W] and writes the probabilities [BATCH][K] and embeddings
 * [BATCH][E] as raw float32, for the PyTorch reference test. Prints
 * "outputs: K" and "embedding: E". Exit status 0 on success. */
#include <stdio.h>
#include <stdlib.h>

#include "genrescope/cnn.h"
#include "genrescope/model.h"
#include "support/files.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL INPUT.f32 BATCH PROBS.f32 EMBEDDINGS.f32\n", argv[0]);
        return 2;
    }
    int batch = atoi(argv[3]);
    gs_error err;
    gs_model *model = gs_model_load(argv[1], &err);
    if (!model) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    gs_net *net = gs_net_from_model(model, &err);
    gs_model_free(model);
    if (!net) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    int c, h, w;
    gs_net_input_shape(net, &c, &h, &w);
    const int k = gs_net_num_outputs(net), e = gs_net_embedding_size(net);
    size_t in_n = (size_t)(batch > 0 ? batch : 0) * c * h * w;
    float *in = malloc(sizeof(float) * (in_n ? in_n : 1));
    float *probs = malloc(sizeof(float) * (size_t)(batch > 0 ? batch : 1) * k);
    float *emb = malloc(sizeof(float) * (size_t)(batch > 0 ? batch : 1) * e);
    gs_net_ctx *ctx = batch > 0 ? gs_net_ctx_new(net, batch, &err) : NULL;
    int rc = 1;
    FILE *f = fopen(argv[2], "rb");
    if (!in || !probs || !emb) {
        fprintf(stderr, "out of memory\n");
    } else if (!ctx) {
        fprintf(stderr, "batch %s: %s\n", argv[3], batch > 0 ? err.message : "must be >= 1");
    } else if (!f || fread(in, sizeof(float), in_n, f) != in_n) {
        fprintf(stderr, "%s: cannot read %zu floats\n", argv[2], in_n);
    } else if (gs_net_forward(ctx, in, batch, probs, emb, &err) != GS_OK) {
        fprintf(stderr, "forward: %s\n", err.message);
    } else if (gs_test_write_file(argv[4], probs, (size_t)batch * k * sizeof *probs) != 0 ||
               gs_test_write_file(argv[5], emb, (size_t)batch * e * sizeof *emb) != 0) {
        fprintf(stderr, "cannot write outputs\n");
    } else {
        printf("outputs: %d\nembedding: %d\n", k, e);
        rc = 0;
    }
    if (f)
        fclose(f);
    gs_net_ctx_free(ctx);
    gs_net_free(net);
    free(in);
    free(probs);
    free(emb);
    return rc;
}
