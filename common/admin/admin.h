/*
 * admin - the writes that keep Modoboa's invariants (spec modoboa.md §1.14).
 *
 * Every change an admin makes goes through here, so Postfix and Dovecot see
 * consistent data and Modoboa's web UI can keep using the database:
 *
 *  - a mailbox always has its internal self alias and its admin_quota row;
 *  - disabling an account disables the aliases it is the only recipient of;
 *  - renaming a mailbox or a domain rewrites aliases, recipients, logins and
 *    quota rows, and queues a mailbox operation (rename of the home);
 *  - deleting removes the rows the schema does not cascade, and queues the
 *    removal of the home directories;
 *  - domain quotas and limits are enforced;
 *  - every change is logged to core_log as Modoboa logs it.
 *
 * The caller brackets a change with admin_begin() and admin_commit() (or
 * admin_rollback()): one command, or one whole CSV import, is one
 * transaction. Fields are given as text, as typed by an admin or read from
 * CSV; NULL means "leave unchanged" (mod) or "the default" (add).
 *
 * Errors: every function returns 0 or an ADMIN_E* code with a message that
 * names the object and the reason (admin_error()).
 */
#ifndef MODO_ADMIN_H
#define MODO_ADMIN_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct conf;
struct db;
struct admin;

enum admin_status {
    ADMIN_OK = 0,
    ADMIN_EINVAL = 1,   /* refused: bad value or a rule */
    ADMIN_ENOENT = 3,   /* no such object */
    ADMIN_EDB = 4,      /* the database failed */
    ADMIN_EEXIST = 5,   /* the object exists already */
};

/*
 * The daily limits the last committed transaction changed (message_limit of a domain or a
 * mailbox): Modoboa's post_save adjusts the Redis counter of each by new - old (by new
 * when there was none; deletes it when there is none now), and so must whoever changes a
 * limit. -1 stands for no limit.
 */
struct admin_limit {
    char *name; /* domain name or mailbox address: the counter's field */
    long long old_limit, new_limit;
};
const struct admin_limit *admin_limit_changes(const struct admin *a, size_t *n);

