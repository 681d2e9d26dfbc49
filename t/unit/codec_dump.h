/*
 * codec_dump - decode a byte stream with one codec and print every event in
 * a stable text form. Shared by the golden-transcript test and the tools
 * that regenerate the .ref files, so both always agree.
 *
 * The stream is fed in chunks of `chunk` bytes (0 = all at once), exactly as
 * a server would receive it, so splitting never changes the output.
 */
#ifndef MODO_CODEC_DUMP_H
#define MODO_CODEC_DUMP_H

#include "dict_proto.h"
#include "netstring.h"
#include "policy_proto.h"
#include "strbuf.h"
#include "tcptable.h"

#include <string.h>

static void dump_escaped(struct strbuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            strbuf_puts(out, "\\x");
            strbuf_putc(out, hex[c >> 4]);
            strbuf_putc(out, hex[c & 15]);
        } else {
            strbuf_putc(out, (char)c);
        }
    }
}

/* Decode whatever complete requests are in buf; return bytes consumed, -1 after a framing error. */
static long dump_step(const char *codec, const char *buf, size_t len, struct strbuf *out)
{
    size_t pos = 0;

    for (;;) {
        const char *err = "";
        size_t used = 0;
        enum codec_status st;

        if (strcmp(codec, "netstring") == 0) {
            const char *payload;
            size_t plen;
            st = netstring_decode(buf + pos, len - pos, SOCKETMAP_MAX_QUERY, &payload, &plen,
                                  &used, &err);
            if (st == CODEC_OK) {
                const char *name, *key;
                size_t nlen, klen;
                strbuf_puts(out, "REQ ");
                if (socketmap_request_split(payload, plen, &name, &nlen, &key, &klen) == 0) {
                    strbuf_puts(out, "map=");
                    dump_escaped(out, name, nlen);
                    strbuf_puts(out, " key=");
                    dump_escaped(out, key, klen);
                } else {
                    strbuf_puts(out, "unsplittable=");
                    dump_escaped(out, payload, plen);
                }
                strbuf_putc(out, '\n');
            }
        } else if (strcmp(codec, "tcptable") == 0) {
            struct strbuf key = STRBUF_INIT;
            st = tcptable_decode(buf + pos, len - pos, TCPTABLE_MAX_QUERY, &key, &used, &err);
            if (st == CODEC_OK) {
                strbuf_puts(out, "GET ");
                dump_escaped(out, key.data, key.len);
                strbuf_putc(out, '\n');
            }
            strbuf_free(&key);
        } else if (strcmp(codec, "policy") == 0) {
            struct policy_request req;
            policy_request_init(&req);
            st = policy_decode(buf + pos, len - pos, POLICY_MAX_REQUEST, &req, &used, &err);
            if (st == CODEC_OK) {
                size_t i;
                strbuf_printf(out, "REQUEST %zu\n", req.nattrs);
                for (i = 0; i < req.nattrs; i++) {
                    strbuf_puts(out, "  ");
                    dump_escaped(out, req.attrs[i].name, strlen(req.attrs[i].name));
                    strbuf_puts(out, " = ");
                    dump_escaped(out, req.attrs[i].value, strlen(req.attrs[i].value));
                    strbuf_putc(out, '\n');
                }
            }
            policy_request_free(&req);
        } else {
            struct dict_cmd cmd;
            dict_cmd_init(&cmd);
            st = dict_decode(buf + pos, len - pos, DICT_MAX_LINE, &cmd, &used, &err);
            if (st == CODEC_OK) {
                size_t i;
                strbuf_printf(out, "CMD %c", cmd.type);
                for (i = 0; i < cmd.nfields; i++) {
                    strbuf_puts(out, " [");
                    dump_escaped(out, cmd.fields[i], strlen(cmd.fields[i]));
                    strbuf_puts(out, "]");
                }
                strbuf_putc(out, '\n');
            }
            dict_cmd_free(&cmd);
        }
        if (st == CODEC_NEED_MORE)
            return (long)pos;
        if (st == CODEC_ERROR) {
            strbuf_printf(out, "ERROR %s\n", err);
            return -1;
        }
        if (st == CODEC_BAD_REQUEST)
            strbuf_printf(out, "BAD %s\n", err);
        pos += used;
    }
}

/* Feed the whole input in chunks; append the events and a final "END <n> unread" line. */
static void codec_dump(const char *codec, const char *in, size_t len, size_t chunk,
                       struct strbuf *out)
{
    struct strbuf pending = STRBUF_INIT;
    size_t fed = 0;

    if (chunk == 0)
        chunk = len ? len : 1;
    while (fed < len) {
        size_t n = len - fed < chunk ? len - fed : chunk;
        long used;
        strbuf_append(&pending, in + fed, n);
        fed += n;
        used = dump_step(codec, pending.data, pending.len, out);
        if (used < 0) {
            strbuf_free(&pending);
            return;
        }
        memmove(pending.data, pending.data + used, pending.len - (size_t)used);
        strbuf_truncate(&pending, pending.len - (size_t)used);
    }
    strbuf_printf(out, "END %zu unread\n", pending.len);
    strbuf_free(&pending);
}

#endif
