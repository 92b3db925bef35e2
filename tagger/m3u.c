/* Writing M3U8 entries every player reads as meant (m3u.h). */
#include "m3u.h"

#include <math.h>
#include <string.h>

#include "cli_common.h" /* gs_cli_utf8_sequence_length */

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* A plain line is read as this path only if it is UTF-8 without control
 * characters, and not a directive or a URL ("http:x.mp3" relative to the
 * playlist would be a web address). */
static int plain_line_ok(const char *line)
{
    const unsigned char *s = (const unsigned char *)line;
    if (!*s || *s == '#')
        return 0;
    for (size_t i = 0; s[i];) {
        size_t n = (size_t)gs_cli_utf8_sequence_length(s + i);
        if (!n || is_control(s[i]))
            return 0;
        i += n;
    }
    const char *colon = strchr(line, ':');
    const char *slash = strchr(line, '/');
    return !(colon && (!slash || colon < slash));
}

static int put(char *out, size_t out_size, size_t *len, const char *s, size_t n)
{
    if (*len + n + 1 > out_size)
        return -1;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

static int file_uri(const char *path, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = 0;
    if (put(out, out_size, &len, "file://", 7) != 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int unreserved = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/';
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if (unreserved ? put(out, out_size, &len, (const char *)p, 1) : put(out, out_size, &len, esc, 3))
            return -1;
    }
    return (int)len;
}

/* path relative to dir (both absolute and canonical: no "." or ".."
 * components): the directories they share are skipped, each remaining one
 * of dir is a "../". */
static int relative_path(const char *path, const char *dir, char *out, size_t out_size)
{
    const char *p = path, *d = dir;
    for (;;) {
        while (*p == '/')
            p++;
        while (*d == '/')
            d++;
        const char *p_end = strchr(p, '/'); /* NULL: the file name, never shared */
        size_t d_len = strcspn(d, "/");
        if (!p_end || d_len == 0 || (size_t)(p_end - p) != d_len || memcmp(p, d, d_len) != 0)
            break;
        p = p_end;
        d += d_len;
    }
    size_t len = 0;
    out[0] = '\0';
    while (*d) {
        size_t n = strcspn(d, "/");
        if (n && put(out, out_size, &len, "../", 3) != 0)
            return -1;
        d += n;
        while (*d == '/')
            d++;
    }
    return put(out, out_size, &len, p, strlen(p)) == 0 ? (int)len : -1;
}

int gs_m3u_location(const char *path, const char *relative_to, char *out, size_t out_size)
{
    if (out_size == 0)
        return -1;
    if (!plain_line_ok(path))
        return file_uri(path, out, out_size);
    if (relative_to && relative_to[0] == '/' && path[0] == '/') {
        int n = relative_path(path, relative_to, out, out_size);
        if (n < 0)
            return -1;
        if (plain_line_ok(out))
            return n;
        /* "a:b.flac" next to the playlist: "./" keeps it a path. */
        char tmp[4096];
        if ((size_t)n + 3 > sizeof tmp || (size_t)n + 3 > out_size)
            return file_uri(path, out, out_size);
        memcpy(tmp, out, (size_t)n + 1);
        size_t len = 0;
        out[0] = '\0';
        put(out, out_size, &len, "./", 2);
        put(out, out_size, &len, tmp, (size_t)n);
        return plain_line_ok(out) ? (int)len : file_uri(path, out, out_size);
    }
    size_t len = 0;
    return put(out, out_size, &len, path, strlen(path)) == 0 ? (int)len : -1;
}

/* Writes s as one line's worth of UTF-8: control characters as spaces,
 * invalid bytes as U+FFFD. */
static int write_safe_text(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = (size_t)gs_cli_utf8_sequence_length(p + i);
        if (i + k > n)
            k = 0;
        if (!k) {
            if (fputs("\xef\xbf\xbd", out) == EOF)
                return -1;
            i++;
        } else if (k == 1 && is_control(p[i])) {
            if (fputc(' ', out) == EOF)
                return -1;
            i++;
        } else {
            if (fwrite(p + i, 1, k, out) != k)
                return -1;
            i += k;
        }
    }
    return 0;
}

int gs_m3u_write_header(FILE *out)
{
    return fputs("#EXTM3U\n", out) == EOF ? -1 : 0;
}

int gs_m3u_write_entry(FILE *out, const char *path, double duration, const char *title, const char *relative_to)
{
    char location[16384];
    if (gs_m3u_location(path, relative_to, location, sizeof location) < 0)
        return -1;
    const char *name = title;
    size_t name_len = title ? strlen(title) : 0;
    if (!name_len) {
        const char *base = strrchr(path, '/');
        name = base ? base + 1 : path;
        const char *dot = strrchr(name, '.');
        name_len = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    }
    long seconds = isfinite(duration) && duration >= 0 ? lround(duration) : -1;
    if (fprintf(out, "#EXTINF:%ld,", seconds) < 0 || write_safe_text(out, name, name_len) != 0 ||
        fprintf(out, "\n%s\n", location) < 0)
        return -1;
    return 0;
}
