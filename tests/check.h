/* Minimal assertion helpers for the C unit tests: each failed check prints
 * file:line and the expression, and the test exits non-zero at the end. */
#ifndef GS_TEST_CHECK_H
#define GS_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int gs_test_failures;
static int gs_test_checks;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        gs_test_checks++;                                                                                              \
        if (!(cond)) {                                                                                                 \
            gs_test_failures++;                                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                           \
    do {                                                                                                               \
        gs_test_checks++;                                                                                              \
        if (!(cond)) {                                                                                                 \
            gs_test_failures++;                                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                          \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a), (double)(b), (double)(tol))

/* Prints a summary and returns the process exit status. */
static inline int gs_test_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, gs_test_checks, gs_test_failures);
    return gs_test_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Exit code CTest treats as "skipped" (SKIP_RETURN_CODE). */
#define GS_TEST_SKIP 77

#endif
