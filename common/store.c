/*
 * store - question table and backend dispatch; see store.h.
 *
 * Questions about an address are asked with the full address; store.c
 * expands it into (full, local part, domain) so the backends' SQL can use
 * each, as Postfix's %s, %u and %d do.
 */
#include "store.h"
#include "conf.h"
#include "log.h"
#include "store_impl.h"
#include "strbuf.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct question_info {
    const char *name;
    size_t nargs;         /* arguments given by the caller */
    bool expand_address;  /* args[0] is an address: SQL gets full, local, domain */
    bool expiry_last_col; /* the last SQL column is an expiry (epoch seconds or NULL) */
    bool writes;          /* goes to [database] write_url when there is one */
};

static const struct question_info questions[STORE_Q__COUNT] = {
    [STORE_Q_DOMAIN] = {"domain", 1, false, false, false},
    [STORE_Q_DOMAIN_ALIAS] = {"domain_alias", 1, false, false, false},
    [STORE_Q_RELAY_DOMAIN] = {"relay_domain", 1, false, false, false},
    [STORE_Q_ALIAS_RECIPIENTS] = {"alias_recipients", 1, false, true, false},
    [STORE_Q_ALIAS_FORMS] = {"alias_forms", 3, false, true, false},
    [STORE_Q_SENDER_OWNERS] = {"sender_owners", 1, true, false, false},
    [STORE_Q_TRANSPORT] = {"transport", 1, false, false, false},
    [STORE_Q_SPLIT_MAILBOX] = {"split_mailbox", 1, true, false, false},
    [STORE_Q_MAINTENANCE] = {"maintenance", 1, true, false, false},
    [STORE_Q_RELAY_VERIFY] = {"relay_verify", 1, false, false, false},
    [STORE_Q_PASSDB] = {"passdb", 1, false, false, false},
    [STORE_Q_MASTER_PASSDB] = {"master_passdb", 1, false, false, false},
    [STORE_Q_USERDB] = {"userdb", 1, true, false, false},
    [STORE_Q_MESSAGE_LIMITS] = {"message_limits", 1, false, false, false},
    [STORE_Q_QUOTA_GET] = {"quota_get", 1, false, false, false},
    [STORE_Q_QUOTA_ADD] = {"quota_add", 3, false, false, true},
    [STORE_Q_QUOTA_SET] = {"quota_set", 3, false, false, true},
    [STORE_Q_TOUCH_LAST_LOGIN] = {"touch_last_login", 2, false, false, true},
    [STORE_Q_USER_LIST] = {"user_list", 0, false, false, false},
    [STORE_Q_GENERATION] = {"generation", 0, false, false, false},
    [STORE_Q_LIMIT_ALARM_OPEN] = {"limit_alarm_open", 1, true, false, true},
    [STORE_Q_LIMIT_ALARMS_CLOSE] = {"limit_alarms_close", 0, false, false, true},
};

const char *store_question_name(enum store_question q)
{
    return q < STORE_Q__COUNT ? questions[q].name : "?";
}

size_t store_question_nargs(enum store_question q)
{
    return questions[q].nargs;
}

bool store_question_writes(enum store_question q)
{
    return questions[q].writes;
}

size_t store_question_nparams(enum store_question q)
{
    return questions[q].expand_address ? 3 : questions[q].nargs;
}

/* "[database] url: ..." without the password of a URL that has one */
static char *url_for_log(const char *url)
{
    struct strbuf sb = STRBUF_INIT;
    const char *scheme = strstr(url, "://"), *at, *colon;

    if (scheme != NULL && (at = strchr(scheme + 3, '@')) != NULL &&
        (colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) != NULL) {
        strbuf_append(&sb, url, (size_t)(colon - url));
        strbuf_puts(&sb, ":********");
        strbuf_puts(&sb, at);
    } else {
        strbuf_puts(&sb, url);
    }
    return strbuf_steal(&sb);
}

