/*
 * store - the questions modo's programs ask the database.
 *
 * Callers name a question and give its arguments; each backend (PostgreSQL,
 * SQLite) answers every question with its own SQL, prepared once. Callers
 * never see SQL. Answers arrive through a callback: asynchronously on the
 * event loop for PostgreSQL (libpq non-blocking), at once for SQLite. Both
 * run the same conformance tests (t/integration/store-conformance).
 *
 * An answer is a small table of text cells (NULL for SQL NULL) plus, for
 * writes, the number of rows affected. Answers that depend on time carry
 * valid_until: the caller must not reuse them after that second.
 *
 * Every question has an internal deadline ([database] deadline); a missed
 * deadline, a lost connection or any SQL error is an answer with status -1,
 * which callers turn into a temporary failure, never into "not found".
 *
 * The store also watches the database generation (modo_generation): a
 * counter bumped by triggers whenever a table that answers depend on
 * changes. store_generation() is the current value; the change callback
 * fires when it moves (PostgreSQL LISTEN/NOTIFY, or polling on SQLite and
 * on replicas).
 */
#ifndef MODO_STORE_H
#define MODO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct conf;

enum store_question {
    /* args: domain. One row (name) if the domain is hosted (type domain) and enabled. */
    STORE_Q_DOMAIN,
    /* args: domain. One row (target name) if it is an enabled alias of an enabled domain. */
    STORE_Q_DOMAIN_ALIAS,
    /* args: domain. One row (name) if it is an enabled relay domain. */
    STORE_Q_RELAY_DOMAIN,
    /* args: address or @domain. The recipients of every enabled, unexpired alias. */
    STORE_Q_ALIAS_RECIPIENTS,
    /*
     * args: up to three key forms (address, address without extension, @domain; repeat one
     * when there are fewer). Rows: matched alias address, recipient, for every form at
     * once, so a lookup costs one round trip whatever form matches.
     */
    STORE_Q_ALIAS_FORMS,
    /* args: full address. The logins allowed to send as it (Modoboa's five sources). */
    STORE_Q_SENDER_OWNERS,
    /* args: pattern. One row "service:next_hop". */
    STORE_Q_TRANSPORT,
    /* args: address. One row if it is an active mailbox of an enabled relay domain. */
    STORE_Q_SPLIT_MAILBOX,
    /* args: address. One row if the mailbox has a pending operation (rename). */
    STORE_Q_MAINTENANCE,
    /* args: domain. One row (access action) for relay domains that verify recipients. */
    STORE_Q_RELAY_VERIFY,
    /* args: login. email, password, quota MB, is_send_only for active accounts of enabled domains. */
    STORE_Q_PASSDB,
    /* args: login. email, password for active master users. */
    STORE_Q_MASTER_PASSDB,
    /* args: address. quota MB, is_send_only of the mailbox (no active/enabled check, as Modoboa). */
    STORE_Q_USERDB,
    /* args: account. mailbox message_limit, domain name, domain message_limit. */
    STORE_Q_MESSAGE_LIMITS,
    /* args: username. bytes, messages. */
    STORE_Q_QUOTA_GET,
    /* args: username, bytes delta, messages delta. Writes; affected = 0 if no row. */
    STORE_Q_QUOTA_ADD,
    /*
     * args: username, bytes, messages; "" leaves that value as it is (0 in a new row).
     * Upsert, written as an update first so that Modoboa's merge_quota insert trigger (which
     * turns an insert on an existing row into an addition) is never reached for a row that
     * exists. Writes.
     */
    STORE_Q_QUOTA_SET,
    /* args: username, unix time (seconds). Sets core_user.last_login to it. Writes. */
    STORE_Q_TOUCH_LAST_LOGIN,
    /* no args. The email of every account that has a mailbox (doveadm -A), sorted. */
    STORE_Q_USER_LIST,
    /* no args. The current generation. */
    STORE_Q_GENERATION,
    /*
     * args: account address, or "@domain". Opens the admin_alarm "sending_limit" for it
     * (title "Daily sending limit reached for ..."), unless one is open. Writes.
     */
    STORE_Q_LIMIT_ALARM_OPEN,
    /* no args. Closes every open "sending_limit" alarm (the daily reset). Writes. */
    STORE_Q_LIMIT_ALARMS_CLOSE,
    STORE_Q__COUNT
};

#define STORE_MAX_ARGS 3

struct store_answer {
    int status;        /* -1 error, 0 nothing found / no row affected, 1 found */
    const char *error; /* status -1: why (for logs) */
    size_t nrows, ncols;
    const char *const *cells; /* row-major, nrows * ncols; NULL cells are SQL NULL */
    long long affected;       /* writes */
    time_t valid_until;       /* 0: not time-dependent */
};

