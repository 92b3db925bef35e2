/* libsndfile backend: WAV, AIFF, FLAC, Ogg Vorbis/Opus and the other formats
 * libsndfile reads natively. MPEG audio goes to FFmpeg instead (see audio.c
 * for why), including MPEG inside WAV, which only shows up once open. */
#include "audio_backend.h"

#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sndfile_backend {
    gs_audio_backend base;
    SNDFILE *sf;
    int channels;
    size_t block_frames;
    float *block; /* block_frames * channels interleaved samples */
    char *path;
} sndfile_backend;

/* sf_open() reports failures through a process-wide errno inside
 * libsndfile; serialising open + sf_strerror(NULL) keeps the message that
 * goes with each failure when several threads open files at once. */
static pthread_mutex_t sf_open_lock = PTHREAD_MUTEX_INITIALIZER;

static long sndfile_read(gs_audio_backend *self, float *out, size_t max_frames, int64_t *nonfinite, gs_error *err)
{
    sndfile_backend *b = (sndfile_backend *)self;
    size_t done = 0;
    while (done < max_frames) {
        size_t want = max_frames - done;
        if (want > b->block_frames)
            want = b->block_frames;
        sf_count_t got = sf_readf_float(b->sf, b->block, (sf_count_t)want);
        if (got > 0) {
            gs_audio_downmix(b->block, (size_t)got, b->channels, out + done, nonfinite);
            done += (size_t)got;
        }
        if (got < (sf_count_t)want) {
            /* A short read is the end or a decode error; frames already
             * decoded go out first, the error surfaces on the next call
             * because libsndfile keeps it on the handle. */
            int code = sf_error(b->sf);
            if (code != SF_ERR_NO_ERROR && done == 0)
                return gs_error_set(err, GS_ERR_FORMAT, "%s: decode error: %s", b->path, sf_strerror(b->sf));
            break;
        }
    }
    return (long)done;
}

static void sndfile_close(gs_audio_backend *self)
{
    sndfile_backend *b = (sndfile_backend *)self;
    if (b->sf)
        sf_close(b->sf);
    free(b->block);
    free(b->path);
    free(b);
}

static void describe_format(SNDFILE *sf, int format, char *out, size_t out_size)
{
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
    int have_major = sf_command(sf, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0;
    int have_sub = sf_command(sf, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0;
    snprintf(out, out_size, "%s: %s", have_major && major.name ? major.name : "unknown",
             have_sub && sub.name ? sub.name : "unknown");
}

gs_audio_backend *gs_audio_sndfile_open(const char *path, gs_audio_info *info, int *unrecognised, gs_error *err)
{
    *unrecognised = 0;
    SF_INFO sfinfo;
    memset(&sfinfo, 0, sizeof sfinfo);

    pthread_mutex_lock(&sf_open_lock);
    SNDFILE *sf = sf_open(path, SFM_READ, &sfinfo);
    int code = sf ? SF_ERR_NO_ERROR : sf_error(NULL);
    if (!sf)
        gs_error_set(err, code == SF_ERR_SYSTEM ? GS_ERR_IO : GS_ERR_FORMAT, "%s: %s", path, sf_strerror(NULL));
    pthread_mutex_unlock(&sf_open_lock);

    if (!sf) {
        /* libsndfile's codes are not a reliable verdict (an unknown WAV codec
         * comes back as "malformed fmt chunk"), so anything but an OS error
         * is worth a second opinion from FFmpeg. */
        *unrecognised = code != SF_ERR_SYSTEM;
        return NULL;
    }
    int sub = sfinfo.format & SF_FORMAT_SUBMASK;
    if (sub == SF_FORMAT_MPEG_LAYER_I || sub == SF_FORMAT_MPEG_LAYER_II || sub == SF_FORMAT_MPEG_LAYER_III) {
        /* MPEG inside WAV: libmpg123 would print, hand it to FFmpeg. */
        sf_close(sf);
        gs_error_set(err, GS_ERR_FORMAT, "%s: MPEG audio left to FFmpeg", path);
        *unrecognised = 1;
        return NULL;
    }
    if (sfinfo.channels < 1 || sfinfo.samplerate < 1 || sfinfo.samplerate > GS_AUDIO_MAX_SOURCE_RATE) {
        gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: unsupported stream (%d channels, %d Hz)", path, sfinfo.channels,
                     sfinfo.samplerate);
        sf_close(sf);
        return NULL;
    }

    sndfile_backend *b = calloc(1, sizeof *b);
    size_t block_frames = gs_audio_block_frames(sfinfo.channels);
    if (b) {
        b->block = malloc(block_frames * (size_t)sfinfo.channels * sizeof *b->block);
        b->path = strdup(path);
    }
    if (!b || !b->block || !b->path) {
        gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
        if (b) {
            free(b->block);
            free(b->path);
            free(b);
        }
        sf_close(sf);
        return NULL;
    }
    b->base.read = sndfile_read;
    b->base.close = sndfile_close;
    b->sf = sf;
    b->channels = sfinfo.channels;
    b->block_frames = block_frames;

    info->source_rate = sfinfo.samplerate;
    info->source_channels = sfinfo.channels;
    /* libsndfile uses SF_COUNT_MAX when it cannot know the length. */
    if (sfinfo.frames >= 0 && sfinfo.frames < SF_COUNT_MAX) {
        info->source_frames = sfinfo.frames;
        info->duration_seconds = (double)sfinfo.frames / sfinfo.samplerate;
    } else {
        info->source_frames = -1;
        info->duration_seconds = -1;
    }
    info->decoder = "sndfile";
    describe_format(sf, sfinfo.format, info->format, sizeof info->format);
    return &b->base;
}
