/* FFmpeg backend (libavformat + libavcodec + libswresample): M4A/AAC, ALAC,
 * MPEG audio and whatever else libsndfile does not read. libswresample only
 * converts sample formats (planar/int -> interleaved float); downmixing and
 * rate conversion happen in our own code so every backend behaves alike. */
#include "audio_backend.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ffmpeg_backend {
    gs_audio_backend base;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream_index;
    AVPacket *pkt;
    AVFrame *frame;

    SwrContext *swr;
    AVChannelLayout swr_layout; /* input layout swr was set up for */
    int swr_format;

    int rate;             /* fixed for the stream: fixed by the first frame */
    float *conv;          /* interleaved float of the current frame */
    size_t conv_capacity; /* in samples */
    size_t conv_frames, conv_pos;
    int conv_channels;

    int flushing;    /* NULL packet sent to the decoder */
    int64_t packets; /* packets of our stream sent to the decoder */
    int finished;
    gs_status pending; /* error to report once decoded frames are out */
    char pending_message[GS_ERROR_MESSAGE_SIZE];
    char *path;
} ffmpeg_backend;

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void make_ffmpeg_quiet(void)
{
    av_log_set_level(AV_LOG_QUIET);
}

static const char *av_err_text(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0)
        snprintf(buf, size, "error %d", code);
    return buf;
}

static gs_status decode_error(ffmpeg_backend *b, int code, const char *what, gs_error *err)
{
    char text[128];
    return gs_error_set(err, GS_ERR_FORMAT, "%s: %s: %s", b->path, what, av_err_text(code, text, sizeof text));
}

/* (Re)configures swr for this frame's format and layout. */
static gs_status setup_swr(ffmpeg_backend *b, const AVFrame *f, gs_error *err)
{
    if (b->swr && b->swr_format == f->format && av_channel_layout_compare(&b->swr_layout, &f->ch_layout) == 0)
        return GS_OK;
    swr_free(&b->swr);
    av_channel_layout_uninit(&b->swr_layout);
    /* Same layout in and out: swr only converts the sample format and
     * interleaves, it does not remix. */
    /* swr_alloc_set_opts2() takes non-const layouts: hand it our copy. */
    int ret = av_channel_layout_copy(&b->swr_layout, &f->ch_layout);
    if (ret >= 0)
        ret = swr_alloc_set_opts2(&b->swr, &b->swr_layout, AV_SAMPLE_FMT_FLT, f->sample_rate, &b->swr_layout,
                                  (enum AVSampleFormat)f->format, f->sample_rate, 0, NULL);
    if (ret >= 0)
        ret = swr_init(b->swr);
    if (ret < 0) {
        swr_free(&b->swr);
        char text[128];
        return gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: cannot convert sample format %s: %s", b->path,
                            av_get_sample_fmt_name((enum AVSampleFormat)f->format),
                            av_err_text(ret, text, sizeof text));
    }
    b->swr_format = f->format;
    return GS_OK;
}

static gs_status convert_frame(ffmpeg_backend *b, const AVFrame *f, gs_error *err)
{
    int channels = f->ch_layout.nb_channels;
    if (channels < 1 || f->nb_samples < 0)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: decoded frame has %d channels", b->path, channels);
    if (b->rate == 0 && f->sample_rate > 0)
        b->rate = f->sample_rate; /* the first frame decides */
    if (f->sample_rate != b->rate)
        return gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: sample rate changes mid-stream (%d -> %d Hz)", b->path,
                            b->rate, f->sample_rate);
    gs_status st = setup_swr(b, f, err);
    if (st != GS_OK)
        return st;
    int out_count = swr_get_out_samples(b->swr, f->nb_samples);
    if (out_count < 0)
        return decode_error(b, out_count, "sample conversion failed", err);
    size_t need = (size_t)out_count * (size_t)channels;
    if (need > b->conv_capacity) {
        float *grown = realloc(b->conv, need * sizeof *grown);
        if (!grown)
            return gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", b->path);
        b->conv = grown;
        b->conv_capacity = need;
    }
    uint8_t *out_planes[1] = {(uint8_t *)b->conv};
    int n = swr_convert(b->swr, out_planes, out_count, (const uint8_t **)f->extended_data, f->nb_samples);
    if (n < 0)
        return decode_error(b, n, "sample conversion failed", err);
    b->conv_frames = (size_t)n;
    b->conv_pos = 0;
    b->conv_channels = channels;
    return GS_OK;
}

/* Decodes the next non-empty frame into b->conv. Returns 1 when one is
 * ready, 0 at the end of the stream, or a negative gs_status. */
