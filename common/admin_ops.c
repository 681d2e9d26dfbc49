/*
 * admin_ops - the queue of mailbox operations (spec modoboa.md §6) and the alarms
 * that report the ones that fail; see admin.h.
 */
#include "admin_impl.h"
#include "conf.h"

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
