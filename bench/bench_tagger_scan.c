/* Scan throughput against decode-only throughput of the same files, both
 * with every core, measured side by side in one run. Files are synthesised
 * (FLAC, 44.1 kHz stereo, so decoding and resampling are real work).
 * Then, on one thread, where a file's time goes: decode (+ resample),
 * log-mel front-end, inference (the classifier minus its front-end), the
 * index writes and the tag write, per file. A second scan that also
 * writes tags (genre + confidence, each file copied, fsync'ed, renamed)
 * runs on a copy of the files, so tagging's disk time is in its ratio.
 * With --music DIR the files are made from the audio files under DIR (e.g.
 * ../shared/gtzan), looped to SECONDS, instead of tones and clicks: the
 * shipped model calls the synthetic tracks not music, so without music the
 * tag pass writes no tag and measures nothing (it says so).
 * usage: bench_tagger_scan [--model FILE] [--music DIR] [N_FILES] [SECONDS] [DIR] */
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_tmp.h"
#include "analyser.h"
#include "genrescope.h"
#include "index_db.h"
#include "scan.h"
#include "tag_writer.h"
#include "walk.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int synth(const char *path, int seconds, int seed)
{
    SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f)
        return -1;
    float buf[2 * 4410];
    uint32_t s = (uint32_t)seed * 2654435761u + 1;
    double f0 = 110.0 * (1 + seed % 7);
    for (int block = 0; block < seconds * 10; block++) {
        for (int i = 0; i < 4410; i++) {
            double t = (block * 4410 + i) / 44100.0;
            s = s * 1664525u + 1013904223u;
            float noise = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.1f;
            float beat = fmod(t, 0.5) < 0.05 ? 0.5f : 0.0f;
            buf[2 * i] = (float)(0.3 * sin(2 * M_PI * f0 * t)) + noise + beat * noise * 4;
            buf[2 * i + 1] = (float)(0.3 * sin(2 * M_PI * f0 * 1.5 * t)) + noise;
        }
        sf_writef_float(f, buf, 4410);
    }
    sf_close(f);
    return 0;
}

/* Writes the audio of src (decoded at 44.1 kHz, looped to seconds) as the
 * same 44.1 kHz stereo FLAC synth() writes. */
static int from_music(const char *src, const char *path, int seconds)
{
    float *x = NULL;
    size_t n = 0;
    if (gs_audio_decode_file(src, 44100, &x, &n, NULL, NULL) != GS_OK || n == 0) {
        free(x);
        return -1;
    }
    SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        free(x);
        return -1;
    }
    float buf[2 * 4410];
    size_t at = 0;
    for (int block = 0; block < seconds * 10; block++) {
        for (int i = 0; i < 4410; i++, at = (at + 1) % n)
            buf[2 * i] = buf[2 * i + 1] = x[at];
        sf_writef_float(f, buf, 4410);
    }
    sf_close(f);
    free(x);
    return 0;
}

typedef struct decode_job {
    const gs_walk_list *files;
    atomic_size_t next;
    int rate;
    atomic_int failed;
} decode_job;

static void *decode_worker(void *p)
{
    decode_job *j = p;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->files->count)
            return NULL;
        float *x;
        size_t n;
        if (gs_audio_decode_file(j->files->entries[i].path, j->rate, &x, &n, NULL, NULL) != GS_OK)
            atomic_fetch_add(&j->failed, 1);
        else
            free(x);
    }
}

