/*
 * admin_alias - aliases (aliases, distribution lists, catch-alls, forwards) and sender
 * addresses; see admin.h.
 */
#include "admin_impl.h"
#include "addr.h"
#include "conf.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- aliases ---- */

/* Is a remote domain allowed as a target? ([admin] alias_can_target_any_domain and lists) */
static bool in_list(const char *list, const char *domain)
{
    size_t n = strlen(domain);
    const char *p = list;

    while (*p) {
        size_t len;
        p += strspn(p, " ,");
        len = strcspn(p, " ,");
        if (len == n && strncasecmp(p, domain, n) == 0)
            return true;
        p += len;
    }
    return false;
}

struct recipient {
    char address[FULL_SIZE];
    long long mailbox_id, alias_id;
};

static int resolve_recipient(struct admin *a, const char *alias, const char *in, struct recipient *rc_out)
{
    struct addr ad;
    struct db_result r;
    struct addr_delimiters delims = {"", true};
    const char *ext;
    char local[ADDR_MAX_LOCAL + 1];
    int rc;

    memset(rc_out, 0, sizeof(*rc_out));
    if ((rc = admin_parse_address(a, "recipient", in, &ad)) != 0)
        return rc;
    snprintf(rc_out->address, sizeof(rc_out->address), "%s", ad.full);
    if (EXEC(a, &r, "SELECT id, type FROM admin_domain WHERE name = $1", ad.domain) < 0)
        return ADMIN_EDB;
    if (r.nrows > 0) {
        bool relay = strcmp(db_cell(&r, 0, 1), "relaydomain") == 0;
        db_result_free(&r);
        snprintf(delims.set, sizeof(delims.set), "%s", conf_str(a->conf, "lookupd", "recipient_delimiter"));
        snprintf(local, sizeof(local), "%.*s", (int)addr_split_extension(ad.local, &delims, &ext),
                 ad.local);
        {
            char bare[FULL_SIZE];
            snprintf(bare, sizeof(bare), "%s@%s", local, ad.domain);
            rc_out->mailbox_id = ID(a, MAILBOX_SELECT "WHERE m.address || '@' || d.name = $1", bare);
            if (rc_out->mailbox_id == 0 && strcmp(ad.full, alias) != 0)
                rc_out->alias_id =
                    ID(a, "SELECT id FROM admin_alias WHERE address = $1 AND NOT internal", ad.full);
        }
        if (rc_out->mailbox_id < 0 || rc_out->alias_id < 0)
            return ADMIN_EDB;
        if (rc_out->mailbox_id == 0 && rc_out->alias_id == 0 && !relay)
            return admin_fail(a, ADMIN_EINVAL, "alias %s: Local recipient %s not found", alias,
                              ad.full);
        return 0;
    }
    db_result_free(&r);
    if (conf_bool(a->conf, "admin", "alias_can_target_any_domain")
            ? in_list(conf_str(a->conf, "admin", "alias_target_block_list"), ad.domain)
            : !in_list(conf_str(a->conf, "admin", "alias_target_allow_list"), ad.domain))
        return admin_fail(a, ADMIN_EINVAL, "alias %s: recipient domain %s is not allowed", alias,
                          ad.domain);
    return 0;
}

static int add_recipients(struct admin *a, const char *alias, long long alias_id,
                          const char *const *list)
{
    struct recipient rcpt;
    size_t i;
    int rc;

    for (i = 0; list && list[i]; i++) {
        if (list[i][0] == '\0')
            continue; /* empty CSV fields */
        if ((rc = resolve_recipient(a, alias, list[i], &rcpt)) != 0)
            return rc;
        if (ID(a, "SELECT id FROM modoboa_admin_aliasrecipient WHERE alias_id = $1 AND address = $2",
               admin_num(a, alias_id), rcpt.address) != 0)
            continue; /* duplicates are dropped */
        if (EXEC(a, NULL,
                 "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
                 " VALUES ($1, $2, $3, $4)",
                 rcpt.address, admin_num(a, alias_id),
                 rcpt.mailbox_id ? admin_num(a, rcpt.mailbox_id) : NULL,
                 rcpt.alias_id ? admin_num(a, rcpt.alias_id) : NULL) < 0)
            return ADMIN_EDB;
    }
    return 0;
}

static int parse_expiry(struct admin *a, const char *s, const char **out, char *buf, size_t size)
{
    static const char *const formats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                                          "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
    struct tm tm;
    size_t i;

    if (s[0] == '\0' || strcasecmp(s, "never") == 0) {
        *out = NULL;
        return 0;
    }
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        const char *end;
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, formats[i], &tm);
        if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0)) {
            *out = db_time(a->db, timegm(&tm), buf, size);
            return 0;
        }
    }
    return admin_fail(a, ADMIN_EINVAL, "invalid expiry \"%s\" (YYYY-MM-DD[ HH:MM[:SS]] UTC)", s);
}

