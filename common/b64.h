/*
 * b64 - base64 through OpenSSL (EVP_DecodeBlock / EVP_EncodeBlock), strict about length
 * and padding: password hashes and DKIM keys.
 */
#ifndef MODO_B64_H
#define MODO_B64_H

#include <stddef.h>

#include "strbuf.h"

/* Decode in (len a multiple of 4, no whitespace) into out; 0 with *n_r, or -1 if it is not
 * base64 or does not fit in outsz. */
int b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz, size_t *n_r);
void b64_encode(struct strbuf *out, const unsigned char *in, size_t len);

#endif
