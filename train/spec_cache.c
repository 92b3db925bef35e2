/* The spectrogram cache (spec_cache.h): decodes each clip once through the
 * core's audio and mel front-end, stores the result under a key of path,
 * size, mtime and front-end parameters, and adds the gain-shifted clip
 * variants; also indexes each clip's non-silent crops. */
#include "spec_cache.h"

#include "genrescope/outfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genrescope/audio.h"
#include "genrescope/classify.h"
#include "genrescope/fnv1a.h"
#include "genrescope/melspec.h"

/* 02: unpadded spectrograms plus per-frame RMS (01 held clips zero-padded
 * to one patch and no RMS). The magic and the key both changed, so 01
 * entries are never read as 02 and are simply recomputed. */
#define CACHE_MAGIC "GSMEL02\n"

/* The key covers everything that changes the entry: its format version,
 * which file (path, size, mtime) and every front-end parameter, hashed field
 * by field so struct padding never enters it. */
static uint64_t cache_key(const char *path, const struct stat *sb, const gs_frontend_params *p)
{
    uint64_t h = gs_fnv1a64(GS_SPEC_HASH_INIT, path, strlen(path));
    int64_t v[4] = {(int64_t)sb->st_size, (int64_t)sb->st_mtim.tv_sec, (int64_t)sb->st_mtim.tv_nsec, 2};
    h = gs_fnv1a64(h, v, sizeof v);
    int iv[4] = {p->sample_rate, p->n_fft, p->hop_length, p->n_mels};
    float fv[3] = {p->fmin, p->fmax, p->log_offset};
    h = gs_fnv1a64(h, iv, sizeof iv);
    return gs_fnv1a64(h, fv, sizeof fv);
}

static void cache_file_name(char *out, size_t n, const char *dir, uint64_t key)
{
    snprintf(out, n, "%s/%016llx.mel", dir, (unsigned long long)key);
}

static int read_cache(const char *file, uint64_t key, int n_mels, gs_spec *spec)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return 0;
    char magic[8];
    uint64_t k;
    int32_t dims[2];
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, CACHE_MAGIC, 8) && fread(&k, sizeof k, 1, f) == 1 &&
        k == key && fread(dims, sizeof dims, 1, f) == 1 && dims[0] == n_mels && dims[1] > 0 &&
        dims[1] < 100000000 / n_mels;
    if (ok) {
        spec->frames = dims[1];
        spec->data = malloc((size_t)dims[1] * n_mels * sizeof(float));
        spec->rms = malloc((size_t)dims[1] * sizeof(float));
        ok = spec->data && spec->rms &&
            fread(spec->data, sizeof(float), (size_t)dims[1] * n_mels, f) == (size_t)dims[1] * n_mels &&
            fread(spec->rms, sizeof(float), (size_t)dims[1], f) == (size_t)dims[1];
        if (!ok)
            gs_spec_free(spec);
    }
    fclose(f);
    return ok;
}

/* Written to a temporary name then renamed, so an interrupted run never
 * leaves a truncated entry that a later run would trust. */
static gs_status write_cache(const char *file, uint64_t key, int n_mels, const gs_spec *spec, gs_error *err)
{
    gs_outfile *out = gs_outfile_open(file, 0, err);
    FILE *f = out ? gs_outfile_stream(out) : NULL;
    if (!f) {
        gs_outfile_discard(out);
        return err ? err->code : GS_ERR_IO;
    }
    int32_t dims[2] = {n_mels, spec->frames};
    int ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&key, sizeof key, 1, f) == 1 &&
        fwrite(dims, sizeof dims, 1, f) == 1 &&
        fwrite(spec->data, sizeof(float), (size_t)spec->frames * n_mels, f) == (size_t)spec->frames * n_mels &&
        fwrite(spec->rms, sizeof(float), (size_t)spec->frames, f) == (size_t)spec->frames;
    if (!ok) {
        gs_outfile_discard(out);
        return gs_error_set(err, GS_ERR_IO, "cannot write cache %s: %s", file, strerror(errno));
    }
    return gs_outfile_commit(out, err);
}

/* write_cache for a cache that other runs may share (two designs trained at
 * once on one cache): they compute the same entries, and when another run
 * stored this one first, its entry (same key, so the same content) serves.
 * Any other failure stays the caller's error. */
