/* The architecture schema has one definition (core/src/net_desc.c): the
 * core's loader and the trainer accept and reject the same nets, with the
 * same message. Each rule on which they used to differ has a case here:
 * the trainer once took a conv without "in", a non-boolean "bias" (as
 * false), batch norm anywhere, any positive "eps" (a non-number as the
 * default), dense straight on a [C,H,W] map, a non-number dropout "p" (as
 * 0.5), fractional kernels (truncated), inputs up to 2^20, and checked a
 * "num_features" key the core ignores; it rejected names over 63
 * characters, which the core loads. Training keeps two rules of its own
 * (unique tensor names, eps > 0), checked by the same module.
 *
 * Core side: a model file with the architecture and, when the description
 * parses, tensors of the shapes it asks for, loaded with gs_net_from_model.
 * Trainer side: gs_tnet_new and gs_tnet_check_architecture. Every model the
 * trainer builds is exported and must load in the core. The shipped model
 * and the designs in models/arch must pass both. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "genrescope/cnn.h"
#include "genrescope/model.h"
#include "genrescope/net_desc.h"
#include "support/tmpdir.h"
#include "tnet.h"

static char tmp[4096];

/* Tensors named and shaped as desc asks (each name once), values small and
 * running variances 1, plus the metadata a model needs. */
static void add_tensors(gs_model_writer *w, const gs_net_desc *desc)
{
    gs_error err;
    for (int i = 0; i < desc->num_layers; i++) {
        const gs_layer_desc *l = &desc->layers[i];
        if (!l->name)
            continue;
        int64_t shape[4] = {l->out_c, l->in_c, 1, 1};
        int ndim = 1;
        if (l->op == GS_OP_CONV2D)
            shape[2] = l->conv.kernel_h, shape[3] = l->conv.kernel_w, ndim = 4;
        else if (l->op == GS_OP_DENSE)
            ndim = 2;
        const char *suffix[4] = {"weight", l->op == GS_OP_CONV2D && !l->has_bias ? NULL : "bias",
                                 l->op == GS_OP_BATCHNORM2D ? "running_mean" : NULL,
                                 l->op == GS_OP_BATCHNORM2D ? "running_var" : NULL};
        for (int s = 0; s < 4; s++) {
            if (!suffix[s])
                continue;
            int nd = s == 0 ? ndim : 1;
            size_t n = 1;
            for (int d = 0; d < nd; d++)
                n *= (size_t)shape[d];
            float *v = malloc(n * sizeof(float));
            for (size_t k = 0; k < n; k++)
                v[k] = s == 3 ? 1.0f : 0.01f * (float)(k % 7);
            char name[256];
            snprintf(name, sizeof name, "%s.%s", l->name, suffix[s]);
            gs_error_clear(&err);
            gs_status st = gs_model_writer_add_tensor(w, name, nd, shape, v, &err);
            /* A repeated name is the duplicate-name case: one copy is enough. */
            CHECK_MSG(st == GS_OK || strstr(err.message, "added twice"), "%s", err.message);
            free(v);
        }
    }
}

