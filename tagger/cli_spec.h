/* The genrescope CLI described as data: every subcommand's synopsis,
 * description, options (with their defaults) and exit statuses. The option
 * parser, `--help`, the man page and the shell completions are all made
 * from these tables, so they cannot disagree: an option exists for the
 * parser only if it has a row here, and its row is its documentation. */
#ifndef GS_TAGGER_CLI_SPEC_H
#define GS_TAGGER_CLI_SPEC_H

#include <stdio.h>

/* What an option's argument (or a command's operands) is: decides how the
 * shells complete it. */
typedef enum gs_cli_arg {
    GS_CLI_NO_ARG = 0,
    GS_CLI_FILE,   /* an existing or new file */
    GS_CLI_DIR,    /* a directory */
    GS_CLI_PATH,   /* a file or a directory */
    GS_CLI_GENRE,  /* a genre label or display name */
    GS_CLI_GENRES, /* comma-separated genres */
    GS_CLI_TRACK,  /* an indexed file or a track ID */
    GS_CLI_VALUE   /* a number or other value: nothing to complete */
} gs_cli_arg;

/* Option ids the parser returns for options without a short name (the
 * short ones return their letter). One id per option name across the CLI:
 * an option means the same thing in every command that has it. */
enum {
    GS_OPT_DB = 256,
    GS_OPT_JSON,
    GS_OPT_GENRE,
    GS_OPT_GENRE_NAMES,
    GS_OPT_BUSY_TIMEOUT,
    GS_OPT_NO_TAGS,
    GS_OPT_OVERWRITE,
    GS_OPT_MULTI,
    GS_OPT_MULTI_THRESHOLD,
    GS_OPT_HIDDEN,
    GS_OPT_SHARD,
    GS_OPT_BATCH,
    GS_OPT_BATCH_SECONDS,
    GS_OPT_FORCE,
    GS_OPT_MIN_CONFIDENCE,
    GS_OPT_BREAK_HARDLINKS,
    GS_OPT_MIXED,
    GS_OPT_MIN_SCORE,
    GS_OPT_ANY_MODEL,
    GS_OPT_SEED,
    GS_OPT_OUT,
    GS_OPT_VERSION,
    GS_OPT_DUPLICATES,
    GS_OPT_STATUS,
    GS_OPT_TAG_GENRE,
    GS_OPT_RELATIVE_TO,
    GS_OPT_MULTI_SEPARATOR,
    GS_OPT_NO_MULTI,
    GS_OPT_NO_OVERWRITE,
    GS_OPT_AT,
    /* Older long names kept working (users' scripts) and documented as such. */
    GS_OPT_ALIAS_TOP,
    GS_OPT_ALIAS_LIMIT,
    GS_OPT_ALIAS_LENGTH
};

typedef struct gs_cli_option {
    const char *name;    /* long name, without "--" */
    char short_name;     /* 0: none */
    int id;              /* what gs_cli_next returns for it */
    gs_cli_arg arg;      /* GS_CLI_NO_ARG: a flag */
    const char *metavar; /* the argument's name in help ("FILE"); NULL for flags */
    const char *help;    /* one paragraph, wrapped when printed */
    const char *def;     /* the default in words, or NULL */
} gs_cli_option;

typedef struct gs_cli_status {
    int code;
    const char *meaning;
} gs_cli_status;

typedef struct gs_cli_spec {
    const char *name;
    const char *summary;           /* one line for the command list */
    const char *synopsis;          /* what follows "genrescope NAME " in the usage */
    gs_cli_arg operands;           /* what the arguments after the options are */
    const char *description;       /* paragraphs separated by "\n\n" */
    const gs_cli_option *options;  /* ends with a row whose name is NULL */
    const gs_cli_status *statuses; /* ends with a row whose meaning is NULL */
} gs_cli_spec;

/* Every subcommand, in the order the command list shows them; NULL-ended.
 * (main.c maps the names to the functions, so using one command's spec does
 * not link every command in.) */
extern const gs_cli_spec *const gs_cli_commands[];
/* -h/--help and --version: every command has them (the parser adds them). */
extern const gs_cli_option gs_cli_common_options[];

/* The subcommand called name, or NULL. */
const gs_cli_spec *gs_cli_find(const char *name);

#endif
