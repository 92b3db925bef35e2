/* A tag write copies the file before tagging the copy. The kernel copy
 * (copy_file_range) may stop early, return 0 at once (file systems that
 * cannot do it) or fail part way: the tagged file must still hold all of
 * the audio. copy_file_range is replaced here by one that misbehaves on
 * demand (this executable's definition wins over libc's). */
#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "support/rng.h"
#include "support/tmpdir.h"
#include "tag_writer.h"

enum { PASS, ZERO_AT_ONCE, ZERO_AFTER_HALF, EXDEV_AT_ONCE, EIO_AFTER_HALF, NUM_MODES };
static const char *const mode_names[NUM_MODES] = {"pass-through", "0 at once", "0 after half", "EXDEV at once",
                                                  "EIO after half"};
static int mode, calls;

ssize_t copy_file_range(int in, loff_t *in_off, int out, loff_t *out_off, size_t len, unsigned flags)
{
    int first = calls++ == 0;
    if (mode == PASS)
        return syscall(SYS_copy_file_range, in, in_off, out, out_off, len, flags);
    if (mode == ZERO_AT_ONCE || (mode == ZERO_AFTER_HALF && !first))
        return 0;
    if (mode == EXDEV_AT_ONCE || (mode == EIO_AFTER_HALF && !first)) {
        errno = mode == EXDEV_AT_ONCE ? EXDEV : EIO;
        return -1;
    }
    struct stat st;
    fstat(in, &st);
    size_t half = (size_t)st.st_size / 2;
    return syscall(SYS_copy_file_range, in, in_off, out, out_off, half < len ? half : len, flags);
}

/* 2 s of 44.1 kHz stereo noise as 16-bit FLAC. */
static int write_flac(const char *path)
{
    SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f)
        return -1;
    short buf[2 * 4410];
    uint32_t s = 12345;
    for (int b = 0; b < 20; b++) {
        for (int i = 0; i < 2 * 4410; i++) {
            buf[i] = (short)(gs_test_lcg32(&s) >> 17);
        }
        sf_writef_short(f, buf, 4410);
    }
    return sf_close(f);
}

static short *decode(const char *path, sf_count_t *frames)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return NULL;
    short *x = malloc(sizeof(short) * (size_t)(info.frames * info.channels + 1));
    *frames = x ? sf_readf_short(f, x, info.frames) : 0;
    sf_close(f);
    return x;
}

int main(void)
{
    char dir[1024], src[1200], path[1200];
    if (gs_test_tmpdir(dir, sizeof dir, "tag_copy") != 0)
        return 1;
    snprintf(src, sizeof src, "%s/source.flac", dir);
    CHECK(write_flac(src) == 0);
    sf_count_t n_src = 0;
    short *ref = decode(src, &n_src);
    CHECK(ref && n_src == 88200);
    for (mode = 0; mode < NUM_MODES; mode++) {
        snprintf(path, sizeof path, "%s/track%d.flac", dir, mode);
        char cmd[2600];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, path);
        CHECK(system(cmd) == 0);
        calls = 0;
        const char *genres[1] = {"Rock"};
        gs_tag_request req = {.genres = genres, .num_genres = 1, .confidence = 0.75f};
        char msg[256];
        gs_tag_outcome o = gs_tag_write(path, &req, NULL, 0, msg, sizeof msg);
        CHECK_MSG(o == GS_TAG_WRITTEN, "%s: %s (%s)", mode_names[mode], gs_tag_outcome_name(o), msg);
        CHECK_MSG(calls > 0, "%s: the kernel copy was not tried", mode_names[mode]);
        sf_count_t n = 0;
        short *x = decode(path, &n);
        CHECK_MSG(x && n == n_src && !memcmp(x, ref, sizeof(short) * 2 * (size_t)n),
                  "%s: audio changed (%lld of %lld frames)", mode_names[mode], (long long)n, (long long)n_src);
        char genre[64] = "", conf[32] = "";
        CHECK(gs_tag_read(path, genre, sizeof genre, conf, sizeof conf) == 0);
        CHECK_MSG(!strcmp(genre, "Rock") && !strcmp(conf, "0.750"), "%s: tag '%s' '%s'", mode_names[mode], genre, conf);
        free(x);
        unlink(path);
    }
    free(ref);
    if (!gs_test_failures)
        gs_test_rmtree(dir);
    return gs_test_finish("test_tag_copy");
}
