/*
 * dkimkey: keys made in-process (RSA sizes, Ed25519's raw 32-byte p=), the libopendkim
 * self-check (passes against the key's own record; fails against another key's, a
 * truncated one, a revoked one), atomic 0600 writes that refuse names leaving the
 * directory, and RequireSafeKeys findings with the command that fixes each.
 */
#include "tap.h"

#include "b64.h"
#include "dkimkey.h"
#include "dkimrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check(const struct dkimkey *k, const char *record, struct strbuf *err)
{
    strbuf_reset(err);
    return dkimkey_selfcheck(k, "example.test", "sel", record, err);
}

int main(void)
{
    struct dkimkey rsa, rsa2, ed, loaded;
    struct strbuf err = STRBUF_INIT, rec = STRBUF_INIT, why = STRBUF_INIT;
    char dir[] = "/tmp/test_dkimkey.XXXXXX", path[256];
    unsigned char raw[64];
    size_t n = 0;
    struct stat st;

    ok(dkimkey_generate(DKIM_KEY_RSA, 1024, &rsa, &err) == 0, "RSA 1024 generated");
    ok(strncmp(rsa.pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "PKCS#8 PEM");
    ok(strncmp(rsa.p, "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ", 38) == 0,
       "p= is the SubjectPublicKeyInfo of a 1024-bit key");
    strbuf_reset(&err);
    ok(dkimkey_generate(DKIM_KEY_RSA, 512, &rsa2, &err) < 0 && strstr(err.data, "RFC 8301") != NULL,
       "RSA 512 refused, naming RFC 8301");
    strbuf_reset(&err);
    ok(dkimkey_generate(DKIM_KEY_RSA, 2048, &rsa2, &err) == 0, "RSA 2048 generated");
    ok(strncmp(rsa2.p, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 44) == 0, "2048-bit SPKI");
    ok(dkimkey_generate(DKIM_KEY_ED25519, 0, &ed, &err) == 0, "Ed25519 generated");
    ok(b64_decode(ed.p, strlen(ed.p), raw, sizeof(raw), &n) == 0 && n == 32,
       "Ed25519 p= is the raw 32-byte key (RFC 8463)");

    /* the self-check: sign with libopendkim, verify against the record */
    dkim_record_value(&rec, DKIM_KEY_RSA, rsa.p);
    is_int(check(&rsa, rec.data, &err), 0, "RSA: the key verifies against its own record");
    strbuf_reset(&rec);
    dkim_record_value(&rec, DKIM_KEY_RSA, rsa2.p);
    is_int(check(&rsa, rec.data, &err), -1, "RSA: another key's record fails");
    ok(err.data != NULL && err.data[0] != '\0', "with a reason (%s)", err.data ? err.data : "");
    strbuf_reset(&rec);
    strbuf_printf(&rec, "v=DKIM1; k=rsa; p=%.*s", (int)(strlen(rsa.p) - 20), rsa.p);
    is_int(check(&rsa, rec.data, &err), -1, "RSA: a truncated record fails");
    is_int(check(&rsa, "v=DKIM1; k=rsa; p=", &err), -1, "RSA: a revoked record fails");
    strbuf_reset(&rec);
    dkim_record_value(&rec, DKIM_KEY_ED25519, ed.p);
    is_int(check(&ed, rec.data, &err), 0, "Ed25519: the key verifies against its own record (%s)",
           err.data ? err.data : "");
    strbuf_reset(&rec);
    dkim_record_value(&rec, DKIM_KEY_RSA, rsa.p);
    is_int(check(&ed, rec.data, &err), -1, "Ed25519 signature against an RSA record fails");

    /* writing and reading back */
    if (mkdtemp(dir) == NULL)
        return 1;
    strbuf_reset(&err);
    ok(dkimkey_write(dir, "../escape.pem", "x", 1, 0600, (uid_t)-1, (gid_t)-1, &err) < 0 &&
           strstr(err.data, "would leave") != NULL,
       "a name with a slash is refused");
    strbuf_reset(&err);
    ok(dkimkey_write(dir, ".hidden", "x", 1, 0600, (uid_t)-1, (gid_t)-1, &err) < 0,
       "a name starting with a dot is refused");
    ok(dkimkey_write(dir, "example.test.pem", rsa.pem, rsa.pem_len, 0600, (uid_t)-1, (gid_t)-1,
                     &err) == 0,
       "written");
    snprintf(path, sizeof(path), "%s/example.test.pem", dir);
    ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
    ok(dkimkey_load(path, &loaded, &err) == 0 && strcmp(loaded.p, rsa.p) == 0 &&
           loaded.type == DKIM_KEY_RSA,
       "read back: the same public key");
    dkimkey_free(&loaded);
    ok(dkimkey_write(dir, "example.test.pem", ed.pem, ed.pem_len, 0600, (uid_t)-1, (gid_t)-1,
                     &err) == 0,
       "replaced atomically");
    ok(dkimkey_load(path, &loaded, &err) == 0 && strcmp(loaded.p, ed.p) == 0 &&
           loaded.type == DKIM_KEY_ED25519,
       "read back: the Ed25519 key");
    dkimkey_free(&loaded);
    strbuf_reset(&err);
    ok(dkimkey_load("/nonexistent/key.pem", &loaded, &err) < 0 && strstr(err.data, "/nonexistent") != NULL,
       "a missing file is named");

    /* RequireSafeKeys: findings name the node and the fix */
    chmod(dir, 0700);
    chmod(path, 0644);
    strbuf_reset(&why);
    ok(!dkimkey_audit(path, geteuid(), &why) && strstr(why.data, "other users can read or write it (chmod 600") != NULL,
       "a world-readable key is refused, with chmod 600");
    chmod(path, 0600);
    chmod(dir, 0777);
    strbuf_reset(&why);
    {
        char want[300];
        snprintf(want, sizeof(want), "%s: writable by other users (chmod o-w %s)", dir, dir);
        ok(!dkimkey_audit(path, geteuid(), &why) && strstr(why.data, want) != NULL,
           "a world-writable directory above it is refused, named, with chmod o-w");
    }
    chmod(dir, 0700);
    strbuf_reset(&why);
    if (geteuid() == 0 && chown(path, 12346, (gid_t)-1) < 0)
        diag("chown failed");
    ok(!dkimkey_audit(path, geteuid() == 0 ? 12345 : geteuid() + 1, &why) &&
           strstr(why.data, "not by") != NULL,
       "a key owned by another user than the signer is refused");

    unlink(path);
    rmdir(dir);
    dkimkey_free(&rsa);
    dkimkey_free(&rsa2);
    dkimkey_free(&ed);
    strbuf_free(&err);
    strbuf_free(&rec);
    strbuf_free(&why);
    return done_testing();
}
