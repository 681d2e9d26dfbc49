/*
 * server - listeners, connections, ordered replies, signals, privilege
 * drop and workers; see server.h.
 *
 * Diagnostics: fatal on listener and privilege errors; a warning when the
 * connection limit is hit (once per burst); info on start and stop.
 */
#include "server.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "num.h"
#include "strbuf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define SERVER_MAX_LISTENERS 16
#define SERVER_SHUTDOWN_GRACE_SEC 5

struct server_reply {
    STAILQ_ENTRY(server_reply) entry;
    struct server_conn *conn; /* NULL once the connection is gone */
    bool done;
    struct strbuf data;
};

/*
 * Connections use plain events and evbuffers rather than bufferevents: a reply
 * is written at once when it is ready (one write(2) per request, as Postfix sends
 * one request at a time), and write interest is registered only when the kernel
 * buffer is full. This saves two epoll_ctl(2) and one epoll_wait(2) per lookup.
 */
struct server_conn {
    struct server *server;
    const char *tag; /* of the listener that accepted it */
    evutil_socket_t fd;
    struct event *rev, *wev;
    struct evbuffer *in, *out;
    bool in_read; /* replies made while reading are written once the read is handled */
    LIST_ENTRY(server_conn) entry;
    STAILQ_HEAD(, server_reply) replies; /* in request order */
    void *data;
    bool closing; /* close once the queued replies are written */
    bool paused;  /* too many replies outstanding, or its turn used: requests left unread */
    bool stopped; /* the protocol stopped at server_conn_take's word */
    unsigned turn; /* requests taken in this turn of the event loop */
    bool eof;     /* the client has sent everything (EOF or shutdown(SHUT_WR)) */
    size_t npending; /* replies reserved and not yet in the output buffer */
    struct event *req_ev; /* request_timeout: armed while a request is incomplete */
    struct event *resume_ev; /* the next turn: process the unread requests */
};

struct server {
    const struct conf *conf;
    const char *section;
    const struct server_protocol *proto;
    int fds[SERVER_MAX_LISTENERS];
    char *tags[SERVER_MAX_LISTENERS];
    size_t nfds;
    struct evconnlistener *listeners[SERVER_MAX_LISTENERS];
    struct event_base *base;
    struct event *sig_term, *sig_int, *sig_hup, *grace_ev;
    LIST_HEAD(, server_conn) conns;
    size_t nconns, max_conns;
    size_t max_request, max_pending, max_output;
    long long idle_ms, request_ms;
    bool stopping, limit_logged;
    bool accept_paused, emfile_logged; /* out of file descriptors: accepting later */
    struct event *accept_ev;
    void *state;
    server_reload_cb *reload;
    const char *(*validate_tag)(const struct conf *conf, const char *tag);
    char *unix_paths[SERVER_MAX_LISTENERS]; /* bound here: removed at stop */
    dev_t unix_dev[SERVER_MAX_LISTENERS];
    ino_t unix_ino[SERVER_MAX_LISTENERS];
    size_t nunix;
    pid_t parent; /* the process that bound the sockets */
    int stats_fd; /* [section] stats_listen, or -1 */
    int worker;   /* this worker's index */
};

/* ---- listeners ---- */

/* Each returns the descriptor, or -1 with *why (a static or strerror string). */
static int listen_inet(const char *spec, const char **why)
{
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *res = NULL, *ai;
    char host[256];
    const char *perr;
    long long port;
    int fd = -1, one = 1, gai, err = 0;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
        *why = "not HOST:PORT";
        return -1;
    }
    if (num_parse(colon + 1, 1, 65535, &port, &perr) < 0) {
        *why = "the port must be a number (1 to 65535), not a service name";
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[') { /* [::1]:port */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res)) != 0) {
        *why = gai_strerror(gai);
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        *why = strerror(err ? err : EADDRNOTAVAIL);
    return fd;
}

static int listen_unix(const struct server *srv, const char *path, const char **why)
{
    static char msg[512];
    struct sockaddr_un sun;
    const char *owner = conf_str(srv->conf, srv->section, "socket_owner");
    mode_t mode = (mode_t)conf_int(srv->conf, srv->section, "socket_mode");
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(msg, sizeof(msg), "the socket path is %zu bytes; unix sockets allow at most %zu",
                 strlen(path), sizeof(sun.sun_path) - 1);
        *why = msg;
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    unlink(path); /* a stale socket of an earlier run */
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 511) < 0 ||
        chmod(path, mode) < 0) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    if (owner[0] != '\0') {
        char user[128];
        const char *colon = strchr(owner, ':');
        struct passwd *pw;
        struct group *gr = NULL;
        snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - owner) : (int)strlen(owner),
                 owner);
        pw = getpwnam(user);
        if (colon != NULL)
            gr = getgrnam(colon + 1);
        if (pw == NULL || (colon != NULL && gr == NULL)) {
            snprintf(msg, sizeof(msg), "%s: [%s] socket_owner: no such %s \"%s\"",
                     conf_origin(srv->conf, srv->section, "socket_owner"), srv->section,
                     pw == NULL ? "user" : "group", pw == NULL ? user : colon + 1);
            *why = msg;
            close(fd);
            unlink(path);
            return -1;
        }
        if (chown(path, pw->pw_uid, gr ? gr->gr_gid : pw->pw_gid) < 0) {
            snprintf(msg, sizeof(msg), "[%s] socket_owner: cannot give the socket to %s: %s",
                     srv->section, owner, strerror(errno));
            *why = msg;
            close(fd);
            unlink(path);
            return -1;
        }
    }
    return fd;
}

