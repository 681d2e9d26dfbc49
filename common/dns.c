/*
 * dns - DNS questions with ldns; see dns.h.
 */
#include "dns.h"
#include "conf.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DNS_MAX_HOSTS 32
#define DNS_MAX_CNAMES 8

struct dns {
    ldns_resolver *res; /* the recursive resolver */
    struct timeval timeout;
    struct dns_server hosts[DNS_MAX_HOSTS];
    size_t nhosts;
};

/* "ADDR", "ADDR:PORT", "[V6]:PORT" or "V6" -> addr, port. 0 or -1. */
static int parse_hostport(const char *s, char *addr, size_t size, unsigned *port, unsigned dflt)
{
    const char *colon = strrchr(s, ':');
    struct in6_addr a6;
    struct in_addr a4;
    char buf[80];

    *port = dflt;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || (size_t)(end - s - 1) >= sizeof(buf))
            return -1;
        snprintf(buf, sizeof(buf), "%.*s", (int)(end - s - 1), s + 1);
        if (end[1] == ':')
            *port = (unsigned)atoi(end + 2);
        else if (end[1] != '\0')
            return -1;
    } else if (colon != NULL && strchr(s, ':') == colon) {
        snprintf(buf, sizeof(buf), "%.*s", (int)(colon - s), s);
        *port = (unsigned)atoi(colon + 1);
    } else {
        snprintf(buf, sizeof(buf), "%s", s);
    }
    if (*port == 0 || *port > 65535)
        return -1;
    if ((inet_pton(AF_INET, buf, &a4) != 1 && inet_pton(AF_INET6, buf, &a6) != 1) ||
        strlen(buf) >= size)
        return -1;
    memcpy(addr, buf, strlen(buf) + 1);
    return 0;
}

int dns_net_parse(const char *s, int family, unsigned char addr[16], bool *six, int *len)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *six = family == 6 || (family == 0 && strchr(buf, ':') != NULL);
    if (inet_pton(*six ? AF_INET6 : AF_INET, buf, addr) != 1)
        return -1;
    *len = *six ? 128 : 32;
    if (slash != NULL) {
        char *end;
        long l = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || l < 0 || l > *len)
            return -1;
        *len = (int)l;
    }
    return 0;
}

