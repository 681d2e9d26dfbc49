/*
 * store_pgsql - the store on PostgreSQL, non-blocking on the event loop.
 *
 * A small pool of libpq connections ([database] pool_size), each running
 * one statement at a time; statements are prepared on each connection the
 * first time a question runs there. Requests wait in one FIFO queue for an
 * idle connection. Every request has a deadline ([database] deadline): when
 * it fires the caller gets an error answer at once and, if the statement was
 * running, that connection is dropped and reconnected (a stuck server must
 * not hold a slot). Connections that fail are retried with exponential
 * backoff up to [database] reconnect_max; while none is up, questions fail
 * fast instead of waiting for the deadline.
 *
 * A separate connection LISTENs on modo_generation (NOTIFY sent by the
 * triggers of sql/pgsql/modo-objects.sql) and reads the generation again
 * after every (re)connect, since notifications sent meanwhile are lost. On
 * a streaming replica ([database] replica = yes) NOTIFY is not delivered,
 * so the generation row is polled every [database] poll_interval instead.
 */
#include "conf.h"
#include "log.h"
#include "num.h"
#include "store_impl.h"
#include "strbuf.h"

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

static const char *const pgsql_sql[STORE_Q__COUNT] = {
    [STORE_Q_DOMAIN] = "SELECT name FROM admin_domain WHERE name=$1 AND type='domain' AND enabled",
    [STORE_Q_DOMAIN_ALIAS] =
        "SELECT dom.name FROM admin_domain dom INNER JOIN admin_domainalias domal"
        " ON dom.id=domal.target_id WHERE domal.name=$1 AND domal.enabled AND dom.enabled",
    [STORE_Q_RELAY_DOMAIN] =
        "SELECT name FROM admin_domain WHERE name=$1 AND type='relaydomain' AND enabled",
    [STORE_Q_ALIAS_RECIPIENTS] =
        "SELECT alr.address, floor(extract(epoch FROM al.expire_at))::bigint"
        " FROM modoboa_admin_aliasrecipient AS alr INNER JOIN admin_alias AS al"
        " ON alr.alias_id=al.id WHERE al.enabled AND al.address=$1"
        " AND (al.expire_at IS NULL OR al.expire_at>now())",
    [STORE_Q_ALIAS_FORMS] =
        "SELECT al.address, alr.address, floor(extract(epoch FROM al.expire_at))::bigint"
        " FROM modoboa_admin_aliasrecipient AS alr INNER JOIN admin_alias AS al"
        " ON alr.alias_id=al.id WHERE al.enabled AND al.address IN ($1, $2, $3)"
        " AND (al.expire_at IS NULL OR al.expire_at>now())",
    [STORE_Q_SENDER_OWNERS] =
        "SELECT email FROM core_user WHERE email=$1 AND is_active"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN admin_senderaddress sad ON sad.mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE sad.address=$1"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN modoboa_admin_aliasrecipient alr ON alr.r_mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id"
        " INNER JOIN admin_alias al ON alr.alias_id=al.id"
        " WHERE al.enabled AND al.address=$1"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN modoboa_admin_aliasrecipient alr ON alr.r_mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id"
        " INNER JOIN admin_alias al ON alr.alias_id=al.id"
        " INNER JOIN admin_domainalias adoma ON adoma.target_id=al.domain_id"
        " INNER JOIN admin_domain adom ON adom.id=adoma.target_id"
        " WHERE al.enabled AND adoma.name=$3 AND al.address=$2 || '@' || adom.name"
        " UNION SELECT mb.address || '@' || dom.name FROM admin_mailbox mb"
        " INNER JOIN admin_senderaddress sad ON sad.mailbox_id=mb.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE sad.address='@' || $3",
    [STORE_Q_TRANSPORT] =
        "SELECT service || ':' || next_hop FROM transport_transport WHERE pattern=$1",
    [STORE_Q_SPLIT_MAILBOX] =
        "SELECT 1 FROM admin_domain AS dom INNER JOIN admin_mailbox AS mbox"
        " ON dom.id=mbox.domain_id INNER JOIN core_user AS u ON mbox.user_id=u.id"
        " WHERE dom.type='relaydomain' AND dom.enabled AND dom.name=$3 AND u.is_active"
        " AND mbox.address=$2",
    [STORE_Q_MAINTENANCE] =
        "SELECT 1 FROM admin_mailbox mb INNER JOIN admin_domain dom ON mb.domain_id=dom.id"
        " INNER JOIN admin_mailboxoperation mbop ON mbop.mailbox_id=mb.id"
        " WHERE dom.name=$3 AND mb.address=$2 LIMIT 1",
    [STORE_Q_RELAY_VERIFY] = "SELECT action FROM relaydomains_recipientaccess WHERE pattern=$1",
    [STORE_Q_PASSDB] =
        "SELECT u.email, u.password, mb.quota, CASE WHEN mb.is_send_only THEN 1 ELSE 0 END"
        " FROM core_user u INNER JOIN admin_mailbox mb ON u.id=mb.user_id"
        " INNER JOIN admin_domain dom ON mb.domain_id=dom.id"
        " WHERE u.email=$1 AND u.is_active AND dom.enabled",
    [STORE_Q_MASTER_PASSDB] =
        "SELECT email, password FROM core_user WHERE email=$1 AND is_active AND master_user",
    [STORE_Q_USERDB] =
        "SELECT mb.quota, CASE WHEN mb.is_send_only THEN 1 ELSE 0 END FROM admin_mailbox mb"
        " INNER JOIN admin_domain dom ON mb.domain_id=dom.id WHERE mb.address=$2 AND dom.name=$3",
    [STORE_Q_MESSAGE_LIMITS] =
        "SELECT mb.message_limit, dom.name, dom.message_limit FROM core_user u"
        " INNER JOIN admin_mailbox mb ON mb.user_id=u.id"
        " INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE u.email=$1",
    [STORE_Q_QUOTA_GET] = "SELECT bytes, messages FROM admin_quota WHERE username=$1",
    [STORE_Q_QUOTA_ADD] = "UPDATE admin_quota SET bytes=bytes+$2::bigint,"
                          " messages=messages+$3::integer WHERE username=$1",
    [STORE_Q_QUOTA_SET] =
        "WITH u AS (UPDATE admin_quota SET bytes=COALESCE(NULLIF($2::text,'')::bigint, bytes),"
        " messages=COALESCE(NULLIF($3::text,'')::integer, messages) WHERE username=$1::text"
        " RETURNING 1), i AS (INSERT INTO admin_quota (username, bytes, messages)"
        " SELECT $1::text, COALESCE(NULLIF($2::text,'')::bigint, 0),"
        " COALESCE(NULLIF($3::text,'')::integer, 0) WHERE NOT EXISTS (SELECT 1 FROM u)"
        " ON CONFLICT (username) DO UPDATE SET"
        " bytes=COALESCE(NULLIF($2::text,'')::bigint, admin_quota.bytes),"
        " messages=COALESCE(NULLIF($3::text,'')::integer, admin_quota.messages)"
        " RETURNING 1) SELECT 1 FROM u UNION ALL SELECT 1 FROM i",
    [STORE_Q_TOUCH_LAST_LOGIN] =
        "UPDATE core_user SET last_login=to_timestamp($2::bigint) WHERE username=$1",
    [STORE_Q_USER_LIST] =
        "SELECT u.email FROM core_user u INNER JOIN admin_mailbox mb ON mb.user_id=u.id"
        " ORDER BY u.email",
    [STORE_Q_GENERATION] = "SELECT value FROM modo_generation WHERE id=1",
    [STORE_Q_LIMIT_ALARM_OPEN] =
        "INSERT INTO admin_alarm (created, closed, status, title, internal_name, mailbox_id,"
        " domain_id) SELECT now(), NULL, 1, t.title, 'sending_limit',"
        " (SELECT mb.id FROM admin_mailbox mb WHERE mb.domain_id=dom.id AND mb.address=$2::text),"
        " dom.id FROM admin_domain dom, (SELECT CASE WHEN $2::text='' THEN 'Daily sending limit"
        " reached for domain ' || $3::text ELSE 'Daily sending limit reached for ' || $1::text"
        " END AS title) t WHERE dom.name=$3::text AND NOT EXISTS (SELECT 1 FROM admin_alarm a"
        " WHERE a.internal_name='sending_limit' AND a.status=1 AND a.title=t.title)",
    [STORE_Q_LIMIT_ALARMS_CLOSE] =
        "UPDATE admin_alarm SET status=2, closed=now() WHERE internal_name='sending_limit'"
        " AND status=1",
};

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_PREPARING, CONN_BUSY };

