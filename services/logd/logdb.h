/*
 * logdb - what modo-logd asks and writes in the database: the hosted domains, its
 * checkpoint, and each batch of message history committed with the checkpoint that follows
 * it (one transaction: nothing read twice, nothing lost). Blocking (db.h): modo-logd answers
 * nobody while it waits.
 */
#ifndef MODO_LOGDB_H
#define MODO_LOGDB_H

#include "logfollow.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct conf;
struct logdb;
struct namemap;

/* One message history row, as maillog_track gives it (strings owned by the batch). */
struct logrec {
    char *queue_id, *sender, *rcpt, *orig_rcpt; /* orig_rcpt NULL if none */
    time_t date;
    long long size;
    const char *status; /* static */
    char *from_domain, *to_domain; /* hosted names (NULL if not) */
    char *reason;
    bool noted; /* delivered, reason is Dovecot's note (maillog_record.note): kept */
};

struct logdb_state {
    struct logfollow_pos pos;
    char *cursor;    /* journald */
    char *queue_ids; /* maillog_track_save() */
    char *pending;   /* tally_save() */
};

struct logdb_result {
    long long inserted, duplicates, updated;
};

/* Connect ([database] write_url, else url) and check modo-logd's tables. */
struct logdb *logdb_open(const struct conf *conf, char **error_r);
void logdb_close(struct logdb **ldb);
const char *logdb_error(const struct logdb *ldb);

/* Every domain and domain alias name (lower case) -> the domain's id (long long). */
int logdb_domains(struct logdb *ldb, struct namemap *ids);
/* modo_generation (moves when domains change); -1 if it cannot be read. */
long long logdb_generation(struct logdb *ldb);

/* 1 found (st filled, malloc'd strings), 0 none, -1 error. */
int logdb_load(struct logdb *ldb, const char *source, struct logdb_state *st);
void logdb_state_free(struct logdb_state *st);

/*
 * In one transaction: the history rows (a deferred row is updated with its latest attempt;
 * with dedup, a row already there is not written again: --once, or a first reading without
 * a checkpoint), the reasons of those that did not go through, the mailboxes' daily traffic
 * of the rows inserted, and the source's state (source NULL: no state, --once). 0, or -1
 * (rolled back).
 */
int logdb_commit(struct logdb *ldb, const char *source, const struct logdb_state *st,
                 const struct logrec *recs, size_t nrecs, const struct namemap *ids, bool dedup,
                 struct logdb_result *res);

/* History rows older than days (and their reasons), mailbox traffic older than
 * traffic_days: how many rows went, or -1. */
long long logdb_prune(struct logdb *ldb, int days, int traffic_days);

#endif
