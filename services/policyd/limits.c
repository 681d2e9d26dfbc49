/*
 * limits - modo-policyd's daily sending limits (see policyd.h): Modoboa's messages_count
 * hash in Redis, charged by one Lua script per batch of requests that arrived together,
 * the new day at 00:00 UTC, the sending_limit alarms.
 */
#include "policyd.h"
#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* KEYS: counters hash, the limits hash of earlier versions (deleted with the day), day
 * marker. ARGV: today, then six per request (a batch of the requests that arrived together):
 * domain field ("" = none), its limit ("" = no limit), account field, its limit, needed,
 * charge. Returns reset, then per request: blocked (0 none, 1 domain, 2 account), domain
 * left, account left ("-" = no limit). The requests are applied in order, atomically as a
 * whole.
 *
 * A missing field is filled from the database limit; a field whose limit is gone is
 * deleted. A limit changed during the day is not followed here: whoever changes it adjusts
 * the counter by the difference, as Modoboa's post_save does (HINCRBY new - old) and
 * modoctl does too, so the counter ends where Modoboa's would. */
static const char limit_script[] =
    "local reset = 0\n"
    "if redis.call('GET', KEYS[3]) ~= ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1], KEYS[2])\n"
    "  redis.call('SET', KEYS[3], ARGV[1])\n"
    "  reset = 1\n"
    "end\n"
    "local out = {reset}\n"
    "for b = 2, #ARGV - 5, 6 do\n"
    "  local f, lim = {ARGV[b], ARGV[b + 2]}, {ARGV[b + 1], ARGV[b + 3]}\n"
    "  local need, charge = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])\n"
    "  local cur = redis.call('HMGET', KEYS[1], f[1], f[2])\n"
    "  local left = {'-', '-'}\n"
    "  for i = 1, 2 do\n"
    "    if f[i] ~= '' then\n"
    "      if lim[i] == '' then\n"
    "        if cur[i] then redis.call('HDEL', KEYS[1], f[i]) end\n"
    "      else\n"
    "        local v = cur[i]\n"
    "        if not v then\n"
    "          redis.call('HSET', KEYS[1], f[i], lim[i])\n"
    "          v = lim[i]\n"
    "        end\n"
    "        left[i] = tonumber(v)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local blocked = 0\n"
    "  for i = 1, 2 do\n"
    "    if blocked == 0 and need > 0 and left[i] ~= '-' and left[i] < need then\n"
    "      blocked = i\n"
    "    end\n"
    "  end\n"
    "  if blocked == 0 and charge > 0 then\n"
    "    for i = 1, 2 do\n"
    "      if left[i] ~= '-' then\n"
    "        left[i] = redis.call('HINCRBY', KEYS[1], f[i], -charge)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = blocked\n"
    "  out[#out + 1] = tostring(left[1])\n"
    "  out[#out + 1] = tostring(left[2])\n"
    "end\n"
    "return out\n";


/* ---- daily limits ---- */

static void alarm_done(const struct store_answer *ans, void *arg)
{
    if (ans->status < 0)
        log_warning("cannot open the limit alarm for %s: %s", (char *)arg,
                    ans->error ? ans->error : "?");
    free(arg);
}

static void limit_reached(const char *what, const char *name)
{
    const char *args[1];
    char *key = xmalloc(strlen(name) + 2);

    log_info("Limit reached for %s %s", what, name);
    sprintf(key, "%s%s", strcmp(what, "domain") == 0 ? "@" : "", name);
    args[0] = key;
    store_ask(daemon_store(), STORE_Q_LIMIT_ALARM_OPEN, args, alarm_done, key);
}

static void alarms_closed(const struct store_answer *ans, void *arg)
{
    (void)arg;
    if (ans->status < 0)
        log_warning("cannot close the limit alarms: %s", ans->error ? ans->error : "?");
    else if (ans->affected > 0)
        log_info("new day: %lld limit alarm%s closed", ans->affected, ans->affected == 1 ? "" : "s");
}

static void check_reset(long long reset)
{
    if (reset == 1) {
        log_info("new day (UTC): daily sending counters start again");
        store_ask(daemon_store(), STORE_Q_LIMIT_ALARMS_CLOSE, NULL, alarms_closed, NULL);
    }
}

