/*
 * admin - the context and the helpers every admin operation uses; see admin.h.
 * Domains, domain aliases and relay domains are in admin_domain.c; accounts, aliases and
 * sender addresses in admin_account.c and admin_alias.c; listings in admin_list.c.
 */
#include "admin_impl.h"
#include "addr.h"
#include "conf.h"
#include "num.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct admin *admin_new(struct db *db, const struct conf *conf)
{
    struct admin *a = xcalloc(1, sizeof(*a));

    a->db = db;
    a->conf = conf;
    return a;
}

static void clear_limits(struct admin *a)
{
    size_t i;

    for (i = 0; i < a->nlimits; i++)
        free(a->limits[i].name);
    free(a->limits);
    a->limits = NULL;
    a->nlimits = 0;
}

int admin_note_limit(struct admin *a, const char *table, long long id, const char *name,
                     const char *new_value)
{
    struct db_result r;
    struct strbuf sql = STRBUF_INIT;
    const char *cell;
    long long old_limit;

    strbuf_printf(&sql, "SELECT message_limit FROM %s WHERE id = $1", table);
    if (EXEC(a, &r, sql.data, admin_num(a, id)) < 0) {
        strbuf_free(&sql);
        return ADMIN_EDB;
    }
    strbuf_free(&sql);
    cell = r.nrows > 0 ? db_cell(&r, 0, 0) : NULL;
    old_limit = cell ? atoll(cell) : -1;
    db_result_free(&r);
    if (old_limit == (new_value ? atoll(new_value) : -1))
        return 0;
    a->limits = xrealloc(a->limits, (a->nlimits + 1) * sizeof(*a->limits));
    a->limits[a->nlimits].name = xstrdup(name);
    a->limits[a->nlimits].old_limit = old_limit;
    a->limits[a->nlimits].new_limit = new_value ? atoll(new_value) : -1;
    a->nlimits++;
    return 0;
}

const struct admin_limit *admin_limit_changes(const struct admin *a, size_t *n)
{
    *n = a->nlimits;
    return a->limits;
}

void admin_free(struct admin **ap)
{
    if (*ap == NULL)
        return;
    clear_limits(*ap);
    free((*ap)->error);
    free(*ap);
    *ap = NULL;
}

const char *admin_error(const struct admin *a)
{
    return a->error ? a->error : "";
}

struct db *admin_db(struct admin *a)
{
    return a->db;
}

int admin_fail(struct admin *a, int code, const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    char *msg;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    msg = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    strbuf_puts(&sb, msg);
    free(msg);
    free(a->error);
    a->error = strbuf_steal(&sb);
    return code;
}

int admin_dbfail(struct admin *a)
{
    return admin_fail(a, ADMIN_EDB, "database: %s", db_error(a->db));
}

const char *admin_num(struct admin *a, long long v)
{
    char *buf = a->nums[a->next_num++ % 16];

    snprintf(buf, sizeof(a->nums[0]), "%lld", v);
    return buf;
}

int admin_exec(struct admin *a, struct db_result *res, const char *sql, size_t n,
               const char *const *params)
{
    if (db_exec(a->db, res, sql, n, params) < 0) {
        if (res != NULL)
            db_result_free(res);
        admin_dbfail(a);
        return -1;
    }
    return 0;
}

long long admin_id(struct admin *a, const char *sql, size_t n, const char *const *params)
{
    struct db_result r;
    long long id = 0;

    if (admin_exec(a, &r, sql, n, params) < 0)
        return -1;
    if (r.nrows > 0 && db_cell(&r, 0, 0) != NULL)
        id = atoll(db_cell(&r, 0, 0));
    db_result_free(&r);
    return id;
}

