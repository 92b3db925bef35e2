/* getopt_long driven by a command's spec, the shared options, and --help
 * as the same spec describes it (cli_parse.h). */
#include "cli_parse.h"

#include <stdarg.h>
#include <string.h>

#include "cli_common.h"
#include "config.h"
#include "genrescope.h"

#define HELP_WIDTH  79
#define HELP_COLUMN 26 /* where option descriptions start */

const gs_cli_option gs_cli_common_options[] = {
    {"help", 'h', 'h', GS_CLI_NO_ARG, NULL, "show this help and exit", NULL},
    {"version", 0, GS_OPT_VERSION, GS_CLI_NO_ARG, NULL, "print the version and exit", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static int add_option(gs_cli_parser *p, const gs_cli_option *o)
{
    if (p->count == GS_CLI_MAX_OPTIONS) {
        fprintf(stderr, "genrescope %s: internal error: more than %d options\n", p->spec->name, GS_CLI_MAX_OPTIONS);
        return -1;
    }
    p->longopts[p->count++] =
        (struct option){o->name, o->arg == GS_CLI_NO_ARG ? no_argument : required_argument, NULL, o->id};
    if (o->short_name) {
        size_t n = strlen(p->shortopts);
        p->shortopts[n++] = o->short_name;
        if (o->arg != GS_CLI_NO_ARG)
            p->shortopts[n++] = ':';
        p->shortopts[n] = '\0';
    }
    return 0;
}

int gs_cli_parser_init(gs_cli_parser *p, const gs_cli_spec *spec)
{
    memset(p, 0, sizeof *p);
    p->spec = spec;
    /* Leading ':': a missing argument answers ':' (not '?'), so it gets
     * its own message. */
    strcpy(p->shortopts, ":");
    for (const gs_cli_option *o = spec->options; o && o->name; o++)
        if (add_option(p, o) != 0)
            return -1;
    for (const gs_cli_option *o = gs_cli_common_options; o->name; o++)
        if (add_option(p, o) != 0)
            return -1;
    /* Commands run one after another in tests' processes: restart getopt. */
    optind = 1;
    opterr = 0;
    return 0;
}

static const gs_cli_option *find_row(const gs_cli_spec *spec, int id)
{
    for (const gs_cli_option *o = spec->options; o && o->name; o++)
        if (o->id == id)
            return o;
    for (const gs_cli_option *o = gs_cli_common_options; o->name; o++)
        if (o->id == id)
            return o;
    return NULL;
}

int gs_cli_usage_error(const gs_cli_spec *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "genrescope %s: ", spec->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'genrescope %s --help' for more information.\n", spec->name);
    return GS_EXIT_USAGE;
}

int gs_cli_bad_value(const gs_cli_spec *spec, int id, const char *value)
{
    const gs_cli_option *o = find_row(spec, id);
    return gs_cli_usage_error(spec, "bad value for --%s: '%s'", o ? o->name : "?", value);
}

int gs_cli_unhandled(const gs_cli_spec *spec, int id)
{
    const gs_cli_option *o = find_row(spec, id);
    fprintf(stderr, "genrescope %s: internal error: option --%s is declared but not handled\n", spec->name,
            o ? o->name : "?");
    return GS_EXIT_USAGE;
}

/* What was wrong with a long option getopt_long refused (opterr is off, so
 * it said nothing): GNU's wording. */
static int long_option_error(const gs_cli_parser *p, const char *arg)
{
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    int matches = 0, exact = -1;
    for (int i = 0; i < p->count; i++)
        if (!strncmp(p->longopts[i].name, name, len)) {
            matches++;
            if (strlen(p->longopts[i].name) == len)
                exact = i;
        }
    if (exact < 0 && matches > 1)
        return gs_cli_usage_error(p->spec, "option '%.*s' is ambiguous", (int)len + 2, arg);
    if ((exact >= 0 || matches == 1) && name[len] == '=')
        return gs_cli_usage_error(p->spec, "option '%.*s' doesn't allow an argument", (int)len + 2, arg);
    return gs_cli_usage_error(p->spec, "unrecognized option '%s'", arg);
}

void gs_cli_parser_share(gs_cli_parser *p, gs_cli_shared *shared)
{
    *shared = (gs_cli_shared){.db_path = gs_config_value(GS_CONFIG_DB),
                              .genre_names = gs_config_value(GS_CONFIG_GENRE_NAMES),
                              .busy_ms = 5000};
    p->shared = shared;
}

int gs_cli_parse_shared_only(const gs_cli_spec *spec, int argc, char **argv, gs_cli_shared *shared)
{
    gs_cli_parser parser;
    if (gs_cli_parser_init(&parser, spec) != 0)
        return GS_EXIT_FATAL;
    gs_cli_parser_share(&parser, shared);
    /* The shared options are taken inside gs_cli_next: anything it returns
     * but the end is --help, --version, an error or an undeclared option. */
    int status, c = gs_cli_next(&parser, argc, argv, &status);
    if (c == GS_CLI_END)
        return -1;
    return c == GS_CLI_EXIT ? status : gs_cli_unhandled(spec, c);
}

/* Takes c into p->shared if it is a shared option: 1 taken, 0 not one, -1
 * a bad value (*status set). */
static int take_shared(gs_cli_parser *p, int c, int *status)
{
    gs_cli_shared *sh = p->shared;
    if (!sh)
        return 0;
    switch (c) {
    case GS_OPT_DB: sh->db_path = optarg; return 1;
    case GS_OPT_GENRE_NAMES: sh->genre_names = optarg; return 1;
    case GS_OPT_JSON: sh->json = 1; return 1;
    case GS_OPT_BUSY_TIMEOUT:
        if (gs_parse_long(optarg, 0, 3600000, &sh->busy_ms)) {
            *status = gs_cli_bad_value(p->spec, c, optarg);
            return -1;
        }
        return 1;
    default: return 0;
    }
}

int gs_cli_next(gs_cli_parser *p, int argc, char **argv, int *status)
{
    int c, taken;
    while ((c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL)) >= 0 &&
           (taken = take_shared(p, c, status)) != 0)
        if (taken < 0)
            return GS_CLI_EXIT;
    switch (c) {
    case -1: return GS_CLI_END;
    case 'h':
        gs_cli_print_help(stdout, p->spec);
        *status = GS_EXIT_OK;
        return GS_CLI_EXIT;
    case GS_OPT_VERSION:
        printf("genrescope %s\n", GENRESCOPE_VERSION);
        *status = GS_EXIT_OK;
        return GS_CLI_EXIT;
    case ':':
        /* optind has moved past the option that lacks its argument; its
         * optopt is the option's id, a letter for --count as for -c. */
        if (!strncmp(argv[optind - 1], "--", 2))
            *status = gs_cli_usage_error(p->spec, "option '%s' requires an argument", argv[optind - 1]);
        else
            *status = gs_cli_usage_error(p->spec, "option requires an argument -- '%c'", optopt);
        return GS_CLI_EXIT;
    case '?':
        if (!strncmp(argv[optind - 1], "--", 2))
            *status = long_option_error(p, argv[optind - 1]);
        else
            *status = gs_cli_usage_error(p->spec, "invalid option -- '%c'", optopt);
        return GS_CLI_EXIT;
    default: return c;
    }
}

void gs_cli_option_heading(const gs_cli_option *o, char *out, size_t out_size)
{
    if (o->short_name)
        snprintf(out, out_size, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
    else
        snprintf(out, out_size, "    --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

int gs_cli_wrap(FILE *out, const char *text, int col, int indent, int width)
{
    const char *s = text ? text : "";
    while (*s) {
        if (*s == '\n') {
            /* A paragraph break is a blank line; a single newline a break. */
            fputc('\n', out);
            if (s[1] == '\n') {
                fputc('\n', out);
                s++;
            }
            s++;
            col = fprintf(out, "%*s", indent, "");
            continue;
        }
        if (*s == ' ') {
            s++;
            continue;
        }
        size_t len = strcspn(s, " \n");
        int at_line_start = col <= indent;
        if (!at_line_start && col + 1 + (int)len > width) {
            col = fprintf(out, "\n%*s", indent, "") - 1;
            at_line_start = 1;
        }
        if (!at_line_start) {
            fputc(' ', out);
            col++;
        }
        fwrite(s, 1, len, out);
        col += (int)len;
        s += len;
    }
    return col;
}

static void print_option(FILE *out, const gs_cli_option *o)
{
    char head[96];
    gs_cli_option_heading(o, head, sizeof head);
    int col = fprintf(out, "  %s", head);
    if (col + 2 > HELP_COLUMN)
        col = fprintf(out, "\n%*s", HELP_COLUMN, "") - 1;
    else
        col += fprintf(out, "%*s", HELP_COLUMN - col, "");
    col = gs_cli_wrap(out, o->help, col, HELP_COLUMN, HELP_WIDTH);
    if (o->def) {
        char def[256];
        snprintf(def, sizeof def, "(default: %s)", o->def);
        gs_cli_wrap(out, def, col, HELP_COLUMN, HELP_WIDTH);
    }
    fputc('\n', out);
}

void gs_cli_print_help(FILE *out, const gs_cli_spec *spec)
{
    fprintf(out, "usage: genrescope %s %s\n\n", spec->name, spec->synopsis);
    gs_cli_wrap(out, spec->description, 0, 0, HELP_WIDTH);
    fprintf(out, "\n\noptions:\n");
    for (const gs_cli_option *o = spec->options; o && o->name; o++)
        print_option(out, o);
    for (const gs_cli_option *o = gs_cli_common_options; o->name; o++)
        print_option(out, o);
    fprintf(out, "\nexit status:\n");
    for (const gs_cli_status *s = spec->statuses; s && s->meaning; s++) {
        int col = fprintf(out, "  %-5d", s->code);
        gs_cli_wrap(out, s->meaning, col, 7, HELP_WIDTH);
        fputc('\n', out);
    }
}

void gs_cli_print_command_list(FILE *out)
{
    fprintf(out,
            "usage: genrescope COMMAND [OPTIONS] [ARGS]\n"
            "       genrescope help COMMAND\n\n"
            "Genre recognition for audio files and music libraries.\n\ncommands:\n");
    for (const gs_cli_spec *const *c = gs_cli_commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fprintf(out,
            "\n'genrescope help COMMAND' or 'genrescope COMMAND --help' describes a "
            "command;\n'genrescope --version' prints the version. See also genrescope(1).\n");
}

const gs_cli_spec *gs_cli_find(const char *name)
{
    for (const gs_cli_spec *const *c = gs_cli_commands; *c; c++)
        if (!strcmp((*c)->name, name))
            return *c;
    return NULL;
}
