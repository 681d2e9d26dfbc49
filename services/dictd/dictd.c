/*
 * modo-dictd - Dovecot's dict proxy protocol (majors 3 and 4) over modo's database.
 *
 *   quota       priv/quota/storage and priv/quota/messages in admin_quota (quota = dict,
 *               quota_clone): a set is a set, an increment one atomic UPDATE; an increment
 *               on a missing row makes the commit answer N (Dovecot recalculates); a commit
 *               is answered O only once the database has it, F with the reason otherwise.
 *   last login  Dovecot's last_login plugin key (shared/last-login/<user>) into
 *               core_user.last_login, coalesced per user and written within
 *               [dictd] last_login_flush, and at stop.
 *   auth        shared/passdb/[<service>/]<user>, shared/userdb/[<service>/]<user> and
 *               shared/master/<user> for passdb/userdb { driver = dict } (JSON), the same
 *               under shared/fields/ for modo-checkpassword; iteration of shared/userdb/ for
 *               doveadm -A. Rules and fields: auth.h. Answers come through the cache.
 *
 * Replies to L, I, C and D leave in the order the commands came. A database that cannot
 * answer gives F (Dovecot: temporary failure), never "not found". An unknown command, a
 * transaction id that does not exist and a line longer than 64 KiB close the connection,
 * as Dovecot's own dict server does. See modo-dictd(8).
 */
#include "auth.h"
#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "dict_proto.h"
#include "log.h"
#include "metrics.h"
#include "num.h"
#include "server.h"
#include "store.h"
#include "strbuf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#define MAX_TRANSACTIONS 64 /* open per connection */
#define MAX_TXN_CHANGES 1000
#define LAST_LOGIN_MAX 100000 /* users held back at once */
#define LAST_LOGIN_BUCKETS 4096

enum kind { K_PASSDB, K_USERDB, K_MASTER, K_QUOTA, K_COMMIT, K_ITERATE, K_LAST_LOGIN, K__COUNT };
enum answer { A_FOUND, A_NOTFOUND, A_FAIL };
static const char *const kind_names[K__COUNT] = {"passdb", "userdb", "master", "quota",
                                                 "commit", "iterate", "last_login"};
static const char *const answer_names[3] = {"found", "notfound", "fail"};
static const struct metrics_def dictd_metrics = {
    "dictd", "request", kind_names, K__COUNT, "answer", answer_names, 3};

/* What a transaction does to one quota value. */
enum qop { Q_NONE, Q_SET, Q_ADD };
struct qchange {
    enum qop op;
    long long value;
};

struct last_login {
    struct last_login *next;
    long long when;
    char user[];
};

struct txn {
    TAILQ_ENTRY(txn) entry;
    unsigned id;
    char *user;
    struct qchange bytes, messages;
    struct last_login *logins; /* to record at commit */
    size_t changes;
    char *error; /* the first change that cannot be made: the commit answers F */
};
TAILQ_HEAD(txn_list, txn);

struct dconn {
    bool hello;
    unsigned major, minor;
    char *user; /* from the handshake (major 2 clients); 3 and 4 send it per command */
    struct txn_list txns;
    size_t ntxns;
};

static struct dictd {
    struct auth_settings auth;
    char *last_login_key;
    long long flush_ms;
    /* last logins held back: user -> newest time */
    struct last_login *held[LAST_LOGIN_BUCKETS];
    size_t nheld, inflight;
    struct event *flush_ev;
    bool flush_failed_logged;
} dd;

/* One request being answered. */
struct pending {
    struct server_reply *reply;
    enum kind kind;
    struct timespec start;
    struct auth_key key;
    /* commits */
    unsigned id;
    bool async;
    struct qchange bytes, messages;
    char user[256];
    /* iteration */
    char path[256];
    unsigned flags;
    unsigned long long max_rows;
};

static struct pending *pending_new(struct server_conn *conn, enum kind kind)
{
    struct pending *p = xcalloc(1, sizeof(*p));

    p->reply = server_reply_begin(conn);
    p->kind = kind;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    metrics_request(kind);
    return p;
}

