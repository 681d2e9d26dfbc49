/*
 * tap - a tiny Test Anything Protocol emitter for the C unit tests.
 *
 * ok(cond, fmt, ...) prints "ok N - ..." or "not ok N - ..."; is_str() and
 * is_int() also print what was expected and what came. done_testing()
 * prints the plan and returns the exit status for main().
 */
#ifndef MODO_TAP_H
#define MODO_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 0))) static inline int tap_vok(int cond, const char *fmt,
                                                                va_list ap)
{
    tap_n++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

static inline __attribute__((format(printf, 2, 3))) int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = tap_vok(cond, fmt, ap);
    va_end(ap);
    return r;
}

static inline __attribute__((format(printf, 3, 4))) int is_str(const char *got, const char *want,
                                                              const char *fmt, ...)
{
    va_list ap;
    int cond = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);

    va_start(ap, fmt);
    tap_vok(cond, fmt, ap);
    va_end(ap);
    if (!cond)
        printf("#   got:      \"%s\"\n#   expected: \"%s\"\n", got ? got : "(null)",
               want ? want : "(null)");
    return cond;
}

static inline __attribute__((format(printf, 3, 4))) int is_int(long long got, long long want,
                                                              const char *fmt, ...)
{
    va_list ap;
    int cond = got == want;

    va_start(ap, fmt);
    tap_vok(cond, fmt, ap);
    va_end(ap);
    if (!cond)
        printf("#   got:      %lld\n#   expected: %lld\n", got, want);
    return cond;
}

static inline __attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static inline int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