static void add_fd(struct server *srv, int fd, const char *spec, const char *tag, const char *why)
{
    if (srv->nfds == SERVER_MAX_LISTENERS)
        log_fatal("%s: [%s] listen: too many endpoints (at most %d)",
                  conf_origin(srv->conf, srv->section, "listen"), srv->section,
                  SERVER_MAX_LISTENERS);
    if (fd < 0)
        log_fatal("%s: [%s] listen: cannot listen on %s: %s",
                  conf_origin(srv->conf, srv->section, "listen"), srv->section, spec, why);
    evutil_make_socket_nonblocking(fd);
    srv->tags[srv->nfds] = xstrdup(tag);
    srv->fds[srv->nfds++] = fd;
}

static bool is_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return false;
    if (ss.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
    return false;
}

/* [section] stats_listen: the metrics endpoint, on loopback or a unix socket only. */
static void open_stats(struct server *srv)
{
    const char *spec = conf_str(srv->conf, srv->section, "stats_listen");
    const char *origin = conf_origin(srv->conf, srv->section, "stats_listen");
    const char *why = NULL;
    struct stat st;

    srv->stats_fd = -1;
    if (spec[0] == '\0')
        return;
    if (strncmp(spec, "inet:", 5) == 0) {
        srv->stats_fd = listen_inet(spec + 5, &why);
        if (srv->stats_fd >= 0 && !is_loopback(srv->stats_fd)) {
            close(srv->stats_fd);
            log_fatal("%s: [%s] stats_listen: %s is not a loopback address (the counters are"
                      " for this host only: 127.0.0.1, ::1 or a unix socket)", origin,
                      srv->section, spec + 5);
        }
    } else if (strncmp(spec, "unix:", 5) == 0) {
        srv->stats_fd = listen_unix(srv, spec + 5, &why);
        if (srv->stats_fd >= 0 && stat(spec + 5, &st) == 0 && srv->nunix < SERVER_MAX_LISTENERS) {
            srv->unix_paths[srv->nunix] = xstrdup(spec + 5);
            srv->unix_dev[srv->nunix] = st.st_dev;
            srv->unix_ino[srv->nunix++] = st.st_ino;
        }
    } else {
        log_fatal("%s: [%s] stats_listen: \"%s\" is not inet:HOST:PORT or unix:PATH", origin,
                  srv->section, spec);
    }
    if (srv->stats_fd < 0)
        log_fatal("%s: [%s] stats_listen: cannot listen on %s: %s", origin, srv->section, spec,
                  why);
    evutil_make_socket_nonblocking(srv->stats_fd);
}

int server_stats_fd(const struct server *srv)
{
    return srv->stats_fd;
}

int server_worker_index(const struct server *srv)
{
    return srv->worker;
}

int server_workers(const struct server *srv)
{
    return (int)conf_int(srv->conf, srv->section, "workers");
}

