/*
 * daemon - the skeleton every modo daemon stands on (Postfix's multi_server_main is
 * the model): a daemon is its protocol and its rules, the rest is here.
 *
 *   options   -c FILE, -f (log to stderr), -t (check the configuration, the database and
 *             Redis, then exit 0 or 1 with the reason), -h/--help, -V/--version
 *   set-up    modo.conf, logging, the database check, listeners (server.h), privilege
 *             drop, workers; in each worker the store and the cache
 *   reload    SIGHUP rereads modo.conf in every process: the daemon's own settings, the
 *             server's bounds, the log level and target, and a new store and cache when
 *             [database], [cache] or [redis] changed (the old ones finish what they were
 *             asked, then go). Settings that need a restart are named in one log line; a
 *             file that does not load keeps the running configuration.
 *   stop      SIGTERM: stop accepting, answer what is in flight, close in order.
 *
 * The daemon gives a struct daemon_ops and calls daemon_main() from main().
 */
#ifndef MODO_DAEMON_H
#define MODO_DAEMON_H

#include <stdbool.h>

struct cache;
struct conf;
struct evhttp_request;
struct event_base;
struct metrics_def;
struct server_protocol;
struct store;

struct daemon_ops {
    const char *program; /* "modo-lookupd": logs, --help, --version */
    const char *section; /* its modo.conf section */
    const char *summary; /* one line for --help */
    const struct server_protocol *proto;
    const struct metrics_def *metrics; /* what its counters are called (metrics.h) */
    /* It never writes to the database (STORE_READ_ONLY: SQLite is opened read-only). */
    bool read_only;
    /* Listeners may carry tags (TAG=ENDPOINT): NULL if conf accepts the tag, else why not. */
    const char *(*validate_tag)(const struct conf *conf, const char *tag);
    /*
     * Read the daemon's own settings from conf: at start (an error is fatal) and at each
     * reload (an error keeps the running configuration). Check everything first, then
     * apply; on error apply nothing and return -1 with *error_r (malloc'd, naming the
     * setting). conf stays alive until the next successful reload.
     */
    int (*configure)(const struct conf *conf, char **error_r);
    /* In each worker, once the event loop, the store and the cache exist (optional). */
    int (*start)(struct event_base *base);
    /* In each worker after a reload was applied (optional): old is the configuration
     * before (still alive), e.g. to reconnect what depends on changed settings. */
    void (*reloaded)(const struct conf *old, const struct conf *conf);
    /*
     * At stop, once every connection is answered and before the store closes (optional):
     * write what the daemon held back (e.g. coalesced writes). It may ask the store and
     * wait (store_ask_wait).
     */
    void (*drain)(void);
    /* At stop, after the store answered what was in flight (optional). */
    void (*stop)(void);
    /*
     * The daemon's own paths on its HTTP endpoint ([section] stats_listen, which serves
     * /metrics): 1 if path is the daemon's (it replies, now or later, with
     * evhttp_send_reply), 0 for 404 (optional).
     */
    int (*http)(struct evhttp_request *req, const char *path);
};

/* Run the daemon; returns main()'s exit status. */
int daemon_main(int argc, char **argv, const struct daemon_ops *ops);

/* The worker's current store and cache (they change when a reload changes [database]). */
struct store *daemon_store(void);
struct cache *daemon_cache(void);
const struct conf *daemon_conf(void);
struct event_base *daemon_base(void);
const char *daemon_conf_path(void);

/*
 * A request answered as a temporary failure (database, Redis): noted, not logged at once.
 * Every TEMPFAIL_WINDOW seconds the first one noted is logged with how many more there
 * were, unless the database was lost or came back meanwhile: an outage is told by the
 * store's own two lines, never by one line per request.
 */
void daemon_tempfail_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --help / --version for programs that are not daemons (modoctl): 1 if handled. */
void daemon_print_version(const char *program);

#endif
