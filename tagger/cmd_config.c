/* `genrescope config`: the settings the configuration file can hold, their
 * values and where each comes from (config.h). */
#include <stdio.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"

int gs_cmd_config(int argc, char **argv)
{
    const gs_cli_spec *spec = gs_cli_find("config");
    gs_cli_shared shared;
    int status = gs_cli_parse_shared_only(spec, argc, argv, &shared);
    if (status >= 0)
        return status;
    if (optind != argc)
        return gs_cli_usage_error(spec, "unexpected argument '%s'", argv[optind]);
    const int json = shared.json;
    struct stat st;
    if (!json)
        printf("# configuration file: %s%s\n", gs_config_path()[0] ? gs_config_path() : "none (no HOME)",
               gs_config_path()[0] && stat(gs_config_path(), &st) != 0 ? " (absent: every setting is its default)"
                                                                       : "");
    for (int k = 0; k < GS_CONFIG_COUNT; k++) {
        const char *value = gs_config_value((gs_config_key)k);
        char source[4200];
        if (value)
            snprintf(source, sizeof source, "%s:%d", gs_config_path(), gs_config_line((gs_config_key)k));
        else
            snprintf(source, sizeof source, "default");
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "key", gs_config_keys[k].name);
            if (value)
                cJSON_AddStringToObject(j, "value", value);
            else
                cJSON_AddNullToObject(j, "value");
            cJSON_AddStringToObject(j, "default", gs_config_keys[k].def);
            cJSON_AddStringToObject(j, "source", source);
            gs_cli_print_json(stdout, j);
        } else if (value) {
            printf("%s = \"%s\"    # %s\n", gs_config_keys[k].name, value, source);
        } else {
            printf("# %s = (%s)    # default: %s\n", gs_config_keys[k].name, gs_config_keys[k].def,
                   gs_config_keys[k].help);
        }
    }
    return GS_EXIT_OK;
}
