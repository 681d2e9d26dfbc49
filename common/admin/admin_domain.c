/*
 * admin_domain - domains, domain aliases and relay domains, keeping Modoboa's invariants;
 * see admin.h. Uses the helpers of admin.c and, to delete a domain's accounts, those of
 * admin_account.c.
 */
#include "admin_impl.h"
#include "addr.h"
#include "conf.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- domains ---- */

/* Fold a domain name typed by an admin (lower case; U-labels kept as typed). */
static int fold_domain(struct admin *a, const char *in, char *out)
{
    const char *err;

    if (in == NULL || addr_fold_domain_flags(in, strlen(in), out, ADDR_KEEP_UNICODE, &err) < 0 ||
        strchr(out, '.') == NULL)
        return admin_fail(a, ADMIN_EINVAL, "\"%s\": not a valid domain name%s%s", in ? in : "",
                          in && strchr(in, '.') ? ": " : " (no dot)",
                          in && strchr(in, '.') ? err : "");
    return 0;
}

/* Is the name free (neither a domain nor a domain alias)? 0, EEXIST or EDB. */
static int name_free(struct admin *a, const char *name)
{
    long long id = ID(a,
                      "SELECT 1 FROM admin_domain WHERE name = $1"
                      " UNION ALL SELECT 1 FROM admin_domainalias WHERE name = $1",
                      name);
    if (id < 0)
        return ADMIN_EDB;
    if (id > 0)
        return admin_fail(a, ADMIN_EEXIST, "domain %s: already exists (as a domain or a domain alias)",
                          name);
    return 0;
}

struct domain_row {
    long long id, quota, default_quota, transport_id;
    bool enabled, relay;
};

static int find_domain(struct admin *a, const char *name, struct domain_row *d)
{
    struct db_result r;

    if (EXEC(a, &r,
             "SELECT id, quota, default_mailbox_quota, enabled, type, transport_id"
             " FROM admin_domain WHERE name = $1",
             name) < 0)
        return ADMIN_EDB;
    if (r.nrows == 0) {
        db_result_free(&r);
        return admin_fail(a, ADMIN_ENOENT, "domain %s: no such domain", name);
    }
    d->id = atoll(db_cell(&r, 0, 0));
    d->quota = atoll(db_cell(&r, 0, 1));
    d->default_quota = atoll(db_cell(&r, 0, 2));
    d->enabled = admin_cell_true(db_cell(&r, 0, 3));
    d->relay = strcmp(db_cell(&r, 0, 4), "relaydomain") == 0;
    d->transport_id = db_cell(&r, 0, 5) ? atoll(db_cell(&r, 0, 5)) : 0;
    db_result_free(&r);
    return 0;
}

/* The MB allocated to the mailboxes of a domain, except one (0 = none). */
static long long allocated(struct admin *a, long long domain_id, long long except_mailbox)
{
    return ID(a, "SELECT COALESCE(SUM(quota), 0) FROM admin_mailbox WHERE domain_id = $1 AND id <> $2",
              admin_num(a, domain_id), admin_num(a, except_mailbox));
}

/* Quota rules of a domain: default within quota, quota above what is allocated. */
static int check_domain_quotas(struct admin *a, const char *name, long long quota,
                               long long default_quota, long long domain_id)
{
    long long used;

    if (quota > 0 && default_quota > quota)
        return admin_fail(a, ADMIN_EINVAL,
                          "%s: default mailbox quota cannot be greater than domain quota", name);
    if (domain_id > 0 && quota > 0) {
        if ((used = allocated(a, domain_id, 0)) < 0)
            return ADMIN_EDB;
        if (used > quota)
            return admin_fail(a, ADMIN_EINVAL,
                              "%s: quota %lld MB is below the %lld MB given to its mailboxes",
                              name, quota, used);
        if (ID(a, "SELECT 1 FROM admin_mailbox WHERE domain_id = $1 AND quota = 0",
               admin_num(a, domain_id)) > 0)
            return admin_fail(a, ADMIN_EINVAL,
                              "%s: some mailboxes have an unlimited quota; give them one first",
                              name);
    }
    return 0;
}

