/*
 * modo-policyd - Postfix policy delegation (check_policy_service): send-as enforcement,
 * daily sending limits, full mailboxes.
 *
 * Connections are kept open and may carry many requests, answered in order. Each
 * request runs the checks its policy_context enables ([policyd] send_as,
 * auth_required_for_hosted_senders, mailbox_full, daily_limits); the first that does
 * not answer DUNNO decides. Only RCPT (and, for limit_mode = message, END-OF-MESSAGE)
 * requests are examined; every other stage answers DUNNO.
 *
 * Daily limits keep Modoboa's Redis hash (messages_count: remaining allowance per
 * domain name and per account address), read by Modoboa's UI. One Lua script checks
 * and charges domain and account atomically; it starts a new day at 00:00 UTC (one
 * marker key), fills missing fields from the database limits and deletes the fields of
 * limits removed. Whoever changes a limit adjusts the counter (Modoboa's post_save,
 * modoctl), never this daemon too.
 *
 * Failures never go unanswered: database down -> tempfail_action; Redis down ->
 * DUNNO (redis_failure = open) or tempfail_action (closed), send-as still enforced.
 *
 * Options, reload and stop: daemon.h.
 */
#include "addr.h"
#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "maps.h"
#include "metrics.h"
#include "num.h"
#include "policy_proto.h"
#include "ratelimit.h"
#include "redis.h"
#include "server.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
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

/* GCRA, one bucket per rule and value. KEYS: the buckets. ARGV: now (ms), then per key:
 * emission interval (ms), period (ms), cost. Returns 0, or the number of the first rule
 * exceeded (nothing is charged then). */
static const char rate_script[] =
    "local now = tonumber(ARGV[1])\n"
    "local tats = {}\n"
    "for i = 1, #KEYS do\n"
    "  local t, period, cost = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i]) or now)\n"
    "  if tat < now then tat = now end\n"
    "  tats[i] = tat + t * cost\n"
    "  if cost > 0 and tats[i] - now > period then return i end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  if tonumber(ARGV[3 * i + 1]) > 0 then\n"
    "    redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now) + 1000)\n"
    "  end\n"
    "end\n"
    "return 0\n";

enum check {
    CHECK_SEND_AS,
    CHECK_AUTH_REQUIRED,
    CHECK_MAILBOX_FULL,
    CHECK_RATE,
    CHECK_LIMITS,
    CHECK__COUNT
};
static const char *const check_settings[CHECK__COUNT] = {
    "send_as", "auth_required_for_hosted_senders", "mailbox_full", "rate_limit_contexts",
    "daily_limits"};

static struct policyd {
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
} pd;

/* The counters: requests by stage, answers by stage and kind of action. */
enum stage { STAGE_RCPT, STAGE_EOM, STAGE_OTHER, STAGE__COUNT };
static const char *const stage_names[STAGE__COUNT] = {"rcpt", "end-of-message", "other"};
enum answer_kind { ANSWER_DUNNO, ANSWER_REJECT, ANSWER_DEFER, ANSWER_TEMPFAIL, ANSWER_OTHER,
                   ANSWER__COUNT };
static const char *const answer_names[ANSWER__COUNT] = {"dunno", "reject", "defer", "tempfail",
                                                        "other"};
static const struct metrics_def policyd_metrics = {
    "policyd", "stage", stage_names, STAGE__COUNT, "action", answer_names, ANSWER__COUNT};

static enum answer_kind answer_kind(const char *action, bool tempfailed)
{
    if (tempfailed)
        return ANSWER_TEMPFAIL;
    if (strncasecmp(action, "DUNNO", 5) == 0 || strncasecmp(action, "OK", 2) == 0)
        return ANSWER_DUNNO;
    if (strncasecmp(action, "REJECT", 6) == 0 || action[0] == '5')
        return ANSWER_REJECT;
    if (strncasecmp(action, "DEFER", 5) == 0 || action[0] == '4')
        return ANSWER_DEFER;
    return ANSWER_OTHER;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Per connection: the transaction being checked (limit_mode = message). */
struct pconn {
    int refs;
    char instance[64];
    bool message_counted; /* the rate limits counted this transaction's message */
    long pending;  /* recipients accepted in this transaction, not charged yet */
    long inflight; /* recipients of this transaction waiting for the script */
};

static void pconn_unref(struct pconn *pc)
{
    if (pc != NULL && --pc->refs == 0)
        free(pc);
}

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

/* A request, zeroed up to its attribute table (a few kB that decoding fills). */
static struct req *req_new(void)
{
    struct req *r = xmalloc(sizeof(*r));