int admin_log(struct admin *a, const char *level, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return EXEC(a, NULL,
                "INSERT INTO core_log (date_created, message, level, logger)"
                " VALUES ($1, $2, $3, 'modoboa.admin')",
                db_now(a->db), msg, level) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_begin(struct admin *a)
{
    clear_limits(a);
    return db_begin(a->db) < 0 ? admin_dbfail(a) : 0;
}

int admin_commit(struct admin *a)
{
    if (db_commit(a->db) < 0) {
        int rc = admin_dbfail(a);
        db_rollback(a->db);
        return rc;
    }
    return 0;
}

void admin_rollback(struct admin *a)
{
    db_rollback(a->db);
}

int admin_end(struct admin *a, int rc)
{
    if (rc == 0 && (rc = admin_commit(a)) == 0)
        return 0;
    if (rc != 0)
        admin_rollback(a);
    clear_limits(a); /* nothing changed */
    return rc;
}

bool admin_truthy(const char *s)
{
    bool v = false;
    const char *err;

    return num_parse_bool(s, &v, &err) == 0 && v;
}

bool admin_cell_true(const char *cell)
{
    return cell != NULL && (cell[0] == 't' || cell[0] == '1');
}

int admin_parse_uint(struct admin *a, const char *what, const char *s, long long *v)
{
    const char *err;

    if (s == NULL || num_parse(s, 0, 2147483647LL, v, &err) < 0)
        return admin_fail(a, ADMIN_EINVAL, "invalid %s value \"%s\"", what, s ? s : "");
    return 0;
}

int admin_parse_bool(struct admin *a, const char *what, const char *s, bool *v)
{
    const char *err;

    if (num_parse_bool(s, v, &err) < 0)
        return admin_fail(a, ADMIN_EINVAL, "invalid %s value \"%s\" (yes or no)", what,
                          s ? s : "");
    return 0;
}

int admin_set_bool(struct admin *a, const char *table, const char *column, const char *what,
                   const char *text, long long id)
{
    struct strbuf sql = STRBUF_INIT;
    bool b;
    int rc;

    if ((rc = admin_parse_bool(a, what, text, &b)) != 0)
        return rc;
    strbuf_printf(&sql, "UPDATE %s SET %s = $2 WHERE id = $1", table, column);
    rc = EXEC(a, NULL, sql.data, admin_num(a, id), b ? "1" : "0") < 0 ? ADMIN_EDB : 0;
    strbuf_free(&sql);
    return rc;
}

int admin_parse_limit(struct admin *a, const char *what, const char *s, const char **out)
{
    long long v;
    int rc;

    if (s[0] == '\0' || strcasecmp(s, "none") == 0) {
        *out = NULL;
        return 0;
    }
    if ((rc = admin_parse_uint(a, what, s, &v)) != 0)
        return rc;
    *out = s;
    return 0;
}

char *admin_mail_home(struct admin *a, const char *local, const char *domain)
{
    const char *t = conf_str(a->conf, "admin", "mail_home");
    struct strbuf sb = STRBUF_INIT;

    strbuf_puts(&sb, conf_str(a->conf, "admin", "mail_root"));
    strbuf_putc(&sb, '/');
    for (; *t; t++) {
        if (*t != '%' || t[1] == '\0') {
            strbuf_putc(&sb, *t);
            continue;
        }
        switch (*++t) {
        case 'd': strbuf_puts(&sb, domain); break;
        case 'n': strbuf_puts(&sb, local); break;
        case 'u': strbuf_printf(&sb, "%s@%s", local, domain); break;
        case '%': strbuf_putc(&sb, '%'); break;
        default: strbuf_putc(&sb, '%'); strbuf_putc(&sb, *t); break;
        }
    }
    return strbuf_steal(&sb);
}

int admin_queue_op(struct admin *a, const char *type, const char *path, const char *mailbox_id)
{
    long long pending;

    if (!conf_bool(a->conf, "admin", "handle_mailboxes"))
        return 0;
    /* a pending rename already moves the directory from where it is to the current home */
    if (mailbox_id != NULL && strcmp(type, "rename") == 0) {
        pending = ID(a, "SELECT id FROM admin_mailboxoperation WHERE mailbox_id = $1 AND type = 'rename'",
                     mailbox_id);
        if (pending != 0)
            return pending < 0 ? -1 : 0;
    }
    return EXEC(a, NULL,
                "INSERT INTO admin_mailboxoperation (type, argument, mailbox_id) VALUES ($1, $2, $3)",
                type, path, mailbox_id);
}

int admin_check_domain_limit(struct admin *a, long long domain_id, const char *limit_name,
                             const char *what)
{
    static const struct {
        const char *name, *count_sql;
    } counts[] = {
        {"mailboxes", "SELECT count(*) FROM admin_mailbox WHERE domain_id = $1"},
        {"mailbox_aliases", "SELECT count(*) FROM admin_alias WHERE domain_id = $1 AND NOT internal"},
        {"domain_aliases", "SELECT count(*) FROM admin_domainalias WHERE target_id = $1"},
    };
    struct db_result r;
    long long max, used;
    size_t i;

    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (strcmp(counts[i].name, limit_name) == 0)
            break;
    if (i == sizeof(counts) / sizeof(counts[0]))
        return 0;
    if (EXEC(a, &r,
             "SELECT l.max_value, d.name FROM limits_domainobjectlimit l JOIN admin_domain d"
             " ON d.id = l.domain_id WHERE l.domain_id = $1 AND l.name = $2",
             admin_num(a, domain_id), limit_name) < 0)
        return ADMIN_EDB;
    max = r.nrows ? atoll(db_cell(&r, 0, 0)) : -1;
    if (max >= 0) { /* -1 = unlimited; no row = no limit */
        used = ID(a, counts[i].count_sql, admin_num(a, domain_id));
        if (used < 0) {
            db_result_free(&r);
            return ADMIN_EDB;
        }
        if (used >= max) {
            int rc = admin_fail(a, ADMIN_EINVAL, "%s: limit of %s reached for domain %s (%lld)",
                                what, limit_name, db_cell(&r, 0, 1), max);
            db_result_free(&r);
            return rc;
        }
    }
    db_result_free(&r);
    return 0;
}

/* ---- access rights (core_objectaccess), as Modoboa grants them ---- */

long long admin_content_type(struct admin *a, const char *app, const char *model)
{
    long long id = ID(a, "SELECT id FROM django_content_type WHERE app_label = $1 AND model = $2",
                      app, model);
    if (id == 0) /* a database made by modoctl has no content types until one is needed */
        id = ID(a, "INSERT INTO django_content_type (app_label, model) VALUES ($1, $2) RETURNING id",
                app, model);
    return id;
}

int admin_grant_domain_admins(struct admin *a, long long domain_id, const char *app,
                              const char *model, long long object_id)
{
    long long ct = admin_content_type(a, app, model), dct = admin_content_type(a, "admin", "domain");

    if (ct <= 0 || dct <= 0)
        return ADMIN_EDB;
    return EXEC(a, NULL,
                "INSERT INTO core_objectaccess (user_id, content_type_id, object_id, is_owner)"
                " SELECT oa.user_id, $2, $3, FALSE FROM core_objectaccess oa"
                " WHERE oa.content_type_id = $4 AND oa.object_id = $1 AND NOT EXISTS (SELECT 1"
                " FROM core_objectaccess x WHERE x.user_id = oa.user_id AND x.content_type_id = $2"
                " AND x.object_id = $3)",
                admin_num(a, domain_id), admin_num(a, ct), admin_num(a, object_id),
                admin_num(a, dct)) < 0
               ? ADMIN_EDB
               : 0;
}

int admin_grant_existing(struct admin *a, long long user_id, long long domain_id)
{
    static const struct {
        const char *app, *model, *ids;
    } kinds[] = {
        {"admin", "mailbox", "SELECT id AS oid FROM admin_mailbox WHERE domain_id = $3"},
        {"core", "user", "SELECT user_id AS oid FROM admin_mailbox WHERE domain_id = $3"},
        {"admin", "alias", "SELECT id AS oid FROM admin_alias WHERE domain_id = $3 AND NOT internal"},
    };
    struct strbuf sql = STRBUF_INIT;
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == 0; i++) {
        long long ct = admin_content_type(a, kinds[i].app, kinds[i].model);
        if (ct <= 0)
            return ADMIN_EDB;
        strbuf_reset(&sql);
        strbuf_printf(&sql,
                      "INSERT INTO core_objectaccess (user_id, content_type_id, object_id, is_owner)"
                      " SELECT $1, $2, o.oid, FALSE FROM (%s) AS o WHERE NOT EXISTS (SELECT 1"
                      " FROM core_objectaccess x WHERE x.user_id = $1 AND x.content_type_id = $2"
                      " AND x.object_id = o.oid)",
                      kinds[i].ids);
        if (EXEC(a, NULL, sql.data, admin_num(a, user_id), admin_num(a, ct),
                 admin_num(a, domain_id)) < 0)
            rc = ADMIN_EDB;
    }
    strbuf_free(&sql);
    return rc;
}

int admin_revoke_object(struct admin *a, const char *app, const char *model, const char *object_id)
{
    return EXEC(a, NULL,
                "DELETE FROM core_objectaccess WHERE object_id = $1 AND content_type_id IN"
                " (SELECT id FROM django_content_type WHERE app_label = $2 AND model = $3)",
                object_id, app, model) < 0
               ? ADMIN_EDB
               : 0;
}
