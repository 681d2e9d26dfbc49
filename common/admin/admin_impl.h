/*
 * admin_impl - what the admin_*.c files share; not for other callers.
 */
#ifndef MODO_ADMIN_IMPL_H
#define MODO_ADMIN_IMPL_H

#include "admin.h"
#include "db.h"

#include <stdbool.h>

struct admin {
    struct db *db;
    const struct conf *conf;
    char *error;
    char nums[16][24];
    unsigned next_num;
    struct admin_limit *limits; /* daily limits changed in the transaction */
    size_t nlimits;
};

/*
 * A daily limit changes from what the row of table id has now to new_value (NULL: none):
 * remember it for admin_limit_changes(). 0 or ADMIN_EDB.
 */
int admin_note_limit(struct admin *a, const char *table, long long id, const char *name,
                     const char *new_value);

/* The database failed: ADMIN_EDB with its message. */
int admin_dbfail(struct admin *a);
/* A number as a parameter (a ring of buffers: valid for the next 15 calls). */
const char *admin_num(struct admin *a, long long v);

/* Run a statement; -1 (error set) on failure. */
int admin_exec(struct admin *a, struct db_result *res, const char *sql, size_t n,
               const char *const *params);
#define EXEC(a, res, sql, ...) admin_exec(a, res, sql, DB_ARGS(__VA_ARGS__))
/* The first column of the first row as a number: > 0 found, 0 none, -1 error. */
long long admin_id(struct admin *a, const char *sql, size_t n, const char *const *params);
#define ID(a, sql, ...) admin_id(a, sql, DB_ARGS(__VA_ARGS__))

/* core_log, as Modoboa's SQLHandler writes it (logger modoboa.admin): 0 or ADMIN_EDB. */
int admin_log(struct admin *a, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse helpers: 0 or an error code with the message set, naming what. */
int admin_parse_uint(struct admin *a, const char *what, const char *s, long long *v);
int admin_parse_bool(struct admin *a, const char *what, const char *s, bool *v);
/* UPDATE table SET column = <the boolean text> WHERE id = id: 0, EINVAL naming what, or EDB. */
int admin_set_bool(struct admin *a, const char *table, const char *column, const char *what,
                   const char *text, long long id);
/* "" or "none" -> NULL (no limit), else the number as text in *out. */
int admin_parse_limit(struct admin *a, const char *what, const char *s, const char **out);

/* Queue an admin_mailboxoperation (if [admin] handle_mailboxes). mailbox_id NULL for deletes. */
int admin_queue_op(struct admin *a, const char *type, const char *path, const char *mailbox_id);

/* Access rights as Modoboa keeps them (core_objectaccess, django_content_type). */
long long admin_content_type(struct admin *a, const char *app, const char *model);
/* The administrators of a domain get access to a new object in it. */
int admin_grant_domain_admins(struct admin *a, long long domain_id, const char *app,
                              const char *model, long long object_id);
/* A new administrator of a domain gets access to its mailboxes, accounts and aliases. */
int admin_grant_existing(struct admin *a, long long user_id, long long domain_id);
/* Remove every access right to an object being deleted. */
int admin_revoke_object(struct admin *a, const char *app, const char *model, const char *object_id);

/* Modoboa's per-domain object limits (limits_domainobjectlimit: mailboxes, mailbox_aliases,
 * domain_aliases): may one more be created? 0, EINVAL naming `what`, or EDB. */
int admin_check_domain_limit(struct admin *a, long long domain_id, const char *limit_name,
                             const char *what);
/* Remove a mailbox and what hangs on it (invariant 6); the account stays. */
int admin_mailbox_delete(struct admin *a, const char *mailbox_id, bool keep_dir);
/* Remove an account (its mailbox first). */
int admin_user_delete(struct admin *a, const char *user_id, bool keep_dir);
/* Remove an alias by id, its recipients and the recipients that point at it. */
int admin_alias_delete_id(struct admin *a, const char *alias_id);

/* ---- shared by admin_account.c and admin_alias.c ---- */
struct addr;

/* room for a folded address, or "@" and a domain */
#define FULL_SIZE (sizeof(((struct addr *)0)->full) + 1)

struct mailbox_row {
    long long id, user_id, domain_id, quota;
    char *local, *domain;
};

#define MAILBOX_SELECT                                                                             \
    "SELECT m.id, m.user_id, m.domain_id, m.quota, m.address, d.name"                              \
    " FROM admin_mailbox m JOIN admin_domain d ON d.id = m.domain_id "

struct user_row {
    long long id;
    bool superuser, active;
    char *username;
};

/* Parse and fold an address typed by an admin; what names it in the error. */
int admin_parse_address(struct admin *a, const char *what, const char *in, struct addr *out);
void admin_mailbox_row_free(struct mailbox_row *m);
/* The mailbox an SQL (MAILBOX_SELECT ...$1) finds: 0, ENOENT (no message) or EDB. */
int admin_find_mailbox(struct admin *a, const char *sql, const char *arg, struct mailbox_row *m);
int admin_mailbox_by_address(struct admin *a, const char *full, struct mailbox_row *m);
int admin_mailbox_by_user(struct admin *a, const char *user_id, struct mailbox_row *m);
/* An account by login (folded): 0, ENOENT (with a message) or EDB; free u->username. */
int admin_find_user(struct admin *a, const char *username, struct user_row *u);
/* Invariant 9: the self alias of a mailbox follows its forward, if any. */
int admin_fix_forward(struct admin *a, const char *full);

#endif
