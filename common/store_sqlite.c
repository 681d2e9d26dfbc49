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

#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
        " VALUES (?1, COALESCE(CAST(NULLIF(?2,'') AS INTEGER), 0),"
        " COALESCE(CAST(NULLIF(?3,'') AS INTEGER), 0))"
        " ON CONFLICT (username) DO UPDATE SET"
        " bytes=COALESCE(CAST(NULLIF(?2,'') AS INTEGER), bytes),"
        " messages=COALESCE(CAST(NULLIF(?3,'') AS INTEGER), messages)",
    [STORE_Q_TOUCH_LAST_LOGIN] =
        "UPDATE core_user SET last_login=strftime('%Y-%m-%d %H:%M:%f', CAST(?2 AS INTEGER),"
        " 'unixepoch') WHERE username=?1",
    [STORE_Q_USER_LIST] =
        "SELECT u.email FROM core_user u INNER JOIN admin_mailbox mb ON mb.user_id=u.id"
        " ORDER BY u.email",
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

/* A question that found the database locked, waiting for its next try. */
struct busy_question {
    struct busy_question *next;
    enum store_question q;
    size_t nparams;
    char *params[STORE_MAX_ARGS];
    store_cb *cb;
    void *arg;
    struct timespec deadline;
};

struct sqlite_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[STORE_Q__COUNT];
    sqlite3_stmt *data_version;
    long long last_data_version;
    struct event *poll_ev;
    /* the file open: a file removed or replaced under the daemon is noticed by polling */
    dev_t dev;
    ino_t ino;
    int64_t salt; /* added to the generation: entries of a replaced file never match */
    bool gone;    /* the file was removed: questions fail until it is back */
    int open_flags; /* SQLITE_OPEN_READWRITE, or _READONLY for a daemon that never writes */
    /* questions that found the database locked: retried from a timer until their deadline */
    struct busy_question *busy_head, *busy_tail;
    struct event *busy_ev;
    long long busy_wait_ms;
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

