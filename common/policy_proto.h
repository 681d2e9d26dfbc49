/*
 * policy_proto - Postfix SMTPD policy delegation framing.
 *
 * A request is "name=value" lines ended by an empty line; values are split
 * at the first '='. policy_decode() copies one complete request into the
 * caller's struct (names and values NUL-terminated); unknown attributes are
 * kept and simply never asked for; a repeated attribute keeps its last value.
 * Limits: POLICY_MAX_VALUE bytes per value (Postfix's own), POLICY_MAX_ATTRS
 * attributes and the caller's total request size.
 */
#ifndef MODO_POLICY_PROTO_H
#define MODO_POLICY_PROTO_H

#include <stddef.h>

#include "codec.h"
#include "strbuf.h"

#define POLICY_MAX_VALUE 8192 /* 4 x line_length_limit */
#define POLICY_MAX_ATTRS 128
#define POLICY_MAX_REQUEST 65536

struct policy_attr {
    const char *name;
    const char *value;
    size_t name_len; /* compared before the names: repeated names are found in linear time */
};

struct policy_request {
    char *buf; /* owned copy of the request, NUL-separated */
    size_t nattrs;
    struct policy_attr attrs[POLICY_MAX_ATTRS];
};

void policy_request_init(struct policy_request *req);
void policy_request_free(struct policy_request *req);

/*
 * Decode one request from data (up to max_request bytes). CODEC_ERROR means
 * the peer broke the protocol: log *error_r and disconnect without replying
 * (SMTPD_POLICY_README: never answer a partial or malformed request).
 */
enum codec_status policy_decode(const char *data, size_t len, size_t max_request,
                                struct policy_request *req, size_t *consumed_r,
                                const char **error_r);

/* The value of an attribute, or NULL if the request did not carry it. */
const char *policy_get(const struct policy_request *req, const char *name);

/* Append "action=<action>\n\n"; NUL and LF in action are replaced by spaces. */
void policy_encode_action(struct strbuf *out, const char *action);

#endif
