/* Display names of model labels (genre_names.h): built in, overridden by
 * the genre names file. */
#include "genre_names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kv_file.h"

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

/* One "label = Name" line. */
static gs_status add_name(const char *label, const char *display, int lineno, void *arg, gs_error *err)
{
    const char *path = arg;
    if (!*label || !*display || strlen(label) >= 64 || strlen(display) >= 64)
        return gs_error_set(err, GS_ERR_FORMAT, "%s:%d: empty or too long (max 63 bytes)", path, lineno);
    int slot = num_overrides;
    for (int i = 0; i < num_overrides; i++)
        if (!strcasecmp(overrides[i].label, label))
            slot = i;
    if (slot == MAX_OVERRIDES)
        return gs_error_set(err, GS_ERR_FORMAT, "%s:%d: more than %d names", path, lineno, MAX_OVERRIDES);
    snprintf(overrides[slot].label, sizeof overrides[slot].label, "%s", label);
    snprintf(overrides[slot].display, sizeof overrides[slot].display, "%s", display);
    if (slot == num_overrides)
        num_overrides++;
    return GS_OK;
}

gs_status gs_genre_names_load(const char *path, int must_exist, gs_error *err)
{
    return gs_kv_read(path, must_exist, "label = Name", add_name, (void *)path, err);
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
