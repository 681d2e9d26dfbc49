/*
 * store_sqlite - the store on SQLite (the embedded default).
 *
 * One connection in WAL mode with a busy timeout; every question is a
 * statement prepared on first use (so a store can be opened before the
 * schema exists) and kept. Answers are delivered synchronously through the
 * same callback API as PostgreSQL. Changes made by other processes are
 * noticed by polling PRAGMA data_version every [database] poll_interval;
 * when it moves, modo_generation is read again.
 *
 * SQL mirrors Modoboa's SQLite map queries (datetime as UTC text), with the
 * sender map written so that SQLite accepts it.
 */
#include "conf.h"
#include "log.h"
#include "store_impl.h"
#include "strbuf.h"

#include <event2/event.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char *const sqlite_sql[STORE_Q__COUNT] = {
    [STORE_Q_DOMAIN] =
        "SELECT name FROM admin_domain WHERE name=?1 AND type='domain' AND enabled=1",
    [STORE_Q_DOMAIN_ALIAS] =
        "SELECT dom.name FROM admin_domain dom INNER JOIN admin_domainalias domal"
        " ON dom.id=domal.target_id WHERE domal.name=?1 AND domal.enabled=1 AND dom.enabled=1",
    [STORE_Q_RELAY_DOMAIN] =
        "SELECT name FROM admin_domain WHERE name=?1 AND type='relaydomain' AND enabled=1",
    [STORE_Q_ALIAS_RECIPIENTS] =
        "SELECT alr.address, CAST(strftime('%s', al.expire_at) AS INTEGER)"
        " FROM modoboa_admin_aliasrecipient AS alr INNER JOIN admin_alias AS al"
        " ON alr.alias_id=al.id WHERE al.enabled=1 AND al.address=?1"
        " AND (al.expire_at IS NULL OR al.expire_at>strftime('%Y-%m-%d %H:%M:%f','now'))",
    [STORE_Q_ALIAS_FORMS] =
        "SELECT al.address, alr.address, CAST(strftime('%s', al.expire_at) AS INTEGER)"
        " FROM modoboa_admin_aliasrecipient AS alr INNER JOIN admin_alias AS al"
        " ON alr.alias_id=al.id WHERE al.enabled=1 AND al.address IN (?1, ?2, ?3)"
        " AND (al.expire_at IS NULL OR al.expire_at>strftime('%Y-%m-%d %H:%M:%f','now'))",
    [STORE_Q_SENDER_OWNERS] =
        "SELECT email FROM core_user WHERE email=?1 AND is_active=1"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN admin_senderaddress sad ON sad.mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE sad.address=?1"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN modoboa_admin_aliasrecipient alr ON alr.r_mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id"
        " INNER JOIN admin_alias al ON alr.alias_id=al.id"
        " WHERE al.enabled=1 AND al.address=?1"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN modoboa_admin_aliasrecipient alr ON alr.r_mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id"
        " INNER JOIN admin_alias al ON alr.alias_id=al.id"
        " INNER JOIN admin_domainalias adoma ON adoma.target_id=al.domain_id"
        " INNER JOIN admin_domain adom ON adom.id=adoma.target_id"
        " WHERE al.enabled=1 AND adoma.name=?3 AND al.address=?2 || '@' || adom.name"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN admin_senderaddress sad ON sad.mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE sad.address='@' || ?3",
    [STORE_Q_TRANSPORT] =
        "SELECT service || ':' || next_hop FROM transport_transport WHERE pattern=?1",
    [STORE_Q_SPLIT_MAILBOX] =
        "SELECT 1 FROM admin_domain AS dom INNER JOIN admin_mailbox AS mbox"
        " ON dom.id=mbox.domain_id INNER JOIN core_user AS u ON mbox.user_id=u.id"
        " WHERE dom.type='relaydomain' AND dom.enabled=1 AND dom.name=?3 AND u.is_active=1"
        " AND mbox.address=?2",
    [STORE_Q_MAINTENANCE] =
        "SELECT 1 FROM admin_mailbox mb INNER JOIN admin_domain dom ON mb.domain_id=dom.id"
        " INNER JOIN admin_mailboxoperation mbop ON mbop.mailbox_id=mb.id"
        " WHERE dom.name=?3 AND mb.address=?2 LIMIT 1",
    [STORE_Q_RELAY_VERIFY] =
        "SELECT action FROM relaydomains_recipientaccess WHERE pattern=?1",
    [STORE_Q_PASSDB] =
        "SELECT u.email, u.password, mb.quota, mb.is_send_only FROM core_user u"
        " INNER JOIN admin_mailbox mb ON u.id=mb.user_id"
        " INNER JOIN admin_domain dom ON mb.domain_id=dom.id"
        " WHERE u.email=?1 AND u.is_active=1 AND dom.enabled=1",
    [STORE_Q_MASTER_PASSDB] =
        "SELECT email, password FROM core_user WHERE email=?1 AND is_active=1 AND master_user=1",
    [STORE_Q_USERDB] =
        "SELECT mb.quota, mb.is_send_only FROM admin_mailbox mb"
        " INNER JOIN admin_domain dom ON mb.domain_id=dom.id WHERE mb.address=?2 AND dom.name=?3",
    [STORE_Q_MESSAGE_LIMITS] =
        "SELECT mb.message_limit, dom.name, dom.message_limit FROM core_user u"
        " INNER JOIN admin_mailbox mb ON mb.user_id=u.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE u.email=?1",
    [STORE_Q_QUOTA_GET] = "SELECT bytes, messages FROM admin_quota WHERE username=?1",
    [STORE_Q_QUOTA_ADD] =
        "UPDATE admin_quota SET bytes=bytes+CAST(?2 AS INTEGER),"
        " messages=messages+CAST(?3 AS INTEGER) WHERE username=?1",
    [STORE_Q_QUOTA_SET] =
        "INSERT INTO admin_quota (username, bytes, messages)"
        " VALUES (?1, CAST(?2 AS INTEGER), CAST(?3 AS INTEGER))"
        " ON CONFLICT (username) DO UPDATE SET bytes=excluded.bytes, messages=excluded.messages",
    [STORE_Q_TOUCH_LAST_LOGIN] =
        "UPDATE core_user SET last_login=strftime('%Y-%m-%d %H:%M:%f','now') WHERE username=?1",
    [STORE_Q_GENERATION] = "SELECT value FROM modo_generation WHERE id=1",
    [STORE_Q_LIMIT_ALARM_OPEN] =
        "INSERT INTO admin_alarm (created, closed, status, title, internal_name, mailbox_id,"
        " domain_id) SELECT strftime('%Y-%m-%d %H:%M:%f','now'), NULL, 1, t.title, 'sending_limit',"
        " (SELECT mb.id FROM admin_mailbox mb WHERE mb.domain_id=dom.id AND mb.address=?2), dom.id"
        " FROM admin_domain dom, (SELECT CASE WHEN ?2='' THEN 'Daily sending limit reached for"
        " domain ' || ?3 ELSE 'Daily sending limit reached for ' || ?1 END AS title) t"
        " WHERE dom.name=?3 AND NOT EXISTS (SELECT 1 FROM admin_alarm a"
        " WHERE a.internal_name='sending_limit' AND a.status=1 AND a.title=t.title)",
    [STORE_Q_LIMIT_ALARMS_CLOSE] =
        "UPDATE admin_alarm SET status=2, closed=strftime('%Y-%m-%d %H:%M:%f','now')"
        " WHERE internal_name='sending_limit' AND status=1",
};

