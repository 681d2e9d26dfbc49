/*
 * password - {SCHEME} password verification and hashing; see password.h.
 *
 * crypt(3) schemes use libxcrypt's crypt_rn()/crypt_gensalt_rn(), Argon2 uses
 * libargon2, digests use OpenSSL. Salts come from the kernel (getrandom).
 */
#include "password.h"

#include "b64.h"

#include <argon2.h>
#include <crypt.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

const struct password_params password_default_params = {
    .sha_crypt_rounds = 70000,
    .bcrypt_cost = 12,
    .argon2_t = 3,
    .argon2_m_kib = 65536,
    .argon2_p = 4,
};

enum scheme_kind { K_PLAIN, K_DIGEST, K_SALTED, K_CRYPT, K_ARGON2 };

struct scheme {
    const char *name;
    enum scheme_kind kind;
    const char *digest;      /* OpenSSL digest name for K_DIGEST / K_SALTED */
    const char *crypt_magic; /* required prefix for K_CRYPT ("" = any crypt string) */
    const char *modoboa;     /* Modoboa's setting name, if any */
};

static const struct scheme schemes[] = {
    {"PLAIN", K_PLAIN, NULL, NULL, "plain"},
    {"CLEAR", K_PLAIN, NULL, NULL, NULL},
    {"MD5", K_DIGEST, "MD5", NULL, "md5"},
    {"PLAIN-MD5", K_DIGEST, "MD5", NULL, NULL},
    {"SHA", K_DIGEST, "SHA1", NULL, NULL},
    {"SHA1", K_DIGEST, "SHA1", NULL, NULL},
    {"SHA256", K_DIGEST, "SHA256", NULL, "sha256"},
    {"SHA512", K_DIGEST, "SHA512", NULL, NULL},
    {"SSHA", K_SALTED, "SHA1", NULL, "ssha"},
    {"SSHA256", K_SALTED, "SHA256", NULL, NULL},
    {"SSHA512", K_SALTED, "SHA512", NULL, NULL},
    {"MD5-CRYPT", K_CRYPT, NULL, "$1$", "md5crypt"},
    {"SHA256-CRYPT", K_CRYPT, NULL, "$5$", "sha256crypt"},
    {"SHA512-CRYPT", K_CRYPT, NULL, "$6$", "sha512crypt"},
    {"BLF-CRYPT", K_CRYPT, NULL, "$2", "blfcrypt"},
    {"CRYPT", K_CRYPT, NULL, "", "crypt"},
    {"ARGON2I", K_ARGON2, NULL, "$argon2i$", NULL},
    {"ARGON2ID", K_ARGON2, NULL, "$argon2id$", "argon2id"},
};

#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const struct scheme *scheme_find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NSCHEMES; i++)
        if (strlen(schemes[i].name) == len && strncasecmp(schemes[i].name, name, len) == 0)
            return &schemes[i];
    return NULL;
}

const char *password_scheme_name(const char *spelling)
{
    size_t len = strlen(spelling), i;
    const struct scheme *s;

    if (len >= 2 && spelling[0] == '{' && spelling[len - 1] == '}') {
        spelling++;
        len -= 2;
    }
    s = scheme_find(spelling, len);
    if (s != NULL)
        return s->name;
    for (i = 0; i < NSCHEMES; i++)
        if (schemes[i].modoboa != NULL && strlen(schemes[i].modoboa) == len &&
            strncasecmp(schemes[i].modoboa, spelling, len) == 0)
            return schemes[i].name;
    return NULL;
}

/* ---- encodings ---- */

