/*
 * modo-dkim - DKIM keys for the hosted domains (spec modoboa.md §4).
 *
 *   modo-dkim [-c modo.conf] [run]              what the timer runs: generate, then move
 *                                               every rotation one step
 *   modo-dkim generate [--domain D] [--ed25519] keys for domains with DKIM on and no key
 *                                               (Modoboa's rule), or for D; never replaces
 *   modo-dkim show [--domain D] [--json]        the records to publish
 *   modo-dkim audit [--domain D]                key files as OpenDKIM's RequireSafeKeys
 *                                               judges them
 *   modo-dkim rotate --domain D                 start a rotation, or move it one step
 *   modo-dkim status [--json]                   keys and rotations of every domain
 *
 * Exit status: 0 done (or waiting, for rotations), 1 something failed (said, and an
 * admin_alarm opened where Modoboa opens one), 2 usage, 4 the database is unreachable.
 */
#include "dkim.h"

#include "admin.h"
#include "auth.h"
#include "conf.h"
#include "daemon.h"
#include "db.h"
#include "dkimrec.h"
#include "dns.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 4

#define ALARM_PATH "DKIM path error"
#define ALARM_PATH_TITLE                                                                           \
    "DKIM path non-writable (either a permission issue or the directory does not exist)"
#define ALARM_GEN "general DKIM generation error"
#define ALARM_GEN_TITLE "Failed to generate DKIM private key"

static const char *conf_path = MODO_SYSCONFDIR "/modo/modo.conf";

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: modo-dkim [-c modo.conf] [run]\n"
            "       modo-dkim [-c modo.conf] generate [--domain DOMAIN] [--ed25519]\n"
            "       modo-dkim [-c modo.conf] show [--domain DOMAIN] [--json]\n"
            "       modo-dkim [-c modo.conf] audit [--domain DOMAIN]\n"
            "       modo-dkim [-c modo.conf] rotate --domain DOMAIN\n"
            "       modo-dkim [-c modo.conf] status [--json]\n"
            "DKIM keys of the hosted domains: generated in-process, checked with libopendkim,\n"
            "published records printed, rotations without a gap.\n"
            "Configuration: %s ([dkim], [dns], [database])\n",
            conf_path);
}

int dkim_domain_bits(const struct dkim_run *r, const char *key_length)
{
    int bits = key_length != NULL ? atoi(key_length) : 0;

    if (bits == 1024 || bits == 2048 || bits == 4096)
        return bits;
    return r->bits < 1024 ? 1024 : r->bits;
}

void dkim_print_record(const char *selector, const char *domain, enum dkim_keytype type,
                       const char *p)
{
    struct strbuf out = STRBUF_INIT, value = STRBUF_INIT;

    if (type == DKIM_KEY_RSA) {
        dkim_record_display(&out, selector, domain, p);
        printf("%s%s", out.data, out.len && out.data[out.len - 1] == '\n' ? "" : "\n");
        strbuf_reset(&out);
    }
    dkim_record_value(&value, type, p);
    dkim_record_zone(&out, selector, domain, 3600, value.data);
    printf("%s%s", out.data, out.len && out.data[out.len - 1] == '\n' ? "" : "\n");
    strbuf_free(&out);
    strbuf_free(&value);
}

struct dns *dkim_dns(struct dkim_run *r)
{
    struct strbuf err = STRBUF_INIT;

    if (r->dns == NULL && (r->dns = dns_new(r->conf, &err)) == NULL) {
        log_error("%s", err.data);
        r->failures++;
    }
    strbuf_free(&err);
    return r->dns;
}

/* The signer's uid and gid ([dkim] user); -1 when empty. 0 or -1 (said). */
static int signer_ids(struct dkim_run *r)
{
    const char *user = conf_str(r->conf, "dkim", "user");
    struct passwd *pw;

    r->uid = (uid_t)-1;
    r->gid = (gid_t)-1;
    if (user[0] == '\0')
        return 0;
    if ((pw = getpwnam(user)) == NULL) {
        log_error("[dkim] user: no user \"%s\" on this system (the signer's user: opendkim for"
                  " OpenDKIM, _rspamd for rspamd)",
                  user);
        return -1;
    }
    r->uid = pw->pw_uid;
    r->gid = pw->pw_gid;
    if (geteuid() != 0 && geteuid() != r->uid) {
        log_error("keys must belong to %s ([dkim] user): run modo-dkim as root or as %s", user,
                  user);
        return -1;
    }
    return 0;
}