static void open_listeners(struct server *srv)
{
    char *specs, *save = NULL, *spec;

    if (srv->proto == NULL) { /* a daemon that serves no protocol (modo-logd): stats only */
        if (conf_str(srv->conf, srv->section, "listen")[0] != '\0')
            log_fatal("%s: [%s] listen: this daemon has no listener (leave it empty)",
                      conf_origin(srv->conf, srv->section, "listen"), srv->section);
        open_stats(srv);
        return;
    }
    specs = xstrdup(conf_str(srv->conf, srv->section, "listen"));

    for (spec = strtok_r(specs, " ,\t", &save); spec != NULL; spec = strtok_r(NULL, " ,\t", &save)) {
        const char *tag = "";
        char *eq = strchr(spec, '=');
        if (eq != NULL) { /* TAG=ENDPOINT: the daemon tells its listeners apart */
            *eq = '\0';
            tag = spec;
            spec = eq + 1;
        }
        if (strncmp(spec, "inet:", 5) == 0) {
            const char *why = NULL;
            int fd = listen_inet(spec + 5, &why);
            add_fd(srv, fd, spec, tag, why);
        } else if (strncmp(spec, "unix:", 5) == 0) {
            const char *why = NULL;
            int fd = listen_unix(srv, spec + 5, &why);
            struct stat st;
            add_fd(srv, fd, spec, tag, why);
            if (stat(spec + 5, &st) == 0) {
                srv->unix_paths[srv->nunix] = xstrdup(spec + 5);
                srv->unix_dev[srv->nunix] = st.st_dev;
                srv->unix_ino[srv->nunix++] = st.st_ino;
            }
        } else if (strncmp(spec, "fd:", 3) == 0) {
            add_fd(srv, (int)num_or(spec + 3, 3, 1 << 20, -1), spec, tag,
                   "not an inherited descriptor (3 or more)");
        } else if (strcmp(spec, "systemd") == 0) {
            const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
            int i, count = n ? (int)num_or(n, 1, SERVER_MAX_LISTENERS, 0) : 0;
            if (pid == NULL || num_or(pid, 1, INT32_MAX, 0) != (long long)getpid() || count <= 0)
                log_fatal("[%s] listen: systemd: no sockets passed (LISTEN_PID/LISTEN_FDS)",
                          srv->section);
            for (i = 0; i < count; i++)
                add_fd(srv, 3 + i, spec, tag, NULL);
        } else {
            log_fatal("%s: [%s] listen: \"%s\" is not [TAG=]inet:HOST:PORT, unix:PATH, fd:N or"
                      " systemd", conf_origin(srv->conf, srv->section, "listen"), srv->section,
                      spec);
        }
        if (srv->validate_tag != NULL) {
            const char *why = srv->validate_tag(srv->conf, tag);
            if (why != NULL)
                log_fatal("[%s] listen: %s%s%s: %s", srv->section, tag, tag[0] ? "=" : "", spec,
                          why);
        }
    }
    free(specs);
    if (srv->nfds == 0)
        log_fatal("[%s] listen: no endpoint", srv->section);
    open_stats(srv);
}

/* ---- connections ---- */

