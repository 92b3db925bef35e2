/* Trainer data path: folder/CSV listing, bad input (empty label folders, a
 * single class, corrupt audio, unknown CSV labels), the spectrogram cache,
 * the core's patch plan in training (non-silent crops, short clips repeated,
 * per-epoch validation equal to the classifier's verdict), genre balancing,
 * stratified folds, given splits, patch normalisation, augmentation (the
 * low-pass too) and the logistic-regression baseline. Audio is synthesised
 * at test time. */
#include <string.h>
#include <sys/stat.h>
#include <taglib/tag_c.h>
#include <unistd.h>

#include "arch.h"
#include "augment.h"
#include "baseline.h"
#include "check.h"
#include "crossval.h"
#include "dataset.h"
#include "genrescope.h"
#include "sampler.h"
#include "spec_cache.h"
#include "support/tmpdir.h"
#include "test_train_wav.h"
#include "tnet.h"
#include "trainer.h"

static char root[1024];

static void path_in(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static void write_text(const char *rel, const char *text)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    mkdir(p, 0777);
}

static void synth(const char *rel, int kind, double seconds, uint64_t seed)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    CHECK(gs_write_synth_wav(p, kind, seconds, 22050, -12.0, seed) == 0);
}

static void test_folder_and_bad_input(void)
{
    make_dir("tree");
    make_dir("tree/tones");
    make_dir("tree/noise");
    make_dir("tree/empty");
    make_dir("tree/noise/sub");
    for (int i = 0; i < 4; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tree/tones/t%d.wav", i);
        synth(rel, GS_SYNTH_TONE, 3.5, 100 + i);
        snprintf(rel, sizeof rel, "tree/noise/sub/n%d.wav", i);
        synth(rel, GS_SYNTH_NOISE, 3.5, 200 + i);
    }
    write_text("tree/tones/readme.txt", "not audio\n");
    /* Symlinks never repeat a clip: a loop, a second route to a folder and
     * a second name for a file each add nothing. */
    char target[2048], link[2048];
    path_in(link, sizeof link, "tree/tones/loop");
    CHECK(symlink(".", link) == 0);
    path_in(target, sizeof target, "tree/noise/sub");
    path_in(link, sizeof link, "tree/noise/again");
    CHECK(symlink(target, link) == 0);
    path_in(link, sizeof link, "tree/tones/t0-again.wav");
    CHECK(symlink("t0.wav", link) == 0);
    write_text("tree/noise/broken.wav", "RIFF garbage, not a wave file at all");

    char p[2048];
    path_in(p, sizeof p, "tree");
    gs_dataset ds;
    gs_error err;
    FILE *warn = tmpfile();
    CHECK(gs_dataset_from_folder(&ds, p, warn, &err) == GS_OK);
    CHECK(ds.num_labels == 2);
    CHECK(!strcmp(ds.labels[0], "noise") && !strcmp(ds.labels[1], "tones"));
    CHECK(ds.num_items == 9); /* 4 + 4 + broken.wav; readme.txt is not audio */
    char text[4096] = "";
    rewind(warn);
    size_t got = fread(text, 1, sizeof text - 1, warn);
    text[got] = '\0';
    CHECK_MSG(strstr(text, "empty") && strstr(text, "no audio"), "warning was: %s", text);
    CHECK(gs_dataset_check_trainable(&ds, 2, &err) == GS_OK);

    /* Corrupt audio is skipped with a warning and counted; the cache makes
     * the second load decode nothing and give identical spectrograms. */
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    char cache[2048];
    path_in(cache, sizeof cache, "cache");
    gs_spec_set set;
    rewind(warn);
    CHECK(gs_spec_set_load(&set, &ds, &fp, cache, warn, &err) == GS_OK);
    CHECK(set.failed == 1);
    CHECK(set.computed == 8 && set.cached == 0);
    CHECK(ds.num_items == 8 && set.count == 8);
    rewind(warn);
    got = fread(text, 1, sizeof text - 1, warn);
    text[got] = '\0';
    CHECK_MSG(strstr(text, "skipping") && strstr(text, "broken.wav"), "warning was: %s", text);
    for (int i = 0; i < ds.num_items; i++)
        CHECK(!strstr(ds.items[i].path, "broken"));
    /* 3.5 s at hop 512: 1 + (77175 - 1024) / 512 = 149 frames. */
    CHECK(set.specs[0].frames == 149);

    gs_spec_set again;
    CHECK(gs_spec_set_load(&again, &ds, &fp, cache, NULL, &err) == GS_OK);
    CHECK(again.cached == 8 && again.computed == 0 && again.failed == 0);
    int same = 1;
    for (int i = 0; i < set.count; i++)
        same &= set.specs[i].frames == again.specs[i].frames &&
            !memcmp(set.specs[i].data, again.specs[i].data, (size_t)set.specs[i].frames * fp.n_mels * sizeof(float));
    CHECK(same);
    /* Another front-end is another cache key. */
    gs_frontend_params fp2 = fp;
    fp2.n_mels = 64;
    gs_spec_set other;
    CHECK(gs_spec_set_load(&other, &ds, &fp2, cache, NULL, &err) == GS_OK);
    CHECK(other.computed == 8 && other.n_mels == 64);
    gs_spec_set_free(&other);
    gs_spec_set_free(&again);

    /* Patches: network layout [mel][time] and mean normalisation. */
    float *patch = malloc((size_t)fp.n_mels * fp.patch_frames * sizeof(float));
    gs_spec_patch(&set.specs[0], fp.n_mels, 5, fp.patch_frames, GS_PATCH_NORMALIZE_NONE, patch);
    CHECK(patch[3 * fp.patch_frames + 7] == set.specs[0].data[(5 + 7) * fp.n_mels + 3]);
    gs_spec_patch(&set.specs[0], fp.n_mels, 5, fp.patch_frames, GS_PATCH_NORMALIZE_MEAN, patch);
    double mean = 0.0;
    for (int i = 0; i < fp.n_mels * fp.patch_frames; i++)
        mean += patch[i];
    CHECK_NEAR(mean / (fp.n_mels * fp.patch_frames), 0.0, 1e-4);

    /* Augmented batches: targets are distributions, crops stay finite. */
    int clips[4] = {0, 1, 4, 5}, labels[4];
    for (int i = 0; i < 4; i++)
        labels[i] = ds.items[clips[i]].label;
    gs_augment_config aug;
    gs_augment_default(&aug);
    gs_band_table bands;
    CHECK(gs_band_table_init(&bands, &fp, &err) == GS_OK);
    gs_rng rng;
    gs_rng_seed(&rng, 7);
    size_t size = (size_t)fp.n_mels * fp.patch_frames;
    float *inputs = malloc(4 * size * sizeof(float)), *scratch = malloc(gs_make_batch_scratch(4, &fp) * sizeof(float));
    float targets[4 * 2];
    gs_make_batch(&set, clips, labels, 4, 2, &fp, &aug, &bands, &rng, inputs, targets, scratch);
    int finite = 1, mixed = 0;
    for (size_t i = 0; i < 4 * size; i++)
        finite &= isfinite(inputs[i]);
    CHECK(finite);
    for (int b = 0; b < 4; b++) {
        CHECK_NEAR(targets[2 * b] + targets[2 * b + 1], 1.0, 1e-5);
        /* the clip's own label stays dominant under mixup */
        CHECK(targets[2 * b + labels[b]] >= 0.5f - 1e-6f);
        mixed += targets[2 * b] > 0.0f && targets[2 * b + 1] > 0.0f;
    }
    CHECK(mixed > 0);
    /* Same seed, same batch (determinism). */
    float *inputs2 = malloc(4 * size * sizeof(float));
    float targets2[8];
    gs_rng_seed(&rng, 7);
    gs_make_batch(&set, clips, labels, 4, 2, &fp, &aug, &bands, &rng, inputs2, targets2, scratch);
    CHECK(!memcmp(inputs, inputs2, 4 * size * sizeof(float)) && !memcmp(targets, targets2, sizeof targets));
    /* Pitch and tempo at their largest, one crop at a time with the
     * smallest scratch (a batch of one): a faster crop reads up to twice
     * the frames, which must fit (ASan checks in CI), and stays finite. */
    gs_augment_config pitch_tempo;
    gs_augment_none(&pitch_tempo);
    pitch_tempo.pitch_semitones = 12.0f;
    pitch_tempo.tempo = 1.0f;
    float *scratch1 = malloc(gs_make_batch_scratch(1, &fp) * sizeof(float));
    int pt_finite = 1;
    for (int k = 0; k < 40; k++) {
        int c1[1] = {clips[k % 4]}, l1[1] = {labels[k % 4]};
        gs_make_batch(&set, c1, l1, 1, 2, &fp, &pitch_tempo, &bands, &rng, inputs, targets, scratch1);
        for (size_t i = 0; i < size; i++)
            pt_finite &= isfinite(inputs[i]);
    }
    CHECK(pt_finite);
    free(scratch1);
    /* Gain augmentation alone on broadband noise (every band far above the
     * log offset) with mean normalisation: a level change is an additive
     * constant in the log domain, so it cancels. (On a pure tone it does
     * not: bands below the offset do not move with the gain.) */
    gs_augment_config gain_only;
    gs_augment_none(&gain_only);
    gain_only.gain_db = 20.0f;
    gs_augment_config none;
    gs_augment_none(&none);
    int one[1] = {0}, lab1[1] = {ds.items[0].label};
    gs_rng_seed(&rng, 3);
    gs_make_batch(&set, one, lab1, 1, 2, &fp, &none, NULL, &rng, inputs, targets, scratch);
    gs_rng_seed(&rng, 3);
    gs_make_batch(&set, one, lab1, 1, 2, &fp, &gain_only, NULL, &rng, inputs2, targets2, scratch);
    double maxdiff = 0.0;
    for (size_t i = 0; i < size; i++)
        maxdiff = fmax(maxdiff, fabs(inputs[i] - inputs2[i]));
    CHECK_MSG(maxdiff < 0.05, "max diff %g", maxdiff);

    /* Baseline: tones vs noise is trivially separable by band statistics. */
    int dim = 2 * fp.n_mels;
    float *x = malloc((size_t)set.count * dim * sizeof(float));
    int y[16];
    for (int i = 0; i < set.count; i++) {
        gs_baseline_features(&set.specs[i], fp.n_mels, x + (size_t)i * dim);
        y[i] = ds.items[i].label;
    }
    int use[16];
    for (int i = 0; i < set.count; i++)
        use[i] = i % 4 != 0; /* hold out one of each class */
    gs_logreg lr;
    CHECK(gs_logreg_fit(&lr, x, y, use, set.count, dim, 2, 1e-2f, 300, &err) == GS_OK);
    float probs[2];
    for (int i = 0; i < set.count; i++)
        CHECK(gs_logreg_predict(&lr, x + (size_t)i * dim, probs) == y[i]);
    gs_logreg_free(&lr);

    free(x);
    free(inputs);
    free(inputs2);
    free(scratch);
    free(patch);
    gs_band_table_free(&bands);
    gs_spec_set_free(&set);
    gs_dataset_free(&ds);

    /* A single class cannot train a classifier. */
    make_dir("single");
    make_dir("single/only");
    synth("single/only/a.wav", GS_SYNTH_TONE, 1.0, 1);
    synth("single/only/b.wav", GS_SYNTH_TONE, 1.0, 2);
    path_in(p, sizeof p, "single");
    CHECK(gs_dataset_from_folder(&ds, p, NULL, &err) == GS_OK);
    CHECK(gs_dataset_check_trainable(&ds, 2, &err) == GS_ERR_INVALID);
    CHECK_MSG(strstr(err.message, "at least 2 labels") && strstr(err.message, "only"), "%s", err.message);
    gs_dataset_free(&ds);
    /* A folder without any audio. */
    make_dir("nothing");
    make_dir("nothing/a");
    path_in(p, sizeof p, "nothing");
    CHECK(gs_dataset_from_folder(&ds, p, NULL, &err) == GS_ERR_INVALID);
    CHECK_MSG(strstr(err.message, "no audio files"), "%s", err.message);
    path_in(p, sizeof p, "does-not-exist");
    CHECK(gs_dataset_from_folder(&ds, p, NULL, &err) == GS_ERR_IO);
    fclose(warn);
}

