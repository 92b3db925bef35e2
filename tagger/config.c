/* The configuration file (config.h): found, read once, each value checked
 * when read so a command never starts with a bad setting. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "kv_file.h"

const gs_config_key_info gs_config_keys[GS_CONFIG_COUNT] = {
    [GS_CONFIG_DB] = {"db", "$XDG_DATA_HOME/genrescope/index.sqlite", "the index every command uses"},
    [GS_CONFIG_MODEL] = {"model", "the built-in model", "the model scan, rescan, classify and query use"},
    [GS_CONFIG_MULTI] = {"multi", "no", "yes: scan writes every genre scoring at least multi-threshold"},
    [GS_CONFIG_MULTI_THRESHOLD] = {"multi-threshold", "0.25", "the score a genre needs for multi"},
    [GS_CONFIG_MULTI_SEPARATOR] = {"multi-separator", "each format's own multi-value form",
                                   "one string joined by this, for players that show one value"},
    [GS_CONFIG_MIN_CONFIDENCE] = {"min-confidence", "the model's own tagging threshold",
                                  "verdicts below are indexed but not written as tags"},
    [GS_CONFIG_OVERWRITE] = {"overwrite", "no", "yes: replace genres the files already have"},
    [GS_CONFIG_GENRE_NAMES] = {"genre-names", "the built-in names", "the genre names file"},
    [GS_CONFIG_JOBS] = {"jobs", "the number of cores", "scan's worker threads"},
};

static struct {
    int loaded;
    gs_status status;
    gs_error error;
    char path[PATH_MAX];
    char *value[GS_CONFIG_COUNT];
    int line[GS_CONFIG_COUNT];
} cfg;

static void default_path(void)
{
    const char *env = getenv("GENRESCOPE_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (env && *env)
        snprintf(cfg.path, sizeof cfg.path, "%s", env);
    else if (xdg && *xdg == '/')
        snprintf(cfg.path, sizeof cfg.path, "%s/genrescope/config", xdg);
    else if (home && *home)
        snprintf(cfg.path, sizeof cfg.path, "%s/.config/genrescope/config", home);
}

/* Checks value for key; a boolean is stored as "yes"/"no". NULL when fine,
 * else why not. */
static const char *check_value(gs_config_key k, char **value)
{
    double d;
    long l;
    switch (k) {
    case GS_CONFIG_MULTI:
    case GS_CONFIG_OVERWRITE:
        if (!strcmp(*value, "yes") || !strcmp(*value, "true") || !strcmp(*value, "1"))
            *value = "yes";
        else if (!strcmp(*value, "no") || !strcmp(*value, "false") || !strcmp(*value, "0"))
            *value = "no";
        else
            return "wants yes or no";
        return NULL;
    case GS_CONFIG_MULTI_THRESHOLD:
    case GS_CONFIG_MIN_CONFIDENCE: return gs_parse_double(*value, 0.0, 1.0, &d) ? "wants a number from 0 to 1" : NULL;
    case GS_CONFIG_JOBS: return gs_parse_long(*value, 1, 1024, &l) ? "wants a whole number from 1 to 1024" : NULL;
    default: return **value ? NULL : "is empty";
    }
}

/* One "key = value" line of the file. */
static gs_status take_setting(const char *key, const char *value, int lineno, void *arg, gs_error *err)
{
    (void)arg;
    for (int k = 0; k < GS_CONFIG_COUNT; k++) {
        if (strcmp(key, gs_config_keys[k].name) != 0)
            continue;
        char *v = (char *)value; /* check_value only points it at a literal */
        const char *why = check_value((gs_config_key)k, &v);
        if (why)
            return gs_error_set(err, GS_ERR_FORMAT, "%s:%d: %s %s, not '%s'", cfg.path, lineno, key, why, value);
        free(cfg.value[k]);
        if (!(cfg.value[k] = strdup(v)))
            return gs_error_set(err, GS_ERR_NOMEM, "out of memory");
        cfg.line[k] = lineno;
        return GS_OK;
    }
    return gs_error_set(err, GS_ERR_FORMAT, "%s:%d: unknown key '%s' (see genrescope config)", cfg.path, lineno, key);
}

gs_status gs_config_load(gs_error *err)
{
    if (!cfg.loaded) {
        cfg.loaded = 1;
        cfg.status = GS_OK;
        gs_error_clear(&cfg.error);
        default_path();
        if (cfg.path[0])
            cfg.status = gs_kv_read(cfg.path, 0, "key = value", take_setting, NULL, &cfg.error);
    }
    if (cfg.status != GS_OK && err)
        *err = cfg.error;
    return cfg.status;
}

const char *gs_config_value(gs_config_key key)
{
    return key < GS_CONFIG_COUNT ? cfg.value[key] : NULL;
}

const char *gs_config_path(void)
{
    return cfg.path;
}

int gs_config_line(gs_config_key key)
{
    return key < GS_CONFIG_COUNT ? cfg.line[key] : 0;
}

int gs_config_flag(gs_config_key key)
{
    const char *v = gs_config_value(key);
    return v && !strcmp(v, "yes");
}
