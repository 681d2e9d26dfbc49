/*
 * The rules modo-dnscheck judges records by: SPF syntax (Modoboa's own vectors, spec
 * §11.3) and check_host() with its limits over a table DNS; DMARC (Modoboa's vectors and
 * RFC 9989's tags); DNSBL query names and answers. Each case where Modoboa is wrong is
 * named "(Modoboa ...)".
 */
#include "tap.h"

#include "dmarc.h"
#include "dns.h"
#include "spf.h"

#include <stdlib.h>
#include <string.h>

static void spf_bad(const char *rec, const char *want)
{
    char err[160] = "";
    int rc = spf_check_syntax(rec, err, sizeof(err));
    ok(rc == -1 && strcmp(err, want) == 0, "SPF \"%s\": %s (got \"%s\")", rec, want, err);
}

static void spf_good(const char *rec)
{
    char err[160] = "";
    ok(spf_check_syntax(rec, err, sizeof(err)) == 0, "SPF \"%s\" is valid (%s)", rec, err);
}

static void dmarc_bad(const char *rec, const char *want)
{
    struct dmarc_record r;
    char err[160] = "";
    int rc = dmarc_parse(rec, &r, err, sizeof(err));
    ok(rc == -1 && strcmp(err, want) == 0, "DMARC \"%s\": %s (got \"%s\")", rec, want, err);
}

static void dmarc_good(const char *rec)
{
    struct dmarc_record r;
    char err[160] = "";
    ok(dmarc_parse(rec, &r, err, sizeof(err)) == 0, "DMARC \"%s\" is valid (%s)", rec, err);
}

/* ---- a table DNS ---- */
struct rr {
    const char *name, *type, *value; /* value NULL: NXDOMAIN; "!": SERVFAIL */
};
static const struct rr *table;
static unsigned asked;
static size_t longest; /* the longest name asked */

static void table_ask(void *ctx, const char *name, const char *type, struct dns_answer *out)
{
    size_t i;
    bool exists = false;

    (void)ctx;
    asked++;
    if (strlen(name) > longest)
        longest = strlen(name);
    memset(out, 0, sizeof(*out));
    for (i = 0; table[i].name != NULL; i++) {
        if (strcasecmp(table[i].name, name) != 0)
            continue;
        if (table[i].value != NULL && strcmp(table[i].value, "!") == 0) {
            out->status = DNS_FAIL;
            strcpy(out->error, "SERVFAIL");
            return;
        }
        exists = true;
        if (strcmp(table[i].type, type) == 0 && table[i].value != NULL) {
            out->values = realloc(out->values, (out->n + 1) * sizeof(char *));
            out->values[out->n++] = strdup(table[i].value);
        }
    }
    out->status = exists ? DNS_OK : DNS_NXDOMAIN;
}

static enum spf_result eval(const struct rr *t, const char *ip, const char *domain,
                            struct spf_eval *e)
{
    struct spf_dns dns = {NULL, table_ask};
    table = t;
    spf_check_host(&dns, ip, domain, e);
    return e->result;
}