    memset(r, 0, offsetof(struct req, pr));
    policy_request_init(&r->pr);
    return r;
}

static void run_checks(struct req *r);

/* Does a list of contexts ("*", "default", names) include this one? */
static bool context_enabled(const char *list, const char *context)
{
    const char *p = list;
    size_t n = strlen(context);

    while (*p) {
        size_t len;
        p += strspn(p, " ,");
        len = strcspn(p, " ,");
        if ((len == 1 && *p == '*') || (len == n && strncmp(p, context, n) == 0 && n > 0) ||
            (n == 0 && len == 7 && strncmp(p, "default", 7) == 0))
            return true;
        p += len;
    }
    return false;
}

static void finish(struct req *r)
{
    struct strbuf out = STRBUF_INIT;
    const char *action = r->action ? r->action : "DUNNO";

    policy_encode_action(&out, action);
    server_reply_finish(r->reply, out.data, out.len);
    metrics_answer(r->stage, answer_kind(action, r->tempfailed), seconds_since(&r->start));
    if (r->action != NULL || pd.log_accepted || log_debug_enabled())
        log_info("%s: client=%s, sasl_username=%s, sender=<%s>, recipient=<%s>, context=%s,"
                 " check=%s, action=%s",
                 r->state, r->client, r->login[0] ? r->login : "-", r->sender, r->recipient,
                 r->context[0] ? r->context : "default", r->decided_by ? r->decided_by : "-",
                 action);
    strbuf_free(&out);
    free(r->action);
    policy_request_free(&r->pr);
    pconn_unref(r->pc);
    free(r);
}

static void decide(struct req *r, const char *by, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void decide(struct req *r, const char *by, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(r->action);
    r->action = xstrdup(buf);
    r->decided_by = by;
}

static void tempfail(struct req *r, const char *by, const char *why)
{
    static struct log_limit limit;
    unsigned long more;

    pd.tempfails++;
    /* the decision has its line anyway; why, once a minute unless the database said it */
    if (store_is_up(daemon_store()) && log_limit_pass(&limit, 60, &more))
        log_warning("%s: %s: cannot check (%s): answering %s%s", by, r->recipient, why,
                    pd.tempfail_action, log_limit_note(more));
    decide(r, by, "%s", pd.tempfail_action);
    r->tempfailed = true;
}

/* ---- send-as: the login must own the envelope sender (the sender-login map's owners) ---- */

static void send_as_done(const struct map_result *res, void *arg)
{
    struct req *r = arg;
    bool owned = false;

    if (res->status == MAP_TEMPFAIL) {
        tempfail(r, "send_as", "database");
    } else if (res->status == MAP_FOUND) {
        const char *p = res->data, *end = res->data + res->len;
        size_t n = strlen(r->login_folded);
        while (p < end && !owned) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
            owned = len == n && strncasecmp(p, r->login_folded, n) == 0;
            p += len + 1;
        }
    }
    if (res->status != MAP_TEMPFAIL && !owned)
        decide(r, "send_as", "REJECT 5.7.1 <%s>: Sender address rejected: not owned by user %s",
               r->sender, r->login);
    run_checks(r);
}

/* ---- a hosted domain as sender needs authentication ---- */

static void auth_required_done(const struct map_result *res, void *arg)
{
    struct req *r = arg;

    if (res->status == MAP_TEMPFAIL)
        tempfail(r, "auth_required", "database");
    else if (res->status == MAP_FOUND)
        decide(r, "auth_required",
               "REJECT 5.7.1 <%s>: Sender address rejected: authentication required", r->sender);
    run_checks(r);
}

static void auth_required_domain_done(const struct map_result *res, void *arg)
{
    struct req *r = arg;
    const char *at = strrchr(r->sender, '@');

    if (res->status != MAP_NOTFOUND) { /* hosted, or the database failed */
        auth_required_done(res, arg);
        return;
    }
    /* an alias domain is hosted too */
    map_lookup(daemon_cache(), &pd.maps, MAP_DOMAIN_ALIASES, at + 1, strlen(at + 1), auth_required_done,
               r);
}

/* ---- mailbox full: usage (admin_quota) has reached the mailbox quota ---- */

static void quota_usage_done(const struct store_answer *ans, void *arg)
{
    struct req *r = arg;

    if (ans->status < 0) {
        tempfail(r, "mailbox_full", ans->error ? ans->error : "database");
    } else if (ans->status > 0 && ans->nrows > 0) {
        long long bytes = atoll(ans->cells[0]);
        if (bytes >= r->quota_mb * 1048576LL)
            decide(r, "mailbox_full", "%s", pd.mailbox_full_action);
    }
    run_checks(r);
}

static void quota_limit_done(const struct store_answer *ans, void *arg)
{
    struct req *r = arg;
    const char *args[1] = {r->rcpt};

    if (ans->status < 0) {
        tempfail(r, "mailbox_full", ans->error ? ans->error : "database");
    } else if (ans->status > 0 && ans->nrows > 0 && ans->cells[0] != NULL &&
               atoll(ans->cells[0]) > 0) {
        r->quota_mb = atoll(ans->cells[0]);
        store_ask(daemon_store(), STORE_Q_QUOTA_GET, args, quota_usage_done, r);
        return;
    }
    run_checks(r);
}

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

static struct batch *open_batch;

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
    struct batch *b = open_batch;