static int dkim_length(struct admin *a, const char *s, const char **out)
{
    if (s[0] == '\0' || strcasecmp(s, "default") == 0) {
        *out = NULL;
        return 0;
    }
    if (strcmp(s, "1024") != 0 && strcmp(s, "2048") != 0 && strcmp(s, "4096") != 0)
        return admin_fail(a, ADMIN_EINVAL, "invalid DKIM key length \"%s\" (1024, 2048 or 4096)",
                          s);
    *out = s;
    return 0;
}

/* Settings that add and mod share, applied by UPDATE to an existing row. */
static int apply_domain_fields(struct admin *a, const struct admin_domain *d, const char *name,
                               long long id)
{
    struct domain_row cur;
    long long quota, defq;
    const char *v = NULL;
    int rc;

    if ((rc = find_domain(a, name, &cur)) != 0)
        return rc;
    quota = cur.quota;
    defq = cur.default_quota;
    if (d->quota && (rc = admin_parse_uint(a, "quota", d->quota, &quota)) != 0)
        return admin_fail(a, rc, "%s: invalid quota value for domain", name);
    if (d->default_mailbox_quota &&
        (rc = admin_parse_uint(a, "default mailbox quota", d->default_mailbox_quota, &defq)) != 0)
        return admin_fail(a, rc, "%s: invalid default mailbox quota value for domain", name);
    if ((d->quota || d->default_mailbox_quota) &&
        (rc = check_domain_quotas(a, name, quota, defq, id)) != 0)
        return rc;
    if ((d->quota || d->default_mailbox_quota) &&
        (EXEC(a, NULL,
              "UPDATE admin_domain SET quota = $2, default_mailbox_quota = $3 WHERE id = $1",
              admin_num(a, id), admin_num(a, quota), admin_num(a, defq)) < 0 ||
         /* Modoboa: mailboxes that follow the domain default get it whenever the domain is saved */
         EXEC(a, NULL,
              "UPDATE admin_mailbox SET quota = $2 WHERE domain_id = $1 AND use_domain_quota",
              admin_num(a, id), admin_num(a, defq)) < 0))
        return ADMIN_EDB;
    if (d->enabled && (rc = admin_set_bool(a, "admin_domain", "enabled", "enabled", d->enabled,
                                           id)) != 0)
        return rc;
    if (d->message_limit) {
        if ((rc = admin_parse_limit(a, "message limit", d->message_limit, &v)) != 0 ||
            (rc = admin_note_limit(a, "admin_domain", id, name, v)) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_domain SET message_limit = $2 WHERE id = $1",
                 admin_num(a, id), v) < 0)
            return ADMIN_EDB;
    }
    if (d->enable_dns_checks &&
        (rc = admin_set_bool(a, "admin_domain", "enable_dns_checks", "DNS checks",
                             d->enable_dns_checks, id)) != 0)
        return rc;
    if (d->enable_dkim &&
        (rc = admin_set_bool(a, "admin_domain", "enable_dkim", "DKIM", d->enable_dkim, id)) != 0)
        return rc;
    if (d->dkim_selector) {
        size_t i, n = strlen(d->dkim_selector);
        for (i = 0; i < n; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                        d->dkim_selector[i]))
                break;
        if (n == 0 || n > 30 || i < n)
            return admin_fail(a, ADMIN_EINVAL, "invalid DKIM selector \"%s\"", d->dkim_selector);
        if (EXEC(a, NULL, "UPDATE admin_domain SET dkim_key_selector = $2 WHERE id = $1",
                 admin_num(a, id), d->dkim_selector) < 0)
            return ADMIN_EDB;
    }
    if (d->dkim_key_length) {
        if ((rc = dkim_length(a, d->dkim_key_length, &v)) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_domain SET dkim_key_length = $2 WHERE id = $1",
                 admin_num(a, id), v) < 0)
            return ADMIN_EDB;
    }
    return EXEC(a, NULL, "UPDATE admin_domain SET last_modification = $2 WHERE id = $1",
                admin_num(a, id), db_now(a->db)) < 0 ? ADMIN_EDB : 0;
}