static struct timeval ms_tv(long long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

struct listener_ctx {
    struct server *srv;
    const char *tag;
};

static void accept_resume(struct server *srv);

static void conn_free(struct server_conn *c)
{
    struct server *srv = c->server;
    struct server_reply *r, *next;

    if (srv->proto->on_close != NULL)
        srv->proto->on_close(c);
    for (r = STAILQ_FIRST(&c->replies); r != NULL; r = next) {
        next = STAILQ_NEXT(r, entry);
        if (r->done) {
            strbuf_free(&r->data);
            free(r);
        } else {
            r->conn = NULL; /* its owner will finish it; then it is freed */
        }
    }
    LIST_REMOVE(c, entry);
    event_free(c->rev);
    event_free(c->wev);
    if (c->req_ev != NULL)
        event_free(c->req_ev);
    if (c->resume_ev != NULL)
        event_free(c->resume_ev);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    evutil_closesocket(c->fd);
    srv->nconns--;
    metrics_connection(-1);
    free(c);
    if (srv->stopping && srv->nconns == 0)
        event_base_loopexit(srv->base, NULL);
    else if (srv->accept_paused)
        accept_resume(srv); /* a descriptor is free again */
}

static void flush_replies(struct server_conn *c)
{
    struct evbuffer *out = c->out;

    while (!STAILQ_EMPTY(&c->replies) && STAILQ_FIRST(&c->replies)->done) {
        struct server_reply *r = STAILQ_FIRST(&c->replies);
        STAILQ_REMOVE_HEAD(&c->replies, entry);
        evbuffer_add(out, r->data.data ? r->data.data : "", r->data.len);
        strbuf_free(&r->data);
        free(r);
        c->npending--;
    }
}

static bool retriable_errno(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Close if asked to and everything is written; returns false if c is gone. */
static bool maybe_close(struct server_conn *c)
{
    if (c->closing && STAILQ_EMPTY(&c->replies) && evbuffer_get_length(c->out) == 0) {
        conn_free(c);
        return false;
    }
    return true;
}

/* Backpressure: too many replies outstanding, or too many bytes the client has not read. */
static bool conn_overloaded(const struct server_conn *c, bool resuming)
{
    const struct server *srv = c->server;
    /* resume only well below the bounds, so a busy client is not toggled every reply */
    size_t div = resuming ? 2 : 1;

    return c->npending >= srv->max_pending / div ||
           evbuffer_get_length(c->out) >= srv->max_output / div;
}

static void conn_process(struct server_conn *c);

static void conn_resume(evutil_socket_t fd, short what, void *arg)
{
    struct server_conn *c = arg;
    struct timeval idle = ms_tv(c->server->idle_ms);

    (void)fd;
    (void)what;
    if (!c->paused || c->closing || conn_overloaded(c, true))
        return; /* the replies written will resume it */
    c->paused = false;
    if (!c->eof)
        event_add(c->rev, &idle);
    conn_process(c);
}

/*
 * Process the requests left unread on the event loop's next turn, after the other clients'
 * events: never from inside a reply, and never in the same turn (libevent runs an event
 * activated from a callback before it polls again, so a client whose replies the kernel
 * keeps absorbing would be served on and on while the others wait).
 */
static void conn_schedule_resume(struct server_conn *c)
{
    static const struct timeval now = {0, 0};

    if (c->resume_ev == NULL)
        c->resume_ev = evtimer_new(c->server->base, conn_resume, c);
    evtimer_add(c->resume_ev, &now);
}

bool server_conn_take(struct server_conn *c)
{
    if (c->closing || c->turn >= SERVER_TURN_REQUESTS || conn_overloaded(c, false)) {
        c->stopped = true;
        return false;
    }
    c->turn++;
    return true;
}

/* Write what is queued; wait for writability only if the socket is full. False if c is gone. */
static bool conn_write_now(struct server_conn *c)
{
    while (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n < 0) {
            if (retriable_errno())
                break;
            conn_free(c); /* the peer is gone: its pending replies are dropped */
            return false;
        }
        if (n == 0)
            break;
    }
    if (evbuffer_get_length(c->out) > 0) {
        /* a client that reads nothing of its replies for idle_timeout is dropped */
        struct timeval idle = ms_tv(c->server->idle_ms);
        event_add(c->wev, &idle);
    } else {
        event_del(c->wev);
    }
    if (!maybe_close(c))
        return false;
    if (c->paused && !c->in_read && !c->closing && !conn_overloaded(c, true))
        conn_schedule_resume(c);
    return true;
}

struct server_reply *server_reply_begin(struct server_conn *c)
{
    struct server_reply *r = xcalloc(1, sizeof(*r));

    r->conn = c;
    STAILQ_INSERT_TAIL(&c->replies, r, entry);
    c->npending++;
    return r;
}

void server_reply_finish(struct server_reply *r, const char *data, size_t len)
{
    struct server_conn *c = r->conn;

    if (c == NULL) { /* the connection went away meanwhile */
        free(r);
        return;
    }
    if (r == STAILQ_FIRST(&c->replies)) {
        /* in order (the common case): straight to the output buffer, no copy kept */
        STAILQ_REMOVE_HEAD(&c->replies, entry);
        evbuffer_add(c->out, data, len);
        free(r);
        c->npending--;
    } else {
        strbuf_append(&r->data, data, len);
        r->done = true;
    }
    flush_replies(c);
    if (!c->in_read)
        conn_write_now(c);
}

void server_reply(struct server_conn *c, const char *data, size_t len)
{
    server_reply_finish(server_reply_begin(c), data, len);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    struct server_conn *c = arg;

    (void)fd;
    if (what & EV_TIMEOUT) {
        log_warning("%s: a client read none of its replies for idle_timeout (%lld ms):"
                    " disconnecting", c->server->section, c->server->idle_ms);
        conn_free(c);
        return;
    }
    conn_write_now(c);
}

static void request_expired(evutil_socket_t fd, short what, void *arg)
{
    struct server_conn *c = arg;

    (void)fd;
    (void)what;
    log_warning("%s: a request took longer than request_timeout (%lld ms) to arrive:"
                " disconnecting", c->server->section, c->server->request_ms);
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    c->closing = true;
    event_del(c->rev);
    conn_write_now(c);
}

/*
 * Hand the buffered bytes to the protocol until it needs more, the connection closes, too
 * many replies are outstanding (then reading stops until the client catches up) or the
 * client has had its turn (SERVER_TURN_REQUESTS: the rest waits for the loop's next turn, so
 * one pipelining client cannot hold the others back).
 */
static void conn_process(struct server_conn *c)
{
    struct server *srv = c->server;
    bool need_more = false;

    c->in_read = true;
    c->turn = 0;
    while (!c->closing && evbuffer_get_length(c->in) > 0) {
        size_t len;
        const char *data;
        long used;

        if (conn_overloaded(c, false) || c->turn >= SERVER_TURN_REQUESTS) {
            c->paused = true;
            event_del(c->rev);
            if (!conn_overloaded(c, false))
                conn_schedule_resume(c); /* its turn is over: the next one */
            break;
        }
        len = evbuffer_get_length(c->in);
        data = (const char *)evbuffer_pullup(c->in, -1);
        c->stopped = false;
        used = srv->proto->on_data(c, data, len);
        if (used < 0) {
            c->closing = true;
            break;
        }
        evbuffer_drain(c->in, (size_t)used);
        if (c->stopped)
            continue; /* at server_conn_take's word: paused above */
        if (used == 0) {
            need_more = true;
            /* one rule whatever the reads: max_request bytes without a complete request */
            if (len > srv->max_request) {
                log_warning("%s: request larger than max_request (%zu bytes): disconnecting",
                            srv->section, srv->max_request);
                c->closing = true;
            }
            break;
        }
    }
    c->in_read = false;
    if (c->eof && !c->paused)
        c->closing = true; /* every complete request is answered; the rest never will be */
    if (srv->stopping && !c->paused && !c->closing &&
        (srv->proto->busy == NULL || !srv->proto->busy(c)))
        c->closing = true; /* stopping: nothing more is expected of this client */
    if (c->closing) {
        event_del(c->rev);
        evbuffer_drain(c->in, evbuffer_get_length(c->in));
    }
    /* request_timeout runs from the first byte of a request until the request is whole */
    if (need_more && !c->paused && !c->closing) {
        if (c->req_ev == NULL) {
            struct timeval tv = ms_tv(srv->request_ms);
            c->req_ev = evtimer_new(srv->base, request_expired, c);
            evtimer_add(c->req_ev, &tv);
        }
    } else if (c->req_ev != NULL) {
        event_free(c->req_ev);
        c->req_ev = NULL;
    }
    conn_write_now(c);
}

/*
 * Read what the client sent. A connection whose buffer is empty (a client waiting for each
 * answer, the common case) is read with one read() (evbuffer_read first asks the kernel how
 * much there is: one more system call per request); a buffer that still holds unread
 * requests (a pipelining client, or one paused for not reading its replies) is extended by
 * evbuffer_read, whose chains are sized to what arrived, so the memory held stays bounded.
 */
static int conn_read(struct server_conn *c)
{
    char buf[16384];
    ssize_t n;

    if (evbuffer_get_length(c->in) > 0)
        return evbuffer_read(c->in, c->fd, 65536);
    n = read(c->fd, buf, sizeof(buf));
    if (n > 0 && evbuffer_add(c->in, buf, (size_t)n) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return (int)n;
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct server_conn *c = arg;
    int n;

    (void)fd;
    if (what & EV_TIMEOUT) { /* idle */
        if (!STAILQ_EMPTY(&c->replies)) { /* still answering: not idle */
            struct timeval idle = ms_tv(c->server->idle_ms);
            event_add(c->rev, &idle);
            return;
        }
        conn_free(c);
        return;
    }
    n = conn_read(c);
    if (n < 0 && retriable_errno())
        return;
    if (n < 0) {
        conn_free(c); /* reset: nobody is left to read the replies */
        return;
    }
    if (n == 0) {
        /* EOF (or shutdown(SHUT_WR)): answer what was asked, then close */
        c->eof = true;
        event_del(c->rev);
        if (!c->paused) {
            /* what is left is an incomplete request: it can never be completed now */
            c->closing = true;
            evbuffer_drain(c->in, evbuffer_get_length(c->in));
        }
        conn_write_now(c);
        return;
    }
    conn_process(c);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    accept_resume(arg);
}

static void accept_resume(struct server *srv)
{
    size_t i;

    if (!srv->accept_paused || srv->stopping)
        return;
    srv->accept_paused = false;
    if (srv->accept_ev != NULL)
        evtimer_del(srv->accept_ev);
    for (i = 0; i < srv->nfds; i++)
        if (srv->listeners[i] != NULL)
            evconnlistener_enable(srv->listeners[i]);
}

/* accept() failed: out of descriptors or memory pauses accepting instead of spinning. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct server *srv = ((struct listener_ctx *)arg)->srv;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {0, 100 * 1000};
    size_t i;

    (void)l;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return; /* a connection that went before it was accepted: nothing to do */
    if (!srv->emfile_logged)
        log_warning("%s: cannot accept connections: %s (%zu open): pausing; raise the open-file"
                    " limit (LimitNOFILE=) or lower max_connections",
                    srv->section, strerror(err), srv->nconns);
    srv->emfile_logged = true;
    srv->accept_paused = true;
    for (i = 0; i < srv->nfds; i++)
        if (srv->listeners[i] != NULL)
            evconnlistener_disable(srv->listeners[i]);
    if (srv->accept_ev == NULL)
        srv->accept_ev = evtimer_new(srv->base, accept_resume_cb, srv);
    evtimer_add(srv->accept_ev, &tv);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct listener_ctx *lc = arg;
    struct server *srv = lc->srv;
    struct server_conn *c;
    struct timeval idle = ms_tv(srv->idle_ms);

    (void)l;
    (void)salen;
    srv->emfile_logged = false;
    if (srv->stopping || srv->nconns >= srv->max_conns) {
        if (!srv->limit_logged && !srv->stopping)
            log_warning("%s: max_connections (%zu) reached: refusing connections", srv->section,
                        srv->max_conns);
        srv->limit_logged = true;
        evutil_closesocket(fd);
        return;
    }
    srv->limit_logged = false;
    if (sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        /* replies are written whole: Nagle would hold pipelined ones for a delayed ACK */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c = xcalloc(1, sizeof(*c));
    c->server = srv;
    c->tag = lc->tag;
    c->fd = fd;
    evutil_make_socket_nonblocking(fd);
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
    event_add(c->rev, &idle);
    STAILQ_INIT(&c->replies);
    LIST_INSERT_HEAD(&srv->conns, c, entry);
    srv->nconns++;
    metrics_connection(1);
}

/* ---- lifecycle ---- */

static void grace_expired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(((struct server *)arg)->base, NULL);
}

void server_shutdown(struct server *srv)
{
    struct timeval grace = {SERVER_SHUTDOWN_GRACE_SEC, 0};
    struct server_conn *c;
    size_t i;

    if (srv->stopping)
        return;
    srv->stopping = true;
    if (getpid() == srv->parent)
        sd_notify(0, "STOPPING=1");
    for (i = 0; i < srv->nfds; i++)
        if (srv->listeners[i] != NULL)
            evconnlistener_disable(srv->listeners[i]);
    /*
     * What clients already sent is read and answered (a request in the socket buffer is
     * not dropped); idle connections go now, busy ones once their replies are out, and
     * those the protocol calls busy (an open transaction) once that is over.
     */
    for (c = LIST_FIRST(&srv->conns); c != NULL;) {
        struct server_conn *next = LIST_NEXT(c, entry);
        /* one read: a client that keeps sending must not keep the stop from stopping */
        int n = c->eof || c->closing || c->paused ? 1 : conn_read(c);
        if (n == 0)
            c->eof = true;
        if (!c->closing && !c->paused && evbuffer_get_length(c->in) > 0)
            conn_process(c); /* may close it */
        c = next;
    }
    LIST_FOREACH(c, &srv->conns, entry) {
        if (!c->closing && !c->eof && !c->paused && srv->proto->busy != NULL &&
            srv->proto->busy(c))
            continue;
        c->closing = true;
        event_del(c->rev);
    }
    for (c = LIST_FIRST(&srv->conns); c != NULL;) {
        struct server_conn *next = LIST_NEXT(c, entry);
        maybe_close(c);
        c = next;
    }
    if (srv->nconns == 0) {
        event_base_loopexit(srv->base, NULL);
        return;
    }
    srv->grace_ev = evtimer_new(srv->base, grace_expired, srv);
    evtimer_add(srv->grace_ev, &grace);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;

    (void)what;
    if (sig == SIGHUP) {
        /* with workers, the parent announced the reload; each worker applies it quietly */
        if (srv->reload != NULL)
            srv->reload(srv, getpid() == srv->parent);
        return;
    }
    server_shutdown(srv);
}

/*
 * Each connection is a descriptor: max_connections must fit under RLIMIT_NOFILE with room
 * for the listeners, the database and Redis connections and the log. Raise the soft limit
 * up to the hard one if needed; if that is not enough, serve fewer connections and say so.
 */
#define SERVER_RESERVED_FDS 64

static void fit_open_files(struct server *srv, const char *origin)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)srv->max_conns + SERVER_RESERVED_FDS + srv->nfds;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return;
    } else if (rl.rlim_max > rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur <= SERVER_RESERVED_FDS + srv->nfds + 1)
        log_fatal("%s: [%s] max_connections: the open-file limit (RLIMIT_NOFILE %llu) leaves no"
                  " room for connections; raise it (LimitNOFILE= or ulimit -n)",
                  origin, srv->section, (unsigned long long)rl.rlim_cur);
    log_warning("%s: [%s] max_connections: %zu does not fit the open-file limit (RLIMIT_NOFILE"
                " %llu, hard %llu): serving at most %llu; raise LimitNOFILE= (or ulimit -n) or lower"
                " max_connections", origin, srv->section, srv->max_conns,
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                (unsigned long long)(rl.rlim_cur - SERVER_RESERVED_FDS - srv->nfds));
    srv->max_conns = (size_t)(rl.rlim_cur - SERVER_RESERVED_FDS - srv->nfds);
}

