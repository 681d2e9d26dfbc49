/*
 * auth - Dovecot's passdb and userdb answers, by Modoboa's rules, for modo-dictd and
 * modo-checkpassword alike (one code path: the same data gives the same answer whichever
 * way Dovecot asks).
 *
 * The rules are those of the queries Modoboa's installer gives Dovecot
 * (dovecot-sql.conf.ext, Modoboa >= 2.2):
 *   passdb  an active account of an enabled domain that has a mailbox; a send-only mailbox
 *           cannot log in over imap or pop3 (it can over smtp/submission).
 *   userdb  any mailbox (active or not, enabled domain or not: LMTP still delivers to a
 *           disabled account); send-only mailboxes are refused for imap, pop3 and lmtp.
 *   master  an active account with master_user set (no mailbox needed).
 * Answers carry the fields those queries return: user, password with its {SCHEME} prefix
 * (never nopassword), home (from a template, Modoboa's /srv/vmail/%d/%n), uid, gid and
 * quota_rule=*:bytes=<quota>M (none when quota is 0, which is unlimited).
 *
 * Pure functions: no I/O.
 */
#ifndef MODO_AUTH_H
#define MODO_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "strbuf.h"

struct conf;

enum auth_kind { AUTH_PASSDB, AUTH_USERDB, AUTH_MASTER, AUTH__COUNT };

/* How an answer is written: Dovecot's dict passdb/userdb (format = json), or name=value
 * fields separated by TAB, each value \001-escaped as dict fields are (what
 * modo-checkpassword reads). */
enum auth_format { AUTH_JSON, AUTH_FIELDS };

struct auth_settings {
    char home[512]; /* template: %u user, %n local part, %d domain, %% */
    char uid[32];   /* numeric, "" for none */
    char gid[32];
};

/* A parsed key: shared/<kind>/[<service>/]<user> (json) or
 * shared/fields/<kind>/[<service>/]<user> (fields); kind is passdb, userdb or master. */
struct auth_key {
    enum auth_kind kind;
    enum auth_format format;
    char service[32]; /* "" when the key has none */
    char user[256];   /* lower-cased */
};

/*
 * Parse a dict key (after unescaping). Returns 1 if it is an auth key, 0 if it is not one
 * (another part of the dict), -1 if it is one but malformed (*error_r: why).
 */
int auth_parse_key(const char *key, struct auth_key *k, const char **error_r);

/* [admin] mail_root, mail_home and mail_user (its uid and gid, resolved now). -1 with
 * *error_r (malloc'd, naming the setting) when mail_user does not exist. */
int auth_settings_load(struct auth_settings *s, const struct conf *conf, char **error_r);

/* The store question behind a kind (PASSDB, USERDB, MASTER_PASSDB). */
enum store_question auth_question(enum auth_kind kind);

/* Is the service allowed for this mailbox under the kind's rule? */
bool auth_service_allowed(enum auth_kind kind, bool send_only, const char *service);

/*
 * The answer for key k from the store's answer to auth_question(k->kind): 1 with the value
 * appended to out, 0 if the user is unknown or refused (Dovecot: not found), -1 if the
 * store failed (temporary failure).
 */
int auth_answer(const struct auth_settings *s, const struct auth_key *k,
                const struct store_answer *ans, struct strbuf *out);

/* Expand the home template for user (full address). */
void auth_home(struct strbuf *out, const char *tmpl, const char *user);

/* A JSON string (quotes and escapes). */
void auth_json_string(struct strbuf *out, const char *s);

#endif
