/* The streaming front of the decoder: picks a backend, then turns its mono
 * source-rate blocks into target-rate samples through the resampler. Memory
 * is a few fixed blocks whatever the file length. */
#include "audio_backend.h"
#include "genrescope/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct gs_audio {
    gs_audio_backend *backend;
    gs_audio_info info;
    gs_resampler *resampler; /* NULL when source rate == target rate */
    float *mono;             /* GS_AUDIO_BLOCK_FRAMES source-rate samples */
    float *resampled;        /* gs_resampler_max_output() samples */
    const float *pending;    /* samples produced but not yet returned */
    size_t pending_len, pending_pos;
    int source_done;  /* backend returned 0 */
    int finished;     /* nothing more will come out */
    gs_error failure; /* sticky: every read after an error reports it */
};

size_t gs_audio_block_frames(int channels)
{
    size_t frames = (size_t)GS_AUDIO_BLOCK_FRAMES * 16 / (size_t)(channels > 0 ? channels : 1);
    if (frames > GS_AUDIO_BLOCK_FRAMES)
        frames = GS_AUDIO_BLOCK_FRAMES;
    return frames < 16 ? 16 : frames;
}

/* Finite but absurd samples (a float file holding 1e38) would overflow the
 * resampler's filter sums into Inf and NaN. */
static inline float clamp_sample(float v)
{
    return v > GS_AUDIO_SAMPLE_LIMIT ? GS_AUDIO_SAMPLE_LIMIT : v < -GS_AUDIO_SAMPLE_LIMIT ? -GS_AUDIO_SAMPLE_LIMIT : v;
}

size_t gs_audio_sanitize(const float *in, size_t n, float *out)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = in[i];
        if (!isfinite(v)) {
            v = 0.0f;
            bad++;
        } else if (fabsf(v) < GS_AUDIO_SAMPLE_TINY) {
            v = 0.0f;
        }
        out[i] = clamp_sample(v);
    }
    return bad;
}

/* The decoder's own rule is gs_audio_sanitize's without the flush of tiny
 * values: a decoded file's samples are what its digest (gs_classify_file)
 * is taken over, so they stay as decoded wherever they are sane. */

void gs_audio_downmix(const float *in, size_t frames, int channels, float *out, int64_t *nonfinite)
{
    int64_t bad = 0;
    if (channels == 1) {
        for (size_t i = 0; i < frames; i++) {
            float v = in[i];
            if (!isfinite(v)) {
                v = 0.0f;
                bad++;
            }
            out[i] = clamp_sample(v);
        }
    } else if (channels == 2) {
        /* The common case, kept cheap. Halving before adding cannot
         * overflow and (for normal values) rounds like the true mean. */
        for (size_t i = 0; i < frames; i++) {
            float l = in[2 * i], r = in[2 * i + 1];
            if (!isfinite(l)) {
                l = 0.0f;
                bad++;
            }
            if (!isfinite(r)) {
                r = 0.0f;
                bad++;
            }
            out[i] = 0.5f * clamp_sample(l) + 0.5f * clamp_sample(r);
        }
    } else {
        for (size_t i = 0; i < frames; i++) {
            const float *frame = in + i * (size_t)channels;
            /* double: a sum of large finite floats must not overflow to Inf */
            double sum = 0.0;
            for (int c = 0; c < channels; c++) {
                if (isfinite(frame[c]))
                    sum += clamp_sample(frame[c]);
                else
                    bad++;
            }
            out[i] = (float)(sum / channels);
        }
    }
    *nonfinite += bad;
}

/* libsndfile decodes MPEG audio through libmpg123, which prints warnings
 * ("Xing stream size off...", "Illegal Audio-MPEG-Header") to stderr for
 * common real-world files and cannot be silenced through libsndfile's API.
 * core/ never prints, so MPEG audio goes straight to FFmpeg. */
static int looks_like_mpeg_audio(const char *path, int fd)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash)) {
        static const char *const exts[] = {".mp3", ".mp2", ".mp1", ".mpga"};
        for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
            if (strcasecmp(dot, exts[i]) == 0)
                return 1;
    }
    unsigned char head[4];
    if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head)
        return 0;
    if (memcmp(head, "ID3", 3) == 0)
        return 1;
    /* Frame sync, a defined MPEG version and layer I-III (layer 0 is ADTS). */
    return head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 && ((head[1] >> 3) & 3) != 1 && ((head[1] >> 1) & 3) != 0;
}

/* Checks the path the way a user would want it explained before any
 * decoder guesses: missing, unreadable, a directory, empty. Sets *mpeg. */
