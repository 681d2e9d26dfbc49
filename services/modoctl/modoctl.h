/*
 * modoctl - what the command files share.
 */
#ifndef MODOCTL_H
#define MODOCTL_H

#include <stddef.h>

struct conf;

#define EXIT_USAGE 2
#define EXIT_NOTFOUND 3
#define EXIT_TEMPFAIL 4

/* The password: given, else the first line of standard input (prompted on a terminal). */
int read_password(const char *given, char *buf, size_t size);

struct admin;
/* The database and the admin module for a command; NULL (said on stderr) if unreachable. */
struct admin *open_admin(const struct conf *conf);
/* After a committed command: the daily counters of the limits it changed (see modoctl.c). */
void apply_limit_changes(const struct conf *conf, struct admin *a);
void close_admin(struct admin **a);

/* domain, relaydomain, domainalias, account, alias, sender-address, passwd */
int objects_command(const struct conf *conf, int argc, char **argv);
/* import FILE..., export domains|identities */
int csv_command(const struct conf *conf, int argc, char **argv);

/* config postfix | dovecot [sql|master|dict] | opendkim */
int fragments_command(const struct conf *conf, int argc, char **argv);
/* The configuration file modoctl was given (-c), for fragments that name it. */
extern const char *modoctl_conf_path;
/* cleanup logs | inactive-accounts */
int cleanup_command(const struct conf *conf, int argc, char **argv);
/* db doctor [--json] */
int doctor_command(const struct conf *conf, int argc, char **argv);
/* stats [--domain D] [--period P] [--png FILE]: the traffic modo-logd records */
int traffic_command(const struct conf *conf, int argc, char **argv);
/* history [--sender S] [--rcpt R] ...: the message history */
int history_command(const struct conf *conf, int argc, char **argv);
/* mailbox-ops run */
int mailbox_ops_command(const struct conf *conf, int argc, char **argv);

#endif
