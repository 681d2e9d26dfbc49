/*
 * password - verify and create the {SCHEME}hash strings Modoboa and
 * Dovecot store in core_user.password.
 *
 * Schemes: PLAIN (CLEAR), MD5 (hex or base64 digest, or $1$ as Dovecot
 * accepts), PLAIN-MD5, SHA (SHA1), SHA256, SHA512, SSHA, SSHA256, SSHA512,
 * MD5-CRYPT, SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT, CRYPT (DES and any crypt(3)
 * string), ARGON2I and ARGON2ID. Digests are compared in constant time.
 * An unknown or missing prefix is an error, never a plain-text comparison.
 *
 * password_verify() returns 1 on a match, 0 on a mismatch, -1 on an error
 * (unknown scheme, malformed hash) with *error_r set.
 */
#ifndef MODO_PASSWORD_H
#define MODO_PASSWORD_H

#include "strbuf.h"

struct password_params {
    unsigned sha_crypt_rounds; /* SHA256-CRYPT, SHA512-CRYPT (Modoboa: 70000) */
    unsigned bcrypt_cost;      /* BLF-CRYPT (Modoboa: 12) */
    unsigned argon2_t;         /* ARGON2ID time cost (argon2-cffi: 3) */
    unsigned argon2_m_kib;     /* memory cost in KiB (65536) */
    unsigned argon2_p;         /* parallelism (4) */
};

extern const struct password_params password_default_params;

int password_verify(const char *stored, const char *plain, const char **error_r);

/*
 * Hash a password with a scheme named as in modo.conf / Modoboa
 * ("SHA512-CRYPT", "sha512crypt", "{SHA512-CRYPT}" are all accepted).
 * Appends "{SCHEME}hash" to out. Returns 0, or -1 with *error_r.
 */
int password_hash(const char *scheme, const char *plain, const struct password_params *params,
                  struct strbuf *out, const char **error_r);

/* The canonical scheme name ("SHA512-CRYPT") for a spelling, or NULL. */
const char *password_scheme_name(const char *spelling);

#endif
