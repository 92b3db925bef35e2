/* Clip variants (waveform-domain level augmentation): gains are fixed by the
 * seed and the clip, the audio is hard-clipped to [-1, 1] and goes through
 * the same front-end as the original, variants have their own cache entries,
 * training crops draw from them and validation never sees them. Audio is
 * synthesised at test time. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "check.h"
#include "dataset.h"
#include "genrescope.h"
#include "spec_cache.h"
#include "support/tmpdir.h"
#include "test_train_wav.h"
#include "trainer.h"

static char root[1024];

static int count_cache_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".mel") != NULL;
    if (d)
        closedir(d);
    return n;
}

static int same_spec(const gs_spec *a, const gs_spec *b, int n_mels)
{
    return a->frames == b->frames && !memcmp(a->data, b->data, (size_t)a->frames * n_mels * sizeof(float));
}

static void test_gains_and_clipping(void)
{
    gs_clip_variant_config cfg;
    gs_clip_variant_default(&cfg);
    CHECK(cfg.count == 0 && cfg.min_db == 3.0f && cfg.max_db == 12.0f);
    float lo = 1e9f, hi = -1e9f;
    int differ_v = 0, differ_seed = 0;
    gs_clip_variant_config other = cfg;
    other.seed = 2;
    for (int c = 0; c < 50; c++) {
        char stem[32];
        snprintf(stem, sizeof stem, "metal.%05d", c);
        for (int v = 0; v < 2; v++) {
            float g = gs_clip_variant_gain_db(&cfg, stem, v);
            CHECK(g == gs_clip_variant_gain_db(&cfg, stem, v)); /* deterministic */
            lo = g < lo ? g : lo;
            hi = g > hi ? g : hi;
            differ_seed += g != gs_clip_variant_gain_db(&other, stem, v);
        }
        differ_v += gs_clip_variant_gain_db(&cfg, stem, 0) != gs_clip_variant_gain_db(&cfg, stem, 1);
    }
    CHECK_MSG(lo >= 3.0f && hi <= 12.0f, "gains in [%g, %g]", (double)lo, (double)hi);
    /* 100 uniform draws cover most of the range. */
    CHECK_MSG(lo < 4.0f && hi > 11.0f, "gains in [%g, %g]", (double)lo, (double)hi);
    CHECK(differ_v >= 45 && differ_seed >= 95);

    float in[1000], out[1000];
    for (int i = 0; i < 1000; i++)
        in[i] = 0.8f * sinf(0.05f * i);
    gs_clip_variant_apply(in, out, 1000, 6.0f);
    float g = powf(10.0f, 6.0f / 20.0f);
    int clipped = 0, exact = 1;
    for (int i = 0; i < 1000; i++) {
        CHECK(out[i] >= -1.0f && out[i] <= 1.0f);
        float want = in[i] * g;
        if (want > 1.0f || want < -1.0f) {
            clipped++;
            exact &= out[i] == (want > 0 ? 1.0f : -1.0f);
        } else {
            exact &= out[i] == want;
        }
    }
    CHECK(exact);
    CHECK(clipped > 100);
}

