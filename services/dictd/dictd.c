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

struct dictd dd;

const char *const dictd_kind_names[K__COUNT] = {"passdb", "userdb", "master", "quota",
                                                 "commit", "iterate", "last_login"};
static const char *const answer_names[3] = {"found", "notfound", "fail"};
static const struct metrics_def dictd_metrics = {
    "dictd", "request", dictd_kind_names, K__COUNT, "answer", answer_names, 3};

struct pending *pending_new(struct server_conn *conn, enum kind kind)
{
    struct pending *p = xcalloc(1, sizeof(*p));

    p->reply = server_reply_begin(conn);
    p->kind = kind;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    metrics_request(kind);
    return p;
}

void pending_finish(struct pending *p, enum answer a, struct strbuf *out)
{
    server_reply_finish(p->reply, out->data, out->len);
    metrics_answer(p->kind, a, num_seconds_since(&p->start));
    strbuf_free(out);
    free(p);
}

void reply1(struct pending *p, enum answer a, char code, const char *field)
{
    struct strbuf out = STRBUF_INIT;
    const char *f[1] = {field};

    dict_encode_reply(&out, code, f, field ? 1 : 0);
    pending_finish(p, a, &out);
}

/* ---- lookups ------------------------------------------------------------------------- */

static void auth_done(const struct store_answer *ans, void *arg)
{
    struct pending *p = arg;
    struct strbuf value = STRBUF_INIT;
    int rc = auth_answer(&dd.auth, &p->key, ans, &value);

    if (log_debug_enabled())
        log_debug("lookup %s %s service=%s: %s", dictd_kind_names[p->kind], p->key.user,
                  p->key.service, rc > 0 ? "found" : rc == 0 ? "not found" : "failed");
    if (rc < 0) {
        daemon_tempfail_note("%s %s: temporary failure: %s", dictd_kind_names[p->kind], p->key.user,
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
int quota_key(const char *key)
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

/* At stop, every open connection is waited for (server.h: until the grace period ends).
 * Dovecot's dict client closes its connection itself once it is back in its loop
 * (dict_proxy_idle_timeout 0); one still open is in the middle of a delivery, between a
 * quota lookup and the commit that follows it: closing it would lose that commit. */
static bool dictd_busy(struct server_conn *conn)
{
    (void)conn;
    return true;
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
    case DICT_CMD_BEGIN:
        return txn_begin(dc, cmd);
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
        txn_commit(conn, dc, t, cmd->type == DICT_CMD_COMMIT_ASYNC);
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
        enum codec_status st;

        if (pos == len || !server_conn_take(conn))
            break;
        st = dict_decode(data + pos, len - pos, DICT_MAX_LINE, &cmd, &used, &err);
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
    lastlogin_drain();
}

static void stop(void)
{
    lastlogin_free();
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
