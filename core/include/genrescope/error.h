/* Error reporting shared by every Genrescope module.
 *
 * Functions that can fail return a gs_status (or NULL) and, when the caller
 * passes a non-NULL gs_error, fill it with a code and a one-line message that
 * can be shown to a user as is. core/ never prints and never exits. */
#ifndef GENRESCOPE_ERROR_H
#define GENRESCOPE_ERROR_H

#include "genrescope/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gs_status {
    GS_OK = 0,
    GS_ERR_INVALID = -1,     /* bad argument or parameter */
    GS_ERR_NOMEM = -2,       /* allocation failed */
    GS_ERR_IO = -3,          /* open/read/write/mmap failed (errno text in message) */
    GS_ERR_FORMAT = -4,      /* file contents malformed or not what they claim */
    GS_ERR_UNSUPPORTED = -5, /* recognised but not supported (codec, dtype, op) */
    GS_ERR_MODEL = -6,       /* model file fails validation */
    GS_ERR_INTERNAL = -7     /* a library we call failed unexpectedly */
} gs_status;

#define GS_ERROR_MESSAGE_SIZE 512

typedef struct gs_error {
    gs_status code;
    char message[GS_ERROR_MESSAGE_SIZE];
    int sys_errno; /* the errno of the failed system call behind a GS_ERR_IO
                      (set by gs_error_set_errno), else 0: callers branch on
                      it, never on the message's text */
} gs_error;

/* Fills *err (if err is not NULL) and returns code, so callers can write
 * `return gs_error_set(err, GS_ERR_IO, "cannot open %s", path);`. */
GS_API gs_status gs_error_set(gs_error *err, gs_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* GS_ERR_IO for a failed system call: the message is fmt's text, ": ", and
 * strerror(errnum); sys_errno is errnum. Returns GS_ERR_IO. */
GS_API gs_status gs_error_set_errno(gs_error *err, int errnum, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Resets *err to GS_OK with an empty message. err may be NULL. */
GS_API void gs_error_clear(gs_error *err);

/* Prefixes the message already in *err with "context: ". err may be NULL. */
GS_API void gs_error_prefix(gs_error *err, const char *context);

/* Static English name of a status, e.g. "I/O error". Never NULL. */
GS_API const char *gs_status_name(gs_status code);

#ifdef __cplusplus
}
#endif
#endif
