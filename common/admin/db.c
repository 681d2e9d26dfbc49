/*
 * db - one blocking SQL connection for tools; see db.h.
 */
#include "db.h"
#include "conf.h"
#include "strbuf.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* SQLite: the statements run last, kept prepared (by their text) */
#define STMT_CACHE 32
struct cached_stmt {
    char *sql;
    const char *given; /* the caller's last pointer to it (a literal, mostly): looked at
                        * first, its text still compared (a buffer is reused) */
    sqlite3_stmt *st;
    unsigned long long used;
};

struct db {
    PGconn *pg;
    sqlite3 *lite;
    char *error;
    char now[40];
    struct cached_stmt cache[STMT_CACHE];
    unsigned long long uses;
};

static void set_error(struct db *db, const char *what, const char *msg)
{
    struct strbuf sb = STRBUF_INIT;
    size_t len;

    strbuf_printf(&sb, "%s%s%s", what, what[0] ? ": " : "", msg ? msg : "unknown error");
    len = sb.len;
    while (len > 0 && (sb.data[len - 1] == '\n' || sb.data[len - 1] == ' '))
        sb.data[--len] = '\0';
    free(db->error);
    db->error = strbuf_steal(&sb);
}

struct db *db_open(const struct conf *conf, char **error_r)
{
    return db_open_url(conf, conf_str(conf, "database", "url"), error_r);
}

struct db *db_open_writer(const struct conf *conf, char **error_r)
{
    const char *w = conf_str(conf, "database", "write_url");

    return db_open_url(conf, w[0] != '\0' ? w : conf_str(conf, "database", "url"), error_r);
}

struct db *db_open_url(const struct conf *conf, const char *url, char **error_r)
{
    struct db *db = xcalloc(1, sizeof(*db));
    struct strbuf sb = STRBUF_INIT;

