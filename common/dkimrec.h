/*
 * dkimrec - DKIM public-key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463): the value to
 * publish, the forms it is shown in, and a reader for served records.
 *
 * Pure functions, no I/O (modo-dkim generates keys and asks DNS; this is the text); base64
 * through b64.h (OpenSSL).
 *   value    "v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo, base64>" or k=ed25519 with the raw
 *            32-byte key (RFC 8463)
 *   display  Modoboa's form: "<sel>._domainkey.<domain>. IN TXT (" then the string
 *            "v=DKIM1;k=rsa;p=<key>" cut into 74-character chunks, one quoted chunk a line,
 *            then ")"
 *   zone     one zone-file line whose character-strings are at most 250 bytes each (a
 *            string holds 255; providers truncate one long string)
 *   parse    the tag list of a served record (the strings already concatenated): tags
 *            trimmed of whitespace, duplicates refused, v= optional but first and DKIM1 if
 *            there, k= rsa or ed25519, p= required (empty: revoked), t=/h=/s= lists; the key's
 *            base64 checked and its DER length compared with what was served, so a record
 *            cut short by a provider is named "truncated" rather than "bad key".
 */
#ifndef MODO_DKIMREC_H
#define MODO_DKIMREC_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

enum dkim_keytype { DKIM_KEY_RSA, DKIM_KEY_ED25519 };

void dkim_record_value(struct strbuf *out, enum dkim_keytype type, const char *p);
void dkim_record_display(struct strbuf *out, const char *selector, const char *domain,
                         const char *p);
void dkim_record_zone(struct strbuf *out, const char *selector, const char *domain,
                      unsigned ttl, const char *value);

struct dkim_record {
    bool has_version;       /* v=DKIM1 was there */
    enum dkim_keytype type; /* k=, default rsa */
    bool revoked;           /* p= empty */
    bool testing;           /* t=y */
    bool strict;            /* t=s */
    bool sha1_only;         /* h= lists sha1 and not sha256 */
    bool email_service;     /* s= allows email (or *) */
    char *p;                /* the key's base64 without whitespace (malloc'd) */
    size_t key_bytes;       /* decoded length */
};

/* 0, or -1 with *error_r (static text). Free with dkim_record_free(). */
int dkim_record_parse(const char *txt, size_t len, struct dkim_record *r, const char **error_r);
void dkim_record_free(struct dkim_record *r);

/* Does the served record carry this key (base64, whitespace ignored)? */
bool dkim_record_has_key(const struct dkim_record *r, const char *p);

#endif