struct server *server_new(const struct conf *conf, const char *section,
                          const struct server_protocol *proto)
{
    return server_new_tagged(conf, section, proto, NULL);
}

struct server *server_new_tagged(const struct conf *conf, const char *section,
                                 const struct server_protocol *proto,
                                 const char *(*validate_tag)(const struct conf *conf,
                                                             const char *tag))
{
    struct server *srv = xcalloc(1, sizeof(*srv));

    srv->validate_tag = validate_tag;
    srv->conf = conf;
    srv->section = section;
    srv->proto = proto;
    srv->max_conns = (size_t)conf_int(conf, section, "max_connections");
    srv->parent = getpid();
    server_apply_conf(srv, conf);
    signal(SIGPIPE, SIG_IGN);
    open_listeners(srv);
    fit_open_files(srv, conf_origin(conf, section, "max_connections"));
    return srv;
}

void server_set_reload(struct server *srv, server_reload_cb *cb)
{
    srv->reload = cb;
}

void server_apply_conf(struct server *srv, const struct conf *conf)
{
    const char *section = srv->section;

    srv->conf = conf;
    srv->max_request = (size_t)conf_int(conf, section, "max_request");
    srv->idle_ms = conf_ms(conf, section, "idle_timeout");
    srv->request_ms = conf_ms(conf, section, "request_timeout");
    srv->max_pending = (size_t)conf_int(conf, section, "max_pending");
    srv->max_output = (size_t)conf_int(conf, section, "max_output");
}