int dkim_make_key(struct dkim_run *r, const char *domain, const char *selector,
                  enum dkim_keytype type, int bits, const char *file, struct dkimkey *k)
{
    struct strbuf err = STRBUF_INIT, value = STRBUF_INIT, why = STRBUF_INIT, path = STRBUF_INIT;
    uid_t reader = r->uid != (uid_t)-1 ? r->uid : geteuid();
    int rc = -1;

    if (dkimkey_generate(type, bits, k, &err) < 0) {
        log_error("%s: %s", domain, err.data);
        goto out;
    }
    dkim_record_value(&value, type, k->p);
    if (dkimkey_selfcheck(k, domain, selector, value.data, &err) < 0) {
        log_error("%s: the new key failed its check (%s): not stored", domain, err.data);
        dkimkey_free(k);
        goto out;
    }
    if (dkimkey_write(r->dir, file, k->pem, k->pem_len, 0600, r->uid, r->gid, &err) < 0) {
        log_error("%s: %s", domain, err.data);
        dkimkey_free(k);
        goto out;
    }
    strbuf_printf(&path, "%s/%s", r->dir, file);
    if (!dkimkey_audit(path.data, reader, &why)) {
        char *line, *save = NULL;
        for (line = strtok_r(why.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            log_warning("%s: OpenDKIM (RequireSafeKeys) will refuse the key: %s", path.data, line);
    }
    rc = 0;
out:
    strbuf_free(&err);
    strbuf_free(&value);
    strbuf_free(&why);
    strbuf_free(&path);
    return rc;
}

/* Is the storage directory there and writable? Modoboa's alarm follows the answer. */
static bool storage_ok(struct dkim_run *r)
{
    struct stat st;
    bool ok = stat(r->dir, &st) == 0 && S_ISDIR(st.st_mode) && access(r->dir, W_OK | X_OK) == 0;
    bool changed;

    if (admin_begin(r->a) != 0)
        return false;
    if (ok)
        admin_alarm_close(r->a, NULL, ALARM_PATH, &changed);
    else
        admin_alarm_open(r->a, NULL, ALARM_PATH, ALARM_PATH_TITLE, &changed);
    admin_end(r->a, 0);
    if (!ok)
        log_error("%s: %s (%s)", r->dir,
                  errno == ENOENT ? "no such directory" : "not writable by this user",
                  ALARM_PATH_TITLE);
    return ok;
}

static void generation_alarm(struct dkim_run *r, const char *domain_id, bool failed)
{
    bool changed;

    if (admin_begin(r->a) != 0)
        return;
    if (failed)
        admin_alarm_open(r->a, domain_id, ALARM_GEN, ALARM_GEN_TITLE, &changed);
    else
        admin_alarm_close(r->a, domain_id, ALARM_GEN, &changed);
    admin_end(r->a, 0);
}

/* A domain name that stays one file name in the storage directory. */
static bool safe_file_name(const char *name)
{
    return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL &&
           strstr(name, "..") == NULL && strlen(name) < 200;
}

static void ed25519_selector(const struct dkim_run *r, const char *rsa, char *out, size_t size)
{
    const char *tmpl = conf_str(r->conf, "dkim", "ed25519_selector");
    const char *s = strstr(tmpl, "%s");

    if (s == NULL)
        snprintf(out, size, "%s", tmpl);
    else
        snprintf(out, size, "%.*s%s%s", (int)(s - tmpl), tmpl, rsa, s + 2);
}

/* The Ed25519 key of a domain (modo_dkim_key), unless it has one. */
static int make_ed25519(struct dkim_run *r, const char *id, const char *name, const char *sel)
{
    struct db_result er;
    char selector[128], file[256];
    struct dkimkey k;
    int rc;

    if (admin_dkim_extra_keys(r->a, id, &er) != 0) {
        db_result_free(&er);
        return -1;
    }
    for (size_t i = 0; i < er.nrows; i++) {
        if (strcmp(db_cell(&er, i, 1), "ed25519") == 0) {
            db_result_free(&er);
            return 0;
        }
    }
    db_result_free(&er);
    ed25519_selector(r, sel, selector, sizeof(selector));
    snprintf(file, sizeof(file), "%s.ed25519.pem", name);
    if (dkim_make_key(r, name, selector, DKIM_KEY_ED25519, 0, file, &k) < 0)
        return -1;
    {
        struct strbuf path = STRBUF_INIT;
        strbuf_printf(&path, "%s/%s", r->dir, file);
        rc = admin_begin(r->a);
        if (rc == 0)
            rc = admin_end(r->a, admin_dkim_put_extra(r->a, id, "ed25519", selector, path.data,
                                                     k.p, (long long)time(NULL)));
        if (rc != 0)
            log_error("%s: %s", name, admin_error(r->a));
        else {
            printf("%s: Ed25519 key %s (selector %s)\n", name, path.data, selector);
            dkim_print_record(selector, name, DKIM_KEY_ED25519, k.p);
        }
        strbuf_free(&path);
    }
    dkimkey_free(&k);
    return rc == 0 ? 0 : -1;
}

static int generate_domain(struct dkim_run *r, const struct db_result *d, size_t row, bool ed)
{
    const char *id = db_cell(d, row, DOM_ID), *name = db_cell(d, row, DOM_NAME);
    const char *sel = db_cell(d, row, DOM_SELECTOR), *path0 = db_cell(d, row, DOM_PATH);
    struct strbuf path = STRBUF_INIT, file = STRBUF_INIT;
    struct dkimkey k;
    int bits = dkim_domain_bits(r, db_cell(d, row, DOM_BITS)), rc;

    if (path0 != NULL && path0[0] != '\0') {
        /* has a key: only the Ed25519 one may be missing */
        if (ed && make_ed25519(r, id, name, sel) < 0)
            return -1;
        return 0;
    }
    if (sel == NULL || sel[0] == '\0' || !safe_file_name(name)) {
        log_error("%s: %s: not generated", name,
                  safe_file_name(name) ? "no DKIM selector" : "the key file would leave the storage"
                                                             " directory");
        generation_alarm(r, id, true);
        return -1;
    }
    strbuf_printf(&file, "%s.pem", name);
    strbuf_printf(&path, "%s/%s", r->dir, file.data);
    if (dkim_make_key(r, name, sel, DKIM_KEY_RSA, bits, file.data, &k) < 0) {
        generation_alarm(r, id, true);
        strbuf_free(&path);
        strbuf_free(&file);
        return -1;
    }
    rc = admin_begin(r->a);
    if (rc == 0)
        rc = admin_end(r->a, admin_dkim_set_key(r->a, id, NULL, path.data, k.p));
    if (rc != 0) {
        log_error("%s: %s", name, admin_error(r->a));
    } else {
        generation_alarm(r, id, false);
        printf("%s: RSA %d-bit key %s (selector %s)\n", name, bits, path.data, sel);
        dkim_print_record(sel, name, DKIM_KEY_RSA, k.p);
        if (ed)
            rc = make_ed25519(r, id, name, sel);
    }
    dkimkey_free(&k);
    strbuf_free(&path);
    strbuf_free(&file);
    return rc == 0 ? 0 : -1;
}

static int cmd_generate(struct dkim_run *r, const char *domain, bool ed)
{
    struct db_result d;
    size_t i;

    if (!storage_ok(r))
        return 1;
    if (admin_dkim_domains(r->a, domain, &d) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        return EXIT_TEMPFAIL;
    }
    if (domain != NULL && d.nrows == 0) {
        log_error("no domain %s", domain);
        db_result_free(&d);
        return 1;
    }
    if (domain != NULL && !admin_cell_true(db_cell(&d, 0, DOM_ENABLED))) {
        log_error("%s: DKIM is not enabled (modoctl domain mod %s --enable-dkim yes)", domain,
                  domain);
        db_result_free(&d);
        return 1;
    }
    if (domain != NULL && db_cell(&d, 0, DOM_PATH)[0] != '\0' && !ed) {
        printf("%s: has a key already (%s); modo-dkim rotate --domain %s replaces it\n", domain,
               db_cell(&d, 0, DOM_PATH), domain);
        db_result_free(&d);
        return 0;
    }
    for (i = 0; i < d.nrows; i++)
        if (generate_domain(r, &d, i, ed) < 0)
            r->failures++;
    db_result_free(&d);
    if (strcmp(conf_str(r->conf, "dkim", "signer"), "rspamd") == 0 &&
        dkim_write_rspamd_maps(r) < 0)
        r->failures++;
    return r->failures > 0 ? 1 : 0;
}

/* Does the file hold exactly this text? */
static bool same_content(const char *path, const struct strbuf *text)
{
    FILE *fp = fopen(path, "r");
    char buf[8192];
    size_t n, off = 0;
    bool same = fp != NULL;

    while (same && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
        same = off + n <= text->len && memcmp(text->data + off, buf, n) == 0;
        off += n;
    }
    if (fp != NULL)
        fclose(fp);
    return same && off == text->len;
}

/* rspamd's dkim_signing "domain" block for the domains that also have an Ed25519 key: both
 * selectors, so that rspamd signs twice (its maps hold one selector per domain). */
static void rspamd_dual(struct dkim_run *r, const struct db_result *d, size_t row,
                        struct strbuf *out)
{
    struct db_result er;

    if (admin_dkim_extra_keys(r->a, db_cell(d, row, DOM_ID), &er) == 0 && er.nrows > 0) {
        strbuf_printf(out, "  \"%s\" {\n    selectors [\n", db_cell(d, row, DOM_NAME));
        strbuf_printf(out, "      { path = \"%s\"; selector = \"%s\"; },\n",
                      db_cell(d, row, DOM_PATH), db_cell(d, row, DOM_SELECTOR));
        for (size_t e = 0; e < er.nrows; e++)
            strbuf_printf(out, "      { path = \"%s\"; selector = \"%s\"; },\n",
                          db_cell(&er, e, 3), db_cell(&er, e, 2));
        strbuf_puts(out, "    ]\n  }\n");
    }
    db_result_free(&er);
}

int dkim_write_rspamd_maps(struct dkim_run *r)
{
    struct db_result d;
    struct strbuf sel = STRBUF_INIT, paths = STRBUF_INIT, err = STRBUF_INIT, dual = STRBUF_INIT;
    const char *maps[3] = {conf_str(r->conf, "dkim", "rspamd_selector_map"),
                           conf_str(r->conf, "dkim", "rspamd_path_map"),
                           conf_str(r->conf, "dkim", "rspamd_domains")};
    struct strbuf *bodies[3] = {&sel, &paths, &dual};
    int rc = 0;

    if (admin_dkim_domains(r->a, NULL, &d) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        return -1;
    }
    for (size_t i = 0; i < d.nrows; i++) {
        if (db_cell(&d, i, DOM_PATH)[0] == '\0')
            continue;
        strbuf_printf(&sel, "%s %s\n", db_cell(&d, i, DOM_NAME), db_cell(&d, i, DOM_SELECTOR));
        strbuf_printf(&paths, "%s %s\n", db_cell(&d, i, DOM_NAME), db_cell(&d, i, DOM_PATH));
        rspamd_dual(r, &d, i, &dual);
    }
    db_result_free(&d);
    if (dual.len > 0) {
        struct strbuf whole = STRBUF_INIT;
        strbuf_printf(&whole, "# written by modo-dkim: domains signed with RSA and Ed25519\n"
                              "domain {\n%s}\n",
                      dual.data);
        strbuf_free(&dual);
        dual = whole;
    }
    for (int m = 0; m < 3; m++) {
        char dir[PATH_MAX];
        const char *slash = strrchr(maps[m], '/');
        if (m == 2 && bodies[m]->len == 0)
            continue; /* no Ed25519 key: the maps say it all */
        if (slash == NULL || slash[1] == '\0') {
            log_error("[dkim] rspamd maps must be absolute file paths: %s", maps[m]);
            rc = -1;
            continue;
        }
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash == maps[m] ? 1 : slash - maps[m]), maps[m]);
        if (same_content(maps[m], bodies[m]))
            continue; /* unchanged: rspamd is not made to reload it */
        if (dkimkey_write(dir, slash + 1, bodies[m]->data ? bodies[m]->data : "", bodies[m]->len,
                          0644, (uid_t)-1, (gid_t)-1, &err) < 0) {
            log_error("rspamd map: %s", err.data);
            strbuf_reset(&err);
            rc = -1;
        }
    }
    strbuf_free(&sel);
    strbuf_free(&paths);
    strbuf_free(&dual);
    strbuf_free(&err);
    return rc;
}

