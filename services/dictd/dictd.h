/*
 * dictd.h - modo-dictd's parts: the protocol and lookups (dictd.c), transactions and quota
 * commits (txn.c), last-login times held back and written (lastlogin.c) and the HTTP
 * endpoint for Dovecot 2.4's Lua scripts (http.c). See dictd.c.
 */
#ifndef MODO_DICTD_H
#define MODO_DICTD_H

#include "auth.h"
#include "dict_proto.h"
#include "strbuf.h"

#include <stdbool.h>
#include <sys/queue.h>
#include <time.h>

struct event;
struct evhttp_request;
struct server_conn;

#define MAX_TRANSACTIONS 64 /* open per connection */
#define MAX_TXN_CHANGES 1000
#define LAST_LOGIN_MAX 100000 /* users held back at once */
#define LAST_LOGIN_BUCKETS 4096

enum kind { K_PASSDB, K_USERDB, K_MASTER, K_QUOTA, K_COMMIT, K_ITERATE, K_LAST_LOGIN, K__COUNT };
enum answer { A_FOUND, A_NOTFOUND, A_FAIL };
/* What a transaction does to one quota value. */
enum qop { Q_NONE, Q_SET, Q_ADD };
struct qchange {
    enum qop op;
    long long value;
};

struct last_login {
    struct last_login *next;
    long long when;
    char user[];
};

struct txn {
    TAILQ_ENTRY(txn) entry;
    unsigned id;
    char *user;
    struct qchange bytes, messages;
    struct last_login *logins; /* to record at commit */
    size_t changes;
    char *error; /* the first change that cannot be made: the commit answers F */
};
TAILQ_HEAD(txn_list, txn);

struct dconn {
    bool hello;
    unsigned major, minor;
    char *user; /* from the handshake (major 2 clients); 3 and 4 send it per command */
    struct txn_list txns;
    size_t ntxns;
};

struct dictd {
    struct auth_settings auth;
    char *last_login_key;
    long long flush_ms;
    /* last logins held back: user -> newest time */
    struct last_login *held[LAST_LOGIN_BUCKETS];
    size_t nheld, inflight;
    struct event *flush_ev;
    bool flush_failed_logged;
};
extern struct dictd dd;

/* One request being answered. */
struct pending {
    struct server_reply *reply;
    enum kind kind;
    struct timespec start;
    struct auth_key key;
    /* commits */
    unsigned id;
    bool async;
    struct qchange bytes, messages;
    char user[256];
    /* iteration */
    char path[256];
    unsigned flags;
    unsigned long long max_rows;
};

extern const char *const dictd_kind_names[K__COUNT];

/* dictd.c: a request being answered, in the connection's reply order */
struct pending *pending_new(struct server_conn *conn, enum kind kind);
void pending_finish(struct pending *p, enum answer a, struct strbuf *out);
/* One reply line of one field (or none when field is NULL). */
void reply1(struct pending *p, enum answer a, char code, const char *field);
/* priv/quota/storage -> 0, priv/quota/messages -> 1, else -1 */
int quota_key(const char *key);

/* txn.c */
int txn_begin(struct dconn *dc, const struct dict_cmd *cmd);
struct txn *txn_find(struct dconn *dc, const char *idstr);
void txn_change(struct txn *t, char type, const struct dict_cmd *cmd);
void txn_commit(struct server_conn *conn, struct dconn *dc, struct txn *t, bool async);
void txn_free(struct dconn *dc, struct txn *t);

/* lastlogin.c */
long long lastlogin_seconds(long long v);
void lastlogin_hold(const char *user, long long when);
/* At stop: write everything held, waiting for the answers (at most 30 s). */
void lastlogin_drain(void);
void lastlogin_free(void);

/* http.c */
int dictd_http(struct evhttp_request *req, const char *path);

#endif
