/* Walks an MP4's atoms before TagLib may save it (mp4_check.h). */
#include "mp4_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { MAX_ATOMS = 100000, MAX_DEPTH = 16 };

int gs_mp4_is_mp4_name(const char *path)
{
    static const char *const exts[] = {"m4a", "m4b", "m4p", "m4v", "mp4", "3gp", "3g2"};
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return 1;
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Atoms whose payload is more atoms ('meta' after 4 bytes of version and
 * flags). */
static int container_skip(const char *type)
{
    static const char *const plain[] = {"moov", "trak", "mdia", "minf", "stbl", "udta", "ilst",
                                        "edts", "dinf", "moof", "traf", "mvex", "mfra", "tref"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!memcmp(type, plain[i], 4))
            return 0;
    return !memcmp(type, "meta", 4) ? 4 : -1;
}

typedef struct walk_state {
    int fd;
    int atoms;
    char *why;
    unsigned long why_size;
} walk_state;

static int fail(walk_state *w, const char *what, const char *type, long long at)
{
    snprintf(w->why, w->why_size, "%s ('%.4s' atom at byte %lld)", what, type, at);
    return -1;
}

static int walk(walk_state *w, long long start, long long end, int depth)
{
    long long at = start;
    while (at + 8 <= end) {
        if (++w->atoms > MAX_ATOMS)
            return fail(w, "too many atoms", "....", at);
        unsigned char h[16];
        if (pread(w->fd, h, 8, at) != 8)
            return -2;
        char type[4];
        memcpy(type, h + 4, 4);
        uint64_t size = be32(h);
        long long header = 8;
        if (size == 1) {
            if (pread(w->fd, h + 8, 8, at + 8) != 8)
                return -2;
            size = be64(h + 8);
            header = 16;
        } else if (size == 0) {
            size = (uint64_t)(end - at); /* to the end of the parent */
        }
        if (size < (uint64_t)header || size > (uint64_t)(end - at))
            return fail(w, "atom size outside its parent", type, at);
        long long payload = at + header, payload_end = at + (long long)size;
        if (!memcmp(type, "stco", 4) || !memcmp(type, "co64", 4)) {
            unsigned char c[8];
            if (payload_end - payload < 8)
                return fail(w, "chunk-offset table too short", type, at);
            if (pread(w->fd, c, 8, payload) != 8)
                return -2;
            uint64_t count = be32(c + 4), entry = type[0] == 'c' ? 8 : 4;
            if (count > (uint64_t)(payload_end - payload - 8) / entry)
                return fail(w, "chunk-offset count larger than its table", type, at);
        }
        int skip = container_skip(type);
        if (skip >= 0) {
            if (depth >= MAX_DEPTH)
                return fail(w, "atoms nested too deep", type, at);
            if (payload + skip > payload_end)
                return fail(w, "container too short", type, at);
            int rc = walk(w, payload + skip, payload_end, depth + 1);
            if (rc != 0)
                return rc;
        }
        at = payload_end;
    }
    return 0;
}

int gs_mp4_check_atoms(int fd, long long size, char *why, unsigned long why_size)
{
    char none[8];
    walk_state w = {fd, 0, why && why_size ? why : none, why && why_size ? why_size : sizeof none};
    w.why[0] = '\0';
    return walk(&w, 0, size, 0);
}
