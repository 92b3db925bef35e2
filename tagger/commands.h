/* Subcommands of the `genrescope` CLI. Each takes argc/argv starting at the
 * subcommand name and returns the process exit status; their options and
 * help are in cli_specs.c. */
#ifndef GS_TAGGER_COMMANDS_H
#define GS_TAGGER_COMMANDS_H

typedef int (*gs_command_fn)(int argc, char **argv);

int gs_cmd_classify(int argc, char **argv);

/* Library tagger and discovery (tagger/cmd_*.c). */
int gs_cmd_scan(int argc, char **argv);
int gs_cmd_rescan(int argc, char **argv);
int gs_cmd_show(int argc, char **argv);
int gs_cmd_similar(int argc, char **argv);
int gs_cmd_query(int argc, char **argv);
int gs_cmd_playlist(int argc, char **argv);
int gs_cmd_stats(int argc, char **argv);
int gs_cmd_merge(int argc, char **argv);
int gs_cmd_prune(int argc, char **argv);
int gs_cmd_config(int argc, char **argv);

#endif