int store_check(const struct conf *conf, int flags, char **error_r)
{
    const char *url = conf_str(conf, "database", "url");

    if (strncmp(url, "sqlite://", 9) == 0)
        return store_sqlite_check(url + 9, flags, error_r);
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        const char *wurl = conf_str(conf, "database", "write_url");
        int rc = store_pgsql_check(url, conf_ms(conf, "database", "deadline") * 3, error_r);
        char *werr = NULL;
        int wrc;
        /* the primary that takes the writes must answer too */
        if (rc == -1 || rc == 1 || wurl[0] == '\0')
            return rc;
        wrc = store_pgsql_check(wurl, conf_ms(conf, "database", "deadline") * 3, &werr);
        if (wrc == 0 || wrc == 2) {
            free(werr);
            return rc;
        }
        {
            struct strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "[database] write_url: %s", werr);
            free(werr);
            if (rc == 2)
                free(*error_r);
            *error_r = strbuf_steal(&sb);
        }
        return wrc;
    }
    {
        struct strbuf sb = STRBUF_INIT;
        char *safe = url_for_log(url);
        strbuf_printf(&sb, "[database] url: \"%s\" is neither sqlite:///PATH nor postgresql://...",
                      safe);
        free(safe);
        *error_r = strbuf_steal(&sb);
    }
    return -1;
}

int store_require(const struct conf *conf, int flags, const char *conf_path)
{
    char *err = NULL;

    switch (store_check(conf, flags, &err)) {
    case -1:
        log_error("%s: %s", conf_path, err);
        free(err);
        return -1;
    case 1:
        log_warning("%s (starting anyway: questions answer a temporary failure until it is back)",
                    err);
        break;
    case 2:
        log_error("%s (starting: answers are cached for at most [cache] fallback_ttl)", err);
        break;
    default:
        break;
    }
    free(err);
    return 0;
}

struct store *store_open(struct event_base *base, const struct conf *conf, char **error_r)
{
    return store_open_flags(base, conf, STORE_CREATE, error_r);
}

struct store *store_open_flags(struct event_base *base, const struct conf *conf, int flags,
                               char **error_r)
{
    struct store *store = xcalloc(1, sizeof(*store));
    const char *url = conf_str(conf, "database", "url");
    int rc;

    store->base = base;
    store->conf = conf;
    store->tool = (flags & STORE_CREATE) != 0;
    store->deadline_ms = conf_ms(conf, "database", "deadline");
    if (strncmp(url, "sqlite://", 9) == 0) {
        rc = store_sqlite_open(store, url + 9, flags, error_r);
    } else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        rc = store_pgsql_open(store, url, error_r);
    } else {
        struct strbuf sb = STRBUF_INIT;
        char *safe = url_for_log(url);
        strbuf_printf(&sb, "[database] url: \"%s\" is neither sqlite:///PATH nor postgresql://...",
                      safe);
        free(safe);
        *error_r = strbuf_steal(&sb);
        rc = -1;
    }
    if (rc < 0) {
        free(store);
        return NULL;
    }
    /* a replica answers the questions; writes go to the primary */
    if (conf_str(conf, "database", "write_url")[0] != '\0') {
        const char *wurl = conf_str(conf, "database", "write_url");
        if (strncmp(url, "sqlite://", 9) == 0 ||
            (strncmp(wurl, "postgresql://", 13) != 0 && strncmp(wurl, "postgres://", 11) != 0)) {
            struct strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "%s: [database] write_url: only for PostgreSQL (url a replica,"
                               " write_url its primary: postgresql://...)",
                          conf_origin(conf, "database", "write_url"));
            *error_r = strbuf_steal(&sb);
            store_close(&store);
            return NULL;
        }
        store->writer = xcalloc(1, sizeof(*store->writer));
        store->writer->base = base;
        store->writer->conf = conf;
        store->writer->tool = true; /* its generation is not read: url's is */
        store->writer->deadline_ms = store->deadline_ms;
        if (store_pgsql_open(store->writer, wurl, error_r) < 0) {
            free(store->writer);
            store->writer = NULL;
            store_close(&store);
            return NULL;
        }
    }
    return store;
}

