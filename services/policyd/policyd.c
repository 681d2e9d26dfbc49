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
#include "policyd.h"
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

static const char *const check_settings[CHECK__COUNT] = {
    "send_as", "auth_required_for_hosted_senders", "mailbox_full", "rate_limit_contexts",
    "daily_limits"};

struct policyd pd;

/* The counters: requests by stage, answers by stage and kind of action. */
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

static void pconn_unref(struct pconn *pc)
{
    if (pc != NULL && --pc->refs == 0)
        free(pc);
}

/* A request, zeroed up to its attribute table (a few kB that decoding fills). */
static struct req *req_new(void)
{
    struct req *r = xmalloc(sizeof(*r));

    memset(r, 0, offsetof(struct req, pr));
    policy_request_init(&r->pr);
    return r;
}

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
    metrics_answer(r->stage, answer_kind(action, r->tempfailed), num_seconds_since(&r->start));
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

void decide(struct req *r, const char *by, const char *fmt, ...)
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

void tempfail(struct req *r, const char *by, const char *why)
{
    pd.tempfails++;
    /* the decision has its line anyway; why, as daemon_tempfail_note tells it */
    daemon_tempfail_note("%s: %s: cannot check (%s): answering %s", by, r->recipient, why,
                         pd.tempfail_action);
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

/* ---- the chain ---- */

static bool check_applies(struct req *r, enum check c)
{
    return context_enabled(pd.contexts[c], r->context);
}

void run_checks(struct req *r)
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
    size_t pos = 0, max = pd.max_request;

    for (;;) {
        struct req *r;
        const char *err;
        size_t used;
        enum codec_status st;

        if (pos == len || !server_conn_take(conn))
            return (long)pos;
        r = pd.spare ? pd.spare : req_new();
        pd.spare = NULL;
        st = policy_decode(data + pos, len - pos, max, &r->pr, &used, &err);
        if (st == CODEC_NEED_MORE) {
            policy_request_free(&r->pr);
            pd.spare = r;
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
        limits_init();
        rates_init();
    }
    return 0;
}

static const struct server_protocol policyd_proto = {policyd_open_data, policyd_close, NULL};

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