/* "@domain" or an address, folded; the domain id (must be hosted). */
static int alias_address(struct admin *a, const char *in, char *out, size_t size, long long *domain_id)
{
    struct addr ad;
    const char *domain;
    int rc;

    if (in && in[0] == '@') {
        char folded[ADDR_MAX_DOMAIN + 1];
        const char *err;
        if (addr_fold_domain_flags(in + 1, strlen(in + 1), folded, ADDR_KEEP_UNICODE, &err) < 0)
            return admin_fail(a, ADMIN_EINVAL, "alias \"%s\": not a valid domain (%s)", in, err);
        snprintf(out, size, "@%s", folded);
        domain = out + 1;
    } else {
        if ((rc = admin_parse_address(a, "alias", in, &ad)) != 0)
            return rc;
        snprintf(out, size, "%s", ad.full);
        domain = strchr(out, '@') + 1;
    }
    if ((*domain_id = ID(a, "SELECT id FROM admin_domain WHERE name = $1", domain)) <= 0)
        return *domain_id < 0 ? ADMIN_EDB
                              : admin_fail(a, ADMIN_ENOENT, "alias %s: domain %s does not exist",
                                           out, domain);
    return 0;
}

static int alias_fields(struct admin *a, const struct admin_alias *al, long long id)
{
    const char *exp = NULL;
    char buf[40];
    bool on;
    int rc;

    if (al->enabled) {
        if ((rc = admin_parse_bool(a, "enabled", al->enabled, &on)) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_alias SET enabled = $2 WHERE id = $1", admin_num(a, id),
                 on ? "1" : "0") < 0)
            return ADMIN_EDB;
    }
    if (al->description && EXEC(a, NULL, "UPDATE admin_alias SET description = $2 WHERE id = $1",
                                admin_num(a, id), al->description) < 0)
        return ADMIN_EDB;
    if (al->expire_at) {
        if ((rc = parse_expiry(a, al->expire_at, &exp, buf, sizeof(buf))) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_alias SET expire_at = $2 WHERE id = $1", admin_num(a, id),
                 exp) < 0)
            return ADMIN_EDB;
    }
    return EXEC(a, NULL, "UPDATE admin_alias SET last_modification = $2 WHERE id = $1",
                admin_num(a, id), db_now(a->db)) < 0
               ? ADMIN_EDB
               : 0;
}

static long long alias_recipient_count(struct admin *a, long long id)
{
    return ID(a, "SELECT count(*) FROM modoboa_admin_aliasrecipient WHERE alias_id = $1",
              admin_num(a, id));
}

int admin_alias_add(struct admin *a, const struct admin_alias *al)
{
    char address[FULL_SIZE];
    long long domain_id, id;
    int rc;

    if ((rc = alias_address(a, al->address, address, sizeof(address), &domain_id)) != 0)
        return rc;
    id = ID(a, "SELECT id FROM admin_alias WHERE address = $1 AND NOT internal", address);
    if (id < 0)
        return ADMIN_EDB;
    if (id > 0 && !al->merge)
        return admin_fail(a, ADMIN_EEXIST, "alias %s: already exists", address);
    if (id == 0 && (rc = admin_check_domain_limit(a, domain_id, "mailbox_aliases", address)) != 0)
        return rc;
    if (id == 0) {
        id = ID(a,
                "INSERT INTO admin_alias (address, domain_id, enabled, internal, description,"
                " expire_at, creation, last_modification)"
                " VALUES ($1, $2, TRUE, FALSE, '', NULL, $3, $3) RETURNING id",
                address, admin_num(a, domain_id), db_now(a->db));
        if (id <= 0)
            return ADMIN_EDB;
    }
    if ((rc = alias_fields(a, al, id)) != 0 || (rc = add_recipients(a, address, id, al->recipients)) != 0 ||
        (rc = admin_grant_domain_admins(a, domain_id, "admin", "alias", id)) != 0)
        return rc;
    if ((rc = (int)alias_recipient_count(a, id)) <= 0)
        return rc < 0 ? ADMIN_EDB : admin_fail(a, ADMIN_EINVAL, "alias %s: no recipient", address);
    if ((rc = admin_fix_forward(a, address)) != 0)
        return rc;
    return admin_log(a, "INFO", "Alias '%s' added by management command", address);
}