static gs_status store_cache(const char *file, uint64_t key, int n_mels, const gs_spec *spec, gs_error *err)
{
    gs_error mine;
    gs_error_clear(&mine);
    gs_status st = write_cache(file, key, n_mels, spec, &mine);
    if (st == GS_OK)
        return GS_OK;
    gs_spec theirs = {0};
    if (read_cache(file, key, n_mels, &theirs)) {
        gs_spec_free(&theirs);
        return GS_OK;
    }
    if (err)
        *err = mine;
    return st;
}

/* Opens dir/name for replacing (genrescope/outfile.h): a stream, or NULL. */
static FILE *open_output(const char *dir, const char *name, gs_outfile **out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *out = gs_outfile_open(path, 0, NULL);
    FILE *f = *out ? gs_outfile_stream(*out) : NULL;
    if (!f) {
        gs_outfile_discard(*out);
        *out = NULL;
    }
    return f;
}

/* Commits out when ok, else discards it; returns whether it was saved. */
static int close_output(gs_outfile *out, int ok)
{
    if (!out)
        return 0;
    if (!ok) {
        gs_outfile_discard(out);
        return 0;
    }
    return gs_outfile_commit(out, NULL) == GS_OK;
}

/* Decodes path at the model rate. The clip is not padded to a patch: short
 * clips are filled by the patch plan (gs_patch_from_frames repeats their
 * frames), as the classifier fills them. Only audio shorter than one FFT
 * frame is completed with zeros to one frame, as gs_classifier_finish and
 * gs_classifier_classify_window do, so every clip has at least one frame. */
static gs_status decode_clip(const char *path, const gs_frontend_params *p, float **out, size_t *out_n, gs_error *err)
{
    float *samples = NULL;
    size_t n = 0;
    gs_status st = gs_audio_decode_file(path, p->sample_rate, &samples, &n, NULL, err);
    if (st != GS_OK)
        return st;
    size_t min_samples = (size_t)p->n_fft;
    if (n < min_samples) {
        float *s = realloc(samples, min_samples * sizeof *s);
        if (!s) {
            free(samples);
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        }
        memset(s + n, 0, (min_samples - n) * sizeof *s);
        samples = s;
        n = min_samples;
    }
    *out = samples;
    *out_n = n;
    return GS_OK;
}