/* ---- show, audit, status ---- */

static void json_key(struct strbuf *j, const char *domain, const char *selector,
                     enum dkim_keytype type, const char *path, const char *p, const char *file_p,
                     const char *file_error)
{
    struct strbuf value = STRBUF_INIT, zone = STRBUF_INIT, name = STRBUF_INIT;

    dkim_record_value(&value, type, p);
    dkim_record_zone(&zone, selector, domain, 3600, value.data);
    while (zone.len > 0 && zone.data[zone.len - 1] == '\n')
        zone.data[--zone.len] = '\0';
    strbuf_printf(&name, "%s._domainkey.%s.", selector, domain);
    strbuf_puts(j, j->len > 1 ? ",\n {\"domain\": " : "\n {\"domain\": ");
    auth_json_string(j, domain);
    strbuf_puts(j, ", \"selector\": ");
    auth_json_string(j, selector);
    strbuf_printf(j, ", \"algorithm\": \"%s\", \"name\": ", type == DKIM_KEY_RSA ? "rsa" : "ed25519");
    auth_json_string(j, name.data);
    strbuf_puts(j, ", \"value\": ");
    auth_json_string(j, value.data);
    strbuf_puts(j, ", \"zone\": ");
    auth_json_string(j, zone.data);
    strbuf_puts(j, ", \"key_path\": ");
    auth_json_string(j, path);
    strbuf_printf(j, ", \"key_file_matches\": %s",
                  file_p != NULL && strcmp(file_p, p) == 0 ? "true" : "false");
    if (file_error != NULL) {
        strbuf_puts(j, ", \"key_file_error\": ");
        auth_json_string(j, file_error);
    }
    strbuf_puts(j, "}");
    strbuf_free(&value);
    strbuf_free(&zone);
    strbuf_free(&name);
}

