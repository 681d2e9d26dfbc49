/*
 * num - strict integers and the backoff; see num.h.
 */
#include "num.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define BACKOFF_FIRST_MS 100

int num_parse(const char *s, long long min, long long max, long long *v, const char **error_r)
{
    char *end;
    long long n;

    /* digits, with a minus sign at most: no blanks, no "+", no hex */
    if (s == NULL || !((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9'))) {
        *error_r = "not an integer";
        return -1;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (end == s || *end != '\0') {
        *error_r = "not an integer";
        return -1;
    }
    if (errno == ERANGE || n < min || n > max) {
        *error_r = "out of range";
        return -1;
    }
    *v = n;
    return 0;
}

long long num_or(const char *s, long long min, long long max, long long def)
{
    long long v;
    const char *err;

    return num_parse(s, min, max, &v, &err) == 0 ? v : def;
}

int num_parse_bool(const char *s, bool *v, const char **error_r)
{
    static const char *const yes[] = {"yes", "true", "on", "1", "y"};
    static const char *const no[] = {"no", "false", "off", "0", "n"};
    size_t i;

    for (i = 0; s != NULL && i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *v = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *v = false;
            return 0;
        }
    }
    *error_r = "not a boolean (yes or no)";
    return -1;
}

double num_seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

struct timeval backoff_next(struct backoff *b)
{
    struct timeval tv;

    b->ms = b->ms ? b->ms * 2 : BACKOFF_FIRST_MS;
    if (b->ms > b->max_ms)
        b->ms = b->max_ms;
    tv.tv_sec = b->ms / 1000;
    tv.tv_usec = (b->ms % 1000) * 1000;
    return tv;
}

void backoff_reset(struct backoff *b)
{
    b->ms = 0;
}

bool backoff_active(const struct backoff *b)
{
    return b->ms != 0;
}