static int insert_domain(struct admin *a, const char *name, const char *type, long long *id)
{
    const char *now = db_now(a->db);

    *id = ID(a,
             "INSERT INTO admin_domain (name, quota, default_mailbox_quota, message_limit, enabled,"
             " type, enable_dns_checks, transport_id, enable_dkim, dkim_key_selector,"
             " dkim_key_length, dkim_public_key, dkim_private_key_path, creation,"
             " last_modification) VALUES ($1, 0, 0, NULL, TRUE, $2, TRUE, NULL, FALSE, 'modoboa',"
             " NULL, '', '', $3, $3) RETURNING id",
             name, type, now);
    return *id > 0 ? 0 : ADMIN_EDB;
}

int admin_domain_add(struct admin *a, const struct admin_domain *d)
{
    char name[ADDR_MAX_DOMAIN + 1];
    long long id;
    int rc;

    if ((rc = fold_domain(a, d->name, name)) != 0 || (rc = name_free(a, name)) != 0 ||
        (rc = insert_domain(a, name, "domain", &id)) != 0)
        return rc;
    if ((rc = apply_domain_fields(a, d, name, id)) != 0)
        return rc;
    return admin_log(a, "INFO", "Domain '%s' added by management command", name);
}

/* Replace "@old" at the end of a column's values by "@new" (domain rename). */
static int rewrite_suffix(struct admin *a, const char *table, const char *column,
                          const char *where, const char *old_suffix, const char *new_suffix)
{
    struct strbuf sql = STRBUF_INIT;
    int rc;

    strbuf_printf(&sql,
                  "UPDATE %s SET %s = substr(%s, 1, length(%s) - length($1)) || $2"
                  " WHERE substr(%s, length(%s) - length($1) + 1) = $1%s%s",
                  table, column, column, column, column, column, where ? " AND " : "",
                  where ? where : "");
    rc = EXEC(a, NULL, sql.data, old_suffix, new_suffix);
    strbuf_free(&sql);
    return rc < 0 ? ADMIN_EDB : 0;
}

