/* The gs_error helpers every module reports through (genrescope/error.h):
 * filling, clearing and prefixing a message, and naming a status. Kept
 * apart so the smallest module can report errors without pulling in more. */
#include "genrescope/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

gs_status gs_error_set(gs_error *err, gs_status code, const char *fmt, ...)
{
    if (err) {
        va_list args;
        va_start(args, fmt);
        err->code = code;
        err->sys_errno = 0;
        vsnprintf(err->message, sizeof err->message, fmt, args);
        va_end(args);
    }
    return code;
}

gs_status gs_error_set_errno(gs_error *err, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list args;
        va_start(args, fmt);
        err->code = GS_ERR_IO;
        err->sys_errno = errnum;
        int n = vsnprintf(err->message, sizeof err->message, fmt, args);
        va_end(args);
        if (n >= 0 && (size_t)n < sizeof err->message)
            snprintf(err->message + n, sizeof err->message - (size_t)n, ": %s", strerror(errnum));
    }
    return GS_ERR_IO;
}

void gs_error_clear(gs_error *err)
{
    if (err) {
        err->code = GS_OK;
        err->sys_errno = 0;
        err->message[0] = '\0';
    }
}

void gs_error_prefix(gs_error *err, const char *context)
{
    if (!err || !context)
        return;
    char joined[GS_ERROR_MESSAGE_SIZE];
    size_t used = (size_t)snprintf(joined, sizeof joined, "%s: ", context);
    if (used < sizeof joined)
        snprintf(joined + used, sizeof joined - used, "%.*s", (int)(sizeof joined - used - 1), err->message);
    memcpy(err->message, joined, sizeof joined);
}

const char *gs_status_name(gs_status code)
{
    switch (code) {
    case GS_OK: return "ok";
    case GS_ERR_INVALID: return "invalid argument";
    case GS_ERR_NOMEM: return "out of memory";
    case GS_ERR_IO: return "I/O error";
    case GS_ERR_FORMAT: return "malformed input";
    case GS_ERR_UNSUPPORTED: return "unsupported";
    case GS_ERR_MODEL: return "invalid model";
    case GS_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
