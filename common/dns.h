/*
 * dns - the DNS questions modo-dkim and modo-dnscheck ask, with ldns.
 *
 * Settings ([dns]): resolver (the recursive resolver; empty: /etc/resolv.conf), timeout,
 * hosts (fixed addresses of name servers by name, each with its own port if need be).
 * Questions go to the resolver with recursion desired, or straight to one authoritative
 * server without it. Answers are checked for their question; a CNAME in an answer is
 * followed (at most 8), through the resolver.
 */
#ifndef MODO_DNS_H
#define MODO_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct conf;
struct dns;

/* One server: its name and one address ("192.0.2.1" or "2001:db8::1") and port. */
struct dns_server {
    char name[256];
    char addr[64];
    unsigned port;
};

enum dns_status {
    DNS_OK = 0,      /* answered (values may be empty: no record of that type) */
    DNS_NXDOMAIN,    /* the name does not exist */
    DNS_FAIL,        /* SERVFAIL, REFUSED, timeout, unreachable: no verdict */
};

/* The TXT records at a name: each record's strings concatenated (RFC 6376 §3.6.2.2). */
struct dns_answer {
    enum dns_status status;
    char **values; /* TXT: the records; A/AAAA: addresses; NS/MX: names (MX: "pref name") */
    size_t n;
    unsigned ttl;  /* smallest TTL of the records, or the negative TTL (SOA minimum) */
    char *cname;   /* the name the answer came from after a CNAME, if any */
    char error[160];
};

/* "addr[/len]" (an address or a CIDR network): family 4, 6, or 0 for either; *six says
 * which it was. 0, or -1 if it is not one. Pure. */
int dns_net_parse(const char *s, int family, unsigned char addr[16], bool *six, int *len);
/* Is address a (16 bytes, or 4 used) inside the network net/len? */
bool dns_net_contains(const unsigned char *net, int len, const unsigned char *a);

struct dns *dns_new(const struct conf *conf, struct strbuf *err);
void dns_free(struct dns **d);

/* Ask type ("TXT", "A", "AAAA", "NS", "MX") at name: from server (NULL: the resolver). */
void dns_ask(struct dns *d, const struct dns_server *server, const char *name, const char *type,
             struct dns_answer *out);
void dns_answer_free(struct dns_answer *a);

/*
 * The authoritative servers of the zone that holds name (the closest enclosing name with NS
 * records, as the resolver answers), each with its addresses ([dns] hosts first). 0, or
 * -1 with err.
 */
int dns_zone_servers(struct dns *d, const char *name, struct dns_server **out, size_t *n,
                     struct strbuf *err);

#endif
