/*
 * modo-lookupd - Postfix lookup tables over socketmap and tcp_table.
 *
 * One socketmap endpoint serves every map by name
 * (socketmap:unix:private/modo-lookupd:aliases); a tcp_table endpoint serves
 * one map, named by its listener tag (listen = tcp:aliases=inet:127.0.0.1:10001).
 * Requests may be pipelined and are answered in order; answers come from the
 * cache (L1, Redis) or the store. A database that cannot answer gives TEMP
 * (tcp: 400), never NOTFOUND. See modo-lookupd(8).
 *
 * Options, reload and stop: daemon.h.
 */
#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "maps.h"
#include "metrics.h"
#include "num.h"
#include "netstring.h"
#include "server.h"
#include "store.h"
#include "strbuf.h"
#include "tcptable.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The daemon's single context. */
struct lookupd {
    struct map_config maps;
    unsigned long long requests, tempfails;
    size_t max_request; /* [lookupd] max_request: the largest frame, however it is read */
};

static struct lookupd ld;

static const char *const map_kinds[MAP__COUNT] = {
    "domains", "domain-aliases", "aliases", "relay-domains", "transport",
    "split-domains-transport", "maintain", "relay-recipient-verification", "sender-login"};
static const char *const answer_names[3] = {"found", "notfound", "temp"};
/* the maps by their default names, whatever modo.conf calls them */
static const struct metrics_def lookupd_metrics = {
    "lookupd", "map", map_kinds, MAP__COUNT, "answer", answer_names, 3};

struct pending {
    struct server_reply *reply;
    bool tcp;
    enum map_kind kind;
    struct timespec start;
    char key[]; /* for logs */
};

static void lookup_done(const struct map_result *res, void *arg)
{
    struct pending *p = arg;
    struct strbuf out = STRBUF_INIT;
    static const char *const names[] = {"OK", "NOTFOUND", "TEMP"};
    enum map_status answered = res->status;
    double seconds;

    if (res->status == MAP_TEMPFAIL) {
        ld.tempfails++;
        daemon_tempfail_note("%s: %s: temporary failure: %.*s", ld.maps.names[p->kind], p->key,
                             (int)res->len, res->data);
    }
    if (p->tcp) {
        int code = res->status == MAP_FOUND ? 200 : res->status == MAP_NOTFOUND ? 500 : 400;
        if (res->status == MAP_NOTFOUND)
            tcptable_reply(&out, code, "not-found", 9);
        else
            tcptable_reply(&out, code, res->data, res->len);
    } else {
        enum socketmap_status st = res->status == MAP_FOUND      ? SOCKETMAP_OK
                                   : res->status == MAP_NOTFOUND ? SOCKETMAP_NOTFOUND
                                                                 : SOCKETMAP_TEMP;
        if (socketmap_reply(&out, st, res->data, res->len) != st && (answered = MAP_TEMPFAIL))
            log_warning("%s: %s: reply larger than Postfix accepts: answered TEMP",
                        ld.maps.names[p->kind], p->key);
    }
    seconds = num_seconds_since(&p->start);
    if (log_debug_enabled())
        log_debug("map=%s key=%s status=%s data=%.*s (%.3f ms)", ld.maps.names[p->kind], p->key,
                  names[res->status], res->status == MAP_NOTFOUND ? 0 : (int)res->len,
                  res->data ? res->data : "", seconds * 1000.0);
    server_reply_finish(p->reply, out.data, out.len);
    metrics_answer(p->kind, answered, seconds);
    strbuf_free(&out);
    free(p);
}

static void start_lookup(struct server_conn *conn, bool tcp, enum map_kind kind, const char *key,
                         size_t klen)
{
    struct pending *p = xmalloc(sizeof(*p) + klen + 1);

    ld.requests++;
    p->reply = server_reply_begin(conn);
    p->tcp = tcp;
    p->kind = kind;
    memcpy(p->key, key, klen);
    p->key[klen] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    metrics_request(kind);
    map_lookup(daemon_cache(), &ld.maps, kind, key, klen, lookup_done, p);
}

