/*
 * lastlogin - Dovecot's last_login times, held back per user (the newest wins) and written
 * to core_user.last_login at most [dictd] last_login_flush after the login, and at stop.
 * A write that fails is kept for the next flush. See dictd.h.
 */
#include "dictd.h"

#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "num.h"
#include "server.h"
#include "store.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned bucket_of(const char *user)
{
    return str_hash(user, strlen(user)) % LAST_LOGIN_BUCKETS;
}

static void flush_schedule(void);

static void touch_done(const struct store_answer *ans, void *arg)
{
    struct last_login *l = arg;

    dd.inflight--;
    if (ans->status < 0) {
        /* keep it for the next flush (unless a newer login is held already) */
        unsigned b = bucket_of(l->user);
        struct last_login *e;
        if (!dd.flush_failed_logged)
            log_warning("last login of %s not written (%s): kept for the next try", l->user,
                        ans->error ? ans->error : "database error");
        dd.flush_failed_logged = true;
        for (e = dd.held[b]; e != NULL && strcmp(e->user, l->user) != 0; e = e->next)
            ;
        if (e == NULL && dd.nheld < LAST_LOGIN_MAX) {
            l->next = dd.held[b];
            dd.held[b] = l;
            dd.nheld++;
            flush_schedule();
            return;
        }
    } else {
        dd.flush_failed_logged = false;
    }
    free(l);
}

static void flush_logins(void)
{
    size_t b;

    for (b = 0; b < LAST_LOGIN_BUCKETS; b++) {
        struct last_login *l;
        while ((l = dd.held[b]) != NULL) {
            char when[32];
            const char *args[2] = {l->user, when};
            dd.held[b] = l->next;
            dd.nheld--;
            dd.inflight++;
            snprintf(when, sizeof(when), "%lld", l->when);
            store_ask(daemon_store(), STORE_Q_TOUCH_LAST_LOGIN, args, touch_done, l);
        }
    }
}

static void flush_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    flush_logins();
}

static void flush_schedule(void)
{
    struct timeval tv = {dd.flush_ms / 1000, (dd.flush_ms % 1000) * 1000};

    if (dd.flush_ev == NULL)
        dd.flush_ev = evtimer_new(daemon_base(), flush_timer, NULL);
    if (!evtimer_pending(dd.flush_ev, NULL))
        evtimer_add(dd.flush_ev, &tv);
}

/* Dovecot's value is seconds, or ms/us/ns glued on (last_login_precision). */
long long lastlogin_seconds(long long v)
{
    while (v >= 100000000000LL) /* beyond year 5138 in seconds: a finer precision */
        v /= 1000;
    return v;
}

void lastlogin_hold(const char *user, long long when)
{
    unsigned b = bucket_of(user);
    struct last_login *e;

    for (e = dd.held[b]; e != NULL; e = e->next)
        if (strcmp(e->user, user) == 0) {
            if (when > e->when)
                e->when = when;
            return;
        }
    if (dd.nheld >= LAST_LOGIN_MAX) {
        log_warning("last login of %s dropped: %d users already waiting to be written", user,
                    LAST_LOGIN_MAX);
        return;
    }
    e = xmalloc(sizeof(*e) + strlen(user) + 1);
    strcpy(e->user, user);
    e->when = when;
    e->next = dd.held[b];
    dd.held[b] = e;
    dd.nheld++;
    metrics_request(K_LAST_LOGIN);
    metrics_answer(K_LAST_LOGIN, A_FOUND, 0);
    flush_schedule();
}

void lastlogin_drain(void)
{
    struct timespec t0;

    if (dd.flush_ev != NULL)
        evtimer_del(dd.flush_ev);
    flush_logins();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* the store's deadline answers each question; failures are kept and tried again once */
    while (dd.inflight > 0 && num_seconds_since(&t0) < 30)
        event_base_loop(daemon_base(), EVLOOP_ONCE);
    if (dd.nheld > 0) {
        flush_logins();
        while (dd.inflight > 0 && num_seconds_since(&t0) < 30)
            event_base_loop(daemon_base(), EVLOOP_ONCE);
    }
    if (dd.nheld > 0)
        log_error("%zu last-login times could not be written at stop", dd.nheld);
}

void lastlogin_free(void)
{
    size_t b;

    if (dd.flush_ev != NULL)
        event_free(dd.flush_ev);
    dd.flush_ev = NULL;
    for (b = 0; b < LAST_LOGIN_BUCKETS; b++) {
        struct last_login *l;
        while ((l = dd.held[b]) != NULL) {
            dd.held[b] = l->next;
            free(l);
        }
    }
}
