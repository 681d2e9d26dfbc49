/*
 * dmarc - DMARC policy records (RFC 7489, and RFC 9989's np, psd and t) and DNSBL
 * query names and answers (RFC 5782): pure functions for modo-dnscheck.
 *
 * The DMARC check gives Modoboa's error strings (its dnstools tests) and accepts what
 * Modoboa refuses wrongly: fo as a colon-separated list (fo=1:d), values holding "=",
 * RFC 9989's tags.
 */
#ifndef MODO_DMARC_H
#define MODO_DMARC_H

#include <stdbool.h>
#include <stddef.h>

struct dmarc_record {
    char p[16], sp[16], np[16];
    int pct;               /* -1: not given */
    bool has_rf, has_ri;   /* tags RFC 9989 removed: noted */
    char rua[512], ruf[512]; /* the URIs as given (comma-separated) */
};

/* 0 valid, -1 with err (Modoboa's wording where it has one). */
int dmarc_parse(const char *record, struct dmarc_record *r, char *err, size_t size);

/* The domains of mailto: URIs in a rua/ruf list, one per call: *pos starts at 0. */
bool dmarc_next_mailto_domain(const char *list, size_t *pos, char *domain, size_t size);

/* DNSBL: the name to ask A for ip at zone (IPv4 reversed octets, IPv6 reversed nibbles,
 * 32 labels). 0, or -1 if ip is not an address. */
int dnsbl_query_name(const char *ip, const char *zone, char *out, size_t size);

enum dnsbl_verdict { DNSBL_CLEAN, DNSBL_LISTED, DNSBL_ERROR };
/* An A answer of a DNSBL: listed when in 127.0.0.0/8 with a last octet <= 15 (Modoboa's
 * rule); 127.255.255.x is the list refusing the query (an error, never "clean"); another
 * 127.x answer is not a listing. */
enum dnsbl_verdict dnsbl_answer(const char *a);

#endif
