/*
 * dkimrec - DKIM public-key records; see dkimrec.h.
 */
#include "dkimrec.h"

#include "b64.h"

#include <stdlib.h>
#include <string.h>

void dkim_record_value(struct strbuf *out, enum dkim_keytype type, const char *p)
{
    strbuf_printf(out, "v=DKIM1; k=%s; p=%s", type == DKIM_KEY_ED25519 ? "ed25519" : "rsa", p);
}

void dkim_record_display(struct strbuf *out, const char *selector, const char *domain,
                         const char *p)
{
    struct strbuf v = STRBUF_INIT;
    size_t i;

    strbuf_printf(out, "%s._domainkey.%s. IN TXT (\n", selector, domain);
    strbuf_printf(&v, "v=DKIM1;k=rsa;p=%s", p);
    for (i = 0; i < v.len; i += 74)
        strbuf_printf(out, "  \"%.*s\"\n", (int)(v.len - i < 74 ? v.len - i : 74), v.data + i);
    strbuf_puts(out, ")\n");
    strbuf_free(&v);
}

void dkim_record_zone(struct strbuf *out, const char *selector, const char *domain,
                      unsigned ttl, const char *value)
{
    size_t len = strlen(value), i;

    strbuf_printf(out, "%s._domainkey.%s. %u IN TXT (", selector, domain, ttl);
    for (i = 0; i < len; i += 250) /* no quote or backslash can occur in a record we make */
        strbuf_printf(out, " \"%.*s\"", (int)(len - i < 250 ? len - i : 250), value + i);
    strbuf_puts(out, " )\n");
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length a DER SEQUENCE at d says it has (header included), or 0. */
static size_t der_total(const unsigned char *d, size_t n)
{
    size_t i, len = 0, nbytes;

    if (n < 2 || d[0] != 0x30)
        return 0;
    if (d[1] < 0x80)
        return 2 + (size_t)d[1];
    nbytes = d[1] & 0x7f;
    if (nbytes == 0 || nbytes > 3 || n < 2 + nbytes)
        return 0;
    for (i = 0; i < nbytes; i++)
        len = (len << 8) | d[2 + i];
    return 2 + nbytes + len;
}

/* Does the colon-separated list (trimmed) contain word? */
static bool list_has(const char *v, size_t vlen, const char *word)
{
    size_t wl = strlen(word), i = 0;

    while (i < vlen) {
        size_t j = i, a, b;
        while (j < vlen && v[j] != ':')
            j++;
        for (a = i; a < j && is_ws(v[a]); a++)
            ;
        for (b = j; b > a && is_ws(v[b - 1]); b--)
            ;
        if (b - a == wl && memcmp(v + a, word, wl) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

int dkim_record_parse(const char *txt, size_t len, struct dkim_record *r, const char **error_r)
{
    static const char *const known[] = {"v", "k", "p", "t", "h", "s", "n", "g"};
    bool seen[sizeof(known) / sizeof(known[0])] = {false};
    size_t pos = 0, ntags = 0;
    const char *pv = NULL;
    size_t pvlen = 0;

    memset(r, 0, sizeof(*r));
    r->type = DKIM_KEY_RSA;
    r->email_service = true;
    while (pos < len) {
        size_t end = pos, ns, ne, vs, ve, k;
        const char *eq;
        while (end < len && txt[end] != ';')
            end++;
        for (ns = pos; ns < end && is_ws(txt[ns]); ns++)
            ;
        if (ns == end) { /* empty element: a trailing ';' */
            pos = end + 1;
            continue;
        }
        eq = memchr(txt + ns, '=', end - ns);
        if (eq == NULL) {
            *error_r = "a tag without '=' (RFC 6376 §3.2)";
            return -1;
        }
        for (ne = (size_t)(eq - txt); ne > ns && is_ws(txt[ne - 1]); ne--)
            ;
        for (vs = (size_t)(eq - txt) + 1; vs < end && is_ws(txt[vs]); vs++)
            ;
        for (ve = end; ve > vs && is_ws(txt[ve - 1]); ve--)
            ;
        ntags++;
        for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (ne - ns == strlen(known[k]) && memcmp(txt + ns, known[k], ne - ns) == 0)
                break;
        if (k < sizeof(known) / sizeof(known[0])) {
            const char *v = txt + vs;
            size_t vl = ve - vs;
            if (seen[k]) {
                *error_r = "a tag appears twice (RFC 6376 §3.2)";
                return -1;
            }
            seen[k] = true;
            switch (known[k][0]) {
            case 'v':
                if (ntags != 1) {
                    *error_r = "v= is not the first tag (RFC 6376 §3.6.1)";
                    return -1;
                }
                if (vl != 5 || memcmp(v, "DKIM1", 5) != 0) {
                    *error_r = "v= is not DKIM1 (RFC 6376 §3.6.1)";
                    return -1;
                }
                r->has_version = true;
                break;
            case 'k':
                if (vl == 3 && memcmp(v, "rsa", 3) == 0)
                    r->type = DKIM_KEY_RSA;
                else if (vl == 7 && memcmp(v, "ed25519", 7) == 0)
                    r->type = DKIM_KEY_ED25519;
                else {
                    *error_r = "k= is neither rsa nor ed25519 (RFC 6376 §3.6.1, RFC 8463)";
                    return -1;
                }
                break;
            case 'p':
                pv = v;
                pvlen = vl;
                break;
            case 't':
                r->testing = list_has(v, vl, "y");
                r->strict = list_has(v, vl, "s");
                break;
            case 'h':
                r->sha1_only = list_has(v, vl, "sha1") && !list_has(v, vl, "sha256");
                break;
            case 's':
                r->email_service = list_has(v, vl, "*") || list_has(v, vl, "email");
                break;
            default: /* n=, g= (historic): nothing to check */
                break;
            }
        }
        /* unknown tags are ignored (RFC 6376 §3.2) */
        pos = end + 1;
    }
    if (pv == NULL) {
        *error_r = "no p= tag (RFC 6376 §3.6.1)";
        return -1;
    }
    {
        char *key = malloc(pvlen + 1);
        unsigned char *der;
        size_t i, n = 0, dl;
        if (key == NULL) {
            *error_r = "out of memory";
            return -1;
        }
        for (i = 0; i < pvlen; i++)
            if (!is_ws(pv[i]))
                key[n++] = pv[i];
        key[n] = '\0';
        r->p = key;
        if (n == 0) {
            r->revoked = true;
            return 0;
        }
        der = malloc(n);
        if (der == NULL) {
            *error_r = "out of memory";
            dkim_record_free(r);
            return -1;
        }
        if (b64_decode(key, n, der, n, &dl) < 0) {
            free(der);
            *error_r = n % 4 != 0 ? "the key is truncated (its base64 length is not a multiple"
                                    " of 4)"
                                  : "the key is not base64";
            dkim_record_free(r);
            return -1;
        }
        r->key_bytes = dl;
        if (r->type == DKIM_KEY_ED25519) {
            if (dl != 32) {
                free(der);
                *error_r = "an ed25519 key is 32 bytes (RFC 8463 §4.2)";
                dkim_record_free(r);
                return -1;
            }
        } else {
            size_t want = der_total(der, dl);
            if (want == 0) {
                free(der);
                *error_r = "the key is not a DER SubjectPublicKeyInfo";
                dkim_record_free(r);
                return -1;
            }
            if (want != dl) {
                free(der);
                *error_r = want > dl ? "the key is truncated (shorter than its DER"
                                               " length says)"
                                             : "the key has bytes after its DER structure";
                dkim_record_free(r);
                return -1;
            }
        }
        free(der);
    }
    return 0;
}

void dkim_record_free(struct dkim_record *r)
{
    free(r->p);
    r->p = NULL;
}

bool dkim_record_has_key(const struct dkim_record *r, const char *p)
{
    const char *a = r->p;

    if (a == NULL)
        return false;
    for (;;) {
        while (is_ws(*p))
            p++;
        if (*a == '\0' || *p == '\0')
            return *a == '\0' && *p == '\0';
        if (*a++ != *p++)
            return false;
    }
}