struct pg_request;

struct pg_conn {
    struct pg_store *pg;
    PGconn *conn;
    enum conn_state state;
    struct event *io_ev;
    struct event *retry_ev;
    struct backoff backoff;
    bool prepared[STORE_Q__COUNT];
    bool listener; /* the LISTEN connection, not in the pool */
    struct pg_request *req;
    PGresult *pending; /* first result of the statement in flight */
};

struct pg_request {
    TAILQ_ENTRY(pg_request) entry; /* while queued */
    struct pg_store *pg;
    enum store_question q;
    size_t nparams;
    char *params[STORE_MAX_ARGS];
    store_cb *cb;
    void *arg;
    struct event *deadline_ev;
    struct pg_conn *conn;
    bool internal; /* generation reads: no caller */
};

struct pg_store {
    struct store *store;
    char *url;
    size_t npool;
    struct pg_conn *pool;
    struct pg_conn listen;
    TAILQ_HEAD(, pg_request) queue; /* waiting for a connection, oldest first */
    struct event *poll_ev;
    long long reconnect_max_ms;
    size_t queued, max_queue;
    struct timespec last_kick; /* the last reconnection made because questions were waiting */
    bool ever_failed;
    struct timespec down_since; /* when it became unavailable */
    bool queue_full_logged; /* max_queue reached: said once until it drains */
    bool down_logged; /* "unavailable" was logged: log "established" when it is back */
    bool closing;
};

