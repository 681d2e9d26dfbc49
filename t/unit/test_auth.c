/*
 * auth (common/auth.c) and modo-checkpassword's readers (cpw_input.c): the dict keys,
 * Modoboa's service rules, the home template, both answer formats from store answers, and
 * the fd 3 input, fields and reply lines.
 */
#include "tap.h"

#include "auth.h"
#include "cpw_input.h"

#include <string.h>

static const struct auth_settings settings = {"/srv/vmail/%d/%n", "5000", "5001"};

static void key(const char *k, int want, int kind, int format, const char *service,
                const char *user)
{
    struct auth_key ak;
    const char *err = "";
    int rc = auth_parse_key(k, &ak, &err);

    if (!is_int(rc, want, "parse %s", k))
        diag("%s", err);
    if (rc == 1) {
        ok((int)ak.kind == kind && (int)ak.format == format, "%s: kind %d format %d", k,
           ak.kind, ak.format);
        is_str(ak.service, service, "%s: service", k);
        is_str(ak.user, user, "%s: user", k);
    }
}

/* the answer for key k to a store answer of nrows rows of the given cells */
static const char *answer(const char *k, int status, size_t ncols, size_t nrows,
                          const char *const *cells)
{
    static struct strbuf out = STRBUF_INIT;
    struct store_answer ans = {status, status < 0 ? "db down" : NULL, nrows, ncols, cells, 0, 0};
    struct auth_key ak;
    const char *err;
    int rc;

    strbuf_reset(&out);
    if (auth_parse_key(k, &ak, &err) != 1)
        return "BADKEY";
    rc = auth_answer(&settings, &ak, &ans, &out);
    if (rc < 0)
        return "FAIL";
    if (rc == 0)
        return "NOTFOUND";
    return out.data;
}