static void write_signal(const char *rel, double sound1, double gap, double sound2, double freq)
{
    const int rate = 22050;
    uint32_t n = (uint32_t)((sound1 + gap + sound2) * rate);
    float *x = calloc(n ? n : 1, sizeof *x);
    uint64_t s = (uint64_t)(freq * 1000);
    for (uint32_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        if (t < sound1 || t >= sound1 + gap)
            x[i] = (float)(0.3 * sin(2 * M_PI * freq * t) +
                           0.05 * (((double)(gs_synth_rng(&s) >> 11) / 9007199254740992.0) * 2.0 - 1.0));
    }
    char p[2048];
    path_in(p, sizeof p, rel);
    CHECK(gs_write_wav(p, x, n, rate) == 0);
    free(x);
}

static int find_stem(const gs_dataset *ds, const char *stem)
{
    int i = gs_dataset_find_stem(ds, stem);
    CHECK_MSG(i >= 0, "no clip %s", stem);
    return i < 0 ? 0 : i;
}

/* The trainer cuts the classifier's patches: spectrograms unpadded with the
 * front-end's frame RMS; training crops only where a patch is not silent
 * (one, repeated, for a clip shorter than a patch; none for a silent clip,
 * which no epoch draws); balancing by label; and per-epoch validation
 * (gs_tnet_predict_clip on the spectrogram) giving gs_classify_file's
 * probabilities and patch counts. */