/* One key: the record to publish, and whether the key file holds that key. */
static void show_key(struct dkim_run *r, struct strbuf *j, const char *domain,
                     const char *selector, enum dkim_keytype type, const char *path,
                     const char *p)
{
    struct dkimkey k;
    struct strbuf err = STRBUF_INIT;
    bool loaded = dkimkey_load(path, &k, &err) == 0;
    const char *problem = NULL;

    if (!loaded)
        problem = err.data;
    else if (strcmp(k.p, p) != 0)
        problem = "the key file does not hold the key of the published record";
    if (problem != NULL) {
        log_warning("%s: %s: %s", domain, path, problem);
        r->failures++;
    }
    if (r->json) {
        json_key(j, domain, selector, type, path, p, loaded ? k.p : NULL, problem);
    } else {
        printf("; %s (%s, %s)%s%s\n", domain, type == DKIM_KEY_RSA ? "rsa" : "ed25519", path,
               problem ? ": " : "", problem ? problem : "");
        dkim_print_record(selector, domain, type, p);
    }
    if (loaded)
        dkimkey_free(&k);
    strbuf_free(&err);
}

/* RequireSafeKeys on one key file, for the signer's user. */
static void audit_key(struct dkim_run *r, const char *domain, const char *path)
{
    struct strbuf why = STRBUF_INIT;
    uid_t reader = r->uid != (uid_t)-1 ? r->uid : geteuid();

    if (dkimkey_audit(path, reader, &why)) {
        printf("%s: %s: safe\n", domain, path);
    } else {
        printf("%s: %s: OpenDKIM (RequireSafeKeys) refuses it:\n%s", domain, path, why.data);
        r->failures++;
    }
    strbuf_free(&why);
}