int main(void)
{
    static const char *const alice[] = {"alice@x.test", "{PLAIN}a\"b\\c", "50", "0"};
    static const char *const so[] = {"so@x.test", "{PLAIN}so", "0", "1"};
    static const char *const so_pg[] = {"so@x.test", "{PLAIN}so", "0", "t"};
    static const char *const udb[] = {"50", "0"};
    static const char *const udb_so[] = {"10", "1"};
    static const char *const master[] = {"boss@x.test", "{PLAIN}boss"};
    static const char *const tabpw[] = {"t@x.test", "{PLAIN}a\tb", "0", "0"};
    struct cpw_input in;
    struct cpw_fields f;
    struct strbuf sb = STRBUF_INIT;
    const char *err;
    char buf[600], *v;

    /* keys */
    key("shared/passdb/imap/Alice@X.test", 1, AUTH_PASSDB, AUTH_JSON, "imap", "alice@x.test");
    key("shared/userdb/LMTP/bob@x.test", 1, AUTH_USERDB, AUTH_JSON, "lmtp", "bob@x.test");
    key("shared/passdb/alice@x.test", 1, AUTH_PASSDB, AUTH_JSON, "", "alice@x.test");
    key("shared/master/boss@x.test", 1, AUTH_MASTER, AUTH_JSON, "", "boss@x.test");
    key("shared/fields/userdb/imap/a@x", 1, AUTH_USERDB, AUTH_FIELDS, "imap", "a@x");
    key("shared/fields/nosuch/a@x", -1, 0, 0, "", "");
    key("shared/passdb/imap/a/b@x", -1, 0, 0, "", "");
    key("shared/passdb/imap/", -1, 0, 0, "", "");
    key("shared/passdb/imap/a b@x", -1, 0, 0, "", "");
    key("shared/passdb/imap/a\tb@x", -1, 0, 0, "", "");
    key("shared/passdb/imap/a\x7f@x", -1, 0, 0, "", "");
    key("shared/passdb/waytoolongservicenamewaytoolongservicename/a@x", -1, 0, 0, "", "");
    key("shared/passdbx/a@x", 0, 0, 0, "", "");
    key("shared/last-login/a@x", 0, 0, 0, "", "");
    key("priv/quota/storage", 0, 0, 0, "", "");
    memset(buf, 'a', 300);
    strcpy(buf, "shared/passdb/");
    buf[14] = 'a';
    buf[299] = '\0';
    key(buf, -1, 0, 0, "", "");

    /* Modoboa's service rules */
    ok(auth_service_allowed(AUTH_PASSDB, false, "imap"), "passdb: a mailbox logs in over imap");
    ok(!auth_service_allowed(AUTH_PASSDB, true, "imap"), "passdb: send-only refused over imap");
    ok(!auth_service_allowed(AUTH_PASSDB, true, "pop3"), "passdb: send-only refused over pop3");
    ok(auth_service_allowed(AUTH_PASSDB, true, "lmtp"), "passdb: send-only may over lmtp");
    ok(auth_service_allowed(AUTH_PASSDB, true, "smtp"), "passdb: send-only may over smtp");
    ok(auth_service_allowed(AUTH_PASSDB, true, "submission"), "passdb: and submission");
    ok(auth_service_allowed(AUTH_PASSDB, true, ""), "passdb: no service, no rule");
    ok(!auth_service_allowed(AUTH_USERDB, true, "lmtp"), "userdb: send-only refused for lmtp");
    ok(!auth_service_allowed(AUTH_USERDB, true, "imap"), "userdb: and imap");
    ok(auth_service_allowed(AUTH_USERDB, true, "smtp"), "userdb: smtp allowed");
    ok(auth_service_allowed(AUTH_MASTER, true, "imap"), "master: no service rule");

    /* home template */
    auth_home(&sb, "/srv/vmail/%d/%n|%u|%Lu|%%|%x|%", "bob@x.test");
    is_str(sb.data, "/srv/vmail/x.test/bob|bob@x.test|bob@x.test|%|%x|%", "home template");
    strbuf_reset(&sb);
    auth_home(&sb, "/h/%d/%n", "nodomain");
    is_str(sb.data, "/h//nodomain", "home of a name without a domain");

    /* answers */
    is_str(answer("shared/passdb/imap/alice@x.test", 1, 4, 1, alice),
           "{\"user\":\"alice@x.test\",\"password\":\"{PLAIN}a\\\"b\\\\c\",\"userdb_home\":"
           "\"/srv/vmail/x.test/alice\",\"userdb_uid\":5000,\"userdb_gid\":5001,"
           "\"userdb_quota_rule\":\"*:bytes=50M\"}",
           "passdb JSON (escaped password)");
    is_str(answer("shared/passdb/smtp/so@x.test", 1, 4, 1, so),
           "{\"user\":\"so@x.test\",\"password\":\"{PLAIN}so\",\"userdb_home\":"
           "\"/srv/vmail/x.test/so\",\"userdb_uid\":5000,\"userdb_gid\":5001}",
           "passdb: quota 0 gives no quota rule");
    is_str(answer("shared/passdb/imap/so@x.test", 1, 4, 1, so), "NOTFOUND",
           "passdb: send-only over imap");
    is_str(answer("shared/passdb/imap/so@x.test", 1, 4, 1, so_pg), "NOTFOUND",
           "passdb: send-only as PostgreSQL's t");
    is_str(answer("shared/userdb/imap/bob@x.test", 1, 2, 1, udb),
           "{\"home\":\"/srv/vmail/x.test/bob\",\"uid\":5000,\"gid\":5001,"
           "\"quota_rule\":\"*:bytes=50M\"}",
           "userdb JSON");
    is_str(answer("shared/userdb/lmtp/so@x.test", 1, 2, 1, udb_so), "NOTFOUND",
           "userdb: send-only for lmtp");
    is_str(answer("shared/fields/userdb/smtp/so@x.test", 1, 2, 1, udb_so),
           "user=so@x.test\thome=/srv/vmail/x.test/so\tuid=5000\tgid=5001\t"
           "quota_rule=*:bytes=10M",
           "userdb fields");
    is_str(answer("shared/master/boss@x.test", 1, 2, 1, master),
           "{\"user\":\"boss@x.test\",\"password\":\"{PLAIN}boss\"}", "master JSON");
    is_str(answer("shared/fields/passdb/t@x.test", 1, 4, 1, tabpw),
           "user=t@x.test\tpassword={PLAIN}a\001tb\tuserdb_home=/srv/vmail/x.test/t\t"
           "userdb_uid=5000\tuserdb_gid=5001",
           "fields: a TAB in a value is escaped");
    is_str(answer("shared/passdb/imap/x@x.test", 0, 4, 0, NULL), "NOTFOUND", "no row: unknown");
    is_str(answer("shared/passdb/imap/x@x.test", -1, 0, 0, NULL), "FAIL",
           "a store failure is a failure, never unknown");
    is_str(answer("shared/passdb/imap/x@x.test", 1, 2, 1, master), "NOTFOUND",
           "an answer of the wrong shape is not an account");

    /* fd 3 */
    is_int(cpw_parse_input("a@x\0pw:1\0\0", 10, &in, &err), 0, "fd 3: user, password, empty stamp");
    is_str(in.user, "a@x", "fd 3: user");
    is_str(in.password, "pw:1", "fd 3: password with a colon");
    is_int(cpw_parse_input("a@x\0\0\0", 6, &in, &err), 0, "fd 3: a lookup (no password)");
    is_str(in.password, "", "fd 3: empty password");
    is_int(cpw_parse_input("a@x\0pw", 6, &in, &err), 0, "fd 3: no trailing NUL");
    is_str(in.password, "pw", "fd 3: password to the end");
    is_int(cpw_parse_input("a@x", 3, &in, &err), -1, "fd 3: no NUL after the user");
    is_int(cpw_parse_input("\0pw\0", 4, &in, &err), -1, "fd 3: empty user");
    is_int(cpw_parse_input("", 0, &in, &err), -1, "fd 3: nothing");
    memset(buf, 'x', sizeof(buf));
    buf[10] = '\0';
    is_int(cpw_parse_input(buf, 512, &in, &err), 0, "fd 3: 512 bytes");
    is_int(cpw_parse_input(buf, 513, &in, &err), -1, "fd 3: 513 bytes refused");

    /* fields and reply lines */
    strcpy(buf, "user=a@x\tpassword={PLAIN}p\001tq\001\061\tuid=5");
    is_int(cpw_parse_fields(buf, &f, &err), 0, "fields: parsed");
    is_int((long long)f.n, 3, "fields: three");
    is_str(cpw_field(&f, "password"), "{PLAIN}p\tq\001", "fields: value unescaped");
    ok(cpw_field(&f, "home") == NULL, "fields: missing one");
    strcpy(buf, "novalue\tx=1");
    is_int(cpw_parse_fields(buf, &f, &err), -1, "fields: a field without =");
    strcpy(buf, "=1");
    is_int(cpw_parse_fields(buf, &f, &err), -1, "fields: no name");
    strcpy(buf, "");
    is_int(cpw_parse_fields(buf, &f, &err), 0, "fields: none");
    strcpy(buf, "a=1\tb=1\tc=1\td=1\te=1\tf=1\tg=1\th=1\ti=1\tj=1\tk=1\tl=1\tm=1\tn=1\to=1\tp=1\tq=1");
    is_int(cpw_parse_fields(buf, &f, &err), -1, "fields: too many");
    strcpy(buf, "Ouser=a\001tpw=b");
    is_int(cpw_parse_reply(buf, strlen(buf), &v), 'O', "reply O");
    is_str(v, "user=a\tpw=b", "reply O unescaped");
    strcpy(buf, "N");
    is_int(cpw_parse_reply(buf, 1, &v), 'N', "reply N");
    strcpy(buf, "Ndata");
    is_int(cpw_parse_reply(buf, 5, &v), -1, "reply N with data is not a reply");
    strcpy(buf, "Fdatabase down");
    is_int(cpw_parse_reply(buf, strlen(buf), &v), 'F', "reply F");
    is_str(v, "database down", "reply F reason");
    strcpy(buf, "X");
    is_int(cpw_parse_reply(buf, 1, &v), -1, "reply X");
    is_int(cpw_parse_reply(buf, 0, &v), -1, "empty reply");
    strbuf_free(&sb);
    return done_testing();
}