static void pending_finish(struct pending *p, enum answer a, struct strbuf *out)
{
    server_reply_finish(p->reply, out->data, out->len);
    metrics_answer(p->kind, a, num_seconds_since(&p->start));
    strbuf_free(out);
    free(p);
}

static void reply1(struct pending *p, enum answer a, char code, const char *field)
{
    struct strbuf out = STRBUF_INIT;
    const char *f[1] = {field};

    dict_encode_reply(&out, code, f, field ? 1 : 0);
    pending_finish(p, a, &out);
}

/* ---- last login ---------------------------------------------------------------------- */

static unsigned bucket_of(const char *user)
{
    unsigned h = 2166136261u;

    for (; *user != '\0'; user++)
        h = (h ^ (unsigned char)*user) * 16777619u;
    return h % LAST_LOGIN_BUCKETS;
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
static long long login_seconds(long long v)
{
    while (v >= 100000000000LL) /* beyond year 5138 in seconds: a finer precision */
        v /= 1000;
    return v;
}

static void hold_login(const char *user, long long when)
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

/* ---- lookups ------------------------------------------------------------------------- */

static void auth_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;
    struct strbuf value = STRBUF_INIT;
    int rc = auth_answer(&dd.auth, &p->key, ans, &value);

    if (log_debug_enabled())
        log_debug("lookup %s %s service=%s: %s", kind_names[p->kind], p->key.user,
                  p->key.service, rc > 0 ? "found" : rc == 0 ? "not found" : "failed");
    if (rc < 0) {
        daemon_tempfail_note("%s %s: temporary failure: %s", kind_names[p->kind], p->key.user,
                             ans->error ? ans->error : "database error");
        reply1(p, A_FAIL, 'F', ans->error ? ans->error : "database error");
    } else if (rc == 0) {
        reply1(p, A_NOTFOUND, 'N', NULL);
    } else {
        reply1(p, A_FOUND, 'O', value.data);
    }
    strbuf_free(&value);
}

static void quota_get_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;

    if (ans->status < 0) {
        daemon_tempfail_note("quota of %s: temporary failure: %s", p->user,
                             ans->error ? ans->error : "database error");
        reply1(p, A_FAIL, 'F', ans->error ? ans->error : "database error");
    } else if (ans->nrows == 0 || ans->ncols < 2) {
        reply1(p, A_NOTFOUND, 'N', NULL);
    } else {
        const char *v = ans->cells[p->flags == 0 ? 0 : 1];
        reply1(p, A_FOUND, 'O', v ? v : "0");
    }
}

/* priv/quota/storage -> 0, priv/quota/messages -> 1, else -1 */
static int quota_key(const char *key)
{
    if (strcmp(key, "priv/quota/storage") == 0)
        return 0;
    if (strcmp(key, "priv/quota/messages") == 0)
        return 1;
    return -1;
}

static void cmd_lookup(struct server_conn *conn, struct dconn *dc, const struct dict_cmd *cmd)
{
    const char *key = cmd->fields[0];
    const char *user = cmd->nfields > 1 ? cmd->fields[1] : (dc->user ? dc->user : "");
    const char *err = NULL;
    struct auth_key k;
    int q = quota_key(key), rc;

    if (q >= 0) {
        struct pending *p = pending_new(conn, K_QUOTA);
        const char *args[1] = {user};
        if (user[0] == '\0' || strlen(user) >= sizeof(p->user)) {
            reply1(p, A_FAIL, 'F', "a priv/ key needs the user");
            return;
        }
        strcpy(p->user, user);
        p->flags = (unsigned)q;
        store_ask(daemon_store(), STORE_Q_QUOTA_GET, args, quota_get_done, p);
        return;
    }
    rc = auth_parse_key(key, &k, &err);
    if (rc > 0) {
        struct pending *p = pending_new(conn, (enum kind)k.kind);
        const char *args[1] = {k.user};
        p->key = k;
        cache_ask(daemon_cache(), auth_question(k.kind), args, auth_done, p);
        return;
    }
    {
        struct pending *p = pending_new(conn, K_PASSDB);
        struct strbuf msg = STRBUF_INIT;
        if (rc < 0) {
            /* a user name no account can have (Dovecot does not escape %u): unknown */
            if (log_debug_enabled())
                log_debug("lookup %.200s: %s: not found", key, err);
            reply1(p, A_NOTFOUND, 'N', NULL);
            return;
        }
        if (strncmp(key, dd.last_login_key, strlen(dd.last_login_key)) == 0) {
            /* written, never read back through the dict */
            reply1(p, A_NOTFOUND, 'N', NULL);
            return;
        } else
            strbuf_printf(&msg, "modo-dictd has no key %.200s", key);
        log_warning("dict client: %s", msg.data);
        metrics_bad_request();
        reply1(p, A_FAIL, 'F', msg.data);
        strbuf_free(&msg);
    }
}

