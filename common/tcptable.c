/*
 * tcptable - Postfix tcp_table framing; see tcptable.h.
 */
#include "tcptable.h"

#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tcptable_unquote(struct strbuf *out, const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (text[i] == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval((unsigned char)text[i + 1]);
            lo = hexval((unsigned char)text[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            strbuf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            strbuf_putc(out, text[i]);
        }
    }
    return 0;
}

void tcptable_quote(struct strbuf *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '%' || c <= 0x20 || c >= 0x7f) {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_append(out, esc, 3);
        } else {
            strbuf_putc(out, (char)c);
        }
    }
}

enum codec_status tcptable_decode(const char *data, size_t len, size_t max_line,
                                  struct strbuf *key_out, size_t *consumed_r,
                                  const char **error_r)
{
    const char *nl = memchr(data, '\n', len < max_line + 1 ? len : max_line + 1);
    size_t line_len;

    if (nl == NULL) {
        if (len > max_line) {
            *error_r = "request line too long";
            return CODEC_ERROR;
        }
        return CODEC_NEED_MORE;
    }
    line_len = (size_t)(nl - data);
    *consumed_r = line_len + 1;
    if (line_len > 0 && data[line_len - 1] == '\r')
        line_len--;
    strbuf_reset(key_out);
    if (line_len < 4 || memcmp(data, "get ", 4) != 0) {
        *error_r = "unsupported request (only \"get\" is implemented)";
        return CODEC_BAD_REQUEST;
    }
    if (tcptable_unquote(key_out, data + 4, line_len - 4) < 0) {
        *error_r = "malformed %XX escape in key";
        return CODEC_BAD_REQUEST;
    }
    if (key_out->len == 0) {
        *error_r = "empty key";
        return CODEC_BAD_REQUEST;
    }
    return CODEC_OK;
}

int tcptable_reply(struct strbuf *out, int code, const char *text, size_t len)
{
    size_t start = out->len;

    if (code < 100 || code > 999)
        code = 400;
    if (code / 100 == 2 && len == 0) {
        code = 500;
        text = "not-found";
        len = strlen(text);
    }
    strbuf_printf(out, "%03d ", code);
    tcptable_quote(out, text, len);
    if (out->len - start + 1 > TCPTABLE_MAX_REPLY) {
        strbuf_truncate(out, start);
        if (code / 100 == 2) {
            code = 400;
            strbuf_puts(out, "400 reply%20too%20large");
        } else {
            /* error texts are informative only: cut them (3 x 1000 bytes fit) */
            strbuf_printf(out, "%03d ", code);
            tcptable_quote(out, text, len > 1000 ? 1000 : len);
        }
    }
    strbuf_putc(out, '\n');
    return code;
}
