/*
 * tally - Modoboa's counters per domain and minute, held until their minute is over and
 * written to the RRD files; saved with each checkpoint so that a restart loses none.
 */
#ifndef MODO_TALLY_H
#define MODO_TALLY_H

#include "maillog_track.h"

#include <stddef.h>
#include <time.h>

struct strbuf;
struct tally;

struct tally *tally_new(void);
void tally_free(struct tally **t);
/* counter c of domain += v in the minute of t */
void tally_add(struct tally *t, const char *domain, time_t when, enum maillog_counter c,
               long long v);
/* The minutes that start before `before` (all: TALLY_ALL), taken out and given in order
 * (by domain, then minute); how many. */
#define TALLY_ALL ((time_t)INT64_MAX)
typedef void tally_cb(void *arg, const char *domain, time_t minute,
                      const long long v[MAILLOG_C__COUNT]);
size_t tally_take(struct tally *t, time_t before, tally_cb *cb, void *arg);
size_t tally_count(const struct tally *t);
/* "DOMAIN MINUTE V0 ... V8\n" per minute held, and back (load adds; -1 if malformed) */
void tally_save(const struct tally *t, struct strbuf *out);
int tally_load(struct tally *t, const char *text, size_t len);

#endif