static long long reply_int(const redisReply *e)
{
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    if (e->type == REDIS_REPLY_STRING && e->str[0] != '-')
        return atoll(e->str);
    return e->type == REDIS_REPLY_STRING ? LLONG_MIN : 0;
}

/* What this request checks and charges: rcpt mode 1 and 1; message mode, at RCPT the
 * recipients of the transaction so far plus this one and nothing, at END-OF-MESSAGE
 * nothing and recipient_count. */
static long request_need(const struct req *r)
{
    if (!pd.message_mode)
        return 1;
    return r->eom ? 0 : r->pc->pending + 1;
}

static long request_charge(const struct req *r)
{
    if (!pd.message_mode)
        return 1;
    return r->eom ? r->recipient_count : 0;
}

/* ---- the requests that arrive together share one script call ---- */

#define BATCH_MAX 64

struct batch {
    size_t n;
    struct req *reqs[BATCH_MAX];
    char nums[BATCH_MAX][4][24]; /* domain limit, account limit, need, charge */
};


/* Apply one request's result: blocked (1 domain, 2 account), counters left after it. */
static void apply_result(struct req *r, long long blocked, long long dleft, long long aleft)
{
    long charged = request_charge(r);

    if (blocked == 1 || blocked == 2) {
        log_info("daily limit of %s %s reached: %s deferred", blocked == 1 ? "domain" : "account",
                 blocked == 1 ? r->domain : r->account, r->eom ? "message" : r->recipient);
        decide(r, "daily_limit", "%s", pd.limit_action);
        return;
    }
    /* the charge that brought a counter to zero or below opens the alarm */
    if (charged > 0 && dleft != LLONG_MIN && dleft <= 0 && dleft + charged > 0)
        limit_reached("domain", r->domain);
    if (charged > 0 && aleft != LLONG_MIN && aleft <= 0 && aleft + charged > 0)
        limit_reached("account", r->account);
    if (pd.message_mode && !r->eom)
        r->pc->pending++;
}

/* The script could not run: fail open or closed, and go on. */
static void batch_failed(struct batch *b, const char *why)
{
    size_t i;

    for (i = 0; i < b->n; i++) {
        struct req *r = b->reqs[i];
        if (pd.message_mode && !r->eom)
            r->pc->inflight--;
        /* a request without limits only cleaned up fields: nothing to enforce */
        if (pd.fail_closed && (r->domain_limit >= 0 || r->account_limit >= 0))
            tempfail(r, "daily_limit", why);
        run_checks(r);
    }
    free(b);
}


static void batch_done(redisReply *rep, void *arg)
{
    struct batch *b = arg;
    size_t i;

    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 1 + 3 * b->n) {
        batch_failed(b, rep ? "unexpected reply from Redis" : "Redis");
        return;
    }
    check_reset(reply_int(rep->element[0]));
    for (i = 0; i < b->n; i++) {
        struct req *r = b->reqs[i];
        if (pd.message_mode && !r->eom)
            r->pc->inflight--;
        apply_result(r, reply_int(rep->element[1 + 3 * i]), reply_int(rep->element[2 + 3 * i]),
                     reply_int(rep->element[3 + 3 * i]));
    }
    for (i = 0; i < b->n; i++)
        run_checks(b->reqs[i]); /* may finish and free the request */
    free(b);
}

/* today as YYYYMMDD (UTC) */
static void today(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y%m%d", &tm);
}

static int send_batch(struct batch *b)
{
    const char *argv[5 + 6 * BATCH_MAX];
    char day[16];
    size_t i, n = 0;

    today(day, sizeof(day));
    argv[n++] = "3";
    argv[n++] = pd.counters;
    argv[n++] = pd.limits_key;
    argv[n++] = pd.day_key;
    argv[n++] = day;
    for (i = 0; i < b->n; i++) {
        argv[n++] = b->reqs[i]->domain;
        argv[n++] = b->nums[i][0];
        argv[n++] = b->reqs[i]->account;
        argv[n++] = b->nums[i][1];
        argv[n++] = b->nums[i][2];
        argv[n++] = b->nums[i][3];
    }
    return redis_script_run(pd.redis, &pd.limit_script, (int)n, argv, batch_done, b);
}

