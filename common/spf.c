/*
 * spf - SPF syntax and check_host() (RFC 7208); see spf.h.
 */
#include "spf.h"
#include "dns.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOIDS 2
#define SPF_MAX_MX 10
#define SPF_MAX_DEPTH 10
#define SPF_MAX_EXPANSION 65536

static const char *const mechanisms[] = {"include", "exists", "ptr", "ip4", "ip6", "all", "mx",
                                         "a"};

const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
                                        "softfail", "temperror", "permerror"};
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static bool is_spf(const char *v)
{
    return strncasecmp(v, "v=spf1", 6) == 0 && (v[6] == '\0' || v[6] == ' ');
}

size_t spf_select(char *const *values, size_t n, size_t *first)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++) {
        if (is_spf(values[i])) {
            if (count == 0 && first != NULL)
                *first = i;
            count++;
        }
    }
    return count;
}

/* "/N" or "/N//M" or "//M" at s (a, mx): 0 or -1 with the bad mask in bad. */
static int parse_cidrs(const char *s, int *c4, int *c6, char *bad, size_t size)
{
    *c4 = 32;
    *c6 = 128;
    while (*s == '/') {
        bool six = s[1] == '/';
        const char *num = s + (six ? 2 : 1);
        char *end;
        long v = strtol(num, &end, 10);
        size_t len = strcspn(num, "/");
        if (end == num || (*end != '\0' && *end != '/') || v < 0 || v > (six ? 128 : 32) ||
            (num[0] == '0' && len > 1)) {
            snprintf(bad, size, "%.*s", (int)(len > 60 ? 60 : len), num);
            return -1;
        }
        if (six)
            *c6 = (int)v;
        else
            *c4 = (int)v;
        s = end;
    }
    return 0;
}

/* ip4:/ip6: value "addr[/len]": 0 if valid. */
static int parse_ipnet(const char *v, bool six, unsigned char *addr, int *len)
{
    bool is6;

    return dns_net_parse(v, six ? 6 : 4, addr, &is6, len);
}

/* One term split: qualifier, name (a known mechanism, or a modifier's name), its value. */
struct term {
    char qualifier;
    char name[64];
    const char *value; /* after ':' or '=' (mechanisms), or "/..." (cidr), or "" */
    bool modifier;
};

