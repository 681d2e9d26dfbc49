/*
 * admin_ops - the queue of mailbox operations (spec modoboa.md §6) and the alarms
 * that report the ones that fail; see admin.h.
 */
#include "admin_impl.h"
#include "conf.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int admin_ops_pending(struct admin *a, struct db_result *r)
{
    return admin_exec(a, r,
                      "SELECT o.id, o.type, o.argument, o.mailbox_id, m.address, d.name, d.id"
                      " FROM admin_mailboxoperation o LEFT JOIN admin_mailbox m ON m.id = o.mailbox_id"
                      " LEFT JOIN admin_domain d ON d.id = m.domain_id ORDER BY o.id",
                      0, NULL) < 0
               ? ADMIN_EDB
               : 0;
}

static void alarm_name(char *buf, size_t size, const char *op_id)
{
    snprintf(buf, size, "mailbox_operation_%s", op_id);
}

int admin_op_finish(struct admin *a, const char *op_id, bool drop, const char *level,
                    const char *message)
{
    char name[64];

    alarm_name(name, sizeof(name), op_id);
    if (drop && EXEC(a, NULL, "DELETE FROM admin_mailboxoperation WHERE id = $1", op_id) < 0)
        return ADMIN_EDB;
    /* a success closes the alarm an earlier failure opened */
    if (strcmp(level, "INFO") == 0 &&
        EXEC(a, NULL,
             "UPDATE admin_alarm SET status = 2, closed = $2 WHERE internal_name = $1 AND status = 1",
             name, db_now(a->db)) < 0)
        return ADMIN_EDB;
    return admin_log(a, level, "%s", message);
}

int admin_op_alarm(struct admin *a, const char *op_id, const char *mailbox_id,
                   const char *domain_id, const char *title)
{
    char name[64];
    long long open;

    alarm_name(name, sizeof(name), op_id);
    open = ID(a, "SELECT id FROM admin_alarm WHERE internal_name = $1 AND status = 1", name);
    if (open < 0)
        return ADMIN_EDB;
    if (open > 0)
        return EXEC(a, NULL, "UPDATE admin_alarm SET title = $2 WHERE id = $1", admin_num(a, open),
                    title) < 0
                   ? ADMIN_EDB
                   : 0;
    return EXEC(a, NULL,
                "INSERT INTO admin_alarm (created, closed, status, title, internal_name, mailbox_id,"
                " domain_id) VALUES ($1, NULL, 1, $2, $3, $4, $5)",
                db_now(a->db), title, name, mailbox_id, domain_id) < 0
               ? ADMIN_EDB
               : 0;
}

/* ---- cleanups (spec modoboa.md §10) ---- */

int admin_cleanup_logs(struct admin *a, long long *logs, long long *history)
{
    long long log_days = conf_int(a->conf, "admin", "log_maximum_age");
    long long hist_days = conf_int(a->conf, "admin", "message_history_maximum_age");
    struct db_result r;
    char t1[40], t2[40];

    db_time(a->db, time(NULL) - (time_t)(log_days * 86400), t1, sizeof(t1));
    db_time(a->db, time(NULL) - (time_t)(hist_days * 86400), t2, sizeof(t2));
    if (EXEC(a, &r, "DELETE FROM core_log WHERE date_created < $1", t1) < 0)
        return ADMIN_EDB;
    *logs = r.affected;
    db_result_free(&r);
    if (EXEC(a, &r, "DELETE FROM maillog_maillog WHERE date < $1", t2) < 0)
        return ADMIN_EDB;
    *history = r.affected;
    db_result_free(&r);
    return 0;
}

int admin_inactive_accounts(struct admin *a, struct db_result *r)
{
    long long days = conf_int(a->conf, "admin", "inactive_account_threshold");
    char t[40];

    db_time(a->db, time(NULL) - (time_t)(days * 86400), t, sizeof(t));
    /* Modoboa's selection: accounts that never logged in are never selected */
    return EXEC(a, r,
                "SELECT username, last_login FROM core_user WHERE is_active AND NOT is_superuser"
                " AND last_login IS NOT NULL AND last_login < $1 ORDER BY username",
                t) < 0
               ? ADMIN_EDB
               : 0;
}

