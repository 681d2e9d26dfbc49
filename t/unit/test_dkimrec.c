/*
 * dkimrec: the record modo-dkim publishes (value, Modoboa's display form, a zone line with
 * strings of at most 250 bytes) and the reader of served records, with the cases Modoboa's
 * checker gets wrong (a record without v=DKIM1 is valid; a key cut short by a provider is
 * "truncated"; a revoked p= is not a missing record).
 */
#include "tap.h"

#include "dkimrec.h"

#include <stdlib.h>
#include <string.h>

/* an RSA-1024 SubjectPublicKeyInfo (216 base64 characters) and an Ed25519 key */
static const char rsa1024[] =
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDC4nhvI6HCd6+eeZS35goz4mBmdP7xFPnFl29cYJIdjcvR/K+Eb1B"
    "KDGC3YgmuPqlWjc0tqAlCczNuMQBsUOCLQx2I0gsY8/ctV+aEDIev3Qxux5jjGI3ugRRxz+M/8kbHrmLjZ1vRB0zSh"
    "GNQGooy4LgbzhuoXoWZvrlhtZ0S1QIDAQAB";
static const char ed[] = "AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/ghs=";

static int parse(const char *txt, struct dkim_record *r, const char **err)
{
    *err = "";
    return dkim_record_parse(txt, strlen(txt), r, err);
}

static void refused(const char *txt, const char *why, const char *name)
{
    struct dkim_record r;
    const char *err;

    is_int(parse(txt, &r, &err), -1, "%s: refused", name);
    ok(strstr(err, why) != NULL, "%s: \"%s\" (%s)", name, err, why);
}

