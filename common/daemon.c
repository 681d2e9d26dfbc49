/*
 * daemon - options, set-up, reload and stop shared by every modo daemon; see daemon.h.
 */
#include "config.h"

#include "daemon.h"
#include "cache.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "redis.h"
#include "server.h"
#include "store.h"
#include "strbuf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* What a reload replaced, kept until what was asked of it has been answered. */
struct retired {
    TAILQ_ENTRY(retired) entry;
    struct conf *conf;
    struct store *store;
    struct cache *cache;
    struct event *ev;
};
TAILQ_HEAD(retired_list, retired);

static struct {
    const struct daemon_ops *ops;
    const char *conf_path;
    bool foreground;
    struct conf *conf;
    struct server *srv;
    struct event_base *base; /* the worker's */
    struct store *store;
    struct cache *cache;
    struct conf *store_conf; /* the configuration the store and cache were opened with */
    struct retired_list retired;
    struct metrics_deps done;  /* counts of the stores and caches a reload replaced */
    struct event *deps_ev;     /* copies the counts into the shared slot every second */
    struct evhttp *http;       /* [section] stats_listen, in worker 0 */
    struct {
        char first[512];
        unsigned long count;
        struct event *ev;
    } tempfails; /* daemon_tempfail_note */
} d = {.retired = TAILQ_HEAD_INITIALIZER(d.retired)};

/* Settings of the daemon's section that are read once, before the workers start. */
static const char *const restart_settings[] = {"listen", "socket_mode", "socket_owner", "user",
                                               "workers", "max_connections", "stats_listen"};

struct store *daemon_store(void)
{
    return d.store;
}

struct cache *daemon_cache(void)
{
    return d.cache;
}

const struct conf *daemon_conf(void)
{
    return d.conf;
}

struct event_base *daemon_base(void)
{
    return d.base;
}

const char *daemon_conf_path(void)
{
    return d.conf_path;
}

void daemon_print_version(const char *program)
{
    printf("%s (%s) %s\n", program, PACKAGE_NAME, PACKAGE_VERSION);
}

static void usage(FILE *fp, const struct daemon_ops *ops)
{
    fprintf(fp,
            "usage: %s [-c FILE] [-f] [-t]\n"
            "%s\n\n"
            "  -c FILE     configuration file (default " MODO_SYSCONFDIR "/modo/modo.conf)\n"
            "  -f          log to stderr, whatever [%s] log says\n"
            "  -t          check the configuration, the database and Redis, then exit\n"
            "              (0: ready to serve, 1: the reason is printed)\n"
            "  -h, --help  this help\n"
            "  -V, --version\n\n"
            "Signals: SIGHUP reloads modo.conf, SIGTERM stops. See %s(8) and modo.conf(5).\n",
            ops->program, ops->summary, ops->section, ops->program);
}

static void apply_log(const struct conf *conf)
{
    if (!d.foreground)
        log_open(d.ops->program, strcmp(conf_str(conf, d.ops->section, "log"), "syslog") == 0
                                     ? LOG_TARGET_SYSLOG
                                     : LOG_TARGET_STDERR);
    log_set_debug(conf_bool(conf, d.ops->section, "debug"));
}