static void conn_start(struct pg_conn *c);
static void conn_io(evutil_socket_t fd, short what, void *arg);
static void dispatch(struct pg_store *pg);

static void set_io(struct pg_conn *c, short what)
{
    struct pg_store *pg = c->pg;

    if (c->io_ev != NULL) {
        event_free(c->io_ev);
        c->io_ev = NULL;
    }
    if (c->conn == NULL || PQsocket(c->conn) < 0)
        return;
    c->io_ev = event_new(pg->store->base, PQsocket(c->conn), what | EV_PERSIST, conn_io, c);
    event_add(c->io_ev, NULL);
}

static void request_free(struct pg_request *r)
{
    size_t i;

    if (r->deadline_ev != NULL)
        event_free(r->deadline_ev);
    for (i = 0; i < r->nparams; i++)
        free(r->params[i]);
    free(r);
}

static void request_fail(struct pg_request *r, const char *error)
{
    if (!r->internal)
        store_deliver(r->pg->store, r->q, -1, error, NULL, 0, 0, 0, r->cb, r->arg);
    request_free(r);
}

static bool any_conn_usable(struct pg_store *pg)
{
    size_t i;

    for (i = 0; i < pg->npool; i++)
        if (pg->pool[i].state != CONN_DOWN)
            return true;
    return false;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_start(arg);
}