static void flush_batch(evutil_socket_t fd, short what, void *arg)
{
    struct batch *b = pd.open_batch;

    (void)fd;
    (void)what;
    (void)arg;
    pd.open_batch = NULL;
    if (b != NULL && send_batch(b) < 0)
        batch_failed(b, "Redis unavailable");
}

/* Queue a request for the script; the batch goes when this loop iteration ends. */
static void enqueue_limits(struct req *r)
{
    struct batch *b = pd.open_batch;
    long need;
    size_t i;

    if (b == NULL) {
        b = pd.open_batch = xcalloc(1, sizeof(*b));
        event_active(pd.flush_ev, EV_TIMEOUT, 0);
    }
    i = b->n++;
    b->reqs[i] = r;
    /* message mode: the recipients of this transaction already in flight count too */
    need = request_need(r);
    if (pd.message_mode && !r->eom)
        need += r->pc->inflight++;
    if (r->domain_limit >= 0)
        snprintf(b->nums[i][0], sizeof(b->nums[i][0]), "%lld", r->domain_limit);
    if (r->account_limit >= 0)
        snprintf(b->nums[i][1], sizeof(b->nums[i][1]), "%lld", r->account_limit);
    if (r->domain_limit < 0 && r->account_limit < 0)
        need = 0; /* nothing to check or charge: the fields are only cleaned up */
    snprintf(b->nums[i][2], sizeof(b->nums[i][2]), "%ld", need);
    snprintf(b->nums[i][3], sizeof(b->nums[i][3]), "%ld",
             need == 0 && !r->eom ? 0L : request_charge(r));
    if (b->n == BATCH_MAX)
        flush_batch(-1, 0, NULL);
}

void limits_done(const struct store_answer *ans, void *arg)
{
    struct req *r = arg;

    if (ans->status < 0) {
        tempfail(r, "daily_limit", ans->error ? ans->error : "database");
        run_checks(r);
        return;
    }
    if (ans->status == 0 || ans->nrows == 0 || ans->cells[1] == NULL) {
        run_checks(r); /* no mailbox: nothing to count */
        return;
    }
    /* no limit left: the script still runs, to delete the fields of limits removed */
    r->account_limit = ans->cells[0] ? atoll(ans->cells[0]) : -1;
    r->domain_limit = ans->cells[2] ? atoll(ans->cells[2]) : -1;
    snprintf(r->domain, sizeof(r->domain), "%s", ans->cells[1]);
    enqueue_limits(r);
}

/* ---- midnight: start the new day even without traffic, and close the alarms ---- */

static void midnight_done(redisReply *rep, void *arg)
{
    (void)arg;
    if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1)
        check_reset(reply_int(rep->element[0]));
}

static void schedule_midnight(void);

/* The script with no request: it only starts the new day. */
static void midnight(evutil_socket_t fd, short what, void *arg)
{
    const char *argv[5];
    char day[16];

    (void)fd;
    (void)what;
    (void)arg;
    today(day, sizeof(day));
    argv[0] = "3";
    argv[1] = pd.counters;
    argv[2] = pd.limits_key;
    argv[3] = pd.day_key;
    argv[4] = day;
    redis_script_run(pd.redis, &pd.limit_script, 5, argv, midnight_done, NULL);
    schedule_midnight();
}

static void schedule_midnight(void)
{
    time_t now = time(NULL);
    struct timeval tv = {86400 - (now % 86400) + 1, 0};

    evtimer_add(pd.midnight_ev, &tv);
}

/* The counters' Redis connection: none without an address, or with no check that counts. */
void counters_connect(struct event_base *base, const struct conf *conf)
{
    pd.redis = redis_new(base, conf, "counters",
                         pd.fail_closed ? "daily limits answer tempfail_action"
                                        : "daily limits are not enforced");
    if (pd.redis != NULL) {
        if (pd.flush_ev == NULL)
            pd.flush_ev = event_new(base, -1, 0, flush_batch, NULL);
        if (pd.midnight_ev == NULL) {
            pd.midnight_ev = evtimer_new(base, midnight, NULL);
            schedule_midnight();
        }
    } else if (strcmp(conf_str(conf, "policyd", "daily_limits"), "") != 0) {
        log_warning("[redis] address is empty: daily limits are not enforced");
    }
}

void limits_init(void)
{
    redis_script_init(&pd.limit_script, limit_script);
}
