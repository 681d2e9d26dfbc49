/*
 * checks - one domain's DNS verdict (spec modoboa.md §5.2, protocols.md §6): MX, SPF, DKIM,
 * DMARC, autoconfig/autodiscover, MTA-STS, TLS-RPT and DNSBL, each finding with the rule it
 * breaks and the record that would fix it. No database here: dnscheck.c stores the report.
 */
#include "dnscheck.h"

#include "conf.h"
#include "dkimkey.h"
#include "dkimrec.h"
#include "dmarc.h"
#include "dns.h"
#include "spf.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const record_types[DC_NRECORDS] = {"spf", "dkim", "dmarc", "autoconfig",
                                                      "autodiscover"};

const char *dc_record_type(int i)
{
    return record_types[i];
}

int dc_settings_load(struct dc_settings *s, const struct conf *conf, const char *valid_mxs,
                     char *err, size_t size)
{
    char word[300];
    const char *p;
    int used;

    memset(s, 0, sizeof(*s));
    s->mx = conf_bool(conf, "dnscheck", "mx_checks");
    s->spf = conf_bool(conf, "dnscheck", "spf_checks");
    s->dkim = conf_bool(conf, "dnscheck", "dkim_checks");
    s->dmarc = conf_bool(conf, "dnscheck", "dmarc_checks");
    s->autoconfig = conf_bool(conf, "dnscheck", "autoconfig_checks");
    s->dnsbl = conf_bool(conf, "dnscheck", "dnsbl_checks");
    s->ipv6_mx = conf_bool(conf, "dnscheck", "ipv6_mx_checks");
    s->dmarc_critical = conf_bool(conf, "dnscheck", "dmarc_critical");
    s->authoritative = conf_bool(conf, "dnscheck", "authoritative");
    for (p = valid_mxs; sscanf(p, " %299s%n", word, &used) == 1; p += used) {
        if (s->nnets == DC_MAX_NETS ||
            dns_net_parse(word, 0, s->nets[s->nnets].addr, &s->nets[s->nnets].six,
                          &s->nets[s->nnets].len) < 0) {
            snprintf(err, size, "valid_mxs: \"%.100s\" is not an address or network", word);
            return -1;
        }
        s->nnets++;
    }
    for (p = conf_str(conf, "dnscheck", "dnsbl_providers"); sscanf(p, " %253s%n", word, &used) == 1;
         p += used) {
        if (s->nproviders == DC_MAX_PROVIDERS) {
            snprintf(err, size, "[dnscheck] dnsbl_providers: more than %d", DC_MAX_PROVIDERS);
            return -1;
        }
        snprintf(s->providers[s->nproviders++], sizeof(s->providers[0]), "%.253s", word);
    }
    for (p = conf_str(conf, "dnscheck", "sending_addresses"); sscanf(p, " %63s%n", word, &used) == 1;
         p += used) {
        unsigned char a[16];
        if (s->nsenders == DC_MAX_SENDERS ||
            (inet_pton(AF_INET, word, a) != 1 && inet_pton(AF_INET6, word, a) != 1)) {
            snprintf(err, size, "[dnscheck] sending_addresses: \"%.60s\" is not an address", word);
            return -1;
        }
        snprintf(s->senders[s->nsenders++], sizeof(s->senders[0]), "%.63s", word);
    }
    return 0;
}

static __attribute__((format(printf, 6, 7))) void
finding(struct dc_domain *dom, const char *check, enum dc_severity sev, const char *rule,
        const char *fix, const char *fmt, ...)
{
    struct dc_finding *f, *grown = realloc(dom->findings, (dom->nfindings + 1) * sizeof(*f));
    va_list ap;

    if (grown == NULL)
        return;
    dom->findings = grown;
    f = &dom->findings[dom->nfindings++];
    memset(f, 0, sizeof(*f));
    snprintf(f->check, sizeof(f->check), "%s", check);
    f->severity = sev;
    snprintf(f->rule, sizeof(f->rule), "%s", rule ? rule : "");
    snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}