void store_shutdown(struct store *store)
{
    if (store == NULL || store->closing)
        return;
    /* pending questions are answered with an error now; their callers may ask again */
    store->closing = true;
    store_shutdown(store->writer);
    if (store->generation_ev != NULL) {
        event_free(store->generation_ev);
        store->generation_ev = NULL;
    }
    store->be->close(store);
    store->impl = NULL;
}

void store_close(struct store **storep)
{
    struct store *store = *storep;

    if (store == NULL)
        return;
    store_shutdown(store);
    store_close(&store->writer);
    free(store);
    *storep = NULL;
}

void store_ask(struct store *store, enum store_question q, const char *const *args,
               store_cb *cb, void *arg)
{
    const char *params[STORE_MAX_ARGS] = {NULL, NULL, NULL};
    char local[512], domain[512];
    size_t i;

    store->stats.questions++;
    if (store->closing) {
        store_deliver(store, q, -1, "store closed", NULL, 0, 0, 0, cb, arg);
        return;
    }
    if (questions[q].expand_address) {
        const char *at = strrchr(args[0], '@');
        size_t llen;
        if (at == NULL || (llen = (size_t)(at - args[0])) >= sizeof(local) ||
            strlen(at + 1) >= sizeof(domain)) {
            /* Postfix suppresses %u/%d queries for such keys: nothing found */
            struct store_answer ans = {0};
            cb(&ans, arg);
            return;
        }
        memcpy(local, args[0], llen);
        local[llen] = '\0';
        strcpy(domain, at + 1);
        params[0] = args[0];
        params[1] = local;
        params[2] = domain;
    } else {
        for (i = 0; i < questions[q].nargs; i++)
            params[i] = args[i];
    }
    if (questions[q].writes && store->writer != NULL)
        store = store->writer;
    store->be->ask(store, q, params, store_question_nparams(q), cb, arg);
}

struct wait_ctx {
    bool done;
    store_cb *cb;
    void *arg;
};

static void wait_cb(const struct store_answer *ans, void *arg)
{
    struct wait_ctx *w = arg;

    w->done = true;
    w->cb(ans, w->arg);
}

void store_ask_wait(struct store *store, enum store_question q, const char *const *args,
                    store_cb *cb, void *arg)
{
    struct wait_ctx w = {false, cb, arg};

    store_ask(store, q, args, wait_cb, &w);
    while (!w.done)
        if (event_base_loop(store->base, EVLOOP_ONCE) < 0)
            log_panic("store_ask_wait: event loop failed");
}

void store_deliver(struct store *store, enum store_question q, int status, const char *error,
                   const char *const *cells, size_t nrows, size_t sql_ncols, long long affected,
                   store_cb *cb, void *arg)
{
    struct store_answer ans;
    const char **packed = NULL;
    size_t r, c;

    memset(&ans, 0, sizeof(ans));
    ans.status = status;
    ans.error = error;
    ans.affected = affected;
    if (status < 0) {
        store->stats.errors++;
        cb(&ans, arg);
        return;
    }
    ans.nrows = nrows;
    ans.ncols = sql_ncols;
    ans.cells = cells;
    if (questions[q].expiry_last_col && sql_ncols > 0) {
        ans.ncols = sql_ncols - 1;
        packed = xcalloc(nrows * ans.ncols + 1, sizeof(*packed));
        for (r = 0; r < nrows; r++) {
            const char *exp = cells[r * sql_ncols + sql_ncols - 1];
            for (c = 0; c < ans.ncols; c++)
                packed[r * ans.ncols + c] = cells[r * sql_ncols + c];
            if (exp != NULL) {
                time_t t = (time_t)strtoll(exp, NULL, 10);
                if (ans.valid_until == 0 || t < ans.valid_until)
                    ans.valid_until = t;
            }
        }
        ans.cells = packed;
    }
    if (status == 1 && nrows == 0 && affected <= 0)
        ans.status = 0;
    cb(&ans, arg);
    free(packed);
}