static int hex_decode(const char *in, size_t len, unsigned char *out, size_t outsz)
{
    size_t i;

    if (len != outsz * 2)
        return -1;
    for (i = 0; i < len; i++)
        if (!isxdigit((unsigned char)in[i]))
            return -1;
    for (i = 0; i < outsz; i++) {
        char byte[3] = {in[2 * i], in[2 * i + 1], 0};
        out[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    return 0;
}

static int digest(const char *md_name, const void *a, size_t alen, const void *b, size_t blen,
                  unsigned char *out, unsigned *outlen)
{
    const EVP_MD *md = EVP_get_digestbyname(md_name);
    EVP_MD_CTX *ctx;
    int ok;

    if (md == NULL)
        return -1;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return -1;
    ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, a, alen) &&
         (blen == 0 || EVP_DigestUpdate(ctx, b, blen)) && EVP_DigestFinal_ex(ctx, out, outlen);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

static bool timing_safe_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

/* ---- verification ---- */

static int verify_crypt(const char *hash, const char *plain, const char **error_r)
{
    struct crypt_data data;
    const char *res;

    memset(&data, 0, sizeof(data));
    res = crypt_rn(plain, hash, &data, sizeof(data));
    if (res == NULL || res[0] == '*') {
        *error_r = "malformed or unsupported crypt hash";
        return -1;
    }
    return timing_safe_equal(res, strlen(res), hash, strlen(hash)) ? 1 : 0;
}

static int verify_digest(const struct scheme *s, const char *enc, const char *plain,
                         const char **error_r)
{
    unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
    unsigned gotlen;
    size_t wantlen = 0, enclen = strlen(enc);

    if (digest(s->digest, plain, strlen(plain), NULL, 0, got, &gotlen) < 0) {
        *error_r = "digest unavailable";
        return -1;
    }
    /* Dovecot: hex when the length is that of the hex form, else base64 */
    if (enclen == 2 * gotlen && hex_decode(enc, enclen, want, gotlen) == 0)
        wantlen = gotlen;
    else if (b64_decode(enc, enclen, want, sizeof(want), &wantlen) < 0) {
        *error_r = "malformed digest (neither hex nor base64)";
        return -1;
    }
    if (wantlen != gotlen) {
        *error_r = "digest has the wrong length";
        return -1;
    }
    return timing_safe_equal(want, wantlen, got, gotlen) ? 1 : 0;
}

static int verify_salted(const struct scheme *s, const char *enc, const char *plain,
                         const char **error_r)
{
    unsigned char raw[512], got[EVP_MAX_MD_SIZE];
    unsigned gotlen;
    size_t rawlen, mdlen;
    const EVP_MD *md = EVP_get_digestbyname(s->digest);

    if (md == NULL) {
        *error_r = "digest unavailable";
        return -1;
    }
    mdlen = (size_t)EVP_MD_get_size(md);
    if (b64_decode(enc, strlen(enc), raw, sizeof(raw), &rawlen) < 0 || rawlen <= mdlen) {
        *error_r = "malformed salted digest";
        return -1;
    }
    if (digest(s->digest, plain, strlen(plain), raw + mdlen, rawlen - mdlen, got, &gotlen) < 0) {
        *error_r = "digest failed";
        return -1;
    }
    return timing_safe_equal(raw, mdlen, got, gotlen) ? 1 : 0;
}

int password_verify(const char *stored, const char *plain, const char **error_r)
{
    const char *close;
    const struct scheme *s;
    const char *hash;
    int rc;

    if (stored == NULL || stored[0] != '{' || (close = strchr(stored, '}')) == NULL) {
        *error_r = "password has no {SCHEME} prefix";
        return -1;
    }
    s = scheme_find(stored + 1, (size_t)(close - stored - 1));
    if (s == NULL) {
        *error_r = "unknown password scheme";
        return -1;
    }
    hash = close + 1;
    switch (s->kind) {
    case K_PLAIN:
        return timing_safe_equal(hash, strlen(hash), plain, strlen(plain)) ? 1 : 0;
    case K_DIGEST:
        if (strcmp(s->name, "MD5") == 0 && strncmp(hash, "$1$", 3) == 0)
            return verify_crypt(hash, plain, error_r);
        return verify_digest(s, hash, plain, error_r);
    case K_SALTED:
        return verify_salted(s, hash, plain, error_r);
    case K_CRYPT:
        if (strncmp(hash, s->crypt_magic, strlen(s->crypt_magic)) != 0) {
            *error_r = "crypt hash does not match its scheme";
            return -1;
        }
        return verify_crypt(hash, plain, error_r);
    case K_ARGON2:
        if (strncmp(hash, s->crypt_magic, strlen(s->crypt_magic)) != 0) {
            *error_r = "argon2 hash does not match its scheme";
            return -1;
        }
        rc = argon2_verify(hash, plain, strlen(plain),
                           strcmp(s->name, "ARGON2I") == 0 ? Argon2_i : Argon2_id);
        if (rc == ARGON2_OK)
            return 1;
        if (rc == ARGON2_VERIFY_MISMATCH)
            return 0;
        *error_r = argon2_error_message(rc);
        return -1;
    }
    *error_r = "unhandled scheme";
    return -1;
}

/* ---- hashing ---- */

static int random_bytes(unsigned char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int hash_crypt(const struct scheme *s, const char *plain,
                      const struct password_params *p, struct strbuf *out,
                      const char **error_r)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    const char *prefix;
    unsigned long count = 0;
    const char *res;

    if (strcmp(s->name, "MD5-CRYPT") == 0) {
        prefix = "$1$";
    } else if (strcmp(s->name, "SHA256-CRYPT") == 0) {
        prefix = "$5$";
        count = p->sha_crypt_rounds;
    } else if (strcmp(s->name, "SHA512-CRYPT") == 0) {
        prefix = "$6$";
        count = p->sha_crypt_rounds;
    } else if (strcmp(s->name, "BLF-CRYPT") == 0) {
        prefix = "$2b$";
        count = p->bcrypt_cost;
    } else {
        prefix = ""; /* traditional DES */
    }
    if (crypt_gensalt_rn(prefix, count, NULL, 0, setting, sizeof(setting)) == NULL) {
        *error_r = "crypt_gensalt failed (scheme or cost not supported)";
        return -1;
    }
    memset(&data, 0, sizeof(data));
    res = crypt_rn(plain, setting, &data, sizeof(data));
    if (res == NULL || res[0] == '*') {
        *error_r = "crypt failed";
        return -1;
    }
    strbuf_puts(out, res);
    return 0;
}

int password_hash(const char *scheme, const char *plain, const struct password_params *p,
                  struct strbuf *out, const char **error_r)
{
    const char *name = password_scheme_name(scheme);
    const struct scheme *s;
    unsigned char md[EVP_MAX_MD_SIZE], salted[EVP_MAX_MD_SIZE + 16], salt[16];
    unsigned mdlen;
    static const char hex[] = "0123456789abcdef";

    size_t start = out->len;
    int rc;

    if (p == NULL)
        p = &password_default_params;
    if (name == NULL || (s = scheme_find(name, strlen(name))) == NULL) {
        *error_r = "unknown password scheme";
        return -1;
    }
    strbuf_printf(out, "{%s}", s->name);
    switch (s->kind) {
    case K_PLAIN:
        strbuf_puts(out, plain);
        return 0;
    case K_DIGEST:
        if (digest(s->digest, plain, strlen(plain), NULL, 0, md, &mdlen) < 0)
            break;
        if (strcmp(s->name, "MD5") == 0 || strcmp(s->name, "PLAIN-MD5") == 0) {
            for (unsigned i = 0; i < mdlen; i++) {
                strbuf_putc(out, hex[md[i] >> 4]);
                strbuf_putc(out, hex[md[i] & 15]);
            }
        } else {
            b64_encode(out, md, mdlen);
        }
        return 0;
    case K_SALTED: {
        size_t saltlen = strcmp(s->name, "SSHA") == 0 ? 4 : 8;
        if (random_bytes(salt, saltlen) < 0 ||
            digest(s->digest, plain, strlen(plain), salt, saltlen, md, &mdlen) < 0)
            break;
        memcpy(salted, md, mdlen);
        memcpy(salted + mdlen, salt, saltlen);
        b64_encode(out, salted, mdlen + saltlen);
        return 0;
    }
    case K_CRYPT:
        rc = hash_crypt(s, plain, p, out, error_r);
        if (rc < 0)
            strbuf_truncate(out, start);
        return rc;
    case K_ARGON2: {
        char encoded[256];
        if (random_bytes(salt, 16) < 0)
            break;
        rc = argon2_hash(p->argon2_t, p->argon2_m_kib, p->argon2_p, plain, strlen(plain), salt,
                         16, NULL, 32, encoded, sizeof(encoded),
                         strcmp(s->name, "ARGON2I") == 0 ? Argon2_i : Argon2_id,
                         ARGON2_VERSION_13);
        if (rc != ARGON2_OK) {
            strbuf_truncate(out, start);
            *error_r = argon2_error_message(rc);
            return -1;
        }
        strbuf_puts(out, encoded);
        return 0;
    }
    }
    strbuf_truncate(out, start);
    *error_r = "hashing failed";
    return -1;
}