/* 0, or -1 with err (Modoboa's wording). */
static int split_term(const char *part, struct term *t, char *err, size_t size)
{
    size_t i, n;
    bool had_qualifier = false;

    memset(t, 0, sizeof(*t));
    t->qualifier = '+';
    if (part[0] != '\0' && strchr("+-~?", part[0]) != NULL) {
        t->qualifier = part[0];
        had_qualifier = true;
        part++;
    }
    n = strcspn(part, ":/=");
    if (part[n] == '=' ) {
        /* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
        bool ok = n > 0 && isalpha((unsigned char)part[0]);
        for (i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)part[i]) || strchr("-_.", part[i]) != NULL;
        if (!ok || had_qualifier) {
            snprintf(err, size, "Unknown mechanism %.60s", part);
            return -1;
        }
        t->modifier = true;
        snprintf(t->name, sizeof(t->name), "%.*s", (int)(n > 63 ? 63 : n), part);
        t->value = part + n + 1;
        return 0;
    }
    for (i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
        size_t ml = strlen(mechanisms[i]);
        if (n == ml && strncasecmp(part, mechanisms[i], ml) == 0) {
            snprintf(t->name, sizeof(t->name), "%s", mechanisms[i]);
            t->value = part + n;
            return 0;
        }
    }
    for (i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
        size_t ml = strlen(mechanisms[i]);
        if (strncasecmp(part, mechanisms[i], ml) == 0 && strcmp(mechanisms[i], "all") != 0) {
            snprintf(err, size, "Invalid syntax for %s mechanism", mechanisms[i]);
            return -1;
        }
    }
    snprintf(err, size, "Unknown mechanism %.60s", part);
    return -1;
}

/* A domain-spec: non-empty, printable, no spaces (macros allowed). */
static bool domain_spec_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 253 + 64)
        return false;
    for (i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return true;
}

/* Check one mechanism's value; 0 or -1 with err. */
static int check_mechanism(const struct term *t, char *err, size_t size)
{
    const char *v = t->value;
    unsigned char addr[16];
    int len, c4, c6;
    char bad[64];

    if (strcmp(t->name, "all") == 0) {
        if (*v != '\0') {
            snprintf(err, size, "Invalid syntax for all mechanism");
            return -1;
        }
        return 0;
    }
    if (strcmp(t->name, "ip4") == 0 || strcmp(t->name, "ip6") == 0) {
        bool six = t->name[2] == '6';
        if (*v != ':' || v[1] == '\0') {
            snprintf(err, size, "Wrong %s mechanism syntax", t->name);
            return -1;
        }
        if (parse_ipnet(v + 1, six, addr, &len) < 0) {
            snprintf(err, size, "Wrong IPv%c address format", six ? '6' : '4');
            return -1;
        }
        return 0;
    }
    if (strcmp(t->name, "a") == 0 || strcmp(t->name, "mx") == 0) {
        const char *cidr = v;
        if (*v == ':') {
            size_t dl = strcspn(v + 1, "/");
            if (!domain_spec_ok(v + 1, dl)) {
                snprintf(err, size, "Invalid syntax for %s mechanism", t->name);
                return -1;
            }
            cidr = v + 1 + dl;
        }
        if (parse_cidrs(cidr, &c4, &c6, bad, sizeof(bad)) < 0) {
            snprintf(err, size, "Invalid mask found %s", bad);
            return -1;
        }
        return 0;
    }
    if (strcmp(t->name, "ptr") == 0) {
        if (*v == '\0')
            return 0;
        if (*v != ':' || !domain_spec_ok(v + 1, strlen(v + 1))) {
            snprintf(err, size, "Invalid syntax for ptr mechanism");
            return -1;
        }
        return 0;
    }
    /* include, exists: a domain-spec is required */
    if (*v != ':' || !domain_spec_ok(v + 1, strlen(v + 1))) {
        snprintf(err, size, "Invalid syntax for %s mechanism", t->name);
        return -1;
    }
    return 0;
}

int spf_check_syntax(const char *record, char *err, size_t size)
{
    char *copy, *part, *save = NULL;
    bool redirect = false, exp = false;
    size_t terms = 0;
    int rc = 0;

    if (!is_spf(record)) {
        snprintf(err, size, "Not an SPF record");
        return -1;
    }
    copy = strdup(record + 6);
    if (copy == NULL) {
        snprintf(err, size, "out of memory");
        return -1;
    }
    for (part = strtok_r(copy, " ", &save); part != NULL && rc == 0;
         part = strtok_r(NULL, " ", &save)) {
        struct term t;
        if (split_term(part, &t, err, size) < 0) {
            rc = -1;
            break;
        }
        if (t.modifier) {
            bool *seen = strcasecmp(t.name, "redirect") == 0 ? &redirect
                         : strcasecmp(t.name, "exp") == 0    ? &exp
                                                             : NULL;
            if (seen == NULL)
                continue; /* RFC 7208 §6: unknown modifiers are ignored (Modoboa refuses) */
            if (*seen) {
                snprintf(err, size, "Duplicate modifier %s found", t.name);
                rc = -1;
                break;
            }
            *seen = true;
            if (!domain_spec_ok(t.value, strlen(t.value))) {
                snprintf(err, size, "Invalid syntax for %s modifier", t.name);
                rc = -1;
                break;
            }
            terms++;
            continue;
        }
        if (check_mechanism(&t, err, size) < 0) {
            rc = -1;
            break;
        }
        terms++;
    }
    free(copy);
    if (rc == 0 && terms == 0) {
        snprintf(err, size, "No mechanism found");
        rc = -1;
    }
    return rc;
}

/* ---- check_host() ---- */

struct eval {
    const struct spf_dns *dns;
    const char *ip;
    unsigned char addr[16];
    bool six;
    struct spf_eval *out;
};

static __attribute__((format(printf, 3, 4))) void set_error(struct spf_eval *out,
                                                             enum spf_result r,
                                                             const char *fmt, ...)
{
    va_list ap;

    out->result = r;
    if (out->error[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
}

/* Expand the macros of a domain-spec (RFC 7208 §7) for sender postmaster@domain. */
static int expand(const struct eval *e, const char *spec, size_t n, const char *domain,
                  struct strbuf *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (spec[i] != '%') {
            strbuf_putc(out, spec[i]);
            continue;
        }
        if (++i >= n)
            return -1;
        if (spec[i] == '%' || spec[i] == '_' || spec[i] == '-') {
            strbuf_putc(out, spec[i] == '%' ? '%' : spec[i] == '_' ? ' ' : '-');
            continue;
        }
        if (spec[i] != '{')
            return -1;
        {
            const char *close = memchr(spec + i, '}', n - i);
            struct strbuf val = STRBUF_INIT;
            char letter, delims[16] = ".";
            long keep = 0;
            bool reverse = false;
            const char *p;
            char *parts[128], *save = NULL, *tok;
            size_t np = 0, k, start;
            if (close == NULL)
                return -1;
            letter = (char)tolower((unsigned char)spec[i + 1]);
            switch (letter) {
            case 's': strbuf_printf(&val, "postmaster@%s", domain); break;
            case 'l': strbuf_puts(&val, "postmaster"); break;
            case 'o': case 'd': case 'h': strbuf_puts(&val, domain); break;
            case 'v': strbuf_puts(&val, e->six ? "ip6" : "in-addr"); break;
            case 'i':
                if (e->six) {
                    for (k = 0; k < 16; k++)
                        strbuf_printf(&val, "%s%x.%x", k ? "." : "", e->addr[k] >> 4,
                                      e->addr[k] & 15);
                } else {
                    strbuf_puts(&val, e->ip);
                }
                break;
            default: strbuf_free(&val); return -1;
            }
            p = spec + i + 2;
            while (p < close && isdigit((unsigned char)*p))
                keep = keep * 10 + (*p++ - '0');
            if (p < close && (*p == 'r' || *p == 'R')) {
                reverse = true;
                p++;
            }
            if (p < close) {
                size_t dl = (size_t)(close - p);
                if (dl >= sizeof(delims)) {
                    strbuf_free(&val);
                    return -1;
                }
                memcpy(delims, p, dl);
                delims[dl] = '\0';
            }
            for (tok = strtok_r(val.data ? val.data : (char *)"", delims, &save);
                 tok != NULL && np < 128; tok = strtok_r(NULL, delims, &save))
                parts[np++] = tok;
            if (reverse)
                for (k = 0; k < np / 2; k++) {
                    char *tmp = parts[k];
                    parts[k] = parts[np - 1 - k];
                    parts[np - 1 - k] = tmp;
                }
            start = keep > 0 && (size_t)keep < np ? np - (size_t)keep : 0;
            for (k = start; k < np; k++)
                strbuf_printf(out, "%s%s", k > start ? "." : "", parts[k]);
            strbuf_free(&val);
            i = (size_t)(close - spec);
        }
        if (out->len > SPF_MAX_EXPANSION)
            return -1; /* a record that expands without bound */
    }
    if (out->data == NULL)
        strbuf_puts(out, "");
    /* RFC 7208 §7.3: a name longer than 253 characters loses labels on the left */
    while (out->len > 253) {
        char *dot = memchr(out->data, '.', out->len);
        size_t cut = dot != NULL ? (size_t)(dot - out->data) + 1 : out->len;
        memmove(out->data, out->data + cut, out->len - cut + 1);
        out->len -= cut;
    }
    return 0;
}

/* A query that counts toward the void limit when it finds nothing. */
static void ask(struct eval *e, const char *name, const char *type, struct dns_answer *a)
{
    e->dns->ask(e->dns->ctx, name, type, a);
    if (a->status == DNS_NXDOMAIN || (a->status == DNS_OK && a->n == 0))
        e->out->voids++;
}

static bool too_many(struct eval *e)
{
    if (e->out->lookups > SPF_MAX_LOOKUPS) {
        set_error(e->out, SPF_PERMERROR, "more than 10 DNS lookups");
        return true;
    }
    if (e->out->voids > SPF_MAX_VOIDS) {
        set_error(e->out, SPF_PERMERROR, "more than 2 void lookups");
        return true;
    }
    return false;
}

/* Does any A/AAAA of name match the ip within the cidr? -1 on temperror. */
static int addr_match(struct eval *e, const char *name, int c4, int c6, bool count_void)
{
    struct dns_answer a;
    size_t i;
    int m = 0;

    if (count_void)
        ask(e, name, e->six ? "AAAA" : "A", &a);
    else
        e->dns->ask(e->dns->ctx, name, e->six ? "AAAA" : "A", &a);
    if (a.status == DNS_FAIL) {
        set_error(e->out, SPF_TEMPERROR, "%s", a.error);
        dns_answer_free(&a);
        return -1;
    }
    for (i = 0; i < a.n && !m; i++) {
        unsigned char x[16];
        if (inet_pton(e->six ? AF_INET6 : AF_INET, a.values[i], x) == 1)
            m = dns_net_contains(x, e->six ? c6 : c4, e->addr);
    }
    dns_answer_free(&a);
    return m;
}

static enum spf_result check(struct eval *e, const char *domain, int depth);

/* Evaluate one mechanism: 1 match, 0 no match, -1 stop (error set in out). */
static int mechanism(struct eval *e, const struct term *t, const char *domain, int depth)
{
    struct strbuf target = STRBUF_INIT;
    const char *v = t->value, *cidr = v;
    int c4 = 32, c6 = 128, m = 0;
    char bad[64];
    unsigned char net[16];
    int len;

    if (strcmp(t->name, "all") == 0)
        return 1;
    if (strcmp(t->name, "ip4") == 0 || strcmp(t->name, "ip6") == 0) {
        bool six = t->name[2] == '6';
        if (parse_ipnet(v + 1, six, net, &len) < 0)
            return -1;
        return six == e->six && dns_net_contains(net, len, e->addr);
    }
    /* the rest ask DNS */
    e->out->lookups++;
    e->out->lookups_strict++;
    if (too_many(e))
        return -1;
    if ((strcmp(t->name, "a") == 0 || strcmp(t->name, "mx") == 0) && *v == ':') {
        size_t dl = strcspn(v + 1, "/");
        if (expand(e, v + 1, dl, domain, &target) < 0)
            goto bad_macro;
        cidr = v + 1 + dl;
    } else if (*v == ':') {
        if (expand(e, v + 1, strlen(v + 1), domain, &target) < 0)
            goto bad_macro;
        cidr = "";
    } else {
        strbuf_puts(&target, domain);
    }
    if (parse_cidrs(cidr, &c4, &c6, bad, sizeof(bad)) < 0) {
        strbuf_free(&target);
        return -1;
    }
    if (strcmp(t->name, "a") == 0) {
        m = addr_match(e, target.data, c4, c6, true);
    } else if (strcmp(t->name, "mx") == 0) {
        struct dns_answer mx;
        size_t i;
        ask(e, target.data, "MX", &mx);
        if (mx.status == DNS_FAIL) {
            set_error(e->out, SPF_TEMPERROR, "%s", mx.error);
            m = -1;
        } else if (mx.n > SPF_MAX_MX) {
            set_error(e->out, SPF_PERMERROR, "more than 10 MX names at %s", target.data);
            m = -1;
        }
        for (i = 0; m == 0 && i < mx.n; i++) {
            const char *host = strchr(mx.values[i], ' ');
            host = host ? host + 1 : mx.values[i];
            e->out->lookups_strict++;
            m = addr_match(e, host, c4, c6, false);
        }
        dns_answer_free(&mx);
    } else if (strcmp(t->name, "exists") == 0) {
        struct dns_answer a;
        ask(e, target.data, "A", &a);
        if (a.status == DNS_FAIL) {
            set_error(e->out, SPF_TEMPERROR, "%s", a.error);
            m = -1;
        } else {
            m = a.n > 0;
        }
        dns_answer_free(&a);
    } else if (strcmp(t->name, "include") == 0) {
        enum spf_result r = check(e, target.data, depth + 1);
        if (r == SPF_PASS)
            m = 1;
        else if (r == SPF_TEMPERROR || r == SPF_PERMERROR)
            m = -1;
        else if (r == SPF_NONE) {
            set_error(e->out, SPF_PERMERROR, "include:%s has no SPF record", target.data);
            m = -1;
        }
    } else { /* ptr: discouraged (§5.5); counted, never matches here */
        m = 0;
    }
    strbuf_free(&target);
    if (m >= 0 && too_many(e))
        return -1;
    return m;
bad_macro:
    strbuf_free(&target);
    set_error(e->out, SPF_PERMERROR, "bad macro in %s", t->name);
    return -1;
}

static enum spf_result qualified(char q)
{
    switch (q) {
    case '-': return SPF_FAIL;
    case '~': return SPF_SOFTFAIL;
    case '?': return SPF_NEUTRAL;
    default: return SPF_PASS;
    }
}

static enum spf_result check(struct eval *e, const char *domain, int depth)
{
    struct dns_answer txt;
    size_t count, first = 0;
    char *copy, *part, *save = NULL, err[160];
    char *redirect = NULL;
    enum spf_result r = SPF_NEUTRAL;
    bool decided = false;

    if (depth > SPF_MAX_DEPTH) {
        set_error(e->out, SPF_PERMERROR, "includes nested too deep at %s", domain);
        return SPF_PERMERROR;
    }
    ask(e, domain, "TXT", &txt);
    if (txt.status == DNS_FAIL) {
        set_error(e->out, SPF_TEMPERROR, "%s", txt.error);
        dns_answer_free(&txt);
        return SPF_TEMPERROR;
    }
    count = spf_select(txt.values, txt.n, &first);
    if (count == 0) {
        dns_answer_free(&txt);
        return SPF_NONE;
    }
    if (count > 1) {
        set_error(e->out, SPF_PERMERROR, "%s has more than one SPF record (RFC 7208 §4.5)",
                  domain);
        dns_answer_free(&txt);
        return SPF_PERMERROR;
    }
    if (spf_check_syntax(txt.values[first], err, sizeof(err)) < 0) {
        set_error(e->out, SPF_PERMERROR, "%.80s: %.70s", domain, err);
        dns_answer_free(&txt);
        return SPF_PERMERROR;
    }
    copy = strdup(txt.values[first] + 6);
    dns_answer_free(&txt);
    if (copy == NULL)
        return SPF_TEMPERROR;
    for (part = strtok_r(copy, " ", &save); part != NULL && !decided;
         part = strtok_r(NULL, " ", &save)) {
        struct term t;
        int m;
        if (split_term(part, &t, err, sizeof(err)) < 0)
            continue;
        if (t.modifier) {
            if (strcasecmp(t.name, "redirect") == 0)
                redirect = (char *)t.value;
            continue;
        }
        m = mechanism(e, &t, domain, depth);
        if (m < 0) {
            r = e->out->result == SPF_TEMPERROR ? SPF_TEMPERROR : SPF_PERMERROR;
            if (e->out->result != SPF_TEMPERROR)
                e->out->result = SPF_PERMERROR;
            decided = true;
        } else if (m == 1) {
            r = qualified(t.qualifier);
            if (depth == 0)
                snprintf(e->out->mechanism, sizeof(e->out->mechanism), "%s", part);
            decided = true;
        }
    }
    if (!decided && redirect != NULL) {
        struct strbuf target = STRBUF_INIT;
        e->out->lookups++;
        e->out->lookups_strict++;
        if (too_many(e)) {
            r = SPF_PERMERROR;
        } else if (expand(e, redirect, strlen(redirect), domain, &target) < 0) {
            set_error(e->out, SPF_PERMERROR, "bad macro in redirect");
            r = SPF_PERMERROR;
        } else {
            r = check(e, target.data, depth + 1);
            if (r == SPF_NONE) {
                set_error(e->out, SPF_PERMERROR, "redirect=%s has no SPF record", target.data);
                r = SPF_PERMERROR;
            }
        }
        strbuf_free(&target);
    }
    free(copy);
    return r;
}

void spf_check_host(const struct spf_dns *dns, const char *ip, const char *domain,
                    struct spf_eval *out)
{
    struct eval e = {.dns = dns, .ip = ip, .out = out};

    memset(out, 0, sizeof(*out));
    e.six = strchr(ip, ':') != NULL;
    if (inet_pton(e.six ? AF_INET6 : AF_INET, ip, e.addr) != 1) {
        out->result = SPF_PERMERROR;
        snprintf(out->error, sizeof(out->error), "not an IP address: %.60s", ip);
        return;
    }
    out->result = check(&e, domain, 0);
}
