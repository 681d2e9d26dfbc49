/*
 * rotate - DKIM key rotation without a gap.
 *
 * A rotation moves through these states, at most one step per run, each stored in
 * modo_dkim_rotation:
 *
 *   publish   a new key exists under a new selector; its record was printed. The run
 *             asks every authoritative name server of the domain for it (each server
 *             directly, the served key parsed, so a record cut short by a provider is
 *             caught). All serve it: -> wait.
 *   wait      until the records' TTL has passed since every server served it (resolvers
 *             may hold the old answer, or "no such name" for the new selector, that long);
 *             then, if every server still serves it, the signer is switched (admin_domain's
 *             selector, key path and public key: the OpenDKIM view, or rspamd's maps) ->
 *             switched.
 *   switched  mail is signed with the new key; the old record stays published for
 *             [dkim] revoke_grace (messages signed before may still be verified) -> revoke.
 *   revoke    the old selector's record is to be replaced by its revocation (p=); once no
 *             server serves the old key -> done.
 */
#include "dkim.h"

#include "admin.h"
#include "conf.h"
#include "db.h"
#include "dkimrec.h"
#include "dns.h"
#include "log.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROT_ID, ROT_NAME, ROT_STATE, ROT_NEW_SEL, ROT_NEW_PATH, ROT_NEW_P, ROT_OLD_SEL,
       ROT_OLD_PATH, ROT_OLD_P, ROT_STARTED, ROT_SINCE, ROT_UNTIL, ROT_NOTE };

static void when(time_t t, char *buf, size_t size)
{
    struct tm tm;

    strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", gmtime_r(&t, &tm));
}

/*
 * Does every authoritative server of domain serve selector's record with key p (p NULL:
 * revoked or gone)? The largest TTL seen (records, or the negative TTL) in *ttl; what is
 * wrong, server by server, in note.
 */
static bool served_everywhere(struct dkim_run *r, const char *domain, const char *selector,
                              const char *p, unsigned *ttl, struct strbuf *note)
{
    struct dns *dns = dkim_dns(r);
    struct dns_server *servers = NULL;
    struct strbuf name = STRBUF_INIT, err = STRBUF_INIT;
    size_t n = 0, i;
    bool all = true;

    *ttl = 0;
    if (dns == NULL) {
        strbuf_puts(note, "no resolver");
        return false;
    }
    strbuf_printf(&name, "%s._domainkey.%s", selector, domain);
    if (dns_zone_servers(dns, domain, &servers, &n, &err) < 0) {
        strbuf_printf(note, "%s", err.data);
        strbuf_free(&name);
        strbuf_free(&err);
        return false;
    }
    for (i = 0; i < n; i++) {
        struct dns_answer a;
        const char *problem = NULL;
        bool ok = false;
        size_t v;

        dns_ask(dns, &servers[i], name.data, "TXT", &a);
        if (a.ttl > *ttl)
            *ttl = a.ttl;
        if (a.status == DNS_FAIL) {
            problem = a.error;
        } else if (p == NULL) { /* revoked (p= empty) or removed */
            ok = true;
            for (v = 0; v < a.n; v++) {
                struct dkim_record rec;
                const char *perr;
                if (dkim_record_parse(a.values[v], strlen(a.values[v]), &rec, &perr) == 0) {
                    if (!rec.revoked) {
                        ok = false;
                        problem = "still serves the old key";
                    }
                    dkim_record_free(&rec);
                }
            }
        } else {
            problem = a.status == DNS_NXDOMAIN ? "does not serve it yet (no such name)"
                                               : "does not serve it yet";
            for (v = 0; v < a.n && !ok; v++) {
                struct dkim_record rec;
                const char *perr = NULL;
                if (dkim_record_parse(a.values[v], strlen(a.values[v]), &rec, &perr) < 0) {
                    problem = perr; /* "truncated" among others */
                    continue;
                }
                if (dkim_record_has_key(&rec, p))
                    ok = true;
                else
                    problem = rec.revoked ? "serves a revoked record" : "serves another key";
                dkim_record_free(&rec);
            }
        }
        if (!ok) {
            all = false;
            strbuf_printf(note, "%s%s (%s:%u) %s", note->len ? "; " : "", servers[i].name,
                          servers[i].addr, servers[i].port, problem ? problem : "no record");
        }
        dns_answer_free(&a);
    }
    free(servers);
    strbuf_free(&name);
    strbuf_free(&err);
    return all;
}

struct rotation {
    struct admin_dkim_rotation row;
    char *copies[9];
};