int main(void)
{
    struct spf_eval e;
    char name[256];
    size_t first = 9;

    /* Modoboa's bad records and their errors (dnstools/tests.py) */
    spf_bad("a mx ~all", "Not an SPF record");
    spf_bad("v=spf1 toto ~all", "Unknown mechanism toto");
    spf_bad("v=spf1 ip4 -all", "Wrong ip4 mechanism syntax");
    spf_bad("v=spf1 +ip4:1.1.1. +all", "Wrong IPv4 address format");
    spf_bad("v=spf1 ip6 ~all", "Wrong ip6 mechanism syntax");
    spf_bad("v=spf1 +ip6:x:: +all", "Wrong IPv6 address format");
    spf_bad("v=spf1 a|domain.com ~all", "Invalid syntax for a mechanism");
    spf_bad("v=spf1 a:domain.com/TOTO", "Invalid mask found TOTO");
    spf_bad("v=spf1 a/1000", "Invalid mask found 1000");
    spf_bad("v=spf1 mx:domain.com/TOTO", "Invalid mask found TOTO");
    spf_bad("v=spf1 mx/1000", "Invalid mask found 1000");
    spf_bad("v=spf1 ptr|test.com", "Invalid syntax for ptr mechanism");
    spf_bad("v=spf1 redirect=test.com redirect=test.com ~all", "Duplicate modifier redirect found");
    spf_bad("v=spf1", "No mechanism found");
    /* Modoboa's good records */
    spf_good("v=spf1 mx");
    spf_good("v=spf1 a ~all");
    spf_good("v=spf1 ip4:1.2.3.4 -all");
    spf_good("v=spf1 ip4:1.2.3.4/16 -all");
    spf_good("v=spf1 ip6:fe80::9eb6:d0ff:fe8e:2807 -all");
    spf_good("v=spf1 ip6:fe80::9eb6:d0ff:fe8e:2807/64 -all");
    spf_good("v=spf1 a:example.com");
    spf_good("v=spf1 a/24 a:offsite.example.com/24");
    spf_good("v=spf1 mx mx:deferrals.domain.com");
    spf_good("v=spf1 mx/24 mx:offsite.domain.com/24");
    spf_good("v=spf1 ptr");
    spf_good("v=spf1 ptr:otherdomain.com");
    spf_good("v=spf1 exists:example.com");
    spf_good("v=spf1 include:example.com  -all");
    spf_good("v=spf1 ?include:example.com -all");
    spf_good("v=spf1 redirect=example.com");
    spf_good("v=spf1 exp=example.com");
    /* where Modoboa is wrong */
    spf_good("v=spf1 forward=test.com ~all"); /* (Modoboa: "Unknown modifier forward"; RFC 7208 §6 ignores it) */
    spf_good("v=spf1 a:example.com/24//64 mx//48 -all"); /* (Modoboa: no dual CIDR) */
    spf_good("V=SPF1 -all");                            /* (Modoboa: case-sensitive) */
    spf_good("v=spf1 -all");
    spf_good("v=spf1 exists:%{i}.spf.example.com -all");
    spf_bad("v=spf10 -all", "Not an SPF record");
    spf_bad("v=spf1 a//129", "Invalid mask found 129");
    spf_bad("v=spf1 +redirect=x.example", "Unknown mechanism redirect=x.example");
    spf_bad("v=spf1 include", "Invalid syntax for include mechanism");
    {
        char *vals[] = {"v=spf1 -all", "google-site-verification=x", "v=spf1 mx -all"};
        is_int((long long)spf_select(vals, 3, &first), 2, "two SPF records among three TXT counted");
        is_int((long long)first, 0, "the first is found");
    }

    /* check_host() */
    {
        static const struct rr t1[] = {
            {"x.example", "TXT", "v=spf1 ip4:192.0.2.0/24 include:inc.example ~all"},
            {"x.example", "TXT", "some other text"},
            {"inc.example", "TXT", "v=spf1 a:mail.inc.example ip6:2001:db8::/32 -all"},
            {"mail.inc.example", "A", "198.51.100.7"},
            {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(t1, "192.0.2.9", "x.example", &e)), "pass", "ip4 in the /24: pass");
        is_str(e.mechanism, "ip4:192.0.2.0/24", "decided by ip4");
        is_str(spf_result_name(eval(t1, "198.51.100.7", "x.example", &e)), "pass", "through include and a: pass");
        is_int(e.lookups, 2, "include and a: 2 lookups");
        is_str(spf_result_name(eval(t1, "2001:db8::25", "x.example", &e)), "pass", "IPv6 through include: pass");
        is_str(spf_result_name(eval(t1, "203.0.113.1", "x.example", &e)), "softfail", "elsewhere: softfail (~all)");
    }
    {
        static const struct rr two[] = {{"x.example", "TXT", "v=spf1 -all"},
                                        {"x.example", "TXT", "v=spf1 mx -all"},
                                        {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(two, "192.0.2.1", "x.example", &e)), "permerror",
               "two SPF records: permerror (Modoboa takes the first)");
        ok(strstr(e.error, "more than one SPF record") != NULL, "said (%s)", e.error);
    }
    {
        /* an include chain eleven deep: the 11th lookup is a permerror */
        static const struct rr chain[] = {
            {"c0.example", "TXT", "v=spf1 include:c1.example -all"},
            {"c1.example", "TXT", "v=spf1 include:c2.example -all"},
            {"c2.example", "TXT", "v=spf1 include:c3.example -all"},
            {"c3.example", "TXT", "v=spf1 include:c4.example -all"},
            {"c4.example", "TXT", "v=spf1 include:c5.example -all"},
            {"c5.example", "TXT", "v=spf1 include:c6.example -all"},
            {"c6.example", "TXT", "v=spf1 include:c7.example -all"},
            {"c7.example", "TXT", "v=spf1 include:c8.example -all"},
            {"c8.example", "TXT", "v=spf1 include:c9.example -all"},
            {"c9.example", "TXT", "v=spf1 include:c10.example -all"},
            {"c10.example", "TXT", "v=spf1 include:c11.example -all"},
            {"c11.example", "TXT", "v=spf1 ip4:192.0.2.1 -all"},
            {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(chain, "192.0.2.1", "c0.example", &e)), "permerror",
               "an include chain past 10 lookups: permerror");
        ok(strstr(e.error, "more than 10 DNS lookups") != NULL, "said (%s)", e.error);
        is_str(spf_result_name(eval(chain, "192.0.2.1", "c2.example", &e)), "pass",
               "nine includes deep: pass");
        is_int(e.lookups, 9, "counted 9");
    }
    {
        static const struct rr voids[] = {
            {"v.example", "TXT", "v=spf1 a:n1.example a:n2.example a:n3.example -all"},
            {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(voids, "192.0.2.1", "v.example", &e)), "permerror",
               "three void lookups: permerror (RFC 7208 §4.6.4)");
        is_int(e.voids, 3, "three voids counted");
    }
    {
        static const struct rr mx[] = {
            {"m.example", "TXT", "v=spf1 mx -all"},
            {"m.example", "MX", "10 mx1.m.example"},
            {"m.example", "MX", "20 mx2.m.example"},
            {"mx1.m.example", "A", "192.0.2.10"},
            {"mx2.m.example", "A", "192.0.2.20"},
            {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(mx, "192.0.2.20", "m.example", &e)), "pass", "mx: the second MX host matches");
        is_int(e.lookups, 1, "mx counts one lookup (RFC 7208)");
        is_int(e.lookups_strict, 3, "or three counting each MX host's address query");
    }
    {
        static const struct rr fail[] = {{"f.example", "TXT", "!"}, {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(fail, "192.0.2.1", "f.example", &e)), "temperror",
               "SERVFAIL: temperror");
        static const struct rr none[] = {{"n.example", "TXT", "hello"}, {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(none, "192.0.2.1", "n.example", &e)), "none", "no SPF record: none");
        static const struct rr redir[] = {{"r.example", "TXT", "v=spf1 redirect=_spf.r.example"},
                                          {"_spf.r.example", "TXT", "v=spf1 ip4:192.0.2.0/24 -all"},
                                          {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(redir, "192.0.2.5", "r.example", &e)), "pass", "redirect: pass");
        is_str(spf_result_name(eval(redir, "192.0.3.5", "r.example", &e)), "fail", "redirect: fail");
        static const struct rr macro[] = {{"e.example", "TXT", "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all"},
                                          {"1.2.0.192.in-addr._spf.e.example", "A", "127.0.0.2"},
                                          {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(macro, "192.0.2.1", "e.example", &e)), "pass",
               "exists with macros %%{ir}.%%{v}.%%{d}: pass");
        is_str(spf_result_name(eval(macro, "192.0.2.2", "e.example", &e)), "fail", "and another address fails");
        static const struct rr dual[] = {{"d.example", "TXT", "v=spf1 a:h.d.example/24//64 -all"},
                                         {"h.d.example", "A", "192.0.2.1"},
                                         {"h.d.example", "AAAA", "2001:db8:1:2::1"},
                                         {NULL, NULL, NULL}};
        is_str(spf_result_name(eval(dual, "192.0.2.200", "d.example", &e)), "pass", "dual CIDR: IPv4 /24");
        is_str(spf_result_name(eval(dual, "2001:db8:1:2:ffff::9", "d.example", &e)), "pass", "dual CIDR: IPv6 /64");
        is_str(spf_result_name(eval(dual, "2001:db8:1:3::1", "d.example", &e)), "fail", "outside the /64: fail");
    }

    {
        /* RFC 7208 §7.3: an expansion past 253 characters loses labels on the left, so a
           record whose includes expand their own domain cannot grow without bound */
        static const struct rr grow[] = {
            {"abcdefghijabcdefghijabcdefghij.example", "TXT",
             "v=spf1 include:%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d} -all"},
            {NULL, NULL, NULL}};
        longest = 0;
        eval(grow, "192.0.2.1", "abcdefghijabcdefghijabcdefghij.example", &e);
        ok(longest <= 253, "a self-expanding include asks names of at most 253 characters (%zu)",
           longest);
        is_str(spf_result_name(e.result), "permerror", "and ends in permerror");
    }

    /* DMARC: Modoboa's vectors */
    dmarc_bad("", "Not a valid DMARC record");
    dmarc_bad("v=DMARC1; test", "Invalid tag test");
    dmarc_bad("v=DMARC1; test=toto", "Unknown tag test");
    dmarc_bad("v=DMARC1; adkim=g", "Wrong value g for tag adkim");
    dmarc_bad("v=DMARC1; rua=mail:toto@test.com", "Wrong value mail:toto@test.com for tag rua");
    dmarc_bad("v=DMARC1; rf=afrf,toto", "Wrong value toto for tag rf");
    dmarc_bad("v=DMARC1; ri=XXX", "Wrong value XXX for tag ri: not an integer");
    dmarc_bad("v=DMARC1; pct=-1", "Wrong value -1 for tag pct: less than 0");
    dmarc_bad("v=DMARC1; pct=1000", "Wrong value 1000 for tag pct: greater than 100");
    dmarc_bad("v=DMARC1; pct=100", "Missing required p tag");
    dmarc_good("v=DMARC1; p=reject;; pct=100");
    dmarc_good("v=DMARC1; p=quarantine; sp=none; adkim=s; aspf=s; rua=mailto:dmarc-aggrep@ngyn.org;"
               " ruf=mailto:toto@test.com!24m; rf=afrf; pct=100; ri=86400");
    /* where Modoboa is wrong */
    dmarc_good("v=DMARC1; p=none; fo=1:d"); /* (Modoboa: fo taken as one value) */
    dmarc_good("v=DMARC1; p=reject; np=reject; psd=n; t=y"); /* (Modoboa: unknown tags) */
    dmarc_bad("v=DMARC1; p=reject; fo=1:x", "Wrong value x for tag fo");
    dmarc_bad("v=DMARC1; p=block", "Wrong value block for tag p");
    dmarc_bad("p=reject; v=DMARC1", "Not a valid DMARC record");
    {
        struct dmarc_record r;
        char err[160], dom[256];
        size_t pos = 0;
        ok(dmarc_parse("v=DMARC1; p=none; rua=mailto:a@Reports.Example,mailto:b@x.test!10m", &r,
                       err, sizeof(err)) == 0,
           "two rua URIs");
        ok(dmarc_next_mailto_domain(r.rua, &pos, dom, sizeof(dom)) && strcmp(dom, "reports.example") == 0,
           "first rua domain (%s)", dom);
        ok(dmarc_next_mailto_domain(r.rua, &pos, dom, sizeof(dom)) && strcmp(dom, "x.test") == 0,
           "second rua domain, size suffix dropped (%s)", dom);
        ok(!dmarc_next_mailto_domain(r.rua, &pos, dom, sizeof(dom)), "no third");
    }

    /* DNSBL */
    dnsbl_query_name("192.0.2.99", "zen.spamhaus.org", name, sizeof(name));
    is_str(name, "99.2.0.192.zen.spamhaus.org", "IPv4: reversed octets");
    dnsbl_query_name("2001:db8::1", "zen.spamhaus.org", name, sizeof(name));
    is_str(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
           "IPv6: 32 reversed nibbles (Modoboa: reversed groups joined by ':')");
    ok(dnsbl_query_name("not-an-ip", "z", name, sizeof(name)) < 0, "not an address: refused");
    is_int(dnsbl_answer("127.0.0.2"), DNSBL_LISTED, "127.0.0.2: listed");
    is_int(dnsbl_answer("127.0.0.15"), DNSBL_LISTED, "127.0.0.15: listed");
    is_int(dnsbl_answer("127.0.0.16"), DNSBL_CLEAN, "127.0.0.16: not a listing (Modoboa's rule)");
    is_int(dnsbl_answer("127.255.255.254"), DNSBL_ERROR,
           "127.255.255.254: the list refused the query (Modoboa: clean)");
    is_int(dnsbl_answer("127.255.255.252"), DNSBL_ERROR, "127.255.255.252: error");
    is_int(dnsbl_answer("127.255.255.255"), DNSBL_ERROR, "127.255.255.255: error");
    is_int(dnsbl_answer("10.0.0.2"), DNSBL_ERROR, "an answer outside 127/8: error");
    return done_testing();
}
