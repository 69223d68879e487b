/* A minimal test harness for the C API tests: CHECK records a failure and goes on. */
#ifndef ZKS_CHECK_H
#define ZKS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_count;
static int check_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

/* Checks that a zks_result-returning call gives `want`, printing both names if not. */
#define CHECK_RC(call, want)                                                     \
    do {                                                                         \
        zks_result check_rc_ = (call);                                           \
        check_count++;                                                           \
        if (check_rc_ != (zks_result)(want)) {                                   \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s returned %u (%s), wanted %s\n", __FILE__,  \
                    __LINE__, #call, (unsigned)check_rc_, zks_result_str(check_rc_), #want); \
        }                                                                        \
    } while (0)

/* Runs one test function, naming it on failure. */
#define RUN(test)                                                                \
    do {                                                                         \
        int before_ = check_failures;                                            \
        test();                                                                  \
        printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test);   \
    } while (0)

/* Prints the summary and gives main's exit status. */
static int check_summary(const char *program) {
    printf("%s: %d checks, %d failed\n", program, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
