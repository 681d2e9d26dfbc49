/*
 * addr - address parsing, case folding, IDN and recipient delimiters; see addr.h.
 */
#include "addr.h"

#include <idn2.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 'a' - 'A') : c;
}

bool addr_is_address(const char *in, size_t len)
{
    return memchr(in, '@', len) != NULL;
}

static int domain_label_ok(const char *label, size_t len)
{
    size_t i;

    if (len == 0 || len > 63)
        return 0;
    if (label[0] == '-' || label[len - 1] == '-')
        return 0;
    for (i = 0; i < len; i++) {
        char c = label[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int addr_fold_domain(const char *in, size_t len, char *out, const char **error_r)
{
    return addr_fold_domain_flags(in, len, out, 0, error_r);
}

int addr_domain_unicode(const char *domain, char *out, size_t size)
{
    char *u = NULL;

    if (strstr(domain, "xn--") == NULL)
        return 0;
    if (idn2_to_unicode_8z8z(domain, &u, 0) != IDN2_OK || u == NULL)
        return -1;
    if (strlen(u) >= size || strcmp(u, domain) == 0) {
        idn2_free(u);
        return -1;
    }
    strcpy(out, u);
    idn2_free(u);
    return 1;
}

/* A label of a UTF-8 domain kept as is: no control characters, dots handled by the caller. */
static int utf8_label_ok(const char *label, size_t len)
{
    return len > 0 && len <= 63 * 4 && label[0] != '-' && label[len - 1] != '-';
}

int addr_fold_domain_flags(const char *in, size_t len, char *out, int flags,
                           const char **error_r)
{
    char tmp[ADDR_MAX_DOMAIN * 4 + 2];
    bool ascii = true;
    size_t i, start;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0) {
        *error_r = "empty domain";
        return -1;
    }
    if (len >= sizeof(tmp)) {
        *error_r = "domain too long";
        return -1;
    }
    if (in[0] == '[') {
        *error_r = "domain literals are not hosted";
        return -1;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x21 || c == 0x7f) {
            *error_r = "control character or space in domain";
            return -1;
        }
        if (c >= 0x80)
            ascii = false;
        tmp[i] = ascii_lower((char)c);
    }
    tmp[len] = '\0';
    if (!ascii && (flags & ADDR_KEEP_UNICODE)) {
        if (len > ADDR_MAX_DOMAIN) {
            *error_r = "domain too long";
            return -1;
        }
        for (start = 0, i = 0; i <= len; i++) {
            if (i == len || tmp[i] == '.') {
                if (!utf8_label_ok(tmp + start, i - start)) {
                    *error_r = "invalid domain name";
                    return -1;
                }
                start = i + 1;
            }
        }
        memcpy(out, tmp, len + 1);
        return 0;
    }
    if (!ascii) {
        char *alabel = NULL;
        int rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&alabel,
                                IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            *error_r = "invalid internationalized domain name";
            return -1;
        }
        if (strlen(alabel) >= sizeof(tmp)) {
            idn2_free(alabel);
            *error_r = "domain too long";
            return -1;
        }
        strcpy(tmp, alabel);
        idn2_free(alabel);
        len = strlen(tmp);
        for (i = 0; i < len; i++)
            tmp[i] = ascii_lower(tmp[i]);
    }
    if (len > ADDR_MAX_DOMAIN) {
        *error_r = "domain too long";
        return -1;
    }
    for (start = 0, i = 0; i <= len; i++) {
        if (i == len || tmp[i] == '.') {
            if (!domain_label_ok(tmp + start, i - start)) {
                *error_r = "invalid domain name";
                return -1;
            }
            start = i + 1;
        }
    }
    memcpy(out, tmp, len + 1);
    return 0;
}

int addr_parse(const char *in, size_t len, struct addr *out, const char **error_r)
{
    return addr_parse_flags(in, len, out, 0, error_r);
}

int addr_parse_flags(const char *in, size_t len, struct addr *out, int flags,
                     const char **error_r)
{
    const char *at;
    size_t llen, i;

    if (len == 0) {
        *error_r = "empty address";
        return -1;
    }
    if (len > ADDR_MAX) {
        *error_r = "address too long";
        return -1;
    }
    at = memchr(in, '@', len);
    if (at == NULL) {
        *error_r = "no @ in address";
        return -1;
    }
    if (memchr(at + 1, '@', len - (size_t)(at - in) - 1) != NULL) {
        *error_r = "several @ in address";
        return -1;
    }
    llen = (size_t)(at - in);
    if ((flags & ADDR_ALLOW_EMPTY_LOCAL) && (llen == 0 || (llen == 2 && memcmp(in, "\"\"", 2) == 0))) {
        /* "@domain" or '""@domain': Postfix's null local part (mail to @domain) */
        out->local[0] = '\0';
        if (addr_fold_domain_flags(at + 1, len - llen - 1, out->domain, flags, error_r) < 0)
            return -1;
        snprintf(out->full, sizeof(out->full), "\"\"@%s", out->domain);
        return 0;
    }
    if (llen == 0) {
        *error_r = "empty local part";
        return -1;
    }
    if (llen > ADDR_MAX_LOCAL) {
        *error_r = "local part too long";
        return -1;
    }
    if (in[0] == '"' || in[0] == '@' || in[0] == '<') {
        *error_r = "quoted or routed address";
        return -1;
    }
    for (i = 0; i < llen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x21 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ':') {
            *error_r = "invalid character in local part";
            return -1;
        }
        out->local[i] = ascii_lower((char)c);
    }
    out->local[llen] = '\0';
    if (addr_fold_domain_flags(at + 1, len - llen - 1, out->domain, flags, error_r) < 0)
        return -1;
    memcpy(out->full, out->local, llen);
    out->full[llen] = '@';
    strcpy(out->full + llen + 1, out->domain);
    return 0;
}

size_t addr_split_extension(const char *local, const struct addr_delimiters *delims,
                            const char **ext_r)
{
    size_t len = strlen(local), n;

    *ext_r = local + len;
    if (delims->set[0] == '\0')
        return len;
    if (strcasecmp(local, "postmaster") == 0 || strcasecmp(local, "mailer-daemon") == 0 ||
        strcasecmp(local, "double-bounce") == 0)
        return len;
    if (delims->owner_request_special && strchr(delims->set, '-') != NULL) {
        if (strncasecmp(local, "owner-", 6) == 0 ||
            (len > 8 && strcasecmp(local + len - 8, "-request") == 0))
            return len;
    }
    n = strcspn(local, delims->set);
    if (n == 0 || n == len)
        return len;
    *ext_r = local + n;
    return n;
}
