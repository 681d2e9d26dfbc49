/*
 * admin_account - accounts and their mailboxes, aliases, sender addresses; see admin.h.
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

static const char *const roles[] = {"SimpleUsers", "DomainAdmins", "Resellers", "SuperAdmins"};

int admin_parse_address(struct admin *a, const char *what, const char *in, struct addr *out)
{
    const char *err;

    if (in == NULL || addr_parse_flags(in, strlen(in), out, ADDR_KEEP_UNICODE, &err) < 0)
        return admin_fail(a, ADMIN_EINVAL, "%s \"%s\": not a valid address (%s)", what,
                          in ? in : "", in ? err : "missing");
    return 0;
}


void admin_mailbox_row_free(struct mailbox_row *m)
{
    free(m->local);
    free(m->domain);
    memset(m, 0, sizeof(*m));
}

/* The mailbox of an address: 0, ENOENT or EDB. */
int admin_find_mailbox(struct admin *a, const char *sql, const char *arg, struct mailbox_row *m)
{
    struct db_result r;

    if (EXEC(a, &r, sql, arg) < 0)
        return ADMIN_EDB;
    if (r.nrows == 0) {
        db_result_free(&r);
        return ADMIN_ENOENT;
    }
    m->id = atoll(db_cell(&r, 0, 0));
    m->user_id = atoll(db_cell(&r, 0, 1));
    m->domain_id = atoll(db_cell(&r, 0, 2));
    m->quota = atoll(db_cell(&r, 0, 3));
    m->local = xstrdup(db_cell(&r, 0, 4));
    m->domain = xstrdup(db_cell(&r, 0, 5));
    db_result_free(&r);
    return 0;
}


int admin_mailbox_by_address(struct admin *a, const char *full, struct mailbox_row *m)
{
    return admin_find_mailbox(a, MAILBOX_SELECT "WHERE m.address || '@' || d.name = $1", full, m);
}

int admin_mailbox_by_user(struct admin *a, const char *user_id, struct mailbox_row *m)
{
    return admin_find_mailbox(a, MAILBOX_SELECT "WHERE m.user_id = $1", user_id, m);
}

/* Domain quota: may a mailbox of `quota` MB (0 = unlimited) live in the domain? */
static int check_mailbox_quota(struct admin *a, const char *address, long long domain_id,
                               long long quota, long long except_mailbox)
{
    struct db_result r;
    long long dq, used;

    if (EXEC(a, &r, "SELECT quota, name FROM admin_domain WHERE id = $1",
             admin_num(a, domain_id)) < 0)
        return ADMIN_EDB;
    dq = r.nrows ? atoll(db_cell(&r, 0, 0)) : 0;
    if (dq > 0) {
        used = ID(a, "SELECT COALESCE(SUM(quota), 0) FROM admin_mailbox WHERE domain_id = $1 AND id <> $2",
                  admin_num(a, domain_id), admin_num(a, except_mailbox));
        if (used < 0) {
            db_result_free(&r);
            return ADMIN_EDB;
        }
        if (quota == 0 || used + quota > dq) {
            int rc = admin_fail(a, ADMIN_EINVAL,
                                "%s: domain quota exceeded (%s: %lld MB allocated of %lld MB, %s"
                                " asked)",
                                address, db_cell(&r, 0, 1), used, dq,
                                quota ? admin_num(a, quota) : "unlimited");
            db_result_free(&r);
            return rc;
        }
    }
    db_result_free(&r);
    return 0;
}

/* "" or "0": the domain default (use_domain_quota); else MB. */
static int mailbox_quota(struct admin *a, const char *s, long long domain_default, long long *q,
                         bool *use_default)
{
    int rc;

    *use_default = s == NULL || s[0] == '\0' || strcmp(s, "0") == 0;
    if (*use_default) {
        *q = domain_default;
        return 0;
    }
    if ((rc = admin_parse_uint(a, "quota", s, q)) != 0)
        return rc;
    return 0;
}