static void set_record(struct dc_record *r, const char *value, bool valid, const char *error)
{
    r->found = true;
    r->valid = valid;
    snprintf(r->value, sizeof(r->value), "%s", value);
    snprintf(r->error, sizeof(r->error), "%.50s", valid ? "" : error); /* Modoboa keeps 50 */
}

/* ---- asking: the domain's own names from its authoritative servers ---- */

struct asker {
    struct dns *dns;
    struct dns_server *servers;
    size_t nservers;
    struct dc_domain *dom;
};

/* Is name the domain or below it? */
static bool own_name(const struct dc_domain *dom, const char *name)
{
    size_t n = strlen(name), d = strlen(dom->name);

    return strcasecmp(name, dom->name) == 0 ||
           (n > d + 1 && name[n - d - 1] == '.' && strcasecmp(name + n - d, dom->name) == 0);
}

static void ask(struct asker *k, const char *name, const char *type, struct dns_answer *out)
{
    size_t i;

    if (k->nservers > 0 && own_name(k->dom, name)) {
        for (i = 0; i < k->nservers; i++) {
            dns_ask(k->dns, &k->servers[i], name, type, out);
            if (out->status != DNS_FAIL)
                return;
            if (i + 1 < k->nservers)
                dns_answer_free(out);
        }
        return;
    }
    dns_ask(k->dns, NULL, name, type, out);
}

static void spf_ask(void *ctx, const char *name, const char *type, struct dns_answer *out)
{
    ask(ctx, name, type, out);
}

/* ---- MX ---- */

static bool managed(const struct dc_settings *s, const char *addr)
{
    unsigned char a[16];
    bool six = strchr(addr, ':') != NULL;
    size_t i;

    if (inet_pton(six ? AF_INET6 : AF_INET, addr, a) != 1)
        return false;
    for (i = 0; i < s->nnets; i++)
        if (s->nets[i].six == six && dns_net_contains(s->nets[i].addr, s->nets[i].len, a))
            return true;
    return false;
}

static void add_mx(struct dc_domain *dom, const char *name, const char *addr, bool is_managed)
{
    struct dc_mx *grown = realloc(dom->mxs, (dom->nmx + 1) * sizeof(*grown));

    if (grown == NULL)
        return;
    dom->mxs = grown;
    snprintf(dom->mxs[dom->nmx].name, sizeof(dom->mxs[0].name), "%s", name);
    snprintf(dom->mxs[dom->nmx].addr, sizeof(dom->mxs[0].addr), "%s", addr);
    dom->mxs[dom->nmx].managed = is_managed;
    dom->nmx++;
}

static void check_mx(const struct dc_settings *s, struct asker *k, struct dc_domain *dom)
{
    struct dns_answer mx;
    struct strbuf fix = STRBUF_INIT, bad = STRBUF_INIT;
    size_t i, managed_count = 0;

    ask(k, dom->name, "MX", &mx);
    strbuf_printf(&fix, "%s. IN MX 10 mail.%s.", dom->name, dom->name);
    if (mx.status == DNS_FAIL) {
        dom->mx_lookup_failed = true;
        finding(dom, "mx", DC_CRITICAL, NULL, NULL, "the MX records cannot be read: %s", mx.error);
    } else if (mx.n == 0) {
        finding(dom, "mx", DC_CRITICAL, "RFC 5321 §5.1", fix.data, "Domain has no MX record");
    }
    for (i = 0; i < mx.n; i++) {
        const char *host = strchr(mx.values[i], ' ');
        unsigned char lit[16];
        static const char *const types[2] = {"A", "AAAA"};
        host = host ? host + 1 : mx.values[i];
        if (strcmp(host, ".") == 0 || host[0] == '\0') {
            dom->null_mx = true;
            finding(dom, "mx", DC_CRITICAL, "RFC 7505", fix.data,
                    "null MX: the domain says it accepts no mail, yet it is hosted here");
            continue;
        }
        if (inet_pton(AF_INET, host, lit) == 1 || inet_pton(AF_INET6, host, lit) == 1) {
            finding(dom, "mx", DC_CRITICAL, "RFC 5321 §5.1", fix.data,
                    "MX %s is an IP address, not a host name", host);
            continue;
        }
        for (int t = 0; t < (s->ipv6_mx ? 2 : 1); t++) {
            struct dns_answer a;
            dns_ask(k->dns, NULL, host, types[t], &a);
            if (a.cname != NULL)
                finding(dom, "mx", DC_WARNING, "RFC 5321 §5.1", NULL,
                        "MX %s is an alias (CNAME to %s): it must name the host itself", host,
                        a.cname);
            if (t == 0 && a.status == DNS_NXDOMAIN)
                finding(dom, "mx", DC_CRITICAL, "RFC 5321 §5.1", fix.data,
                        "MX %s does not exist", host);
            for (size_t j = 0; j < a.n; j++) {
                bool m = managed(s, a.values[j]);
                add_mx(dom, host, a.values[j], m);
                if (m)
                    managed_count++;
                else
                    strbuf_printf(&bad, "%s%s (%s)", bad.len ? ", " : "", host, a.values[j]);
            }
            dns_answer_free(&a);
        }
    }
    if (s->nnets > 0 && dom->nmx > 0 && managed_count == 0)
        finding(dom, "mx", DC_CRITICAL, NULL, fix.data, "Invalid MX record: %s", bad.data);
    dns_answer_free(&mx);
    strbuf_free(&fix);
    strbuf_free(&bad);
}