static int domain_rename(struct admin *a, const struct domain_row *d, const char *old,
                         const char *new_name_in)
{
    char newn[ADDR_MAX_DOMAIN + 1], olds[ADDR_MAX_DOMAIN + 2], news[ADDR_MAX_DOMAIN + 2];
    struct db_result r;
    size_t i;
    int rc;

    if ((rc = fold_domain(a, new_name_in, newn)) != 0)
        return rc;
    if (strcmp(newn, old) == 0)
        return 0;
    if ((rc = name_free(a, newn)) != 0)
        return rc;
    snprintf(olds, sizeof(olds), "@%s", old);
    snprintf(news, sizeof(news), "@%s", newn);
    /* every mailbox moves: queue the rename of its home, rename its quota row */
    if (EXEC(a, &r, "SELECT id, address FROM admin_mailbox WHERE domain_id = $1",
             admin_num(a, d->id)) < 0)
        return ADMIN_EDB;
    for (i = 0; i < r.nrows; i++) {
        char *home = admin_mail_home(a, db_cell(&r, i, 1), old);
        rc = admin_queue_op(a, "rename", home, db_cell(&r, i, 0));
        free(home);
        if (rc < 0) {
            db_result_free(&r);
            return ADMIN_EDB;
        }
    }
    db_result_free(&r);
    if (rewrite_suffix(a, "admin_quota", "username", NULL, olds, news) ||
        rewrite_suffix(a, "core_user", "username", NULL, olds, news) ||
        rewrite_suffix(a, "core_user", "email", NULL, olds, news) ||
        rewrite_suffix(a, "admin_alias", "address", NULL, olds, news) ||
        rewrite_suffix(a, "modoboa_admin_aliasrecipient", "address", NULL, olds, news) ||
        rewrite_suffix(a, "admin_senderaddress", "address", NULL, olds, news))
        return ADMIN_EDB;
    if (EXEC(a, NULL, "UPDATE transport_transport SET pattern = $2 WHERE pattern = $1", old,
             newn) < 0 ||
        EXEC(a, NULL, "UPDATE relaydomains_recipientaccess SET pattern = $2 WHERE pattern = $1",
             old, newn) < 0 ||
        EXEC(a, NULL, "UPDATE admin_domain SET name = $2 WHERE id = $1", admin_num(a, d->id),
             newn) < 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Domain '%s' renamed to '%s' by management command", old, newn);
}

int admin_domain_mod(struct admin *a, const struct admin_domain *d)
{
    char name[ADDR_MAX_DOMAIN + 1];
    struct domain_row cur;
    int rc;

    if ((rc = fold_domain(a, d->name, name)) != 0 || (rc = find_domain(a, name, &cur)) != 0)
        return rc;
    if ((rc = apply_domain_fields(a, d, name, cur.id)) != 0)
        return rc;
    if (d->new_name != NULL) {
        if ((rc = domain_rename(a, &cur, name, d->new_name)) != 0)
            return rc;
        fold_domain(a, d->new_name, name);
    }
    return admin_log(a, "INFO", "Domain '%s' modified by management command", name);
}

/* The internal alias "@alias" -> "@target" of a domain alias. */
static int domainalias_internal_delete(struct admin *a, const char *name)
{
    char at[ADDR_MAX_DOMAIN + 2];
    long long id;

    snprintf(at, sizeof(at), "@%s", name);
    id = ID(a, "SELECT id FROM admin_alias WHERE address = $1 AND internal", at);
    if (id < 0)
        return ADMIN_EDB;
    return id > 0 ? admin_alias_delete_id(a, admin_num(a, id)) : 0;
}

int admin_domain_del(struct admin *a, const struct admin_domain *d)
{
    char name[ADDR_MAX_DOMAIN + 1];
    bool remove_accounts = conf_bool(a->conf, "admin", "auto_account_removal");
    struct domain_row cur;
    struct db_result r;
    const char *did;
    size_t i;
    int rc = 0;

    if ((rc = fold_domain(a, d->name, name)) != 0 || (rc = find_domain(a, name, &cur)) != 0)
        return rc;
    did = admin_num(a, cur.id);
    /* mailboxes, and with auto_account_removal their accounts */
    if (EXEC(a, &r, "SELECT id, user_id FROM admin_mailbox WHERE domain_id = $1", did) < 0)
        return ADMIN_EDB;
    for (i = 0; i < r.nrows && rc == 0; i++)
        rc = remove_accounts ? admin_user_delete(a, db_cell(&r, i, 1), d->keep_dirs)
                             : admin_mailbox_delete(a, db_cell(&r, i, 0), d->keep_dirs);
    db_result_free(&r);
    if (rc != 0)
        return rc;
    /* the domain's aliases, and the domain aliases that point at it */
    if (EXEC(a, &r, "SELECT id FROM admin_alias WHERE domain_id = $1", admin_num(a, cur.id)) < 0)
        return ADMIN_EDB;
    for (i = 0; i < r.nrows && rc == 0; i++)
        rc = admin_alias_delete_id(a, db_cell(&r, i, 0));
    db_result_free(&r);
    if (rc != 0)
        return rc;
    if (EXEC(a, &r, "SELECT name FROM admin_domainalias WHERE target_id = $1",
             admin_num(a, cur.id)) < 0)
        return ADMIN_EDB;
    for (i = 0; i < r.nrows && rc == 0; i++)
        rc = domainalias_internal_delete(a, db_cell(&r, i, 0));
    db_result_free(&r);
    if (rc != 0)
        return rc;
    did = admin_num(a, cur.id);
    if (EXEC(a, NULL, "DELETE FROM admin_domainalias WHERE target_id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_dnsblresult WHERE domain_id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_mxrecord WHERE domain_id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM dnstools_dnsrecord WHERE domain_id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_alarm WHERE domain_id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM limits_domainobjectlimit WHERE domain_id = $1", did) < 0 ||
        EXEC(a, NULL, "UPDATE maillog_maillog SET from_domain_id = NULL WHERE from_domain_id = $1",
             did) < 0 ||
        EXEC(a, NULL, "UPDATE maillog_maillog SET to_domain_id = NULL WHERE to_domain_id = $1",
             did) < 0 ||
        admin_revoke_object(a, "admin", "domain", did) != 0)
        return ADMIN_EDB;
    {
        char at[ADDR_MAX_DOMAIN + 2];
        snprintf(at, sizeof(at), "@%s", name);
        if (EXEC(a, NULL,
                 "DELETE FROM admin_quota WHERE substr(username, length(username) - length($1) + 1) = $1",
                 at) < 0)
            return ADMIN_EDB;
    }
    if (EXEC(a, NULL, "DELETE FROM admin_domain WHERE id = $1", did) < 0 ||
        EXEC(a, NULL, "DELETE FROM relaydomains_recipientaccess WHERE pattern = $1", name) < 0 ||
        EXEC(a, NULL, "DELETE FROM transport_transport WHERE pattern = $1", name) < 0)
        return ADMIN_EDB;
    return admin_log(a, "CRITICAL", "Domain '%s' deleted by management command", name);
}

/* ---- relay domains: a domain of type relaydomain plus its relay transport ---- */

static int relay_settings(struct admin *a, const struct admin_domain *d, long long transport_id)
{
    struct db_result r;
    char host[256] = "", json[512], hop[300];
    long long port = 25;
    bool verify = false;
    const char *p;
    int rc;

    if (transport_id > 0) { /* current values */
        if (EXEC(a, &r, "SELECT next_hop, _settings FROM transport_transport WHERE id = $1",
                 admin_num(a, transport_id)) < 0)
            return ADMIN_EDB;
        if (r.nrows > 0) {
            const char *hopc = db_cell(&r, 0, 0), *set = db_cell(&r, 0, 1);
            if (hopc && hopc[0] == '[' && (p = strstr(hopc, "]:")) != NULL) {
                snprintf(host, sizeof(host), "%.*s", (int)(p - hopc - 1), hopc + 1);
                port = atoll(p + 2);
            }
            verify = set && (strstr(set, "\"relay_verify_recipients\": true") ||
                             strstr(set, "\"relay_verify_recipients\":true"));
        }
        db_result_free(&r);
    }
    if (d->relay_host) {
        size_t i, n = strlen(d->relay_host);
        for (i = 0; i < n; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:",
                        d->relay_host[i]))
                break;
        if (n == 0 || n >= sizeof(host) || i < n)
            return admin_fail(a, ADMIN_EINVAL, "invalid relay host \"%s\"", d->relay_host);
        snprintf(host, sizeof(host), "%s", d->relay_host);
    }
    if (d->relay_port && ((rc = admin_parse_uint(a, "relay port", d->relay_port, &port)) != 0 ||
                          port == 0 || port > 65535))
        return admin_fail(a, ADMIN_EINVAL, "invalid relay port \"%s\"", d->relay_port);
    if (d->relay_verify && (rc = admin_parse_bool(a, "verify recipients", d->relay_verify,
                                                  &verify)) != 0)
        return rc;
    if (host[0] == '\0')
        return admin_fail(a, ADMIN_EINVAL, "%s: a relay domain needs a target host", d->name);
    snprintf(hop, sizeof(hop), "[%s]:%lld", host, port);
    snprintf(json, sizeof(json),
             "{\"relay_target_host\": \"%s\", \"relay_target_port\": %lld,"
             " \"relay_verify_recipients\": %s}",
             host, port, verify ? "true" : "false");
    if (EXEC(a, NULL, "UPDATE transport_transport SET next_hop = $2, _settings = $3 WHERE id = $1",
             admin_num(a, transport_id), hop, json) < 0 ||
        EXEC(a, NULL,
             "DELETE FROM relaydomains_recipientaccess WHERE pattern ="
             " (SELECT pattern FROM transport_transport WHERE id = $1)",
             admin_num(a, transport_id)) < 0)
        return ADMIN_EDB;
    if (verify && EXEC(a, NULL,
                       "INSERT INTO relaydomains_recipientaccess (pattern, action)"
                       " SELECT pattern, 'reject_unverified_recipient' FROM transport_transport"
                       " WHERE id = $1",
                       admin_num(a, transport_id)) < 0)
        return ADMIN_EDB;
    return 0;
}

