/*
 * password: every line of t/data/password-vectors.txt (Dovecot-made hashes)
 * verifies and a wrong password does not; every scheme round-trips through
 * password_hash(); unknown or missing prefixes are refused.
 */
#include "tap.h"

#include "password.h"

#include <stdlib.h>
#include <string.h>

static void roundtrip(const char *scheme, const char *prefix)
{
    struct password_params p = password_default_params;
    struct strbuf sb = STRBUF_INIT;
    const char *err = NULL;

    p.sha_crypt_rounds = 5000; /* keep the test quick; the format is the same */
    p.bcrypt_cost = 5;
    p.argon2_m_kib = 1024;
    p.argon2_t = 1;
    if (!ok(password_hash(scheme, "S3cret:pw", &p, &sb, &err) == 0, "hash %s", scheme)) {
        diag("%s", err);
        return;
    }
    ok(strncmp(sb.data, prefix, strlen(prefix)) == 0, "%s starts with %s (%s)", scheme, prefix,
       sb.data);
    is_int(password_verify(sb.data, "S3cret:pw", &err), 1, "%s verifies", scheme);
    is_int(password_verify(sb.data, "X3cret:pw", &err), 0, "%s refuses a wrong password", scheme);
    strbuf_free(&sb);
}

int main(void)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    char path[1024], line[1024];
    const char *err;
    FILE *fp;
    int n = 0;

    snprintf(path, sizeof(path), "%s/t/data/password-vectors.txt", srcdir);
    fp = fopen(path, "r");
    if (!ok(fp != NULL, "open %s", path))
        return done_testing();
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *tab, *nl;
        if (line[0] == '#')
            continue;
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        err = "";
        if (!is_int(password_verify(tab + 1, line, &err), 1, "verify %s", tab + 1))
            diag("error: %s", err);
        is_int(password_verify(tab + 1, "wrong", &err), 0, "wrong password refused by %.20s...",
               tab + 1);
        n++;
    }
    fclose(fp);
    ok(n >= 40, "%d vectors", n);

    roundtrip("plain", "{PLAIN}S3cret:pw");
    roundtrip("md5", "{MD5}");
    roundtrip("sha256", "{SHA256}");
    roundtrip("ssha", "{SSHA}");
    roundtrip("SSHA512", "{SSHA512}");
    roundtrip("md5crypt", "{MD5-CRYPT}$1$");
    roundtrip("sha256crypt", "{SHA256-CRYPT}$5$");
    roundtrip("{SHA512-CRYPT}", "{SHA512-CRYPT}$6$");
    roundtrip("blfcrypt", "{BLF-CRYPT}$2b$05$");
    roundtrip("argon2id", "{ARGON2ID}$argon2id$v=19$");
    roundtrip("crypt", "{CRYPT}");

    {
        struct strbuf sb = STRBUF_INIT;
        ok(password_hash("SHA512-CRYPT", "x", NULL, &sb, &err) == 0 &&
               strncmp(sb.data, "{SHA512-CRYPT}$6$rounds=70000$", 30) == 0,
           "default SHA512-CRYPT uses Modoboa's 70000 rounds");
        strbuf_free(&sb);
        ok(password_hash("nosuch", "x", NULL, &sb, &err) == -1 && sb.len == 0,
           "unknown scheme refused, nothing written");
        strbuf_free(&sb);
    }
    is_int(password_verify("toto", "toto", &err), -1, "no prefix: error, not plain comparison");
    is_int(password_verify("{FOO}toto", "toto", &err), -1, "unknown prefix refused");
    is_int(password_verify("{PLAIN", "x", &err), -1, "unterminated prefix refused");
    is_int(password_verify("{SHA256-CRYPT}$6$abc$def", "x", &err), -1,
           "crypt string of another scheme refused");
    is_int(password_verify("{SHA256}notbase64!", "x", &err), -1, "malformed digest refused");
    is_int(password_verify("{SSHA}", "x", &err), -1, "empty salted digest refused");
    is_int(password_verify("{BLF-CRYPT}$2b$12$short", "x", &err), -1, "truncated bcrypt refused");
    is_int(password_verify("{ARGON2ID}$argon2id$v=19$garbage", "x", &err), -1,
           "malformed argon2 refused");
    is_str(password_scheme_name("sha512crypt"), "SHA512-CRYPT", "Modoboa scheme name");
    is_str(password_scheme_name("{blf-crypt}"), "BLF-CRYPT", "braced name");
    ok(password_scheme_name("rot13") == NULL, "unknown name");
    return done_testing();
}