static void test_patch_plan_in_training(void)
{
    make_dir("plan");
    make_dir("plan/a");
    make_dir("plan/b");
    write_signal("plan/a/short.wav", 1.0, 0.0, 0.0, 440.0); /* 42 frames: one repeated patch */
    write_signal("plan/a/gap.wav", 3.0, 7.0, 3.0, 660.0);   /* a silent patch at frame 256 */
    write_signal("plan/b/silent.wav", 0.0, 2.0, 0.0, 0.0);  /* nothing to train on */
    write_signal("plan/b/long.wav", 7.0, 0.0, 0.0, 330.0);  /* regular + tail patches */
    write_signal("plan/b/tiny.wav", 0.03, 0.0, 0.0, 880.0); /* shorter than one FFT frame */
    write_signal("plan/b/long2.wav", 5.0, 0.0, 0.0, 550.0);
    char p[2048];
    path_in(p, sizeof p, "plan");
    gs_dataset ds;
    gs_error err;
    CHECK(gs_dataset_from_folder(&ds, p, NULL, &err) == GS_OK);
    CHECK(ds.num_items == 6);
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    gs_spec_set set;
    CHECK(gs_spec_set_load(&set, &ds, &fp, NULL, NULL, &err) == GS_OK);
    int shrt = find_stem(&ds, "short"), gap = find_stem(&ds, "gap"), silent = find_stem(&ds, "silent"),
        lng = find_stem(&ds, "long"), tiny = find_stem(&ds, "tiny");

    /* Unpadded, and the RMS is the front-end's. */
    CHECK_MSG(set.specs[shrt].frames == 42, "short clip has %d frames", set.specs[shrt].frames);
    CHECK(set.specs[tiny].frames == 1);
    {
        float *x = NULL;
        size_t n = 0;
        CHECK(gs_audio_decode_file(ds.items[gap].path, fp.sample_rate, &x, &n, NULL, &err) == GS_OK);
        gs_mel *mel = gs_mel_new(&fp, NULL, &err);
        size_t frames = gs_mel_num_frames(mel, n);
        float *spec = malloc(frames * fp.n_mels * sizeof *spec), *rms = malloc(frames * sizeof *rms);
        CHECK(gs_mel_compute_with_rms(mel, x, n, spec, rms, &err) == GS_OK);
        CHECK(set.specs[gap].frames == (int)frames);
        CHECK(!memcmp(spec, set.specs[gap].data, frames * fp.n_mels * sizeof *spec));
        CHECK(!memcmp(rms, set.specs[gap].rms, frames * sizeof *rms));
        free(spec);
        free(rms);
        gs_mel_free(mel);
        free(x);
    }
    /* Crops: every start of a long clip, only 0 for a short one, none for
     * silence, and only the non-silent starts of the clip with a gap. */
    CHECK(set.specs[shrt].num_crops == 1 && set.specs[shrt].crops[0] == 0);
    CHECK(set.specs[tiny].num_crops == 1);
    CHECK(set.specs[silent].num_crops == 0);
    CHECK(set.specs[lng].num_crops == set.specs[lng].frames - fp.patch_frames + 1);
    const gs_spec *g = &set.specs[gap];
    int sound = 0, listed = 1;
    for (int s = 0; s + fp.patch_frames <= g->frames; s++)
        sound += !gs_patch_is_silent(g->rms + s, g->frames - s, fp.patch_frames);
    for (int j = 0; j < g->num_crops; j++)
        listed &= !gs_patch_is_silent(g->rms + g->crops[j], g->frames - g->crops[j], fp.patch_frames);
    CHECK_MSG(g->num_crops == sound && listed && sound < g->frames - fp.patch_frames + 1,
              "gap clip: %d crops, %d non-silent starts", g->num_crops, sound);

    /* Balancing: label a (2 clips) and b (3 with sound, 1 silent). */
    int use[6] = {1, 1, 1, 1, 1, 1}, order[6000];
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    for (int mode = GS_BALANCE_NONE; mode <= GS_BALANCE_GENRE_LENGTH; mode++) {
        gs_sampler sm;
        CHECK(gs_sampler_init(&sm, (gs_balance)mode, &ds, &set, &fp, use, &err) == GS_OK);
        CHECK(sm.n_items == 5 && sm.n_labels == 2);
        long k = mode == GS_BALANCE_NONE ? 5 * 1200 : 6000;
        gs_sampler_epoch(&sm, 1200, &rng, order, k);
        int per_label[2] = {0, 0}, n_silent = 0, n_short = 0;
        for (long j = 0; j < k; j++) {
            per_label[ds.items[order[j]].label]++;
            n_silent += order[j] == silent;
            n_short += order[j] == shrt;
        }
        CHECK(n_silent == 0);
        if (mode == GS_BALANCE_NONE) {
            CHECK(per_label[0] == 2 * 1200 && n_short == 1200);
        } else {
            CHECK_MSG(abs(per_label[0] - 3000) < 200, "mode %d: label a drew %d of 6000", mode, per_label[0]);
            /* Within label a: uniformly, or by usable length (42 frames
             * against the gap clip's ~300). */
            double want =
                mode == GS_BALANCE_GENRE ? 0.5 : 42.0 / (42.0 + gs_sampler_usable_frames(&set.specs[gap], &fp));
            CHECK_MSG(fabs((double)n_short / per_label[0] - want) < 0.04, "mode %d: short clip %d of %d (want %.2f)",
                      mode, n_short, per_label[0], want);
        }
        gs_sampler_free(&sm);
    }

    /* Validation on spectrograms = the classifier on the files. */
    char *arch = gs_arch_shortchunk(&fp, 2, 2, 0.0f);
    gs_tnet *net = gs_tnet_new(arch, 4, 3, &err);
    CHECK_MSG(net != NULL, "%s", err.message);
    path_in(p, sizeof p, "plan.safetensors");
    gs_model_writer *w = gs_model_writer_new();
    const char *labels[2] = {ds.labels[0], ds.labels[1]};
    CHECK(gs_tnet_export(net, w, &err) == GS_OK);
    CHECK(gs_model_writer_set_standard_metadata(w, labels, 2, &fp, &err) == GS_OK);
    CHECK(gs_model_writer_save(w, p, &err) == GS_OK);
    gs_model_writer_free(w);
    gs_model *model = gs_model_load(p, &err);
    CHECK_MSG(model != NULL, "%s", err.message);
    gs_classifier *cls = model ? gs_classifier_new(model, NULL, &err) : NULL;
    size_t size = (size_t)fp.n_mels * fp.patch_frames;
    float *buffer = malloc(4 * size * sizeof *buffer), patch_probs[4 * 2], probs[2];
    for (int i = 0; i < ds.num_items && cls; i++) {
        gs_track_result r;
        CHECK(gs_classify_file(cls, ds.items[i].path, &r, &err) == GS_OK);
        int patches = -1;
        CHECK(gs_tnet_predict_clip(net, 4, &set.specs[i], &fp, buffer, patch_probs, probs, &patches, &err) == GS_OK);
        CHECK_MSG(patches == r.num_patches, "%s: %d patches on the spectrogram, %d in the classifier", ds.items[i].stem,
                  patches, r.num_patches);
        double d = fmax(fabs(probs[0] - r.probabilities[0]), fabs(probs[1] - r.probabilities[1]));
        CHECK_MSG(d < 1e-4, "%s: spectrogram validation differs from gs_classify_file by %g", ds.items[i].stem, d);
        if (i == silent)
            CHECK(patches == 0 && r.top_label == -1 && probs[0] == 0.0f && probs[1] == 0.0f);
        if (i == gap)
            CHECK(r.num_silent_patches == 1 && patches == 3);
        if (i == shrt || i == tiny)
            CHECK(r.padded && patches == 1);
        gs_track_result_free(&r);
    }
    free(buffer);
    gs_classifier_free(cls);
    gs_model_free(model);
    gs_tnet_free(net);
    free(arch);
    gs_spec_set_free(&set);
    gs_dataset_free(&ds);
}

