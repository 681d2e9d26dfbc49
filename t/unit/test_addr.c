/*
 * addr: folding, IDN, garbage detection and Postfix's recipient_delimiter rules.
 */
#include "tap.h"

#include "addr.h"

#include <string.h>

static void parse_ok(const char *in, const char *want)
{
    struct addr a;
    const char *err = NULL;
    int rc = addr_parse(in, strlen(in), &a, &err);

    if (!ok(rc == 0, "parse %s", in))
        diag("error: %s", err);
    else
        is_str(a.full, want, "fold %s", in);
}

static void parse_bad(const char *in, size_t len, const char *why)
{
    struct addr a;
    const char *err = NULL;

    ok(addr_parse(in, len, &a, &err) == -1 && err != NULL, "refuse %s (%s)", why,
       err ? err : "no error");
}

static void split(const char *set, int owner_special, const char *local, const char *base,
                  const char *ext)
{
    struct addr_delimiters d;
    const char *e;
    size_t n;

    memset(&d, 0, sizeof(d));
    strcpy(d.set, set);
    d.owner_request_special = owner_special;
    n = addr_split_extension(local, &d, &e);
    ok(n == strlen(base) && strncmp(local, base, n) == 0 && strcmp(e, ext) == 0,
       "split '%s' with '%s'%s -> '%.*s' + '%s'", local, set, owner_special ? "" : " (no owner)",
       (int)n, local, e);
}

int main(void)
{
    struct addr a;
    const char *err;
    char dom[ADDR_MAX_DOMAIN + 1];
    char longlocal[400];

    parse_ok("User@Example.TEST", "user@example.test");
    parse_ok("Sales@Example.TEST.", "sales@example.test");
    parse_ok("user+Tag@dom.example", "user+tag@dom.example");
    parse_ok("x@b\xc3\xbc" "cher.example", "x@xn--bcher-kva.example");
    parse_ok("x@B\xc3\x9c" "CHER.example", "x@xn--bcher-kva.example");
    parse_ok("x@xn--bcher-kva.example", "x@xn--bcher-kva.example");
    parse_ok("\xc3\xa9t\xc3\xa9@exemple.test", "\xc3\xa9t\xc3\xa9@exemple.test");
    parse_ok("a_b@sub_domain.example", "a_b@sub_domain.example");

    parse_bad("", 0, "empty");
    parse_bad("nodomain", 8, "no @");
    parse_bad("a@b@c.test", 10, "several @");
    parse_bad("@example.test", 13, "empty local part");
    parse_bad("user@", 5, "empty domain");
    parse_bad("\"a b\"@example.test", 18, "quoted");
    parse_bad("@a.test:u@b.test", 16, "source route");
    parse_bad("u@[192.0.2.1]", 13, "domain literal");
    parse_bad("a b@example.test", 16, "space");
    parse_bad("a\tb@example.test", 16, "tab");
    parse_bad("a@exa mple.test", 15, "space in domain");
    parse_bad("a@-bad.test", 11, "label starts with hyphen");
    parse_bad("a@bad..test", 11, "empty label");
    parse_bad("a\0b@x.test", 10, "NUL");
    parse_bad("u@\xff\xfe.test", 9, "invalid UTF-8 domain");
    memset(longlocal, 'a', sizeof(longlocal));
    memcpy(longlocal + 300, "@x.test", 7);
    parse_bad(longlocal, 307, "local part too long");

    ok(addr_is_address("a@b", 3) && !addr_is_address("example.test", 12), "address vs domain");
    ok(addr_fold_domain("Example.TEST.", 13, dom, &err) == 0 && strcmp(dom, "example.test") == 0,
       "fold domain");
    ok(addr_fold_domain("*", 1, dom, &err) == -1, "'*' is not a domain");
    ok(addr_parse("A@B.test", 8, &a, &err) == 0 && strcmp(a.local, "a") == 0 &&
           strcmp(a.domain, "b.test") == 0,
       "local and domain parts");

    {
        char u[ADDR_MAX_DOMAIN + 1];
        ok(addr_domain_unicode("xn--bcher-kva.example", u, sizeof(u)) == 1 &&
               strcmp(u, "b\xc3\xbc" "cher.example") == 0,
           "A-labels to U-labels");
        ok(addr_domain_unicode("plain.example", u, sizeof(u)) == 0, "ASCII domain: no U-label form");
        ok(addr_domain_unicode("xn--.example", u, sizeof(u)) == -1, "broken A-label refused");
        ok(addr_parse_flags("X@B\xc3\xbc" "cher.Example", 17, &a, ADDR_KEEP_UNICODE, &err) == 0 &&
               strcmp(a.full, "x@b\xc3\xbc" "cher.example") == 0,
           "ADDR_KEEP_UNICODE keeps the UTF-8 domain, folds ASCII");
        ok(addr_fold_domain_flags("a\x01.test", 7, u, ADDR_KEEP_UNICODE, &err) == -1,
           "control characters refused in UTF-8 mode too");
    }

    split("+", 1, "user+tag", "user", "+tag");
    split("+", 1, "user", "user", "");
    split("+", 1, "user+a+b", "user", "+a+b");
    split("+-", 1, "user-tag+x", "user", "-tag+x");
    split("+", 1, "+tag", "+tag", "");
    split("", 1, "user+tag", "user+tag", "");
    split("+", 1, "postmaster+x", "postmaster", "+x");
    split("-", 1, "postmaster", "postmaster", "");
    split("+", 1, "mailer-daemon", "mailer-daemon", "");
    split("-", 1, "mailer-daemon", "mailer-daemon", "");
    split("-", 1, "double-bounce", "double-bounce", "");
    split("-", 1, "owner-list", "owner-list", "");
    split("-", 1, "list-request", "list-request", "");
    split("-", 0, "owner-list", "owner", "-list");
    split("-", 0, "list-request", "list", "-request");
    split("+", 1, "owner-list+x", "owner-list", "+x");
    split("-", 1, "a-request", "a-request", "");
    split("-", 1, "-request", "-request", "");
    split("+", 1, "user+", "user", "+");
    return done_testing();
}
