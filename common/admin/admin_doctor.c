/*
 * admin_doctor - modoctl db doctor: what modo needs of a database (a Modoboa one especially),
 * what is missing or wrong, each with its fix. Reads only: every question of the daemons is
 * run inside a transaction that is rolled back.
 */
#include "admin_impl.h"

#include "conf.h"
#include "store.h"
#include "strbuf.h"

#include <ctype.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct doctor {
    struct admin *a;
    admin_finding_cb *cb;
    void *arg;
    bool pg;
    size_t errors;
};

static void finding(struct doctor *d, const char *severity, const char *check, const char *fix,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct doctor *d, const char *severity, const char *check, const char *fix,
                    const char *fmt, ...)
{
    char text[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (strcmp(severity, "error") == 0)
        d->errors++;
    d->cb(d->arg, severity, check, text, fix);
}

/* Run one statement in a savepoint (PostgreSQL's transaction stays usable after an error). */
static int probe(struct doctor *d, struct db_result *res, const char *sql, size_t n,
                 const char *const *params)
{
    struct db *db = admin_db(d->a);
    int rc;

    db_script(db, "SAVEPOINT modo_doctor");
    rc = db_exec_text(db, res, sql, n, params);
    db_script(db, rc == 0 ? "RELEASE SAVEPOINT modo_doctor" : "ROLLBACK TO SAVEPOINT modo_doctor");
    return rc;
}

static bool exists_row(struct doctor *d, const char *sql, size_t n, const char *const *params)
{
    struct db_result r;
    bool found = probe(d, &r, sql, n, params) == 0 && r.nrows > 0;

    db_result_free(&r);
    return found;
}
#define EXISTS(d, sql, ...) exists_row(d, sql, DB_ARGS(__VA_ARGS__))

static bool table_exists(struct doctor *d, const char *name)
{
    return d->pg ? EXISTS(d, "SELECT 1 FROM pg_class WHERE relname = $1 AND relkind IN ('r', 'p',"
                             " 'v') AND pg_table_is_visible(oid)", name)
                 : EXISTS(d, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND"
                             " name = $1", name);
}

/* ---- modo's objects, as its objects script creates them ---- */

struct object {
    char kind[80];  /* table, view, trigger, function */
    char name[80];
    char table[80]; /* a trigger's table */
};

/* The next word of s (an identifier, quotes removed) into out; returns the rest. */
static const char *word(const char *s, char *out, size_t size)
{
    size_t n = 0;

    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    while (*s != '\0' && !isspace((unsigned char)*s) && *s != '(' && *s != ';') {
        if (*s != '"' && n + 1 < size)
            out[n++] = (char)tolower((unsigned char)*s);
        s++;
    }
    out[n] = '\0';
    return s;
}

/* Every CREATE of the script, in order: returns how many (at most max). */
static size_t parse_objects(const char *sql, struct object *objs, size_t max)
{
    const char *p = sql;
    size_t n = 0;
    char w[80];

    while (n < max && (p = strstr(p, "CREATE ")) != NULL) {
        const char *end = strchr(p, ';');
        struct object *o = &objs[n];

        if (p != sql && p[-1] != '\n') { /* inside a statement (a function body) */
            p += 7;
            continue;
        }
        p = word(p + 7, w, sizeof(w));
        if (strcmp(w, "or") == 0) /* OR REPLACE */
            p = word(word(p, w, sizeof(w)), w, sizeof(w));
        snprintf(o->kind, sizeof(o->kind), "%s", w);
        p = word(p, o->name, sizeof(o->name));
        if (strcmp(o->name, "if") == 0) /* IF NOT EXISTS */
            p = word(word(word(p, w, sizeof(w)), w, sizeof(w)), o->name, sizeof(o->name));
        o->table[0] = '\0';
        if (strcmp(o->kind, "trigger") == 0) {
            const char *on = strstr(p, " ON ");
            if (on != NULL && (end == NULL || on < end))
                word(on + 4, o->table, sizeof(o->table));
        }
        if (strcmp(o->kind, "table") == 0 || strcmp(o->kind, "view") == 0 ||
            strcmp(o->kind, "trigger") == 0 || strcmp(o->kind, "function") == 0)
            n++;
        p = end != NULL ? end : p;
    }
    return n;
}

static bool object_exists(struct doctor *d, const struct object *o)
{
    if (strcmp(o->kind, "table") == 0 || strcmp(o->kind, "view") == 0)
        return table_exists(d, o->name);
    if (strcmp(o->kind, "function") == 0)
        return EXISTS(d, "SELECT 1 FROM pg_proc WHERE proname = $1", o->name);
    return d->pg ? EXISTS(d, "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                             " WHERE t.tgname = $1 AND c.relname = $2", o->name, o->table)
                 : EXISTS(d, "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = $1",
                          o->name);
}

static void check_objects(struct doctor *d)
{
    static struct object objs[128];
    size_t n = parse_objects(store_objects_sql_of(d->pg), objs, 128), missing = 0, i;
    struct strbuf list = STRBUF_INIT;
    struct db_result r;

    for (i = 0; i < n; i++) {
        if (object_exists(d, &objs[i]))
            continue;
        if (missing++ < 6)
            strbuf_printf(&list, "%s%s %s%s%s", missing > 1 ? ", " : "", objs[i].kind,
                          objs[i].name, objs[i].table[0] ? " on " : "", objs[i].table);
    }
    if (missing > 6)
        strbuf_printf(&list, " and %zu more", missing - 6);
    if (missing > 0)
        finding(d, "error", "modo objects", "modoctl db add-modo-objects",
                "%zu of modo's %zu objects are missing: %s (without them a change made in"
                " Modoboa is seen only when cached answers expire)", missing, n, list.data);
    else
        finding(d, "ok", "modo objects", NULL, "all %zu of modo's objects are there (generation"
                " counter, triggers, DKIM views and tables)", n);
    strbuf_free(&list);
    if (missing == 0) {
        if (probe(d, &r, store_question_sql(d->pg, STORE_Q_GENERATION), 0, NULL) < 0)
            finding(d, "error", "modo objects", "GRANT SELECT ON modo_generation TO the role of"
                    " [database] url", "modo_generation cannot be read: %s",
                    db_error(admin_db(d->a)));
        else if (r.nrows != 1)
            finding(d, "error", "modo objects", "modoctl db add-modo-objects",
                    "modo_generation has no row");
        db_result_free(&r);
    }
    if (d->pg && missing > 0) {
        /* the triggers go on Modoboa's tables: only their owner (or a superuser) may add them */
        if (probe(d, &r, "SELECT t.tableowner, current_user, (SELECT rolsuper FROM pg_roles"
                         " WHERE rolname = current_user) FROM pg_tables t WHERE t.tablename ="
                         " 'admin_domain'", 0, NULL) == 0 && r.nrows == 1 &&
            strcmp(db_cell(&r, 0, 0), db_cell(&r, 0, 1)) != 0 && !admin_cell_true(db_cell(&r, 0, 2))) {
            struct strbuf fix = STRBUF_INIT;
            strbuf_printf(&fix, "run modoctl db add-modo-objects with a [database] url of role %s"
                                " (or a superuser)", db_cell(&r, 0, 0));
            finding(d, "warning", "modo objects", fix.data,
                    "Modoboa's tables belong to role %s, not to %s: adding triggers to them needs"
                    " their owner", db_cell(&r, 0, 0), db_cell(&r, 0, 1));
            strbuf_free(&fix);
        }
        db_result_free(&r);
    }
}

/* ---- the columns later Modoboa versions added (db upgrade adds them) ---- */

static void check_columns(struct doctor *d)
{
    const struct admin_column *cols;
    size_t n = admin_added_columns(&cols), i, missing = 0;
    struct strbuf sql = STRBUF_INIT;

    for (i = 0; i < n; i++) {
        strbuf_reset(&sql);
        strbuf_printf(&sql, "SELECT %s FROM %s WHERE 1 = 0", cols[i].column, cols[i].table);
        if (probe(d, NULL, sql.data, 0, NULL) == 0)
            continue;
        missing++;
        finding(d, "error", "columns", "modoctl db upgrade",
                "%s.%s is missing (Modoboa %s added it)", cols[i].table, cols[i].column,
                cols[i].since);
    }
    if (probe(d, NULL, "SELECT totp_enabled FROM core_user WHERE 1 = 0", 0, NULL) < 0) {
        missing++;
        finding(d, "error", "columns", "modoctl db upgrade", "core_user.totp_enabled is missing"
                " (Modoboa 2.3 renamed tfa_enabled)");
    }
    if (missing == 0)
        finding(d, "ok", "columns", NULL, "every column modo reads is there (Modoboa 2.3 or later)");
    strbuf_free(&sql);
}

/* ---- every question the daemons ask, run as they would ---- */

static void check_questions(struct doctor *d)
{
    const char *params[STORE_MAX_ARGS + 2] = {"doctor@modo.invalid", "0", "0", "0", "0"};
    bool split = conf_str(d->a->conf, "database", "write_url")[0] != '\0';
    size_t q, asked = 0, failed = 0;

    for (q = 0; q < STORE_Q__COUNT; q++) {
        struct db_result r;
        const char *err, *fix;
        if (q == STORE_Q_GENERATION)
            continue; /* with modo's objects */
        if (split && store_question_writes(q))
            continue; /* asked of [database] write_url */
        params[1] = store_question_writes(q) ? "0" : "doctor";
        params[2] = store_question_writes(q) ? "0" : "modo.invalid";
        asked++;
        if (probe(d, &r, store_question_sql(d->pg, q), store_question_nparams(q), params) == 0) {
            db_result_free(&r);
            continue;
        }
        db_result_free(&r);
        failed++;
        err = db_error(admin_db(d->a));
        fix = strstr(err, "permission denied") != NULL
                  ? (store_question_writes(q)
                         ? "GRANT SELECT, INSERT, UPDATE on that table TO the role of [database]"
                           " url (or set write_url to a role that may write)"
                         : "GRANT SELECT ON that table TO the role of [database] url")
              : strstr(err, "modo_") != NULL ? "modoctl db add-modo-objects"
                                             : "modoctl db upgrade";
        finding(d, "error", "questions", fix, "the %s question (%s) fails: %.*s",
                store_question_name(q),
                store_question_writes(q) ? "a write" : "a read", (int)strcspn(err, "\n"), err);
    }
    if (failed == 0)
        finding(d, "ok", "questions", NULL, "the daemons' %zu questions run as this role%s", asked,
                split ? " (writes go to [database] write_url: not asked here)" : "");
}

/* ---- what only a Modoboa database has ---- */

static void check_modoboa(struct doctor *d)
{
    struct db_result r;

    if (d->pg && EXISTS(d, "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                           " WHERE c.relname = 'admin_quota' AND t.tgname = 'mergequota'"))
        finding(d, "warning", "quota", "DROP TRIGGER mergequota ON admin_quota (modo-dictd sets"
                " and adds the usage itself)",
                "Modoboa's installer trigger mergequota on admin_quota turns Dovecot's quota"
                " \"set\" into an add: the usage drifts (Modoboa #2183, #1698)");
    if (!table_exists(d, "django_migrations")) {
        finding(d, "info", "migrations", NULL, "no django_migrations table: Modoboa's manage.py"
                " migrate did not make this database (modoctl db init does not record"
                " migrations)");
        return;
    }
    if (probe(d, &r, "SELECT app, max(name), count(*) FROM django_migrations WHERE app IN"
                     " ('admin', 'core', 'limits') GROUP BY app ORDER BY app", 0, NULL) == 0) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < r.nrows; i++)
            strbuf_printf(&sb, "%s%s %s (%s)", i ? ", " : "", db_cell(&r, i, 0),
                          db_cell(&r, i, 1), db_cell(&r, i, 2));
        finding(d, r.nrows > 0 ? "info" : "warning", "migrations",
                r.nrows > 0 ? NULL : "run Modoboa's manage.py migrate",
                r.nrows > 0 ? "Modoboa's migrations applied: %s" : "django_migrations has no"
                " row for admin, core or limits%s", sb.data);
        strbuf_free(&sb);
    }
    db_result_free(&r);
}

/* ---- DKIM keys, alarms ---- */

static void check_dkim(struct doctor *d)
{
    struct db_result r;
    size_t i, bad = 0;

    if (probe(d, &r, "SELECT name, dkim_private_key_path FROM admin_domain WHERE enable_dkim AND"
                     " dkim_private_key_path <> '' ORDER BY name", 0, NULL) < 0) {
        db_result_free(&r);
        return;
    }
    for (i = 0; i < r.nrows; i++) {
        struct stat st;
        struct strbuf fix = STRBUF_INIT;
        if (stat(db_cell(&r, i, 1), &st) == 0)
            continue;
        bad++;
        strbuf_printf(&fix, "restore the file from a backup, or give the domain a new key:"
                            " modo-dkim rotate --domain %s", db_cell(&r, i, 0));
        finding(d, "warning", "dkim", fix.data, "%s: its DKIM key %s does not exist (OpenDKIM"
                " cannot sign its mail)", db_cell(&r, i, 0), db_cell(&r, i, 1));
        strbuf_free(&fix);
    }
    if (bad == 0)
        finding(d, "ok", "dkim", NULL, "every DKIM key file named in admin_domain exists (%zu)",
                r.nrows);
    db_result_free(&r);
}

static void check_alarms(struct doctor *d)
{
    struct db_result r;

    if (probe(d, &r, "SELECT title FROM admin_alarm WHERE status = 1 ORDER BY created DESC", 0,
              NULL) < 0) {
        finding(d, "warning", "alarms", NULL, "admin_alarm cannot be read: %s",
                db_error(admin_db(d->a)));
    } else if (r.nrows > 0) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < r.nrows && i < 5; i++)
            strbuf_printf(&sb, "%s\"%s\"", i ? ", " : "", db_cell(&r, i, 0));
        if (r.nrows > 5)
            strbuf_printf(&sb, " and %zu more", r.nrows - 5);
        finding(d, "warning", "alarms", "Modoboa's web interface lists them (Alarms); modo"
                " closes its own when their cause is gone", "%zu alarm%s open: %s", r.nrows,
                r.nrows > 1 ? "s" : "", sb.data);
        strbuf_free(&sb);
    } else if (r.nrows == 0) {
        finding(d, "ok", "alarms", NULL, "no alarm open");
    }
    db_result_free(&r);
}