static int next_frame(ffmpeg_backend *b, gs_error *err)
{
    for (;;) {
        int ret = avcodec_receive_frame(b->dec, b->frame);
        if (ret == 0) {
            gs_status st = convert_frame(b, b->frame, err);
            av_frame_unref(b->frame);
            if (st != GS_OK)
                return st;
            if (b->conv_frames > 0)
                return 1;
            continue;
        }
        if (ret == AVERROR_EOF)
            return 0;
        if (ret != AVERROR(EAGAIN))
            return decode_error(b, ret, "decode error", err);
        if (b->flushing)
            return 0; /* decoder wants input after a flush: nothing left */

        ret = av_read_frame(b->fmt, b->pkt);
        if (ret == AVERROR_EOF) {
            b->flushing = 1;
            ret = avcodec_send_packet(b->dec, NULL);
            if (ret < 0 && ret != AVERROR_EOF)
                return decode_error(b, ret, "decode error", err);
            continue;
        }
        if (ret < 0)
            return decode_error(b, ret, "read error", err);
        if (b->pkt->stream_index != b->stream_index) {
            av_packet_unref(b->pkt);
            continue;
        }
        b->packets++;
        ret = avcodec_send_packet(b->dec, b->pkt);
        av_packet_unref(b->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN))
            return decode_error(b, ret, "decode error", err);
    }
}

static long ffmpeg_read(gs_audio_backend *self, float *out, size_t max_frames, int64_t *nonfinite, gs_error *err)
{
    ffmpeg_backend *b = (ffmpeg_backend *)self;
    if (b->pending != GS_OK)
        return gs_error_set(err, b->pending, "%s", b->pending_message);
    size_t done = 0;
    while (done < max_frames) {
        if (b->conv_pos < b->conv_frames) {
            size_t n = b->conv_frames - b->conv_pos;
            if (n > max_frames - done)
                n = max_frames - done;
            gs_audio_downmix(b->conv + b->conv_pos * (size_t)b->conv_channels, n, b->conv_channels, out + done,
                             nonfinite);
            b->conv_pos += n;
            done += n;
            continue;
        }
        if (b->finished)
            break;
        gs_error local;
        gs_error_clear(&local);
        int r = next_frame(b, &local);
        if (r == 1)
            continue;
        b->finished = 1;
        if (r < 0) {
            /* Frames decoded before the error are real audio: hand them
             * out now and report the error on the next call. */
            b->pending = (gs_status)r;
            snprintf(b->pending_message, sizeof b->pending_message, "%s", local.message);
            if (done == 0)
                return gs_error_set(err, b->pending, "%s", b->pending_message);
        }
        break;
    }
    return (long)done;
}

static void ffmpeg_close(gs_audio_backend *self)
{
    ffmpeg_backend *b = (ffmpeg_backend *)self;
    swr_free(&b->swr);
    av_channel_layout_uninit(&b->swr_layout);
    av_frame_free(&b->frame);
    av_packet_free(&b->pkt);
    avcodec_free_context(&b->dec);
    avformat_close_input(&b->fmt);
    free(b->conv);
    free(b->path);
    free(b);
}

static gs_status open_error(int code, const char *path, const char *what, gs_error *err)
{
    char text[128];
    av_err_text(code, text, sizeof text);
    if (code == AVERROR(ENOENT) || code == AVERROR(EACCES) || code == AVERROR(EISDIR))
        return gs_error_set(err, GS_ERR_IO, "%s: %s: %s", path, what, text);
    /* Demuxers turn a short read inside the header into EIO; audio.c has
     * already read the file, so this is a truncated header, not the disk. */
    if (code == AVERROR(EIO) || code == AVERROR_EOF)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: %s: truncated header (%s)", path, what, text);
    /* While parsing a header, ENOMEM means a corrupt size field asked for an
     * absurd allocation (FFmpeg's mov demuxer does that), not a machine out
     * of memory: the file is what is wrong. */
    if (code == AVERROR(ENOMEM))
        return gs_error_set(err, GS_ERR_FORMAT, "%s: %s: corrupt header (sizes that cannot be allocated: %s)", path,
                            what, text);
    if (code == AVERROR_INVALIDDATA)
        return gs_error_set(err, GS_ERR_FORMAT, "%s: not a recognised audio file", path);
    /* Demuxers give odd codes for garbage (the MPEG one says EINVAL when
     * its resync seeks past the end): keep their text, but as a format
     * problem, which is what it is. */
    return gs_error_set(err, GS_ERR_FORMAT, "%s: not a recognised audio file (%s: %s)", path, what, text);
}