int admin_relaydomain_add(struct admin *a, const struct admin_domain *d)
{
    char name[ADDR_MAX_DOMAIN + 1];
    long long id, tid;
    int rc;

    if ((rc = fold_domain(a, d->name, name)) != 0 || (rc = name_free(a, name)) != 0)
        return rc;
    if (ID(a, "SELECT id FROM transport_transport WHERE pattern = $1", name) != 0)
        return admin_fail(a, ADMIN_EEXIST, "relay domain %s: a transport exists for it already",
                          name);
    tid = ID(a,
             "INSERT INTO transport_transport (pattern, service, next_hop, _settings)"
             " VALUES ($1, 'relay', '', '{}') RETURNING id",
             name);
    if (tid <= 0 || (rc = insert_domain(a, name, "relaydomain", &id)) != 0)
        return ADMIN_EDB;
    if (EXEC(a, NULL, "UPDATE admin_domain SET transport_id = $2 WHERE id = $1", admin_num(a, id),
             admin_num(a, tid)) < 0)
        return ADMIN_EDB;
    if ((rc = relay_settings(a, d, tid)) != 0 || (rc = apply_domain_fields(a, d, name, id)) != 0)
        return rc;
    return admin_log(a, "INFO", "Domain '%s' added by management command", name);
}