/* ---- the HTTP endpoint (Dovecot 2.4's Lua passdb/userdb) ------------------------------ */

struct http_pending {
    struct evhttp_request *req;
    struct auth_key key;
    struct timespec start;
};

static void http_done(const struct store_answer *ans, void *arg)
{
    struct http_pending *h = arg;
    struct strbuf value = STRBUF_INIT;
    int rc = auth_answer(&dd.auth, &h->key, ans, &value);
    struct evbuffer *out = evhttp_request_get_output_buffer(h->req);

    evhttp_add_header(evhttp_request_get_output_headers(h->req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (rc > 0) {
        evbuffer_add(out, value.data, value.len);
        evhttp_send_reply(h->req, 200, "OK", NULL);
    } else if (rc == 0) {
        evhttp_send_reply(h->req, 404, "Not Found", NULL);
    } else {
        daemon_tempfail_note("%s %s: temporary failure: %s", kind_names[h->key.kind],
                             h->key.user, ans->error ? ans->error : "database error");
        evbuffer_add_printf(out, "%s", ans->error ? ans->error : "database error");
        evhttp_send_reply(h->req, 503, "Temporary Failure", NULL);
    }
    metrics_answer(h->key.kind, rc > 0 ? A_FOUND : rc == 0 ? A_NOTFOUND : A_FAIL,
                   num_seconds_since(&h->start));
    strbuf_free(&value);
    free(h);
}

static void http_users_done(const struct store_answer *ans, void *arg)
{
    struct evhttp_request *req = arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    size_t r;

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (ans->status < 0) {
        evbuffer_add_printf(out, "%s", ans->error ? ans->error : "database error");
        evhttp_send_reply(req, 503, "Temporary Failure", NULL);
        return;
    }
    for (r = 0; r < ans->nrows; r++) {
        const char *email = ans->cells[r * ans->ncols];
        if (email != NULL && email[0] != '\0')
            evbuffer_add_printf(out, "%s\n", email);
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

/*
 * GET /passdb/SERVICE/USER, /userdb/SERVICE/USER, /master/USER (the service is optional):
 * 200 with the answer as TAB-separated name=value fields (auth.h, AUTH_FIELDS), 404 for an
 * unknown or refused user, 503 when the database cannot answer. GET /users: every account
 * with a mailbox, one per line (userdb iteration).
 */
static int dictd_http(struct evhttp_request *req, const char *path)
{
    struct strbuf key = STRBUF_INIT;
    struct http_pending *h;
    const char *err, *args[1];
    char *decoded = evhttp_uridecode(path, 0, NULL);
    int rc;

    if (decoded == NULL)
        return 0;
    if (strcmp(decoded, "/users") == 0) {
        free(decoded);
        store_ask(daemon_store(), STORE_Q_USER_LIST, NULL, http_users_done, req);
        return 1;
    }
    strbuf_printf(&key, "shared/fields%s", decoded);
    free(decoded);
    h = xcalloc(1, sizeof(*h));
    rc = auth_parse_key(key.data, &h->key, &err);
    strbuf_free(&key);
    if (rc == 0) {
        free(h);
        return 0;
    }
    if (rc < 0) {
        evhttp_send_reply(req, 404, "Not Found", NULL); /* no account has such a name */
        free(h);
        return 1;
    }
    h->req = req;
    metrics_request(h->key.kind);
    clock_gettime(CLOCK_MONOTONIC, &h->start);
    args[0] = h->key.user;
    cache_ask(daemon_cache(), auth_question(h->key.kind), args, http_done, h);
    return 1;
}

/* ---- iteration ----------------------------------------------------------------------- */

#define ITER_NO_VALUE 0x08

static void iter_row(struct pending *p, struct strbuf *out, const char *key, const char *value)
{
    const char *f[2] = {key, (p->flags & ITER_NO_VALUE) ? "" : value};

    dict_encode_reply(out, 'O', f, 2);
}

static void iter_users_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;
    struct strbuf out = STRBUF_INIT, key = STRBUF_INIT;
    size_t r;

    if (ans->status < 0) {
        reply1(p, A_FAIL, 'F', ans->error ? ans->error : "database error");
        return;
    }
    for (r = 0; r < ans->nrows && (p->max_rows == 0 || r < p->max_rows); r++) {
        const char *email = ans->cells[r * ans->ncols];
        if (email == NULL || email[0] == '\0')
            continue;
        strbuf_reset(&key);
        strbuf_printf(&key, "%s%s", p->path, email);
        iter_row(p, &out, key.data, "");
    }
    strbuf_putc(&out, '\n');
    strbuf_free(&key);
    pending_finish(p, ans->nrows ? A_FOUND : A_NOTFOUND, &out);
}

static void iter_quota_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;
    struct strbuf out = STRBUF_INIT;

    if (ans->status < 0) {
        reply1(p, A_FAIL, 'F', ans->error ? ans->error : "database error");
        return;
    }
    if (ans->nrows > 0 && ans->ncols >= 2) {
        iter_row(p, &out, "priv/quota/messages", ans->cells[1] ? ans->cells[1] : "0");
        if (p->max_rows != 1)
            iter_row(p, &out, "priv/quota/storage", ans->cells[0] ? ans->cells[0] : "0");
    }
    strbuf_putc(&out, '\n');
    pending_finish(p, ans->nrows ? A_FOUND : A_NOTFOUND, &out);
}

static void cmd_iterate(struct server_conn *conn, struct dconn *dc, const struct dict_cmd *cmd)
{
    struct pending *p = pending_new(conn, K_ITERATE);
    const char *path = cmd->fields[2];
    const char *user = cmd->nfields > 3 ? cmd->fields[3] : (dc->user ? dc->user : "");
    long long flags = num_or(cmd->fields[0], 0, 0xffff, 0);
    long long max = num_or(cmd->fields[1], 0, LLONG_MAX, 0);
    size_t plen = strlen(path);

    p->flags = (unsigned)flags;
    p->max_rows = (unsigned long long)max;
    if (plen + 2 >= sizeof(p->path)) {
        reply1(p, A_FAIL, 'F', "path too long");
        return;
    }
    strcpy(p->path, path);
    if (plen > 0 && path[plen - 1] != '/')
        strcat(p->path, "/");
    if (strcmp(p->path, "shared/userdb/") == 0 || strcmp(p->path, "shared/passdb/") == 0 ||
        strcmp(p->path, "shared/fields/userdb/") == 0) {
        store_ask(daemon_store(), STORE_Q_USER_LIST, NULL, iter_users_done, p);
        return;
    }
    if (strcmp(p->path, "priv/quota/") == 0 && user[0] != '\0') {
        const char *args[1] = {user};
        store_ask(daemon_store(), STORE_Q_QUOTA_GET, args, iter_quota_done, p);
        return;
    }
    {
        struct strbuf out = STRBUF_INIT;
        strbuf_putc(&out, '\n'); /* nothing under that path */
        pending_finish(p, A_NOTFOUND, &out);
    }
}

/* ---- transactions -------------------------------------------------------------------- */

static void txn_free(struct dconn *dc, struct txn *t)
{
    struct last_login *l;

    TAILQ_REMOVE(&dc->txns, t, entry);
    dc->ntxns--;
    while ((l = t->logins) != NULL) {
        t->logins = l->next;
        free(l);
    }
    free(t->user);
    free(t->error);
    free(t);
}

static struct txn *txn_find(struct dconn *dc, const char *idstr)
{
    long long id;
    struct txn *t;

    if (num_parse(idstr, 0, UINT32_MAX, &id, &(const char *){NULL}) < 0)
        return NULL;
    TAILQ_FOREACH(t, &dc->txns, entry)
        if (t->id == (unsigned)id)
            return t;
    return NULL;
}

/* The first change that cannot be made: "<what> <key>". */
static void txn_error(struct txn *t, const char *what, const char *key)
{
    struct strbuf sb = STRBUF_INIT;

    if (t->error != NULL)
        return;
    strbuf_printf(&sb, "%s %.200s", what, key);
    t->error = strbuf_steal(&sb);
}

/* S, U or A inside a transaction */
static void txn_change(struct txn *t, char type, const struct dict_cmd *cmd)
{
    const char *key = cmd->fields[1];
    int q = quota_key(key);
    size_t llen = strlen(dd.last_login_key);
    long long v = 0;
    const char *err;

    if (++t->changes > MAX_TXN_CHANGES) {
        txn_error(t, "too many changes in one transaction, at", key);
        return;
    }
    if (type != 'U' && num_parse(cmd->fields[2], LLONG_MIN / 4, LLONG_MAX / 4, &v, &err) < 0) {
        if (q >= 0 || type == 'A' || strncmp(key, dd.last_login_key, llen) == 0) {
            txn_error(t, "a value that is not a number for", key);
            return;
        }
    }
    if (q >= 0) {
        struct qchange *c = q == 0 ? &t->bytes : &t->messages;
        if (t->user == NULL || t->user[0] == '\0') {
            txn_error(t, "no user given to the transaction (B) for", key);
            return;
        }
        if (type == 'S' || type == 'U') {
            c->op = Q_SET;
            c->value = type == 'S' ? v : 0;
        } else if (c->op == Q_NONE) {
            c->op = Q_ADD;
            c->value = v;
        } else {
            c->value += v;
        }
        return;
    }
    if (strncmp(key, dd.last_login_key, llen) == 0 && key[llen] != '\0' &&
        strchr(key + llen, '/') == NULL) {
        struct last_login *l;
        if (type != 'S')
            return; /* nothing to undo or add to a login time */
        l = xmalloc(sizeof(*l) + strlen(key + llen) + 1);
        strcpy(l->user, key + llen);
        l->when = login_seconds(v);
        l->next = t->logins;
        t->logins = l;
        return;
    }
    txn_error(t, "modo-dictd has no key", key);
}

static void commit_reply(struct pending *p, enum answer a, char code, const char *msg)
{
    struct strbuf out = STRBUF_INIT, first = STRBUF_INIT;
    const char *f[2];

    strbuf_printf(&first, "%c%u", code, p->id);
    f[0] = first.data;
    f[1] = msg;
    if (p->async) {
        dict_encode_reply(&out, 'A', f, msg ? 2 : 1);
    } else {
        char idbuf[16];
        snprintf(idbuf, sizeof(idbuf), "%u", p->id);
        f[0] = idbuf;
        dict_encode_reply(&out, code, f, msg ? 2 : 1);
    }
    strbuf_free(&first);
    pending_finish(p, a, &out);
}

static void commit_add(struct pending *p);

static void commit_failed(struct pending *p, const struct store_answer *ans)
{
    const char *why = ans->error ? ans->error : "database error";

    daemon_tempfail_note("quota of %s: not written: %s", p->user, why);
    commit_reply(p, A_FAIL, 'F', why);
}

static void commit_add_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;

    if (ans->status < 0)
        commit_failed(p, ans);
    else if (ans->affected == 0)
        commit_reply(p, A_NOTFOUND, 'N', NULL); /* no row: Dovecot recalculates */
    else
        commit_reply(p, A_FOUND, 'O', NULL);
}

static void commit_add(struct pending *p)
{
    char b[32], m[32];
    const char *args[3] = {p->user, b, m};

    if (p->bytes.op != Q_ADD && p->messages.op != Q_ADD) {
        commit_reply(p, A_FOUND, 'O', NULL);
        return;
    }
    snprintf(b, sizeof(b), "%lld", p->bytes.op == Q_ADD ? p->bytes.value : 0);
    snprintf(m, sizeof(m), "%lld", p->messages.op == Q_ADD ? p->messages.value : 0);
    store_ask(daemon_store(), STORE_Q_QUOTA_ADD, args, commit_add_done, p);
}

static void commit_set_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;

    if (ans->status < 0)
        commit_failed(p, ans);
    else
        commit_add(p);
}