static int cmd_show(struct dkim_run *r, const char *domain, bool audit)
{
    struct db_result d;
    struct strbuf j = STRBUF_INIT;
    size_t i, shown = 0;

    if (admin_dkim_domains(r->a, domain, &d) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        return EXIT_TEMPFAIL;
    }
    strbuf_puts(&j, "[");
    for (i = 0; i < d.nrows; i++) {
        const char *id = db_cell(&d, i, DOM_ID), *name = db_cell(&d, i, DOM_NAME);
        const char *path = db_cell(&d, i, DOM_PATH);
        struct db_result er;
        if (path[0] == '\0') {
            if (domain != NULL) {
                log_error("%s: no DKIM key yet (modo-dkim generate --domain %s)", name, name);
                r->failures++;
            }
            continue;
        }
        if (audit) {
            audit_key(r, name, path);
            if (admin_dkim_extra_keys(r->a, id, &er) == 0)
                for (size_t e = 0; e < er.nrows; e++)
                    audit_key(r, name, db_cell(&er, e, 3));
            db_result_free(&er);
            shown++;
            continue;
        }
        show_key(r, &j, name, db_cell(&d, i, DOM_SELECTOR), DKIM_KEY_RSA, path,
                 db_cell(&d, i, DOM_PUBLIC));
        shown++;
        if (admin_dkim_extra_keys(r->a, id, &er) == 0)
            for (size_t e = 0; e < er.nrows; e++)
                show_key(r, &j, name, db_cell(&er, e, 2), DKIM_KEY_ED25519, db_cell(&er, e, 3),
                         db_cell(&er, e, 4));
        db_result_free(&er);
    }
    db_result_free(&d);
    if (r->json)
        printf("%s\n]\n", j.data);
    else if (shown == 0 && domain == NULL)
        printf("no DKIM key\n");
    strbuf_free(&j);
    return r->failures > 0 ? 1 : 0;
}

