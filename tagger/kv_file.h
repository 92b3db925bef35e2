/* "key = value" files, the configuration and the genre names: one setting
 * a line; blank lines and lines starting with '#' are ignored; a '#' after
 * an unquoted value starts a comment; a value in double quotes keeps its
 * spaces and '#' (only a comment may follow it). Lines of any length: a
 * long comment never spills into a setting. */
#ifndef GS_TAGGER_KV_FILE_H
#define GS_TAGGER_KV_FILE_H

#include "genrescope/error.h"

/* Called for each setting, in file order; key and value are trimmed and
 * borrowed for the call. A status other than GS_OK stops the reading and
 * is returned (with *err as the callback set it). */
typedef gs_status (*gs_kv_fn)(const char *key, const char *value, int lineno, void *arg, gs_error *err);

/* Reads path (opened without blocking, so a FIFO there cannot hang the
 * program, and only if it is a regular file). A missing file is GS_OK
 * unless must_exist. form names a line's shape for the error message, e.g.
 * "key = value". Errors: GS_ERR_IO (cannot open, not a regular file),
 * GS_ERR_FORMAT ("PATH:LINE: expected 'FORM'", unbalanced quotes),
 * GS_ERR_NOMEM, or what each returned. */
gs_status gs_kv_read(const char *path, int must_exist, const char *form, gs_kv_fn each, void *arg, gs_error *err);

#endif
