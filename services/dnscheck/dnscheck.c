/*
 * modo-dnscheck - a DNS verdict per domain (spec modoboa.md §5): MX, SPF, DKIM, DMARC,
 * autoconfig/autodiscover, MTA-STS, TLS-RPT and DNSBL.
 *
 *   modo-dnscheck [-c modo.conf] [--domain D] [--all] [--json]
 *
 * Without --domain: the enabled domains with DNS checks on (--all: every domain). Domains
 * are checked [dnscheck] concurrency at a time, each thread with its own resolver; every
 * query has [dns] timeout. Results are stored as Modoboa keeps them (admin_mxrecord,
 * admin_dnsblresult, dnstools_dnsrecord, last_dns_check_execution) and its alarms are opened
 * and closed (domain_has_no_mx, domain_invalid_mx, domain_mx_in_dnsbl_<provider>).
 *
 * Exit status: 0 no domain is critical, 1 one is (or something failed), 2 usage, 4 the
 * database cannot be reached.
 */
#include "dnscheck.h"

#include "admin.h"
#include "auth.h"
#include "conf.h"
#include "daemon.h"
#include "db.h"
#include "dns.h"
#include "log.h"
#include "strbuf.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 4

static const char *conf_path = MODO_SYSCONFDIR "/modo/modo.conf";

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: modo-dnscheck [-c modo.conf] [--domain DOMAIN] [--all] [--json]\n"
            "Checks MX, SPF, DKIM, DMARC, autoconfig, MTA-STS, TLS-RPT and DNSBL of the hosted\n"
            "domains, stores the results as Modoboa does and opens its alarms.\n"
            "Configuration: %s ([dnscheck], [dns], [database])\n",
            conf_path);
}

/* ---- the workers: each its own resolver, domains taken in turn ---- */

struct pool {
    const struct conf *conf;
    const struct dc_settings *s;
    struct dc_domain *doms;
    size_t n, next;
    pthread_mutex_t lock;
    int failures;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    struct strbuf err = STRBUF_INIT;
    struct dns *d = dns_new(p->conf, &err);

    if (d == NULL) {
        pthread_mutex_lock(&p->lock);
        log_error("%s", err.data);
        p->failures++;
        pthread_mutex_unlock(&p->lock);
        strbuf_free(&err);
        return NULL;
    }
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->lock);
        i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            break;
        dc_check_domain(p->s, d, &p->doms[i]);
    }
    dns_free(&d);
    strbuf_free(&err);
    return NULL;
}

static int run_checks(struct pool *p, long long concurrency)
{
    size_t n = (size_t)concurrency < p->n ? (size_t)concurrency : p->n, i, started = 0;
    pthread_t *t = calloc(n ? n : 1, sizeof(*t));

    if (t == NULL)
        return -1;
    pthread_mutex_init(&p->lock, NULL);
    for (i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, p) == 0)
            started++;
    if (started == 0 && p->n > 0)
        worker(p); /* no thread could start: check them here */
    for (i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&p->lock);
    free(t);
    return 0;
}

/* ---- storing, as Modoboa does ---- */

static const char *old_status(const struct db_result *old, const char *provider, const char *addr)
{
    for (size_t i = 0; i < old->nrows; i++)
        if (strcmp(db_cell(old, i, 0), provider) == 0 && strcmp(db_cell(old, i, 1), addr) == 0)
            return db_cell(old, i, 2);
    return NULL;
}

