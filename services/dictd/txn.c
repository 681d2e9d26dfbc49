/*
 * txn - dict transactions: B opens one (its user; 2.4 adds an expiry), S U A change the
 * quota values or record a login time, C and D commit, R forgets. The quota is one
 * statement per commit (a set, then increments: one atomic UPDATE), answered O only once
 * the database has it, N when an increment found no row (Dovecot recalculates), F with
 * the reason otherwise. See dictd.h.
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

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int txn_begin(struct dconn *dc, const struct dict_cmd *cmd)
{
    struct txn *t;
    long long id;

    if (num_parse(cmd->fields[0], 0, UINT32_MAX, &id, &(const char *){NULL}) < 0 ||
        txn_find(dc, cmd->fields[0]) != NULL) {
        log_warning("dict client: bad or duplicate transaction id \"%.20s\"", cmd->fields[0]);
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

void txn_free(struct dconn *dc, struct txn *t)
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

struct txn *txn_find(struct dconn *dc, const char *idstr)
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
void txn_change(struct txn *t, char type, const struct dict_cmd *cmd)
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
        l->when = lastlogin_seconds(v);
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

void txn_commit(struct server_conn *conn, struct dconn *dc, struct txn *t, bool async)
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
        lastlogin_hold(l->user, l->when);
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
