/*
 * store_impl - what store.c shares with its backends (store_pgsql.c,
 * store_sqlite.c). Not for callers of the store.
 */
#ifndef MODO_STORE_IMPL_H
#define MODO_STORE_IMPL_H

#include "store.h"

#include <stdbool.h>
#include <time.h>

struct store;

struct store_backend {
    const char *name;
    /* params: the SQL parameters ($1.. / ?1..), already expanded from the caller's args */
    void (*ask)(struct store *store, enum store_question q, const char *const *params,
                size_t nparams, store_cb *cb, void *arg);
    int (*exec_script)(struct store *store, const char *sql, char **error_r);
    void (*close)(struct store *store);
    /* Read modo_generation again (after store_generation_failed). */
    void (*read_generation)(struct store *store);
};

struct store {
    const struct store_backend *be;
    void *impl;
    struct event_base *base;
    const struct conf *conf;
    long long deadline_ms;
    int64_t generation;
    bool generation_unknown; /* modo_generation cannot be read: see store_generation_failed */
    bool down; /* unreachable: backends call store_set_down with their "unavailable" / "back" lines */
    time_t down_changed; /* CLOCK_MONOTONIC seconds of the last change of `down` */
    bool tool; /* opened by a tool (STORE_CREATE), not a daemon: no generation errors logged */
    time_t generation_warned;
    struct event *generation_ev; /* reads it again every STORE_GENERATION_RETRY_SEC */
    store_change_cb *change_cb;
    void *change_arg;
    struct store_stats stats;
    struct store *writer; /* [database] write_url: where writes go (a replica's primary) */
    bool closing; /* store_close() is failing what is pending: new questions fail at once */
};


/*
 * Hand a result to the caller: strips the expiry column of time-dependent
 * questions into valid_until, counts errors. cells has nrows * sql_ncols entries.
 */
void store_deliver(struct store *store, enum store_question q, int status, const char *error,
                   const char *const *cells, size_t nrows, size_t sql_ncols, long long affected,
                   store_cb *cb, void *arg);

/* The database became unreachable (true) or reachable again (false). */
void store_set_down(struct store *store, bool down);

/* A backend saw this generation value; fires the change callback if it moved. */
void store_generation_seen(struct store *store, int64_t generation);
/*
 * modo_generation could not be read (no table, no row, no permission): changes would go
 * unseen, so the generation switches to one nothing cached matches, callers cache for at
 * most the fallback TTL (store_generation_known), an error naming the fix is logged now and
 * every few minutes, and the backend reads it again every STORE_GENERATION_RETRY_SEC.
 */
void store_generation_failed(struct store *store, const char *why);

int store_pgsql_open(struct store *store, const char *url, char **error_r);
int store_sqlite_open(struct store *store, const char *path, int flags, char **error_r);
/* store_check() of each backend */
int store_pgsql_check(const char *url, long long timeout_ms, char **error_r);
int store_sqlite_check(const char *path, int flags, char **error_r);
/* The SQL text of each backend's question */
const char *store_pgsql_sql(enum store_question q);
const char *store_sqlite_sql(enum store_question q);

/* Embedded SQL scripts (generated from sql/ at build time: schema_sql.c). */
extern const char modo_sql_pgsql_schema[];
extern const char modo_sql_pgsql_objects[];
extern const char modo_sql_sqlite_schema[];
extern const char modo_sql_sqlite_objects[];

#endif