struct sqlite_store {
    sqlite3 *db;
    sqlite3_stmt *stmts[STORE_Q__COUNT];
    sqlite3_stmt *data_version;
    long long last_data_version;
    struct event *poll_ev;
};

static sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum store_question q,
                                 const char **error_r)
{
    if (s->stmts[q] == NULL &&
        sqlite3_prepare_v3(s->db, sqlite_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[q],
                           NULL) != SQLITE_OK) {
        *error_r = sqlite3_errmsg(s->db);
        s->stmts[q] = NULL;
    }
    return s->stmts[q];
}

static void sqlite_ask(struct store *store, enum store_question q, const char *const *params,
                       size_t nparams, store_cb *cb, void *arg)
{
    struct sqlite_store *s = store->impl;
    struct strbuf arena = STRBUF_INIT;
    size_t *offsets = NULL, ncells = 0, cap = 0, ncols, nrows = 0, i;
    const char **cells;
    const char *error = NULL;
    sqlite3_stmt *st = sqlite_stmt(s, q, &error);
    int rc;

    if (st == NULL) {
        store_deliver(store, q, -1, error, NULL, 0, 0, 0, cb, arg);
        return;
    }
    for (i = 0; i < nparams; i++)
        sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC);
    ncols = (size_t)sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < ncols; i++) {
            const unsigned char *v = sqlite3_column_text(st, (int)i);
            if (ncells == cap) {
                cap = cap ? cap * 2 : 16;
                offsets = xrealloc(offsets, cap * sizeof(*offsets));
            }
            if (v == NULL) {
                offsets[ncells++] = (size_t)-1;
            } else {
                offsets[ncells++] = arena.len;
                strbuf_append(&arena, v, (size_t)sqlite3_column_bytes(st, (int)i) + 1);
            }
        }
        nrows++;
    }
    if (rc != SQLITE_DONE) {
        struct strbuf err = STRBUF_INIT;
        strbuf_printf(&err, "%s", sqlite3_errmsg(s->db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        store_deliver(store, q, -1, err.data, NULL, 0, 0, 0, cb, arg);
        strbuf_free(&err);
        strbuf_free(&arena);
        free(offsets);
        return;
    }
    cells = xcalloc(ncells + 1, sizeof(*cells));
    for (i = 0; i < ncells; i++)
        cells[i] = offsets[i] == (size_t)-1 ? NULL : arena.data + offsets[i];
    {
        long long affected = ncols == 0 ? sqlite3_changes(s->db) : 0;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        store_deliver(store, q, nrows > 0 || affected > 0 ? 1 : 0, NULL, cells, nrows, ncols,
                      affected, cb, arg);
    }
    free(cells);
    free(offsets);
    strbuf_free(&arena);
}

static void generation_cb(const struct store_answer *ans, void *arg)
{
    struct store *store = arg;

    if (ans->status == 1 && ans->nrows == 1 && ans->cells[0] != NULL)
        store_generation_seen(store, strtoll(ans->cells[0], NULL, 10));
}

static void sqlite_read_generation(struct store *store)
{
    sqlite_ask(store, STORE_Q_GENERATION, NULL, 0, generation_cb, store);
}

static void sqlite_poll(evutil_socket_t fd, short what, void *arg)
{
    struct store *store = arg;
    struct sqlite_store *s = store->impl;
    long long v;

    (void)fd;
    (void)what;
    if (s->data_version == NULL &&
        sqlite3_prepare_v3(s->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                           &s->data_version, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(s->data_version) != SQLITE_ROW) {
        sqlite3_reset(s->data_version);
        return;
    }
    v = sqlite3_column_int64(s->data_version, 0);
    sqlite3_reset(s->data_version);
    if (v != s->last_data_version) {
        s->last_data_version = v;
        sqlite_read_generation(store);
    }
}

static int sqlite_exec_script(struct store *store, const char *sql, char **error_r)
{
    struct sqlite_store *s = store->impl;
    char *err = NULL;
    size_t q;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        *error_r = xstrdup(err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    /* the schema may have changed under prepared statements */
    for (q = 0; q < STORE_Q__COUNT; q++) {
        sqlite3_finalize(s->stmts[q]);
        s->stmts[q] = NULL;
    }
    sqlite_read_generation(store);
    return 0;
}

static void sqlite_close(struct store *store)
{
    struct sqlite_store *s = store->impl;
    size_t q;

    if (s->poll_ev != NULL)
        event_free(s->poll_ev);
    for (q = 0; q < STORE_Q__COUNT; q++)
        sqlite3_finalize(s->stmts[q]);
    sqlite3_finalize(s->data_version);
    sqlite3_close(s->db);
    free(s);
}

static const struct store_backend sqlite_backend = {
    "sqlite", sqlite_ask, sqlite_exec_script, sqlite_close,
};

int store_sqlite_open(struct store *store, const char *path, char **error_r)
{
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    long long poll_ms = conf_ms(store->conf, "database", "poll_interval");
    struct timeval tv = {poll_ms / 1000, (poll_ms % 1000) * 1000};
    struct strbuf sb = STRBUF_INIT;

    if (path[0] == '\0') {
        *error_r = xstrdup("[database] url: sqlite:// needs a path (sqlite:///var/lib/modo/modo.db)");
        free(s);
        return -1;
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        strbuf_printf(&sb, "cannot open SQLite database %s: %s", path,
                      s->db ? sqlite3_errmsg(s->db) : "out of memory");
        *error_r = strbuf_steal(&sb);
        sqlite3_close(s->db);
        free(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, (int)conf_ms(store->conf, "database", "busy_timeout"));
    sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
    store->be = &sqlite_backend;
    store->impl = s;
    s->last_data_version = -1;
    if (store->base != NULL) {
        s->poll_ev = event_new(store->base, -1, EV_PERSIST, sqlite_poll, store);
        event_add(s->poll_ev, &tv);
    }
    sqlite_poll(-1, 0, store);
    return 0;
}