const char *server_check_tags(const struct server *srv, const struct conf *conf)
{
    static char msg[512];
    size_t i;

    if (srv->validate_tag == NULL)
        return NULL;
    for (i = 0; i < srv->nfds; i++) {
        const char *why = srv->validate_tag(conf, srv->tags[i]);
        if (why != NULL) {
            snprintf(msg, sizeof(msg), "[%s] listen: the listener tagged %s: %s", srv->section,
                     srv->tags[i], why);
            return msg;
        }
    }
    return NULL;
}

void server_become_user(const struct conf *conf, const char *section)
{
    const char *user = conf_str(conf, section, "user");
    struct passwd *pw;

    if (user[0] == '\0') {
        if (geteuid() == 0)
            log_fatal("[%s] user: refusing to run as root; set the unprivileged user to run as",
                      section);
        return;
    }
    pw = getpwnam(user);
    if (pw == NULL)
        log_fatal("%s: [%s] user: no such user \"%s\"; create it (adduser --system --group"
                  " --no-create-home --home /nonexistent %s) or name another",
                  conf_origin(conf, section, "user"), section, user, user);
    if (geteuid() != 0) {
        if (getuid() != pw->pw_uid)
            log_fatal("[%s] user: cannot switch to \"%s\" without root", section, user);
        return; /* already that user (or dropped earlier) */
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0)
        log_fatal("[%s] user: cannot switch to \"%s\": %s", section, user, strerror(errno));
    if (setuid(0) == 0)
        log_panic("privileges could be regained after dropping them");
}