static bool is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Run a question; false (nothing delivered) when the database is locked. */
static bool sqlite_run(struct store *store, enum store_question q, const char *const *params,
                       size_t nparams, store_cb *cb, void *arg)
{
    struct sqlite_store *s = store->impl;
    struct strbuf arena = STRBUF_INIT;
    size_t *offsets = NULL, ncells = 0, cap = 0, ncols, nrows = 0, i;
    const char **cells;
    const char *error = NULL;
    sqlite3_stmt *st;
    int rc;

    if (s->gone) {
        struct strbuf err = STRBUF_INIT;
        strbuf_printf(&err, "the SQLite database %s was removed", s->path);
        store_deliver(store, q, -1, err.data, NULL, 0, 0, 0, cb, arg);
        strbuf_free(&err);
        return true;
    }
    st = sqlite_stmt(s, q, &error);
    if (st == NULL) {
        if (is_busy(sqlite3_errcode(s->db)))
            return false;
        store_deliver(store, q, -1, error, NULL, 0, 0, 0, cb, arg);
        return true;
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
        bool busy = is_busy(rc);
        strbuf_printf(&err, "%s", sqlite3_errmsg(s->db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (!busy)
            store_deliver(store, q, -1, err.data, NULL, 0, 0, 0, cb, arg);
        strbuf_free(&err);
        strbuf_free(&arena);
        free(offsets);
        return !busy;
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
    return true;
}

/* ---- a locked database never blocks the loop: retry from a timer until the deadline ---- */

#define BUSY_FIRST_WAIT_MS 2
#define BUSY_MAX_WAIT_MS 50

static void busy_free(struct busy_question *b)
{
    size_t i;

    for (i = 0; i < b->nparams; i++)
        free(b->params[i]);
    free(b);
}

static void busy_schedule(struct store *store)
{
    struct sqlite_store *s = store->impl;
    struct timeval tv = {0, (suseconds_t)(s->busy_wait_ms * 1000)};

    evtimer_add(s->busy_ev, &tv);
    s->busy_wait_ms = s->busy_wait_ms * 2 > BUSY_MAX_WAIT_MS ? BUSY_MAX_WAIT_MS : s->busy_wait_ms * 2;
}

static bool past(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void busy_retry(evutil_socket_t fd, short what, void *arg)
{
    struct store *store = arg;
    struct sqlite_store *s = store->impl;

    (void)fd;
    (void)what;
    while (s->busy_head != NULL) {
        struct busy_question *b = s->busy_head;
        const char *params[STORE_MAX_ARGS] = {b->params[0], b->params[1], b->params[2]};
        if (past(&b->deadline)) {
            store->stats.deadlines++;
            store_deliver(store, b->q, -1, "database is locked (deadline reached)", NULL, 0, 0, 0,
                          b->cb, b->arg);
        } else if (!sqlite_run(store, b->q, params, b->nparams, b->cb, b->arg)) {
            busy_schedule(store);
            return;
        }
        /* the callback may have queued more behind it: unlink only now */
        s->busy_head = b->next;
        if (s->busy_head == NULL)
            s->busy_tail = NULL;
        busy_free(b);
    }
    s->busy_wait_ms = BUSY_FIRST_WAIT_MS;
}

static void busy_enqueue(struct store *store, enum store_question q, const char *const *params,
                         size_t nparams, store_cb *cb, void *arg)
{
    struct sqlite_store *s = store->impl;
    struct busy_question *b = xcalloc(1, sizeof(*b));
    size_t i;

    b->q = q;
    b->nparams = nparams;
    for (i = 0; i < nparams; i++)
        b->params[i] = xstrdup(params[i]);
    b->cb = cb;
    b->arg = arg;
    clock_gettime(CLOCK_MONOTONIC, &b->deadline);
    b->deadline.tv_sec += store->deadline_ms / 1000;
    b->deadline.tv_nsec += (store->deadline_ms % 1000) * 1000000;
    if (b->deadline.tv_nsec >= 1000000000) {
        b->deadline.tv_sec++;
        b->deadline.tv_nsec -= 1000000000;
    }
    if (s->busy_tail != NULL) {
        s->busy_tail->next = b;
    } else {
        s->busy_head = b;
        s->busy_wait_ms = BUSY_FIRST_WAIT_MS;
        busy_schedule(store);
    }
    s->busy_tail = b;
}

static void sqlite_ask(struct store *store, enum store_question q, const char *const *params,
                       size_t nparams, store_cb *cb, void *arg)
{
    struct sqlite_store *s = store->impl;

    /* behind questions already waiting for the lock, in order */
    if (s->busy_head != NULL || !sqlite_run(store, q, params, nparams, cb, arg)) {
        if (s->busy_ev == NULL) { /* no event loop (tools): fail as the busy timeout did */
            store_deliver(store, q, -1, "database is locked", NULL, 0, 0, 0, cb, arg);
            return;
        }
        busy_enqueue(store, q, params, nparams, cb, arg);
    }
}

static void generation_cb(const struct store_answer *ans, void *arg)
{
    struct store *store = arg;
    struct sqlite_store *s = store->impl;

    if (ans->status == 1 && ans->nrows == 1 && ans->cells[0] != NULL)
        store_generation_seen(store, strtoll(ans->cells[0], NULL, 10) + s->salt);
    else if (ans->status == 0)
        store_generation_failed(store, "modo_generation has no row with id 1");
    else if (ans->error == NULL || (strstr(ans->error, "locked") == NULL &&
                                    strstr(ans->error, "busy") == NULL &&
                                    strstr(ans->error, "deadline") == NULL &&
                                    strstr(ans->error, "was removed") == NULL))
        store_generation_failed(store, ans->error ? ans->error : "unknown error");
}

static void sqlite_read_generation(struct store *store)
{
    struct sqlite_store *s = store->impl;

    /* locked: the next poll reads it (data_version is only remembered once it is read) */
    if (!sqlite_run(store, STORE_Q_GENERATION, NULL, 0, generation_cb, store))
        s->last_data_version = -1;
}

/* Entries of one file never answer for another: the file's identity salts the generation. */
static int64_t file_salt(dev_t dev, ino_t ino)
{
    uint64_t h = 1469598103934665603ULL;

    h = (h ^ (uint64_t)dev) * 1099511628211ULL;
    h = (h ^ (uint64_t)ino) * 1099511628211ULL;
    return (int64_t)((h >> 44) << 40); /* 20 bits above the counter's 40 */
}

/* "user:group, mode 0640" of a file or directory, in sb */
static void describe_node(struct strbuf *sb, const char *path)
{
    struct stat st;
    struct passwd *pw;
    struct group *gr;

    if (stat(path, &st) < 0) {
        strbuf_printf(sb, "%s: %s", path, strerror(errno));
        return;
    }
    pw = getpwuid(st.st_uid);
    gr = getgrgid(st.st_gid);
    strbuf_printf(sb, "%s is %s:%s, mode %04o", path, pw ? pw->pw_name : "?",
                  gr ? gr->gr_name : "?", (unsigned)(st.st_mode & 07777));
}

/*
 * The file (or its directory, where SQLite keeps the -wal and -shm files) cannot be read
 * or written by this process: the error names both owners and the chown that fixes it.
 */
static char *ownership_error(const char *path, const char *cannot, const char *why)
{
    struct strbuf sb = STRBUF_INIT;
    struct passwd *pw = getpwuid(geteuid());
    char *user = xstrdup(pw ? pw->pw_name : "USER");
    struct group *gr = getgrgid(getegid());
    char *group = xstrdup(gr ? gr->gr_name : "GROUP");
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);

    strbuf_printf(&sb, "the SQLite database %s cannot be %s by user %s (", path, cannot, user);
    if (why != NULL)
        strbuf_printf(&sb, "SQLite: %s; ", why);
    describe_node(&sb, path);
    strbuf_puts(&sb, "; ");
    describe_node(&sb, dir);
    strbuf_printf(&sb, "): chown %s:%s %s %s (modoctl db init gives both to [database] owner)",
                  user, group, dir, path);
    free(copy);
    free(user);
    free(group);
    return strbuf_steal(&sb);
}

/* An SQLite error that comes from file permissions */
static bool is_access_error(sqlite3 *db)
{
    int rc = sqlite3_errcode(db) & 0xff;

    return rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY || rc == SQLITE_PERM;
}

static int sqlite_connect(struct sqlite_store *s, int flags, char **error_r)
{
    struct stat st;

    if (sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        struct strbuf sb = STRBUF_INIT;
        const char *why = s->db ? sqlite3_errmsg(s->db) : "out of memory";
        if (access(s->path, F_OK) < 0 && errno == ENOENT) {
            strbuf_printf(&sb, "cannot open the SQLite database %s: %s (no such file: create it"
                               " with modoctl db init)", s->path, why);
            *error_r = strbuf_steal(&sb);
        } else if (access(s->path, R_OK) < 0) {
            *error_r = ownership_error(s->path, "read", why);
        } else {
            strbuf_printf(&sb, "cannot open the SQLite database %s: %s", s->path, why);
            *error_r = strbuf_steal(&sb);
        }
        sqlite3_close(s->db);
        s->db = NULL;
        return -1;
    }
    if (stat(s->path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->salt = file_salt(st.st_dev, st.st_ino);
    }
    sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
    return 0;
}

static void sqlite_disconnect(struct sqlite_store *s)
{
    size_t q;

    for (q = 0; q < STORE_Q__COUNT; q++) {
        sqlite3_finalize(s->stmts[q]);
        s->stmts[q] = NULL;
    }
    sqlite3_finalize(s->data_version);
    s->data_version = NULL;
    sqlite3_close(s->db);
    s->db = NULL;
}

/* The file at the path is no longer the one open (removed, or replaced): follow it. */
static bool sqlite_check_file(struct store *store)
{
    struct sqlite_store *s = store->impl;
    struct stat st;
    char *err = NULL;
    sqlite3 *old;

    if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino) {
        if (s->gone) {
            log_info("the SQLite database %s is back", s->path);
            s->last_data_version = -1; /* read the generation again */
        }
        s->gone = false;
        store_set_down(store, false);
        return true;
    }
    if (stat(s->path, &st) < 0) {
        if (!s->gone) {
            log_error("the SQLite database %s was removed: answering temporary failures until it"
                      " is back", s->path);
            /* no generation: nothing cached from the removed file answers any more */
            store_generation_seen(store, INT64_MIN);
        }
        s->gone = true;
        store_set_down(store, true);
        return false;
    }
    old = s->db;
    s->db = NULL;
    {
        /* open the new file first: if that fails, keep failing rather than answer from the old */
        struct sqlite_store fresh = *s;
        fresh.db = NULL;
        if (sqlite_connect(&fresh, s->open_flags, &err) < 0) {
            s->db = old;
            if (!s->gone) {
                log_error("the SQLite database %s was replaced and %s", s->path, err);
                store_generation_seen(store, INT64_MIN);
            }
            s->gone = true;
            store_set_down(store, true);
            free(err);
            return false;
        }
        s->db = old;
        sqlite_disconnect(s);
        s->db = fresh.db;
        s->dev = fresh.dev;
        s->ino = fresh.ino;
        s->salt = fresh.salt;
    }
    sqlite3_busy_timeout(s->db, s->busy_ev != NULL ? 0 : 1000);
    s->gone = false;
    store_set_down(store, false);
    s->last_data_version = -1;
    log_warning("the SQLite database %s was replaced by another file: reopened it", s->path);
    return true;
}

static void sqlite_poll(evutil_socket_t fd, short what, void *arg)
{
    struct store *store = arg;
    struct sqlite_store *s = store->impl;
    long long v;

    (void)fd;
    (void)what;
    if (!sqlite_check_file(store))
        return;
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

    sqlite3_busy_timeout(s->db, (int)conf_ms(store->conf, "database", "busy_timeout"));
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        *error_r = xstrdup(err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_busy_timeout(s->db, s->busy_ev != NULL ? 0 : 1000);
        return -1;
    }
    sqlite3_busy_timeout(s->db, s->busy_ev != NULL ? 0 : 1000);
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

    if (s->poll_ev != NULL)
        event_free(s->poll_ev);
    while (s->busy_head != NULL) {
        struct busy_question *b = s->busy_head;
        s->busy_head = b->next;
        store_deliver(store, b->q, -1, "store closed", NULL, 0, 0, 0, b->cb, b->arg);
        busy_free(b);
    }
    if (s->busy_ev != NULL)
        event_free(s->busy_ev);
    sqlite_disconnect(s);
    free(s->path);
    free(s);
}

static const struct store_backend sqlite_backend = {
    "sqlite", sqlite_ask, sqlite_exec_script, sqlite_close, sqlite_read_generation,
};

int store_sqlite_open(struct store *store, const char *path, int flags, char **error_r)
{
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    long long poll_ms = conf_ms(store->conf, "database", "poll_interval");
    struct timeval tv = {poll_ms / 1000, (poll_ms % 1000) * 1000};

    if (path[0] == '\0') {
        *error_r = xstrdup("[database] url: sqlite:// needs a path (sqlite:///var/lib/modo/modo.db)");
        free(s);
        return -1;
    }
    s->path = xstrdup(path);
    s->open_flags = (flags & STORE_READ_ONLY) != 0 ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite_connect(s, s->open_flags | ((flags & STORE_CREATE) != 0 ? SQLITE_OPEN_CREATE : 0),
                       error_r) < 0) {
        free(s->path);
        free(s);
        return -1;
    }
    store->be = &sqlite_backend;
    store->impl = s;
    s->last_data_version = -1;
    if (store->base != NULL) {
        /* a lock never waits on the loop: questions that find it locked retry from a timer */
        sqlite3_busy_timeout(s->db, 0);
        s->busy_ev = evtimer_new(store->base, busy_retry, store);
        s->poll_ev = event_new(store->base, -1, EV_PERSIST, sqlite_poll, store);
        event_add(s->poll_ev, &tv);
    } else {
        sqlite3_busy_timeout(s->db, (int)conf_ms(store->conf, "database", "busy_timeout"));
    }
    sqlite_poll(-1, 0, store);
    return 0;
}

/*
 * Can the daemons answer from this file? Opened read-only: nothing is created. A daemon
 * that writes (not STORE_READ_ONLY) must be able to write the file and its directory.
 */
int store_sqlite_check(const char *path, int flags, char **error_r)
{
    struct sqlite_store s;
    size_t q;
    int rc = 0;

    memset(&s, 0, sizeof(s));
    s.path = (char *)path;
    if ((flags & STORE_READ_ONLY) == 0 && access(path, F_OK) == 0) {
        char *copy = xstrdup(path);
        bool writable = access(path, R_OK | W_OK) == 0 && access(dirname(copy), W_OK | X_OK) == 0;
        free(copy);
        if (!writable) {
            *error_r = ownership_error(path, "written", NULL);
            return -1;
        }
    }
    if (sqlite_connect(&s, SQLITE_OPEN_READONLY, error_r) < 0)
        return -1;
    /* another process may hold a lock a moment (a writer, or the recovery of a crashed one's
     * write-ahead log): wait for it rather than refuse to start */
    sqlite3_busy_timeout(s.db, 5000);
    for (q = 0; q < STORE_Q__COUNT && rc == 0; q++) {
        sqlite3_stmt *st = NULL;
        if (q == STORE_Q_GENERATION) /* below: the daemons can serve without it */
            continue;
        if (sqlite3_prepare_v2(s.db, sqlite_sql[q], -1, &st, NULL) != SQLITE_OK &&
            is_access_error(s.db)) {
            *error_r = ownership_error(path, "read", sqlite3_errmsg(s.db));
            rc = -1;
        } else if (st == NULL) {
            struct strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "the SQLite database %s cannot answer (%s): %s", path,
                          sqlite3_errmsg(s.db),
                          strstr(sqlite3_errmsg(s.db), "modo_") != NULL
                              ? "run modoctl db add-modo-objects"
                              : "create the schema with modoctl db init (on a Modoboa database:"
                                " modoctl db upgrade)");
            *error_r = strbuf_steal(&sb);
            rc = -1;
        }
        sqlite3_finalize(st);
    }
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s.db, sqlite_sql[STORE_Q_GENERATION], -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            struct strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "cannot read modo_generation in %s (%s): changes will not be seen"
                               " at once; run modoctl db add-modo-objects", path,
                          st != NULL ? "no row" : sqlite3_errmsg(s.db));
            *error_r = strbuf_steal(&sb);
            rc = 2;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(s.db);
    return rc;
}

const char *store_sqlite_sql(enum store_question q)
{
    return sqlite_sql[q];
}
