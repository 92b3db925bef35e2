/* Settings a person sets once, in a file: $XDG_CONFIG_HOME/genrescope/config
 * (~/.config/genrescope/config without XDG_CONFIG_HOME), or the file
 * GENRESCOPE_CONFIG names. Lines "key = value"; '#' starts a comment; a
 * value in double quotes keeps its spaces (multi-separator = " / ").
 * Command-line options override it. The keys are the long options they set
 * (gs_config_keys). A file that does not exist is no error. */
#ifndef GS_TAGGER_CONFIG_H
#define GS_TAGGER_CONFIG_H

#include <stddef.h>

#include "genrescope/error.h"

typedef enum gs_config_key {
    GS_CONFIG_DB,
    GS_CONFIG_MODEL,
    GS_CONFIG_MULTI,
    GS_CONFIG_MULTI_THRESHOLD,
    GS_CONFIG_MULTI_SEPARATOR,
    GS_CONFIG_MIN_CONFIDENCE,
    GS_CONFIG_OVERWRITE,
    GS_CONFIG_GENRE_NAMES,
    GS_CONFIG_JOBS,
    GS_CONFIG_COUNT
} gs_config_key;

typedef struct gs_config_key_info {
    const char *name; /* the key, as the long option it sets */
    const char *def;  /* the default in words */
    const char *help; /* what it sets */
} gs_config_key_info;

/* One row per gs_config_key, in that order. */
extern const gs_config_key_info gs_config_keys[GS_CONFIG_COUNT];

/* Reads the configuration file once (later calls return the first result).
 * GS_OK also when there is no file; GS_ERR_FORMAT with "FILE:LINE: why" for
 * an unknown key or a bad value, GS_ERR_IO when it cannot be read. */
gs_status gs_config_load(gs_error *err);

/* The value the file sets for key (owned by the module, valid until exit),
 * or NULL when it sets none. Booleans read back as "yes" or "no". */
const char *gs_config_value(gs_config_key key);

/* The file's path (whether or not it exists), and the line key was set on
 * (0 when not set). */
const char *gs_config_path(void);
int gs_config_line(gs_config_key key);

/* A boolean value: 1 for yes, 0 for no or unset. */
int gs_config_flag(gs_config_key key);

#endif