/* The low-pass augmentation: bands wholly above the cut-off fall to the
 * log floor, bands wholly below are untouched, a band across it keeps the
 * share of its filter below it. */
static void test_lowpass(void)
{
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    gs_band_table t;
    gs_error err;
    CHECK(gs_band_table_init(&t, &fp, &err) == GS_OK);
    const int patch = 4;
    float *x = malloc((size_t)fp.n_mels * patch * sizeof *x), *y = malloc((size_t)fp.n_mels * patch * sizeof *y);
    for (int i = 0; i < fp.n_mels * patch; i++)
        x[i] = y[i] = (float)(-3.0 + 0.01 * i);
    const double fc = 6000.0;
    gs_apply_lowpass(y, fp.n_mels, patch, &t, fc, fp.log_offset);
    int below = 0, above = 0, across = 0, ok = 1;
    for (int m = 0; m < fp.n_mels; m++) {
        double f = gs_band_table_fraction(&t, m, fc);
        for (int i = 0; i < patch; i++) {
            float a = x[m * patch + i], b = y[m * patch + i];
            if (f >= 1.0)
                ok &= a == b;
            else if (f <= 0.0)
                ok &= b == logf(fp.log_offset);
            else
                ok &= fabs(b - logf((float)f * (expf(a) - fp.log_offset) + fp.log_offset)) < 1e-5 && b < a;
        }
        below += f >= 1.0;
        above += f <= 0.0;
        across += f > 0.0 && f < 1.0;
        /* The fraction falls with the band's frequency. */
        if (m > 0)
            ok &= f <= gs_band_table_fraction(&t, m - 1, fc);
    }
    CHECK(ok);
    CHECK_MSG(below > 40 && above > 10 && across >= 1 && across <= 3, "bands below %d, above %d, across %d", below,
              above, across);
    CHECK(gs_band_table_fraction(&t, fp.n_mels - 1, 11025.0) == 1.0);
    CHECK(gs_band_table_fraction(&t, 0, 0.0) == 0.0);
    free(x);
    free(y);
    gs_band_table_free(&t);
}