static long socketmap_data(struct server_conn *conn, const char *data, size_t len)
{
    size_t pos = 0;

    for (;;) {
        const char *payload, *name, *key, *err;
        size_t plen, nlen, klen, used;
        enum codec_status st;
        int kind;

        if (pos == len || !server_conn_take(conn))
            return (long)pos;
        st = netstring_decode(data + pos, len - pos, ld.max_request, &payload, &plen, &used,
                              &err);

        if (st == CODEC_NEED_MORE)
            return (long)pos;
        if (st == CODEC_OK && used > ld.max_request) {
            /* the same rule as for a frame still incomplete: max_request bytes in all */
            st = CODEC_ERROR;
            err = "request larger than max_request";
        }
        if (st != CODEC_OK) {
            log_warning("socketmap client: %s: disconnecting", err);
            metrics_bad_request();
            return -1;
        }
        pos += used;
        if (socketmap_request_split(payload, plen, &name, &nlen, &key, &klen) < 0) {
            struct strbuf out = STRBUF_INIT;
            metrics_bad_request();
            socketmap_reply(&out, SOCKETMAP_PERM, "request is not \"map key\"", 24);
            server_reply(conn, out.data, out.len);
            strbuf_free(&out);
            continue;
        }
        kind = map_by_name(&ld.maps, name, nlen);
        if (kind < 0) {
            struct strbuf out = STRBUF_INIT, msg = STRBUF_INIT;
            strbuf_printf(&msg, "unknown map %.*s", (int)(nlen > 100 ? 100 : nlen), name);
            socketmap_reply(&out, SOCKETMAP_PERM, msg.data, msg.len);
            server_reply(conn, out.data, out.len);
            log_warning("socketmap client asked for unknown map \"%s\"", msg.data + 12);
            metrics_bad_request();
            strbuf_free(&out);
            strbuf_free(&msg);
            continue;
        }
        start_lookup(conn, false, (enum map_kind)kind, key, klen);
    }
}

static long tcptable_data(struct server_conn *conn, enum map_kind kind, const char *data,
                          size_t len)
{
    struct strbuf key = STRBUF_INIT;
    size_t pos = 0;

    for (;;) {
        const char *err;
        size_t used;
        enum codec_status st;

        if (pos == len || !server_conn_take(conn)) {
            strbuf_free(&key);
            return (long)pos;
        }
        st = tcptable_decode(data + pos, len - pos, ld.max_request, &key, &used, &err);
        if (st == CODEC_NEED_MORE) {
            strbuf_free(&key);
            return (long)pos;
        }
        if (st == CODEC_ERROR) {
            log_warning("tcp_table client: %s: disconnecting", err);
            metrics_bad_request();
            strbuf_free(&key);
            return -1;
        }
        pos += used;
        if (st == CODEC_BAD_REQUEST) {
            struct strbuf out = STRBUF_INIT;
            metrics_bad_request();
            tcptable_reply(&out, 500, err, strlen(err));
            server_reply(conn, out.data, out.len);
            strbuf_free(&out);
            continue;
        }
        start_lookup(conn, true, kind, key.data, key.len);
    }
}

static long lookupd_data(struct server_conn *conn, const char *data, size_t len)
{
    const char *tag = server_conn_tag(conn);

    if (tag[0] == '\0')
        return socketmap_data(conn, data, len);
    return tcptable_data(conn, (enum map_kind)map_by_name(&ld.maps, tag + 4, strlen(tag + 4)),
                         data, len);
}

static const char *validate_tag(const struct conf *conf, const char *tag)
{
    struct map_config mc;

    if (tag[0] == '\0')
        return NULL;
    if (strncmp(tag, "tcp:", 4) != 0)
        return "a tag must be tcp:MAP (a tcp_table endpoint serving one map)";
    map_config_load(&mc, conf);
    if (map_by_name(&mc, tag + 4, strlen(tag + 4)) < 0)
        return "no map of that name (see the map_* settings)";
    return NULL;
}

static int configure(const struct conf *conf, char **error_r)
{
    (void)error_r;
    map_config_load(&ld.maps, conf);
    ld.max_request = (size_t)conf_int(conf, "lookupd", "max_request");
    return 0;
}

static const struct server_protocol lookupd_proto = {lookupd_data, NULL, NULL};

static const struct daemon_ops lookupd_ops = {
    .program = "modo-lookupd",
    .section = "lookupd",
    .read_only = true,
    .summary = "Postfix lookup tables (socketmap and tcp_table) from modo's database",
    .proto = &lookupd_proto,
    .metrics = &lookupd_metrics,
    .validate_tag = validate_tag,
    .configure = configure,
};

int main(int argc, char **argv)
{
    return daemon_main(argc, argv, &lookupd_ops);
}
