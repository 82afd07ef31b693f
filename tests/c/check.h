/*
 * check.h -- a minimal C test harness. Each CHECK prints "ok"/"not ok" lines in
 * TAP form; CHECK_DONE() prints the plan and "C: N passed, N failed" and returns
 * the exit status. tests/run adds the counts to the suite's summary.
 */
#ifndef EXPLAINER_CHECK_H
#define EXPLAINER_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond) {                                                           \
            check_passed++;                                                   \
            printf("ok %d - ", check_passed + check_failed);                  \
        } else {                                                              \
            check_failed++;                                                   \
            printf("not ok %d - %s:%d: ", check_passed + check_failed,        \
                   __FILE__, __LINE__);                                       \
        }                                                                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
    } while (0)

#define CHECK_STR(got, want, what)                                            \
    do {                                                                      \
        const char *check_g_ = (got), *check_w_ = (want);                     \
        int check_same_ = (check_g_ == NULL && check_w_ == NULL) ||           \
                          (check_g_ && check_w_ && strcmp(check_g_, check_w_) == 0); \
        CHECK(check_same_, "%s", what);                                       \
        if (!check_same_)                                                     \
            printf("#   got:  %s\n#   want: %s\n", check_g_ ? check_g_ : "(null)", \
                   check_w_ ? check_w_ : "(null)");                           \
    } while (0)

#define CHECK_DONE()                                                          \
    (printf("1..%d\n", check_passed + check_failed),                          \
     printf("C: %d passed, %d failed\n", check_passed, check_failed),         \
     check_failed ? 1 : 0)

#endif
