/*
 * policy_proto - Postfix policy delegation framing; see policy_proto.h.
 */
#include "policy_proto.h"

#include <stdlib.h>
#include <string.h>

void policy_request_init(struct policy_request *req)
{
    req->buf = NULL;
    req->nattrs = 0;
}

void policy_request_free(struct policy_request *req)
{
    free(req->buf);
    policy_request_init(req);
}

/*
 * Find the end of the request: the first empty line, "\n" or "\r\n" (a client that ends its
 * lines with CRLF, as tcp_table clients may). Returns the end of the empty line (its '\n');
 * *body_r is where the empty line starts.
 */
static const char *request_end(const char *data, size_t len, size_t *body_r)
{
    size_t line = 0; /* start of the current line */
    const char *nl;

    while (line < len && (nl = memchr(data + line, '\n', len - line)) != NULL) {
        size_t end = (size_t)(nl - data);
        if (end == line || (end == line + 1 && data[line] == '\r')) {
            *body_r = line;
            return nl;
        }
        line = end + 1;
    }
    return NULL;
}

enum codec_status policy_decode(const char *data, size_t len, size_t max_request,
                                struct policy_request *req, size_t *consumed_r,
                                const char **error_r)
{
    size_t scan = len < max_request ? len : max_request;
    size_t body = 0, pos;
    const char *end = request_end(data, scan, &body);

    policy_request_free(req);
    if (end == NULL) {
        if (len >= max_request) {
            *error_r = "policy request too large";
            return CODEC_ERROR;
        }
        return CODEC_NEED_MORE;
    }
    *consumed_r = (size_t)(end - data) + 1; /* body: the bytes before the empty line */
    if (memchr(data, '\0', body) != NULL) {
        *error_r = "NUL byte in policy request";
        return CODEC_ERROR;
    }
    req->buf = malloc(body + 1);
    if (req->buf == NULL) {
        *error_r = "out of memory";
        return CODEC_ERROR;
    }
    memcpy(req->buf, data, body);
    req->buf[body] = '\0';
    for (pos = 0; pos < body;) {
        char *line = req->buf + pos;
        char *nl = memchr(line, '\n', body - pos);
        char *eq;
        size_t i;

        if (nl == NULL) {
            *error_r = "policy request line not terminated";
            goto fail;
        }
        *nl = '\0';
        pos = (size_t)(nl - req->buf) + 1;
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        eq = strchr(line, '=');
        if (eq == NULL || eq == line) {
            *error_r = "policy attribute without name=value";
            goto fail;
        }
        *eq = '\0';
        if (strlen(eq + 1) > POLICY_MAX_VALUE) {
            *error_r = "policy attribute value too long";
            goto fail;
        }
        for (i = 0; i < req->nattrs; i++)
            if (req->attrs[i].name_len == (size_t)(eq - line) && req->attrs[i].name[0] == line[0] &&
                memcmp(req->attrs[i].name, line, (size_t)(eq - line)) == 0)
                break;
        if (i == req->nattrs) {
            if (req->nattrs == POLICY_MAX_ATTRS) {
                *error_r = "too many policy attributes";
                goto fail;
            }
            req->nattrs++;
        }
        req->attrs[i].name = line;
        req->attrs[i].name_len = (size_t)(eq - line);
        req->attrs[i].value = eq + 1;
    }
    return CODEC_OK;
fail:
    policy_request_free(req);
    return CODEC_ERROR;
}

const char *policy_get(const struct policy_request *req, const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; i < req->nattrs; i++)
        if (req->attrs[i].name_len == len && memcmp(req->attrs[i].name, name, len) == 0)
            return req->attrs[i].value;
    return NULL;
}

void policy_encode_action(struct strbuf *out, const char *action)
{
    size_t start;

    strbuf_puts(out, "action=");
    start = out->len;
    strbuf_puts(out, action);
    for (size_t i = start; i < out->len; i++)
        if (out->data[i] == '\n' || out->data[i] == '\r')
            out->data[i] = ' ';
    strbuf_puts(out, "\n\n");
}