bool dns_net_contains(const unsigned char *net, int len, const unsigned char *a)
{
    int full = len / 8, rest = len % 8;

    if (memcmp(a, net, (size_t)full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

static ldns_rdf *addr_rdf(const char *addr)
{
    return ldns_rdf_new_frm_str(strchr(addr, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, addr);
}

static ldns_resolver *resolver_for(const struct dns *d, const char *addr, unsigned port)
{
    ldns_resolver *r = ldns_resolver_new();
    ldns_rdf *ns = addr_rdf(addr);

    if (r == NULL || ns == NULL || ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
        if (ns)
            ldns_rdf_deep_free(ns);
        if (r)
            ldns_resolver_deep_free(r);
        return NULL;
    }
    ldns_rdf_deep_free(ns);
    ldns_resolver_set_port(r, (uint16_t)port);
    ldns_resolver_set_timeout(r, d->timeout);
    ldns_resolver_set_retry(r, 2);
    ldns_resolver_set_retrans(r, 1);
    ldns_resolver_set_edns_udp_size(r, 4096);
    ldns_resolver_set_fallback(r, true);
    return r;
}

static void name_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Equal domain names, whatever the case and the root's dot. */
static bool same_name(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);

    if (na > 1 && a[na - 1] == '.')
        na--;
    if (nb > 1 && b[nb - 1] == '.')
        nb--;
    return na == nb && strncasecmp(a, b, na) == 0;
}

struct dns *dns_new(const struct conf *conf, struct strbuf *err)
{
    struct dns *d = calloc(1, sizeof(*d));
    const char *resolver = conf_str(conf, "dns", "resolver");
    const char *hosts = conf_str(conf, "dns", "hosts");
    long long ms = conf_ms(conf, "dns", "timeout");
    char word[320];
    const char *p;
    int used;

    if (d == NULL) {
        strbuf_puts(err, "out of memory");
        return NULL;
    }
    d->timeout.tv_sec = (time_t)(ms / 1000);
    d->timeout.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    for (p = hosts; sscanf(p, " %319s%n", word, &used) == 1; p += used) {
        char *eq = strchr(word, '=');
        struct dns_server *h = &d->hosts[d->nhosts];
        if (eq == NULL || eq == word || d->nhosts == DNS_MAX_HOSTS ||
            parse_hostport(eq + 1, h->addr, sizeof(h->addr), &h->port, 53) < 0) {
            strbuf_printf(err, "[dns] hosts: \"%s\" is not NAME=ADDRESS[:PORT]", word);
            free(d);
            return NULL;
        }
        snprintf(h->name, sizeof(h->name), "%.*s", (int)(eq - word), word);
        name_lower(h->name);
        if (h->name[strlen(h->name) - 1] == '.')
            h->name[strlen(h->name) - 1] = '\0';
        d->nhosts++;
    }
    if (resolver[0] == '\0') {
        if (ldns_resolver_new_frm_file(&d->res, NULL) != LDNS_STATUS_OK) {
            strbuf_puts(err, "no resolver: /etc/resolv.conf cannot be read and [dns] resolver"
                             " is empty");
            free(d);
            return NULL;
        }
        ldns_resolver_set_timeout(d->res, d->timeout);
        ldns_resolver_set_retry(d->res, 2);
        ldns_resolver_set_edns_udp_size(d->res, 4096);
    } else {
        for (p = resolver; sscanf(p, " %319s%n", word, &used) == 1; p += used) {
            char addr[64];
            unsigned port;
            ldns_rdf *ns;
            if (parse_hostport(word, addr, sizeof(addr), &port, 53) < 0) {
                strbuf_printf(err, "[dns] resolver: \"%s\" is not ADDRESS[:PORT]", word);
                dns_free(&d);
                return NULL;
            }
            if (d->res == NULL) {
                d->res = resolver_for(d, addr, port);
                continue;
            }
            if ((ns = addr_rdf(addr)) != NULL) {
                ldns_resolver_push_nameserver(d->res, ns);
                ldns_rdf_deep_free(ns);
            }
        }
        if (d->res == NULL) {
            strbuf_puts(err, "[dns] resolver: no address");
            free(d);
            return NULL;
        }
    }
    ldns_resolver_set_dnsrch(d->res, false);
    ldns_resolver_set_defnames(d->res, false);
    ldns_resolver_set_recursive(d->res, true);
    return d;
}

void dns_free(struct dns **dp)
{
    struct dns *d = *dp;

    if (d == NULL)
        return;
    if (d->res != NULL)
        ldns_resolver_deep_free(d->res);
    free(d);
    *dp = NULL;
}

void dns_answer_free(struct dns_answer *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        free(a->values[i]);
    free(a->values);
    free(a->cname);
    memset(a, 0, sizeof(*a));
}

static void add_value(struct dns_answer *a, char *v)
{
    char **nv = realloc(a->values, (a->n + 1) * sizeof(*nv));

    if (nv == NULL) {
        free(v);
        return;
    }
    a->values = nv;
    a->values[a->n++] = v;
}

/* Text of one rdf without the trailing dot of names. */
static char *rdf_text(const ldns_rdf *rdf)
{
    char *s = ldns_rdf2str(rdf);
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    if (n > 1 && s[n - 1] == '.' && ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME)
        s[n - 1] = '\0';
    return s;
}

/* A TXT record's strings, concatenated as they are (no quotes, no escapes). */
static char *txt_value(const ldns_rr *rr)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    for (i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
        const uint8_t *data = ldns_rdf_data(rdf);
        size_t len = ldns_rdf_size(rdf);
        if (len > 0 && (size_t)data[0] + 1 <= len)
            strbuf_append(&sb, (const char *)data + 1, data[0]);
    }
    if (sb.data == NULL)
        strbuf_puts(&sb, "");
    return strbuf_steal(&sb);
}

static unsigned negative_ttl(const ldns_pkt *pkt)
{
    const ldns_rr_list *auth = ldns_pkt_authority(pkt);
    size_t i;

    for (i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(auth, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 7) {
            uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
            return min < ldns_rr_ttl(rr) ? min : ldns_rr_ttl(rr);
        }
    }
    return 0;
}

void dns_ask(struct dns *d, const struct dns_server *server, const char *name, const char *type,
             struct dns_answer *out)
{
    ldns_rr_type t = ldns_get_rr_type_by_name(type);
    ldns_resolver *res = d->res;
    char *owner = strdup(name);
    int hops;

    memset(out, 0, sizeof(*out));
    if (server != NULL && (res = resolver_for(d, server->addr, server->port)) == NULL) {
        out->status = DNS_FAIL;
        snprintf(out->error, sizeof(out->error), "bad server address %s", server->addr);
        free(owner);
        return;
    }
    if (server != NULL)
        ldns_resolver_set_recursive(res, false);
    /* ldns marks a server that failed once as unreachable for good: each question gets
       every server again (one timeout must not silence the resolver for a whole run) */
    for (size_t i = 0; i < ldns_resolver_nameserver_count(res); i++)
        ldns_resolver_set_nameserver_rtt(res, i, LDNS_RESOLV_RTT_MIN);
    for (hops = 0; owner != NULL && hops <= DNS_MAX_CNAMES; hops++) {
        ldns_rdf *qname = ldns_dname_new_frm_str(owner);
        ldns_pkt *pkt = NULL;
        ldns_status st;
        const ldns_rr_list *ans;
        char *next = NULL;
        size_t i;
        bool any = false;

        if (qname == NULL) {
            out->status = DNS_FAIL;
            snprintf(out->error, sizeof(out->error), "not a domain name: %.100s", owner);
            break;
        }
        st = ldns_resolver_query_status(&pkt, res, qname, t, LDNS_RR_CLASS_IN,
                                        server != NULL ? 0 : LDNS_RD);
        ldns_rdf_deep_free(qname);
        if (st != LDNS_STATUS_OK || pkt == NULL) {
            out->status = DNS_FAIL;
            snprintf(out->error, sizeof(out->error), "%s %s: %s", owner, type,
                     ldns_get_errorstr_by_id(st));
            if (pkt)
                ldns_pkt_free(pkt);
            break;
        }
        if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
            out->status = DNS_NXDOMAIN;
            out->ttl = negative_ttl(pkt);
            snprintf(out->error, sizeof(out->error), "%s: no such name", owner);
            ldns_pkt_free(pkt);
            break;
        }
        if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
            ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(pkt));
            out->status = DNS_FAIL;
            snprintf(out->error, sizeof(out->error), "%s %s: %s", owner, type,
                     rc ? rc->name : "error");
            ldns_pkt_free(pkt);
            break;
        }
        out->status = DNS_OK;
        ans = ldns_pkt_answer(pkt);
        for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(ans, i);
            char *own = rdf_text(ldns_rr_owner(rr));
            bool mine = own != NULL && same_name(own, owner);
            free(own);
            if (!mine)
                continue;
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && t != LDNS_RR_TYPE_CNAME) {
                free(next);
                next = rdf_text(ldns_rr_rdf(rr, 0));
                continue;
            }
            if (ldns_rr_get_type(rr) != t)
                continue;
            if (!any || ldns_rr_ttl(rr) < out->ttl)
                out->ttl = ldns_rr_ttl(rr);
            any = true;
            if (t == LDNS_RR_TYPE_TXT) {
                add_value(out, txt_value(rr));
            } else if (t == LDNS_RR_TYPE_MX && ldns_rr_rd_count(rr) == 2) {
                char *pref = ldns_rdf2str(ldns_rr_rdf(rr, 0)), *host = rdf_text(ldns_rr_rdf(rr, 1));
                struct strbuf sb = STRBUF_INIT;
                strbuf_printf(&sb, "%s %s", pref ? pref : "0", host ? host : ".");
                free(pref);
                free(host);
                add_value(out, strbuf_steal(&sb));
            } else if (ldns_rr_rd_count(rr) >= 1) {
                add_value(out, rdf_text(ldns_rr_rdf(rr, 0)));
            }
        }
        if (!any && next == NULL)
            out->ttl = negative_ttl(pkt);
        ldns_pkt_free(pkt);
        free(owner);
        owner = NULL;
        if (any || next == NULL) {
            free(next);
            break;
        }
        /* a CNAME: what it points to, from the resolver (it may be in another zone) */
        free(out->cname);
        out->cname = strdup(next);
        owner = next;
        if (res != d->res) {
            ldns_resolver_deep_free(res);
            res = d->res;
            server = NULL;
        }
        if (hops == DNS_MAX_CNAMES) {
            out->status = DNS_FAIL;
            snprintf(out->error, sizeof(out->error), "%s: more than %d CNAMEs", name,
                     DNS_MAX_CNAMES);
        }
    }
    free(owner);
    if (res != d->res)
        ldns_resolver_deep_free(res);
}