/* Everything -t checks that needs no socket: 0, or -1 with *error_r. */
static int check_conf(const struct conf *conf, bool connect, char **error_r)
{
    const char *user = conf_str(conf, d.ops->section, "user");
    struct strbuf sb = STRBUF_INIT;

    if (redis_check(conf, connect, error_r) < 0)
        return -1;
    if (user[0] != '\0' && getpwnam(user) == NULL) {
        strbuf_printf(&sb, "%s: [%s] user: no such user \"%s\"; create it (adduser --system"
                           " --group --no-create-home --home /nonexistent %s) or name another",
                      conf_origin(conf, d.ops->section, "user"), d.ops->section, user, user);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    /* last: the daemon applies its settings when they check out */
    return d.ops->configure(conf, error_r);
}

static int store_flags(void)
{
    return d.ops->read_only ? STORE_READ_ONLY : 0;
}

static int check_only(void)
{
    char *err = NULL;
    int rc;

    if (check_conf(d.conf, true, &err) < 0) {
        fprintf(stderr, "%s: %s\n", d.ops->program, err);
        free(err);
        return 1;
    }
    /* as the daemon will run: the database must be readable (writable) by [section] user */
    if (geteuid() == 0 && conf_str(d.conf, d.ops->section, "user")[0] != '\0')
        server_become_user(d.conf, d.ops->section);
    rc = store_check(d.conf, store_flags(), &err);
    if (rc == 2) { /* it can serve, with short cache lifetimes */
        fprintf(stderr, "%s: warning: %s\n", d.ops->program, err);
        free(err);
        rc = 0;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s\n", d.ops->program, d.conf_path, err);
        free(err);
        return 1;
    }
    printf("%s: %s: configuration, database (%s)%s ready\n", d.ops->program, d.conf_path,
           strncmp(conf_str(d.conf, "database", "url"), "sqlite:", 7) == 0 ? "SQLite"
                                                                           : "PostgreSQL",
           conf_str(d.conf, "redis", "address")[0] ? " and Redis" : "");
    return 0;
}

/* ---- counters ---- */

/* The counts of a store and cache, added to *acc. */
static void add_deps(struct metrics_deps *acc, const struct store *store, const struct cache *cache)
{
    struct cache_stats cs;
    struct store_stats ss;

    if (cache != NULL) {
        cache_get_stats(cache, &cs);
        acc->l1_hits += cs.l1_hits;
        acc->l2_hits += cs.l2_hits;
        acc->misses += cs.misses;
        acc->stale_served += cs.stale_served;
    }
    if (store != NULL) {
        store_get_stats(store, &ss);
        acc->store_questions += ss.questions;
        acc->store_errors += ss.errors;
        acc->store_deadlines += ss.deadlines;
        acc->store_reconnects += ss.reconnects;
    }
}

static void refresh_deps(void)
{
    struct metrics_deps now = d.done;
    struct cache_stats cs;

    add_deps(&now, d.store, d.cache);
    now.database_up = store_is_up(d.store);
    if (d.cache != NULL) {
        cache_get_stats(d.cache, &cs);
        now.redis_up = cs.redis_up;
    }
    now.redis_used = conf_str(d.conf, "redis", "address")[0] != '\0';
    metrics_set_deps(&now);
}

static void deps_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    refresh_deps();
}

static void stats_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    size_t len;
    char *text;

    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    (void)arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_send_error(req, 405, "only GET");
        return;
    }
    if (path != NULL && strcmp(path, "/") != 0 && strcmp(path, "/metrics") != 0) {
        if (d.ops->http == NULL || d.ops->http(req, path) == 0)
            evhttp_send_error(req, 404, "no such path (the counters are at /metrics)");
        return;
    }
    refresh_deps();
    text = metrics_render(&len);
    evbuffer_add(out, text, len);
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", NULL);
}

/* ---- temporary failures of single requests ---- */

#define TEMPFAIL_WINDOW 10

static void tempfail_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (store_steady(d.store, TEMPFAIL_WINDOW + 1)) {
        if (d.tempfails.count > 1)
            log_warning("%s (and %lu more temporary failures in %d s)", d.tempfails.first,
                        d.tempfails.count - 1, TEMPFAIL_WINDOW);
        else
            log_warning("%s", d.tempfails.first);
    }
    d.tempfails.count = 0;
}

void daemon_tempfail_note(const char *fmt, ...)
{
    struct timeval tv = {TEMPFAIL_WINDOW, 0};
    va_list ap;

    if (d.tempfails.count++ > 0)
        return;
    va_start(ap, fmt);
    vsnprintf(d.tempfails.first, sizeof(d.tempfails.first), fmt, ap);
    va_end(ap);
    if (d.base == NULL) {
        d.tempfails.count = 0;
        return;
    }
    if (d.tempfails.ev == NULL)
        d.tempfails.ev = evtimer_new(d.base, tempfail_flush, NULL);
    evtimer_add(d.tempfails.ev, &tv);
}

/* ---- reload ---- */