static void test_cache_and_training(void)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/tree", root);
    mkdir(p, 0777);
    const char *labels[2] = {"noise", "tones"};
    for (int l = 0; l < 2; l++) {
        snprintf(p, sizeof p, "%s/tree/%s", root, labels[l]);
        mkdir(p, 0777);
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/tree/%s/c%d.wav", root, labels[l], i);
            /* -2 dBFS: every gain of +3 dB or more clips the peaks. */
            CHECK(gs_write_synth_wav(p, l ? GS_SYNTH_TONE : GS_SYNTH_NOISE, 3.5, 22050, -2.0, 10 + 3 * l + i) == 0);
        }
    }
    snprintf(p, sizeof p, "%s/tree", root);
    gs_dataset ds;
    gs_error err;
    CHECK(gs_dataset_from_folder(&ds, p, NULL, &err) == GS_OK);
    CHECK(ds.num_items == 6);
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    fp.log_offset = 1e-10f;
    char cache[2048];
    snprintf(cache, sizeof cache, "%s/cache", root);
    gs_clip_variant_config cfg;
    gs_clip_variant_default(&cfg);
    cfg.count = 2;

    gs_spec_set set;
    CHECK(gs_spec_set_load(&set, &ds, &fp, cache, NULL, &err) == GS_OK);
    CHECK(count_cache_files(cache) == 6);
    CHECK(set.num_variants == 0 && set.variants == NULL);
    /* Without variants a training crop is the original and uses no randomness. */
    gs_rng rng, rng0;
    gs_rng_seed(&rng, 5);
    rng0 = rng;
    CHECK(gs_spec_set_train_spec(&set, 3, &rng) == &set.specs[3]);
    CHECK(rng.state == rng0.state);

    CHECK(gs_spec_set_add_clip_variants(&set, &ds, &fp, &cfg, cache, &err) == GS_OK);
    CHECK(set.num_variants == 2 && set.variants_computed == 12 && set.variants_cached == 0);
    /* Own cache entries, next to the originals' (which stay valid). */
    CHECK(count_cache_files(cache) == 18);
    CHECK(gs_spec_set_add_clip_variants(&set, &ds, &fp, &cfg, cache, &err) == GS_ERR_INVALID);

    /* A variant is exactly the front-end on the scaled, clipped waveform. */
    gs_mel *mel = gs_mel_new(&fp, NULL, &err);
    CHECK(mel != NULL);
    for (int i = 0; i < ds.num_items && mel; i++) {
        float *x = NULL;
        size_t n = 0;
        CHECK(gs_audio_decode_file(ds.items[i].path, fp.sample_rate, &x, &n, NULL, &err) == GS_OK);
        for (int v = 0; v < 2; v++) {
            float g = set.variant_gain_db[i * 2 + v];
            CHECK(g == gs_clip_variant_gain_db(&cfg, ds.items[i].stem, v));
            float *y = malloc(n * sizeof *y);
            gs_clip_variant_apply(x, y, n, g);
            gs_spec want = {0};
            want.frames = (int)gs_mel_num_frames(mel, n);
            want.data = malloc((size_t)want.frames * fp.n_mels * sizeof(float));
            CHECK(gs_mel_compute(mel, y, n, want.data, &err) == GS_OK);
            CHECK(same_spec(&set.variants[i * 2 + v], &want, fp.n_mels));
            CHECK(!same_spec(&set.variants[i * 2 + v], &set.specs[i], fp.n_mels));
            free(want.data);
            free(y);
        }
        free(x);
    }
    gs_mel_free(mel);

    /* Second run: everything from the cache, identical. */
    gs_spec_set again;
    CHECK(gs_spec_set_load(&again, &ds, &fp, cache, NULL, &err) == GS_OK);
    CHECK(gs_spec_set_add_clip_variants(&again, &ds, &fp, &cfg, cache, &err) == GS_OK);
    CHECK(again.cached == 6 && again.variants_cached == 12 && again.variants_computed == 0);
    int same = 1;
    for (int i = 0; i < 12; i++)
        same &= same_spec(&again.variants[i], &set.variants[i], fp.n_mels);
    CHECK(same);
    gs_spec_set_free(&again);
    /* Another seed gives other gains: new keys, computed again. */
    gs_clip_variant_config cfg2 = cfg;
    cfg2.seed = 99;
    CHECK(gs_spec_set_load(&again, &ds, &fp, cache, NULL, &err) == GS_OK);
    CHECK(gs_spec_set_add_clip_variants(&again, &ds, &fp, &cfg2, cache, &err) == GS_OK);
    CHECK(again.variants_computed == 12 && again.variants_cached == 0);
    CHECK(count_cache_files(cache) == 30);
    gs_spec_set_free(&again);

    /* Training crops draw from the original and from every variant. */
    int seen[3] = {0, 0, 0};
    gs_rng_seed(&rng, 11);
    for (int k = 0; k < 300; k++) {
        const gs_spec *s = gs_spec_set_train_spec(&set, 2, &rng);
        seen[s == &set.specs[2]          ? 0
                 : s == &set.variants[4] ? 1
                 : s == &set.variants[5] ? 2
                                         : 0] += s == &set.specs[2] || s == &set.variants[4] || s == &set.variants[5];
    }
    CHECK_MSG(seen[0] > 60 && seen[1] > 60 && seen[2] > 60, "original %d, variants %d %d", seen[0], seen[1], seen[2]);

    /* Validation never reads a variant: replacing the held-out clips'
     * variants with noise leaves training and validation bit-identical
     * (training never crops held-out clips, and gs_spec_set_train_spec's
     * draws do not depend on the data). The same change on a training clip's
     * variants does change the run, so the probe can see a read. */
    int use_train[6], use_valid[6];
    for (int i = 0; i < 6; i++) {
        use_valid[i] = i % 3 == 0;
        use_train[i] = !use_valid[i];
    }
    gs_train_config tc;
    gs_train_config_default(&tc);
    char *arch = gs_arch_shortchunk(&fp, 2, 2, 0.0f);
    CHECK(arch != NULL);
    tc.architecture_json = arch;
    tc.epochs = 2;
    tc.batch = 4;
    tc.crops_per_clip = 4;
    gs_train_stats ref, stats;
    gs_tnet *net = gs_train(&tc, &ds, &set, &fp, use_train, use_valid, &ref, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    CHECK(ref.epochs_run == 2 && isfinite(ref.valid_loss));
    gs_tnet_free(net);
    gs_rng noise;
    gs_rng_seed(&noise, 1234);
    for (int i = 0; i < 6; i++)
        if (use_valid[i])
            for (int v = 0; v < 2; v++) {
                gs_spec *s = &set.variants[i * 2 + v];
                for (size_t j = 0; j < (size_t)s->frames * fp.n_mels; j++)
                    s->data[j] = (float)(5.0 * gs_rng_normal(&noise));
            }
    net = gs_train(&tc, &ds, &set, &fp, use_train, use_valid, &stats, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    CHECK(stats.valid_loss == ref.valid_loss && stats.valid_acc == ref.valid_acc && stats.train_loss == ref.train_loss);
    gs_tnet_free(net);
    for (int v = 0; v < 2; v++) {
        gs_spec *s = &set.variants[1 * 2 + v];
        for (size_t j = 0; j < (size_t)s->frames * fp.n_mels; j++)
            s->data[j] = (float)(5.0 * gs_rng_normal(&noise));
    }
    net = gs_train(&tc, &ds, &set, &fp, use_train, use_valid, &stats, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    CHECK_MSG(stats.train_loss != ref.train_loss, "train loss %g both times", (double)ref.train_loss);
    gs_tnet_free(net);
    free(arch);
    gs_spec_set_free(&set);
    gs_dataset_free(&ds);
}

int main(void)
{
    if (gs_test_tmpdir(root, sizeof root, "train_clip") != 0)
        return 1;
    test_gains_and_clipping();
    test_cache_and_training();
    if (!gs_test_failures)
        gs_test_rmtree(root);
    return gs_test_finish("test_train_clip");
}