/* A connection whose server has gone (EOF waiting on its socket), without consuming it. */
static bool conn_peer_closed(const struct pg_conn *c)
{
    char b;
    int fd = c->conn != NULL ? PQsocket(c->conn) : -1;

    return fd >= 0 && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Close a connection and schedule its reconnection; its request is handed back, not failed. */
static struct pg_request *conn_drop(struct pg_conn *c, const char *why)
{
    struct pg_store *pg = c->pg;
    struct pg_request *r = c->req;
    struct timeval tv;

    /* one pooled connection lost is no news while others serve: the state change is */
    if ((c->state == CONN_IDLE || c->state == CONN_BUSY || c->state == CONN_PREPARING) &&
        !pg->closing)
        log_debug("PostgreSQL connection lost: %s", why);
    if (c->io_ev != NULL) {
        event_free(c->io_ev);
        c->io_ev = NULL;
    }
    if (c->pending != NULL) {
        PQclear(c->pending);
        c->pending = NULL;
    }
    if (c->conn != NULL) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
    c->state = CONN_DOWN;
    c->req = NULL;
    memset(c->prepared, 0, sizeof(c->prepared));
    pg->ever_failed = true;
    if (pg->closing)
        return r;
    c->backoff.max_ms = pg->reconnect_max_ms;
    tv = backoff_next(&c->backoff);
    if (c->retry_ev == NULL)
        c->retry_ev = evtimer_new(pg->store->base, retry_cb, c);
    evtimer_add(c->retry_ev, &tv);
    return r;
}

/*
 * Drop a connection, fail its request, and schedule a reconnection with backoff. When the
 * server went away, the other connections it closed are dropped too and the state change
 * is decided before any request is failed: a restart or crash is one "unavailable" line,
 * not a temporary failure logged per request first.
 */
static void conn_fail(struct pg_conn *c, const char *why)
{
    struct pg_store *pg = c->pg;
    struct pg_request *failed[1 + 64];
    size_t nfailed = 0, i;
    bool none_left;

    failed[nfailed++] = conn_drop(c, why);
    if (!c->listener && !pg->closing)
        for (i = 0; i < pg->npool && nfailed < sizeof(failed) / sizeof(failed[0]); i++)
            if (&pg->pool[i] != c &&
                (pg->pool[i].state == CONN_IDLE || pg->pool[i].state == CONN_BUSY ||
                 pg->pool[i].state == CONN_PREPARING) &&
                conn_peer_closed(&pg->pool[i]))
                failed[nfailed++] = conn_drop(&pg->pool[i], why);
    none_left = !c->listener && !pg->closing && !any_conn_usable(pg);
    if (none_left) {
        if (!pg->down_logged) {
            log_warning("PostgreSQL unavailable: %s (answering temporary failures; retrying)",
                        why);
            clock_gettime(CLOCK_MONOTONIC, &pg->down_since);
        }
        pg->down_logged = true;
        store_set_down(pg->store, true);
    }
    for (i = 0; i < nfailed; i++)
        if (failed[i] != NULL)
            request_fail(failed[i], why);
    /* with nothing left to run them, queued questions fail now rather than at their deadline */
    if (none_left) {
        while (!TAILQ_EMPTY(&pg->queue)) {
            struct pg_request *r = TAILQ_FIRST(&pg->queue);
            TAILQ_REMOVE(&pg->queue, r, entry);
            pg->queued--;
            request_fail(r, "database unavailable");
        }
    }
}

/* Start a connection now instead of at the end of its backoff. */
static void conn_start_now(struct pg_conn *c)
{
    if (c->state != CONN_DOWN)
        return;
    if (c->retry_ev != NULL)
        evtimer_del(c->retry_ev);
    conn_start(c);
}

/*
 * Questions are waiting but no connection is up: the database may be back before the
 * backoff ends. Try one connection at once, at most every KICK_INTERVAL_MS, so recovery
 * takes well under a second however long the outage was.
 */
#define KICK_INTERVAL_MS 250

static void kick_reconnect(struct pg_store *pg)
{
    struct timespec now;
    size_t i;
    long long ms;

    for (i = 0; i < pg->npool; i++)
        if (pg->pool[i].state == CONN_CONNECTING)
            return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (now.tv_sec - pg->last_kick.tv_sec) * 1000LL +
         (now.tv_nsec - pg->last_kick.tv_nsec) / 1000000;
    if (pg->last_kick.tv_sec != 0 && ms < KICK_INTERVAL_MS)
        return;
    pg->last_kick = now;
    conn_start_now(&pg->pool[0]);
}

static void listener_ready(struct pg_conn *c);

/* libpq prints server notices on stderr by default; they go to the debug log instead. */
static void notice_to_debug(void *arg, const char *message)
{
    (void)arg;
    log_debug("PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

static void conn_start(struct pg_conn *c)
{
    struct pg_store *pg = c->pg;

    c->conn = PQconnectStart(pg->url);
    if (c->conn == NULL || PQstatus(c->conn) == CONNECTION_BAD) {
        conn_fail(c, c->conn ? PQerrorMessage(c->conn) : "out of memory");
        return;
    }
    /* the server's notices (a shutdown's "terminating connection") are not ours to print */
    PQsetNoticeProcessor(c->conn, notice_to_debug, NULL);
    PQsetnonblocking(c->conn, 1);
    c->state = CONN_CONNECTING;
    set_io(c, EV_WRITE);
}

static void connect_step(struct pg_conn *c)
{
    switch (PQconnectPoll(c->conn)) {
    case PGRES_POLLING_READING:
        set_io(c, EV_READ);
        return;
    case PGRES_POLLING_WRITING:
        set_io(c, EV_WRITE);
        return;
    case PGRES_POLLING_OK: {
        struct pg_store *pg = c->pg;
        size_t i;
        if (pg->down_logged && !c->listener) {
            log_info("PostgreSQL available again after %.1f s",
                     num_seconds_since(&pg->down_since));
            pg->down_logged = false;
            store_set_down(pg->store, false);
        }
        if (backoff_active(&c->backoff))
            pg->store->stats.reconnects++;
        backoff_reset(&c->backoff);
        c->state = CONN_IDLE;
        set_io(c, EV_READ);
        if (c->listener) {
            listener_ready(c);
            return;
        }
        /* the database is back: the rest of the pool and the listener need not wait */
        for (i = 0; i < pg->npool; i++)
            conn_start_now(&pg->pool[i]);
        if (pg->poll_ev == NULL)
            conn_start_now(&pg->listen);
        dispatch(pg);
        return;
    }
    default: {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot connect: %s", PQerrorMessage(c->conn));
        msg[strcspn(msg, "\n")] = '\0';
        conn_fail(c, msg);
        return;
    }
    }
}

/* Send the current request's statement (preparing it first on this connection if needed). */
static void conn_send(struct pg_conn *c)
{
    struct pg_request *r = c->req;
    char name[16];
    int ok;

    snprintf(name, sizeof(name), "q%d", (int)r->q);
    if (!c->prepared[r->q]) {
        /* all parameters are text: some questions do not use every one */
        static const Oid text_oids[STORE_MAX_ARGS] = {25, 25, 25};
        ok = PQsendPrepare(c->conn, name, pgsql_sql[r->q], (int)r->nparams, text_oids);
        c->state = CONN_PREPARING;
    } else {
        ok = PQsendQueryPrepared(c->conn, name, (int)r->nparams,
                                 (const char *const *)r->params, NULL, NULL, 0);
        c->state = CONN_BUSY;
    }
    if (!ok) {
        conn_fail(c, PQerrorMessage(c->conn));
        return;
    }
    set_io(c, PQflush(c->conn) == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void deliver_result(struct pg_request *r, PGresult *res)
{
    struct store *store = r->pg->store;
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_TUPLES_OK) {
        size_t nrows = (size_t)PQntuples(res), ncols = (size_t)PQnfields(res), i, j;
        const char **cells = xcalloc(nrows * ncols + 1, sizeof(*cells));
        for (i = 0; i < nrows; i++)
            for (j = 0; j < ncols; j++)
                cells[i * ncols + j] =
                    PQgetisnull(res, (int)i, (int)j) ? NULL : PQgetvalue(res, (int)i, (int)j);
        if (r->internal) {
            if (nrows == 1 && cells[0] != NULL)
                store_generation_seen(store, strtoll(cells[0], NULL, 10));
            else
                store_generation_failed(store, "modo_generation has no row with id 1");
        } else {
            store_deliver(store, r->q, nrows > 0 ? 1 : 0, NULL, cells, nrows, ncols, 0, r->cb,
                          r->arg);
        }
        free(cells);
    } else if (st == PGRES_COMMAND_OK) {
        long long affected = strtoll(PQcmdTuples(res), NULL, 10);
        if (!r->internal)
            store_deliver(store, r->q, affected > 0 ? 1 : 0, NULL, NULL, 0, 0, affected, r->cb,
                          r->arg);
    } else {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
        msg[strcspn(msg, "\n")] = '\0';
        if (!r->internal)
            store_deliver(store, r->q, -1, msg, NULL, 0, 0, 0, r->cb, r->arg);
        else
            store_generation_failed(store, msg);
    }
}

static void listener_io(struct pg_conn *c);

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
    struct pg_conn *c = arg;
    PGresult *res;

    (void)fd;
    if (c->state == CONN_CONNECTING) {
        connect_step(c);
        return;
    }
    if (what & EV_WRITE) {
        int f = PQflush(c->conn);
        if (f < 0) {
            conn_fail(c, PQerrorMessage(c->conn));
            return;
        }
        if (f == 0)
            set_io(c, EV_READ);
    }
    if (!(what & EV_READ))
        return;
    if (!PQconsumeInput(c->conn)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
        msg[strcspn(msg, "\n")] = '\0';
        conn_fail(c, msg);
        return;
    }
    if (c->listener) {
        listener_io(c);
        return;
    }
    if (c->state != CONN_PREPARING && c->state != CONN_BUSY)
        return; /* nothing pending: a notice or an unexpected close will show later */
    /* collect the results of the statement in flight */
    {
        PGresult *first;
        for (;;) {
            if (PQisBusy(c->conn))
                return; /* wait for the rest */
            res = PQgetResult(c->conn);
            if (res == NULL)
                break;
            if (c->pending == NULL)
                c->pending = res;
            else
                PQclear(res);
        }
        first = c->pending;
        c->pending = NULL;
        if (c->state == CONN_PREPARING) {
            if (first != NULL && PQresultStatus(first) == PGRES_COMMAND_OK) {
                c->prepared[c->req->q] = true;
                PQclear(first);
                conn_send(c);
                return;
            }
            /* prepare failed (e.g. schema missing): answer the error, keep the connection */
        }
        if (c->req != NULL && first != NULL) {
            struct pg_request *r = c->req;
            c->req = NULL;
            c->state = CONN_IDLE;
            deliver_result(r, first);
            request_free(r);
        } else {
            c->req = NULL;
            c->state = CONN_IDLE;
        }
        PQclear(first);
    }
    dispatch(c->pg);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pg_request *r = arg;
    struct pg_store *pg = r->pg;

    (void)fd;
    (void)what;
    pg->store->stats.deadlines++;
    if (r->conn != NULL) {
        /* running: the connection is in an unknown state; drop it */
        r->conn->req = NULL;
        conn_fail(r->conn, "deadline reached while the database was answering");
    } else {
        TAILQ_REMOVE(&pg->queue, r, entry);
        pg->queued--;
    }
    request_fail(r, "database deadline reached");
}

static void dispatch(struct pg_store *pg)
{
    size_t i;

    if (pg->queue_full_logged && pg->queued < pg->max_queue / 2) {
        log_info("PostgreSQL: the question queue is below [database] max_queue again");
        pg->queue_full_logged = false;
    }
    for (i = 0; i < pg->npool && !TAILQ_EMPTY(&pg->queue); i++) {
        struct pg_conn *c = &pg->pool[i];
        struct pg_request *r;
        if (c->state != CONN_IDLE)
            continue;
        r = TAILQ_FIRST(&pg->queue);
        TAILQ_REMOVE(&pg->queue, r, entry);
        pg->queued--;
        r->conn = c;
        c->req = r;
        conn_send(c);
    }
}

static void enqueue(struct pg_store *pg, struct pg_request *r)
{
    long long ms = pg->store->deadline_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    if (pg->ever_failed && !any_conn_usable(pg)) {
        kick_reconnect(pg);
        request_fail(r, "database unavailable");
        return;
    }
    if (pg->queued >= pg->max_queue) {
        if (!pg->queue_full_logged)
            log_warning("PostgreSQL: %zu questions wait for a connection ([database] max_queue):"
                        " more are answered as temporary failures at once", pg->queued);
        pg->queue_full_logged = true;
        pg->store->stats.errors++;
        request_fail(r, "too many questions waiting for the database ([database] max_queue)");
        return;
    }
    pg->queued++;
    r->deadline_ev = evtimer_new(pg->store->base, deadline_cb, r);
    evtimer_add(r->deadline_ev, &tv);
    TAILQ_INSERT_TAIL(&pg->queue, r, entry);
    dispatch(pg);
}

static void pgsql_ask(struct store *store, enum store_question q, const char *const *params,
                      size_t nparams, store_cb *cb, void *arg)
{
    struct pg_store *pg = store->impl;
    struct pg_request *r = xcalloc(1, sizeof(*r));
    size_t i;

    r->pg = pg;
    r->q = q;
    r->nparams = nparams;
    for (i = 0; i < nparams; i++)
        r->params[i] = xstrdup(params[i]);
    r->cb = cb;
    r->arg = arg;
    r->internal = cb == NULL;
    enqueue(pg, r);
}

static void read_generation(struct pg_store *pg)
{
    pgsql_ask(pg->store, STORE_Q_GENERATION, NULL, 0, NULL, NULL);
}

/* ---- LISTEN connection ---- */

static void listener_ready(struct pg_conn *c)
{
    PGresult *res;

    /* LISTEN is tiny: a blocking round trip once per (re)connect is acceptable */
    PQsetnonblocking(c->conn, 0);
    res = PQexec(c->conn, "LISTEN modo_generation");
    PQsetnonblocking(c->conn, 1);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "LISTEN failed: %s", PQresultErrorMessage(res));
        PQclear(res);
        conn_fail(c, msg);
        return;
    }
    PQclear(res);
    /* whatever changed while we were not listening */
    read_generation(c->pg);
}

static void listener_io(struct pg_conn *c)
{
    PGnotify *n;
    PGresult *res;

    while ((res = PQgetResult(c->conn)) != NULL)
        PQclear(res);
    while ((n = PQnotifies(c->conn)) != NULL) {
        if (n->extra != NULL && n->extra[0] != '\0')
            store_generation_seen(c->pg->store, strtoll(n->extra, NULL, 10));
        else
            read_generation(c->pg);
        PQfreemem(n);
    }
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_generation(arg);
}

/* ---- scripts (modoctl, tests): blocking, on a connection of their own ---- */

static int pgsql_exec_script(struct store *store, const char *sql, char **error_r)
{
    struct pg_store *pg = store->impl;
    PGconn *conn = PQconnectdb(pg->url);
    PGresult *res;
    int rc = 0;

    if (PQstatus(conn) != CONNECTION_OK) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
        *error_r = strbuf_steal(&sb);
        PQfinish(conn);
        return -1;
    }
    PQsetNoticeProcessor(conn, notice_to_debug, NULL);
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        *error_r = xstrdup(PQresultErrorMessage(res));
        rc = -1;
    }
    PQclear(res);
    PQfinish(conn);
    /* statements already prepared stay valid: PostgreSQL re-plans them after DDL */
    if (rc == 0)
        read_generation(pg);
    return rc;
}