/* Single-thread split of one file's cost, averaged over the files. */
static void profile(const char *model_path, const gs_walk_list *files, const char *dir)
{
    gs_error err;
    gs_model *m = model_path ? gs_model_load(model_path, &err) : gs_model_load_default(&err);
    if (!m)
        return;
    const gs_frontend_params *fp = gs_model_frontend(m);
    gs_net *net = gs_net_from_model(m, &err);
    gs_classifier *cls = net ? gs_classifier_new(m, net, &err) : NULL;
    gs_mel *mel = gs_mel_new(fp, NULL, &err);
    size_t nfiles = files->count;
    gs_track_result *results = calloc(nfiles, sizeof *results);
    double t_dec = 0, t_front = 0, t_cls = 0, t_db = 0, t_tag = 0;
    float *frames = NULL;
    size_t frames_cap = 0;
    for (size_t f = 0; cls && mel && f < nfiles; f++) {
        float *x;
        size_t n;
        double t0 = now();
        if (gs_audio_decode_file(files->entries[f].path, fp->sample_rate, &x, &n, NULL, &err) != GS_OK)
            continue;
        double t1 = now();
        size_t nf = gs_mel_num_frames(mel, n) * (size_t)gs_mel_num_bands(mel);
        if (nf > frames_cap) {
            free(frames);
            frames = malloc(nf * sizeof *frames);
            frames_cap = frames ? nf : 0;
        }
        if (frames)
            gs_mel_compute(mel, x, n, frames, &err);
        double t2 = now();
        gs_classifier_begin(cls);
        for (size_t i = 0; i < n; i += 65536)
            gs_classifier_push(cls, x + i, n - i < 65536 ? n - i : 65536, &err);
        gs_classifier_finish(cls, &results[f], &err);
        double t3 = now();
        t_dec += t1 - t0;
        t_front += t2 - t1;
        t_cls += t3 - t2;
        free(x);
    }
    free(frames);

    /* The writer's share: the same results into a fresh index, committed in
     * the scan's batches of 50. */
    char path[1200];
    snprintf(path, sizeof path, "%s/profile.sqlite", dir);
    gs_index *ix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
    const char *labels[GS_MAX_LABELS];
    for (int i = 0; i < gs_model_num_labels(m) && i < GS_MAX_LABELS; i++)
        labels[i] = gs_model_label(m, i);
    double t0 = now();
    for (size_t f = 0; ix && f < nfiles; f++) {
        if (f % 50 == 0)
            gs_index_begin(ix, &err);
        gs_index_record rec = {.path = files->entries[f].path,
                               .size = files->entries[f].size,
                               .mtime_ns = files->entries[f].mtime_ns,
                               .format = "flac",
                               .model_id = gs_model_id(m),
                               .analysed_at = 1,
                               .result = &results[f],
                               .labels = labels,
                               .tag_status = "written"};
        if (results[f].num_labels)
            gs_index_put(ix, &rec, &err);
        if (f % 50 == 49 || f + 1 == nfiles)
            gs_index_commit(ix, &err);
    }
    t_db = now() - t0;
    gs_index_close(ix);

    /* Tag writes (genre + confidence field), on the bench's own files. */
    const char *genre = "Jazz";
    gs_tag_request req = {.genres = &genre, .num_genres = 1, .confidence = 0.5f};
    t0 = now();
    for (size_t f = 0; f < nfiles; f++)
        gs_tag_write(files->entries[f].path, &req, NULL, 0, NULL, 0);
    t_tag = now() - t0;

    double total = t_dec + t_front + (t_cls - t_front) + t_db + t_tag, nfd = (double)nfiles;
    printf("per_file_decode_ms: %.2f\n", t_dec / nfd * 1e3);
    printf("per_file_frontend_ms: %.2f\n", t_front / nfd * 1e3);
    printf("per_file_inference_ms: %.2f\n", (t_cls - t_front) / nfd * 1e3);
    printf("per_file_index_ms: %.2f\n", t_db / nfd * 1e3);
    printf("per_file_tag_ms: %.2f\n", t_tag / nfd * 1e3);
    printf("per_file_decode_share: %.3f\n", t_dec / total);
    printf("per_file_frontend_share: %.3f\n", t_front / total);
    printf("per_file_inference_share: %.3f\n", (t_cls - t_front) / total);
    /* What a perfect pipeline would reach: scan = decode + the rest, so the
     * ratio cannot exceed decode / (decode + front-end + inference + index). */
    printf("ratio_bound_from_split: %.3f\n", t_dec / (t_dec + t_cls + t_db));
    for (size_t f = 0; f < nfiles; f++)
        gs_track_result_free(&results[f]);
    free(results);
    gs_mel_free(mel);
    gs_classifier_free(cls);
    gs_net_free(net);
    gs_model_free(m);
}