/* The answer is valid only during the callback. */
typedef void store_cb(const struct store_answer *ans, void *arg);
typedef void store_change_cb(int64_t generation, void *arg);

struct store;

/* Name of a question ("alias_recipients"), used in cache keys and logs. */
const char *store_question_name(enum store_question q);
size_t store_question_nargs(enum store_question q);
/* Number of SQL parameters of a question after expansion. */
size_t store_question_nparams(enum store_question q);

/*
 * Open the database named by [database] url. PostgreSQL connects in the
 * background and reconnects with backoff; a database that cannot be reached
 * yet is not an error here (questions answer -1 until it is). Returns NULL
 * with *error_r (malloc'd) on a configuration error.
 */
struct store *store_open(struct event_base *base, const struct conf *conf, char **error_r);
/*
 * The same with flags: STORE_CREATE creates a missing SQLite file (store_open() does, for
 * modoctl and tests); daemons open without it, so a wrong path is an error, never an empty
 * database.
 */
#define STORE_CREATE 1
/* STORE_READ_ONLY: a daemon that never writes (modo-lookupd): SQLite is opened read-only. */
#define STORE_READ_ONLY 2
struct store *store_open_flags(struct event_base *base, const struct conf *conf, int flags,
                               char **error_r);

/*
 * Before a daemon starts: can the database answer every question (the file exists, the
 * tables and modo's objects are there)? Blocking, creates nothing. Returns 0 if so, -1 if
 * not (*error_r says why and what to run), 1 if PostgreSQL cannot be reached now (*error_r
 * says why; the daemon starts and answers temporary failures until it can), 2 if it can
 * answer but modo_generation cannot be read (*error_r names the fix; the daemon starts and
 * caches for at most [cache] fallback_ttl).
 */
int store_check(const struct conf *conf, int flags, char **error_r);
/* For a daemon's start (as its own user): store_check(); -1 (logged, naming conf_path) when
 * the database cannot answer, a warning when PostgreSQL is only unreachable now. With SQLite,
 * flags say whether the daemon writes: a file or directory it cannot write is then an error
 * naming their owners and the chown that fixes it. */
int store_require(const struct conf *conf, int flags, const char *conf_path);
/*
 * Stop: every pending question is answered with an error (status -1), and any question
 * asked from then on fails at once. The store stays allocated, so callbacks that run
 * meanwhile (through the cache, Redis replies) may still call it; store_close() frees it.
 * A daemon stops in this order: store_shutdown, the Redis connections and the cache,
 * then store_close.
 */
void store_shutdown(struct store *store);
/* store_shutdown() if not done, then free. */
void store_close(struct store **store);

/* Ask a question; cb is called exactly once (possibly before store_ask returns). */
void store_ask(struct store *store, enum store_question q, const char *const *args,
               store_cb *cb, void *arg);

/* Run store_ask and wait for the answer (tools and tests); cb is called as usual. */
void store_ask_wait(struct store *store, enum store_question q, const char *const *args,
                    store_cb *cb, void *arg);

int64_t store_generation(const struct store *store);
/*
 * false while modo_generation cannot be read (never run `modoctl db add-modo-objects`, or a
 * role without SELECT on it): changes cannot be seen, so answers may be cached only for
 * [cache] fallback_ttl.
 */
bool store_generation_known(const struct store *store);
/* false while the database is known to be unreachable (or the SQLite file is gone). */
bool store_is_up(const struct store *store);
/* Up, and neither lost nor back within the last `seconds` (failures then are the outage's). */
bool store_steady(const struct store *store, int seconds);
void store_set_change_callback(struct store *store, store_change_cb *cb, void *arg);

/* "pgsql" or "sqlite" */
const char *store_backend_name(const struct store *store);

/*
 * Run an SQL script (schema creation by modoctl and tests). Blocking; not for
 * daemons. Returns 0, or -1 with *error_r (malloc'd).
 */
int store_exec_script(struct store *store, const char *sql, char **error_r);

/* The schema and modo's additive objects, for this store's backend. */
const char *store_schema_sql(const struct store *store);
const char *store_objects_sql(const struct store *store);
/* The same by backend, and the SQL of one question (modoctl db doctor runs them). */
const char *store_objects_sql_of(bool pgsql);
const char *store_question_sql(bool pgsql, enum store_question q);
/* Does the question write (quota, last login, alarms)? */
bool store_question_writes(enum store_question q);

/* Counters for observability. */
struct store_stats {
    unsigned long long questions, errors, deadlines, reconnects;
};
void store_get_stats(const struct store *store, struct store_stats *st);

#endif
