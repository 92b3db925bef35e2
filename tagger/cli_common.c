/* What every subcommand shares (cli_common.h): index opening, JSON lines
 * with any file name, times on the command line. */
#include "cli_common.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "genre_names.h"

/* Length of the valid UTF-8 sequence at s, or 0 if s does not start one
 * (bad lead byte, truncated, overlong, surrogate or beyond U+10FFFF). */
int gs_cli_utf8_sequence_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!len || s[0] > 0xF4)
        return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

cJSON *gs_cli_path_json(const char *path)
{
    const unsigned char *s = (const unsigned char *)path;
    size_t n = strlen(path);
    char *out = malloc(n * 6 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        int len = gs_cli_utf8_sequence_length(s + i);
        if (len == 0) {
            o += sprintf(o, "\\udc%02x", s[i]);
            i++;
        } else if (s[i] == '"' || s[i] == '\\') {
            *o++ = '\\';
            *o++ = (char)s[i++];
        } else if (s[i] < 0x20) {
            o += sprintf(o, "\\u%04x", s[i]);
            i++;
        } else {
            memcpy(o, s + i, (size_t)len);
            o += len;
            i += (size_t)len;
        }
    }
    *o++ = '"';
    *o = '\0';
    cJSON *item = cJSON_CreateRaw(out);
    free(out);
    return item;
}

void gs_cli_add_path(cJSON *obj, const char *key, const char *path)
{
    cJSON *p = gs_cli_path_json(path);
    if (p)
        cJSON_AddItemToObject(obj, key, p);
}

gs_index *gs_cli_open_index(const char *cmd, const char *db_path, int flags, int busy_ms)
{
    char def[PATH_MAX];
    if (!db_path) {
        if (gs_index_default_path(def, sizeof def) != 0) {
            fprintf(stderr, "genrescope %s: no HOME or XDG_DATA_HOME; pass --db FILE\n", cmd);
            return NULL;
        }
        db_path = def;
    }
    gs_error err;
    gs_error_clear(&err);
    gs_index *ix = gs_index_open(db_path, flags, busy_ms, &err);
    if (!ix)
        fprintf(stderr, "genrescope %s: %s\n", cmd, err.message);
    return ix;
}

void gs_cli_print_json(FILE *out, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (s) {
        fputs(s, out);
        fputc('\n', out);
        cJSON_free(s);
    }
    cJSON_Delete(obj);
}

void gs_cli_report_other_model(const char *cmd, int json, FILE *out, const char *model, size_t n)
{
    if (n == 0)
        return;
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON *sum = cJSON_AddObjectToObject(j, "summary");
        cJSON_AddStringToObject(sum, "model", model ? model : "");
        cJSON_AddNumberToObject(sum, "other_model_tracks", (double)n);
        gs_cli_print_json(out, j);
    } else {
        fprintf(stderr,
                "genrescope %s: %zu track%s analysed by another model than %s left out "
                "(their results are not comparable)\n",
                cmd, n, n == 1 ? "" : "s", model ? model : "?");
    }
}

int gs_cli_parse_clock(const char *s, double *seconds)
{
    double total = 0;
    int fields = 0;
    for (;;) {
        char *end;
        errno = 0;
        /* Only the last field may have a fraction; none may have a sign. */
        double v = strtod(s, &end);
        if (errno || end == s || !isfinite(v) || v < 0 || *s == '+' || *s == '-' || ++fields > 3)
            return -1;
        if (fields > 1 && !(v < 60))
            return -1;
        total = total * 60 + v;
        if (*end == '\0')
            break;
        if (*end != ':' || v != (double)(long)v)
            return -1;
        s = end + 1;
    }
    *seconds = total;
    return 0;
}

void gs_cli_clock_text(double seconds, char *out, size_t n)
{
    /* An index is data from outside: a NaN or 1e300 must not reach the
     * integer conversion (undefined behaviour). */
    if (!(seconds >= 0.0 && seconds < 1e12)) {
        snprintf(out, n, "?");
        return;
    }
    long t = (long)(seconds + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

int gs_cli_shared_open(const gs_cli_shared *shared, const gs_cli_spec *spec, int flags, gs_index **ix)
{
    *ix = NULL;
    int names = 0;
    for (const gs_cli_option *o = spec->options; o && o->name; o++)
        names |= o->id == GS_OPT_GENRE_NAMES;
    if (names && gs_cli_load_genre_names(spec->name, shared->genre_names) != 0)
        return GS_EXIT_USAGE;
    *ix = gs_cli_open_index(spec->name, shared->db_path, flags, (int)shared->busy_ms);
    return *ix ? GS_EXIT_OK : GS_EXIT_FATAL;
}

int gs_cli_load_genre_names(const char *cmd, const char *path)
{
    gs_error err;
    gs_error_clear(&err);
    char def[PATH_MAX];
    int must = path != NULL;
    if (!path) {
        if (gs_genre_names_default_path(def, sizeof def) != 0)
            return 0;
        path = def;
    }
    if (gs_genre_names_load(path, must, &err) != GS_OK) {
        fprintf(stderr, "genrescope %s: %s\n", cmd, err.message);
        return -1;
    }
    return 0;
}

const char *gs_cli_error_reason(const char *path, const char *message)
{
    size_t n = path ? strlen(path) : 0;
    if (n && !strncmp(message, path, n) && message[n] == ':' && message[n + 1] == ' ')
        return message + n + 2;
    return message;
}