static void rotation_load(struct rotation *rot, const struct db_result *res)
{
    const char **fields[] = {&rot->row.domain_id,     &rot->row.state,        &rot->row.new_selector,
                             &rot->row.new_key_path,  &rot->row.new_public_key, &rot->row.old_selector,
                             &rot->row.old_key_path,  &rot->row.old_public_key, &rot->row.note};
    int cols[] = {ROT_ID, ROT_STATE, ROT_NEW_SEL, ROT_NEW_PATH, ROT_NEW_P, ROT_OLD_SEL,
                  ROT_OLD_PATH, ROT_OLD_P, ROT_NOTE};

    for (size_t i = 0; i < 9; i++) {
        rot->copies[i] = strdup(db_cell(res, 0, (size_t)cols[i]));
        *fields[i] = rot->copies[i];
    }
    rot->row.started = atoll(db_cell(res, 0, ROT_STARTED));
    rot->row.since = atoll(db_cell(res, 0, ROT_SINCE));
    rot->row.wait_until = atoll(db_cell(res, 0, ROT_UNTIL));
}

static void rotation_free(struct rotation *rot)
{
    for (size_t i = 0; i < 9; i++)
        free(rot->copies[i]);
}

static int save(struct dkim_run *r, struct admin_dkim_rotation *row, const char *note)
{
    int rc;

    row->note = note;
    rc = admin_begin(r->a);
    if (rc == 0)
        rc = admin_end(r->a, admin_dkim_rotation_put(r->a, row));
    if (rc != 0)
        log_error("%s", admin_error(r->a));
    return rc == 0 ? 0 : -1;
}

/* A selector for the new key: [dkim] rotate_selector of today, made unique. */
static void new_selector(const struct dkim_run *r, const char *current, char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    char base[64];
    size_t n;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    /* the admin's pattern ([dkim] rotate_selector) */
    n = strftime(base, sizeof(base), conf_str(r->conf, "dkim", "rotate_selector"),
                 gmtime_r(&now, &tm));
#pragma GCC diagnostic pop
    if (n == 0)
        snprintf(base, sizeof(base), "k%lld", (long long)now);
    snprintf(out, size, "%s", base);
    for (n = 0; strcmp(out, current) == 0 && n < 26; n++)
        snprintf(out, size, "%s%c", base, (char)('b' + n));
}

static int start(struct dkim_run *r, const struct db_result *d)
{
    const char *id = db_cell(d, 0, DOM_ID), *name = db_cell(d, 0, DOM_NAME);
    const char *sel = db_cell(d, 0, DOM_SELECTOR), *path = db_cell(d, 0, DOM_PATH);
    char selector[128], file[300], fullpath[PATH_MAX + 300];
    struct admin_dkim_rotation row = {0};
    struct dkimkey k;
    time_t now = time(NULL);
    int rc;

    if (path[0] == '\0') {
        log_error("%s: no key to rotate yet (modo-dkim generate --domain %s makes the first)", name,
                  name);
        return -1;
    }
    new_selector(r, sel, selector, sizeof(selector));
    snprintf(file, sizeof(file), "%s.%s.pem", name, selector);
    if (strchr(name, '/') || name[0] == '.' || strchr(selector, '/') || selector[0] == '.') {
        log_error("%s: the key file would leave the storage directory", name);
        return -1;
    }
    if (dkim_make_key(r, name, selector, DKIM_KEY_RSA, dkim_domain_bits(r, db_cell(d, 0, DOM_BITS)),
                      file, &k) < 0)
        return -1;
    snprintf(fullpath, sizeof(fullpath), "%s/%s", r->dir, file);
    row.domain_id = id;
    row.state = "publish";
    row.new_selector = selector;
    row.new_key_path = fullpath;
    row.new_public_key = k.p;
    row.old_selector = sel;
    row.old_key_path = path;
    row.old_public_key = db_cell(d, 0, DOM_PUBLIC);
    row.started = row.since = (long long)now;
    rc = save(r, &row, "publish the new selector's record on every name server");
    if (rc == 0) {
        printf("%s: rotation started: new key %s (selector %s). Publish this record; the signer"
               " switches once every name server serves it:\n",
               name, fullpath, selector);
        dkim_print_record(selector, name, DKIM_KEY_RSA, k.p);
    }
    dkimkey_free(&k);
    return rc;
}