/* What the core says about arch: GS_OK, or the error with its message. */
static gs_status core_load(const char *arch, char *msg)
{
    gs_error err;
    gs_error_clear(&err);
    gs_model_writer *w = gs_model_writer_new();
    static const char *labels[3] = {"a", "b", "c"};
    gs_frontend_params fe;
    gs_frontend_params_default(&fe);
    CHECK(gs_model_writer_set_standard_metadata(w, labels, 3, &fe, &err) == GS_OK);
    CHECK(gs_model_writer_set_metadata(w, "architecture", arch, &err) == GS_OK);
    gs_net_desc *desc = gs_net_desc_parse(arch, NULL);
    if (desc)
        add_tensors(w, desc);
    gs_net_desc_free(desc);
    char path[4200];
    snprintf(path, sizeof path, "%s/m.safetensors", tmp);
    CHECK_MSG(gs_model_writer_save(w, path, &err) == GS_OK, "%s", err.message);
    gs_model_writer_free(w);
    gs_model *m = gs_model_load(path, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    gs_net *net = m ? gs_net_from_model(m, &err) : NULL;
    gs_status st = net ? GS_OK : err.code;
    snprintf(msg, GS_ERROR_MESSAGE_SIZE, "%s", net ? "" : err.message);
    gs_net_free(net);
    gs_model_free(m);
    remove(path);
    return st;
}

/* The trainer's net from arch exported and loaded by the core: what the
 * trainer trains, the core can load. */
static void check_round_trip(const char *what, gs_tnet *net)
{
    gs_error err;
    gs_model_writer *w = gs_model_writer_new();
    static const char *labels[3] = {"a", "b", "c"};
    gs_frontend_params fe;
    gs_frontend_params_default(&fe);
    CHECK(gs_model_writer_set_standard_metadata(w, labels, 3, &fe, &err) == GS_OK);
    CHECK_MSG(gs_tnet_export(net, w, &err) == GS_OK, "%s: %s", what, err.message);
    char path[4200];
    snprintf(path, sizeof path, "%s/t.safetensors", tmp);
    CHECK(gs_model_writer_save(w, path, &err) == GS_OK);
    gs_model_writer_free(w);
    gs_model *m = gs_model_load(path, &err);
    gs_net *cn = m ? gs_net_from_model(m, &err) : NULL;
    CHECK_MSG(cn != NULL, "%s: the trainer's export does not load: %s", what, err.message);
    gs_net_free(cn);
    gs_model_free(m);
    remove(path);
}

enum { BOTH_ACCEPT, BOTH_REJECT, TRAIN_REJECTS };

static void expect(const char *what, const char *arch, int outcome, const char *needle)
{
    char core_msg[GS_ERROR_MESSAGE_SIZE];
    gs_status core_st = core_load(arch, core_msg);
    gs_error terr, cerr, perr;
    gs_error_clear(&terr);
    gs_error_clear(&cerr);
    gs_error_clear(&perr);
    gs_tnet *net = gs_tnet_new(arch, 2, 1, &terr);
    gs_status check_st = gs_tnet_check_architecture(arch, &cerr);
    gs_net_desc *desc = gs_net_desc_parse(arch, &perr);
    if (outcome == BOTH_ACCEPT) {
        CHECK_MSG(core_st == GS_OK, "%s: core rejects: %s", what, core_msg);
        CHECK_MSG(net != NULL, "%s: trainer rejects: %s", what, terr.message);
        CHECK_MSG(check_st == GS_OK, "%s: trainer's check rejects: %s", what, cerr.message);
        if (net)
            check_round_trip(what, net);
    } else if (outcome == BOTH_REJECT) {
        CHECK_MSG(core_st == GS_ERR_MODEL && strstr(core_msg, needle), "%s: core: expected \"%s\", got %d \"%s\"", what,
                  needle, (int)core_st, core_msg);
        CHECK_MSG(net == NULL && terr.code == GS_ERR_MODEL && strcmp(terr.message, core_msg) == 0,
                  "%s: trainer: expected the core's \"%s\", got %d \"%s\"", what, core_msg, (int)terr.code,
                  terr.message);
        CHECK_MSG(check_st == GS_ERR_MODEL && strcmp(cerr.message, core_msg) == 0,
                  "%s: trainer's check: expected the core's \"%s\", got \"%s\"", what, core_msg, cerr.message);
        CHECK_MSG(desc == NULL && strcmp(perr.message, core_msg) == 0, "%s: description: expected \"%s\", got \"%s\"",
                  what, core_msg, perr.message);
    } else {
        CHECK_MSG(core_st == GS_OK, "%s: core rejects: %s", what, core_msg);
        CHECK_MSG(net == NULL && terr.code == GS_ERR_MODEL && strstr(terr.message, needle),
                  "%s: trainer: expected \"%s\", got %d \"%s\"", what, needle, (int)terr.code, terr.message);
        CHECK_MSG(check_st == GS_ERR_MODEL && strcmp(cerr.message, terr.message) == 0, "%s: trainer's check: \"%s\"",
                  what, cerr.message);
    }
    gs_net_desc_free(desc);
    gs_tnet_free(net);
}

/* conv c1 (1->2, 3x3, pad 1), [MID], global average pool, dense d (2->3), softmax. */
#define HEAD  "{\"input\":[1,6,6],\"layers\":["
#define CONV  "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":2,\"kernel\":[3,3],\"padding\":[1,1]"
#define GAP   "{\"op\":\"global_avgpool\"},"
#define DENSE "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},"
#define TAIL  GAP DENSE "{\"op\":\"softmax\"}]}"
#define BN    "{\"op\":\"batchnorm2d\",\"name\":\"bn\""

static void test_rules(void)
{
    char arch[2048], name[101];
    expect("baseline",
           HEAD CONV "}," BN "},{\"op\":\"relu\"},{\"op\":\"maxpool2d\",\"kernel\":2},"
                     "{\"op\":\"dropout\"}," TAIL,
           BOTH_ACCEPT, NULL);
    /* "in" is required. */
    expect("conv without in", HEAD "{\"op\":\"conv2d\",\"name\":\"c1\",\"out\":2,\"kernel\":[3,3]}," TAIL, BOTH_REJECT,
           "missing \"in\"");
    /* "bias" is a boolean. */
    expect("bias 1", HEAD CONV ",\"bias\":1}," TAIL, BOTH_REJECT, "\"bias\" must be true or false");
    expect("bias \"false\"", HEAD CONV ",\"bias\":\"false\"}," TAIL, BOTH_REJECT, "\"bias\" must be true or false");
    expect("bias false", HEAD CONV ",\"bias\":false}," TAIL, BOTH_ACCEPT, NULL);
    /* Batch norm only directly after a conv. */
    expect("bn after relu", HEAD CONV "},{\"op\":\"relu\"}," BN "}," TAIL, BOTH_REJECT,
           "batchnorm2d must directly follow a conv2d");
    expect("bn after bn", HEAD CONV "}," BN "},{\"op\":\"batchnorm2d\",\"name\":\"bn2\"}," TAIL, BOTH_REJECT,
           "batchnorm2d must directly follow a conv2d");
    expect("bn first", HEAD BN "}," CONV "}," TAIL, BOTH_REJECT, "batchnorm2d must directly follow a conv2d");
    /* eps: a number in [0,1) for both, > 0 to train. */
    expect("eps 1.5", HEAD CONV "}," BN ",\"eps\":1.5}," TAIL, BOTH_REJECT, "\"eps\" must be a number in [0,1)");
    expect("eps string", HEAD CONV "}," BN ",\"eps\":\"1e-5\"}," TAIL, BOTH_REJECT,
           "\"eps\" must be a number in [0,1)");
    expect("eps 1e-3", HEAD CONV "}," BN ",\"eps\":1e-3}," TAIL, BOTH_ACCEPT, NULL);
    expect("eps 0", HEAD CONV "}," BN ",\"eps\":0}," TAIL, TRAIN_REJECTS, "\"eps\" must be positive to train");
    /* "num_features" is not part of the schema: ignored like any unknown key. */
    expect("num_features", HEAD CONV "}," BN ",\"num_features\":99}," TAIL, BOTH_ACCEPT, NULL);
    /* Dense only on a flat input. */
    expect("dense on a map",
           HEAD CONV "},{\"op\":\"avgpool2d\",\"kernel\":[3,3]},"
                     "{\"op\":\"dense\",\"name\":\"d\",\"in\":8,\"out\":3},{\"op\":\"softmax\"}]}",
           BOTH_REJECT, "dense needs a flat input");
    expect("dense on the input",
           "{\"input\":[1,1,2],\"layers\":["
           "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":3},{\"op\":\"softmax\"}]}",
           BOTH_REJECT, "dense needs a flat input");
    /* Dropout p: a number in [0,1). */
    expect("dropout p string", HEAD CONV "}," GAP "{\"op\":\"dropout\",\"p\":\"0.5\"}," DENSE "{\"op\":\"softmax\"}]}",
           BOTH_REJECT, "\"p\" must be a number in [0,1)");
    /* Integers, in range. */
    expect("fractional kernel", HEAD "{\"op\":\"conv2d\",\"name\":\"c1\",\"in\":1,\"out\":2,\"kernel\":2.5}," TAIL,
           BOTH_REJECT, "\"kernel\" must be an integer or [a,b]");
    expect("fractional pool stride", HEAD CONV "},{\"op\":\"maxpool2d\",\"kernel\":2,\"stride\":1.5}," TAIL,
           BOTH_REJECT, "\"stride\" must be an integer or [a,b]");
    expect("input too wide", "{\"input\":[1,6,70000],\"layers\":[" CONV "}," TAIL, BOTH_REJECT, "input shape invalid");
    expect("input fractional", "{\"input\":[1,6,6.5],\"layers\":[" CONV "}," TAIL, BOTH_REJECT, "input shape invalid");
    /* Same code for an unknown op (the trainer said "unsupported"). */
    expect("unknown op", HEAD CONV "},{\"op\":\"swish\"}," TAIL, BOTH_REJECT, "unknown op \"swish\"");
    expect("softmax not last", HEAD CONV "}," GAP DENSE "{\"op\":\"softmax\"},{\"op\":\"relu\"}]}", BOTH_REJECT,
           "softmax must be the last layer");
    /* Names: up to 200 characters for both (the trainer stopped at 63). */
    memset(name, 'n', 100);
    name[100] = '\0';
    snprintf(arch, sizeof arch, HEAD "{\"op\":\"conv2d\",\"name\":\"%s\",\"in\":1,\"out\":2,\"kernel\":3}," TAIL, name);
    expect("100-character name", arch, BOTH_ACCEPT, NULL);
    /* Training writes each tensor once: a name used twice is refused there. */
    expect("duplicate name",
           HEAD CONV "}," GAP "{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":2},"
                     "{\"op\":\"relu\"},{\"op\":\"dense\",\"name\":\"d\",\"in\":2,\"out\":2},{\"op\":\"softmax\"}]}",
           TRAIN_REJECTS, "name \"d\" is already used by layer 2");
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The designs that exist must keep passing both. */
static void test_existing_designs(void)
{
    const char *src = getenv("GS_SOURCE_DIR");
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/models/arch", src ? src : GS_SOURCE_DIR_DEFAULT);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot read %s", dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        const char *arch = read_text(path);
        gs_error err;
        gs_error_clear(&err);
        CHECK_MSG(arch && gs_tnet_check_architecture(arch, &err) == GS_OK, "%s: %s", path, err.message);
        n++;
    }
    if (d)
        closedir(d);
    CHECK_MSG(n >= 4, "only %d architectures under %s", n, dir);

    snprintf(path, sizeof path, "%s/models/genrescope-gtzan.safetensors", src ? src : GS_SOURCE_DIR_DEFAULT);
    gs_error err;
    gs_model *m = gs_model_load(path, &err);
    CHECK_MSG(m != NULL, "%s: %s", path, err.message);
    if (!m)
        return;
    gs_net *net = gs_net_from_model(m, &err);
    CHECK_MSG(net != NULL, "shipped model: %s", err.message);
    gs_net_free(net);
    CHECK_MSG(gs_tnet_check_architecture(gs_model_architecture_json(m), &err) == GS_OK, "shipped model, trainer: %s",
              err.message);
    gs_tnet *ft = gs_tnet_from_model(m, 1, 0, 1, &err);
    CHECK_MSG(ft != NULL, "shipped model, fine-tune: %s", err.message);
    gs_tnet_free(ft);
    gs_model_free(m);
}

int main(void)
{
    if (gs_test_tmpdir(tmp, sizeof tmp, "net_desc") != 0)
        return 1;
    test_rules();
    test_existing_designs();
    if (!gs_test_failures)
        gs_test_rmtree(tmp);
    return gs_test_finish("test_net_desc");
}