static gs_status check_file(const char *path, int *mpeg, gs_error *err)
{
    /* O_NONBLOCK: opening a FIFO without a writer would block here. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return gs_error_set_errno(err, errno, "cannot open %s", path);
    struct stat st;
    gs_status status = GS_OK;
    if (fstat(fd, &st) != 0)
        status = gs_error_set_errno(err, errno, "cannot stat %s", path);
    else if (S_ISDIR(st.st_mode))
        status = gs_error_set_errno(err, EISDIR, "cannot read %s", path);
    else if (!S_ISREG(st.st_mode)) /* a FIFO or device could block forever */
        status =
            gs_error_set(err, GS_ERR_IO, "cannot read %s: %s, not a regular file", path, gs_file_kind_name(st.st_mode));
    else if (st.st_size == 0)
        status = gs_error_set(err, GS_ERR_FORMAT, "%s: empty file", path);
    else
        *mpeg = looks_like_mpeg_audio(path, fd);
    close(fd);
    return status;
}

static gs_audio_backend *open_backend(const char *path, gs_audio_info *info, gs_error *err)
{
    int mpeg = 0;
    if (check_file(path, &mpeg, err) != GS_OK)
        return NULL;
    if (mpeg)
        return gs_audio_ffmpeg_open(path, info, err);

    gs_error sf_err;
    gs_error_clear(&sf_err);
    int unrecognised = 0;
    gs_audio_backend *backend = gs_audio_sndfile_open(path, info, &unrecognised, &sf_err);
    if (backend || !unrecognised) {
        if (!backend && err)
            *err = sf_err;
        return backend;
    }
    backend = gs_audio_ffmpeg_open(path, info, err);
    if (!backend && err && err->code == GS_ERR_FORMAT) {
        /* Both decoders refused: say what each thought. */
        char ff[GS_ERROR_MESSAGE_SIZE];
        snprintf(ff, sizeof ff, "%s", err->message);
        size_t plen = strlen(path) + 2; /* drop the repeated "path: " */
        const char *sf_reason = strncmp(sf_err.message, path, strlen(path)) == 0 && strlen(sf_err.message) >= plen
            ? sf_err.message + plen
            : sf_err.message;
        gs_error_set(err, GS_ERR_FORMAT, "%s (libsndfile: %.200s)", ff, sf_reason);
    }
    return backend;
}