int main(void)
{
    struct strbuf sb = STRBUF_INIT, big = STRBUF_INIT;
    struct dkim_record r;
    const char *err = "", *p;
    int rc;
    char *cut;
    size_t i, maxlen = 0;

    is_int((long long)strlen(rsa1024), 216, "RSA-1024 SPKI is 216 base64 characters");

    dkim_record_value(&sb, DKIM_KEY_RSA, rsa1024);
    ok(strncmp(sb.data, "v=DKIM1; k=rsa; p=MIGf", 22) == 0, "value: v, k, p");
    rc = parse(sb.data, &r, &err);
    is_int(rc, 0, "our own value parses (%s)", err);
    ok(r.has_version && r.type == DKIM_KEY_RSA && !r.revoked && r.key_bytes == 162,
       "rsa, 162 DER bytes");
    ok(dkim_record_has_key(&r, rsa1024), "carries the key");
    dkim_record_free(&r);

    strbuf_reset(&sb);
    dkim_record_value(&sb, DKIM_KEY_ED25519, ed);
    is_str(sb.data, "v=DKIM1; k=ed25519; p=AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/ghs=",
           "ed25519 value (RFC 8463: the raw key)");
    is_int(parse(sb.data, &r, &err), 0, "ed25519 parses");
    ok(r.type == DKIM_KEY_ED25519 && r.key_bytes == 32, "ed25519, 32 bytes");
    dkim_record_free(&r);

    /* Modoboa's display form */
    strbuf_reset(&sb);
    dkim_record_display(&sb, "modoboa", "example.com", rsa1024);
    ok(strncmp(sb.data, "modoboa._domainkey.example.com. IN TXT (\n  \"v=DKIM1;k=rsa;p=MIGf", 60) ==
           0,
       "display: the name line, then the first chunk");
    for (p = sb.data; (p = strstr(p, "  \"")) != NULL; p += 3) {
        size_t n = strcspn(p + 3, "\"");
        if (n > maxlen)
            maxlen = n;
    }
    is_int((long long)maxlen, 74, "display: 74-character chunks");
    ok(sb.len > 2 && strcmp(sb.data + sb.len - 2, ")\n") == 0, "display: ends with )");

    /* zone line: no string longer than 250 for a 4096-bit sized key */
    for (i = 0; i < 736 / 4; i++)
        strbuf_puts(&big, "AAAA");
    strbuf_reset(&sb);
    {
        struct strbuf v = STRBUF_INIT;
        dkim_record_value(&v, DKIM_KEY_RSA, big.data);
        dkim_record_zone(&sb, "s2", "example.com", 3600, v.data);
        strbuf_free(&v);
    }
    ok(strncmp(sb.data, "s2._domainkey.example.com. 3600 IN TXT ( \"v=DKIM1; k=rsa; p=", 60) == 0,
       "zone: name, ttl, class, type");
    maxlen = 0;
    for (p = strchr(sb.data, '"'); p != NULL; p = strchr(p + 1, '"')) {
        const char *q = strchr(p + 1, '"');
        if ((size_t)(q - p - 1) > maxlen)
            maxlen = (size_t)(q - p - 1);
        p = q;
    }
    ok(maxlen <= 250 && maxlen > 200, "zone: strings of at most 250 bytes (longest %zu)", maxlen);

    /* reading served records */
    is_int(parse("k=rsa; p=AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/ghs=", &r, &err), -1,
           "a 32-byte key as rsa is not SPKI");
    is_int(parse("k=ed25519; p=AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/ghs=", &r, &err), 0,
           "no v=DKIM1: valid (Modoboa reports it missing)");
    ok(!r.has_version, "and v= is noted absent");
    dkim_record_free(&r);
    is_int(parse("v=DKIM1; k=rsa; p=", &r, &err), 0, "p= empty parses");
    ok(r.revoked, "p= empty is a revoked key, not a missing record");
    dkim_record_free(&r);
    rc = parse(" v = DKIM1 ;k=ed25519;t=y:s; h=sha256; s=email; n=a note; x=unknown; p = AP0T "
               "Z9WrpIHI8TrJ2lCf9+8GEv OUKYR2fQaTSXe/ghs= ;",
               &r, &err);
    is_int(rc, 0, "whitespace around tags and inside p=, unknown tag ignored, trailing ; (%s)", err);
    ok(r.testing && r.strict && !r.sha1_only && r.email_service, "t=y:s, h=sha256, s=email");
    ok(dkim_record_has_key(&r, ed), "the key with its whitespace removed");
    ok(!dkim_record_has_key(&r, rsa1024), "another key is not it");
    dkim_record_free(&r);
    is_int(parse("v=DKIM1; h=sha1; s=other; k=ed25519; p=AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/ghs=",
                 &r, &err),
           0, "h=sha1, s=other");
    ok(r.sha1_only && !r.email_service, "sha1 only (RFC 8301), not for email");
    dkim_record_free(&r);

    refused("k=rsa; v=DKIM1; p=", "not the first", "v= after k=");
    refused("v=DKIM2; p=", "not DKIM1", "v=DKIM2");
    refused("v=DKIM1; k=dsa; p=", "neither rsa nor ed25519", "k=dsa");
    refused("v=DKIM1; k=rsa", "no p=", "no p=");
    refused("v=DKIM1; p=; p=", "twice", "p= twice");
    refused("v=DKIM1; k=rsa; pMIGf", "without '='", "a tag without =");
    refused("v=DKIM1; k=ed25519; p=AP0TZ9WrpIHI8TrJ2lCf9+8GEvOUKYR2fQaTSXe/", "32 bytes",
            "a short ed25519 key");
    refused("v=DKIM1; k=rsa; p=MIGf!A==", "not base64", "a character outside base64");
    cut = malloc(sizeof(rsa1024));
    memcpy(cut, rsa1024, 200);
    cut[200] = '\0';
    strbuf_reset(&sb);
    strbuf_printf(&sb, "v=DKIM1; k=rsa; p=%s", cut);
    refused(sb.data, "truncated", "a key cut at 200 characters (a provider's limit)");
    memcpy(cut, rsa1024, 214);
    cut[214] = '\0';
    strbuf_reset(&sb);
    strbuf_printf(&sb, "v=DKIM1; k=rsa; p=%s", cut);
    refused(sb.data, "truncated", "a key cut at 214 characters");
    free(cut);
    strbuf_free(&sb);
    strbuf_free(&big);
    return done_testing();
}
