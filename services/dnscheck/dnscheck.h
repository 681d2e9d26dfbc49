/*
 * modo-dnscheck - what its files share: the settings, a domain to check and its report.
 */
#ifndef MODO_DNSCHECK_H
#define MODO_DNSCHECK_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct dns;

#define DC_MAX_NETS 64
#define DC_MAX_PROVIDERS 32
#define DC_MAX_SENDERS 16

struct dc_settings {
    bool mx, spf, dkim, dmarc, autoconfig, dnsbl, ipv6_mx, dmarc_critical, authoritative;
    /* valid_mxs: networks (address bytes, family, prefix) */
    struct {
        unsigned char addr[16];
        bool six;
        int len;
    } nets[DC_MAX_NETS];
    size_t nnets;
    char providers[DC_MAX_PROVIDERS][254];
    size_t nproviders;
    char senders[DC_MAX_SENDERS][64]; /* this server's sending addresses */
    size_t nsenders;
};

enum dc_severity { DC_OK, DC_INFO, DC_WARNING, DC_CRITICAL };

struct dc_finding {
    char check[16];      /* mx, spf, dkim, dmarc, autoconfig, autodiscover, mta-sts, tls-rpt, dnsbl */
    enum dc_severity severity;
    char message[300];
    char rule[64];       /* the RFC section it breaks */
    char fix[600];       /* the record that would fix it, if one does */
};

struct dc_mx {
    char name[256];
    char addr[64];
    bool managed;
};

struct dc_dnsbl {
    size_t mx; /* index in mxs */
    char provider[254];
    char status[46];  /* '' not listed, or the answer */
    bool listed, error;
};

/* What dnstools_dnsrecord keeps per type; found false: no row (Modoboa stores none). */
struct dc_record {
    bool found, valid;
    char value[2048];
    char error[51];
};

enum { DC_SPF, DC_DKIM, DC_DMARC, DC_AUTOCONFIG, DC_AUTODISCOVER, DC_NRECORDS };

struct dc_domain {
    /* in */
    char id[24], name[254];
    bool dkim_enabled;
    char selector[64];
    char *public_key; /* admin_domain.dkim_public_key */
    char key_path[256];
    /* out */
    bool skipped; /* reserved TLD */
    struct dc_mx *mxs;
    size_t nmx;
    bool mx_lookup_failed, null_mx;
    struct dc_dnsbl *dnsbl;
    size_t ndnsbl;
    struct dc_record records[DC_NRECORDS];
    struct dc_finding *findings;
    size_t nfindings;
    bool critical;
};

int dc_settings_load(struct dc_settings *s, const struct conf *conf, const char *valid_mxs,
                     char *err, size_t size);
/* Run every enabled check of one domain (resolver: d). */
void dc_check_domain(const struct dc_settings *s, struct dns *d, struct dc_domain *dom);
void dc_domain_free(struct dc_domain *dom);
const char *dc_record_type(int i);

#endif
