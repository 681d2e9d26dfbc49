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
 * marker key), fills missing fields from the database limits and follows limit changes
 * (a second hash remembers the limit each field was filled from).
 *
 * Failures never go unanswered: database down -> tempfail_action; Redis down ->
 * DUNNO (redis_failure = open) or tempfail_action (closed), send-as still enforced.
 *
 * Usage: modo-policyd [-c modo.conf] [-f]   (-f: log to stderr)
 */
#include "addr.h"
#include "cache.h"
#include "conf.h"
#include "log.h"
#include "maps.h"
#include "policy_proto.h"
#include "redis.h"
#include "server.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* KEYS: counters hash, limits hash, day marker. ARGV: today, then per field (domain,
 * account): name ("" = none) and limit ("" = no limit); then needed, charge.
 * Returns {reset, blocked (0 none, 1 domain, 2 account), domain left, account left};
 * a left of "-" means no limit. */
static const char limit_script[] =
    "local reset = 0\n"
    "if redis.call('GET', KEYS[3]) ~= ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1], KEYS[2])\n"
    "  redis.call('SET', KEYS[3], ARGV[1])\n"
    "  reset = 1\n"
    "end\n"
    "local f, lim = {ARGV[2], ARGV[4]}, {ARGV[3], ARGV[5]}\n"
    "local cur = redis.call('HMGET', KEYS[1], f[1], f[2])\n"
    "local old = redis.call('HMGET', KEYS[2], f[1], f[2])\n"
    "local left = {'-', '-'}\n"
    "for i = 1, 2 do\n"
    "  if f[i] ~= '' then\n"
    "    if lim[i] == '' then\n"
    "      if cur[i] then redis.call('HDEL', KEYS[1], f[i]) end\n"
    "      if old[i] then redis.call('HDEL', KEYS[2], f[i]) end\n"
    "    else\n"
    "      local v = cur[i]\n"
    "      if not v then\n"
    "        redis.call('HSET', KEYS[1], f[i], lim[i])\n"
    "        v = lim[i]\n"
    "      elseif old[i] and old[i] ~= lim[i] then\n"
    "        v = redis.call('HINCRBY', KEYS[1], f[i], tonumber(lim[i]) - tonumber(old[i]))\n"
    "      end\n"
    "      if old[i] ~= lim[i] then redis.call('HSET', KEYS[2], f[i], lim[i]) end\n"
    "      left[i] = tonumber(v)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local need = tonumber(ARGV[6])\n"
    "for i = 1, 2 do\n"
    "  if need > 0 and left[i] ~= '-' and left[i] < need then\n"
    "    return {reset, i, tostring(left[1]), tostring(left[2])}\n"
    "  end\n"
    "end\n"
    "local charge = tonumber(ARGV[7])\n"
    "if charge > 0 then\n"
    "  for i = 1, 2 do\n"
    "    if left[i] ~= '-' then\n"
    "      left[i] = redis.call('HINCRBY', KEYS[1], f[i], -charge)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {reset, 0, tostring(left[1]), tostring(left[2])}\n";

enum check { CHECK_SEND_AS, CHECK_AUTH_REQUIRED, CHECK_MAILBOX_FULL, CHECK_LIMITS, CHECK__COUNT };
static const char *const check_settings[CHECK__COUNT] = {
    "send_as", "auth_required_for_hosted_senders", "mailbox_full", "daily_limits"};

static struct policyd {
    const char *conf_path;
    struct conf *conf;
    struct map_config maps;
    struct store *store;
    struct cache *cache;
    struct redis *redis;
    struct event *midnight_ev;
    char script_sha[41];
    bool message_mode, fail_closed;
    /* settings read once (conf_str searches the table) */
    const char *contexts[CHECK__COUNT];
    const char *limit_action, *tempfail_action, *mailbox_full_action, *counters;
    size_t max_request;
    char limits_key[300], day_key[300];
    unsigned long long requests, tempfails;
} pd;

