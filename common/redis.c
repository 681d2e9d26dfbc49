/*
 * redis - one asynchronous Redis connection with deadlines and reconnection; see redis.h.
 */
#include "redis.h"
#include "conf.h"
#include "log.h"
#include "num.h"
#include "strbuf.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Commands slower than [redis] timeout this many times in a row: drop the connection. */
#define REDIS_MAX_SLOW 3

struct redis {
    struct event_base *base;
    char *what, *consequence;
    char *host, *unix_path, *password;
    int port, db;
    long long timeout_ms;
    struct backoff backoff;
    redisAsyncContext *ac;
    bool up, ever_logged, closing;
    struct timespec down_since; /* when it was lost (for the line that says it is back) */
    int slow;
    struct event *retry_ev;
    unsigned long long errors;
};

/* One command in flight: the callback runs once, on the reply or on the deadline. */
struct pending {
    struct redis *r;
    redis_cb *cb;
    void *arg;
    struct event *timer;
    bool answered;
};

static void connect_now(struct redis *r);

/* unix:PATH or HOST:PORT (the port a number, 1 to 65535); 0, or -1 */
static int parse_address(const char *addr, char **host, int *port, char **unix_path)
{
    const char *colon = strrchr(addr, ':');
    long long p;
    const char *err;

    *host = *unix_path = NULL;
    if (strncmp(addr, "unix:", 5) == 0 && addr[5] != '\0') {
        *unix_path = xstrdup(addr + 5);
        return 0;
    }
    if (colon == NULL || colon == addr || num_parse(colon + 1, 1, 65535, &p, &err) < 0)
        return -1;
    *host = xstrndup(addr, (size_t)(colon - addr));
    *port = (int)p;
    return 0;
}

