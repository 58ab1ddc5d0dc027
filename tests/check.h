/* check.h - the tiny assertion harness of the C unit tests.
 *
 *   int main(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(f(), 3); return check_report("test_x"); }
 *
 * Each failed check prints file:line and the values; check_report prints "N passed, N failed"
 * and returns the process exit code (0 only if nothing failed). */
#ifndef PREFREC_TEST_CHECK_H
#define PREFREC_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed_, check_failed_;

#define CHECK(cond) \
    do { \
        if (cond) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define CHECK_EQ_INT(a, b) \
    do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ == b_) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b, \
                    a_, b_); \
        } \
    } while (0)

#define CHECK_EQ_U64(a, b) \
    do { \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ == b_) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: %s == %s failed: %#llx vs %#llx\n", __FILE__, __LINE__, #a, \
                    #b, a_, b_); \
        } \
    } while (0)

#define CHECK_NEAR(a, b, tol) \
    do { \
        double a_ = (double)(a), b_ = (double)(b); \
        if (fabs(a_ - b_) <= (tol)) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: %s ~ %s failed: %.9g vs %.9g (tol %g)\n", __FILE__, __LINE__, \
                    #a, #b, a_, b_, (double)(tol)); \
        } \
    } while (0)

#define CHECK_STR(a, b) \
    do { \
        const char *a_ = (a), *b_ = (b); \
        if (a_ && b_ && strcmp(a_, b_) == 0) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" vs \"%s\"\n", __FILE__, __LINE__, #a, \
                    #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        } \
    } while (0)

/* substring check, for error messages */
#define CHECK_CONTAINS(hay, needle) \
    do { \
        const char *h_ = (hay), *n_ = (needle); \
        if (h_ && n_ && strstr(h_, n_)) \
            check_passed_++; \
        else { \
            check_failed_++; \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    h_ ? h_ : "(null)", n_ ? n_ : "(null)"); \
        } \
    } while (0)

static inline int check_report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