static void cmd_commit(struct server_conn *conn, struct dconn *dc, struct txn *t, bool async)
{
    struct pending *p = pending_new(conn, K_COMMIT);
    struct last_login *l;

    p->id = t->id;
    p->async = async;
    if (t->error != NULL) {
        log_warning("dict client: transaction %u of %s: %s", t->id, t->user ? t->user : "",
                    t->error);
        commit_reply(p, A_FAIL, 'F', t->error);
        txn_free(dc, t);
        return;
    }
    for (l = t->logins; l != NULL; l = l->next)
        hold_login(l->user, l->when);
    p->bytes = t->bytes;
    p->messages = t->messages;
    snprintf(p->user, sizeof(p->user), "%s", t->user ? t->user : "");
    txn_free(dc, t);
    if (p->bytes.op == Q_SET || p->messages.op == Q_SET) {
        char b[32] = "", m[32] = "";
        const char *args[3] = {p->user, b, m};
        if (p->bytes.op == Q_SET)
            snprintf(b, sizeof(b), "%lld", p->bytes.value);
        if (p->messages.op == Q_SET)
            snprintf(m, sizeof(m), "%lld", p->messages.value);
        store_ask(daemon_store(), STORE_Q_QUOTA_SET, args, commit_set_done, p);
        return;
    }
    commit_add(p);
}

