/* Option parsing and --help for the subcommands, both driven by their
 * gs_cli_spec (cli_spec.h), with GNU conventions: a bad option is one line
 * on stderr and "Try 'genrescope CMD --help'", not the whole help. */
#ifndef GS_TAGGER_CLI_PARSE_H
#define GS_TAGGER_CLI_PARSE_H

#include <getopt.h>
#include <stdio.h>

#include "cli_spec.h"

#define GS_CLI_MAX_OPTIONS 40

/* The options the index commands share, as the command should use them:
 * the value given, else the configuration file's, else the default. */
typedef struct gs_cli_shared {
    const char *db_path;     /* --db; NULL: the default index */
    const char *genre_names; /* --genre-names; NULL: the default file, if any */
    long busy_ms;            /* --busy-timeout */
    int json;                /* --json */
} gs_cli_shared;

/* getopt_long's tables for one command, built from its spec. No heap: it
 * lives on the command's stack. */
typedef struct gs_cli_parser {
    const gs_cli_spec *spec;
    gs_cli_shared *shared; /* NULL: gs_cli_next returns the shared options too */
    struct option longopts[GS_CLI_MAX_OPTIONS + 1];
    char shortopts[3 * GS_CLI_MAX_OPTIONS + 2];
    int count; /* rows in longopts, without the terminator */
} gs_cli_parser;

/* Fills p from spec (its options, then -h/--help and --version) and resets
 * getopt for a new argv. Returns 0, or -1 when spec has more than
 * GS_CLI_MAX_OPTIONS options (a programming error the help test catches). */
int gs_cli_parser_init(gs_cli_parser *p, const gs_cli_spec *spec);

/* From now on gs_cli_next takes the shared options (those of them spec
 * declares) into *shared instead of returning them, a bad --busy-timeout
 * being its usage error; *shared starts with the configuration's values
 * (genrescope/config) and the defaults. shared must outlive the parsing. */
void gs_cli_parser_share(gs_cli_parser *p, gs_cli_shared *shared);

/* For a command whose only options are the shared ones: parses argv into
 * *shared (as gs_cli_parser_share does). Returns -1 when the command goes
 * on with its operands at optind, else the exit status to return now
 * (--help, --version, a bad option: already printed). */
int gs_cli_parse_shared_only(const gs_cli_spec *spec, int argc, char **argv, gs_cli_shared *shared);

/* gs_cli_next's answers besides an option id. */
#define GS_CLI_END  (-1) /* no more options: operands start at optind */
#define GS_CLI_EXIT (-2) /* the command must return *status now */

/* The next option's id (optarg holds its argument), like getopt_long.
 * Handles --help (help on stdout, status 0), --version (status 0) and bad
 * options or missing arguments (one line and the hint on stderr, status
 * 2) itself, answering GS_CLI_EXIT. */
int gs_cli_next(gs_cli_parser *p, int argc, char **argv, int *status);

/* "genrescope CMD: MESSAGE" and the --help hint on stderr; returns the
 * usage exit status (2) for `return gs_cli_usage_error(...)`. */
int gs_cli_usage_error(const gs_cli_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For the default: of a command's switch: an option its spec declares but
 * the command does not handle (a programming error the help test finds). */
int gs_cli_unhandled(const gs_cli_spec *spec, int id);

/* The usage error for a value the option with this id does not accept. */
int gs_cli_bad_value(const gs_cli_spec *spec, int id, const char *value);

/* The "-m, --model FILE" / "    --db FILE" heading of an option, into out
 * (always NUL-terminated). */
void gs_cli_option_heading(const gs_cli_option *o, char *out, size_t out_size);

/* A command's full help: usage, description, option table, exit statuses. */
void gs_cli_print_help(FILE *out, const gs_cli_spec *spec);

/* The program's own help: usage and the command list. */
void gs_cli_print_command_list(FILE *out);

/* Word-wraps text (paragraphs separated by "\n\n", forced breaks by "\n")
 * to width columns, the cursor being at column col and continuation lines
 * indented by indent. Ends without a newline; returns the column. */
int gs_cli_wrap(FILE *out, const char *text, int col, int indent, int width);

#endif
