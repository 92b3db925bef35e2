/* genrescope-docgen: writes genrescope(1) and the bash and zsh completions
 * from the commands' specs (cli_specs.c), the tables the option parser and
 * --help use, so the man page and the completions always say what the
 * program does. Run at build time; not installed.
 *   genrescope-docgen man|bash|zsh OUT */
#include <stdio.h>
#include <string.h>

#include "docgen.h"
#include "genrescope.h"

static char genres[2048];

static void load_genres(void)
{
    gs_error err;
    gs_model *m = gs_model_load_default(&err);
    if (!m)
        return; /* no built-in model: complete no genre names */
    for (int i = 0; i < gs_model_num_labels(m); i++) {
        if (!gs_model_is_genre_label(m, i))
            continue;
        size_t n = strlen(genres);
        snprintf(genres + n, sizeof genres - n, "%s%s", n ? " " : "", gs_model_label(m, i));
    }
    gs_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "man") && strcmp(argv[1], "bash") && strcmp(argv[1], "zsh"))) {
        fprintf(stderr, "usage: genrescope-docgen man|bash|zsh OUT\n");
        return 2;
    }
    load_genres();
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        return 1;
    }
    if (!strcmp(argv[1], "man"))
        gs_docgen_man(out);
    else if (!strcmp(argv[1], "bash"))
        gs_docgen_bash(out, genres);
    else
        gs_docgen_zsh(out, genres);
    if (fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