static void fill_info(ffmpeg_backend *b, const AVStream *st, const AVCodec *codec, gs_audio_info *info)
{
    info->source_rate = b->rate;
    info->source_channels = b->conv_frames ? b->conv_channels : b->dec->ch_layout.nb_channels;
    info->source_frames = -1;
    info->duration_seconds = -1;
    /* Durations are container estimates (priming and padding may be
     * included); gs_audio_read is the authority on the real length. */
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.num > 0)
        info->source_frames = av_rescale_q(st->duration, st->time_base, (AVRational){1, b->rate});
    else if (b->fmt->duration != AV_NOPTS_VALUE && b->fmt->duration > 0)
        info->source_frames = av_rescale(b->fmt->duration, b->rate, AV_TIME_BASE);
    if (info->source_frames >= 0)
        info->duration_seconds = (double)info->source_frames / b->rate;
    info->decoder = "ffmpeg";
    snprintf(info->format, sizeof info->format, "%s: %s", b->fmt->iformat->name, codec->name);
}

gs_audio_backend *gs_audio_ffmpeg_open(const char *path, gs_audio_info *info, gs_error *err)
{
    pthread_once(&quiet_once, make_ffmpeg_quiet);

    ffmpeg_backend *b = calloc(1, sizeof *b);
    if (!b || !(b->path = strdup(path))) {
        free(b);
        gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    b->base.read = ffmpeg_read;
    b->base.close = ffmpeg_close;

    int ret = avformat_open_input(&b->fmt, path, NULL, NULL);
    if (ret < 0) {
        open_error(ret, path, "cannot open", err);
        goto fail;
    }
    ret = avformat_find_stream_info(b->fmt, NULL);
    if (ret < 0) {
        open_error(ret, path, "cannot read stream information", err);
        goto fail;
    }
    const AVCodec *codec = NULL;
    ret = av_find_best_stream(b->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (ret == AVERROR_DECODER_NOT_FOUND) {
        int idx = av_find_best_stream(b->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        enum AVCodecID id = idx >= 0 ? b->fmt->streams[idx]->codecpar->codec_id : AV_CODEC_ID_NONE;
        const char *name = id != AV_CODEC_ID_NONE ? avcodec_get_name(id) : NULL;
        if (name)
            gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: no decoder for audio codec %s", path, name);
        else
            gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: unknown audio codec", path);
        goto fail;
    }
    if (ret < 0) {
        gs_error_set(err, GS_ERR_FORMAT, "%s: no audio stream", path);
        goto fail;
    }
    b->stream_index = ret;
    for (unsigned i = 0; i < b->fmt->nb_streams; i++)
        if ((int)i != b->stream_index)
            b->fmt->streams[i]->discard = AVDISCARD_ALL;
    AVStream *st = b->fmt->streams[b->stream_index];

    b->dec = avcodec_alloc_context3(codec);
    if (!b->dec) {
        gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    ret = avcodec_parameters_to_context(b->dec, st->codecpar);
    if (ret >= 0) {
        b->dec->thread_count = 1; /* callers parallelise across files */
        b->dec->pkt_timebase = st->time_base;
        ret = avcodec_open2(b->dec, codec, NULL);
    }
    if (ret < 0) {
        char text[128];
        gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: cannot open %s decoder: %s", path, codec->name,
                     av_err_text(ret, text, sizeof text));
        goto fail;
    }
    b->pkt = av_packet_alloc();
    b->frame = av_frame_alloc();
    if (!b->pkt || !b->frame) {
        gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }

    /* Decode the first frame now: garbage that a demuxer accepted is
     * rejected here, and the first frame fixes the true rate (HE-AAC may
     * decode at twice the container's rate). */
    b->rate = 0;
    gs_error local;
    gs_error_clear(&local);
    int first = next_frame(b, &local);
    if (first < 0) {
        gs_error_set(err, (gs_status)first, "%s (%s decoder, first frame)", local.message, codec->name);
        goto fail;
    }
    if (first == 0 && b->packets > 0) {
        /* Packets that decode to nothing: a demuxer took garbage for audio. */
        gs_error_set(err, GS_ERR_FORMAT, "%s: no decodable %s audio", path, codec->name);
        goto fail;
    }
    if (first == 0) { /* a stream without a single packet */
        b->rate = b->dec->sample_rate;
        b->finished = 1;
    }
    if (b->rate < 1 || b->rate > GS_AUDIO_MAX_SOURCE_RATE) {
        gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: unsupported sample rate %d Hz", path, b->rate);
        goto fail;
    }
    fill_info(b, st, codec, info);
    return &b->base;

fail:
    ffmpeg_close(&b->base);
    return NULL;
}