    if (strncmp(url, "sqlite://", 9) == 0) {
        if (sqlite3_open_v2(url + 9, &db->lite, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            strbuf_printf(&sb, "cannot open SQLite database %s: %s (create it with modoctl db init)",
                          url + 9, db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
            goto fail;
        }
        sqlite3_busy_timeout(db->lite, (int)conf_ms(conf, "database", "busy_timeout"));
        /* as Django does: foreign keys are checked (at commit, they are deferred) */
        sqlite3_exec(db->lite, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    } else {
        db->pg = PQconnectdb(url);
        if (PQstatus(db->pg) != CONNECTION_OK) {
            strbuf_printf(&sb, "cannot connect to PostgreSQL: %s", PQerrorMessage(db->pg));
            goto fail;
        }
        PQsetNoticeProcessor(db->pg, NULL, NULL);
        PQclear(PQexec(db->pg, "SET TIME ZONE 'UTC'"));
    }
    return db;
fail:
    *error_r = strbuf_steal(&sb);
    db_close(&db);
    return NULL;
}

void db_close(struct db **dbp)
{
    struct db *db = *dbp;

    if (db == NULL)
        return;
    if (db->pg != NULL)
        PQfinish(db->pg);
    for (size_t i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(db->cache[i].st);
        free(db->cache[i].sql);
    }
    if (db->lite != NULL)
        sqlite3_close(db->lite);
    free(db->error);
    free(db);
    *dbp = NULL;
}

bool db_is_pgsql(const struct db *db)
{
    return db->pg != NULL;
}

const char *db_error(const struct db *db)
{
    return db->error ? db->error : "";
}

void db_result_free(struct db_result *res)
{
    size_t i;

    if (res == NULL || res->cells == NULL)
        return;
    for (i = 0; i < res->nrows * res->ncols; i++)
        free(res->cells[i]);
    free(res->cells);
    res->cells = NULL;
    res->nrows = res->ncols = 0;
}

const char *db_cell(const struct db_result *res, size_t row, size_t col)
{
    if (row >= res->nrows || col >= res->ncols)
        return NULL;
    return res->cells[row * res->ncols + col];
}

static int pg_exec(struct db *db, struct db_result *res, const char *sql, size_t nparams,
                   const char *const *params, const Oid *types)
{
    PGresult *r = PQexecParams(db->pg, sql, (int)nparams, types, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    size_t i, j;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_error(db, "", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    if (res != NULL) {
        res->affected = atoll(PQcmdTuples(r));
        res->nrows = (size_t)PQntuples(r);
        res->ncols = (size_t)PQnfields(r);
        res->cells = xcalloc(res->nrows * res->ncols + 1, sizeof(char *));
        for (i = 0; i < res->nrows; i++)
            for (j = 0; j < res->ncols; j++)
                if (!PQgetisnull(r, (int)i, (int)j))
                    res->cells[i * res->ncols + j] = xstrdup(PQgetvalue(r, (int)i, (int)j));
    }
    PQclear(r);
    return 0;
}

/* $N -> ?N outside string literals */
static char *lite_sql(const char *sql)
{
    struct strbuf sb = STRBUF_INIT;
    bool quoted = false;
    const char *p;

    for (p = sql; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        if (!quoted && *p == '$' && p[1] >= '0' && p[1] <= '9')
            strbuf_append(&sb, "?", 1);
        else
            strbuf_append(&sb, p, 1);
    }
    return strbuf_steal(&sb);
}

/* The prepared statement of sql: from the cache, or prepared into the least used slot
 * (a statement that is not one, e.g. a script, is prepared uncached: *cached false). */
static sqlite3_stmt *lite_prepare(struct db *db, const char *sql, bool *cached)
{
    struct cached_stmt *slot = &db->cache[0];
    char *text;
    const char *tail = NULL;
    sqlite3_stmt *st = NULL;
    size_t i;

    for (i = 0; i < STMT_CACHE; i++) {
        if (db->cache[i].sql != NULL && db->cache[i].given == sql &&
            strcmp(db->cache[i].sql, sql) == 0) {
            db->cache[i].used = ++db->uses;
            *cached = true;
            return db->cache[i].st;
        }
    }
    for (i = 0; i < STMT_CACHE; i++) {
        if (db->cache[i].sql != NULL && strcmp(db->cache[i].sql, sql) == 0) {
            db->cache[i].given = sql;
            db->cache[i].used = ++db->uses;
            *cached = true;
            return db->cache[i].st;
        }
        if (db->cache[i].used < slot->used)
            slot = &db->cache[i];
    }
    text = lite_sql(sql);
    if (sqlite3_prepare_v3(db->lite, text, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK) {
        free(text);
        return NULL;
    }
    *cached = tail == NULL || *tail == '\0';
    free(text);
    if (*cached) {
        sqlite3_finalize(slot->st);
        free(slot->sql);
        slot->sql = xstrdup(sql);
        slot->given = sql;
        slot->st = st;
        slot->used = ++db->uses;
    }
    return st;
}

static void lite_done(sqlite3_stmt *st, bool cached)
{
    if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
}

static int lite_exec(struct db *db, struct db_result *res, const char *sql, size_t nparams,
                     const char *const *params)
{
    bool cached = false;
    sqlite3_stmt *st = lite_prepare(db, sql, &cached);
    size_t i, cap = 0;
    int rc;

    if (st == NULL) {
        set_error(db, "", sqlite3_errmsg(db->lite));
        return -1;
    }
    for (i = 0; i < nparams; i++) {
        if (params[i] == NULL)
            sqlite3_bind_null(st, (int)i + 1);
        else
            sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC);
    }
    if (res != NULL) {
        res->ncols = (size_t)sqlite3_column_count(st);
        res->nrows = 0;
        res->cells = NULL;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res == NULL || res->ncols == 0)
            continue;
        if (res->nrows == cap) {
            cap = cap ? cap * 2 : 8;
            res->cells = xrealloc(res->cells, cap * res->ncols * sizeof(char *));
        }
        for (i = 0; i < res->ncols; i++) {
            const unsigned char *v = sqlite3_column_text(st, (int)i);
            res->cells[res->nrows * res->ncols + i] = v ? xstrdup((const char *)v) : NULL;
        }
        res->nrows++;
    }
    if (rc != SQLITE_DONE) {
        set_error(db, "", sqlite3_errmsg(db->lite));
        lite_done(st, cached);
        return -1;
    }
    if (res != NULL)
        res->affected = sqlite3_changes(db->lite);
    lite_done(st, cached);
    return 0;
}

int db_exec(struct db *db, struct db_result *res, const char *sql, size_t nparams,
            const char *const *params)
{
    if (res != NULL)
        memset(res, 0, sizeof(*res));
    return db->pg ? pg_exec(db, res, sql, nparams, params, NULL)
                  : lite_exec(db, res, sql, nparams, params);
}

int db_exec_text(struct db *db, struct db_result *res, const char *sql, size_t nparams,
                 const char *const *params)
{
    static const Oid text[8] = {25, 25, 25, 25, 25, 25, 25, 25}; /* text */

    if (res != NULL)
        memset(res, 0, sizeof(*res));
    if (nparams > 8)
        nparams = 8;
    return db->pg ? pg_exec(db, res, sql, nparams, params, text)
                  : lite_exec(db, res, sql, nparams, params);
}

int db_script(struct db *db, const char *sql)
{
    char *err = NULL;

    if (db->pg != NULL) {
        PGresult *r = PQexec(db->pg, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            set_error(db, "", PQresultErrorMessage(r));
        PQclear(r);
        return ok ? 0 : -1;
    }
    if (sqlite3_exec(db->lite, sql, NULL, NULL, &err) != SQLITE_OK) {
        set_error(db, "", err ? err : sqlite3_errmsg(db->lite));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

int db_begin(struct db *db)
{
    /* SQLite: take the write lock at once, so a busy database waits here, not mid-way */
    return db_script(db, db->pg ? "BEGIN" : "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
    return db_script(db, "COMMIT");
}

void db_rollback(struct db *db)
{
    char *saved = db->error ? xstrdup(db->error) : NULL;

    db_script(db, "ROLLBACK");
    free(db->error);
    db->error = saved; /* keep the error that caused the rollback */
}

const char *db_time(const struct db *db, time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, db->pg ? "%Y-%m-%d %H:%M:%S+00" : "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char *db_now(struct db *db)
{
    struct timeval tv;
    struct tm tm;
    char date[24];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(db->now, sizeof(db->now), "%s.%06ld%s", date, (long)tv.tv_usec,
             db->pg ? "+00" : "");
    return db->now;
}