/* ---- SPF ---- */

static void check_spf(const struct dc_settings *s, struct asker *k, struct dc_domain *dom)
{
    struct dns_answer txt;
    struct strbuf fix = STRBUF_INIT;
    size_t count, first = 0, i;
    char err[160];

    strbuf_printf(&fix, "%s. IN TXT \"v=spf1 mx -all\"", dom->name);
    ask(k, dom->name, "TXT", &txt);
    if (txt.status == DNS_FAIL) {
        finding(dom, "spf", DC_CRITICAL, NULL, NULL, "TXT records cannot be read: %s", txt.error);
        goto out;
    }
    count = spf_select(txt.values, txt.n, &first);
    if (count == 0) {
        finding(dom, "spf", DC_CRITICAL, "RFC 7208 §4.5", fix.data, "no SPF record");
        goto out;
    }
    if (count > 1) {
        set_record(&dom->records[DC_SPF], txt.values[first], false, "More than one SPF record");
        finding(dom, "spf", DC_CRITICAL, "RFC 7208 §4.5", "merge them into one TXT record",
                "%zu SPF records: receivers answer permerror (Modoboa checks only the first)",
                count);
        goto out;
    }
    if (spf_check_syntax(txt.values[first], err, sizeof(err)) < 0) {
        set_record(&dom->records[DC_SPF], txt.values[first], false, err);
        finding(dom, "spf", DC_CRITICAL, "RFC 7208 §12", fix.data, "%s", err);
        goto out;
    }
    set_record(&dom->records[DC_SPF], txt.values[first], true, "");
    {
        char *copy = strdup(txt.values[first]), *tok, *save = NULL;
        for (tok = copy ? strtok_r(copy, " ", &save) : NULL; tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
            if (strcasecmp(tok, "all") == 0 || strcasecmp(tok, "+all") == 0)
                finding(dom, "spf", DC_WARNING, "RFC 7208 §5.1", fix.data,
                        "+all lets every host on the Internet send as the domain");
            else if (strcasecmp(tok, "?all") == 0)
                finding(dom, "spf", DC_INFO, "RFC 7208 §5.1", NULL, "?all gives no verdict");
        }
        free(copy);
    }
    for (i = 0; i < s->nsenders; i++) {
        struct spf_dns sd = {k, spf_ask};
        struct spf_eval e;
        spf_check_host(&sd, s->senders[i], dom->name, &e);
        if (e.result == SPF_PASS) {
            if (e.lookups_strict > 10)
                finding(dom, "spf", DC_WARNING, "RFC 7208 §4.6.4", NULL,
                        "%u lookups (within the limit as RFC 7208 counts, %u counting each MX"
                        " host's address: some receivers fail it)",
                        e.lookups, e.lookups_strict);
            continue;
        }
        if (e.result == SPF_TEMPERROR || e.result == SPF_PERMERROR) {
            finding(dom, "spf", e.result == SPF_PERMERROR ? DC_CRITICAL : DC_WARNING,
                    "RFC 7208 §4.6.4", NULL, "evaluating it for %s: %s (%s; %u lookups, %u void)",
                    s->senders[i], spf_result_name(e.result), e.error, e.lookups, e.voids);
            if (e.result == SPF_PERMERROR) {
                dom->records[DC_SPF].valid = false;
                snprintf(dom->records[DC_SPF].error, sizeof(dom->records[0].error), "%.50s",
                         e.error);
            }
        } else {
            struct strbuf f = STRBUF_INIT;
            strbuf_printf(&f, "add ip%c:%s to the record", strchr(s->senders[i], ':') ? '6' : '4',
                          s->senders[i]);
            finding(dom, "spf", DC_WARNING, "RFC 7208 §2.6", f.data,
                    "this server's address %s gets %s", s->senders[i], spf_result_name(e.result));
            strbuf_free(&f);
        }
    }
out:
    dns_answer_free(&txt);
    strbuf_free(&fix);
}

