/*
 * netstring - socketmap framing; see netstring.h.
 *
 * Diagnostics: none; errors are returned as static strings.
 */
#include "netstring.h"

#include <string.h>

/* Six digits cover every payload we accept; more is an attack or garbage. */
#define NETSTRING_MAX_DIGITS 7

enum codec_status netstring_decode(const char *data, size_t len, size_t max_payload,
                                   const char **payload_r, size_t *payload_len_r,
                                   size_t *consumed_r, const char **error_r)
{
    size_t i = 0, n = 0;

    while (i < len && data[i] >= '0' && data[i] <= '9') {
        if (i >= NETSTRING_MAX_DIGITS) {
            *error_r = "netstring length has too many digits";
            return CODEC_ERROR;
        }
        n = n * 10 + (size_t)(data[i] - '0');
        i++;
    }
    if (i == len) {
        if (i > NETSTRING_MAX_DIGITS) {
            *error_r = "netstring length has too many digits";
            return CODEC_ERROR;
        }
        return CODEC_NEED_MORE;
    }
    if (i == 0 || data[i] != ':') {
        *error_r = "netstring length is not a decimal number followed by ':'";
        return CODEC_ERROR;
    }
    if (n > max_payload) {
        *error_r = "netstring too long";
        return CODEC_ERROR;
    }
    i++; /* ':' */
    if (len - i < n + 1)
        return CODEC_NEED_MORE;
    if (data[i + n] != ',') {
        *error_r = "netstring not terminated by ','";
        return CODEC_ERROR;
    }
    *payload_r = data + i;
    *payload_len_r = n;
    *consumed_r = i + n + 1;
    return CODEC_OK;
}

void netstring_encode(struct strbuf *out, const char *payload, size_t len)
{
    strbuf_printf(out, "%zu:", len);
    strbuf_append(out, payload, len);
    strbuf_putc(out, ',');
}

int socketmap_request_split(const char *payload, size_t len, const char **name_r,
                            size_t *name_len_r, const char **key_r, size_t *key_len_r)
{
    const char *sp = memchr(payload, ' ', len);

    if (sp == NULL || sp == payload)
        return -1;
    *name_r = payload;
    *name_len_r = (size_t)(sp - payload);
    *key_r = sp + 1;
    *key_len_r = len - (size_t)(sp - payload) - 1;
    return 0;
}

static const char *const socketmap_words[] = {
    [SOCKETMAP_OK] = "OK",     [SOCKETMAP_NOTFOUND] = "NOTFOUND", [SOCKETMAP_TEMP] = "TEMP",
    [SOCKETMAP_TIMEOUT] = "TIMEOUT", [SOCKETMAP_PERM] = "PERM",
};

enum socketmap_status socketmap_reply(struct strbuf *out, enum socketmap_status status,
                                      const char *data, size_t len)
{
    const char *word;
    size_t wlen;

    if (status == SOCKETMAP_OK && len == 0)
        status = SOCKETMAP_NOTFOUND;
    if (status == SOCKETMAP_NOTFOUND)
        len = 0;
    word = socketmap_words[status];
    wlen = strlen(word);
    if (wlen + 1 + len > SOCKETMAP_MAX_REPLY) {
        if (status == SOCKETMAP_OK) {
            status = SOCKETMAP_TEMP;
            data = "reply too large";
            len = strlen(data);
            word = socketmap_words[status];
            wlen = strlen(word);
        } else {
            len = SOCKETMAP_MAX_REPLY - wlen - 1;
        }
    }
    {
        /* the hot path of every lookup: no printf */
        char digits[24];
        size_t n = wlen + 1 + len, d = sizeof(digits);
        do {
            digits[--d] = (char)('0' + n % 10);
            n /= 10;
        } while (n > 0);
        strbuf_reserve(out, sizeof(digits) - d + 1 + wlen + 1 + len + 1);
        strbuf_append(out, digits + d, sizeof(digits) - d);
        strbuf_putc(out, ':');
        strbuf_append(out, word, wlen);
        strbuf_putc(out, ' ');
        strbuf_append(out, data, len);
        strbuf_putc(out, ',');
    }
    return status;
}
