/* A file's identity from its size and first and last 64 KiB (file_digest.h). */
#include "file_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define EDGE (64 * 1024)

static int read_at(int fd, unsigned char *buf, size_t n, off_t at)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, at + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* shorter than stat said: changed under us */
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int gs_file_digest(const char *path, int64_t size, uint64_t *out)
{
    /* O_NONBLOCK: a FIFO that replaced the file must not hang the scan. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (int64_t)st.st_size != size) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    static const unsigned char none[1];
    unsigned char head[EDGE], tail[EDGE];
    size_t head_n = size < EDGE ? (size_t)size : EDGE;
    size_t tail_n = size - (int64_t)head_n < EDGE ? (size_t)(size - (int64_t)head_n) : EDGE;
    int rc = read_at(fd, head, head_n, 0);
    if (rc == 0)
        rc = read_at(fd, tail, tail_n, (off_t)(size - (int64_t)tail_n));
    close(fd);
    if (rc != 0)
        return -1;
    unsigned char size_bytes[8];
    for (int i = 0; i < 8; i++)
        size_bytes[i] = (unsigned char)((uint64_t)size >> (8 * i));
    uint64_t h = gs_fnv1a64(GS_FNV1A64_INIT, size_bytes, sizeof size_bytes);
    h = gs_fnv1a64(h, head_n ? head : none, head_n);
    h = gs_fnv1a64(h, tail_n ? tail : none, tail_n);
    *out = h ? h : 1;
    return 0;
}
