/*
 * b64 - base64 through OpenSSL; see b64.h.
 */
#include "b64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz, size_t *n_r)
{
    unsigned char stack[512], *buf = stack;
    size_t need = len / 4 * 3;
    int n, rc = -1;

    if (len == 0 || len % 4 != 0 || len > 1 << 20)
        return -1;
    if (need > sizeof(stack) && (buf = malloc(need)) == NULL)
        return -1;
    n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
    if (n >= 0) {
        /* EVP_DecodeBlock counts the padding bytes as data */
        if (in[len - 1] == '=')
            n--;
        if (in[len - 2] == '=')
            n--;
        if ((size_t)n <= outsz) {
            memcpy(out, buf, (size_t)n);
            *n_r = (size_t)n;
            rc = 0;
        }
    }
    if (buf != stack)
        free(buf);
    return rc;
}

void b64_encode(struct strbuf *out, const unsigned char *in, size_t len)
{
    size_t need = (len + 2) / 3 * 4;

    strbuf_reserve(out, need + 1);
    EVP_EncodeBlock((unsigned char *)out->data + out->len, in, (int)len);
    out->len += need;
    out->data[out->len] = '\0';
}