/* SQLite: the file is the daemons' user's ([database] owner) */
static void check_sqlite_owner(struct doctor *d)
{
    const char *url = conf_str(d->a->conf, "database", "url");
    const char *owner = conf_str(d->a->conf, "database", "owner");
    struct passwd *pw;
    struct stat st;

    if (d->pg || owner[0] == '\0' || stat(url + 9, &st) < 0)
        return;
    if ((pw = getpwnam(owner)) == NULL) {
        finding(d, "warning", "ownership", "adduser --system --group --no-create-home --home"
                " /nonexistent modo, or set [database] owner to the daemons' user",
                "[database] owner: no such user \"%s\"", owner);
    } else if (st.st_uid != pw->pw_uid) {
        struct strbuf fix = STRBUF_INIT;
        char *copy = xstrdup(url + 9);
        struct group *gr = getgrgid(pw->pw_gid);
        strbuf_printf(&fix, "chown %s:%s %s %s", owner, gr ? gr->gr_name : owner, dirname(copy),
                      url + 9);
        finding(d, "warning", "ownership", fix.data, "%s does not belong to %s, the daemons'"
                " user ([database] owner)", url + 9, owner);
        strbuf_free(&fix);
        free(copy);
    }
}

int admin_doctor(struct admin *a, admin_finding_cb *cb, void *arg)
{
    struct doctor d = {a, cb, arg, db_is_pgsql(admin_db(a)), 0};
    struct db_result r;
    int rc = 1;

    /* everything in one transaction, rolled back: the questions that write change nothing */
    if (db_begin(admin_db(a)) < 0) {
        finding(&d, "error", "database", NULL, "cannot begin a transaction: %s",
                db_error(admin_db(a)));
        return 1;
    }
    if (d.pg && probe(&d, &r, "SELECT current_database(), current_user, current_setting("
                              "'server_version')", 0, NULL) == 0)
        finding(&d, "info", "database", NULL, "PostgreSQL %s, database %s, role %s",
                db_cell(&r, 0, 2), db_cell(&r, 0, 0), db_cell(&r, 0, 1));
    else if (!d.pg)
        finding(&d, "info", "database", NULL, "SQLite %s",
                conf_str(a->conf, "database", "url") + 9);
    if (d.pg)
        db_result_free(&r);
    if (!table_exists(&d, "admin_domain") || !table_exists(&d, "core_user")) {
        finding(&d, "error", "schema", "modoctl db init (a new database), or point [database] url"
                " at Modoboa's database", "no Modoboa schema here (admin_domain, core_user)");
    } else {
        check_columns(&d);
        check_questions(&d);
        check_objects(&d);
        check_modoboa(&d);
        check_sqlite_owner(&d);
        check_dkim(&d);
        check_alarms(&d);
        rc = d.errors > 0;
    }
    db_rollback(admin_db(a));
    return rc;
}