/* ---- DKIM ---- */

static void check_dkim(struct asker *k, struct dc_domain *dom)
{
    struct dns_answer txt;
    struct strbuf name = STRBUF_INIT, fix = STRBUF_INIT, value = STRBUF_INIT, err = STRBUF_INIT;
    struct dkimkey key;
    const char *want = dom->public_key;
    bool loaded = false;
    size_t i;

    if (dom->key_path[0] != '\0' && dkimkey_load(dom->key_path, &key, &err) == 0) {
        loaded = true;
        want = key.p; /* the key the signer will load, not only what the database says */
        if (dom->public_key == NULL || strcmp(dom->public_key, key.p) != 0)
            finding(dom, "dkim", DC_WARNING, NULL, NULL,
                    "the key file %s does not hold the public key in the database",
                    dom->key_path);
    }
    strbuf_printf(&name, "%s._domainkey.%s", dom->selector, dom->name);
    dkim_record_value(&value, DKIM_KEY_RSA, want ? want : "");
    dkim_record_zone(&fix, dom->selector, dom->name, 3600, value.data);
    while (fix.len > 0 && fix.data[fix.len - 1] == '\n')
        fix.data[--fix.len] = '\0';
    ask(k, name.data, "TXT", &txt);
    if (txt.status == DNS_FAIL) {
        finding(dom, "dkim", DC_CRITICAL, NULL, NULL, "%s cannot be read: %s", name.data, txt.error);
        goto out;
    }
    if (txt.n == 0) {
        finding(dom, "dkim", DC_CRITICAL, "RFC 6376 §3.6.2", fix.data, "no DKIM record at %s",
                name.data);
        goto out;
    }
    for (i = 0; i < txt.n; i++) {
        struct dkim_record rec;
        const char *perr = NULL;
        if (dkim_record_parse(txt.values[i], strlen(txt.values[i]), &rec, &perr) < 0) {
            set_record(&dom->records[DC_DKIM], txt.values[i], false, perr);
            finding(dom, "dkim", DC_CRITICAL, "RFC 6376 §3.6.1", fix.data, "%s: %s", name.data,
                    perr);
            continue;
        }
        if (rec.revoked) {
            set_record(&dom->records[DC_DKIM], txt.values[i], false, "Key revoked (p= empty)");
            finding(dom, "dkim", DC_CRITICAL, "RFC 6376 §3.6.1", fix.data,
                    "%s is revoked (p= empty)", name.data);
        } else if (want != NULL && !dkim_record_has_key(&rec, want)) {
            set_record(&dom->records[DC_DKIM], txt.values[i], false, "Public key mismatchs");
            finding(dom, "dkim", DC_CRITICAL, NULL, fix.data,
                    "%s publishes another key than the signer's", name.data);
        } else {
            set_record(&dom->records[DC_DKIM], txt.values[i], true, "");
            if (!rec.has_version)
                finding(dom, "dkim", DC_INFO, "RFC 6376 §3.6.1", NULL,
                        "no v=DKIM1 (optional: the record is valid; Modoboa reports it missing)");
            if (rec.testing)
                finding(dom, "dkim", DC_WARNING, "RFC 6376 §3.6.1", NULL,
                        "t=y: receivers treat signatures as a test");
            dkim_record_free(&rec);
            break;
        }
        dkim_record_free(&rec);
    }
out:
    if (loaded)
        dkimkey_free(&key);
    dns_answer_free(&txt);
    strbuf_free(&name);
    strbuf_free(&fix);
    strbuf_free(&value);
    strbuf_free(&err);
}