/* ---- db upgrade: columns later Modoboa versions added ---- */

static const struct admin_column added_columns[] = {
    {"admin_domain", "message_limit", "integer NULL CHECK (message_limit >= 0)",
     "integer unsigned NULL CHECK (message_limit >= 0)", NULL, "1.16"},
    {"admin_mailbox", "message_limit", "integer NULL CHECK (message_limit >= 0)",
     "integer unsigned NULL CHECK (message_limit >= 0)", NULL, "1.16"},
    {"admin_mailbox", "is_send_only", "boolean NOT NULL", "bool NOT NULL", "FALSE", "2.2"},
    {"admin_domain", "last_dns_check_execution", "timestamp with time zone NULL", "datetime NULL",
     NULL, "2.7.1"},
    {"core_user", "webauthn_enabled", "boolean NOT NULL", "bool NOT NULL", "FALSE", "2.3"},
};

size_t admin_added_columns(const struct admin_column **cols)
{
    *cols = added_columns;
    return sizeof(added_columns) / sizeof(added_columns[0]);
}

static bool column_exists(struct admin *a, const char *table, const char *column)
{
    struct strbuf sql = STRBUF_INIT;
    bool ok;

    strbuf_printf(&sql, "SELECT %s FROM %s WHERE 1 = 0", column, table);
    /* a savepoint keeps PostgreSQL's transaction usable after the error */
    db_script(a->db, "SAVEPOINT modo_probe");
    ok = db_exec(a->db, NULL, sql.data, 0, NULL) == 0;
    db_script(a->db, ok ? "RELEASE SAVEPOINT modo_probe" : "ROLLBACK TO SAVEPOINT modo_probe");
    strbuf_free(&sql);
    return ok;
}

int admin_upgrade_columns(struct admin *a, FILE *out)
{
    struct strbuf sql = STRBUF_INIT;
    bool pg = db_is_pgsql(a->db);
    size_t i, changed = 0;
    int rc = 0;

    /* 2.3 renamed tfa_enabled to totp_enabled */
    if (!column_exists(a, "core_user", "totp_enabled")) {
        if (column_exists(a, "core_user", "tfa_enabled")) {
            if (db_script(a->db, "ALTER TABLE core_user RENAME COLUMN tfa_enabled TO totp_enabled") < 0)
                return admin_dbfail(a);
            fprintf(out, "core_user.tfa_enabled renamed totp_enabled (Modoboa 2.3)\n");
            changed++;
        } else {
            if (db_script(a->db, pg ? "ALTER TABLE core_user ADD COLUMN totp_enabled boolean NOT NULL DEFAULT FALSE;"
                                      " ALTER TABLE core_user ALTER COLUMN totp_enabled DROP DEFAULT"
                                    : "ALTER TABLE core_user ADD COLUMN totp_enabled bool NOT NULL DEFAULT 0") < 0)
                return admin_dbfail(a);
            fprintf(out, "core_user.totp_enabled added (Modoboa 2.3)\n");
            changed++;
        }
    }
    for (i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]) && rc == 0; i++) {
        const char *t = added_columns[i].table, *c = added_columns[i].column;
        if (column_exists(a, t, c))
            continue;
        strbuf_reset(&sql);
        /* existing rows get the value Django's migration gave them; no default stays (PG) */
        strbuf_printf(&sql, "ALTER TABLE %s ADD COLUMN %s %s%s%s", t, c,
                      pg ? added_columns[i].pg_type : added_columns[i].lite_type,
                      added_columns[i].fill ? " DEFAULT " : "",
                      added_columns[i].fill ? added_columns[i].fill : "");
        if (pg && added_columns[i].fill)
            strbuf_printf(&sql, "; ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", t, c);
        if (db_script(a->db, sql.data) < 0) {
            rc = admin_dbfail(a);
        } else {
            fprintf(out, "%s.%s added (Modoboa %s)\n", t, c, added_columns[i].since);
            changed++;
        }
    }
    if (rc == 0 && changed == 0)
        fprintf(out, "every column is there: none added\n");
    strbuf_free(&sql);
    return rc;
}