static void store_generation_seen_raw(struct store *store, int64_t generation);

#define STORE_GENERATION_RETRY_SEC 30
#define STORE_GENERATION_WARN_SEC 300

static void generation_retry(evutil_socket_t fd, short what, void *arg)
{
    struct store *store = arg;

    (void)fd;
    (void)what;
    if (store->generation_unknown && !store->closing && store->be->read_generation != NULL)
        store->be->read_generation(store);
}

void store_generation_failed(struct store *store, const char *why)
{
    time_t now = time(NULL);
    struct timeval tv = {STORE_GENERATION_RETRY_SEC, 0};

    if (store->closing)
        return;
    if (!store->generation_unknown) {
        store->generation_unknown = true;
        /* nothing cached while it could be read answers any more */
        store_generation_seen_raw(store, INT64_MIN + 1);
    }
    if (!store->tool && (store->generation_warned == 0 ||
                         now - store->generation_warned >= STORE_GENERATION_WARN_SEC)) {
        log_error("cannot read modo_generation (%s): changes in the database are not seen at once,"
                  " so answers are cached for at most [cache] fallback_ttl; run `modoctl db"
                  " add-modo-objects`, or give the daemons' role SELECT on modo_generation"
                  " (GRANT SELECT ON modo_generation TO ROLE)", why);
        store->generation_warned = now;
    }
    if (store->generation_ev == NULL)
        store->generation_ev = evtimer_new(store->base, generation_retry, store);
    if (store->generation_ev != NULL && !evtimer_pending(store->generation_ev, NULL))
        evtimer_add(store->generation_ev, &tv);
}

static time_t monotonic_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

void store_set_down(struct store *store, bool down)
{
    if (store->down != down)
        store->down_changed = monotonic_sec();
    store->down = down;
}

bool store_is_up(const struct store *store)
{
    return store != NULL && !store->closing && !store->down;
}

bool store_steady(const struct store *store, int seconds)
{
    return store_is_up(store) &&
           (store->down_changed == 0 || monotonic_sec() - store->down_changed >= seconds);
}

bool store_generation_known(const struct store *store)
{
    return !store->generation_unknown;
}

void store_generation_seen(struct store *store, int64_t generation)
{
    if (store->generation_unknown && generation != INT64_MIN) {
        store->generation_unknown = false;
        store->generation_warned = 0;
        if (!store->tool)
            log_info("modo_generation can be read again: changes are seen at once");
    }
    store_generation_seen_raw(store, generation);
}

static void store_generation_seen_raw(struct store *store, int64_t generation)
{
    if (generation == store->generation)
        return;
    store->generation = generation;
    if (store->change_cb != NULL)
        store->change_cb(generation, store->change_arg);
}

int64_t store_generation(const struct store *store)
{
    return store->generation;
}

void store_set_change_callback(struct store *store, store_change_cb *cb, void *arg)
{
    store->change_cb = cb;
    store->change_arg = arg;
}

const char *store_backend_name(const struct store *store)
{
    return store->be->name;
}

int store_exec_script(struct store *store, const char *sql, char **error_r)
{
    return store->be->exec_script(store, sql, error_r);
}

const char *store_schema_sql(const struct store *store)
{
    return strcmp(store->be->name, "pgsql") == 0 ? modo_sql_pgsql_schema : modo_sql_sqlite_schema;
}

const char *store_objects_sql(const struct store *store)
{
    return store_objects_sql_of(strcmp(store->be->name, "pgsql") == 0);
}

const char *store_objects_sql_of(bool pgsql)
{
    return pgsql ? modo_sql_pgsql_objects : modo_sql_sqlite_objects;
}

const char *store_question_sql(bool pgsql, enum store_question q)
{
    return pgsql ? store_pgsql_sql(q) : store_sqlite_sql(q);
}

void store_get_stats(const struct store *store, struct store_stats *st)
{
    *st = store->stats;
}
