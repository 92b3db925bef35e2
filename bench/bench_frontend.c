/* Front-end cost against decoding alone, side by side in one run:
 *   decode_ms    libsndfile decoding a 30 s 44.1 kHz stereo MP3 to floats
 *   gs_audio_decode_downmix_ms  gs_audio at the file's rate: the decoder the
 *                front-end really uses, without resampling
 *   frontend_ms  gs_audio (decode + downmix + soxr to 22.05 kHz) + log-mel
 * Prints medians over interleaved repetitions and the ratios; the target is
 * front-end overhead <= 30% over decoding (ratio <= 1.30).
 * usage: bench_frontend [REPETITIONS] [FILE]  (default: a generated MP3) */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_tmp.h"
#include "genrescope.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_test_mp3(const char *path)
{
    const int rate = 44100, seconds = 30;
    SF_INFO info = {.samplerate = rate, .channels = 2, .format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III};
    if (!sf_format_check(&info)) {
        fprintf(stderr, "bench_frontend: this libsndfile cannot write MP3\n");
        return -1;
    }
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "bench_frontend: %s\n", sf_strerror(NULL));
        return -1;
    }
    float block[2 * 4410];
    srand(3);
    for (int b = 0; b < seconds * 10; b++) {
        for (int i = 0; i < 4410; i++) {
            double t = (b * 4410 + i) / (double)rate;
            double beat = fmod(t, 0.5) < 0.05 ? ((double)rand() / RAND_MAX - 0.5) : 0.0;
            block[2 * i] = (float)(0.3 * sin(2 * M_PI * 220 * t) + 0.2 * sin(2 * M_PI * 1760 * t) + beat);
            block[2 * i + 1] = (float)(0.3 * sin(2 * M_PI * 330 * t) + beat);
        }
        sf_writef_float(f, block, 4410);
    }
    sf_close(f);
    return 0;
}

static double decode_only(const char *path)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return -1;
    static float buf[4096 * 8];
    double t0 = now_ms();
    sf_count_t got;
    double sink = 0;
    while ((got = sf_readf_float(f, buf, 4096)) > 0)
        sink += buf[0];
    double t = now_ms() - t0;
    sf_close(f);
    return sink == 12345.678 ? -1 : t;
}

/* gs_audio alone (decode + downmix, + resampling when rate differs). */
static double audio_only(const char *path, int rate)
{
    gs_error err;
    static float buf[4096];
    double t0 = now_ms();
    gs_audio *audio = gs_audio_open(path, rate, &err);
    if (!audio)
        return -1;
    while (gs_audio_read(audio, buf, 4096, &err) > 0)
        ;
    gs_audio_close(audio);
    return now_ms() - t0;
}

static double frontend(const char *path, gs_mel *mel, const gs_frontend_params *fp, long *frames_out)
{
    gs_error err;
    static float buf[4096], frame[512];
    double t0 = now_ms();
    gs_audio *audio = gs_audio_open(path, fp->sample_rate, &err);
    if (!audio) {
        fprintf(stderr, "bench_frontend: %s\n", err.message);
        return -1;
    }
    gs_mel_reset(mel);
    long frames = 0, got;
    while ((got = gs_audio_read(audio, buf, 4096, &err)) > 0) {
        gs_mel_push(mel, buf, (size_t)got, &err);
        while (gs_mel_pull(mel, frame, NULL))
            frames++;
    }
    gs_audio_close(audio);
    *frames_out = frames;
    return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 15;
    if (reps < 1 || reps > 1000)
        reps = 15;
    /* The generated input lives in a scratch folder of our own. */
    char scratch[1024] = "", generated[1100];
    const char *path = argc > 2 ? argv[2] : NULL;
    if (!path) {
        if (bench_make_temp_dir(NULL, "bench_frontend", scratch, sizeof scratch) != 0)
            return 1;
        snprintf(generated, sizeof generated, "%s/input.mp3", scratch);
        path = generated;
        if (write_test_mp3(path) != 0) {
            bench_remove_temp_dir(scratch);
            return 1;
        }
    }
    gs_frontend_params fp;
    gs_frontend_params_default(&fp);
    gs_error err;
    gs_mel *mel = gs_mel_new(&fp, NULL, &err);
    if (!mel) {
        fprintf(stderr, "bench_frontend: %s\n", err.message);
        return 1;
    }
    double *dec = calloc((size_t)reps, sizeof(double)), *fe = calloc((size_t)reps, sizeof(double));
    double *native = calloc((size_t)reps, sizeof(double)), *resampled = calloc((size_t)reps, sizeof(double));
    long frames = 0;
    decode_only(path); /* warm the page cache and the decoder */
    frontend(path, mel, &fp, &frames);
    for (int r = 0; r < reps; r++) {
        dec[r] = decode_only(path);
        fe[r] = frontend(path, mel, &fp, &frames);
        native[r] = audio_only(path, 44100);
        resampled[r] = audio_only(path, fp.sample_rate);
        if (dec[r] < 0 || fe[r] < 0 || native[r] < 0 || resampled[r] < 0)
            return 1;
    }
    qsort(dec, (size_t)reps, sizeof(double), cmp_double);
    qsort(fe, (size_t)reps, sizeof(double), cmp_double);
    qsort(native, (size_t)reps, sizeof(double), cmp_double);
    qsort(resampled, (size_t)reps, sizeof(double), cmp_double);
    double d = dec[reps / 2], f = fe[reps / 2], nat = native[reps / 2], res = resampled[reps / 2];
    printf("input: %s (30 s, 44.1 kHz stereo MP3)\n", path);
    printf("mel_frames: %ld\n", frames);
    printf("decode_ms: %.2f\n", d);
    printf("gs_audio_decode_downmix_ms: %.2f (the decoder the front-end uses, no resampling)\n", nat);
    printf("gs_audio_resampled_ms: %.2f\n", res);
    printf("frontend_ms: %.2f\n", f);
    /* The front-end's own decoder (FFmpeg for MP3, since libsndfile's mpg123
     * prints to stderr) is the honest baseline; libsndfile is shown too. */
    printf("frontend_over_own_decode: %.3f\n", f / nat);
    printf("overhead_percent_vs_own_decode: %.1f (target <= 30)\n", 100.0 * (f / nat - 1.0));
    printf("frontend_over_libsndfile_decode: %.3f\n", f / d);
    free(dec);
    free(fe);
    free(native);
    free(resampled);
    gs_mel_free(mel);
    if (scratch[0])
        bench_remove_temp_dir(scratch);
    return 0;
}