/* Per connection: the transaction being checked (limit_mode = message). */
struct pconn {
    int refs;
    char instance[64];
    long pending; /* recipients accepted in this transaction, not charged yet */
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
    struct policy_request pr;
    const char *state, *context, *sender, *recipient, *login, *client;
    char login_folded[ADDR_MAX + 1];
    bool eom;
    int next;             /* the next check to run */
    char *action;         /* decided (malloc'd), NULL = DUNNO so far */
    const char *decided_by;
    char account[ADDR_MAX + 1], domain[ADDR_MAX_DOMAIN + 1];
    long long account_limit, domain_limit; /* -1 = none */
    char rcpt[sizeof(((struct addr *)0)->full)]; /* mailbox_full: the folded recipient */
    long long quota_mb;
};

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
    if (r->action != NULL || log_debug_enabled())
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
    pd.tempfails++;
    log_warning("%s: %s: cannot check (%s): answering %s", by, r->recipient, why,
                pd.tempfail_action);
    decide(r, by, "%s", pd.tempfail_action);
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
    map_lookup(pd.cache, &pd.maps, MAP_DOMAIN_ALIASES, at + 1, strlen(at + 1), auth_required_done,
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
        store_ask(pd.store, STORE_Q_QUOTA_GET, args, quota_usage_done, r);
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
    store_ask(pd.store, STORE_Q_LIMIT_ALARM_OPEN, args, alarm_done, key);
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
        store_ask(pd.store, STORE_Q_LIMIT_ALARMS_CLOSE, NULL, alarms_closed, NULL);
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
    const char *n;

    if (!pd.message_mode)
        return 1;
    n = policy_get(&r->pr, "recipient_count");
    return r->eom && n != NULL ? atol(n) : 0;
}

static int run_script(struct req *r, bool eval);

static void script_done(redisReply *rep, void *arg)
{
    struct req *r = arg;
    long charged = request_charge(r);

    if (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        /* first use on this Redis: send the script itself; EVALSHA works from then on */
        if (run_script(r, true) == 0)
            return;
        rep = NULL;
    }
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
        if (pd.fail_closed)
            tempfail(r, "daily_limit", rep ? "unexpected reply from Redis" : "Redis");
        run_checks(r);
        return;
    }
    check_reset(reply_int(rep->element[0]));
    if (rep->element[1]->integer == 1 || rep->element[1]->integer == 2) {
        bool dom = rep->element[1]->integer == 1;
        log_info("daily limit of %s %s reached: %s deferred", dom ? "domain" : "account",
                 dom ? r->domain : r->account, r->eom ? "message" : r->recipient);
        decide(r, "daily_limit", "%s", pd.limit_action);
    } else {
        /* the charge that brought a counter to zero or below opens the alarm */
        long long dleft = reply_int(rep->element[2]), aleft = reply_int(rep->element[3]);
        if (charged > 0 && dleft != LLONG_MIN && dleft <= 0 && dleft + charged > 0)
            limit_reached("domain", r->domain);
        if (charged > 0 && aleft != LLONG_MIN && aleft <= 0 && aleft + charged > 0)
            limit_reached("account", r->account);
        if (pd.message_mode && !r->eom)
            r->pc->pending++;
    }
    run_checks(r);
}

/* today as YYYYMMDD (UTC) */
static void today(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y%m%d", &tm);
}

/* The script's keys: the counters hash, the limits it was filled from, the day marker. */
struct script_keys {
    char limits[300], day[300], today[16];
};

static void script_keys(struct script_keys *k)
{
    snprintf(k->limits, sizeof(k->limits), "%s", pd.limits_key);
    snprintf(k->day, sizeof(k->day), "%s", pd.day_key);
    today(k->today, sizeof(k->today));
}

static int run_script(struct req *r, bool eval)
{
    struct script_keys k;
    char dlim[24] = "", alim[24] = "", need[24], charge[24];
    const char *argv[13];

    script_keys(&k);
    if (r->domain_limit >= 0)
        snprintf(dlim, sizeof(dlim), "%lld", r->domain_limit);
    if (r->account_limit >= 0)
        snprintf(alim, sizeof(alim), "%lld", r->account_limit);
    snprintf(need, sizeof(need), "%ld", request_need(r));
    snprintf(charge, sizeof(charge), "%ld", request_charge(r));
    argv[0] = eval ? "EVAL" : "EVALSHA";
    argv[1] = eval ? limit_script : pd.script_sha;
    argv[2] = "3";
    argv[3] = pd.counters;
    argv[4] = k.limits;
    argv[5] = k.day;
    argv[6] = k.today;
    argv[7] = r->domain;
    argv[8] = dlim;
    argv[9] = r->account;
    argv[10] = alim;
    argv[11] = need;
    argv[12] = charge;
    return redis_command_argv(pd.redis, script_done, r, 13, argv, NULL);
}

