/* Canonical display names for model labels ("hiphop" -> "Hip-Hop"): what
 * goes into tags and what commands print. Built-in names
 * (models/genre-names.conf, shared with the LV2 plugin's port labels) cover
 * the GTZAN labels; any other label is capitalised. A config file of `label = Name`
 * lines (# comments) overrides them. */
#ifndef GS_TAGGER_GENRE_NAMES_H
#define GS_TAGGER_GENRE_NAMES_H

#include <stddef.h>

#include "genrescope/error.h"

/* Loads overrides from path. A missing file is not an error when
 * must_exist is 0 (the default config location). Process-wide; call before
 * starting threads. */
gs_status gs_genre_names_load(const char *path, int must_exist, gs_error *err);

/* Display name of label into out (always NUL-terminated). */
void gs_genre_display_name(const char *label, char *out, size_t out_size);

/* Default config path ($XDG_CONFIG_HOME/genrescope/genres.conf) into out;
 * 0 on success, -1 if no home directory is known. */
int gs_genre_names_default_path(char *out, size_t out_size);

/* Resets to the built-in names (tests). */
void gs_genre_names_reset(void);

#endif