int main(int argc, char **argv)
{
    const char *model = NULL, *music = NULL;
    int a = 1;
    while (argc > a + 1 && (!strcmp(argv[a], "--model") || !strcmp(argv[a], "--music"))) {
        if (!strcmp(argv[a], "--model"))
            model = argv[a + 1];
        else
            music = argv[a + 1];
        a += 2;
    }
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int nfiles = argc > a ? atoi(argv[a]) : 8 * cores;
    int seconds = argc > a + 1 ? atoi(argv[a + 1]) : 30;
    char dir[1024], path[1200], cmd[2200];
    if (bench_make_temp_dir(argc > a + 2 ? argv[a + 2] : NULL, "bench-scan", dir, sizeof dir) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/lib", dir);
    if (mkdir(path, 0755) != 0)
        return 1;
    gs_error err;
    gs_walk_list sources = {0};
    const char *music_roots[1] = {music};
    if (music && (gs_walk_library(music_roots, 1, 0, NULL, NULL, &sources, &err) != GS_OK || sources.count == 0)) {
        fprintf(stderr, "bench_tagger_scan: --music %s: no audio files\n", music);
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/lib/track%03d.flac", dir, i);
        /* Every k-th file of the folder, so all its genres take part. */
        int rc = music ? from_music(sources.entries[(size_t)i * sources.count / (size_t)nfiles].path, path, seconds)
                       : synth(path, seconds, i);
        if (rc != 0) {
            fprintf(stderr, "bench_tagger_scan: cannot make %s\n", path);
            return 1;
        }
    }
    gs_walk_list_free(&sources);
    gs_analyser *an = gs_analyser_open(model, cores, &err);
    if (!an) {
        fprintf(stderr, "bench_tagger_scan: %s\n", err.message);
        return 1;
    }
    gs_model *m = model ? gs_model_load(model, &err) : gs_model_load_default(&err);
    int rate = m ? gs_model_frontend(m)->sample_rate : 22050;
    gs_model_free(m);

    snprintf(path, sizeof path, "%s/lib", dir);
    const char *roots[1] = {path};
    gs_walk_list files = {0};
    gs_walk_library(roots, 1, 0, NULL, NULL, &files, &err);

    /* Warm the page cache so both runs read from memory. */
    decode_job warm = {.files = &files, .rate = rate};
    decode_worker(&warm);

    decode_job job = {.files = &files, .rate = rate};
    pthread_t th[256];
    double t0 = now();
    for (int i = 0; i < cores && i < 256; i++)
        pthread_create(&th[i], NULL, decode_worker, &job);
    for (int i = 0; i < cores && i < 256; i++)
        pthread_join(th[i], NULL);
    double t_decode = now() - t0;

    snprintf(path, sizeof path, "%s/index.sqlite", dir);
    gs_index *ix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
    gs_scan_options o = {.num_workers = cores,
                         .write_tags = 0,
                         .batch_size = 50,
                         .batch_seconds = 2,
                         .report = GS_REPORT_QUIET,
                         .out = stdout,
                         .progress = stderr};
    gs_scan_stats st;
    t0 = now();
    gs_status rc = gs_scan_run(an, ix, &files, &o, &st, &err);
    double t_scan = now() - t0;
    if (rc != GS_OK || st.failed)
        fprintf(stderr, "bench_tagger_scan: scan: %s (%zu failed)\n", err.message, st.failed);

    /* The same scan writing tags, on untagged copies of the files, warmed
     * into the page cache like the originals. */
    snprintf(cmd, sizeof cmd, "cp -r '%s/lib' '%s/libtag'", dir, dir);
    double t_tagscan = -1;
    gs_scan_stats tst = {0};
    gs_walk_list tfiles = {0};
    snprintf(path, sizeof path, "%s/libtag", dir);
    const char *troots[1] = {path};
    if (system(cmd) == 0 && gs_walk_library(troots, 1, 0, NULL, NULL, &tfiles, &err) == GS_OK) {
        decode_job twarm = {.files = &tfiles, .rate = rate};
        decode_worker(&twarm);
        snprintf(path, sizeof path, "%s/index-tags.sqlite", dir);
        gs_index *tix = gs_index_open(path, GS_INDEX_CREATE, 1000, &err);
        gs_scan_options to = o;
        to.write_tags = 1;
        to.min_confidence = 0.0f;
        t0 = now();
        if (tix && gs_scan_run(an, tix, &tfiles, &to, &tst, &err) == GS_OK && !tst.failed)
            t_tagscan = now() - t0;
        else
            fprintf(stderr, "bench_tagger_scan: tagging scan: %s (%zu failed)\n", err.message, tst.failed);
        gs_index_close(tix);
    }

    double decode_fps = files.count / t_decode, scan_fps = files.count / t_scan;
    printf("cores: %d\n", cores);
    printf("files: %zu\n", files.count);
    printf("seconds_per_file: %d\n", seconds);
    printf("decode_only_files_per_s: %.2f\n", decode_fps);
    printf("scan_files_per_s: %.2f\n", scan_fps);
    printf("scan_audio_x_realtime: %.1f\n", scan_fps * seconds);
    printf("scan_vs_decode_ratio: %.3f\n", scan_fps / decode_fps);
    printf("scan_vs_decode_target: 0.8\n");
    if (t_tagscan > 0 && tst.tagged == 0) {
        /* A pass that wrote nothing measured no tag writes: say so rather
         * than print a ratio that looks like one. */
        printf("scan_with_tags: not measured: no tag was written (the model gave %zu of %zu "
               "files no genre: %zu not music, %zu silent; --music DIR makes them from music)\n",
               tst.not_music + tst.silent, tfiles.count, tst.not_music, tst.silent);
    } else if (t_tagscan > 0) {
        printf("scan_with_tags_files_per_s: %.2f\n", tfiles.count / t_tagscan);
        printf("scan_with_tags_tagged: %zu\n", tst.tagged);
        printf("scan_with_tags_vs_decode_ratio: %.3f\n", tfiles.count / t_tagscan / decode_fps);
    }
    gs_walk_list_free(&tfiles);
    gs_index_close(ix);
    profile(model, &files, dir);
    gs_walk_list_free(&files);
    gs_analyser_close(an);
    return bench_remove_temp_dir(dir) == 0 && rc == GS_OK ? 0 : 1;
}
