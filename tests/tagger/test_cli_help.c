/* Every subcommand's --help documents every option its parser accepts.
 * The list comes from the parser itself (the struct option table and the
 * short-option string getopt_long is given), not from the help's own data,
 * so an option added without a description, or a help table that drifts
 * from the parser, fails here. Also: a short option means one thing in
 * every command, and an option name has one id across the CLI. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli_parse.h"

#define DESC_COLUMN 26

/* The help text of spec, as gs_cli_print_help writes it (malloc'd). */
static char *help_of(const gs_cli_spec *spec)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    gs_cli_print_help(f, spec);
    fclose(f);
    return buf;
}

/* Start of the line holding p. */
static const char *line_start(const char *text, const char *p)
{
    while (p > text && p[-1] != '\n')
        p--;
    return p;
}

/* Whether the option row whose heading is on the line at ls has a
 * description: text from DESC_COLUMN on that line, or on the next line
 * when the heading filled the first. */
static int row_has_description(const char *ls)
{
    const char *le = strchr(ls, '\n');
    size_t len = le ? (size_t)(le - ls) : strlen(ls);
    if (len > DESC_COLUMN && !isspace((unsigned char)ls[DESC_COLUMN]) && ls[DESC_COLUMN - 1] == ' ')
        return 1;
    if (!le)
        return 0;
    const char *next = le + 1;
    for (int i = 0; i < DESC_COLUMN; i++)
        if (next[i] != ' ')
            return 0;
    return next[DESC_COLUMN] && !isspace((unsigned char)next[DESC_COLUMN]);
}

/* The option table's row for --name: a line "  -x, --name..." or
 * "      --name..." in the options section. NULL if absent. */
static const char *find_row(const char *help, const char *name)
{
    const char *options = strstr(help, "\noptions:\n");
    if (!options)
        return NULL;
    char needle[96];
    snprintf(needle, sizeof needle, "--%s", name);
    for (const char *p = strstr(options, needle); p; p = strstr(p + 1, needle)) {
        char after = p[strlen(needle)];
        if (after != ' ' && after != '\n')
            continue;
        const char *ls = line_start(help, p);
        /* A heading, not a mention inside another option's description. */
        if (p - ls == 6 && (!strncmp(ls, "  -", 3) || !strncmp(ls, "      ", 6)))
            return ls;
    }
    return NULL;
}

static void test_command(const gs_cli_spec *spec)
{
    gs_cli_parser parser;
    CHECK_MSG(gs_cli_parser_init(&parser, spec) == 0, "%s: parser", spec->name);
    char *help = help_of(spec);
    CHECK(help != NULL);
    if (!help)
        return;
    char usage[64];
    snprintf(usage, sizeof usage, "usage: genrescope %s ", spec->name);
    CHECK_MSG(!strncmp(help, usage, strlen(usage)), "%s: help starts with its usage", spec->name);
    CHECK_MSG(strstr(help, "\nexit status:\n  0 ") != NULL, "%s: exit statuses", spec->name);
    CHECK_MSG(strstr(help, "\n  2 ") != NULL, "%s: exit status 2 (bad usage)", spec->name);

    /* Every long option getopt_long accepts has a described row. */
    for (int i = 0; i < parser.count; i++) {
        const struct option *o = &parser.longopts[i];
        const char *row = find_row(help, o->name);
        CHECK_MSG(row != NULL, "%s --help has no row for --%s", spec->name, o->name);
        if (!row)
            continue;
        CHECK_MSG(row_has_description(row), "%s --help: --%s has no description", spec->name, o->name);
        /* An option that takes an argument shows its name in the heading. */
        const char *le = strchr(row, '\n');
        char heading[128];
        snprintf(heading, sizeof heading, "%.*s", (int)(le ? le - row : (long)strlen(row)), row);
        char *p = strstr(heading, o->name) + strlen(o->name);
        CHECK_MSG((o->has_arg == required_argument) == (p[0] == ' ' && isupper((unsigned char)p[1])),
                  "%s --%s: the heading shows an argument iff it takes one", spec->name, o->name);
        /* A short form getopt accepts for this option is in its heading. */
        for (const char *s = parser.shortopts; *s; s++) {
            if (*s == ':' || *s != o->val)
                continue;
            char shortform[16];
            snprintf(shortform, sizeof shortform, "  -%c, --", *s);
            CHECK_MSG(!strncmp(row, shortform, strlen(shortform)), "%s: -%c is not shown with --%s", spec->name, *s,
                      o->name);
        }
    }
    /* And every short option getopt accepts belongs to a long one. */
    for (const char *s = parser.shortopts; *s; s++) {
        if (*s == ':')
            continue;
        int found = 0;
        for (int i = 0; i < parser.count; i++)
            found |= parser.longopts[i].val == *s;
        CHECK_MSG(found, "%s: -%c has no long name (and so no help row)", spec->name, *s);
    }
    free(help);
}

/* The convention: a short option, or a long name, means one thing in
 * every command that has it. */
static void test_one_meaning(void)
{
    for (const gs_cli_spec *const *a = gs_cli_commands; *a; a++)
        for (const gs_cli_spec *const *b = gs_cli_commands; *b; b++)
            for (const gs_cli_option *x = (*a)->options; x->name; x++)
                for (const gs_cli_option *y = (*b)->options; y->name; y++) {
                    if (x->short_name && x->short_name == y->short_name)
                        CHECK_MSG(!strcmp(x->name, y->name), "-%c is --%s in %s but --%s in %s", x->short_name, x->name,
                                  (*a)->name, y->name, (*b)->name);
                    if (!strcmp(x->name, y->name))
                        CHECK_MSG(x->id == y->id && x->arg == y->arg, "--%s differs between %s and %s", x->name,
                                  (*a)->name, (*b)->name);
                }
}

int main(void)
{
    int n = 0;
    for (const gs_cli_spec *const *c = gs_cli_commands; *c; c++, n++) {
        test_command(*c);
        CHECK(gs_cli_find((*c)->name) == *c);
    }
    CHECK(n == 11);
    test_one_meaning();
    return gs_test_finish("test_cli_help");
}