/* ---- the connection ------------------------------------------------------------------ */

static struct dconn *dconn_get(struct server_conn *conn)
{
    struct dconn *dc = server_conn_data(conn);

    if (dc == NULL) {
        dc = xcalloc(1, sizeof(*dc));
        TAILQ_INIT(&dc->txns);
        server_conn_set_data(conn, dc);
    }
    return dc;
}

static void dictd_close(struct server_conn *conn)
{
    struct dconn *dc = server_conn_data(conn);
    struct txn *t;

    if (dc == NULL)
        return;
    while ((t = TAILQ_FIRST(&dc->txns)) != NULL)
        txn_free(dc, t); /* never committed: nothing was acknowledged */
    free(dc->user);
    free(dc);
    server_conn_set_data(conn, NULL);
}

/* At stop: a transaction still open (its commit may be on the way), or nothing received
 * yet from a client that just connected, is waited for (server.h). */
static bool dictd_busy(struct server_conn *conn)
{
    struct dconn *dc = server_conn_data(conn);

    return dc == NULL || !dc->hello || dc->ntxns > 0;
}

/* Handle one command; -1 closes the connection. */
static int dictd_command(struct server_conn *conn, struct dconn *dc, struct dict_cmd *cmd)
{
    struct txn *t;

    if (!dc->hello) {
        long long major;
        if (cmd->type != DICT_CMD_HELLO ||
            num_parse(cmd->fields[0], 0, 1000, &major, &(const char *){NULL}) < 0 ||
            (major != 3 && major != 4)) {
            log_warning("dict client: expected the handshake H3 or H4, got \"%c%.40s\"",
                        cmd->type, cmd->nfields ? cmd->fields[0] : "");
            return -1;
        }
        dc->hello = true;
        dc->major = (unsigned)major;
        dc->minor = (unsigned)num_or(cmd->fields[1], 0, 1000, 0);
        if (cmd->fields[3][0] != '\0')
            dc->user = xstrdup(cmd->fields[3]);
        return 0;
    }
    switch (cmd->type) {
    case DICT_CMD_LOOKUP:
        cmd_lookup(conn, dc, cmd);
        return 0;
    case DICT_CMD_ITERATE:
        cmd_iterate(conn, dc, cmd);
        return 0;
    case DICT_CMD_BEGIN: {
        long long id;
        if (num_parse(cmd->fields[0], 0, UINT32_MAX, &id, &(const char *){NULL}) < 0 ||
            txn_find(dc, cmd->fields[0]) != NULL) {
            log_warning("dict client: bad or duplicate transaction id \"%.20s\"",
                        cmd->fields[0]);
            return -1;
        }
        if (dc->ntxns >= MAX_TRANSACTIONS) {
            log_warning("dict client: more than %d open transactions", MAX_TRANSACTIONS);
            return -1;
        }
        t = xcalloc(1, sizeof(*t));
        t->id = (unsigned)id;
        if (cmd->nfields > 1 && cmd->fields[1][0] != '\0')
            t->user = xstrdup(cmd->fields[1]);
        else if (dc->user != NULL)
            t->user = xstrdup(dc->user);
        TAILQ_INSERT_TAIL(&dc->txns, t, entry);
        dc->ntxns++;
        return 0;
    }
    case DICT_CMD_HELLO:
        log_warning("dict client: a second handshake");
        return -1;
    default:
        break;
    }
    t = txn_find(dc, cmd->fields[0]);
    if (t == NULL) {
        log_warning("dict client: %c for unknown transaction id \"%.20s\"", cmd->type,
                    cmd->fields[0]);
        return -1;
    }
    switch (cmd->type) {
    case DICT_CMD_SET:
    case DICT_CMD_UNSET:
    case DICT_CMD_ATOMIC_INC:
        txn_change(t, cmd->type, cmd);
        return 0;
    case DICT_CMD_COMMIT:
    case DICT_CMD_COMMIT_ASYNC:
        cmd_commit(conn, dc, t, cmd->type == DICT_CMD_COMMIT_ASYNC);
        return 0;
    case DICT_CMD_ROLLBACK:
        txn_free(dc, t);
        return 0;
    default: /* T (timestamp), V (hide log values): nothing to do */
        return 0;
    }
}