static int cmd_status(struct dkim_run *r)
{
    struct db_result d, rot;
    struct strbuf j = STRBUF_INIT;
    size_t i;

    if (admin_dkim_domains(r->a, NULL, &d) != 0 || admin_dkim_rotations(r->a, NULL, &rot) != 0) {
        log_error("%s", admin_error(r->a));
        db_result_free(&d);
        return EXIT_TEMPFAIL;
    }
    strbuf_puts(&j, "[");
    if (!r->json)
        printf("%-30s %-16s %-10s %s\n", "domain", "selector", "rotation", "state");
    for (i = 0; i < d.nrows; i++) {
        const char *id = db_cell(&d, i, DOM_ID), *path = db_cell(&d, i, DOM_PATH);
        const char *state = "-", *note = path[0] ? "key in use" : "no key yet";
        char until[32] = "";
        for (size_t k = 0; k < rot.nrows; k++) {
            if (strcmp(db_cell(&rot, k, 0), id) == 0) {
                time_t t = (time_t)atoll(db_cell(&rot, k, 11));
                struct tm tm;
                state = db_cell(&rot, k, 2);
                note = db_cell(&rot, k, 12);
                if (t > 0 && strcmp(state, "done") != 0)
                    strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&t, &tm));
            }
        }
        if (r->json) {
            strbuf_puts(&j, j.len > 1 ? ",\n {\"domain\": " : "\n {\"domain\": ");
            auth_json_string(&j, db_cell(&d, i, DOM_NAME));
            strbuf_puts(&j, ", \"selector\": ");
            auth_json_string(&j, db_cell(&d, i, DOM_SELECTOR));
            strbuf_puts(&j, ", \"key_path\": ");
            auth_json_string(&j, path);
            strbuf_puts(&j, ", \"rotation\": ");
            auth_json_string(&j, state);
            strbuf_puts(&j, ", \"note\": ");
            auth_json_string(&j, note);
            strbuf_puts(&j, ", \"until\": ");
            auth_json_string(&j, until);
            strbuf_puts(&j, "}");
        } else {
            printf("%-30s %-16s %-10s %s%s%s\n", db_cell(&d, i, DOM_NAME),
                   db_cell(&d, i, DOM_SELECTOR), state, note, until[0] ? " until " : "", until);
        }
    }
    if (r->json)
        printf("%s\n]\n", j.data);
    db_result_free(&d);
    db_result_free(&rot);
    strbuf_free(&j);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, 'V'},
        {"domain", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"ed25519", no_argument, NULL, 'e'},    {NULL, 0, NULL, 0}};
    struct dkim_run r = {0};
    const char *cmd = "run", *domain = NULL;
    bool ed = false;
    struct conf *conf;
    struct db *db;
    char *err = NULL;
    int opt, rc;

    log_open("modo-dkim", LOG_TARGET_STDERR);
    /* options anywhere: before or after the command */
    while ((opt = getopt_long(argc, argv, "c:hVd:j", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': daemon_print_version("modo-dkim"); return 0;
        case 'd': domain = optarg; break;
        case 'j': r.json = true; break;
        case 'e': ed = true; break;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        cmd = argv[optind++];
    if (optind != argc ||
        (strcmp(cmd, "run") != 0 && strcmp(cmd, "generate") != 0 && strcmp(cmd, "show") != 0 &&
         strcmp(cmd, "audit") != 0 && strcmp(cmd, "rotate") != 0 && strcmp(cmd, "status") != 0) ||
        (strcmp(cmd, "rotate") == 0 && domain == NULL) ||
        (r.json && strcmp(cmd, "show") != 0 && strcmp(cmd, "status") != 0) ||
        (ed && strcmp(cmd, "generate") != 0 && strcmp(cmd, "run") != 0)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((conf = conf_load(conf_path, &err)) == NULL) {
        fprintf(stderr, "modo-dkim: %s\n", err);
        free(err);
        return 1;
    }
    if (strcmp(conf_str(conf, "dkim", "log"), "syslog") == 0)
        log_open("modo-dkim", LOG_TARGET_SYSLOG);
    r.conf = conf;
    if ((db = db_open(conf, &err)) == NULL) {
        log_error("%s", err);
        free(err);
        conf_free(&conf);
        return EXIT_TEMPFAIL;
    }
    r.a = admin_new(db, conf);
    if (admin_begin(r.a) != 0 || admin_end(r.a, admin_dkim_settings(r.a, r.dir, sizeof(r.dir),
                                                                    &r.bits)) != 0) {
        log_error("%s", admin_error(r.a));
        rc = EXIT_TEMPFAIL;
        goto out;
    }
    if (conf_bool(conf, "dkim", "ed25519"))
        ed = true;
    if (signer_ids(&r) < 0 &&
        (strcmp(cmd, "generate") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "rotate") == 0)) {
        rc = 1;
        goto out;
    }
    if (strcmp(cmd, "generate") == 0) {
        rc = cmd_generate(&r, domain, ed);
    } else if (strcmp(cmd, "show") == 0) {
        rc = cmd_show(&r, domain, false);
    } else if (strcmp(cmd, "audit") == 0) {
        rc = cmd_show(&r, domain, true);
    } else if (strcmp(cmd, "status") == 0) {
        rc = cmd_status(&r);
    } else if (strcmp(cmd, "rotate") == 0) {
        rc = dkim_rotate(&r, domain, true);
    } else {
        rc = cmd_generate(&r, NULL, ed);
        if (dkim_rotate_all(&r) != 0 && rc == 0)
            rc = 1;
    }
out:
    dns_free(&r.dns);
    admin_free(&r.a);
    db_close(&db);
    conf_free(&conf);
    return rc;
}