static int worker_main(struct server *srv, server_worker_init_cb *init)
{
    struct listener_ctx lcs[SERVER_MAX_LISTENERS];
    size_t i;

    srv->base = event_base_new();
    if (srv->base == NULL)
        log_fatal("cannot create the event loop");
    for (i = 0; i < srv->nfds; i++) {
        lcs[i].srv = srv;
        lcs[i].tag = srv->tags[i];
        srv->listeners[i] = evconnlistener_new(srv->base, on_accept, &lcs[i],
                                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
                                                   LEV_OPT_DISABLED,
                                               -1, srv->fds[i]);
        if (srv->listeners[i] == NULL)
            log_fatal("cannot listen: %s", strerror(errno));
        evconnlistener_set_error_cb(srv->listeners[i], on_accept_error);
    }
    srv->sig_term = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    srv->sig_int = evsignal_new(srv->base, SIGINT, on_signal, srv);
    srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_signal, srv);
    event_add(srv->sig_term, NULL);
    event_add(srv->sig_int, NULL);
    event_add(srv->sig_hup, NULL);
    srv->state = init(srv, srv->base);
    if (srv->state == NULL)
        return 1;
    /* accept only once the daemon is ready (connections made meanwhile wait in the backlog) */
    for (i = 0; i < srv->nfds && !srv->stopping; i++)
        evconnlistener_enable(srv->listeners[i]);
    if (getpid() == srv->parent)
        sd_notify(0, "READY=1");
    event_base_dispatch(srv->base);
    while (!LIST_EMPTY(&srv->conns))
        conn_free(LIST_FIRST(&srv->conns));
    for (i = 0; i < srv->nfds; i++)
        evconnlistener_free(srv->listeners[i]);
    event_free(srv->sig_term);
    event_free(srv->sig_int);
    event_free(srv->sig_hup);
    if (srv->grace_ev)
        event_free(srv->grace_ev);
    if (srv->accept_ev)
        event_free(srv->accept_ev);
    return 0;
}

