/*
 * num - values read from text (settings, protocol attributes, endpoints, modoctl options)
 * elapsed time and the reconnection backoff: one strict parser family (integers, booleans) and one
 * backoff, instead of bare atoi and a parser per module.
 */
#ifndef MODO_NUM_H
#define MODO_NUM_H

#include <stdbool.h>

struct timeval;

/*
 * The whole of s as a decimal integer in [min, max]. 0, or -1 with *error_r (static text:
 * "not an integer", "out of range").
 */
int num_parse(const char *s, long long min, long long max, long long *v, const char **error_r);
/* The same, for text that must not fail loudly (a protocol attribute): def when invalid. */
long long num_or(const char *s, long long min, long long max, long long def);

/*
 * A boolean as admins write it: yes/true/on/1/y or no/false/off/0/n, any case. 0, or -1 with
 * *error_r (static text).
 */
int num_parse_bool(const char *s, bool *v, const char **error_r);

/* Seconds elapsed since t0 (CLOCK_MONOTONIC): latencies, outage durations. */
struct timespec;
double num_seconds_since(const struct timespec *t0);

/* Exponential backoff from 100 ms, doubling up to max_ms; reset once connected. */
struct backoff {
    long long ms, max_ms;
};
/* The next wait, as a timeval for evtimer_add. */
struct timeval backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);
/* Has it backed off since the last reset (a reconnection, for the counters)? */
bool backoff_active(const struct backoff *b);

#endif
