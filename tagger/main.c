/* genrescope: tells what genre music is, tags libraries and answers
 * discovery queries. This file only dispatches to the subcommands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "genrescope.h"

static const gs_command commands[] = {
    {"classify", "print the genres of audio files", gs_cmd_classify},
    {"scan", "analyse a music library, tag files and index them", gs_cmd_scan},
    {"rescan", "re-analyse indexed files (or DIRs) on purpose", gs_cmd_rescan},
    {"show", "print what the index knows about a file, with its timeline", gs_cmd_show},
    {"similar", "tracks that sound most like a file", gs_cmd_similar},
    {"query", "tracks by genre distribution", gs_cmd_query},
    {"playlist", "a playlist that stays near a seed track", gs_cmd_playlist},
    {"stats", "genre histogram and index size", gs_cmd_stats},
    {"merge", "combine shard indexes into one", gs_cmd_merge},
    {"prune", "remove index entries of files that no longer exist", gs_cmd_prune},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: genrescope COMMAND [OPTIONS] [ARGS]\n\n"
                 "Genre recognition for audio files and music libraries.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'genrescope COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("genrescope %s\n", GENRESCOPE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].run(argc - 1, argv + 1);
            /* Output that could not be written (a full disk, a closed pipe)
             * is a failed command, whatever it was. */
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "genrescope %s: cannot write the output: %s\n", argv[1],
                        strerror(errno));
                return rc ? rc : 1;
            }
            return rc;
        }
    fprintf(stderr, "genrescope: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return 2;
}