static void test_csv(void)
{
    write_text("list.csv",
               "path,label\n# comment\ntree/tones/t0.wav,tones\n/abs/x.wav, noise \n\"tree/a,b.wav\",tones\n");
    char p[2048];
    path_in(p, sizeof p, "list.csv");
    gs_dataset ds;
    gs_error err;
    CHECK(gs_dataset_from_csv(&ds, p, NULL, 0, &err) == GS_OK);
    CHECK(ds.num_items == 3 && ds.num_labels == 2);
    CHECK(!strcmp(ds.items[0].path, "/abs/x.wav") && ds.items[0].label == 0);
    char expect[2100];
    snprintf(expect, sizeof expect, "%s/tree/a,b.wav", root);
    CHECK_MSG(!strcmp(ds.items[1].path, expect), "%s", ds.items[1].path);
    CHECK(!strcmp(ds.items[2].stem, "t0"));
    gs_dataset_free(&ds);

    const char *allowed[] = {"tones", "noise"};
    write_text("unknown.csv", "a.wav,tones\nb.wav,polka\n");
    path_in(p, sizeof p, "unknown.csv");
    CHECK(gs_dataset_from_csv(&ds, p, allowed, 2, &err) == GS_ERR_FORMAT);
    CHECK_MSG(strstr(err.message, ":2:") && strstr(err.message, "unknown label 'polka'"), "%s", err.message);
    write_text("bad.csv", "a.wav,tones\njust-a-path.wav\n");
    path_in(p, sizeof p, "bad.csv");
    CHECK(gs_dataset_from_csv(&ds, p, NULL, 0, &err) == GS_ERR_FORMAT);
    CHECK_MSG(strstr(err.message, ":2:"), "%s", err.message);
}