static const struct dns_server *fixed_host(const struct dns *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->nhosts; i++)
        if (same_name(d->hosts[i].name, name))
            return &d->hosts[i];
    return NULL;
}

int dns_zone_servers(struct dns *d, const char *name, struct dns_server **out, size_t *n,
                     struct strbuf *err)
{
    const char *zone = name;
    struct dns_answer ns;
    size_t i, j;

    *out = NULL;
    *n = 0;
    /* the closest enclosing name that has NS records */
    for (;;) {
        dns_ask(d, NULL, zone, "NS", &ns);
        if (ns.status == DNS_FAIL) {
            strbuf_printf(err, "the name servers of %s: %s", name, ns.error);
            dns_answer_free(&ns);
            return -1;
        }
        if (ns.status == DNS_OK && ns.n > 0 && ns.cname == NULL)
            break;
        dns_answer_free(&ns);
        zone = strchr(zone, '.');
        if (zone == NULL || zone[1] == '\0') {
            strbuf_printf(err, "no name server found for %s", name);
            return -1;
        }
        zone++;
    }
    for (i = 0; i < ns.n; i++) {
        const struct dns_server *fixed = fixed_host(d, ns.values[i]);
        static const char *const types[] = {"A", "AAAA"};
        struct dns_server *grown;
        if (fixed != NULL) {
            grown = realloc(*out, (*n + 1) * sizeof(**out));
            if (grown == NULL)
                break;
            *out = grown;
            (*out)[*n] = *fixed;
            snprintf((*out)[*n].name, sizeof((*out)[*n].name), "%s", ns.values[i]);
            (*n)++;
            continue;
        }
        for (j = 0; j < 2; j++) {
            struct dns_answer a;
            size_t k;
            dns_ask(d, NULL, ns.values[i], types[j], &a);
            for (k = 0; k < a.n; k++) {
                grown = realloc(*out, (*n + 1) * sizeof(**out));
                if (grown == NULL)
                    break;
                *out = grown;
                snprintf((*out)[*n].name, sizeof((*out)[*n].name), "%s", ns.values[i]);
                snprintf((*out)[*n].addr, sizeof((*out)[*n].addr), "%s", a.values[k]);
                (*out)[*n].port = 53;
                (*n)++;
            }
            if (j == 0 && a.status != DNS_OK && a.status != DNS_NXDOMAIN) {
                strbuf_printf(err, "the address of name server %s: %s", ns.values[i], a.error);
                dns_answer_free(&a);
                dns_answer_free(&ns);
                free(*out);
                *out = NULL;
                *n = 0;
                return -1;
            }
            dns_answer_free(&a);
        }
    }
    if (*n == 0)
        strbuf_printf(err, "no address for the name servers of %s", name);
    dns_answer_free(&ns);
    return *n > 0 ? 0 : -1;
}
