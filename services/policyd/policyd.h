/*
 * policyd.h - what the parts of modo-policyd share (private to services/policyd): the
 * daemon's state, a connection's transaction and a request going through its checks.
 *
 *   policyd.c  the protocol, the check chain, send-as, hosted senders, full mailboxes
 *   limits.c   daily sending limits: Modoboa's Redis counters, one script per batch,
 *              the new day at midnight, the limit alarms
 *   rates.c    rate limits (GCRA buckets in Redis; the rules: ratelimit.c)
 */
#ifndef MODO_POLICYD_H
#define MODO_POLICYD_H

#include "addr.h"
#include "maps.h"
#include "policy_proto.h"
#include "ratelimit.h"
#include "redis.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct conf;
struct event;
struct event_base;
struct server_reply;
struct store_answer;
struct batch;

enum check {
    CHECK_SEND_AS,
    CHECK_AUTH_REQUIRED,
    CHECK_MAILBOX_FULL,
    CHECK_RATE,
    CHECK_LIMITS,
    CHECK__COUNT
};

/* The counters: requests by stage. */
enum stage { STAGE_RCPT, STAGE_EOM, STAGE_OTHER, STAGE__COUNT };

struct policyd {
    struct map_config maps;
    struct redis *redis;
    struct event *midnight_ev, *flush_ev;
    struct redis_script limit_script, rate_script;
    struct rate_config rates;
    const char *rate_action, *rate_prefix;
    bool message_mode, fail_closed, log_accepted;
    /* settings read once (conf_str searches the table) */
    const char *contexts[CHECK__COUNT];
    const char *limit_action, *tempfail_action, *mailbox_full_action, *counters;
    size_t max_request;
    char limits_key[300], day_key[300];
    unsigned long long requests, tempfails;
    struct batch *open_batch; /* the requests that arrived together (limits.c) */
    struct req *spare;        /* kept when no complete request was waiting */
};
extern struct policyd pd;

/* Per connection: the transaction being checked (limit_mode = message). */
struct pconn {
    int refs;
    char instance[64];
    bool message_counted; /* the rate limits counted this transaction's message */
    long pending;  /* recipients accepted in this transaction, not charged yet */
    long inflight; /* recipients of this transaction waiting for the script */
};

/* One request going through its checks. */
struct req {
    struct server_reply *reply;
    struct pconn *pc;
    const char *state, *context, *sender, *recipient, *login, *client, *instance;
    long recipient_count;
    char login_folded[ADDR_MAX + 1];
    bool eom;
    bool tempfailed;      /* the answer is tempfail_action */
    enum stage stage;     /* for the counters */
    struct timespec start;
    int next;             /* the next check to run */
    char *action;         /* decided (malloc'd), NULL = DUNNO so far */
    const char *decided_by;
    char account[ADDR_MAX + 1], domain[ADDR_MAX_DOMAIN + 1];
    long long account_limit, domain_limit; /* -1 = none */
    char rcpt[sizeof(((struct addr *)0)->full)]; /* mailbox_full: the folded recipient */
    long long quota_mb;
    struct policy_request pr; /* last: its attribute table need not be zeroed */
};

/* policyd.c */
void run_checks(struct req *r);
void decide(struct req *r, const char *by, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tempfail(struct req *r, const char *by, const char *why);

/* limits.c */
void limits_init(void);
/* The counters' Redis connection (and the batch and midnight events). */
void counters_connect(struct event_base *base, const struct conf *conf);
/* STORE_Q_MESSAGE_LIMITS answered: charge the request (cache callback). */
void limits_done(const struct store_answer *ans, void *arg);

/* rates.c */
void rates_init(void);
/* 0 sent (run_checks goes on from its reply), 1 nothing to count, -1 Redis down */
int rate_send(struct req *r);

#endif
