/*
 * A socketmap server built only from common/ (server, netstring, conf, log):
 * the test double for server.c, and the "bare C netstring echo server" that
 * benchmarks compare against. Maps:
 *   echo KEY     -> OK KEY
 *   missing KEY  -> NOTFOUND
 *   slow KEY     -> OK KEY, 50 ms later (replies must still come in order)
 *   other        -> PERM unknown map
 * Usage: echo_server CONFIG   (uses the [lookupd] section)
 */
#include "conf.h"
#include "log.h"
#include "netstring.h"
#include "server.h"
#include "strbuf.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct delayed {
    struct server_reply *reply;
    struct strbuf out;
    struct event *ev;
};

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
    struct delayed *d = arg;

    (void)fd;
    (void)what;
    server_reply_finish(d->reply, d->out.data, d->out.len);
    strbuf_free(&d->out);
    event_free(d->ev);
    free(d);
}

static long echo_data(struct server_conn *conn, const char *data, size_t len)
{
    size_t pos = 0;

    for (;;) {
        const char *payload, *name, *key, *err;
        size_t plen, nlen, klen, used;
        struct strbuf out = STRBUF_INIT;
        enum codec_status st = netstring_decode(data + pos, len - pos, SOCKETMAP_MAX_QUERY,
                                                &payload, &plen, &used, &err);
        if (st == CODEC_NEED_MORE)
            return (long)pos;
        if (st != CODEC_OK) {
            log_warning("closing: %s", err);
            return -1;
        }
        pos += used;
        if (socketmap_request_split(payload, plen, &name, &nlen, &key, &klen) < 0) {
            socketmap_reply(&out, SOCKETMAP_PERM, "malformed request", 17);
        } else if (nlen == 4 && memcmp(name, "echo", 4) == 0) {
            socketmap_reply(&out, SOCKETMAP_OK, key, klen);
        } else if (nlen == 7 && memcmp(name, "missing", 7) == 0) {
            socketmap_reply(&out, SOCKETMAP_NOTFOUND, NULL, 0);
        } else if (nlen == 4 && memcmp(name, "slow", 4) == 0) {
            struct delayed *d = xcalloc(1, sizeof(*d));
            struct timeval tv = {0, 50000};
            d->reply = server_reply_begin(conn);
            socketmap_reply(&d->out, SOCKETMAP_OK, key, klen);
            d->ev = evtimer_new(server_base(server_conn_server(conn)), delayed_fire, d);
            evtimer_add(d->ev, &tv);
            continue;
        } else {
            socketmap_reply(&out, SOCKETMAP_PERM, "unknown map", 11);
        }
        server_reply(conn, out.data, out.len);
        strbuf_free(&out);
    }
}

static void *echo_init(struct server *srv, struct event_base *base)
{
    (void)base;
    return srv;
}

static const struct server_protocol echo_proto = {echo_data, NULL, NULL};

int main(int argc, char **argv)
{
    char *err = NULL;
    struct conf *conf;
    struct server *srv;
    int rc;

    log_open("echo_server", LOG_TARGET_STDERR);
    if (argc != 2)
        log_fatal("usage: echo_server CONFIG");
    conf = conf_load(argv[1], &err);
    if (conf == NULL)
        log_fatal("%s", err);
    srv = server_new(conf, "lookupd", &echo_proto);
    rc = server_run(srv, echo_init);
    conf_free(&conf);
    server_free(&srv);
    return rc;
}
