/*
 * db - one blocking SQL connection for tools (modoctl): parameterised
 * statements, transactions, both backends.
 *
 * Daemons that answer requests never use this: they ask the store. The admin
 * module (admin.c), which keeps Modoboa's invariants on every write, is its
 * main caller; modo-logd, which answers nobody and must commit what it read
 * with its checkpoint in one transaction, writes through it too (logdb.c).
 *
 * Statements are written once with PostgreSQL placeholders ($1, $2...);
 * for SQLite they are rewritten to ?1, ?2. Parameters are text or NULL
 * (SQL NULL); both databases convert text to the column's type. Values
 * that differ between the backends come from helpers: db_now() and
 * db_time() give timestamps in each backend's own format.
 */
#ifndef MODO_DB_H
#define MODO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct conf;
struct db;

struct db_result {
    size_t nrows, ncols;
    char **cells; /* row-major; NULL = SQL NULL */
    long long affected;
};

/* Open [database] url. NULL with *error_r (malloc'd) if it cannot be reached. */
struct db *db_open(const struct conf *conf, char **error_r);
/* [database] write_url when set (a replica's primary), else url. */
struct db *db_open_writer(const struct conf *conf, char **error_r);
struct db *db_open_url(const struct conf *conf, const char *url, char **error_r);
void db_close(struct db **db);
bool db_is_pgsql(const struct db *db);

/*
 * Run one statement. res may be NULL when no rows are wanted; otherwise it
 * is filled and must be freed with db_result_free (also after an error).
 * Returns 0, or -1 with db_error() set.
 */
int db_exec(struct db *db, struct db_result *res, const char *sql, size_t nparams,
            const char *const *params);
/* The same with every parameter typed text, as the daemons prepare their questions (at most 8) */
int db_exec_text(struct db *db, struct db_result *res, const char *sql, size_t nparams,
                 const char *const *params);
#define DB_ARGS(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), \
                     ((const char *const[]){__VA_ARGS__})
void db_result_free(struct db_result *res);
/* Cell (row, col) of a result, NULL if SQL NULL or out of range. */
const char *db_cell(const struct db_result *res, size_t row, size_t col);

/* A multi-statement script without parameters. */
int db_script(struct db *db, const char *sql);

int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* The last error, for messages. */
const char *db_error(const struct db *db);

/* Timestamps in the backend's format: now, or a given UTC time (buf >= 40 bytes). */
const char *db_now(struct db *db);
const char *db_time(const struct db *db, time_t t, char *buf, size_t size);

#endif