/* 5 folds of the 25-file, 3-label fixture: 5 files each, and every label's
 * share of a fold is the floor or ceiling of a fifth of its files. */
static void check_fold_balance(const gs_dataset *ds, const int *fold, const int *per)
{
    for (int k = 0; k < 5; k++) {
        int n = 0, by[3] = {0, 0, 0};
        for (int i = 0; i < 25; i++)
            if (fold[i] == k) {
                n++;
                by[ds->items[i].label]++;
            }
        CHECK_MSG(n == 5, "fold %d has %d files", k, n);
        for (int l = 0; l < 3; l++)
            CHECK(by[l] == per[l] / 5 || by[l] == per[l] / 5 + 1);
    }
}

static void test_folds(void)
{
    gs_dataset ds = {0};
    ds.num_labels = 3;
    strcpy(ds.labels[0], "a");
    strcpy(ds.labels[1], "b");
    strcpy(ds.labels[2], "c");
    int per[3] = {10, 9, 6};
    ds.capacity = 25;
    ds.items = calloc(25, sizeof *ds.items);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < per[l]; i++) {
            char name[200];
            snprintf(name, sizeof name, "%s/%s.%05d.wav", ds.labels[l], ds.labels[l], i);
            ds.items[ds.num_items].path = strdup(name);
            snprintf(name, sizeof name, "%s.%05d", ds.labels[l], i);
            ds.items[ds.num_items].stem = strdup(name);
            ds.items[ds.num_items++].label = l;
        }
    int fold[25], fold2[25], fold3[25];
    gs_error err;
    CHECK(gs_stratified_folds(&ds, 5, 1, fold, &err) == GS_OK);
    CHECK(gs_stratified_folds(&ds, 5, 1, fold2, &err) == GS_OK);
    CHECK(gs_stratified_folds(&ds, 5, 2, fold3, &err) == GS_OK);
    CHECK(!memcmp(fold, fold2, sizeof fold));
    CHECK(memcmp(fold, fold3, sizeof fold) != 0);
    check_fold_balance(&ds, fold, per);
    CHECK(gs_stratified_folds(&ds, 26, 1, fold, &err) == GS_ERR_INVALID);

    /* Contiguous runs: the same per-label shares and fold sizes, but each
     * label's files in path order change fold only k - 1 times, so files
     * that are neighbours (an artist's run: items 2j and 2j+1 here) share a
     * fold. Shuffled folds split such pairs, which is what this guards. */
    CHECK(gs_contiguous_folds(&ds, 5, fold, &err) == GS_OK);
    check_fold_balance(&ds, fold, per);
    int changes[3] = {0, 0, 0}, split_pairs = 0, split_pairs_shuffled = 0;
    for (int i = 1; i < 25; i++)
        if (ds.items[i].label == ds.items[i - 1].label)
            changes[ds.items[i].label] += fold[i] != fold[i - 1];
    for (int l = 0; l < 3; l++)
        CHECK_MSG(changes[l] == 4, "label %d changes fold %d times along path order", l, changes[l]);
    for (int i = 0; i + 1 < 10; i += 2) { /* label a: 10 files = 5 runs of 2 */
        split_pairs += fold[i] != fold[i + 1];
        split_pairs_shuffled += fold2[i] != fold2[i + 1];
    }
    CHECK(split_pairs == 0);
    CHECK(split_pairs_shuffled > 0);
    CHECK(gs_contiguous_folds(&ds, 26, fold, &err) == GS_ERR_INVALID);

    write_text("train.txt", "a/a.00000\na.00001.wav\nb/b.00003\nc/c.00099\n");
    write_text("valid.txt", "c/c.00001.au\nb.00004\n");
    char tp[2048], vp[2048];
    path_in(tp, sizeof tp, "train.txt");
    path_in(vp, sizeof vp, "valid.txt");
    int missing = 0;
    CHECK(gs_split_from_lists(&ds, tp, vp, fold, &missing, &err) == GS_OK);
    CHECK(missing == 1);
    CHECK(fold[0] == 0 && fold[1] == 0 && fold[13] == 0 && fold[14] == 1 && fold[20] == 1 && fold[2] == -1);
    write_text("valid.txt", "a/a.00000\n");
    CHECK(gs_split_from_lists(&ds, tp, vp, fold, &missing, &err) == GS_ERR_FORMAT);
    gs_dataset_free(&ds);
}