/* One step of a rotation in progress. */
static int step(struct dkim_run *r, struct rotation *rot, const char *name)
{
    struct admin_dkim_rotation *row = &rot->row;
    struct strbuf note = STRBUF_INIT;
    time_t now = time(NULL);
    char at[32];
    unsigned ttl = 0, ttl_old = 0;
    int rc = 0;

    if (strcmp(row->state, "publish") == 0) {
        if (served_everywhere(r, name, row->new_selector, row->new_public_key, &ttl, &note)) {
            struct strbuf ignored = STRBUF_INIT;
            served_everywhere(r, name, row->old_selector, row->old_public_key, &ttl_old, &ignored);
            strbuf_free(&ignored);
            if (ttl_old > ttl)
                ttl = ttl_old;
            row->state = "wait";
            row->since = (long long)now;
            row->wait_until = (long long)now + ttl;
            when((time_t)row->wait_until, at, sizeof(at));
            strbuf_reset(&note);
            strbuf_printf(&note, "every name server serves the new key; the signer switches after"
                                 " %s (the records' TTL, %us)",
                          at, ttl);
            rc = save(r, row, note.data);
        } else if (strcmp(note.data, row->note) != 0) {
            rc = save(r, row, note.data);
        }
        printf("%s: %s\n", name, note.data);
    } else if (strcmp(row->state, "wait") == 0) {
        if (now < (time_t)row->wait_until) {
            printf("%s: %s\n", name, row->note);
        } else if (!served_everywhere(r, name, row->new_selector, row->new_public_key, &ttl,
                                      &note)) {
            row->state = "publish";
            rc = save(r, row, note.data);
            printf("%s: no longer served everywhere: %s\n", name, note.data);
        } else {
            rc = admin_begin(r->a);
            if (rc == 0)
                rc = admin_end(r->a, admin_dkim_set_key(r->a, row->domain_id, row->new_selector,
                                                       row->new_key_path, row->new_public_key));
            if (rc != 0) {
                log_error("%s: %s", name, admin_error(r->a));
            } else {
                if (strcmp(conf_str(r->conf, "dkim", "signer"), "rspamd") == 0 &&
                    dkim_write_rspamd_maps(r) < 0)
                    r->failures++;
                row->state = "switched";
                row->since = (long long)now;
                row->wait_until = (long long)now + conf_ms(r->conf, "dkim", "revoke_grace") / 1000;
                when((time_t)row->wait_until, at, sizeof(at));
                strbuf_reset(&note);
                strbuf_printf(&note, "signing with selector %s; %s stays published until %s",
                              row->new_selector, row->old_selector, at);
                rc = save(r, row, note.data);
                printf("%s: %s\n", name, note.data);
            }
        }
    } else if (strcmp(row->state, "switched") == 0) {
        if (now < (time_t)row->wait_until) {
            printf("%s: %s\n", name, row->note);
        } else {
            row->state = "revoke";
            row->since = (long long)now;
            row->wait_until = 0;
            strbuf_printf(&note, "replace the record of selector %s by its revocation (p=)",
                          row->old_selector);
            rc = save(r, row, note.data);
            printf("%s: %s:\n%s._domainkey.%s. IN TXT \"v=DKIM1; k=rsa; p=\"\n", name, note.data,
                   row->old_selector, name);
        }
    } else if (strcmp(row->state, "revoke") == 0) {
        if (served_everywhere(r, name, row->old_selector, NULL, &ttl, &note)) {
            row->state = "done";
            row->since = (long long)now;
            strbuf_reset(&note);
            strbuf_printf(&note, "done: selector %s revoked everywhere (its key file %s is no"
                                 " longer used)",
                          row->old_selector, row->old_key_path);
            rc = save(r, row, note.data);
        } else if (strcmp(note.data, row->note) != 0) {
            rc = save(r, row, note.data);
        }
        printf("%s: %s\n", name, note.data);
    }
    strbuf_free(&note);
    return rc;
}

int dkim_rotate(struct dkim_run *r, const char *domain, bool begin)
{
    struct db_result d, rr;
    struct rotation rot;
    int rc;

    if (admin_dkim_domains(r->a, domain, &d) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        return 4;
    }
    if (d.nrows == 0 || !admin_cell_true(db_cell(&d, 0, DOM_ENABLED))) {
        log_error("%s: %s", domain, d.nrows == 0 ? "no such domain" : "DKIM is not enabled");
        db_result_free(&d);
        return 1;
    }
    if (admin_dkim_rotations(r->a, db_cell(&d, 0, DOM_ID), &rr) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        db_result_free(&rr);
        return 4;
    }
    if (rr.nrows == 0 || strcmp(db_cell(&rr, 0, ROT_STATE), "done") == 0) {
        rc = begin ? start(r, &d) : 0;
    } else {
        rotation_load(&rot, &rr);
        rc = step(r, &rot, db_cell(&d, 0, DOM_NAME));
        rotation_free(&rot);
    }
    db_result_free(&d);
    db_result_free(&rr);
    return rc == 0 && r->failures == 0 ? 0 : 1;
}

int dkim_rotate_all(struct dkim_run *r)
{
    struct db_result rr;
    int rc = 0;

    if (admin_dkim_rotations(r->a, NULL, &rr) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&rr);
        return 1;
    }
    for (size_t i = 0; i < rr.nrows; i++) {
        const char *state = db_cell(&rr, i, ROT_STATE);
        if (strcmp(state, "done") == 0)
            continue;
        if (dkim_rotate(r, db_cell(&rr, i, ROT_NAME), false) != 0)
            rc = 1;
    }
    db_result_free(&rr);
    return rc;
}