    (void)fd;
    (void)what;
    (void)arg;
    open_batch = NULL;
    if (b != NULL && send_batch(b) < 0)
        batch_failed(b, "Redis unavailable");
}

/* Queue a request for the script; the batch goes when this loop iteration ends. */
static void enqueue_limits(struct req *r)
{
    struct batch *b = open_batch;
    long need;
    size_t i;

    if (b == NULL) {
        b = open_batch = xcalloc(1, sizeof(*b));
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

static void limits_done(const struct store_answer *ans, void *arg)
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

/* ---- rate limits (services/policyd/ratelimit.c) ---- */

struct rate_args {
    size_t n;
    const char *argv[1 + RATE_MAX_RULES + 1 + 3 * RATE_MAX_RULES];
    char keys[RATE_MAX_RULES][1024];
    char nums[1 + 3 * RATE_MAX_RULES][24];
    size_t rule_of[RATE_MAX_RULES];
    bool message;
};

/* The buckets this request charges; 0 when no rule applies. */
static size_t rate_prepare(struct req *r, struct rate_args *a)
{
    struct addr sender;
    const char *err;
    bool sender_ok = r->sender[0] && addr_parse(r->sender, strlen(r->sender), &sender, &err) == 0;
    size_t i, nkeys = 0, k = 0;
    struct timespec now;

    a->message = false;
    for (i = 0; i < pd.rates.nrules; i++) {
        const struct rate_rule *rule = &pd.rates.rules[i];
        const char *value = NULL;
        switch (rule->key) {
        case RATE_SASL: value = r->login_folded[0] ? r->login_folded : NULL; break;
        case RATE_SENDER_DOMAIN: value = sender_ok ? sender.domain : NULL; break;
        case RATE_SENDER: value = sender_ok ? sender.full : NULL; break;
        case RATE_CLIENT:
            value = r->client[0] && strcmp(r->client, "unknown") != 0 ? r->client : NULL;
            break;
        }
        if (value == NULL || (rule->per_message && r->pc->message_counted))
            continue;
        snprintf(a->keys[nkeys], sizeof(a->keys[nkeys]), "%s:rate:%s:%s", pd.rate_prefix,
                 rule->text, value);
        a->rule_of[nkeys++] = i;
        a->message |= rule->per_message;
    }
    if (nkeys == 0)
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(a->nums[0], sizeof(a->nums[0]), "%lld",
             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    a->n = 0;
    snprintf(a->nums[1], sizeof(a->nums[1]), "%zu", nkeys);
    a->argv[a->n++] = a->nums[1];
    for (i = 0; i < nkeys; i++)
        a->argv[a->n++] = a->keys[i];
    a->argv[a->n++] = a->nums[0];
    for (i = 0, k = 2; i < nkeys; i++) {
        const struct rate_rule *rule = &pd.rates.rules[a->rule_of[i]];
        snprintf(a->nums[k], sizeof(a->nums[k]), "%lld", rule->period_ms / rule->count);
        snprintf(a->nums[k + 1], sizeof(a->nums[k + 1]), "%lld", rule->period_ms);
        snprintf(a->nums[k + 2], sizeof(a->nums[k + 2]), "1");
        a->argv[a->n++] = a->nums[k];
        a->argv[a->n++] = a->nums[k + 1];
        a->argv[a->n++] = a->nums[k + 2];
        k += 3;
    }
    return nkeys;
}


static void rate_done(redisReply *rep, void *arg)
{
    struct req *r = arg;
    struct rate_args a;

    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        if (pd.fail_closed)
            tempfail(r, "rate_limit", rep ? "unexpected reply from Redis" : "Redis");
    } else if (rep->integer > 0 && rate_prepare(r, &a) >= (size_t)rep->integer) {
        const struct rate_rule *rule = &pd.rates.rules[a.rule_of[rep->integer - 1]];
        log_info("rate limit %s exceeded: %s", rule->text, a.keys[rep->integer - 1]);
        decide(r, "rate_limit", "%s", pd.rate_action);
    } else if (rep->integer == 0 && rate_prepare(r, &a) > 0 && a.message) {
        r->pc->message_counted = true;
    }
    run_checks(r);
}

static int rate_send(struct req *r)
{
    struct rate_args a;

    if (rate_prepare(r, &a) == 0)
        return 1; /* nothing to count */
    return redis_script_run(pd.redis, &pd.rate_script, (int)a.n, a.argv, rate_done, r);
}

/* ---- the chain ---- */

static bool check_applies(struct req *r, enum check c)
{
    return context_enabled(pd.contexts[c], r->context);
}

static void run_checks(struct req *r)
{
    while (r->action == NULL && r->next < CHECK__COUNT) {
        enum check c = (enum check)r->next++;
        if (!check_applies(r, c))
            continue;
        if (r->eom && c != CHECK_LIMITS)
            continue;
        switch (c) {
        case CHECK_SEND_AS: {
            struct addr a;
            const char *err;
            /* the null sender is not checked; nor one that cannot be an address (DESIGN 6) */
            if (r->login[0] == '\0' || r->sender[0] == '\0' ||
                addr_parse(r->sender, strlen(r->sender), &a, &err) < 0)
                continue;
            map_lookup(daemon_cache(), &pd.maps, MAP_SENDER_LOGIN, r->sender, strlen(r->sender),
                       send_as_done, r);
            return;
        }
        case CHECK_AUTH_REQUIRED: {
            const char *at = strrchr(r->sender, '@');
            if (r->login[0] != '\0' || at == NULL || at[1] == '\0')
                continue;
            map_lookup(daemon_cache(), &pd.maps, MAP_DOMAINS, at + 1, strlen(at + 1),
                       auth_required_domain_done, r);
            return;
        }
        case CHECK_MAILBOX_FULL: {
            struct addr a;
            const char *err, *args[1];
            if (r->recipient[0] == '\0' ||
                addr_parse(r->recipient, strlen(r->recipient), &a, &err) < 0)
                continue;
            snprintf(r->rcpt, sizeof(r->rcpt), "%s", a.full);
            args[0] = r->rcpt;
            cache_ask(daemon_cache(), STORE_Q_USERDB, args, quota_limit_done, r);
            return;
        }
        case CHECK_RATE: {
            int sent;
            if (pd.rates.nrules == 0 || pd.redis == NULL || r->eom ||
                rate_exempt(&pd.rates, r->client))
                continue;
            if (!redis_is_up(pd.redis)) {
                if (pd.fail_closed)
                    tempfail(r, "rate_limit", "Redis unavailable");
                continue;
            }
            sent = rate_send(r);
            if (sent == 0)
                return;
            if (sent < 0 && pd.fail_closed)
                tempfail(r, "rate_limit", "Redis unavailable");
            continue;
        }
        case CHECK_LIMITS: {
            const char *args[1] = {r->login_folded};
            if (r->login[0] == '\0' || pd.redis == NULL)
                continue;
            if (!redis_is_up(pd.redis)) {
                if (pd.fail_closed)
                    tempfail(r, "daily_limit", "Redis unavailable");
                continue;
            }
            snprintf(r->account, sizeof(r->account), "%s", r->login_folded);
            cache_ask(daemon_cache(), STORE_Q_MESSAGE_LIMITS, args, limits_done, r);
            return;
        }
        case CHECK__COUNT:
            break;
        }
    }
    finish(r);
}

/* The attributes the checks use, in one pass (a repeated one keeps its last value). */
static void read_attrs(struct req *r)
{
    static const struct {
        const char *name;
        size_t offset;
    } wanted[] = {
        {"protocol_state", offsetof(struct req, state)},
        {"policy_context", offsetof(struct req, context)},
        {"sender", offsetof(struct req, sender)},
        {"recipient", offsetof(struct req, recipient)},
        {"sasl_username", offsetof(struct req, login)},
        {"client_address", offsetof(struct req, client)},
        {"instance", offsetof(struct req, instance)},
    };
    size_t i, j;

    r->state = r->context = r->sender = r->recipient = r->login = r->client = r->instance = "";
    for (i = 0; i < r->pr.nattrs; i++) {
        const struct policy_attr *a = &r->pr.attrs[i];
        if (a->name_len == 15 && strcmp(a->name, "recipient_count") == 0) {
            r->recipient_count = (long)num_or(a->value, 0, 1000000000, 0);
            continue;
        }
        for (j = 0; j < sizeof(wanted) / sizeof(wanted[0]); j++)
            if (a->name[0] == wanted[j].name[0] && strcmp(a->name, wanted[j].name) == 0) {
                *(const char **)((char *)r + wanted[j].offset) = a->value;
                break;
            }
    }
}

static void start_request(struct server_conn *conn, struct req *r)
{
    struct pconn *pc = server_conn_data(conn);
    size_t i;

    pd.requests++;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->reply = server_reply_begin(conn);
    r->pc = pc;
    pc->refs++;
    read_attrs(r);
    r->account_limit = r->domain_limit = -1;
    for (i = 0; r->login[i] && i < sizeof(r->login_folded) - 1; i++)
        r->login_folded[i] = (char)((r->login[i] >= 'A' && r->login[i] <= 'Z')
                                        ? r->login[i] - 'A' + 'a'
                                        : r->login[i]);
    r->login_folded[i] = '\0';
    /* a new transaction on this connection starts a new count */
    if (strcmp(r->instance, pc->instance) != 0) {
        snprintf(pc->instance, sizeof(pc->instance), "%s", r->instance);
        pc->pending = 0;
        pc->message_counted = false;
    }
    r->stage = strcasecmp(r->state, "RCPT") == 0                ? STAGE_RCPT
               : strcasecmp(r->state, "END-OF-MESSAGE") == 0 ? STAGE_EOM
                                                             : STAGE_OTHER;
    metrics_request(r->stage);
    if (strcasecmp(r->state, "RCPT") == 0) {
        run_checks(r);
    } else if (strcasecmp(r->state, "END-OF-MESSAGE") == 0 && pd.message_mode) {
        r->eom = true;
        pc->pending = 0;
        run_checks(r);
    } else {
        finish(r);
    }
}

static long policyd_data(struct server_conn *conn, const char *data, size_t len)
{
    static struct req *spare; /* kept when no complete request was waiting */
    size_t pos = 0, max = pd.max_request;

    for (;;) {
        struct req *r = spare ? spare : req_new();
        const char *err;
        size_t used;
        enum codec_status st;

        spare = NULL;
        st = policy_decode(data + pos, len - pos, max, &r->pr, &used, &err);
        if (st == CODEC_NEED_MORE) {
            policy_request_free(&r->pr);
            spare = r;
            return (long)pos;
        }
        if (st != CODEC_OK) {
            /* SMTPD_POLICY_README: never answer a malformed request; log and disconnect */
            log_warning("policy client: %s: disconnecting", err);
            metrics_bad_request();
            policy_request_free(&r->pr);
            free(r);
            return -1;
        }
        pos += used;
        start_request(conn, r);
    }
}

static void policyd_close(struct server_conn *conn)
{
    pconn_unref(server_conn_data(conn));
}

static long policyd_open_data(struct server_conn *conn, const char *data, size_t len)
{
    if (server_conn_data(conn) == NULL) {
        struct pconn *pc = xcalloc(1, sizeof(*pc));
        pc->refs = 1;
        server_conn_set_data(conn, pc);
    }
    return policyd_data(conn, data, len);
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
static void counters_connect(struct event_base *base, const struct conf *conf)
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

static int start(struct event_base *base)
{
    counters_connect(base, daemon_conf());
    return 0;
}

/* What was sent on a replaced connection is still answered there; then it goes. */
static void redis_retired(evutil_socket_t fd, short what, void *arg)
{
    struct redis *r = arg;

    (void)fd;
    (void)what;
    redis_free(&r);
}

static void reloaded(const struct conf *old, const struct conf *conf)
{
    if (conf_differs(old, conf, "redis", NULL)) {
        struct timeval tv = {10, 0};
        if (pd.redis != NULL)
            event_base_once(daemon_base(), -1, EV_TIMEOUT, redis_retired, pd.redis, &tv);
        pd.redis = NULL;
        counters_connect(daemon_base(), conf);
    }
}

static void stop(void)
{
    redis_free(&pd.redis);
    if (pd.midnight_ev != NULL)
        event_free(pd.midnight_ev);
    if (pd.flush_ev != NULL)
        event_free(pd.flush_ev);
    pd.midnight_ev = pd.flush_ev = NULL;
}

/* Check the [policyd] settings, then apply them all (start and reload). */
static int configure(const struct conf *conf, char **error_r)
{
    struct rate_config rates;
    char buf[256];
    const char *rerr;
    size_t i;

    if (rate_config_parse(&rates, conf_str(conf, "policyd", "rate_limits"),
                          conf_str(conf, "policyd", "rate_limit_exempt"), buf, sizeof(buf),
                          &rerr) < 0) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%s: [policyd] rate_limits / rate_limit_exempt: %s",
                      conf_origin(conf, "policyd", "rate_limits"), rerr);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    pd.rates = rates;
    map_config_load(&pd.maps, conf);
    pd.message_mode = strcmp(conf_str(conf, "policyd", "limit_mode"), "message") == 0;
    pd.fail_closed = strcmp(conf_str(conf, "policyd", "redis_failure"), "closed") == 0;
    for (i = 0; i < CHECK__COUNT; i++)
        pd.contexts[i] = conf_str(conf, "policyd", check_settings[i]);
    pd.limit_action = conf_str(conf, "policyd", "limit_action");
    pd.tempfail_action = conf_str(conf, "policyd", "tempfail_action");
    pd.mailbox_full_action = conf_str(conf, "policyd", "mailbox_full_action");
    pd.counters = conf_str(conf, "policyd", "counters");
    pd.max_request = (size_t)conf_int(conf, "policyd", "max_request");
    pd.log_accepted = conf_bool(conf, "policyd", "log_accepted");
    snprintf(pd.limits_key, sizeof(pd.limits_key), "%s:limits", pd.counters);
    snprintf(pd.day_key, sizeof(pd.day_key), "%s:day", pd.counters);
    pd.rate_action = conf_str(conf, "policyd", "rate_limit_action");
    pd.rate_prefix = conf_str(conf, "redis", "prefix");
    if (pd.limit_script.text == NULL) {
        redis_script_init(&pd.limit_script, limit_script);
        redis_script_init(&pd.rate_script, rate_script);
    }
    return 0;
}

static const struct server_protocol policyd_proto = {policyd_open_data, policyd_close};

static const struct daemon_ops policyd_ops = {
    .program = "modo-policyd",
    .section = "policyd",
    .summary = "Postfix policy service: send-as, daily sending limits, rate limits, full mailboxes",
    .proto = &policyd_proto,
    .metrics = &policyd_metrics,
    .configure = configure,
    .start = start,
    .reloaded = reloaded,
    .stop = stop,
};

int main(int argc, char **argv)
{
    return daemon_main(argc, argv, &policyd_ops);
}