int admin_relaydomain_mod(struct admin *a, const struct admin_domain *d)
{
    char name[ADDR_MAX_DOMAIN + 1];
    struct domain_row cur;
    int rc;

    if ((rc = fold_domain(a, d->name, name)) != 0 || (rc = find_domain(a, name, &cur)) != 0)
        return rc;
    if (!cur.relay || cur.transport_id == 0)
        return admin_fail(a, ADMIN_EINVAL, "domain %s: not a relay domain", name);
    if ((d->relay_host || d->relay_port || d->relay_verify) &&
        (rc = relay_settings(a, d, cur.transport_id)) != 0)
        return rc;
    return admin_domain_mod(a, d);
}

/* ---- domain aliases ---- */

int admin_domainalias_add(struct admin *a, const char *name_in, const char *target_in,
                          const char *enabled)
{
    char name[ADDR_MAX_DOMAIN + 1], target[ADDR_MAX_DOMAIN + 1];
    char at_name[ADDR_MAX_DOMAIN + 2], at_target[ADDR_MAX_DOMAIN + 2];
    struct domain_row t;
    const char *now = db_now(a->db);
    bool on = true;
    long long alias_id;
    int rc;

    if ((rc = fold_domain(a, name_in, name)) != 0 || (rc = fold_domain(a, target_in, target)) != 0)
        return rc;
    if ((rc = find_domain(a, target, &t)) == ADMIN_ENOENT)
        return admin_fail(a, ADMIN_ENOENT, "Unknown domain %s", target);
    if (rc != 0 || (rc = name_free(a, name)) != 0 ||
        (rc = admin_check_domain_limit(a, t.id, "domain_aliases", name)) != 0)
        return rc;
    if (enabled && (rc = admin_parse_bool(a, "enabled", enabled, &on)) != 0)
        return rc;
    snprintf(at_name, sizeof(at_name), "@%s", name);
    snprintf(at_target, sizeof(at_target), "@%s", target);
    if (EXEC(a, NULL,
             "INSERT INTO admin_domainalias (name, target_id, enabled, creation, last_modification)"
             " VALUES ($1, $2, $3, $4, $4)",
             name, admin_num(a, t.id), on ? "1" : "0", now) < 0)
        return ADMIN_EDB;
    alias_id = ID(a,
                  "INSERT INTO admin_alias (address, domain_id, enabled, internal, description,"
                  " expire_at, creation, last_modification)"
                  " VALUES ($1, NULL, TRUE, TRUE, '', NULL, $2, $2) RETURNING id",
                  at_name, now);
    if (alias_id <= 0 ||
        EXEC(a, NULL,
             "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
             " VALUES ($1, $2, NULL, NULL)",
             at_target, admin_num(a, alias_id)) < 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Domain alias '%s' added by management command", name);
}

int admin_domainalias_mod(struct admin *a, const char *name_in, const char *target_in,
                          const char *enabled)
{
    char name[ADDR_MAX_DOMAIN + 1], target[ADDR_MAX_DOMAIN + 1], at[ADDR_MAX_DOMAIN + 2];
    char at_name[ADDR_MAX_DOMAIN + 2];
    struct domain_row t;
    long long id;
    bool on;
    int rc;

    if ((rc = fold_domain(a, name_in, name)) != 0)
        return rc;
    if ((id = ID(a, "SELECT id FROM admin_domainalias WHERE name = $1", name)) <= 0)
        return id < 0 ? ADMIN_EDB
                      : admin_fail(a, ADMIN_ENOENT, "domain alias %s: no such domain alias", name);
    if (enabled) {
        if ((rc = admin_parse_bool(a, "enabled", enabled, &on)) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_domainalias SET enabled = $2 WHERE id = $1",
                 admin_num(a, id), on ? "1" : "0") < 0)
            return ADMIN_EDB;
    }
    if (target_in) {
        if ((rc = fold_domain(a, target_in, target)) != 0)
            return rc;
        if ((rc = find_domain(a, target, &t)) != 0)
            return rc;
        snprintf(at, sizeof(at), "@%s", target);
        snprintf(at_name, sizeof(at_name), "@%s", name);
        if (EXEC(a, NULL, "UPDATE admin_domainalias SET target_id = $2 WHERE id = $1",
                 admin_num(a, id), admin_num(a, t.id)) < 0 ||
            EXEC(a, NULL,
                 "UPDATE modoboa_admin_aliasrecipient SET address = $2 WHERE alias_id IN"
                 " (SELECT id FROM admin_alias WHERE address = $1 AND internal)",
                 at_name, at) < 0)
            return ADMIN_EDB;
    }
    if (EXEC(a, NULL, "UPDATE admin_domainalias SET last_modification = $2 WHERE id = $1",
             admin_num(a, id), db_now(a->db)) < 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Domain alias '%s' modified by management command", name);
}

int admin_domainalias_del(struct admin *a, const char *name_in)
{
    char name[ADDR_MAX_DOMAIN + 1];
    long long id;
    int rc;

    if ((rc = fold_domain(a, name_in, name)) != 0)
        return rc;
    if ((id = ID(a, "SELECT id FROM admin_domainalias WHERE name = $1", name)) <= 0)
        return id < 0 ? ADMIN_EDB
                      : admin_fail(a, ADMIN_ENOENT, "domain alias %s: no such domain alias", name);
    if ((rc = domainalias_internal_delete(a, name)) != 0 ||
        EXEC(a, NULL, "DELETE FROM admin_domainalias WHERE id = $1", admin_num(a, id)) < 0)
        return rc ? rc : ADMIN_EDB;
    return admin_log(a, "CRITICAL", "Domain alias '%s' deleted by management command", name);
}
