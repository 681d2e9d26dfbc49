/*
 * admin_dkim - what modo-dkim reads and writes in the database (spec modoboa.md §4):
 * Modoboa's key columns of admin_domain, modo's extra keys and rotations, and the
 * alarms Modoboa opens for them; see admin.h.
 */
#include "admin_impl.h"
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Modoboa's setting admin.<param> from core_localconfig's JSON into out (malloc'd), or NULL
 * when the database has no such table, row or key (not a Modoboa database: not an error).
 * A savepoint keeps PostgreSQL's transaction usable after a failed statement.
 */
static int localconfig_admin(struct admin *a, const char *param, char **out)
{
    struct db_result r;
    bool pg = db_is_pgsql(a->db);
    const char *sql = pg ? "SELECT _parameters::jsonb->'admin'->>$1 FROM core_localconfig"
                           " ORDER BY id LIMIT 1"
                         : "SELECT json_extract(_parameters, '$.admin.' || $1) FROM"
                           " core_localconfig WHERE json_valid(_parameters) ORDER BY id LIMIT 1";

    *out = NULL;
    if (pg && db_exec(a->db, NULL, "SAVEPOINT modo_localconfig", 0, NULL) < 0)
        return admin_dbfail(a);
    if (db_exec(a->db, &r, sql, DB_ARGS(param)) < 0) {
        db_result_free(&r);
        if (pg && db_exec(a->db, NULL, "ROLLBACK TO SAVEPOINT modo_localconfig", 0, NULL) < 0)
            return admin_dbfail(a);
        return 0;
    }
    if (r.nrows > 0 && db_cell(&r, 0, 0) != NULL)
        *out = strdup(db_cell(&r, 0, 0));
    db_result_free(&r);
    if (pg && db_exec(a->db, NULL, "RELEASE SAVEPOINT modo_localconfig", 0, NULL) < 0) {
        free(*out);
        *out = NULL;
        return admin_dbfail(a);
    }
    return 0;
}

/* Was the setting given in modo.conf (not its default)? */
static bool conf_given(const struct admin *a, const char *section, const char *name)
{
    return strcmp(conf_origin(a->conf, section, name), "default") != 0;
}

/*
 * Modoboa keeps dkim_keys_storage_dir and dkim_default_key_length in core_localconfig:
 * read them there unless modo.conf sets them.
 */
int admin_dkim_settings(struct admin *a, char *dir, size_t size, int *bits)
{
    char *cdir = NULL, *cbits = NULL;
    int rc = 0;

    snprintf(dir, size, "%s", conf_str(a->conf, "dkim", "storage_dir"));
    *bits = atoi(conf_str(a->conf, "dkim", "default_key_length"));
    if (!conf_given(a, "dkim", "storage_dir"))
        rc = localconfig_admin(a, "dkim_keys_storage_dir", &cdir);
    if (rc == 0 && !conf_given(a, "dkim", "default_key_length"))
        rc = localconfig_admin(a, "dkim_default_key_length", &cbits);
    if (cdir != NULL && cdir[0] == '/')
        snprintf(dir, size, "%s", cdir);
    if (cbits != NULL &&
        (strcmp(cbits, "1024") == 0 || strcmp(cbits, "2048") == 0 || strcmp(cbits, "4096") == 0))
        *bits = atoi(cbits);
    free(cdir);
    free(cbits);
    return rc;
}

int admin_dkim_domains(struct admin *a, const char *name, struct db_result *r)
{
    static const char *cols =
        "SELECT id, name, enable_dkim, dkim_key_selector, dkim_key_length,"
        " dkim_private_key_path, dkim_public_key FROM admin_domain";
    char sql[512];

    if (name != NULL) {
        snprintf(sql, sizeof(sql), "%s WHERE name = $1", cols);
        return admin_exec(a, r, sql, DB_ARGS(name)) < 0 ? ADMIN_EDB : 0;
    }
    snprintf(sql, sizeof(sql), "%s WHERE enable_dkim ORDER BY name", cols);
    return admin_exec(a, r, sql, 0, NULL) < 0 ? ADMIN_EDB : 0;
}

int admin_dkim_set_key(struct admin *a, const char *domain_id, const char *selector,
                       const char *path, const char *public_key)
{
    int rc = selector != NULL
                 ? EXEC(a, NULL,
                        "UPDATE admin_domain SET dkim_key_selector = $2, dkim_private_key_path = $3,"
                        " dkim_public_key = $4 WHERE id = $1",
                        domain_id, selector, path, public_key)
                 : EXEC(a, NULL,
                        "UPDATE admin_domain SET dkim_private_key_path = $2, dkim_public_key = $3"
                        " WHERE id = $1",
                        domain_id, path, public_key);
    return rc < 0 ? ADMIN_EDB : 0;
}

int admin_dkim_extra_keys(struct admin *a, const char *domain_id, struct db_result *r)
{
    return admin_exec(a, r,
                      "SELECT domain_id, algorithm, selector, private_key_path, public_key"
                      " FROM modo_dkim_key WHERE domain_id = $1 ORDER BY algorithm",
                      DB_ARGS(domain_id)) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_dkim_put_extra(struct admin *a, const char *domain_id, const char *algorithm,
                         const char *selector, const char *path, const char *public_key,
                         long long created)
{
    if (EXEC(a, NULL, "DELETE FROM modo_dkim_key WHERE domain_id = $1 AND algorithm = $2",
             domain_id, algorithm) < 0 ||
        EXEC(a, NULL,
             "INSERT INTO modo_dkim_key (domain_id, algorithm, selector, private_key_path,"
             " public_key, created) VALUES ($1, $2, $3, $4, $5, $6)",
             domain_id, algorithm, selector, path, public_key, admin_num(a, created)) < 0)
        return ADMIN_EDB;
    return 0;
}

#define ROTATION_COLS                                                                              \
    "SELECT r.domain_id, d.name, r.state, r.new_selector, r.new_key_path, r.new_public_key,"      \
    " r.old_selector, r.old_key_path, r.old_public_key, r.started, r.since, r.wait_until, r.note"  \
    " FROM modo_dkim_rotation r JOIN admin_domain d ON d.id = r.domain_id"

int admin_dkim_rotations(struct admin *a, const char *domain_id, struct db_result *r)
{
    if (domain_id != NULL)
        return admin_exec(a, r, ROTATION_COLS " WHERE r.domain_id = $1", DB_ARGS(domain_id)) < 0
                   ? ADMIN_EDB
                   : 0;
    return admin_exec(a, r, ROTATION_COLS " ORDER BY d.name", 0, NULL) < 0 ? ADMIN_EDB : 0;
}

int admin_dkim_rotation_put(struct admin *a, const struct admin_dkim_rotation *rot)
{
    if (EXEC(a, NULL, "DELETE FROM modo_dkim_rotation WHERE domain_id = $1", rot->domain_id) < 0 ||
        EXEC(a, NULL,
             "INSERT INTO modo_dkim_rotation (domain_id, state, new_selector, new_key_path,"
             " new_public_key, old_selector, old_key_path, old_public_key, started, since,"
             " wait_until, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
             rot->domain_id, rot->state, rot->new_selector, rot->new_key_path,
             rot->new_public_key, rot->old_selector, rot->old_key_path, rot->old_public_key,
             admin_num(a, rot->started), admin_num(a, rot->since), admin_num(a, rot->wait_until),
             rot->note) < 0)
        return ADMIN_EDB;
    return 0;
}

int admin_dkim_rotation_del(struct admin *a, const char *domain_id)
{
    return EXEC(a, NULL, "DELETE FROM modo_dkim_rotation WHERE domain_id = $1", domain_id) < 0
               ? ADMIN_EDB
               : 0;
}

/* ---- alarms (admin_alarm: status 1 opened, 2 closed) ---- */

int admin_alarm_open(struct admin *a, const char *domain_id, const char *internal_name,
                     const char *title, bool *opened)
{
    struct db_result r;
    const char *id, *status;
    int rc;

    *opened = false;
    rc = domain_id != NULL
             ? EXEC(a, &r,
                    "SELECT id, status FROM admin_alarm WHERE internal_name = $1 AND domain_id = $2"
                    " ORDER BY status, id DESC",
                    internal_name, domain_id)
             : EXEC(a, &r,
                    "SELECT id, status FROM admin_alarm WHERE internal_name = $1 AND domain_id IS"
                    " NULL ORDER BY status, id DESC",
                    internal_name);
    if (rc < 0) {
        db_result_free(&r);
        return ADMIN_EDB;
    }
    id = db_cell(&r, 0, 0);
    status = db_cell(&r, 0, 1);
    if (id != NULL && status != NULL && strcmp(status, "1") == 0) {
        /* open already: keep it, with today's wording */
        rc = EXEC(a, NULL, "UPDATE admin_alarm SET title = $2 WHERE id = $1", id, title);
    } else if (id != NULL) {
        /* Modoboa reopens a closed alarm rather than adding another */
        rc = EXEC(a, NULL,
                  "UPDATE admin_alarm SET status = 1, closed = NULL, created = $2, title = $3"
                  " WHERE id = $1",
                  id, db_now(a->db), title);
        *opened = true;
    } else {
        rc = EXEC(a, NULL,
                  "INSERT INTO admin_alarm (created, closed, status, title, internal_name,"
                  " domain_id, mailbox_id) VALUES ($1, NULL, 1, $2, $3, $4, NULL)",
                  db_now(a->db), title, internal_name, domain_id);
        *opened = true;
    }
    db_result_free(&r);
    return rc < 0 ? ADMIN_EDB : 0;
}

int admin_alarm_close(struct admin *a, const char *domain_id, const char *internal_name,
                      bool *closed)
{
    struct db_result r;
    int rc = domain_id != NULL
                 ? EXEC(a, &r,
                        "UPDATE admin_alarm SET status = 2, closed = $3 WHERE internal_name = $1"
                        " AND domain_id = $2 AND status = 1",
                        internal_name, domain_id, db_now(a->db))
                 : EXEC(a, &r,
                        "UPDATE admin_alarm SET status = 2, closed = $2 WHERE internal_name = $1"
                        " AND domain_id IS NULL AND status = 1",
                        internal_name, db_now(a->db));

    if (closed != NULL)
        *closed = rc == 0 && r.affected > 0;
    db_result_free(&r);
    return rc < 0 ? ADMIN_EDB : 0;
}

/* ---- DNS checks (modo-dnscheck; spec modoboa.md §5.2) ---- */

int admin_dns_domains(struct admin *a, const char *name, bool all, struct db_result *r)
{
    static const char *cols =
        "SELECT id, name, enable_dkim, dkim_key_selector, dkim_public_key,"
        " dkim_private_key_path FROM admin_domain";
    char sql[512];

    if (name != NULL) {
        snprintf(sql, sizeof(sql), "%s WHERE name = $1", cols);
        return admin_exec(a, r, sql, DB_ARGS(name)) < 0 ? ADMIN_EDB : 0;
    }
    snprintf(sql, sizeof(sql), "%s%s ORDER BY name", cols,
             all ? "" : " WHERE enabled AND enable_dns_checks");
    return admin_exec(a, r, sql, 0, NULL) < 0 ? ADMIN_EDB : 0;
}

int admin_dns_valid_mxs(struct admin *a, char *out, size_t size)
{
    char *v = NULL;
    int rc = 0;

    snprintf(out, size, "%s", conf_str(a->conf, "dnscheck", "valid_mxs"));
    if (!conf_given(a, "dnscheck", "valid_mxs"))
        rc = localconfig_admin(a, "valid_mxs", &v);
    if (v != NULL)
        snprintf(out, size, "%s", v);
    free(v);
    return rc;
}

int admin_dns_old_dnsbl(struct admin *a, const char *domain_id, struct db_result *r)
{
    return EXEC(a, r,
                "SELECT b.provider, m.address, b.status FROM admin_dnsblresult b"
                " JOIN admin_mxrecord m ON m.id = b.mx_id WHERE b.domain_id = $1",
                domain_id) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_dns_reset(struct admin *a, const char *domain_id)
{
    if (EXEC(a, NULL, "DELETE FROM admin_dnsblresult WHERE domain_id = $1", domain_id) < 0 ||
        EXEC(a, NULL, "DELETE FROM admin_mxrecord WHERE domain_id = $1", domain_id) < 0 ||
        EXEC(a, NULL, "DELETE FROM dnstools_dnsrecord WHERE domain_id = $1", domain_id) < 0)
        return ADMIN_EDB;
    return 0;
}

long long admin_dns_add_mx(struct admin *a, const char *domain_id, const char *name,
                           const char *address, bool managed, const char *updated)
{
    if (EXEC(a, NULL,
             "INSERT INTO admin_mxrecord (name, address, managed, updated, domain_id)"
             " VALUES ($1, $2, $3, $4, $5)",
             name, address, managed ? "1" : "0", updated, domain_id) < 0)
        return -1;
    return ID(a, "SELECT max(id) FROM admin_mxrecord WHERE domain_id = $1", domain_id);
}

int admin_dns_add_dnsbl(struct admin *a, const char *domain_id, const char *provider,
                        const char *status, long long mx_id)
{
    return EXEC(a, NULL,
                "INSERT INTO admin_dnsblresult (provider, status, domain_id, mx_id)"
                " VALUES ($1, $2, $3, $4)",
                provider, status, domain_id, admin_num(a, mx_id)) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_dns_add_record(struct admin *a, const char *domain_id, const char *type,
                         const char *value, bool valid, const char *error, const char *updated)
{
    return EXEC(a, NULL,
                "INSERT INTO dnstools_dnsrecord (type, value, is_valid, error, updated, domain_id)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                type, value, valid ? "1" : "0", error, updated, domain_id) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_dns_checked(struct admin *a, const char *domain_id)
{
    return EXEC(a, NULL, "UPDATE admin_domain SET last_dns_check_execution = $2 WHERE id = $1",
                domain_id, db_now(a->db)) < 0
               ? ADMIN_EDB
               : 0;
}