int admin_alias_mod(struct admin *a, const struct admin_alias *al)
{
    char address[FULL_SIZE];
    long long domain_id, id;
    struct recipient rcpt;
    size_t i;
    int rc;

    if ((rc = alias_address(a, al->address, address, sizeof(address), &domain_id)) != 0)
        return rc;
    if ((id = ID(a, "SELECT id FROM admin_alias WHERE address = $1 AND NOT internal", address)) <= 0)
        return id < 0 ? ADMIN_EDB : admin_fail(a, ADMIN_ENOENT, "alias %s: no such alias", address);
    if ((rc = alias_fields(a, al, id)) != 0)
        return rc;
    if (al->recipients &&
        EXEC(a, NULL, "DELETE FROM modoboa_admin_aliasrecipient WHERE alias_id = $1",
             admin_num(a, id)) < 0)
        return ADMIN_EDB;
    if ((rc = add_recipients(a, address, id, al->recipients)) != 0 ||
        (rc = add_recipients(a, address, id, al->add)) != 0)
        return rc;
    for (i = 0; al->remove && al->remove[i]; i++) {
        struct addr ad;
        if ((rc = admin_parse_address(a, "recipient", al->remove[i], &ad)) != 0)
            return rc;
        (void)rcpt;
        if ((rc = (int)ID(a,
                          "SELECT id FROM modoboa_admin_aliasrecipient WHERE alias_id = $1 AND address = $2",
                          admin_num(a, id), ad.full)) <= 0)
            return rc < 0 ? ADMIN_EDB
                          : admin_fail(a, ADMIN_ENOENT, "alias %s: %s is not a recipient", address,
                                       ad.full);
        if (EXEC(a, NULL, "DELETE FROM modoboa_admin_aliasrecipient WHERE id = $1",
                 admin_num(a, rc)) < 0)
            return ADMIN_EDB;
    }
    if ((rc = (int)alias_recipient_count(a, id)) <= 0)
        return rc < 0 ? ADMIN_EDB
                      : admin_fail(a, ADMIN_EINVAL,
                                   "alias %s: no recipient left (delete the alias instead)", address);
    if ((rc = admin_fix_forward(a, address)) != 0)
        return rc;
    return admin_log(a, "INFO", "Alias '%s' modified by management command", address);
}

int admin_alias_del(struct admin *a, const char *address_in)
{
    char address[FULL_SIZE];
    long long domain_id, id;
    int rc;

    if ((rc = alias_address(a, address_in, address, sizeof(address), &domain_id)) != 0)
        return rc;
    if ((id = ID(a, "SELECT id FROM admin_alias WHERE address = $1 AND NOT internal", address)) <= 0)
        return id < 0 ? ADMIN_EDB : admin_fail(a, ADMIN_ENOENT, "alias %s: no such alias", address);
    if ((rc = admin_alias_delete_id(a, admin_num(a, id))) != 0 || (rc = admin_fix_forward(a, address)) != 0)
        return rc;
    return admin_log(a, "CRITICAL", "Alias '%s' deleted by management command", address);
}

/* ---- sender addresses ---- */

static int sender_target(struct admin *a, const char *account, const char *address_in,
                         long long *mbid, char *address, size_t size)
{
    struct user_row u = {0};
    struct mailbox_row m = {0};
    struct addr ad;
    int rc;

    if ((rc = admin_find_user(a, account, &u)) != 0)
        return rc;
    rc = admin_mailbox_by_user(a, admin_num(a, u.id), &m);
    if (rc == ADMIN_ENOENT)
        rc = admin_fail(a, ADMIN_EINVAL, "account %s: has no mailbox", u.username);
    free(u.username);
    if (rc != 0)
        return rc;
    *mbid = m.id;
    admin_mailbox_row_free(&m);
    if (address_in && address_in[0] == '@') {
        char folded[ADDR_MAX_DOMAIN + 1];
        const char *err;
        if (addr_fold_domain_flags(address_in + 1, strlen(address_in + 1), folded, ADDR_KEEP_UNICODE,
                                   &err) < 0)
            return admin_fail(a, ADMIN_EINVAL, "sender address \"%s\": not a valid domain (%s)",
                              address_in, err);
        snprintf(address, size, "@%s", folded);
        return 0;
    }
    if ((rc = admin_parse_address(a, "sender address", address_in, &ad)) != 0)
        return rc;
    snprintf(address, size, "%s", ad.full);
    return 0;
}

int admin_sender_address_add(struct admin *a, const char *account, const char *address_in)
{
    char address[FULL_SIZE];
    long long mbid;
    int rc;

    if ((rc = sender_target(a, account, address_in, &mbid, address, sizeof(address))) != 0)
        return rc;
    if (ID(a, "SELECT id FROM admin_senderaddress WHERE address = $1 AND mailbox_id = $2", address,
           admin_num(a, mbid)) != 0)
        return admin_fail(a, ADMIN_EEXIST, "sender address %s of %s: already exists", address, account);
    if (EXEC(a, NULL, "INSERT INTO admin_senderaddress (address, mailbox_id) VALUES ($1, $2)",
             address, admin_num(a, mbid)) < 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Sender address '%s' added by management command", address);
}

int admin_sender_address_del(struct admin *a, const char *account, const char *address_in)
{
    char address[FULL_SIZE];
    struct db_result r;
    long long mbid;
    int rc;

    if ((rc = sender_target(a, account, address_in, &mbid, address, sizeof(address))) != 0)
        return rc;
    if (EXEC(a, &r, "DELETE FROM admin_senderaddress WHERE address = $1 AND mailbox_id = $2",
             address, admin_num(a, mbid)) < 0)
        return ADMIN_EDB;
    rc = r.affected == 0;
    db_result_free(&r);
    if (rc)
        return admin_fail(a, ADMIN_ENOENT, "sender address %s of %s: no such sender address",
                          address, account);
    return admin_log(a, "CRITICAL", "Sender address '%s' deleted by management command", address);
}
