/* Small text helpers the programs' line readers share (the tagger's
 * "key = value" files, the trainer's "path,label" lists), so a line means
 * the same to both.
 *
 * Internal: not installed, not exported from the shared library. */
#ifndef GENRESCOPE_TEXT_H
#define GENRESCOPE_TEXT_H

/* Strips leading and trailing white space (isspace, as bytes) in place:
 * writes a '\0' after the last non-space byte and returns a pointer into s
 * at the first one. s must be a writable, NUL-terminated string; nothing
 * is allocated and nothing can fail. */
char *gs_text_trim(char *s);

#endif