static void retired_free(struct retired *r)
{
    TAILQ_REMOVE(&d.retired, r, entry);
    if (r->ev != NULL)
        event_free(r->ev);
    store_shutdown(r->store);
    cache_free(&r->cache);
    store_close(&r->store);
    conf_free(&r->conf);
    free(r);
}

static void retired_expired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    retired_free(arg);
}

/*
 * Keep what was replaced until every request that may still use it is done: questions
 * asked of the old store end within its [database] deadline, requests within the
 * request chain of a few questions; a minute covers both with room.
 */
static void retire(struct conf *conf, struct store *store, struct cache *cache)
{
    struct retired *r = xcalloc(1, sizeof(*r));
    struct timeval tv = {60, 0};

    r->conf = conf;
    r->store = store;
    r->cache = cache;
    TAILQ_INSERT_TAIL(&d.retired, r, entry);
    if (d.base != NULL) {
        r->ev = evtimer_new(d.base, retired_expired, r);
        evtimer_add(r->ev, &tv);
    } else {
        retired_free(r); /* the parent: nothing in flight */
    }
}

static bool data_settings_differ(const struct conf *a, const struct conf *b)
{
    return conf_differs(a, b, "database", NULL) || conf_differs(a, b, "cache", NULL) ||
           conf_differs(a, b, "redis", NULL);
}

static void notify_reloading(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

/* The settings that changed but need a restart, in one line. */
static void log_restart_settings(const struct conf *old, const struct conf *fresh)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    for (i = 0; i < sizeof(restart_settings) / sizeof(restart_settings[0]); i++)
        if (conf_differs(old, fresh, d.ops->section, restart_settings[i]))
            strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", restart_settings[i]);
    if (sb.len)
        log_warning("reload: [%s] %s changed: this takes effect at the next restart",
                    d.ops->section, sb.data);
    strbuf_free(&sb);
}

static bool reload(struct server *srv, bool announce)
{
    struct conf *fresh, *old = d.conf;
    struct store *store = NULL;
    const char *why;
    char *err = NULL;
    bool renew = false;

    if (announce)
        notify_reloading();
    fresh = conf_load(d.conf_path, &err);
    if (fresh != NULL && (why = server_check_tags(srv, fresh)) != NULL) {
        err = xstrdup(why);
        conf_free(&fresh);
    }
    if (fresh != NULL && d.base != NULL && data_settings_differ(d.store_conf, fresh)) {
        renew = true;
        store = store_open_flags(d.base, fresh, store_flags(), &err);
        if (store == NULL)
            conf_free(&fresh);
    }
    /* the daemon's own settings last: they are applied when they check out */
    if (fresh != NULL && check_conf(fresh, false, &err) < 0) {
        store_close(&store);
        conf_free(&fresh);
    }
    if (fresh == NULL) {
        if (announce) {
            log_error("reload: %s: keeping the running configuration", err);
            sd_notify(0, "READY=1");
        }
        free(err);
        return false;
    }
    if (announce)
        log_restart_settings(old, fresh);
    server_apply_conf(srv, fresh);
    apply_log(fresh);
    d.conf = fresh;
    if (renew) {
        /* the old store and cache finish what they were asked, with the settings they read */
        add_deps(&d.done, d.store, d.cache);
        retire(d.store_conf, d.store, d.cache);
        if (old != d.store_conf)
            retire(old, NULL, NULL);
        d.store_conf = fresh;
        d.store = store;
        d.cache = cache_new(d.base, fresh, store);
    } else if (old != d.store_conf) {
        retire(old, NULL, NULL);
    }
    if (d.base != NULL && d.ops->reloaded != NULL)
        d.ops->reloaded(old, fresh);
    if (announce) {
        log_info("reloaded %s%s", d.conf_path,
                 renew ? " (new database and cache connections)" : "");
        sd_notify(0, "READY=1");
    }
    return true;
}

/* ---- start and stop ---- */

static void first_answer(const struct store_answer *ans, void *arg)
{
    (void)ans;
    (void)arg;
}