struct admin *admin_new(struct db *db, const struct conf *conf);
void admin_free(struct admin **a);
const char *admin_error(const struct admin *a);
/* Set the error message (for callers that check rules of their own); returns code. */
int admin_fail(struct admin *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct db *admin_db(struct admin *a);

int admin_begin(struct admin *a);
int admin_commit(struct admin *a);
void admin_rollback(struct admin *a);
/* End the transaction: commit when rc is 0 (returns the commit's status), else roll back
 * and return rc. */
int admin_end(struct admin *a, int rc);

/* ---- domains ---- */
struct admin_domain {
    const char *name;
    const char *new_name;              /* mod: rename */
    const char *quota;                 /* MB, 0 = unlimited */
    const char *default_mailbox_quota; /* MB */
    const char *enabled;               /* boolean text */
    const char *message_limit;         /* daily messages, "" or "none" = no limit */
    const char *enable_dns_checks;
    const char *enable_dkim;
    const char *dkim_selector;
    const char *dkim_key_length;       /* 1024|2048|4096, "" = the default */
    /* relay domains */
    const char *relay_host;
    const char *relay_port;
    const char *relay_verify;          /* boolean text */
    bool keep_dirs;                    /* del: keep the mail directories */
};

int admin_domain_add(struct admin *a, const struct admin_domain *d);
int admin_domain_mod(struct admin *a, const struct admin_domain *d);
int admin_domain_del(struct admin *a, const struct admin_domain *d);
int admin_relaydomain_add(struct admin *a, const struct admin_domain *d);
int admin_relaydomain_mod(struct admin *a, const struct admin_domain *d);

int admin_domainalias_add(struct admin *a, const char *name, const char *target,
                          const char *enabled);
int admin_domainalias_mod(struct admin *a, const char *name, const char *target,
                          const char *enabled);
int admin_domainalias_del(struct admin *a, const char *name);

/* ---- accounts ---- */
struct admin_account {
    const char *username;
    const char *new_username;  /* mod: rename (and the mailbox with it) */
    const char *password_hash; /* {SCHEME}hash, stored as given */
    const char *first_name, *last_name;
    const char *enabled;
    const char *role;          /* SimpleUsers | DomainAdmins | Resellers | SuperAdmins */
    const char *email;         /* the mailbox address; SimpleUsers: = username */
    const char *quota;         /* MB; "" or "0" with a domain quota = the domain default */
    const char *message_limit;
    const char *send_only;
    const char *master_user;
    const char *const *admin_domains; /* DomainAdmins: NULL-terminated */
    bool no_mailbox;                  /* mod: remove the mailbox (account kept) */
    bool enable_aliases;              /* mod: re-enable the aliases disabling turned off */
    bool keep_dir;                    /* del: keep the mail directory */
};

int admin_account_add(struct admin *a, const struct admin_account *acc);
int admin_account_mod(struct admin *a, const struct admin_account *acc);
int admin_account_del(struct admin *a, const struct admin_account *acc);

/* ---- aliases (aliases, distribution lists, catch-alls, forwards) ---- */
struct admin_alias {
    const char *address;
    const char *enabled;
    const char *description;
    const char *expire_at;        /* "YYYY-MM-DD[ HH:MM[:SS]]" UTC, "" = never */
    const char *const *recipients; /* NULL-terminated; add: all, mod: replaces the list */
    const char *const *add;        /* mod: recipients to add */
    const char *const *remove;     /* mod: recipients to remove */
    bool merge;                    /* add: an existing alias gets the recipients added */
};

int admin_alias_add(struct admin *a, const struct admin_alias *al);
int admin_alias_mod(struct admin *a, const struct admin_alias *al);
int admin_alias_del(struct admin *a, const char *address);

int admin_sender_address_add(struct admin *a, const char *account, const char *address);
int admin_sender_address_del(struct admin *a, const char *account, const char *address);

/* ---- mailbox operations ---- */
struct db_result;
/* Pending operations in table order: id, type, argument, mailbox_id, local part, domain, domain id. */
int admin_ops_pending(struct admin *a, struct db_result *r);
/* Log an operation's outcome (core_log, level INFO closes its alarm); drop: delete the row. */
int admin_op_finish(struct admin *a, const char *op_id, bool drop, const char *level,
                    const char *message);
/* Open (or update) the admin_alarm of a failed operation. */
int admin_op_alarm(struct admin *a, const char *op_id, const char *mailbox_id,
                   const char *domain_id, const char *title);
/* cleanup logs: core_log and message history older than [admin] *_maximum_age days. */
int admin_cleanup_logs(struct admin *a, long long *logs, long long *history);
/* Active, non-superuser accounts whose last login is older than inactive_account_threshold
 * days: username, last_login. */
int admin_inactive_accounts(struct admin *a, struct db_result *r);
/* db upgrade: add the columns later Modoboa versions added, saying each on out. */
int admin_upgrade_columns(struct admin *a, FILE *out);
/* The home of a mailbox as Dovecot is configured (malloc'd). */
char *admin_mail_home(struct admin *a, const char *local, const char *domain);

/* ---- DKIM keys (modo-dkim) ---- */
/* The key directory and default RSA bits: modo.conf's [dkim] when set there, else Modoboa's
 * core_localconfig values, else modo.conf's defaults. */
int admin_dkim_settings(struct admin *a, char *dir, size_t size, int *bits);
/* id, name, enable_dkim, dkim_key_selector, dkim_key_length, dkim_private_key_path,
 * dkim_public_key: of the domain named (any DKIM state), or of every domain with DKIM on. */
int admin_dkim_domains(struct admin *a, const char *name, struct db_result *r);
/* Store a key as Modoboa does (selector NULL: unchanged). */
int admin_dkim_set_key(struct admin *a, const char *domain_id, const char *selector,
                       const char *path, const char *public_key);
/* modo's keys beyond Modoboa's (Ed25519): domain_id, algorithm, selector, path, public key. */
int admin_dkim_extra_keys(struct admin *a, const char *domain_id, struct db_result *r);
int admin_dkim_put_extra(struct admin *a, const char *domain_id, const char *algorithm,
                         const char *selector, const char *path, const char *public_key,
                         long long created);
/* Key rotations (modo_dkim_rotation); times in seconds since the epoch. */
struct admin_dkim_rotation {
    const char *domain_id, *state;
    const char *new_selector, *new_key_path, *new_public_key;
    const char *old_selector, *old_key_path, *old_public_key;
    long long started, since, wait_until;
    const char *note;
};
/* domain_id, name, state, new_selector, new_key_path, new_public_key, old_selector,
 * old_key_path, old_public_key, started, since, wait_until, note: one domain's, or all. */
int admin_dkim_rotations(struct admin *a, const char *domain_id, struct db_result *r);
int admin_dkim_rotation_put(struct admin *a, const struct admin_dkim_rotation *rot);
int admin_dkim_rotation_del(struct admin *a, const char *domain_id);

/* ---- DNS check results (modo-dnscheck) ---- */
/* id, name, enable_dkim, dkim_key_selector, dkim_public_key, dkim_private_key_path: the
 * domain named, or those with DNS checks on (all: every domain). */
int admin_dns_domains(struct admin *a, const char *name, bool all, struct db_result *r);
/* [dnscheck] valid_mxs when set in modo.conf, else Modoboa's valid_mxs. */
int admin_dns_valid_mxs(struct admin *a, char *out, size_t size);
/* The DNSBL results kept: provider, MX address, status. */
int admin_dns_old_dnsbl(struct admin *a, const char *domain_id, struct db_result *r);
/* Forget a domain's MX, DNSBL and record rows before storing new ones. */
int admin_dns_reset(struct admin *a, const char *domain_id);
/* Store an admin_mxrecord row; its id, or -1. updated: db_time text. */
long long admin_dns_add_mx(struct admin *a, const char *domain_id, const char *name,
                           const char *address, bool managed, const char *updated);
int admin_dns_add_dnsbl(struct admin *a, const char *domain_id, const char *provider,
                        const char *status, long long mx_id);
int admin_dns_add_record(struct admin *a, const char *domain_id, const char *type,
                         const char *value, bool valid, const char *error, const char *updated);
/* admin_domain.last_dns_check_execution = now. */
int admin_dns_checked(struct admin *a, const char *domain_id);

/* ---- alarms (admin_alarm, as Modoboa opens and closes them) ---- */
/* Open the alarm internal_name of a domain (NULL: a global one): an open one keeps its
 * place, a closed one is reopened; *opened says whether it is new. */
int admin_alarm_open(struct admin *a, const char *domain_id, const char *internal_name,
                     const char *title, bool *opened);
/* Close it if open (*closed, which may be NULL, says whether one was). */
int admin_alarm_close(struct admin *a, const char *domain_id, const char *internal_name,
                      bool *closed);

/* ---- listings (text or JSON) ---- */
enum admin_format { ADMIN_TEXT, ADMIN_JSON };
int admin_list(struct admin *a, const char *what, const char *filter, enum admin_format f,
               FILE *out);
int admin_show(struct admin *a, const char *what, const char *name, enum admin_format f,
               FILE *out);
/* The message history modo-logd writes, newest first; NULL/0 fields do not filter. An
 * address with '*' is a pattern; rcpt matches the recipient or the original one. */
struct admin_history_query {
    const char *sender, *rcpt, *status, *queue_id, *domain;
    time_t since, until;
    long limit; /* 0: all */
};
int admin_history(struct admin *a, const struct admin_history_query *q, enum admin_format f,
                  FILE *out);

/* A boolean as Modoboa's CSV reads it: true, 1, yes, y (any case). */
bool admin_truthy(const char *s);
/* A boolean cell as the database gives it (PostgreSQL t/f, SQLite 1/0). */
bool admin_cell_true(const char *cell);

/* Columns later Modoboa versions added (db upgrade adds the missing ones). */
struct admin_column {
    const char *table, *column, *pg_type, *lite_type, *fill;
    const char *since; /* the Modoboa version */
};
size_t admin_added_columns(const struct admin_column **cols);

/*
 * db doctor: what modo needs of the database, what is missing or wrong. cb gets each
 * finding: severity "ok", "info", "warning" or "error", the check's name, the text and the
 * fix (NULL if none). Reads only (one transaction, rolled back). 0 if modo can run on it,
 * 1 if not (an error was found).
 */
typedef void admin_finding_cb(void *arg, const char *severity, const char *check,
                              const char *text, const char *fix);
int admin_doctor(struct admin *a, admin_finding_cb *cb, void *arg);

#endif
