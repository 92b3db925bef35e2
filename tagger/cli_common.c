#include "cli_common.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "genre_names.h"

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

int gs_cli_parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int gs_cli_parse_float(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
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