static gs_status spec_from_samples(const float *samples, size_t n, const gs_frontend_params *p, gs_mel *mel,
                                   gs_spec *spec, gs_error *err)
{
    size_t frames = gs_mel_num_frames(mel, n);
    if (frames == 0 || frames > (size_t)INT_MAX / (size_t)p->n_mels)
        return gs_error_set(err, GS_ERR_INVALID, "%zu samples give %zu frames", n, frames);
    spec->data = malloc(frames * p->n_mels * sizeof(float));
    spec->rms = malloc(frames * sizeof(float));
    if (!spec->data || !spec->rms) {
        gs_spec_free(spec);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    /* The per-frame RMS is the front-end's, the value the classifier's
     * silence rule reads. */
    gs_status st = gs_mel_compute_with_rms(mel, samples, n, spec->data, spec->rms, err);
    if (st != GS_OK) {
        gs_spec_free(spec);
        return st;
    }
    spec->frames = (int)frames;
    return GS_OK;
}

void gs_spec_free(gs_spec *spec)
{
    free(spec->data);
    free(spec->rms);
    free(spec->crops);
    memset(spec, 0, sizeof *spec);
}

gs_status gs_spec_index_crops(gs_spec *spec, const gs_frontend_params *p, gs_error *err)
{
    free(spec->crops);
    spec->crops = NULL;
    spec->num_crops = 0;
    long long starts = gs_patch_crop_starts(p, spec->frames);
    if (starts <= 0)
        return GS_OK;
    spec->crops = malloc((size_t)starts * sizeof *spec->crops);
    if (!spec->crops)
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    for (long long s = 0; s < starts; s++)
        if (!gs_patch_is_silent(spec->rms + s, spec->frames - s, p->patch_frames))
            spec->crops[spec->num_crops++] = (int)s;
    return GS_OK;
}

static gs_status compute_spec(const char *path, const gs_frontend_params *p, gs_mel *mel, gs_spec *spec, gs_error *err)
{
    float *samples = NULL;
    size_t n = 0;
    gs_status st = decode_clip(path, p, &samples, &n, err);
    if (st != GS_OK)
        return st;
    st = spec_from_samples(samples, n, p, mel, spec, err);
    free(samples);
    return st;
}

gs_status gs_spec_set_load(gs_spec_set *out, gs_dataset *ds, const gs_frontend_params *p, const char *cache_dir,
                           FILE *warn, gs_error *err)
{
    memset(out, 0, sizeof *out);
    out->n_mels = p->n_mels;
    if (cache_dir && mkdir(cache_dir, 0777) != 0 && errno != EEXIST)
        return gs_error_set(err, GS_ERR_IO, "cannot create cache folder %s: %s", cache_dir, strerror(errno));
    gs_mel *mel = gs_mel_new(p, NULL, err);
    if (!mel)
        return err ? err->code : GS_ERR_INVALID;
    out->specs = calloc((size_t)ds->num_items + 1, sizeof *out->specs);
    if (!out->specs) {
        gs_mel_free(mel);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    gs_status st = GS_OK;
    int kept = 0;
    for (int i = 0; i < ds->num_items && st == GS_OK; i++) {
        gs_item it = ds->items[i];
        gs_spec spec = {0};
        struct stat sb;
        char file[4200] = "";
        uint64_t key = 0;
        int have = 0;
        if (stat(it.path, &sb) == 0 && cache_dir) {
            char real[4096];
            key = cache_key(realpath(it.path, real) ? real : it.path, &sb, p);
            cache_file_name(file, sizeof file, cache_dir, key);
            have = read_cache(file, key, p->n_mels, &spec);
        }
        if (have) {
            out->cached++;
        } else {
            gs_error e;
            gs_error_clear(&e);
            if (compute_spec(it.path, p, mel, &spec, &e) != GS_OK) {
                if (warn)
                    fprintf(warn, "warning: skipping %s: %s\n", it.path, e.message);
                out->failed++;
                free(it.path);
                free(it.stem);
                continue;
            }
            out->computed++;
            if (file[0])
                st = store_cache(file, key, p->n_mels, &spec, err);
        }
        if (st == GS_OK)
            st = gs_spec_index_crops(&spec, p, err);
        out->specs[kept] = spec;
        ds->items[kept++] = it;
    }
    gs_mel_free(mel);
    ds->num_items = kept;
    out->count = kept;
    if (st == GS_OK && kept == 0)
        st = gs_error_set(err, GS_ERR_INVALID, "none of the %d audio files could be decoded", out->failed);
    if (st != GS_OK)
        gs_spec_set_free(out);
    return st;
}

void gs_spec_set_free(gs_spec_set *set)
{
    if (!set)
        return;
    for (int i = 0; i < set->count; i++)
        gs_spec_free(&set->specs[i]);
    free(set->specs);
    if (set->variants)
        for (int i = 0; i < set->count * set->num_variants; i++)
            gs_spec_free(&set->variants[i]);
    free(set->variants);
    free(set->variant_gain_db);
    memset(set, 0, sizeof *set);
}

void gs_clip_variant_default(gs_clip_variant_config *cfg)
{
    cfg->count = 0;
    cfg->min_db = 3.0f;
    cfg->max_db = 12.0f;
    cfg->seed = 1;
}

/* Derived from the stem (not the path) so the same clip gets the same gains
 * wherever the data folder lives. */
float gs_clip_variant_gain_db(const gs_clip_variant_config *cfg, const char *stem, int v)
{
    uint64_t h = gs_fnv1a64(GS_SPEC_HASH_INIT, stem, strlen(stem));
    uint64_t mix[2] = {cfg->seed, (uint64_t)v};
    h = gs_fnv1a64(h, mix, sizeof mix);
    gs_rng r;
    gs_rng_seed(&r, h);
    return cfg->min_db + (float)gs_rng_uniform(&r) * (cfg->max_db - cfg->min_db);
}

void gs_clip_variant_apply(const float *in, float *out, size_t n, float gain_db)
{
    float g = powf(10.0f, gain_db / 20.0f);
    for (size_t i = 0; i < n; i++) {
        float v = in[i] * g;
        out[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
}

/* The original's key plus what makes the variant: a tag, the gain (bits of
 * the float, so any change of range or seed that moves it is a new entry)
 * and the variant index. */
static uint64_t variant_key(uint64_t base, float gain_db, int v)
{
    static const char tag[] = "clip-variant hard-clip [-1,1]";
    uint64_t h = gs_fnv1a64(base, tag, sizeof tag - 1);
    h = gs_fnv1a64(h, &gain_db, sizeof gain_db);
    int32_t iv = v;
    return gs_fnv1a64(h, &iv, sizeof iv);
}

gs_status gs_spec_set_add_clip_variants(gs_spec_set *set, const gs_dataset *ds, const gs_frontend_params *p,
                                        const gs_clip_variant_config *cfg, const char *cache_dir, gs_error *err)
{
    int K = cfg->count;
    if (K <= 0)
        return GS_OK;
    if (set->count != ds->num_items || set->variants)
        return gs_error_set(err, GS_ERR_INVALID, "clip variants: spectrogram set and dataset differ");
    if (!(cfg->min_db <= cfg->max_db))
        return gs_error_set(err, GS_ERR_INVALID, "clip variants: gain range %g..%g dB is empty", (double)cfg->min_db,
                            (double)cfg->max_db);
    gs_mel *mel = gs_mel_new(p, NULL, err);
    if (!mel)
        return err ? err->code : GS_ERR_INVALID;
    set->variants = calloc((size_t)set->count * K, sizeof *set->variants);
    set->variant_gain_db = calloc((size_t)set->count * K, sizeof *set->variant_gain_db);
    if (!set->variants || !set->variant_gain_db) {
        gs_mel_free(mel);
        free(set->variants);
        free(set->variant_gain_db);
        set->variants = NULL;
        set->variant_gain_db = NULL;
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    set->num_variants = K;
    gs_status st = GS_OK;
    float *buf = NULL;
    for (int i = 0; i < set->count && st == GS_OK; i++) {
        const gs_item *it = &ds->items[i];
        float *samples = NULL;
        size_t n = 0;
        uint64_t base = 0;
        struct stat sb;
        int keyed = cache_dir && stat(it->path, &sb) == 0;
        if (keyed) {
            char real[4096];
            base = cache_key(realpath(it->path, real) ? real : it->path, &sb, p);
        }
        for (int v = 0; v < K && st == GS_OK; v++) {
            gs_spec *spec = &set->variants[(size_t)i * K + v];
            float gain = gs_clip_variant_gain_db(cfg, it->stem, v);
            set->variant_gain_db[(size_t)i * K + v] = gain;
            char file[4200] = "";
            uint64_t key = 0;
            if (keyed) {
                key = variant_key(base, gain, v);
                cache_file_name(file, sizeof file, cache_dir, key);
                if (read_cache(file, key, p->n_mels, spec)) {
                    set->variants_cached++;
                    st = gs_spec_index_crops(spec, p, err);
                    continue;
                }
            }
            if (!samples) {
                st = decode_clip(it->path, p, &samples, &n, err);
                float *b = st == GS_OK ? realloc(buf, n * sizeof *buf) : NULL;
                if (st == GS_OK && !b)
                    st = gs_error_set(err, GS_ERR_NOMEM, "out of memory");
                if (st != GS_OK) {
                    gs_error_prefix(err, it->path);
                    break;
                }
                buf = b;
            }
            gs_clip_variant_apply(samples, buf, n, gain);
            st = spec_from_samples(buf, n, p, mel, spec, err);
            if (st == GS_OK)
                set->variants_computed++;
            if (st == GS_OK && file[0])
                st = store_cache(file, key, p->n_mels, spec, err);
            if (st == GS_OK)
                st = gs_spec_index_crops(spec, p, err);
        }
        free(samples);
    }
    free(buf);
    gs_mel_free(mel);
    return st;
}

const gs_spec *gs_spec_set_train_spec(const gs_spec_set *set, int item, gs_rng *rng)
{
    if (set->num_variants <= 0)
        return &set->specs[item];
    int v = gs_rng_int(rng, set->num_variants + 1);
    return v == 0 ? &set->specs[item] : &set->variants[(size_t)item * set->num_variants + v - 1];
}

void gs_spec_patch(const gs_spec *spec, int n_mels, int start, int patch, gs_patch_normalize normalize, float *out)
{
    /* The core's definition of a patch (repeating the frames of a clip
     * shorter than one), so training sees exactly what inference does. */
    gs_patch_from_frames(spec->data + (size_t)start * n_mels, spec->frames - start, n_mels, patch, normalize, out);
}

/* plan.json: what the reference needs to cut the same patches and apply the
 * same augmentation (the front-end parameters and the silence threshold). */
static int write_plan_json(const char *dir, const gs_frontend_params *p)
{
    gs_outfile *out;
    FILE *f = open_output(dir, "plan.json", &out);
    if (!f)
        return 0;
    int ok = fprintf(f,
                     "{\"sample_rate\": %d, \"n_fft\": %d, \"hop_length\": %d, \"n_mels\": %d, \"fmin\": %.9g, "
                     "\"fmax\": %.9g, \"log_offset\": %.9g, \"patch_frames\": %d, \"patch_hop_frames\": %d, "
                     "\"patch_normalize\": \"%s\", \"silence_rms\": %.9g}\n",
                     p->sample_rate, p->n_fft, p->hop_length, p->n_mels, (double)p->fmin, (double)p->fmax,
                     (double)p->log_offset, p->patch_frames, p->patch_hop_frames,
                     p->patch_normalize == GS_PATCH_NORMALIZE_MEAN ? "mean" : "none", (double)GS_SILENCE_RMS) > 0;
    return close_output(out, ok);
}

/* filterbank.f32: the front-end's mel filterbank, for the low-pass
 * augmentation's per-band fractions. */
static int write_filterbank(const char *dir, const gs_frontend_params *p)
{
    size_t n = (size_t)p->n_mels * (size_t)(p->n_fft / 2 + 1);
    float *fb = malloc(n * sizeof *fb);
    if (!fb || gs_mel_compute_filterbank(p, fb, NULL) != GS_OK) {
        free(fb);
        return 0;
    }
    gs_outfile *out;
    FILE *f = open_output(dir, "filterbank.f32", &out);
    int ok = f && fwrite(fb, sizeof *fb, n, f) == n;
    free(fb);
    return close_output(out, ok);
}

gs_status gs_spec_set_export(const gs_spec_set *set, const gs_dataset *ds, const int *fold, const gs_frontend_params *p,
                             const char *dir, gs_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return gs_error_set(err, GS_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    gs_outfile *obin, *orms, *oidx;
    FILE *bin = open_output(dir, "specs.f32", &obin), *rms = open_output(dir, "rms.f32", &orms),
         *idx = open_output(dir, "index.csv", &oidx);
    if (!bin || !rms || !idx) {
        close_output(obin, 0);
        close_output(orms, 0);
        close_output(oidx, 0);
        return gs_error_set(err, GS_ERR_IO,
                            "cannot write export in %s (not a folder, or a file in it is not a "
                            "regular file?)",
                            dir);
    }
    fprintf(idx, "stem,label,label_name,offset_floats,frames,fold,rms_offset,usable_crops,patches\n");
    size_t offset = 0, rms_offset = 0;
    int ok = 1;
    for (int i = 0; i < set->count && ok; i++) {
        const gs_spec *s = &set->specs[i];
        size_t n = (size_t)s->frames * set->n_mels;
        ok = fwrite(s->data, sizeof(float), n, bin) == n &&
            fwrite(s->rms, sizeof(float), (size_t)s->frames, rms) == (size_t)s->frames;
        fprintf(idx, "%s,%d,%s,%zu,%d,%d,%zu,%d,", ds->items[i].stem, ds->items[i].label,
                ds->labels[ds->items[i].label], offset, s->frames, fold ? fold[i] : -1, rms_offset, s->num_crops);
        /* The classifier's non-silent patches, so the reference can check
         * that its own plan cuts the same ones. */
        long long count = gs_patch_plan_count(p, s->frames), written = 0;
        for (long long k = 0; k < count; k++) {
            long long start = gs_patch_plan_start(p, s->frames, k);
            if (!gs_patch_is_silent(s->rms + start, s->frames - start, p->patch_frames))
                fprintf(idx, "%s%lld", written++ ? " " : "", start);
        }
        fputc('\n', idx);
        offset += n;
        rms_offset += (size_t)s->frames;
    }
    ok = close_output(obin, ok) && ok;
    ok = close_output(orms, ok) && ok;
    ok = close_output(oidx, ok) && ok;
    ok = ok && write_plan_json(dir, p) && write_filterbank(dir, p);
    return ok ? GS_OK : gs_error_set(err, GS_ERR_IO, "cannot write export in %s", dir);
}