/* Unix sockets bound by this process go at stop, unless another process replaced them. */
static void remove_sockets(struct server *srv)
{
    size_t i;

    for (i = 0; i < srv->nunix; i++) {
        struct stat st;
        if (stat(srv->unix_paths[i], &st) == 0 && st.st_dev == srv->unix_dev[i] &&
            st.st_ino == srv->unix_ino[i] && unlink(srv->unix_paths[i]) < 0)
            log_debug("cannot remove %s: %s", srv->unix_paths[i], strerror(errno));
    }
}

static volatile sig_atomic_t parent_signal;

static void parent_on_signal(int sig)
{
    parent_signal = sig;
}

int server_run(struct server *srv, server_worker_init_cb *init)
{
    int nworkers = (int)conf_int(srv->conf, srv->section, "workers");
    pid_t *pids;
    time_t *started;
    sigset_t stop_signals, saved_mask;
    bool ready = false;
    int i, status, rc = 0;

    server_become_user(srv->conf, srv->section);
    log_info("%s: started (%d worker%s)", srv->section, nworkers, nworkers > 1 ? "s" : "");
    if (nworkers == 1) {
        rc = worker_main(srv, init);
        remove_sockets(srv);
        log_info("%s: stopped", srv->section);
        return rc;
    }
    pids = xcalloc((size_t)nworkers, sizeof(*pids));
    started = xcalloc((size_t)nworkers, sizeof(*started));
    {
        /* no SA_RESTART: wait() must return when a signal arrives */
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = parent_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    for (;;) {
        for (i = 0; i < nworkers; i++) {
            if (pids[i] > 0 || parent_signal == SIGTERM || parent_signal == SIGINT)
                continue;
            if (started[i] != 0 && time(NULL) - started[i] < 1)
                sleep(1); /* a worker that dies at once must not make us spin */
            if (parent_signal == SIGTERM || parent_signal == SIGINT)
                break;
            started[i] = time(NULL);
            /* a signal between fork and the child's own handlers must not be lost */
            sigprocmask(SIG_BLOCK, &stop_signals, &saved_mask);
            pids[i] = fork();
            if (pids[i] == 0) {
                srv->worker = i;
                signal(SIGTERM, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                sigprocmask(SIG_SETMASK, &saved_mask, NULL);
                exit(worker_main(srv, init));
            }
            sigprocmask(SIG_SETMASK, &saved_mask, NULL);
            if (pids[i] < 0) {
                log_error("cannot fork a worker: %s", strerror(errno));
                pids[i] = 0;
                sleep(1);
            }
        }
        if (!ready) {
            sd_notify(0, "READY=1");
            ready = true;
        }
        if (parent_signal != 0) {
            int sig = parent_signal;
            parent_signal = 0;
            if (sig == SIGHUP && (srv->reload == NULL || !srv->reload(srv, true)))
                continue; /* nothing new for the workers */
            if (sig != SIGHUP)
                sd_notify(0, "STOPPING=1");
            for (i = 0; i < nworkers; i++)
                if (pids[i] > 0)
                    kill(pids[i], sig);
            if (sig == SIGTERM || sig == SIGINT) {
                for (i = 0; i < nworkers; i++)
                    if (pids[i] > 0)
                        waitpid(pids[i], NULL, 0);
                break;
            }
        }
        {
            pid_t pid = wait(&status);
            if (pid < 0 && errno == EINTR)
                continue;
            for (i = 0; i < nworkers; i++)
                if (pids[i] == pid) {
                    pids[i] = 0;
                    if (parent_signal == 0)
                        log_warning("%s: worker %ld exited (status %d): restarting",
                                    srv->section, (long)pid, status);
                }
        }
    }
    free(pids);
    free(started);
    remove_sockets(srv);
    log_info("%s: stopped", srv->section);
    return rc;
}

void *server_state(struct server *srv)
{
    return srv->state;
}

struct event_base *server_base(struct server *srv)
{
    return srv->base;
}

void server_conn_set_data(struct server_conn *c, void *data)
{
    c->data = data;
}

void *server_conn_data(struct server_conn *c)
{
    return c->data;
}

struct server *server_conn_server(struct server_conn *c)
{
    return c->server;
}

const char *server_conn_tag(struct server_conn *c)
{
    return c->tag;
}

void server_free(struct server **srvp)
{
    struct server *srv = *srvp;
    size_t i;

    if (srv == NULL)
        return;
    remove_sockets(srv); /* if still there (server_run removes them) */
    for (i = 0; i < srv->nfds; i++)
        free(srv->tags[i]);
    for (i = 0; i < srv->nunix; i++)
        free(srv->unix_paths[i]);
    free(srv);
    *srvp = NULL;
}
