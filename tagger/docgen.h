/* The writers of genrescope-docgen (docgen.c): each renders every
 * command's spec (cli_specs.c) in one format to out. They only write; the
 * caller opens and checks the stream. genres: the genre labels to complete,
 * space-separated (may be empty). */
#ifndef GS_TAGGER_DOCGEN_H
#define GS_TAGGER_DOCGEN_H

#include <stdio.h>

#include "cli_parse.h"

void gs_docgen_man(FILE *out);
void gs_docgen_bash(FILE *out, const char *genres);
void gs_docgen_zsh(FILE *out, const char *genres);

#endif