static void conn_release(struct pg_conn *c)
{
    if (c->pending != NULL)
        PQclear(c->pending);
    if (c->io_ev != NULL)
        event_free(c->io_ev);
    if (c->retry_ev != NULL)
        event_free(c->retry_ev);
    if (c->conn != NULL)
        PQfinish(c->conn);
    if (c->req != NULL)
        request_fail(c->req, "store closed");
}

static void pgsql_close(struct store *store)
{
    struct pg_store *pg = store->impl;
    size_t i;

    pg->closing = true;
    while (!TAILQ_EMPTY(&pg->queue)) {
        struct pg_request *r = TAILQ_FIRST(&pg->queue);
        TAILQ_REMOVE(&pg->queue, r, entry);
        pg->queued--;
        request_fail(r, "store closed");
    }
    for (i = 0; i < pg->npool; i++)
        conn_release(&pg->pool[i]);
    conn_release(&pg->listen);
    if (pg->poll_ev != NULL)
        event_free(pg->poll_ev);
    free(pg->pool);
    free(pg->url);
    free(pg);
}

static void pgsql_read_generation(struct store *store)
{
    read_generation(store->impl);
}

static const struct store_backend pgsql_backend = {
    "pgsql", pgsql_ask, pgsql_exec_script, pgsql_close, pgsql_read_generation,
};

