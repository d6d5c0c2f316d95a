/* test_util.h — the few macros our C unit tests share.
 * A test binary runs its checks, prints each failure with file:line, and exits
 * non-zero when any check failed (ctest reads the exit code). */
#ifndef YOUR_AI_TEST_UTIL_H
#define YOUR_AI_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int g_test_checks, g_test_failures;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        g_test_checks++;                                                               \
        if (!(cond)) {                                                                 \
            g_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                           \
    do {                                                                               \
        g_test_checks++;                                                               \
        if (!(cond)) {                                                                 \
            g_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
        }                                                                              \
    } while (0)

#define CHECK_STREQ(a, b) CHECK_MSG(strcmp((a), (b)) == 0, "'%s' != '%s'", (a), (b))

/* |a-b| <= tol * max(1, |b|) */
#define CHECK_NEAR(a, b, tol)                                                          \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))), \
              "%.17g vs %.17g (tol %g)", (double)(a), (double)(b), (double)(tol))

#define TEST_MAIN_END()                                                                \
    do {                                                                               \
        printf("%d checks, %d failed\n", g_test_checks, g_test_failures);              \
        return g_test_failures ? 1 : 0;                                                \
    } while (0)

#endif