static void *worker_init(struct server *srv, struct event_base *base)
{
    char *err = NULL;

    (void)srv;
    d.base = base;
    d.store_conf = d.conf;
    d.store = store_open_flags(base, d.conf, store_flags(), &err);
    if (d.store == NULL) {
        log_error("%s", err);
        free(err);
        return NULL;
    }
    /*
     * Serve once the database has answered a first question (at most [database] deadline):
     * a worker started under load, or restarted on a held socket, must not fail its first
     * requests while its PostgreSQL connections are being made.
     */
    store_ask_wait(d.store, STORE_Q_GENERATION, NULL, first_answer, NULL);
    d.cache = cache_new(base, d.conf, d.store);
    if (d.ops->start != NULL && d.ops->start(base) < 0)
        return NULL;
    if (d.ops->metrics != NULL) {
        struct timeval tv = {1, 0};
        metrics_use_slot(server_worker_index(srv));
        d.deps_ev = event_new(base, -1, EV_PERSIST, deps_tick, NULL);
        event_add(d.deps_ev, &tv);
        if (server_worker_index(srv) == 0 && server_stats_fd(srv) >= 0) {
            d.http = evhttp_new(base);
            if (d.http == NULL || evhttp_accept_socket(d.http, server_stats_fd(srv)) < 0) {
                log_error("[%s] stats_listen: cannot serve the counters", d.ops->section);
            } else {
                evhttp_set_allowed_methods(d.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
                evhttp_set_gencb(d.http, stats_request, NULL);
                evhttp_set_timeout(d.http, 10);
            }
        }
    }
    return &d;
}

int daemon_main(int argc, char **argv, const struct daemon_ops *ops)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    bool check = false;
    struct retired *r;
    char *err = NULL;
    int opt, rc;

    d.ops = ops;
    d.conf_path = MODO_SYSCONFDIR "/modo/modo.conf";
    log_open(ops->program, LOG_TARGET_STDERR);
    while ((opt = getopt_long(argc, argv, "c:fthV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': d.conf_path = optarg; break;
        case 'f': d.foreground = true; break;
        case 't': check = true; break;
        case 'h': usage(stdout, ops); return 0;
        case 'V': daemon_print_version(ops->program); return 0;
        default: usage(stderr, ops); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", ops->program, argv[optind]);
        usage(stderr, ops);
        return 2;
    }
    d.conf = conf_load(d.conf_path, &err);
    if (d.conf == NULL) {
        if (check) {
            fprintf(stderr, "%s: %s\n", ops->program, err);
            free(err);
            return 1;
        }
        log_fatal("%s", err);
    }
    if (check) {
        rc = check_only();
        conf_free(&d.conf);
        return rc;
    }
    apply_log(d.conf);
    if (check_conf(d.conf, false, &err) < 0)
        log_fatal("%s", err);
    d.srv = server_new_tagged(d.conf, ops->section, ops->proto, ops->validate_tag);
    /* listeners bound: from here on as [section] user, who must be able to use the database */
    server_become_user(d.conf, ops->section);
    /* refuse to start on a database that cannot answer (no file, no schema, no access) */
    if (store_require(d.conf, store_flags(), d.conf_path) < 0) {
        server_free(&d.srv); /* its unix sockets go */
        conf_free(&d.conf);
        return 1;
    }
    server_set_reload(d.srv, reload);
    if (ops->metrics != NULL)
        metrics_init(ops->metrics, server_workers(d.srv));
    rc = server_run(d.srv, worker_init);
    if (ops->drain != NULL && d.store != NULL)
        ops->drain();
    /* what is in flight is answered first, while everything its callbacks use is alive */
    store_shutdown(d.store);
    TAILQ_FOREACH(r, &d.retired, entry)
        store_shutdown(r->store);
    if (ops->stop != NULL)
        ops->stop();
    if (d.http != NULL)
        evhttp_free(d.http);
    if (d.deps_ev != NULL)
        event_free(d.deps_ev);
    if (d.tempfails.ev != NULL)
        event_free(d.tempfails.ev);
    cache_free(&d.cache);
    store_close(&d.store);
    while ((r = TAILQ_FIRST(&d.retired)) != NULL)
        retired_free(r);
    server_free(&d.srv);
    if (d.store_conf != d.conf)
        conf_free(&d.store_conf);
    conf_free(&d.conf);
    return rc;
}
