/* GS_API marks the functions of the public API. The library is compiled
 * with -fvisibility=hidden, so a shared libgenrescope exports these and
 * nothing else: internals (the model header parser, Winograd kernels, the
 * architecture description...) stay private to it and can change freely.
 * tests/test_exports.sh checks that the exported symbols are exactly the
 * GS_API declarations of the installed headers. */
#ifndef GENRESCOPE_API_H
#define GENRESCOPE_API_H

#if defined(__GNUC__) || defined(__clang__)
#define GS_API __attribute__((visibility("default")))
#else
#define GS_API
#endif

#endif
