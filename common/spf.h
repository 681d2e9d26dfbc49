/*
 * spf - SPF records (RFC 7208): the syntax check modo-dnscheck reports, with Modoboa's error
 * strings where Modoboa is right and RFC 7208 where it is not, and check_host() with its
 * limits, over a DNS given by the caller (so the rules are tested without a network).
 *
 * Where Modoboa's checker is wrong (each has a unit test): unknown modifiers are ignored
 * (§6: "unrecognized modifiers MUST be ignored"), not errors; a/mx take the dual CIDR
 * form a:dom/24//64; a record is "v=spf1" followed by a space or its end, in any case.
 */
#ifndef MODO_SPF_H
#define MODO_SPF_H

#include <stdbool.h>
#include <stddef.h>

struct dns_answer;

/* 0 if the record is valid SPF, else -1 with the reason in err (Modoboa's wording). */
int spf_check_syntax(const char *record, char *err, size_t size);

/* Of several TXT values, the SPF ones: their count, the first's index in *first. */
size_t spf_select(char *const *values, size_t n, size_t *first);

enum spf_result {
    SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR
};
const char *spf_result_name(enum spf_result r);

/* The DNS the evaluation asks: type "TXT", "A", "AAAA" or "MX" at name (dns.h answers). */
struct spf_dns {
    void *ctx;
    void (*ask)(void *ctx, const char *name, const char *type, struct dns_answer *out);
};

struct spf_eval {
    enum spf_result result;
    unsigned lookups;        /* DNS-querying terms, as RFC 7208 §4.6.4 counts them (max 10) */
    unsigned lookups_strict; /* the same, counting each MX host's address query as well (as
                                some receivers do) */
    unsigned voids;          /* void lookups (max 2) */
    char mechanism[128];     /* the term that decided, if any */
    char error[160];         /* for temperror and permerror */
};

/* check_host(ip, domain, sender postmaster@domain): ip is "192.0.2.1" or "2001:db8::1". */
void spf_check_host(const struct spf_dns *dns, const char *ip, const char *domain,
                    struct spf_eval *out);

#endif
