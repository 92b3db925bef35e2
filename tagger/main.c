/* genrescope: tells what genre music is, tags libraries and answers
 * discovery queries. This file only dispatches to the subcommands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse.h"
#include "commands.h"
#include "config.h"
#include "genrescope.h"

static const struct {
    const char *name;
    gs_command_fn run;
} commands[] = {
    {"classify", gs_cmd_classify}, {"scan", gs_cmd_scan},   {"rescan", gs_cmd_rescan},     {"show", gs_cmd_show},
    {"similar", gs_cmd_similar},   {"query", gs_cmd_query}, {"playlist", gs_cmd_playlist}, {"stats", gs_cmd_stats},
    {"merge", gs_cmd_merge},       {"prune", gs_cmd_prune}, {"config", gs_cmd_config},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        gs_cli_print_command_list(stderr);
        return GS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || (!strcmp(argv[1], "help") && argc == 2)) {
        gs_cli_print_command_list(stdout);
        return GS_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("genrescope %s\n", GENRESCOPE_VERSION);
        return GS_EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        const gs_cli_spec *spec = gs_cli_find(argv[2]);
        if (!spec || argc > 3) {
            fprintf(stderr, "genrescope help: %s '%s'\n", spec ? "one command at a time, not" : "unknown command",
                    argv[spec ? 3 : 2]);
            fprintf(stderr, "Try 'genrescope --help' for the list of commands.\n");
            return GS_EXIT_USAGE;
        }
        gs_cli_print_help(stdout, spec);
        return GS_EXIT_OK;
    }
    gs_command_fn run = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            run = commands[i].run;
    if (!run) {
        fprintf(stderr, "genrescope: unknown command '%s'\n", argv[1]);
        fprintf(stderr, "Try 'genrescope --help' for the list of commands.\n");
        return GS_EXIT_USAGE;
    }
    /* The settings file, read once before any command: a typo in it is
     * reported with its line rather than silently ignored. */
    gs_error err;
    if (gs_config_load(&err) != GS_OK) {
        fprintf(stderr, "genrescope: %s\n", err.message);
        return GS_EXIT_USAGE;
    }
    int rc = run(argc - 1, argv + 1);
    /* Output that could not be written (a full disk, a closed pipe) is a
     * failed command, whatever it was. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "genrescope %s: cannot write the output: %s\n", argv[1], strerror(errno));
        return rc ? rc : 1;
    }
    return rc;
}