static void tag_file(const char *rel, const char *genre)
{
    char p[2048];
    path_in(p, sizeof p, rel);
    TagLib_File *f = taglib_file_new(p);
    CHECK(f && taglib_file_is_valid(f));
    if (!f)
        return;
    taglib_tag_set_genre(taglib_file_tag(f), genre);
    CHECK(taglib_file_save(f));
    taglib_file_free(f);
}

/* --labels-from-tags: a user's own tagging is the training set. */
static void test_tags(void)
{
    make_dir("lib");
    make_dir("lib/album");
    synth("lib/album/a.wav", GS_SYNTH_TONE, 1.0, 1);
    synth("lib/album/b.wav", GS_SYNTH_NOISE, 1.0, 2);
    synth("lib/c.wav", GS_SYNTH_NOISE, 1.0, 3);
    synth("lib/untagged.wav", GS_SYNTH_CLICKS, 1.0, 4);
    taglib_set_strings_unicode(1);
    tag_file("lib/album/a.wav", "Drum & Bass");
    tag_file("lib/album/b.wav", "  House ");
    tag_file("lib/c.wav", "house");
    char p[2048];
    path_in(p, sizeof p, "lib");
    gs_dataset ds;
    gs_error err;
    int untagged = -1;
    CHECK(gs_dataset_from_tags(&ds, p, &untagged, NULL, &err) == GS_OK);
    CHECK(untagged == 1);
    CHECK(ds.num_items == 3 && ds.num_labels == 2);
    CHECK(!strcmp(ds.labels[0], "drum & bass") && !strcmp(ds.labels[1], "house"));
    for (int i = 0; i < ds.num_items; i++)
        CHECK(ds.items[i].label == (strstr(ds.items[i].path, "/a.wav") ? 0 : 1));
    gs_dataset_free(&ds);
}