gs_audio *gs_audio_open(const char *path, int target_rate, gs_error *err)
{
    if (!path || !*path) {
        gs_error_set(err, GS_ERR_INVALID, "audio: no path given");
        return NULL;
    }
    if (target_rate < 8000 || target_rate > 384000) {
        gs_error_set(err, GS_ERR_INVALID, "%s: target rate %d Hz outside 8000..384000", path, target_rate);
        return NULL;
    }
    gs_audio *a = calloc(1, sizeof *a);
    if (!a) {
        gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    a->backend = open_backend(path, &a->info, err);
    if (!a->backend) {
        free(a);
        return NULL;
    }
    a->info.target_rate = target_rate;
    /* A hostile header can claim 1 Hz: the resampler's buffers grow with
     * the rate ratio, so such a file would cost gigabytes for nothing. */
    if (a->info.source_rate < GS_AUDIO_MIN_SOURCE_RATE || a->info.source_rate > GS_AUDIO_MAX_SOURCE_RATE) {
        gs_error_set(err, GS_ERR_UNSUPPORTED, "%s: sample rate %d Hz outside %d..%d", path, a->info.source_rate,
                     GS_AUDIO_MIN_SOURCE_RATE, GS_AUDIO_MAX_SOURCE_RATE);
        gs_audio_close(a);
        return NULL;
    }
    a->mono = malloc(GS_AUDIO_BLOCK_FRAMES * sizeof *a->mono);
    if (!a->mono)
        goto nomem;
    if (a->info.source_rate != target_rate) {
        a->resampler = gs_resampler_new(a->info.source_rate, target_rate, GS_AUDIO_BLOCK_FRAMES, err);
        if (!a->resampler) {
            gs_error_prefix(err, path);
            gs_audio_close(a);
            return NULL;
        }
        a->resampled = malloc(gs_resampler_max_output(a->resampler) * sizeof *a->resampled);
        if (!a->resampled)
            goto nomem;
    }
    return a;

nomem:
    gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
    gs_audio_close(a);
    return NULL;
}

void gs_audio_close(gs_audio *audio)
{
    if (!audio)
        return;
    if (audio->backend)
        audio->backend->close(audio->backend);
    gs_resampler_free(audio->resampler);
    free(audio->mono);
    free(audio->resampled);
    free(audio);
}

const gs_audio_info *gs_audio_get_info(const gs_audio *audio)
{
    return audio ? &audio->info : NULL;
}

/* Produces the next batch of target-rate samples into a->pending. Returns
 * GS_OK (possibly with nothing new: call again unless a->finished) or an
 * error. */
static gs_status refill(gs_audio *a, gs_error *err)
{
    a->pending_len = a->pending_pos = 0;
    long got = 0;
    if (!a->source_done) {
        got = a->backend->read(a->backend, a->mono, GS_AUDIO_BLOCK_FRAMES, &a->info.nonfinite_samples, err);
        if (got < 0)
            return (gs_status)got;
        if (got == 0)
            a->source_done = 1;
    }
    if (!a->resampler) {
        a->pending = a->mono;
        a->pending_len = (size_t)got;
        if (a->source_done)
            a->finished = 1;
        return GS_OK;
    }
    size_t cap = gs_resampler_max_output(a->resampler);
    long out = a->source_done ? gs_resampler_process(a->resampler, NULL, 0, a->resampled, cap, err)
                              : gs_resampler_process(a->resampler, a->mono, (size_t)got, a->resampled, cap, err);
    if (out < 0)
        return (gs_status)out;
    a->pending = a->resampled;
    a->pending_len = (size_t)out;
    /* soxr drains its tail over several flush calls; 0 means it is empty. */
    if (a->source_done && out == 0)
        a->finished = 1;
    return GS_OK;
}

long gs_audio_read(gs_audio *audio, float *out, size_t max_frames, gs_error *err)
{
    if (!audio || (!out && max_frames))
        return gs_error_set(err, GS_ERR_INVALID, "audio: invalid arguments to gs_audio_read");
    if (audio->failure.code != GS_OK)
        return gs_error_set(err, audio->failure.code, "%s", audio->failure.message);
    if (max_frames > LONG_MAX)
        max_frames = LONG_MAX;
    size_t done = 0;
    while (done < max_frames) {
        if (audio->pending_pos < audio->pending_len) {
            size_t n = audio->pending_len - audio->pending_pos;
            if (n > max_frames - done)
                n = max_frames - done;
            memcpy(out + done, audio->pending + audio->pending_pos, n * sizeof *out);
            audio->pending_pos += n;
            done += n;
            continue;
        }
        if (audio->finished)
            break;
        gs_status st = refill(audio, &audio->failure);
        if (st != GS_OK) {
            audio->failure.code = st;
            /* What was decoded before the error is returned first. */
            if (done > 0)
                break;
            return gs_error_set(err, st, "%s", audio->failure.message);
        }
    }
    return (long)done;
}

gs_status gs_audio_decode_file(const char *path, int target_rate, float **samples, size_t *n_samples,
                               gs_audio_info *info, gs_error *err)
{
    if (!samples || !n_samples)
        return gs_error_set(err, GS_ERR_INVALID, "audio: NULL output pointer");
    *samples = NULL;
    *n_samples = 0;
    gs_error local;
    gs_error_clear(&local);
    gs_audio *a = gs_audio_open(path, target_rate, &local);
    if (!a) {
        if (err)
            *err = local;
        return local.code;
    }

    /* Start from the container's estimate (capped: headers can lie) and
     * double as needed. */
    size_t capacity = 1 << 16;
    const gs_audio_info *ai = gs_audio_get_info(a);
    if (ai->duration_seconds > 0 && ai->duration_seconds < 3600)
        capacity = (size_t)(ai->duration_seconds * target_rate) + 1024;
    float *buf = malloc(capacity * sizeof *buf);
    size_t used = 0;
    gs_status status = buf ? GS_OK : gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
    while (status == GS_OK) {
        if (used == capacity) {
            if (capacity > SIZE_MAX / sizeof *buf / 2) {
                status = gs_error_set(err, GS_ERR_NOMEM, "%s: too long to decode at once", path);
                break;
            }
            float *grown = realloc(buf, capacity * 2 * sizeof *buf);
            if (!grown) {
                status = gs_error_set(err, GS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
            capacity *= 2;
        }
        long got = gs_audio_read(a, buf + used, capacity - used, err);
        if (got < 0)
            status = (gs_status)got;
        else if (got == 0)
            break;
        else
            used += (size_t)got;
    }
    if (status == GS_OK && info)
        *info = *ai;
    gs_audio_close(a);
    if (status != GS_OK) {
        free(buf);
        return status;
    }
    if (used < capacity) { /* give back the slack; keep at least one float */
        float *shrunk = realloc(buf, (used ? used : 1) * sizeof *buf);
        if (shrunk)
            buf = shrunk;
    }
    *samples = buf;
    *n_samples = used;
    return GS_OK;
}
