/*
 * server - how every modo daemon listens, accepts and answers.
 *
 * Listeners come from the daemon's section ([lookupd] listen = ...): any
 * mix of inet:HOST:PORT (loopback by default in the examples), unix:PATH
 * (mode and owner from socket_mode / socket_owner) and inherited sockets
 * (fd:N, or "systemd" for LISTEN_FDS). Sockets are bound first, then the
 * process drops to [section] user (running as root without one is refused),
 * then forks [section] workers processes that share the sockets, each with
 * its own event loop. The parent restarts a worker that dies.
 *
 * Each connection has a read buffer with a hard limit (max_request: a peer
 * that sends more without completing a request is disconnected), an idle
 * timeout, and a reply queue: a request may be answered later (after a
 * database round trip) yet replies leave in request order. At most
 * max_connections per worker; more are closed at once.
 *
 * SIGTERM/SIGINT: stop accepting, flush what is being answered, remove the unix
 * sockets bound, exit. SIGHUP: the daemon's reload callback (daemon.h), in the parent
 * and then in each worker. systemd is told READY=1 and STOPPING=1 (sd_notify).
 */
#ifndef MODO_SERVER_H
#define MODO_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct event_base;
struct server;
struct server_conn;
struct server_reply;

struct server_protocol {
    /*
     * Bytes are waiting: frame and handle complete requests, asking server_conn_take before
     * each one, until it says no or none is left; return how many bytes were consumed, or
     * -1 to close the connection (after flushing replies already queued).
     */
    long (*on_data)(struct server_conn *conn, const char *data, size_t len);
    /* The connection is going away (optional). */
    void (*on_close)(struct server_conn *conn);
    /*
     * At stop (optional): is the client in the middle of something that more bytes will
     * complete (an open transaction)? Such a connection is read on, for at most the
     * shutdown grace, until it is not. What a client sent before the stop is always read
     * and answered.
     */
    bool (*busy)(struct server_conn *conn);
};

/* Called in each worker once its event loop exists; returns daemon state or NULL to fail. */
typedef void *server_worker_init_cb(struct server *server, struct event_base *base);
/* SIGHUP: announce is true in the process that speaks for all (the parent, or the only
 * worker); returns whether the reload was applied (the parent then passes it on). */
typedef bool server_reload_cb(struct server *server, bool announce);

/* Bind every listener of conf's [section]; fatal on error (named by setting). proto NULL: a
 * daemon that serves no protocol (modo-logd): its [section] listen must be empty, only
 * stats_listen is bound. */
struct server *server_new(const struct conf *conf, const char *section,
                          const struct server_protocol *proto);
/*
 * The same, for daemons that tell listeners apart: each listen entry may be
 * TAG=ENDPOINT; validate_tag returns NULL for a tag it accepts, else why not
 * (startup is fatal then). server_conn_tag() is the tag ("" if none).
 */
struct server *server_new_tagged(const struct conf *conf, const char *section,
                                 const struct server_protocol *proto,
                                 const char *(*validate_tag)(const struct conf *conf,
                                                             const char *tag));
void server_free(struct server **server);
void server_set_reload(struct server *server, server_reload_cb *cb);
/* A reload: the bounds that change without a restart (max_request, idle_timeout,
 * request_timeout, max_pending, max_output) are read from conf, which the server keeps. */
void server_apply_conf(struct server *server, const struct conf *conf);
/* Would every listener's tag be accepted under conf? NULL, or why not. */
const char *server_check_tags(const struct server *server, const struct conf *conf);
/*
 * Become [section] user (from root; already that user: nothing to do). Fatal when it
 * cannot, or when running as root with no user set. server_run() calls it too.
 */
void server_become_user(const struct conf *conf, const char *section);
/* Drop privileges, fork workers, run until SIGTERM. Returns the exit status. */
int server_run(struct server *server, server_worker_init_cb *init);

/* [section] stats_listen bound with the listeners (loopback or unix only), or -1. */
int server_stats_fd(const struct server *server);
/* This worker's index (0 to workers - 1) and the number of workers configured. */
int server_worker_index(const struct server *server);
int server_workers(const struct server *server);

/* The state returned by the worker's init callback. */
void *server_state(struct server *server);
struct event_base *server_base(struct server *server);

/* Per-connection user data. */
/* Requests one client may have handled in one turn of the event loop. */
#define SERVER_TURN_REQUESTS 32
/*
 * May the protocol handle one more request now? No when the client has had its turn, has
 * too many replies outstanding or unread, or is closing: the protocol then returns what it
 * consumed so far, and the rest is handed to it again later.
 */
bool server_conn_take(struct server_conn *conn);
void server_conn_set_data(struct server_conn *conn, void *data);
void *server_conn_data(struct server_conn *conn);
struct server *server_conn_server(struct server_conn *conn);
const char *server_conn_tag(struct server_conn *conn);

/* Reserve the next place in the connection's reply order. */
struct server_reply *server_reply_begin(struct server_conn *conn);
/* Fill a reserved place; replies go out as soon as every earlier one is there. */
void server_reply_finish(struct server_reply *reply, const char *data, size_t len);
/* Shorthand: reply now, in order. */
void server_reply(struct server_conn *conn, const char *data, size_t len);

/* Stop the worker's loop as SIGTERM would (tests). */
void server_shutdown(struct server *server);

#endif