static int store(struct admin *a, const struct dc_settings *s, struct dc_domain *dom,
                 long long ttl)
{
    char now[40], later[40];
    struct db_result old;
    long long *ids = NULL;
    size_t i, p;
    bool opened;
    int rc;

    db_time(admin_db(a), time(NULL), now, sizeof(now));
    db_time(admin_db(a), time(NULL) + (time_t)ttl, later, sizeof(later));
    /* one transaction for the whole run (a commit per domain costs its fsyncs), a
       savepoint per domain: a domain that cannot be stored leaves the others stored */
    if (db_exec(admin_db(a), NULL, "SAVEPOINT modo_domain", 0, NULL) < 0)
        return admin_fail(a, ADMIN_EDB, "%s", db_error(admin_db(a)));
    rc = admin_dns_old_dnsbl(a, dom->id, &old);
    if (rc == 0)
        rc = admin_dns_reset(a, dom->id);
    if (rc == 0 && dom->nmx > 0 && (ids = calloc(dom->nmx, sizeof(*ids))) == NULL)
        rc = admin_fail(a, ADMIN_EDB, "out of memory");
    for (i = 0; rc == 0 && i < dom->nmx; i++) {
        ids[i] = admin_dns_add_mx(a, dom->id, dom->mxs[i].name, dom->mxs[i].addr,
                                  dom->mxs[i].managed, later);
        if (ids[i] < 0)
            rc = ADMIN_EDB;
    }
    for (i = 0; rc == 0 && i < dom->ndnsbl; i++) {
        const struct dc_dnsbl *b = &dom->dnsbl[i];
        const char *status = b->status;
        if (b->error) {
            /* no verdict: what was known stays (never "clean" for an error) */
            status = old_status(&old, b->provider, dom->mxs[b->mx].addr);
            if (status == NULL)
                continue;
        }
        rc = admin_dns_add_dnsbl(a, dom->id, b->provider, status, ids[b->mx]);
    }
    for (i = 0; rc == 0 && i < DC_NRECORDS; i++) {
        const struct dc_record *r = &dom->records[i];
        if (r->found)
            rc = admin_dns_add_record(a, dom->id, dc_record_type((int)i), r->value, r->valid,
                                      r->error, r->valid ? later : now);
    }
    /* alarms */
    if (rc == 0 && s->mx && !dom->mx_lookup_failed) {
        bool none = dom->nmx == 0 && !dom->null_mx;
        rc = none ? admin_alarm_open(a, dom->id, "domain_has_no_mx", "Domain has no MX record",
                                     &opened)
                  : admin_alarm_close(a, dom->id, "domain_has_no_mx", NULL);
        if (rc == 0 && s->nnets > 0 && dom->nmx > 0) {
            struct strbuf title = STRBUF_INIT;
            size_t managed = 0;
            for (i = 0; i < dom->nmx; i++) {
                if (dom->mxs[i].managed)
                    managed++;
                else
                    strbuf_printf(&title, "%s%s (%s)", title.len ? ", " : "Invalid MX record: ",
                                  dom->mxs[i].name, dom->mxs[i].addr);
            }
            rc = managed == 0
                     ? admin_alarm_open(a, dom->id, "domain_invalid_mx", title.data, &opened)
                     : admin_alarm_close(a, dom->id, "domain_invalid_mx", NULL);
            strbuf_free(&title);
        }
    }
    for (p = 0; rc == 0 && s->dnsbl && p < s->nproviders; p++) {
        struct strbuf name = STRBUF_INIT, title = STRBUF_INIT;
        bool listed = false, verdict = false;
        for (i = 0; i < dom->ndnsbl; i++) {
            const struct dc_dnsbl *b = &dom->dnsbl[i];
            if (strcmp(b->provider, s->providers[p]) != 0 || b->error)
                continue;
            verdict = true;
            if (b->listed && !listed) {
                listed = true;
                strbuf_printf(&title, "MX %s listed by DNSBL provider %s", dom->mxs[b->mx].name,
                              b->provider);
            }
        }
        strbuf_printf(&name, "domain_mx_in_dnsbl_%s", s->providers[p]);
        if (listed)
            rc = admin_alarm_open(a, dom->id, name.data, title.data, &opened);
        else if (verdict)
            rc = admin_alarm_close(a, dom->id, name.data, NULL);
        strbuf_free(&name);
        strbuf_free(&title);
    }
    if (rc == 0)
        rc = admin_dns_checked(a, dom->id);
    db_result_free(&old);
    free(ids);
    if (rc != 0)
        db_exec(admin_db(a), NULL, "ROLLBACK TO SAVEPOINT modo_domain", 0, NULL);
    if (db_exec(admin_db(a), NULL, "RELEASE SAVEPOINT modo_domain", 0, NULL) < 0 && rc == 0)
        rc = admin_fail(a, ADMIN_EDB, "%s", db_error(admin_db(a)));
    return rc;
}