static int mailbox_create(struct admin *a, long long user_id, const struct admin_account *acc,
                          bool active)
{
    struct addr ad;
    struct db_result r;
    const char *now = db_now(a->db), *limit = NULL;
    long long domain_id, defq, q, mbid, alias_id;
    bool use_default, send_only = false;
    int rc;

    if ((rc = admin_parse_address(a, "mailbox", acc->email, &ad)) != 0)
        return rc;
    if (EXEC(a, &r, "SELECT id, default_mailbox_quota FROM admin_domain WHERE name = $1",
             ad.domain) < 0)
        return ADMIN_EDB;
    if (r.nrows == 0) {
        db_result_free(&r);
        return admin_fail(a, ADMIN_ENOENT, "account %s: domain %s does not exist", acc->username,
                          ad.domain);
    }
    domain_id = atoll(db_cell(&r, 0, 0));
    defq = atoll(db_cell(&r, 0, 1));
    db_result_free(&r);
    if ((rc = mailbox_quota(a, acc->quota, defq, &q, &use_default)) != 0)
        return admin_fail(a, rc, "account %s: wrong quota value", acc->username);
    if (acc->message_limit &&
        (rc = admin_parse_limit(a, "message limit", acc->message_limit, &limit)) != 0)
        return rc;
    if (acc->send_only && (rc = admin_parse_bool(a, "send-only", acc->send_only, &send_only)) != 0)
        return rc;
    if (ID(a, MAILBOX_SELECT "WHERE m.address || '@' || d.name = $1", ad.full) != 0)
        return admin_fail(a, ADMIN_EEXIST, "mailbox %s: already exists", ad.full);
    if (ID(a, "SELECT id FROM admin_alias WHERE address = $1", ad.full) != 0)
        return admin_fail(a, ADMIN_EEXIST, "mailbox %s: an alias with this address exists already",
                          ad.full);
    if ((rc = check_mailbox_quota(a, ad.full, domain_id, q, 0)) != 0 ||
        (rc = admin_check_domain_limit(a, domain_id, "mailboxes", ad.full)) != 0)
        return rc;
    mbid = ID(a,
              "INSERT INTO admin_mailbox (address, domain_id, user_id, quota, use_domain_quota,"
              " message_limit, is_send_only, creation, last_modification)"
              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
              ad.local, admin_num(a, domain_id), admin_num(a, user_id), admin_num(a, q),
              use_default ? "1" : "0", limit, send_only ? "1" : "0", now);
    if (mbid <= 0)
        return ADMIN_EDB;
    /* invariants 1 and 2: the self alias and the quota row */
    alias_id = ID(a,
                  "INSERT INTO admin_alias (address, domain_id, enabled, internal, description,"
                  " expire_at, creation, last_modification)"
                  " VALUES ($1, $2, $3, TRUE, '', NULL, $4, $4) RETURNING id",
                  ad.full, admin_num(a, domain_id), active ? "1" : "0", now);
    if (alias_id <= 0 ||
        EXEC(a, NULL,
             "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
             " VALUES ($1, $2, $3, NULL)",
             ad.full, admin_num(a, alias_id), admin_num(a, mbid)) < 0 ||
        EXEC(a, NULL,
             "INSERT INTO admin_quota (username, bytes, messages) SELECT CAST($1 AS varchar(254)), 0, 0"
             " WHERE NOT EXISTS (SELECT 1 FROM admin_quota WHERE username = $1)",
             ad.full) < 0 ||
        EXEC(a, NULL, "UPDATE core_user SET email = $2 WHERE id = $1", admin_num(a, user_id),
             ad.full) < 0 ||
        /* as Modoboa: the domain's administrators may manage the new mailbox and account */
        admin_grant_domain_admins(a, domain_id, "admin", "mailbox", mbid) != 0 ||
        admin_grant_domain_admins(a, domain_id, "core", "user", user_id) != 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Mailbox '%s' added by management command", ad.full);
}

int admin_alias_delete_id(struct admin *a, const char *alias_id)
{
    if (admin_revoke_object(a, "admin", "alias", alias_id) != 0 ||
        EXEC(a, NULL,
             "DELETE FROM modoboa_admin_aliasrecipient WHERE alias_id = $1 OR r_alias_id = $1",
             alias_id) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_alias WHERE id = $1", alias_id) < 0)
        return ADMIN_EDB;
    return 0;
}

int admin_mailbox_delete(struct admin *a, const char *mailbox_id_in, bool keep_dir)
{
    struct mailbox_row m = {0};
    struct db_result r;
    char mbid[24], *home = NULL, full[FULL_SIZE];
    size_t i;
    int rc;

    snprintf(mbid, sizeof(mbid), "%s", mailbox_id_in);
    if ((rc = admin_find_mailbox(a, MAILBOX_SELECT "WHERE m.id = $1", mbid, &m)) != 0)
        return rc == ADMIN_ENOENT ? admin_fail(a, rc, "mailbox #%s: no such mailbox", mbid) : rc;
    snprintf(full, sizeof(full), "%s@%s", m.local, m.domain);
    /* invariant 6: every alias loses this recipient; those left empty go */
    if (EXEC(a, &r, "SELECT DISTINCT alias_id FROM modoboa_admin_aliasrecipient WHERE r_mailbox_id = $1",
             mbid) < 0)
        goto dberr;
    if (EXEC(a, NULL, "DELETE FROM modoboa_admin_aliasrecipient WHERE r_mailbox_id = $1", mbid) < 0) {
        db_result_free(&r);
        goto dberr;
    }
    for (i = 0; i < r.nrows && rc == 0; i++) {
        long long left = ID(a, "SELECT count(*) FROM modoboa_admin_aliasrecipient WHERE alias_id = $1",
                            db_cell(&r, i, 0));
        if (left < 0)
            rc = ADMIN_EDB;
        else if (left == 0)
            rc = admin_alias_delete_id(a, db_cell(&r, i, 0));
    }
    db_result_free(&r);
    if (rc != 0)
        goto out;
    /* the self alias, even if it lost its recipient some other way */
    if (EXEC(a, &r, "SELECT id FROM admin_alias WHERE address = $1 AND internal", full) < 0)
        goto dberr;
    for (i = 0; i < r.nrows && rc == 0; i++)
        rc = admin_alias_delete_id(a, db_cell(&r, i, 0));
    db_result_free(&r);
    if (rc != 0)
        goto out;
    /* a pending rename means the directory is still at the old path */
    home = NULL;
    if (EXEC(a, &r,
             "SELECT argument FROM admin_mailboxoperation WHERE mailbox_id = $1 AND type = 'rename'"
             " ORDER BY id LIMIT 1",
             mbid) < 0)
        goto dberr;
    if (r.nrows > 0)
        home = xstrdup(db_cell(&r, 0, 0));
    db_result_free(&r);
    if (home == NULL)
        home = admin_mail_home(a, m.local, m.domain);
    if (EXEC(a, NULL, "DELETE FROM admin_senderaddress WHERE mailbox_id = $1", mbid) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_mailboxoperation WHERE mailbox_id = $1", mbid) < 0 ||
        EXEC(a, NULL, "UPDATE admin_alarm SET mailbox_id = NULL WHERE mailbox_id = $1", mbid) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_quota WHERE username = $1", full) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_mailbox WHERE id = $1", mbid) < 0 ||
        admin_revoke_object(a, "admin", "mailbox", mbid) != 0 ||
        (!keep_dir && admin_queue_op(a, "delete", home, NULL) < 0) ||
        admin_log(a, "CRITICAL", "Mailbox '%s' deleted by management command", full) != 0)
        goto dberr;
    goto out;
dberr:
    rc = ADMIN_EDB;
out:
    free(home);
    admin_mailbox_row_free(&m);
    return rc;
}

int admin_user_delete(struct admin *a, const char *user_id_in, bool keep_dir)
{
    struct mailbox_row m = {0};
    char uid[24];
    int rc;

    snprintf(uid, sizeof(uid), "%s", user_id_in);
    rc = admin_mailbox_by_user(a, uid, &m);
    if (rc == 0)
        rc = admin_mailbox_delete(a, admin_num(a, m.id), keep_dir);
    else if (rc == ADMIN_ENOENT)
        rc = 0;
    admin_mailbox_row_free(&m);
    if (rc != 0)
        return rc;
    {
        struct db_result r;
        if (EXEC(a, &r, "SELECT username FROM core_user WHERE id = $1", uid) < 0)
            return ADMIN_EDB;
        rc = admin_log(a, "CRITICAL", "User '%s' deleted by management command",
                       r.nrows ? db_cell(&r, 0, 0) : uid);
        db_result_free(&r);
        if (rc != 0)
            return rc;
    }
    if (EXEC(a, NULL, "DELETE FROM core_user_groups WHERE user_id = $1", uid) < 0 ||
        EXEC(a, NULL, "DELETE FROM core_objectaccess WHERE user_id = $1", uid) < 0 ||
        admin_revoke_object(a, "core", "user", uid) != 0 ||
        EXEC(a, NULL, "DELETE FROM limits_userobjectlimit WHERE user_id = $1", uid) < 0 ||
        EXEC(a, NULL, "DELETE FROM core_user WHERE id = $1", uid) < 0)
        return ADMIN_EDB;
    return 0;
}

/* ---- accounts ---- */


int admin_find_user(struct admin *a, const char *username, struct user_row *u)
{
    struct db_result r;
    char folded[FULL_SIZE];
    size_t i;

    snprintf(folded, sizeof(folded), "%s", username ? username : "");
    for (i = 0; folded[i]; i++)
        if (folded[i] >= 'A' && folded[i] <= 'Z')
            folded[i] = (char)(folded[i] - 'A' + 'a');
    if (EXEC(a, &r, "SELECT id, is_superuser, is_active, username FROM core_user WHERE username = $1",
             folded) < 0)
        return ADMIN_EDB;
    if (r.nrows == 0) {
        db_result_free(&r);
        return admin_fail(a, ADMIN_ENOENT, "account %s: no such account", folded);
    }
    u->id = atoll(db_cell(&r, 0, 0));
    u->superuser = admin_cell_true(db_cell(&r, 0, 1));
    u->active = admin_cell_true(db_cell(&r, 0, 2));
    u->username = xstrdup(db_cell(&r, 0, 3));
    db_result_free(&r);
    return 0;
}

static int set_role(struct admin *a, long long user_id, const char *role)
{
    bool super = strcmp(role, "SuperAdmins") == 0;
    const char *uid = admin_num(a, user_id);

    if (EXEC(a, NULL, "UPDATE core_user SET is_superuser = $2, is_staff = $2 WHERE id = $1", uid,
             super ? "1" : "0") < 0 ||
        EXEC(a, NULL, "DELETE FROM core_user_groups WHERE user_id = $1", uid) < 0)
        return ADMIN_EDB;
    if (!super && EXEC(a, NULL,
                       "INSERT INTO core_user_groups (user_id, group_id)"
                       " SELECT $1, id FROM auth_group WHERE name = $2",
                       uid, role) < 0)
        return ADMIN_EDB;
    return 0;
}

static int set_admin_domains(struct admin *a, long long user_id, const char *const *domains)
{
    long long ct = admin_content_type(a, "admin", "domain");
    size_t i;

    if (ct <= 0 || EXEC(a, NULL,
                        "DELETE FROM core_objectaccess WHERE user_id = $1 AND content_type_id = $2",
                        admin_num(a, user_id), admin_num(a, ct)) < 0)
        return ADMIN_EDB;
    /* Modoboa's import ignores unknown domains; so do we */
    for (i = 0; domains[i] != NULL; i++) {
        long long did;
        if (domains[i][0] == '\0')
            continue;
        if ((did = ID(a, "SELECT id FROM admin_domain WHERE name = lower($1)", domains[i])) < 0)
            return ADMIN_EDB;
        if (did == 0)
            continue;
        if (EXEC(a, NULL,
                 "INSERT INTO core_objectaccess (user_id, content_type_id, object_id, is_owner)"
                 " VALUES ($1, $2, $3, FALSE)",
                 admin_num(a, user_id), admin_num(a, ct), admin_num(a, did)) < 0 ||
            admin_grant_existing(a, user_id, did) != 0)
            return ADMIN_EDB;
    }
    return 0;
}

static int check_role(struct admin *a, const struct admin_account *acc, const char **role)
{
    size_t i;

    *role = acc->role ? acc->role : "SimpleUsers";
    for (i = 0; i < 4; i++)
        if (strcasecmp(*role, roles[i]) == 0) {
            *role = roles[i];
            return 0;
        }
    return admin_fail(a, ADMIN_EINVAL,
                      "account %s: unknown role \"%s\" (SimpleUsers, DomainAdmins, Resellers or"
                      " SuperAdmins)",
                      acc->username, *role);
}

int admin_account_add(struct admin *a, const struct admin_account *acc_in)
{
    struct admin_account acc = *acc_in;
    char username[FULL_SIZE];
    const char *role;
    bool active = true, master = false;
    long long uid;
    struct addr ad;
    int rc;
    size_t i;

    if (acc.username == NULL || acc.username[0] == '\0' || strlen(acc.username) > 254)
        return admin_fail(a, ADMIN_EINVAL, "account: a username is needed (at most 254 characters)");
    if (strchr(acc.username, '@') != NULL) {
        if ((rc = admin_parse_address(a, "account", acc.username, &ad)) != 0)
            return rc;
        snprintf(username, sizeof(username), "%s", ad.full);
    } else {
        snprintf(username, sizeof(username), "%s", acc.username);
        for (i = 0; username[i]; i++)
            if (username[i] >= 'A' && username[i] <= 'Z')
                username[i] = (char)(username[i] - 'A' + 'a');
    }
    acc.username = username;
    if ((rc = check_role(a, &acc, &role)) != 0)
        return rc;
    if (strcmp(role, "SimpleUsers") == 0) {
        if (acc.email == NULL || acc.email[0] == '\0')
            acc.email = username;
        if (strcasecmp(acc.email, username) != 0)
            return admin_fail(a, ADMIN_EINVAL,
                              "account %s: a simple user's email must be its username", username);
        acc.email = username;
    }
    if (acc.enabled && (rc = admin_parse_bool(a, "enabled", acc.enabled, &active)) != 0)
        return rc;
    if (acc.master_user && (rc = admin_parse_bool(a, "master user", acc.master_user, &master)) != 0)
        return rc;
    if (master && strcmp(role, "SuperAdmins") != 0)
        return admin_fail(a, ADMIN_EINVAL, "account %s: only super administrators can be master users",
                          username);
    if (acc.password_hash == NULL || acc.password_hash[0] == '\0')
        return admin_fail(a, ADMIN_EINVAL, "account %s: a password is needed", username);
    if ((uid = ID(a, "SELECT id FROM core_user WHERE username = $1", username)) != 0)
        return uid < 0 ? ADMIN_EDB : admin_fail(a, ADMIN_EEXIST, "account %s: already exists", username);
    uid = ID(a,
             "INSERT INTO core_user (password, last_login, is_superuser, username, first_name,"
             " last_name, email, is_staff, is_active, date_joined, is_local, master_user, language,"
             " phone_number, secondary_email, _parameters, totp_enabled, webauthn_enabled)"
             " VALUES ($1, NULL, FALSE, $2, $3, $4, '', FALSE, $5, $6, TRUE, $7, 'en', NULL, NULL,"
             " '{}', FALSE, FALSE) RETURNING id",
             acc.password_hash, username, acc.first_name ? acc.first_name : "",
             acc.last_name ? acc.last_name : "", active ? "1" : "0", db_now(a->db),
             master ? "1" : "0");
    if (uid <= 0)
        return ADMIN_EDB;
    if ((rc = set_role(a, uid, role)) != 0)
        return rc;
    if (acc.email != NULL && acc.email[0] != '\0' && (rc = mailbox_create(a, uid, &acc, active)) != 0)
        return rc;
    if (acc.admin_domains && strcmp(role, "DomainAdmins") == 0 &&
        (rc = set_admin_domains(a, uid, acc.admin_domains)) != 0)
        return rc;
    return admin_log(a, "INFO", "User '%s' added by management command", username);
}

/* Invariant 3: aliases whose only recipient is this mailbox follow the account (off only). */
static int set_single_recipient_aliases(struct admin *a, long long mbid, bool on)
{
    return EXEC(a, NULL,
                "UPDATE admin_alias SET enabled = $2 WHERE id IN (SELECT r.alias_id FROM"
                " modoboa_admin_aliasrecipient r WHERE r.r_mailbox_id = $1 AND (SELECT count(*)"
                " FROM modoboa_admin_aliasrecipient r2 WHERE r2.alias_id = r.alias_id) = 1)",
                admin_num(a, mbid), on ? "1" : "0") < 0
               ? ADMIN_EDB
               : 0;
}

/* Invariant 9: a forward without a copy to the mailbox turns the self alias off. */
int admin_fix_forward(struct admin *a, const char *full)
{
    struct mailbox_row m = {0};
    struct db_result r;
    bool self_on;
    int rc;

    if ((rc = admin_mailbox_by_address(a, full, &m)) != 0)
        return rc == ADMIN_ENOENT ? 0 : rc;
    if (EXEC(a, &r,
             "SELECT u.is_active, (SELECT count(*) FROM admin_alias f WHERE f.address = $1 AND NOT"
             " f.internal), (SELECT count(*) FROM admin_alias f JOIN modoboa_admin_aliasrecipient fr"
             " ON fr.alias_id = f.id WHERE f.address = $1 AND NOT f.internal AND fr.r_mailbox_id = $2)"
             " FROM core_user u WHERE u.id = $3",
             full, admin_num(a, m.id), admin_num(a, m.user_id)) < 0) {
        admin_mailbox_row_free(&m);
        return ADMIN_EDB;
    }
    self_on = r.nrows > 0 && admin_cell_true(db_cell(&r, 0, 0)) &&
              (atoll(db_cell(&r, 0, 1)) == 0 || atoll(db_cell(&r, 0, 2)) > 0);
    db_result_free(&r);
    admin_mailbox_row_free(&m);
    return EXEC(a, NULL, "UPDATE admin_alias SET enabled = $2 WHERE address = $1 AND internal", full,
                self_on ? "1" : "0") < 0
               ? ADMIN_EDB
               : 0;
}

/* Invariant 4: rename a mailbox (and its login when the login is the address). */
static int mailbox_rename(struct admin *a, struct mailbox_row *m, const char *new_in)
{
    char old[FULL_SIZE], *home;
    struct addr ad;
    long long domain_id;
    const char *mbid;
    int rc;

    if ((rc = admin_parse_address(a, "new address", new_in, &ad)) != 0)
        return rc;
    snprintf(old, sizeof(old), "%s@%s", m->local, m->domain);
    if (strcmp(old, ad.full) == 0)
        return 0;
    if ((domain_id = ID(a, "SELECT id FROM admin_domain WHERE name = $1", ad.domain)) <= 0)
        return domain_id < 0 ? ADMIN_EDB
                             : admin_fail(a, ADMIN_ENOENT, "mailbox %s: domain %s does not exist",
                                          ad.full, ad.domain);
    if (ID(a, MAILBOX_SELECT "WHERE m.address || '@' || d.name = $1", ad.full) != 0 ||
        ID(a, "SELECT id FROM admin_alias WHERE address = $1", ad.full) != 0)
        return admin_fail(a, ADMIN_EEXIST, "mailbox %s: the address is taken", ad.full);
    if (ID(a, "SELECT id FROM core_user WHERE username = $1", ad.full) != 0)
        return admin_fail(a, ADMIN_EEXIST, "account %s: already exists", ad.full);
    if (domain_id != m->domain_id && (rc = check_mailbox_quota(a, ad.full, domain_id, m->quota, 0)) != 0)
        return rc;
    mbid = admin_num(a, m->id);
    home = admin_mail_home(a, m->local, m->domain);
    rc = admin_queue_op(a, "rename", home, mbid);
    free(home);
    if (rc < 0)
        return ADMIN_EDB;
    mbid = admin_num(a, m->id);
    if (EXEC(a, NULL, "UPDATE admin_mailbox SET address = $2, domain_id = $3 WHERE id = $1", mbid,
             ad.local, admin_num(a, domain_id)) < 0 ||
        EXEC(a, NULL, "UPDATE admin_alias SET address = $2, domain_id = $3 WHERE address = $1", old,
             ad.full, admin_num(a, domain_id)) < 0 ||
        EXEC(a, NULL,
             "UPDATE modoboa_admin_aliasrecipient SET address = $3 WHERE r_mailbox_id = $1 AND address = $2",
             mbid, old, ad.full) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_quota WHERE username = $1", ad.full) < 0 ||
        EXEC(a, NULL, "UPDATE admin_quota SET username = $2 WHERE username = $1", old, ad.full) < 0 ||
        EXEC(a, NULL,
             "INSERT INTO admin_quota (username, bytes, messages) SELECT CAST($1 AS varchar(254)), 0, 0"
             " WHERE NOT EXISTS (SELECT 1 FROM admin_quota WHERE username = $1)",
             ad.full) < 0 ||
        EXEC(a, NULL, "UPDATE core_user SET username = $3 WHERE id = $1 AND username = $2",
             admin_num(a, m->user_id), old, ad.full) < 0 ||
        EXEC(a, NULL, "UPDATE core_user SET email = $2 WHERE id = $1", admin_num(a, m->user_id),
             ad.full) < 0)
        return ADMIN_EDB;
    return admin_log(a, "INFO", "Mailbox '%s' renamed to '%s' by management command", old, ad.full);
}

static int mailbox_update(struct admin *a, struct mailbox_row *m, const struct admin_account *acc)
{
    const char *mbid = admin_num(a, m->id), *limit;
    long long q, defq;
    bool use_default;
    char full[FULL_SIZE];
    int rc;

    snprintf(full, sizeof(full), "%s@%s", m->local, m->domain);
    if (acc->quota) {
        if ((defq = ID(a, "SELECT default_mailbox_quota FROM admin_domain WHERE id = $1",
                       admin_num(a, m->domain_id))) < 0)
            return ADMIN_EDB;
        if ((rc = mailbox_quota(a, acc->quota, defq, &q, &use_default)) != 0 ||
            (rc = check_mailbox_quota(a, full, m->domain_id, q, m->id)) != 0)
            return rc;
        mbid = admin_num(a, m->id);
        if (EXEC(a, NULL, "UPDATE admin_mailbox SET quota = $2, use_domain_quota = $3 WHERE id = $1",
                 mbid, admin_num(a, q), use_default ? "1" : "0") < 0)
            return ADMIN_EDB;
    }
    if (acc->message_limit) {
        if ((rc = admin_parse_limit(a, "message limit", acc->message_limit, &limit)) != 0 ||
            (rc = admin_note_limit(a, "admin_mailbox", m->id, full, limit)) != 0)
            return rc;
        if (EXEC(a, NULL, "UPDATE admin_mailbox SET message_limit = $2 WHERE id = $1",
                 admin_num(a, m->id), limit) < 0)
            return ADMIN_EDB;
    }
    if (acc->send_only &&
        (rc = admin_set_bool(a, "admin_mailbox", "is_send_only", "send-only", acc->send_only,
                             m->id)) != 0)
        return rc;
    return EXEC(a, NULL, "UPDATE admin_mailbox SET last_modification = $2 WHERE id = $1",
                admin_num(a, m->id), db_now(a->db)) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_account_mod(struct admin *a, const struct admin_account *acc)
{
    struct user_row u = {0};
    struct mailbox_row m = {0};
    const char *role = NULL, *uid;
    bool has_mailbox, b;
    int rc;

    if ((rc = admin_find_user(a, acc->username, &u)) != 0)
        return rc;
    uid = admin_num(a, u.id);
    rc = admin_mailbox_by_user(a, uid, &m);
    if (rc == ADMIN_EDB)
        goto out;
    has_mailbox = rc == 0;
    rc = 0;
    if (acc->role && ((rc = check_role(a, acc, &role)) != 0 || (rc = set_role(a, u.id, role)) != 0))
        goto out;
    if (acc->master_user) {
        if ((rc = admin_parse_bool(a, "master user", acc->master_user, &b)) != 0)
            goto out;
        if (b && !(role ? strcmp(role, "SuperAdmins") == 0 : u.superuser)) {
            rc = admin_fail(a, ADMIN_EINVAL,
                            "account %s: only super administrators can be master users", u.username);
            goto out;
        }
        if (EXEC(a, NULL, "UPDATE core_user SET master_user = $2 WHERE id = $1",
                 admin_num(a, u.id), b ? "1" : "0") < 0)
            goto dberr;
    }
    if (acc->password_hash && EXEC(a, NULL, "UPDATE core_user SET password = $2 WHERE id = $1",
                                   admin_num(a, u.id), acc->password_hash) < 0)
        goto dberr;
    if (acc->first_name && EXEC(a, NULL, "UPDATE core_user SET first_name = $2 WHERE id = $1",
                                admin_num(a, u.id), acc->first_name) < 0)
        goto dberr;
    if (acc->last_name && EXEC(a, NULL, "UPDATE core_user SET last_name = $2 WHERE id = $1",
                               admin_num(a, u.id), acc->last_name) < 0)
        goto dberr;
    if (acc->enabled) {
        if ((rc = admin_parse_bool(a, "enabled", acc->enabled, &b)) != 0)
            goto out;
        if (EXEC(a, NULL, "UPDATE core_user SET is_active = $2 WHERE id = $1", admin_num(a, u.id),
                 b ? "1" : "0") < 0)
            goto dberr;
        /* invariant 3: disabling turns off the aliases that only deliver here */
        if (!b && u.active && has_mailbox && (rc = set_single_recipient_aliases(a, m.id, false)) != 0)
            goto out;
        u.active = b;
    }
    if (acc->enable_aliases && has_mailbox) {
        char full[FULL_SIZE];
        if (!u.active) {
            rc = admin_fail(a, ADMIN_EINVAL, "account %s: disabled; enable it first", u.username);
            goto out;
        }
        snprintf(full, sizeof(full), "%s@%s", m.local, m.domain);
        if ((rc = set_single_recipient_aliases(a, m.id, true)) != 0 || (rc = admin_fix_forward(a, full)) != 0)
            goto out;
    }
    if (acc->no_mailbox && has_mailbox) {
        if ((rc = admin_mailbox_delete(a, admin_num(a, m.id), acc->keep_dir)) != 0)
            goto out;
        has_mailbox = false;
    } else if (acc->email && acc->email[0] && !has_mailbox) {
        struct admin_account c = *acc;
        c.username = u.username;
        if ((rc = mailbox_create(a, u.id, &c, u.active)) != 0)
            goto out;
    } else if (has_mailbox) {
        if ((rc = mailbox_update(a, &m, acc)) != 0)
            goto out;
        if (acc->email && acc->email[0] && (rc = mailbox_rename(a, &m, acc->email)) != 0)
            goto out;
    }
    if (acc->new_username) {
        char newu[FULL_SIZE];
        struct addr ad;
        admin_mailbox_row_free(&m);
        if (strchr(acc->new_username, '@') != NULL) {
            if ((rc = admin_parse_address(a, "new username", acc->new_username, &ad)) != 0)
                goto out;
            snprintf(newu, sizeof(newu), "%s", ad.full);
        } else {
            snprintf(newu, sizeof(newu), "%s", acc->new_username);
        }
        rc = admin_mailbox_by_user(a, admin_num(a, u.id), &m);
        if (rc == 0) {
            char full[FULL_SIZE];
            snprintf(full, sizeof(full), "%s@%s", m.local, m.domain);
            /* a login that is its mailbox's address renames the mailbox with it */
            if (strcmp(full, u.username) == 0 && (rc = mailbox_rename(a, &m, newu)) != 0)
                goto out;
        } else if (rc != ADMIN_ENOENT) {
            goto out;
        }
        rc = 0;
        if (ID(a, "SELECT id FROM core_user WHERE username = $1 AND id <> $2", newu,
               admin_num(a, u.id)) != 0) {
            rc = admin_fail(a, ADMIN_EEXIST, "account %s: already exists", newu);
            goto out;
        }
        if (EXEC(a, NULL, "UPDATE core_user SET username = $2 WHERE id = $1", admin_num(a, u.id),
                 newu) < 0)
            goto dberr;
    }
    if (acc->admin_domains && (rc = set_admin_domains(a, u.id, acc->admin_domains)) != 0)
        goto out;
    rc = admin_log(a, "INFO", "User '%s' modified by management command", u.username);
    goto out;
dberr:
    rc = ADMIN_EDB;
out:
    free(u.username);
    admin_mailbox_row_free(&m);
    return rc;
}

int admin_account_del(struct admin *a, const struct admin_account *acc)
{
    struct user_row u = {0};
    int rc;

    if ((rc = admin_find_user(a, acc->username, &u)) != 0)
        return rc;
    rc = admin_user_delete(a, admin_num(a, u.id), acc->keep_dir);
    free(u.username);
    return rc;
}

