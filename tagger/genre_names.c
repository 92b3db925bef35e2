#include "genre_names.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* gs_builtin_genre_names: models/genre-names.conf, which the LV2 bundle's
 * scale points are generated from too. */
#include "gs_builtin_genre_names.h"

typedef struct name_pair {
    char label[64];
    char display[64];
} name_pair;

#define MAX_OVERRIDES 64
static name_pair overrides[MAX_OVERRIDES];
static int num_overrides;

void gs_genre_names_reset(void)
{
    num_overrides = 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

gs_status gs_genre_names_load(const char *path, int must_exist, gs_error *err)
{
    /* O_NONBLOCK and a type check: a FIFO at this path must not hang every
     * command. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (!must_exist && errno == ENOENT)
            return GS_OK;
        return gs_error_set(err, GS_ERR_IO, "cannot open genre names %s: %s", path,
                            strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return gs_error_set(err, GS_ERR_IO, "genre names %s: not a regular file", path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
    }
    /* Whole lines of any length: a long comment must never spill into a
     * setting. */
    char *line = NULL;
    size_t line_cap = 0;
    int lineno = 0;
    gs_status st = GS_OK;
    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: expected 'label = Name'", path, lineno);
            break;
        }
        *eq = '\0';
        char *label = trim(s), *display = trim(eq + 1);
        if (!*label || !*display || strlen(label) >= 64 || strlen(display) >= 64) {
            st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: empty or too long (max 63 bytes)",
                              path, lineno);
            break;
        }
        int slot = num_overrides;
        for (int i = 0; i < num_overrides; i++)
            if (!strcasecmp(overrides[i].label, label))
                slot = i;
        if (slot == MAX_OVERRIDES) {
            st = gs_error_set(err, GS_ERR_FORMAT, "%s:%d: more than %d names", path, lineno,
                              MAX_OVERRIDES);
            break;
        }
        snprintf(overrides[slot].label, sizeof overrides[slot].label, "%s", label);
        snprintf(overrides[slot].display, sizeof overrides[slot].display, "%s", display);
        if (slot == num_overrides)
            num_overrides++;
    }
    free(line);
    fclose(f);
    return st;
}

void gs_genre_display_name(const char *label, char *out, size_t out_size)
{
    if (!out_size)
        return;
    for (int i = 0; i < num_overrides; i++)
        if (!strcasecmp(overrides[i].label, label)) {
            snprintf(out, out_size, "%s", overrides[i].display);
            return;
        }
    for (size_t i = 0; i < sizeof gs_builtin_genre_names / sizeof gs_builtin_genre_names[0]; i++)
        if (!strcasecmp(gs_builtin_genre_names[i][0], label)) {
            snprintf(out, out_size, "%s", gs_builtin_genre_names[i][1]);
            return;
        }
    snprintf(out, out_size, "%s", label);
    out[0] = (char)toupper((unsigned char)out[0]);
}

int gs_genre_names_default_path(char *out, size_t out_size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg == '/')
        n = snprintf(out, out_size, "%s/genrescope/genres.conf", xdg);
    else if (home && *home)
        n = snprintf(out, out_size, "%s/.config/genrescope/genres.conf", home);
    else
        return -1;
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}