int redis_check(const struct conf *conf, bool connect, char **error_r)
{
    const char *addr = conf_str(conf, "redis", "address"), *password;
    struct timeval tv;
    struct strbuf sb = STRBUF_INIT;
    redisContext *c;
    redisReply *rep;
    char *host, *path;
    int port = 0, db;

    if (addr[0] == '\0')
        return 0;
    if (parse_address(addr, &host, &port, &path) < 0) {
        strbuf_printf(&sb, "%s: [redis] address: \"%s\" is neither HOST:PORT nor unix:PATH",
                      conf_origin(conf, "redis", "address"), addr);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    if (!connect) {
        free(host);
        free(path);
        return 0;
    }
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    c = path ? redisConnectUnixWithTimeout(path, tv) : redisConnectWithTimeout(host, port, tv);
    free(host);
    free(path);
    if (c == NULL || c->err) {
        strbuf_printf(&sb, "Redis at %s: cannot connect: %s", addr,
                      c ? c->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(c, tv);
    password = conf_str(conf, "redis", "password");
    db = (int)conf_int(conf, "redis", "database");
    rep = password[0] ? redisCommand(c, "AUTH %s", password) : redisCommand(c, "PING");
    if (rep != NULL && rep->type != REDIS_REPLY_ERROR && db != 0) {
        freeReplyObject(rep);
        rep = redisCommand(c, "SELECT %d", db);
    }
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        strbuf_printf(&sb, "Redis at %s: %s", addr,
                      rep ? rep->str : c->errstr[0] ? c->errstr : "no answer");
        if (rep != NULL)
            freeReplyObject(rep);
        goto fail;
    }
    freeReplyObject(rep);
    redisFree(c);
    return 0;
fail:
    if (c != NULL)
        redisFree(c);
    *error_r = strbuf_steal(&sb);
    return -1;
}

static void set_state(struct redis *r, bool up, const char *why)
{
    struct timespec now;

    if (r->closing || (up == r->up && r->ever_logged))
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (up && r->down_since.tv_sec != 0)
        log_info("Redis %s available again after %.1f s", r->what,
                 num_seconds_since(&r->down_since));
    else if (up)
        log_info("Redis %s available", r->what);
    else if (r->up || !r->ever_logged)
        log_warning("Redis %s unavailable (%s): %s", r->what, why, r->consequence);
    if (!up && (r->up || !r->ever_logged))
        r->down_since = now;
    r->ever_logged = true;
    r->up = up;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_now(arg);
}

static void schedule_retry(struct redis *r)
{
    struct timeval tv = backoff_next(&r->backoff);

    evtimer_add(r->retry_ev, &tv);
}

static void mark_down(struct redis *r, const char *why)
{
    redisAsyncContext *ac = r->ac;

    set_state(r, false, why);
    if (ac != NULL) {
        r->ac = NULL;
        /* pending callbacks run with NULL replies; the disconnect callback reschedules */
        redisAsyncDisconnect(ac);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct redis *r = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        if (r->ac == ac)
            r->ac = NULL;
        set_state(r, false, ac->errstr[0] ? ac->errstr : "cannot connect");
        schedule_retry(r);
        return;
    }
    backoff_reset(&r->backoff);
    r->slow = 0;
    set_state(r, true, NULL);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis *r = ac->data;

    (void)status;
    if (r->ac == ac)
        r->ac = NULL;
    set_state(r, false, ac->errstr[0] ? ac->errstr : "disconnected");
    if (r->retry_ev != NULL && !evtimer_pending(r->retry_ev, NULL))
        schedule_retry(r);
}

static void connect_now(struct redis *r)
{
    redisAsyncContext *ac = r->unix_path ? redisAsyncConnectUnix(r->unix_path)
                                         : redisAsyncConnect(r->host, r->port);

    if (ac == NULL || ac->err) {
        set_state(r, false, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(r);
        return;
    }
    ac->data = r;
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (r->password[0])
        redisAsyncCommand(ac, NULL, NULL, "AUTH %s", r->password);
    if (r->db)
        redisAsyncCommand(ac, NULL, NULL, "SELECT %d", r->db);
    r->ac = ac;
}

struct redis *redis_new(struct event_base *base, const struct conf *conf, const char *what,
                        const char *consequence)
{
    const char *addr = conf_str(conf, "redis", "address");
    struct redis *r;

    if (addr[0] == '\0')
        return NULL;
    r = xcalloc(1, sizeof(*r));
    r->base = base;
    r->what = xstrdup(what);
    r->consequence = xstrdup(consequence);
    r->password = xstrdup(conf_str(conf, "redis", "password"));
    r->db = (int)conf_int(conf, "redis", "database");
    r->timeout_ms = conf_ms(conf, "redis", "timeout");
    r->backoff.max_ms = conf_ms(conf, "redis", "reconnect_max");
    if (parse_address(addr, &r->host, &r->port, &r->unix_path) < 0)
        log_fatal("[redis] address: \"%s\" is neither HOST:PORT nor unix:PATH", addr);
    r->retry_ev = evtimer_new(base, retry_cb, r);
    connect_now(r);
    return r;
}

void redis_free(struct redis **rp)
{
    struct redis *r = *rp;

    if (r == NULL)
        return;
    event_free(r->retry_ev);
    r->retry_ev = NULL;
    r->closing = true; /* our own disconnect is no news */
    if (r->ac != NULL) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac); /* pending callbacks run with NULL replies */
    }
    free(r->what);
    free(r->consequence);
    free(r->host);
    free(r->unix_path);
    free(r->password);
    free(r);
    *rp = NULL;
}

bool redis_is_up(const struct redis *r)
{
    return r != NULL && r->up && r->ac != NULL;
}

unsigned long long redis_errors(const struct redis *r)
{
    return r ? r->errors : 0;
}

static void reply_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pending *p = privdata;
    redisReply *rep = reply;

    (void)ac;
    if (p->answered) { /* the deadline passed: the caller went on */
        free(p);
        return;
    }
    event_free(p->timer);
    p->r->slow = 0;
    /* NOSCRIPT is an answer the callers handle (they send the script itself) */
    if (rep == NULL || (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) != 0)) {
        p->r->errors++;
        if (rep != NULL)
            log_warning("Redis %s: %s", p->r->what, rep->str);
    }
    if (p->cb != NULL)
        p->cb(rep, p->arg);
    free(p);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    struct redis *r = p->r;

    (void)fd;
    (void)what;
    event_free(p->timer);
    p->timer = NULL;
    p->answered = true; /* reply_cb frees p when Redis answers or the connection drops */
    r->errors++;
    if (p->cb != NULL)
        p->cb(NULL, p->arg);
    if (++r->slow >= REDIS_MAX_SLOW)
        mark_down(r, "not answering in time");
}