static void limits_done(const struct store_answer *ans, void *arg)
{
    struct req *r = arg;

    if (ans->status < 0) {
        tempfail(r, "daily_limit", ans->error ? ans->error : "database");
        run_checks(r);
        return;
    }
    if (ans->status == 0 || ans->nrows == 0 || ans->cells[1] == NULL ||
        (ans->cells[0] == NULL && ans->cells[2] == NULL)) {
        run_checks(r); /* no mailbox, or no limit: nothing to count */
        return;
    }
    r->account_limit = ans->cells[0] ? atoll(ans->cells[0]) : -1;
    r->domain_limit = ans->cells[2] ? atoll(ans->cells[2]) : -1;
    snprintf(r->domain, sizeof(r->domain), "%s", ans->cells[1]);
    if (run_script(r, false) < 0) {
        if (pd.fail_closed)
            tempfail(r, "daily_limit", "Redis unavailable");
        run_checks(r);
    }
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
            map_lookup(pd.cache, &pd.maps, MAP_SENDER_LOGIN, r->sender, strlen(r->sender),
                       send_as_done, r);
            return;
        }
        case CHECK_AUTH_REQUIRED: {
            const char *at = strrchr(r->sender, '@');
            if (r->login[0] != '\0' || at == NULL || at[1] == '\0')
                continue;
            map_lookup(pd.cache, &pd.maps, MAP_DOMAINS, at + 1, strlen(at + 1),
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
            cache_ask(pd.cache, STORE_Q_USERDB, args, quota_limit_done, r);
            return;
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
            cache_ask(pd.cache, STORE_Q_MESSAGE_LIMITS, args, limits_done, r);
            return;
        }
        case CHECK__COUNT:
            break;
        }
    }
    finish(r);
}

static const char *attr(struct req *r, const char *name)
{
    const char *v = policy_get(&r->pr, name);
    return v ? v : "";
}

