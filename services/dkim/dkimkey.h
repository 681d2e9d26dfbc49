/*
 * dkimkey - DKIM private keys: generated in-process with OpenSSL (RSA 1024/2048/4096,
 * Ed25519), written as PKCS#8 PEM atomically (temp file, fsync, rename, mode 0600, the
 * signer's owner), read back, audited as OpenDKIM's RequireSafeKeys judges them, and
 * checked with libopendkim: a sample message signed with the private key must verify
 * against the record that will be published.
 */
#ifndef MODO_DKIMKEY_H
#define MODO_DKIMKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dkimrec.h"
#include "strbuf.h"

/* A key made: the PEM to write and the p= to publish (both malloc'd). */
struct dkimkey {
    enum dkim_keytype type;
    char *pem;
    size_t pem_len;
    char *p;
};

/* 0, or -1 with the reason in err. bits: RSA only (1024..4096). */
int dkimkey_generate(enum dkim_keytype type, int bits, struct dkimkey *k, struct strbuf *err);
/* Read a PEM private key file (PKCS#8 or PKCS#1); its type and p= are filled. */
int dkimkey_load(const char *path, struct dkimkey *k, struct strbuf *err);
void dkimkey_free(struct dkimkey *k);

/*
 * Sign a sample message for selector._domainkey.domain with the key and verify the
 * signature against record (the TXT value to publish), both with libopendkim. 0 if it
 * verifies, else -1 with the reason.
 */
int dkimkey_selfcheck(const struct dkimkey *k, const char *domain, const char *selector,
                      const char *record, struct strbuf *err);

/*
 * Write the file dir/name atomically: a temp file in dir created 0600, written, chmod mode,
 * fsync, fchown (uid/gid -1: unchanged), rename over name, fsync of dir. name must be one
 * path component. 0, or -1 with why.
 */
int dkimkey_write(const char *dir, const char *name, const char *data, size_t len, mode_t mode,
                  uid_t uid, gid_t gid, struct strbuf *err);

/*
 * OpenDKIM's RequireSafeKeys, for a key file read by the user uid: the file must be owned
 * by root or by uid, and not readable or writable by group or others (unless the group is
 * trusted... OpenDKIM allows group read when the group has no other members than uid; here,
 * any group or other access is reported); every directory above it must be owned by root or
 * uid and not writable by group or others. Returns true when safe; otherwise false with
 * every finding in why (one line each, naming the path and what to run).
 */
bool dkimkey_audit(const char *path, uid_t uid, struct strbuf *why);

#endif