/* ---- output ---- */

static const char *severity_name(enum dc_severity s)
{
    static const char *const names[] = {"ok", "info", "warning", "critical"};
    return names[s];
}

static void print_text(const struct dc_domain *dom)
{
    size_t i;

    if (dom->skipped) {
        printf("%s: skipped (reserved TLD)\n", dom->name);
        return;
    }
    printf("%s: %s\n", dom->name, dom->critical ? "critical" : "ok");
    for (i = 0; i < dom->nmx; i++)
        printf("  mx %s %s%s\n", dom->mxs[i].name, dom->mxs[i].addr,
               dom->mxs[i].managed ? " (managed)" : "");
    for (i = 0; i < dom->nfindings; i++) {
        const struct dc_finding *f = &dom->findings[i];
        printf("  %s %s: %s", severity_name(f->severity), f->check, f->message);
        if (f->rule[0])
            printf(" [%s]", f->rule);
        printf("\n");
        if (f->fix[0])
            printf("    fix: %s\n", f->fix);
    }
}

static void json_str(struct strbuf *j, const char *key, const char *v)
{
    strbuf_printf(j, "\"%s\": ", key);
    auth_json_string(j, v);
}

static void print_json(struct strbuf *j, const struct dc_domain *dom)
{
    size_t i;

    strbuf_puts(j, j->len > 1 ? ",\n {" : "\n {");
    json_str(j, "domain", dom->name);
    strbuf_printf(j, ", \"status\": \"%s\", \"mx\": [",
                  dom->skipped ? "disabled" : dom->critical ? "critical" : "ok");
    for (i = 0; i < dom->nmx; i++) {
        strbuf_puts(j, i ? ", {" : "{");
        json_str(j, "name", dom->mxs[i].name);
        strbuf_puts(j, ", ");
        json_str(j, "address", dom->mxs[i].addr);
        strbuf_printf(j, ", \"managed\": %s}", dom->mxs[i].managed ? "true" : "false");
    }
    strbuf_puts(j, "], \"records\": {");
    for (i = 0; i < DC_NRECORDS; i++) {
        const struct dc_record *r = &dom->records[i];
        strbuf_printf(j, "%s\"%s\": ", i ? ", " : "", dc_record_type((int)i));
        if (!r->found) {
            strbuf_puts(j, "null");
            continue;
        }
        strbuf_puts(j, "{");
        json_str(j, "value", r->value);
        strbuf_printf(j, ", \"valid\": %s, ", r->valid ? "true" : "false");
        json_str(j, "error", r->error);
        strbuf_puts(j, "}");
    }
    strbuf_puts(j, "}, \"dnsbl\": [");
    for (i = 0; i < dom->ndnsbl; i++) {
        const struct dc_dnsbl *b = &dom->dnsbl[i];
        strbuf_puts(j, i ? ", {" : "{");
        json_str(j, "provider", b->provider);
        strbuf_puts(j, ", ");
        json_str(j, "address", dom->mxs[b->mx].addr);
        strbuf_printf(j, ", \"result\": \"%s\", ",
                      b->error ? "error" : b->listed ? "listed" : "clean");
        json_str(j, "answer", b->status);
        strbuf_puts(j, "}");
    }
    strbuf_puts(j, "], \"findings\": [");
    for (i = 0; i < dom->nfindings; i++) {
        const struct dc_finding *f = &dom->findings[i];
        strbuf_puts(j, i ? ", {" : "{");
        json_str(j, "check", f->check);
        strbuf_printf(j, ", \"severity\": \"%s\", ", severity_name(f->severity));
        json_str(j, "message", f->message);
        strbuf_puts(j, ", ");
        json_str(j, "rule", f->rule);
        strbuf_puts(j, ", ");
        json_str(j, "fix", f->fix);
        strbuf_puts(j, "}");
    }
    strbuf_puts(j, "]}");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {"domain", required_argument, NULL, 'd'}, {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},         {NULL, 0, NULL, 0}};
    const char *domain = NULL;
    bool all = false, json = false;
    struct dc_settings s;
    struct pool pool = {0};
    struct db_result r;
    struct strbuf j = STRBUF_INIT;
    struct conf *conf;
    struct admin *a;
    struct db *db;
    char *err = NULL, valid_mxs[4096], serr[200];
    size_t i, critical = 0;
    int opt, rc = 0;

    log_open("modo-dnscheck", LOG_TARGET_STDERR);
    while ((opt = getopt_long(argc, argv, "c:hVd:aj", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': daemon_print_version("modo-dnscheck"); return 0;
        case 'd': domain = optarg; break;
        case 'a': all = true; break;
        case 'j': json = true; break;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc || (domain != NULL && all)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((conf = conf_load(conf_path, &err)) == NULL) {
        fprintf(stderr, "modo-dnscheck: %s\n", err);
        free(err);
        return 1;
    }
    if (strcmp(conf_str(conf, "dnscheck", "log"), "syslog") == 0)
        log_open("modo-dnscheck", LOG_TARGET_SYSLOG);
    if ((db = db_open(conf, &err)) == NULL) {
        log_error("%s", err);
        free(err);
        conf_free(&conf);
        return EXIT_TEMPFAIL;
    }
    a = admin_new(db, conf);
    if (admin_begin(a) != 0 || admin_end(a, admin_dns_valid_mxs(a, valid_mxs, sizeof(valid_mxs))) != 0 ||
        admin_dns_domains(a, domain, all, &r) != 0) {
        log_error("%s", admin_error(a));
        rc = EXIT_TEMPFAIL;
        goto out;
    }
    if (dc_settings_load(&s, conf, valid_mxs, serr, sizeof(serr)) < 0) {
        log_error("%s", serr);
        db_result_free(&r);
        rc = 1;
        goto out;
    }
    if (domain != NULL && r.nrows == 0) {
        log_error("no domain %s", domain);
        db_result_free(&r);
        rc = 1;
        goto out;
    }
    pool.conf = conf;
    pool.s = &s;
    pool.n = r.nrows;
    pool.doms = calloc(r.nrows ? r.nrows : 1, sizeof(*pool.doms));
    for (i = 0; pool.doms != NULL && i < r.nrows; i++) {
        struct dc_domain *d = &pool.doms[i];
        snprintf(d->id, sizeof(d->id), "%s", db_cell(&r, i, 0));
        snprintf(d->name, sizeof(d->name), "%s", db_cell(&r, i, 1));
        d->dkim_enabled = admin_cell_true(db_cell(&r, i, 2));
        snprintf(d->selector, sizeof(d->selector), "%s", db_cell(&r, i, 3));
        d->public_key = strdup(db_cell(&r, i, 4));
        snprintf(d->key_path, sizeof(d->key_path), "%s", db_cell(&r, i, 5));
    }
    db_result_free(&r);
    if (pool.doms == NULL || run_checks(&pool, conf_int(conf, "dnscheck", "concurrency")) < 0) {
        log_error("out of memory");
        rc = 1;
        goto out;
    }
    strbuf_puts(&j, "[");
    if (admin_begin(a) != 0) {
        log_error("%s", admin_error(a));
        rc = EXIT_TEMPFAIL;
        goto out;
    }
    for (i = 0; i < pool.n; i++) {
        struct dc_domain *d = &pool.doms[i];
        if (!d->skipped && store(a, &s, d, conf_ms(conf, "dnscheck", "ttl") / 1000) != 0) {
            log_error("%s: %s", d->name, admin_error(a));
            pool.failures++;
        }
    }
    if (admin_commit(a) != 0) {
        log_error("storing the results: %s", admin_error(a));
        pool.failures++;
    }
    for (i = 0; i < pool.n; i++) {
        struct dc_domain *d = &pool.doms[i];
        if (d->critical)
            critical++;
        if (json)
            print_json(&j, d);
        else
            print_text(d);
    }
    if (json)
        printf("%s\n]\n", j.data);
    rc = critical > 0 || pool.failures > 0 ? 1 : 0;
out:
    for (i = 0; pool.doms != NULL && i < pool.n; i++)
        dc_domain_free(&pool.doms[i]);
    free(pool.doms);
    strbuf_free(&j);
    admin_free(&a);
    db_close(&db);
    conf_free(&conf);
    return rc;
}
