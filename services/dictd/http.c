/*
 * http - modo-dictd's answers over HTTP, on the daemon frame's endpoint ([dictd]
 * stats_listen), for Dovecot 2.4's Lua passdb and userdb (conf-examples/dovecot-2.4), whose
 * scripts have an HTTP client and no socket or dict access. See dictd.h.
 */
#include "dictd.h"

#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "num.h"
#include "server.h"
#include "store.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

struct http_pending {
    struct evhttp_request *req;
    struct auth_key key;
    struct timespec start;
};

static void http_done(const struct store_answer *ans, void *arg)
{
    struct http_pending *h = arg;
    struct strbuf value = STRBUF_INIT;
    int rc = auth_answer(&dd.auth, &h->key, ans, &value);
    struct evbuffer *out = evhttp_request_get_output_buffer(h->req);

    evhttp_add_header(evhttp_request_get_output_headers(h->req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (rc > 0) {
        evbuffer_add(out, value.data, value.len);
        evhttp_send_reply(h->req, 200, "OK", NULL);
    } else if (rc == 0) {
        evhttp_send_reply(h->req, 404, "Not Found", NULL);
    } else {
        daemon_tempfail_note("%s %s: temporary failure: %s", dictd_kind_names[h->key.kind],
                             h->key.user, ans->error ? ans->error : "database error");
        evbuffer_add_printf(out, "%s", ans->error ? ans->error : "database error");
        evhttp_send_reply(h->req, 503, "Temporary Failure", NULL);
    }
    metrics_answer(h->key.kind, rc > 0 ? A_FOUND : rc == 0 ? A_NOTFOUND : A_FAIL,
                   num_seconds_since(&h->start));
    strbuf_free(&value);
    free(h);
}

static void http_users_done(const struct store_answer *ans, void *arg)
{
    struct evhttp_request *req = arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    size_t r;

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (ans->status < 0) {
        evbuffer_add_printf(out, "%s", ans->error ? ans->error : "database error");
        evhttp_send_reply(req, 503, "Temporary Failure", NULL);
        return;
    }
    for (r = 0; r < ans->nrows; r++) {
        const char *email = ans->cells[r * ans->ncols];
        if (email != NULL && email[0] != '\0')
            evbuffer_add_printf(out, "%s\n", email);
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

/*
 * GET /passdb/SERVICE/USER, /userdb/SERVICE/USER, /master/USER (the service is optional):
 * 200 with the answer as TAB-separated name=value fields (auth.h, AUTH_FIELDS), 404 for an
 * unknown or refused user, 503 when the database cannot answer. GET /users: every account
 * with a mailbox, one per line (userdb iteration).
 */
int dictd_http(struct evhttp_request *req, const char *path)
{
    struct strbuf key = STRBUF_INIT;
    struct http_pending *h;
    const char *err, *args[1];
    char *decoded = evhttp_uridecode(path, 0, NULL);
    int rc;

    if (decoded == NULL)
        return 0;
    if (strcmp(decoded, "/users") == 0) {
        free(decoded);
        store_ask(daemon_store(), STORE_Q_USER_LIST, NULL, http_users_done, req);
        return 1;
    }
    strbuf_printf(&key, "shared/fields%s", decoded);
    free(decoded);
    h = xcalloc(1, sizeof(*h));
    rc = auth_parse_key(key.data, &h->key, &err);
    strbuf_free(&key);
    if (rc == 0) {
        free(h);
        return 0;
    }
    if (rc < 0) {
        evhttp_send_reply(req, 404, "Not Found", NULL); /* no account has such a name */
        free(h);
        return 1;
    }
    h->req = req;
    metrics_request(h->key.kind);
    clock_gettime(CLOCK_MONOTONIC, &h->start);
    args[0] = h->key.user;
    cache_ask(daemon_cache(), auth_question(h->key.kind), args, http_done, h);
    return 1;
}
