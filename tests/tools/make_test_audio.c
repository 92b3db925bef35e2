/* Writes synthetic "music" (tones changing every second, noise bursts on a
 * beat) of any length, rate and channel count, streaming, so tests can make
 * hours of audio without holding it in memory.
 * usage: gs_make_test_audio OUT SECONDS RATE CHANNELS  (format from the
 * extension: .wav .flac .ogg .aiff) */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/rng.h"

static int format_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return 0;
    if (!strcmp(dot, ".wav"))
        return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    if (!strcmp(dot, ".flac"))
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    if (!strcmp(dot, ".ogg"))
        return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    if (!strcmp(dot, ".aiff"))
        return SF_FORMAT_AIFF | SF_FORMAT_PCM_16;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s OUT SECONDS RATE CHANNELS\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[2]);
    int rate = atoi(argv[3]), channels = atoi(argv[4]);
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format_for(argv[1])};
    if (seconds <= 0 || rate <= 0 || channels <= 0 || channels > 64 || !sf_format_check(&info)) {
        fprintf(stderr, "%s: unsupported arguments or extension\n", argv[0]);
        return 2;
    }
    SNDFILE *f = sf_open(argv[1], SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], sf_strerror(NULL));
        return 1;
    }
    enum { BLOCK = 4096 };
    float *block = malloc(sizeof(float) * BLOCK * (size_t)channels);
    long long total = (long long)(seconds * rate), done = 0;
    uint32_t noise = 12345;
    double phase = 0;
    while (done < total) {
        int n = total - done < BLOCK ? (int)(total - done) : BLOCK;
        for (int i = 0; i < n; i++) {
            long long s = done + i;
            double freq = 110.0 * (1 + (s / rate) % 7);
            phase += 2 * M_PI * freq / rate;
            gs_test_lcg32_ansi(&noise);
            double beat = (s % (rate / 2)) < rate / 40 ? ((noise >> 16) / 32768.0 - 1.0) * 0.3 : 0.0;
            for (int c = 0; c < channels; c++)
                block[(size_t)i * channels + c] = (float)(0.3 * sin(phase + c) + beat);
        }
        if (sf_writef_float(f, block, n) != n) {
            fprintf(stderr, "%s: write failed: %s\n", argv[0], sf_strerror(f));
            sf_close(f);
            free(block);
            return 1;
        }
        done += n;
    }
    free(block);
    return sf_close(f) == 0 ? 0 : 1;
}