/* Pitch shift in the mel domain: 0 semitones changes nothing, +12 moves a
 * harmonic to the band at twice its frequency, -12 to half; band centres
 * rise with the band. */
static void test_pitch(void)
{
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    gs_band_table t;
    gs_error err;
    CHECK(gs_band_table_init(&t, &fp, &err) == GS_OK);
    const int n = fp.n_mels, patch = 3;
    int rising = 1;
    for (int m = 1; m < n; m++)
        rising &= t.centre_hz[m] > t.centre_hz[m - 1];
    CHECK(rising);
    CHECK_MSG(t.centre_hz[0] > fp.fmin && t.centre_hz[n - 1] < fp.fmax, "centres %g .. %g Hz", t.centre_hz[0],
              t.centre_hz[n - 1]);
    float *x = calloc((size_t)n * patch, sizeof *x), *y = malloc((size_t)n * patch * sizeof *y);
    float *scratch = malloc((size_t)n * patch * sizeof *scratch);
    for (int i = 0; i < n * patch; i++)
        x[i] = (float)sin(0.37 * i);
    memcpy(y, x, (size_t)n * patch * sizeof *y);
    gs_apply_pitch(y, n, patch, &t, 0.0, scratch);
    double worst = 0.0;
    for (int i = 0; i < n * patch; i++)
        worst = fmax(worst, fabs(y[i] - x[i]));
    CHECK_MSG(worst < 1e-6, "0 semitones moved a value by %g", worst);
    /* One harmonic near 1 kHz: where is its peak after an octave up and down? */
    int m0 = 0;
    while (t.centre_hz[m0] < 1000.0)
        m0++;
    for (int dir = -1; dir <= 1; dir += 2) {
        memset(y, 0, (size_t)n * patch * sizeof *y);
        for (int k = 0; k < patch; k++)
            y[(size_t)m0 * patch + k] = 1.0f;
        gs_apply_pitch(y, n, patch, &t, 12.0 * dir, scratch);
        int peak = 0;
        for (int m = 1; m < n; m++)
            if (y[(size_t)m * patch] > y[(size_t)peak * patch])
                peak = m;
        double want = t.centre_hz[m0] * (dir > 0 ? 2.0 : 0.5);
        int nearest = 0;
        for (int m = 1; m < n; m++)
            if (fabs(t.centre_hz[m] - want) < fabs(t.centre_hz[nearest] - want))
                nearest = m;
        CHECK_MSG(abs(peak - nearest) <= 1, "%+d octave: peak at band %d (%.0f Hz), want band %d (%.0f Hz)", dir, peak,
                  t.centre_hz[peak], nearest, want);
    }
    free(x);
    free(y);
    free(scratch);
    gs_band_table_free(&t);
}

/* Tempo change: factor 1 changes nothing, a faster factor reads a ramp at
 * that rate (linear interpolation is exact on a ramp), and the source
 * length is what the factor needs. */
static void test_tempo(void)
{
    CHECK(gs_tempo_source_frames(128, 1.0) == 128);
    CHECK(gs_tempo_source_frames(128, 2.0) == 255);
    CHECK(gs_tempo_source_frames(128, 1.1) == 141);
    CHECK(gs_tempo_source_frames(128, 1.0 / 1.1) == 117);
    const int n_mels = 3, patch = 16;
    const double factors[] = {1.0, 1.1, 1.0 / 1.1, 1.5, 2.0};
    for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++) {
        int frames = gs_tempo_source_frames(patch, factors[f]);
        float *src = malloc((size_t)n_mels * frames * sizeof *src), out[3 * 16];
        for (int m = 0; m < n_mels; m++)
            for (int j = 0; j < frames; j++)
                src[m * frames + j] = (float)(10 * m + j);
        gs_apply_tempo(src, frames, n_mels, patch, factors[f], out);
        double worst = 0.0;
        for (int m = 0; m < n_mels; m++)
            for (int k = 0; k < patch; k++)
                worst = fmax(worst, fabs(out[m * patch + k] - (10.0 * m + k * factors[f])));
        CHECK_MSG(worst < 1e-4, "factor %g: off the ramp by %g", factors[f], worst);
        free(src);
    }
}

int main(void)
{
    if (gs_test_tmpdir(root, sizeof root, "train_data") != 0)
        return 1;
    test_folder_and_bad_input();
    test_patch_plan_in_training();
    test_lowpass();
    test_pitch();
    test_tempo();
    test_csv();
    test_folds();
    test_tags();
    if (!gs_test_failures)
        gs_test_rmtree(root);
    return gs_test_finish("test_train_data");
}