/* ---- DMARC ---- */

static bool under(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);

    return strcasecmp(name, domain) == 0 ||
           (n > d && name[n - d - 1] == '.' && strcasecmp(name + n - d, domain) == 0);
}

static void check_dmarc(struct asker *k, struct dc_domain *dom)
{
    struct dns_answer txt;
    struct strbuf name = STRBUF_INIT, fix = STRBUF_INIT;
    struct dmarc_record rec;
    char err[160];
    size_t i, found = 0, which = 0;

    strbuf_printf(&name, "_dmarc.%s", dom->name);
    strbuf_printf(&fix, "_dmarc.%s. IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@%s\"",
                  dom->name, dom->name);
    ask(k, name.data, "TXT", &txt);
    if (txt.status == DNS_FAIL) {
        finding(dom, "dmarc", DC_CRITICAL, NULL, NULL, "%s cannot be read: %s", name.data,
                txt.error);
        goto out;
    }
    for (i = 0; i < txt.n; i++)
        if (strncmp(txt.values[i], "v=DMARC1", 8) == 0 && found++ == 0)
            which = i;
    if (found == 0) {
        finding(dom, "dmarc", DC_CRITICAL, "RFC 7489 §6.1", fix.data, "no DMARC record");
        goto out;
    }
    if (found > 1) {
        set_record(&dom->records[DC_DMARC], txt.values[which], false, "More than one DMARC record");
        finding(dom, "dmarc", DC_CRITICAL, "RFC 7489 §6.6.3", fix.data,
                "%zu DMARC records: receivers apply no policy", found);
        goto out;
    }
    if (dmarc_parse(txt.values[which], &rec, err, sizeof(err)) < 0) {
        set_record(&dom->records[DC_DMARC], txt.values[which], false, err);
        finding(dom, "dmarc", DC_CRITICAL, "RFC 7489 §6.3", fix.data, "%s", err);
        goto out;
    }
    set_record(&dom->records[DC_DMARC], txt.values[which], true, "");
    if (rec.pct >= 0 && rec.pct < 100)
        finding(dom, "dmarc", DC_INFO, "RFC 7489 §6.3", NULL,
                "pct=%d: the policy applies to part of the mail (RFC 9989 drops pct; t=y is its"
                " replacement)",
                rec.pct);
    if (rec.has_rf || rec.has_ri)
        finding(dom, "dmarc", DC_INFO, "RFC 9989", NULL, "rf= and ri= are no longer used");
    /* reports sent to another domain need its authorization (RFC 7489 §7.1) */
    for (int list = 0; list < 2; list++) {
        const char *uris = list == 0 ? rec.rua : rec.ruf;
        char rdomain[256];
        size_t pos = 0;
        while (dmarc_next_mailto_domain(uris, &pos, rdomain, sizeof(rdomain))) {
            struct strbuf auth = STRBUF_INIT, afix = STRBUF_INIT;
            struct dns_answer a;
            bool ok = false;
            if (under(rdomain, dom->name))
                continue;
            strbuf_printf(&auth, "%s._report._dmarc.%s", dom->name, rdomain);
            dns_ask(k->dns, NULL, auth.data, "TXT", &a);
            for (i = 0; i < a.n; i++)
                ok = ok || strncmp(a.values[i], "v=DMARC1", 8) == 0;
            if (!ok && a.status != DNS_FAIL) {
                strbuf_printf(&afix, "%s. IN TXT \"v=DMARC1\"", auth.data);
                finding(dom, "dmarc", DC_WARNING, "RFC 7489 §7.1", afix.data,
                        "%s does not authorize reports for %s: receivers will not send them",
                        rdomain, dom->name);
            }
            dns_answer_free(&a);
            strbuf_free(&auth);
            strbuf_free(&afix);
        }
    }
out:
    dns_answer_free(&txt);
    strbuf_free(&name);
    strbuf_free(&fix);
}