static void start_request(struct server_conn *conn, struct req *r)
{
    struct pconn *pc = server_conn_data(conn);
    const char *instance;
    size_t i;

    pd.requests++;
    r->reply = server_reply_begin(conn);
    r->pc = pc;
    pc->refs++;
    r->state = attr(r, "protocol_state");
    r->context = attr(r, "policy_context");
    r->sender = attr(r, "sender");
    r->recipient = attr(r, "recipient");
    r->login = attr(r, "sasl_username");
    r->client = attr(r, "client_address");
    r->account_limit = r->domain_limit = -1;
    for (i = 0; r->login[i] && i < sizeof(r->login_folded) - 1; i++)
        r->login_folded[i] = (char)((r->login[i] >= 'A' && r->login[i] <= 'Z')
                                        ? r->login[i] - 'A' + 'a'
                                        : r->login[i]);
    r->login_folded[i] = '\0';
    /* a new transaction on this connection starts a new count */
    instance = attr(r, "instance");
    if (strcmp(instance, pc->instance) != 0) {
        snprintf(pc->instance, sizeof(pc->instance), "%s", instance);
        pc->pending = 0;
    }
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
    size_t pos = 0, max = pd.max_request;

    for (;;) {
        struct req *r = xcalloc(1, sizeof(*r));
        const char *err;
        size_t used;
        enum codec_status st;

        policy_request_init(&r->pr);
        st = policy_decode(data + pos, len - pos, max, &r->pr, &used, &err);
        if (st == CODEC_NEED_MORE) {
            policy_request_free(&r->pr);
            free(r);
            return (long)pos;
        }
        if (st != CODEC_OK) {
            /* SMTPD_POLICY_README: never answer a malformed request; log and disconnect */
            log_warning("policy client: %s: disconnecting", err);
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
    if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 4)
        check_reset(reply_int(rep->element[0]));
}

static void schedule_midnight(void);

static void midnight(evutil_socket_t fd, short what, void *arg)
{
    struct script_keys k;
    const char *argv[13];

    (void)fd;
    (void)what;
    (void)arg;
    script_keys(&k);
    argv[0] = "EVAL";
    argv[1] = limit_script;
    argv[2] = "3";
    argv[3] = pd.counters;
    argv[4] = k.limits;
    argv[5] = k.day;
    argv[6] = k.today;
    argv[7] = argv[8] = argv[9] = argv[10] = "";
    argv[11] = argv[12] = "0";
    redis_command_argv(pd.redis, midnight_done, NULL, 13, argv, NULL);
    schedule_midnight();
}

static void schedule_midnight(void)
{
    time_t now = time(NULL);
    struct timeval tv = {86400 - (now % 86400) + 1, 0};

    evtimer_add(pd.midnight_ev, &tv);
}

static void *worker_init(struct server *srv, struct event_base *base)
{
    char *err = NULL;

    (void)srv;
    pd.store = store_open(base, pd.conf, &err);
    if (pd.store == NULL) {
        log_error("%s", err);
        free(err);
        return NULL;
    }
    pd.cache = cache_new(base, pd.conf, pd.store);
    pd.redis = redis_new(base, pd.conf, "counters",
                         pd.fail_closed ? "daily limits answer tempfail_action"
                                        : "daily limits are not enforced");
    if (pd.redis != NULL) {
        pd.midnight_ev = evtimer_new(base, midnight, NULL);
        schedule_midnight();
    } else if (strcmp(conf_str(pd.conf, "policyd", "daily_limits"), "") != 0) {
        log_warning("[redis] address is empty: daily limits are not enforced");
    }
    return &pd;
}

static void reload(struct server *srv, void *state)
{
    char *err = NULL;
    struct conf *fresh = conf_load(pd.conf_path, &err);

    (void)srv;
    (void)state;
    if (fresh == NULL) {
        log_error("reload: %s: keeping the running configuration", err);
        free(err);
        return;
    }
    log_set_debug(conf_bool(fresh, "policyd", "debug"));
    log_info("reloaded %s (only debug changes without a restart)", pd.conf_path);
    conf_free(&fresh);
}

static const struct server_protocol policyd_proto = {policyd_open_data, policyd_close};

int main(int argc, char **argv)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    bool foreground_log = false;
    struct server *srv;
    char *err = NULL;
    int opt, rc;

    pd.conf_path = MODO_SYSCONFDIR "/modo/modo.conf";
    log_open("modo-policyd", LOG_TARGET_STDERR);
    while ((opt = getopt(argc, argv, "c:fh")) != -1) {
        switch (opt) {
        case 'c': pd.conf_path = optarg; break;
        case 'f': foreground_log = true; break;
        case 'h':
            printf("usage: modo-policyd [-c modo.conf] [-f]\n");
            return 0;
        default:
            fprintf(stderr, "usage: modo-policyd [-c modo.conf] [-f]\n");
            return 2;
        }
    }
    pd.conf = conf_load(pd.conf_path, &err);
    if (pd.conf == NULL)
        log_fatal("%s", err);
    if (!foreground_log && strcmp(conf_str(pd.conf, "policyd", "log"), "syslog") == 0)
        log_open("modo-policyd", LOG_TARGET_SYSLOG);
    log_set_debug(conf_bool(pd.conf, "policyd", "debug"));
    map_config_load(&pd.maps, pd.conf);
    pd.message_mode = strcmp(conf_str(pd.conf, "policyd", "limit_mode"), "message") == 0;
    pd.fail_closed = strcmp(conf_str(pd.conf, "policyd", "redis_failure"), "closed") == 0;
    for (i = 0; i < CHECK__COUNT; i++)
        pd.contexts[i] = conf_str(pd.conf, "policyd", check_settings[i]);
    pd.limit_action = conf_str(pd.conf, "policyd", "limit_action");
    pd.tempfail_action = conf_str(pd.conf, "policyd", "tempfail_action");
    pd.mailbox_full_action = conf_str(pd.conf, "policyd", "mailbox_full_action");
    pd.counters = conf_str(pd.conf, "policyd", "counters");
    pd.max_request = (size_t)conf_int(pd.conf, "policyd", "max_request");
    snprintf(pd.limits_key, sizeof(pd.limits_key), "%s:limits", pd.counters);
    snprintf(pd.day_key, sizeof(pd.day_key), "%s:day", pd.counters);
    EVP_Digest(limit_script, strlen(limit_script), md, &mdlen, EVP_sha1(), NULL);
    for (i = 0; i < mdlen; i++)
        snprintf(pd.script_sha + 2 * i, 3, "%02x", md[i]);
    srv = server_new(pd.conf, "policyd", &policyd_proto);
    server_set_reload(srv, reload);
    rc = server_run(srv, worker_init);
    if (pd.midnight_ev != NULL)
        event_free(pd.midnight_ev);
    redis_free(&pd.redis);
    cache_free(&pd.cache);
    store_close(&pd.store);
    server_free(&srv);
    conf_free(&pd.conf);
    return rc;
}