static long dictd_data(struct server_conn *conn, const char *data, size_t len)
{
    struct dconn *dc = dconn_get(conn);
    struct dict_cmd cmd;
    size_t pos = 0;

    dict_cmd_init(&cmd);
    for (;;) {
        const char *err = NULL;
        size_t used = 0;
        enum codec_status st = dict_decode(data + pos, len - pos, DICT_MAX_LINE, &cmd, &used, &err);

        if (st == CODEC_NEED_MORE)
            break;
        if (st != CODEC_OK) {
            log_warning("dict client: %s (command '%c'): disconnecting", err,
                        cmd.type ? cmd.type : '?');
            metrics_bad_request();
            dict_cmd_free(&cmd);
            return -1;
        }
        pos += used;
        if (dictd_command(conn, dc, &cmd) < 0) {
            metrics_bad_request();
            dict_cmd_free(&cmd);
            return -1;
        }
    }
    dict_cmd_free(&cmd);
    return (long)pos;
}

/* ---- the daemon ---------------------------------------------------------------------- */

static int configure(const struct conf *conf, char **error_r)
{
    struct auth_settings a;

    if (auth_settings_load(&a, conf, error_r) < 0)
        return -1;
    dd.auth = a;
    free(dd.last_login_key);
    dd.last_login_key = xstrdup(conf_str(conf, "dictd", "last_login_key"));
    dd.flush_ms = conf_ms(conf, "dictd", "last_login_flush");
    return 0;
}

static void drain(void)
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

static void stop(void)
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
    free(dd.last_login_key);
    dd.last_login_key = NULL;
}

static const struct server_protocol dictd_proto = {dictd_data, dictd_close, dictd_busy};

static const struct daemon_ops dictd_ops = {
    .program = "modo-dictd",
    .section = "dictd",
    .summary = "Dovecot dict proxy: quota, quota_clone, last login, passdb and userdb",
    .proto = &dictd_proto,
    .metrics = &dictd_metrics,
    .configure = configure,
    .drain = drain,
    .stop = stop,
    .http = dictd_http,
};

int main(int argc, char **argv)
{
    return daemon_main(argc, argv, &dictd_ops);
}