static struct pending *pending_new(struct redis *r, redis_cb *cb, void *arg)
{
    struct pending *p = xcalloc(1, sizeof(*p));

    p->r = r;
    p->cb = cb;
    p->arg = arg;
    p->timer = evtimer_new(r->base, deadline_cb, p);
    return p;
}

static int sent(struct redis *r, struct pending *p, int status)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};

    if (status != REDIS_OK) {
        event_free(p->timer);
        free(p);
        return -1;
    }
    evtimer_add(p->timer, &tv);
    return 0;
}

int redis_command(struct redis *r, redis_cb *cb, void *arg, const char *fmt, ...)
{
    struct pending *p;
    va_list ap;
    int status;

    if (!redis_is_up(r))
        return -1;
    p = pending_new(r, cb, arg);
    va_start(ap, fmt);
    status = redisvAsyncCommand(r->ac, reply_cb, p, fmt, ap);
    va_end(ap);
    return sent(r, p, status);
}

int redis_command_argv(struct redis *r, redis_cb *cb, void *arg, int argc, const char **argv,
                       const size_t *argvlen)
{
    struct pending *p;

    if (!redis_is_up(r))
        return -1;
    p = pending_new(r, cb, arg);
    return sent(r, p, redisAsyncCommandArgv(r->ac, reply_cb, p, argc, argv, argvlen));
}

/* ---- scripts: EVALSHA, and EVAL when Redis answers NOSCRIPT ---- */

void redis_script_init(struct redis_script *script, const char *text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;

    script->text = text;
    EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha1(), NULL);
    for (i = 0; i < mdlen && i < 20; i++)
        snprintf(script->sha + 2 * i, 3, "%02x", md[i]);
}

struct script_call {
    struct redis *r;
    const struct redis_script *script;
    redis_cb *cb;
    void *arg;
    bool sent_text;
    int argc;
    char **argv; /* EVALSHA|EVAL, sha|text, then the caller's (copied) */
};

static void script_call_free(struct script_call *sc)
{
    int i;

    for (i = 2; i < sc->argc; i++)
        free(sc->argv[i]);
    free(sc->argv);
    free(sc);
}

static void script_reply(redisReply *rep, void *arg)
{
    struct script_call *sc = arg;

    if (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
        !sc->sent_text) {
        sc->sent_text = true;
        sc->argv[0] = (char *)"EVAL";
        sc->argv[1] = (char *)sc->script->text;
        if (redis_command_argv(sc->r, script_reply, sc, sc->argc, (const char **)sc->argv, NULL) == 0)
            return;
        rep = NULL;
    }
    if (sc->cb != NULL)
        sc->cb(rep, sc->arg);
    script_call_free(sc);
}

int redis_script_run(struct redis *r, const struct redis_script *script, int argc,
                     const char **args, redis_cb *cb, void *arg)
{
    struct script_call *sc = xcalloc(1, sizeof(*sc));
    int i;

    sc->r = r;
    sc->script = script;
    sc->cb = cb;
    sc->arg = arg;
    sc->argc = argc + 2;
    sc->argv = xcalloc((size_t)sc->argc, sizeof(*sc->argv));
    sc->argv[0] = (char *)"EVALSHA";
    sc->argv[1] = (char *)script->sha;
    for (i = 0; i < argc; i++)
        sc->argv[i + 2] = xstrdup(args[i]);
    if (redis_command_argv(r, script_reply, sc, sc->argc, (const char **)sc->argv, NULL) < 0) {
        script_call_free(sc);
        return -1;
    }
    return 0;
}