int store_pgsql_open(struct store *store, const char *url, char **error_r)
{
    struct pg_store *pg = xcalloc(1, sizeof(*pg));
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    size_t i;

    if (opts == NULL) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "[database] url: %s", err ? err : "cannot parse");
        *error_r = strbuf_steal(&sb);
        PQfreemem(err);
        free(pg);
        return -1;
    }
    PQconninfoFree(opts);
    if (store->base == NULL) {
        *error_r = xstrdup("the PostgreSQL store needs an event loop");
        free(pg);
        return -1;
    }
    pg->store = store;
    pg->url = xstrdup(url);
    pg->npool = (size_t)conf_int(store->conf, "database", "pool_size");
    pg->reconnect_max_ms = conf_ms(store->conf, "database", "reconnect_max");
    pg->max_queue = (size_t)conf_int(store->conf, "database", "max_queue");
    pg->pool = xcalloc(pg->npool, sizeof(*pg->pool));
    TAILQ_INIT(&pg->queue);
    store->be = &pgsql_backend;
    store->impl = pg;
    for (i = 0; i < pg->npool; i++) {
        pg->pool[i].pg = pg;
        conn_start(&pg->pool[i]);
    }
    pg->listen.pg = pg;
    pg->listen.listener = true;
    if (conf_bool(store->conf, "database", "replica")) {
        long long ms = conf_ms(store->conf, "database", "poll_interval");
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        pg->poll_ev = event_new(store->base, -1, EV_PERSIST, poll_cb, pg);
        event_add(pg->poll_ev, &tv);
        read_generation(pg);
    } else {
        conn_start(&pg->listen);
    }
    return 0;
}