/* ---- autoconfig, autodiscover, MTA-STS, TLS-RPT ---- */

static void check_autoconfig(const struct dc_settings *s, struct asker *k, struct dc_domain *dom,
                             int which, const char *label)
{
    static const char *const types[] = {"A", "CNAME", "AAAA"};
    struct strbuf name = STRBUF_INIT, fix = STRBUF_INIT;

    strbuf_printf(&name, "%s.%s", label, dom->name);
    strbuf_printf(&fix, "%s. IN CNAME mail.%s.", name.data, dom->name);
    bool unreadable = false;
    char why[160] = "";

    for (int t = 0; t < (s->ipv6_mx ? 3 : 2); t++) {
        struct dns_answer a;
        ask(k, name.data, types[t], &a);
        if (a.status == DNS_FAIL && !unreadable) {
            unreadable = true;
            snprintf(why, sizeof(why), "%s", a.error);
        }
        if (a.n > 0) {
            set_record(&dom->records[which], a.cname ? a.cname : a.values[0], true, "");
            dns_answer_free(&a);
            break;
        }
        dns_answer_free(&a);
    }
    if (!dom->records[which].found && unreadable)
        finding(dom, label, DC_CRITICAL, NULL, NULL, "%s cannot be read: %s", name.data, why);
    else if (!dom->records[which].found)
        finding(dom, label, DC_CRITICAL, NULL, fix.data,
                "%s does not exist: mail clients cannot configure themselves", name.data);
    strbuf_free(&name);
    strbuf_free(&fix);
}

static void check_tag_record(struct asker *k, struct dc_domain *dom, const char *check,
                             const char *prefix, const char *version, const char *required,
                             const char *rule)
{
    struct dns_answer txt;
    struct strbuf name = STRBUF_INIT;
    size_t i, n = 0;

    strbuf_printf(&name, "%s.%s", prefix, dom->name);
    ask(k, name.data, "TXT", &txt);
    for (i = 0; i < txt.n; i++) {
        if (strncmp(txt.values[i], version, strlen(version)) != 0)
            continue;
        n++;
        if (strstr(txt.values[i], required) == NULL)
            finding(dom, check, DC_WARNING, rule, NULL, "%s: %s has no %s", name.data,
                    txt.values[i], required);
    }
    if (n > 1)
        finding(dom, check, DC_WARNING, rule, NULL, "%s: %zu records (exactly one is read)",
                name.data, n);
    if (n == 0 && txt.status != DNS_FAIL)
        finding(dom, check, DC_INFO, rule, NULL, "%s: none published", name.data);
    dns_answer_free(&txt);
    strbuf_free(&name);
}

/* ---- DNSBL ---- */

static void check_dnsbl(const struct dc_settings *s, struct asker *k, struct dc_domain *dom)
{
    size_t i, j, p;

    for (i = 0; i < dom->nmx; i++) {
        bool seen = false;
        for (j = 0; j < i; j++)
            seen = seen || strcmp(dom->mxs[j].addr, dom->mxs[i].addr) == 0;
        if (seen)
            continue;
        for (p = 0; p < s->nproviders; p++) {
            char qname[512];
            struct dns_answer a;
            struct dc_dnsbl r = {.mx = i};
            struct dc_dnsbl *grown;
            if (dnsbl_query_name(dom->mxs[i].addr, s->providers[p], qname, sizeof(qname)) < 0)
                continue;
            snprintf(r.provider, sizeof(r.provider), "%s", s->providers[p]);
            dns_ask(k->dns, NULL, qname, "A", &a);
            if (a.status == DNS_FAIL) {
                r.error = true;
                finding(dom, "dnsbl", DC_WARNING, NULL, NULL,
                        "%s cannot be asked about %s (%s): no verdict", s->providers[p],
                        dom->mxs[i].addr, a.error);
            } else if (a.n > 0) {
                enum dnsbl_verdict v = DNSBL_CLEAN;
                for (j = 0; j < a.n && v != DNSBL_LISTED; j++) {
                    enum dnsbl_verdict one = dnsbl_answer(a.values[j]);
                    if (one == DNSBL_LISTED || (one == DNSBL_ERROR && v == DNSBL_CLEAN)) {
                        v = one;
                        snprintf(r.status, sizeof(r.status), "%s", a.values[j]);
                    }
                }
                if (v == DNSBL_LISTED) {
                    r.listed = true;
                    finding(dom, "dnsbl", DC_CRITICAL, "RFC 5782 §2.1", NULL,
                            "MX %s (%s) listed by DNSBL provider %s (%s)", dom->mxs[i].name,
                            dom->mxs[i].addr, s->providers[p], r.status);
                } else if (v == DNSBL_ERROR) {
                    r.error = true;
                    finding(dom, "dnsbl", DC_WARNING, "RFC 5782 §5", NULL,
                            "%s refused the query for %s (%s: the resolver is blocked or"
                            " rate-limited by the list): no verdict, not clean",
                            s->providers[p], dom->mxs[i].addr, r.status);
                    r.status[0] = '\0';
                } else {
                    r.status[0] = '\0';
                }
            }
            dns_answer_free(&a);
            grown = realloc(dom->dnsbl, (dom->ndnsbl + 1) * sizeof(*grown));
            if (grown == NULL)
                continue;
            dom->dnsbl = grown;
            dom->dnsbl[dom->ndnsbl++] = r;
        }
    }
}

static bool reserved(const char *name)
{
    static const char *const tlds[] = {"example", "invalid", "localhost", "test"};
    const char *dot = strrchr(name, '.');
    const char *tld = dot ? dot + 1 : name;

    for (size_t i = 0; i < sizeof(tlds) / sizeof(tlds[0]); i++)
        if (strcasecmp(tld, tlds[i]) == 0)
            return true;
    return false;
}

void dc_check_domain(const struct dc_settings *s, struct dns *d, struct dc_domain *dom)
{
    struct asker k = {.dns = d, .dom = dom};
    struct strbuf err = STRBUF_INIT;
    size_t i;

    if (reserved(dom->name)) {
        dom->skipped = true; /* as Modoboa: reserved TLDs are not checked */
        return;
    }
    if (s->authoritative && dns_zone_servers(d, dom->name, &k.servers, &k.nservers, &err) < 0) {
        finding(dom, "ns", DC_WARNING, NULL, NULL,
                "the authoritative servers cannot be found (%s): asking the resolver", err.data);
        k.nservers = 0;
    }
    if (s->mx)
        check_mx(s, &k, dom);
    if (s->spf)
        check_spf(s, &k, dom);
    if (s->dkim && dom->dkim_enabled && dom->public_key != NULL && dom->public_key[0] != '\0')
        check_dkim(&k, dom);
    if (s->dmarc)
        check_dmarc(&k, dom);
    if (s->autoconfig) {
        check_autoconfig(s, &k, dom, DC_AUTOCONFIG, "autoconfig");
        check_autoconfig(s, &k, dom, DC_AUTODISCOVER, "autodiscover");
    }
    check_tag_record(&k, dom, "mta-sts", "_mta-sts", "v=STSv1", "id=", "RFC 8461 §3.1");
    check_tag_record(&k, dom, "tls-rpt", "_smtp._tls", "v=TLSRPTv1", "rua=", "RFC 8460 §3");
    if (s->dnsbl)
        check_dnsbl(s, &k, dom);
    for (i = 0; i < dom->nfindings; i++) {
        const struct dc_finding *f = &dom->findings[i];
        if (f->severity == DC_CRITICAL && (strcmp(f->check, "dmarc") != 0 || s->dmarc_critical))
            dom->critical = true;
    }
    free(k.servers);
    strbuf_free(&err);
}

void dc_domain_free(struct dc_domain *dom)
{
    free(dom->public_key);
    free(dom->mxs);
    free(dom->dnsbl);
    free(dom->findings);
    memset(dom, 0, sizeof(*dom));
}