/* store_check(): connect once (blocking, bounded) and prepare every question. */
int store_pgsql_check(const char *url, long long timeout_ms, char **error_r)
{
    static const Oid text_oids[STORE_MAX_ARGS] = {25, 25, 25};
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    char timeout[24];
    const char *values[] = {url, timeout, NULL};
    struct strbuf sb = STRBUF_INIT;
    PGconn *conn;
    size_t q;
    int rc = 0;

    snprintf(timeout, sizeof(timeout), "%lld", timeout_ms < 2000 ? 2LL : (timeout_ms + 999) / 1000);
    conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        strbuf_printf(&sb, "cannot reach PostgreSQL to check the schema: %s",
                      conn ? PQerrorMessage(conn) : "out of memory");
        sb.data[strcspn(sb.data, "\n")] = '\0';
        *error_r = strbuf_steal(&sb);
        PQfinish(conn);
        return 1;
    }
    for (q = 0; q < STORE_Q__COUNT && rc == 0; q++) {
        PGresult *res;
        if (q == STORE_Q_GENERATION) /* below: the daemons can serve without it */
            continue;
        res = PQprepare(conn, "", pgsql_sql[q], (int)store_question_nparams(q), text_oids);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *msg = PQresultErrorMessage(res);
            strbuf_printf(&sb, "the PostgreSQL database cannot answer (%.*s): %s",
                          (int)strcspn(msg, "\n"), msg,
                          strstr(msg, "modo_") != NULL
                              ? "run modoctl db add-modo-objects"
                              : "create the schema with modoctl db init (on a Modoboa database:"
                                " modoctl db upgrade)");
            *error_r = strbuf_steal(&sb);
            rc = -1;
        }
        PQclear(res);
    }
    if (rc == 0) {
        /* executed, not only prepared: a role without SELECT on it fails here */
        PGresult *res = PQexec(conn, pgsql_sql[STORE_Q_GENERATION]);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            const char *msg = PQresultStatus(res) == PGRES_TUPLES_OK ? "no row"
                                                                      : PQresultErrorMessage(res);
            strbuf_printf(&sb, "cannot read modo_generation (%.*s): changes will not be seen at"
                               " once; run modoctl db add-modo-objects, or GRANT SELECT ON"
                               " modo_generation to the role of [database] url",
                          (int)strcspn(msg, "\n"), msg);
            *error_r = strbuf_steal(&sb);
            rc = 2;
        }
        PQclear(res);
    }
    PQfinish(conn);
    return rc;
}

const char *store_pgsql_sql(enum store_question q)
{
    return pgsql_sql[q];
}
