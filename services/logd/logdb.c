/*
 * logdb - modo-logd's questions and writes; see logdb.h.
 */
#include "logdb.h"

#include "db.h"
#include "namemap.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct logdb {
    struct db *db;
};

static const char *const tables[] = {"modo_logd_state", "modo_maillog_reason",
                                     "modo_mailbox_traffic", "maillog_maillog"};

struct logdb *logdb_open(const struct conf *conf, char **error_r)
{
    struct logdb *ldb = xcalloc(1, sizeof(*ldb));
    struct strbuf sb = STRBUF_INIT;
    size_t i;

    if ((ldb->db = db_open_writer(conf, error_r)) == NULL) {
        free(ldb);
        return NULL;
    }
    /*
     * SQLite:
     *  - the history's indexes are written in queue id order, which is random: a page cache
     *    of 32 MiB keeps them off the disk (bounded, whatever the log's size);
     *  - a commit that a power loss takes back is read again from the checkpoint it holds:
     *    WAL's NORMAL durability loses nothing here, and saves an fsync per commit;
     *  - each insert inside the batch's transaction keeps a statement journal (the pages it
     *    changes, to undo it alone): in memory, not the 4 KiB writes to a temporary file that
     *    were nine in ten of modo-logd's system calls.
     */
    if (!db_is_pgsql(ldb->db))
        db_script(ldb->db, "PRAGMA cache_size = -32768; PRAGMA synchronous = NORMAL;"
                           " PRAGMA temp_store = MEMORY");
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        strbuf_reset(&sb);
        strbuf_printf(&sb, "SELECT 1 FROM %s WHERE 1 = 0", tables[i]);
        if (db_exec(ldb->db, NULL, sb.data, 0, NULL) < 0) {
            strbuf_reset(&sb);
            strbuf_printf(&sb, "the database has no table %s (%s): run modoctl db add-modo-objects",
                          tables[i], db_error(ldb->db));
            *error_r = strbuf_steal(&sb);
            logdb_close(&ldb);
            return NULL;
        }
    }
    strbuf_free(&sb);
    return ldb;
}

void logdb_close(struct logdb **lp)
{
    if (*lp == NULL)
        return;
    db_close(&(*lp)->db);
    free(*lp);
    *lp = NULL;
}

const char *logdb_error(const struct logdb *ldb)
{
    return db_error(ldb->db);
}

int logdb_domains(struct logdb *ldb, struct namemap *ids)
{
    struct db_result res;
    size_t i;

    if (db_exec(ldb->db, &res,
                "SELECT name, id FROM admin_domain"
                " UNION ALL SELECT name, target_id FROM admin_domainalias",
                0, NULL) < 0) {
        db_result_free(&res);
        return -1;
    }
    namemap_clear(ids);
    for (i = 0; i < res.nrows; i++) {
        const char *name = db_cell(&res, i, 0), *id = db_cell(&res, i, 1);
        char lower[256];
        size_t j;
        if (name == NULL || id == NULL || strlen(name) >= sizeof(lower))
            continue;
        for (j = 0; name[j]; j++)
            lower[j] = (char)tolower((unsigned char)name[j]);
        lower[j] = '\0';
        *(long long *)namemap_put(ids, lower) = atoll(id);
    }
    db_result_free(&res);
    return 0;
}

long long logdb_generation(struct logdb *ldb)
{
    struct db_result res;
    long long g = -1;

    if (db_exec(ldb->db, &res, "SELECT value FROM modo_generation WHERE id = 1", 0, NULL) == 0 &&
        db_cell(&res, 0, 0) != NULL)
        g = atoll(db_cell(&res, 0, 0));
    db_result_free(&res);
    return g;
}

static char *dup_cell(const struct db_result *res, size_t col)
{
    const char *c = db_cell(res, 0, col);

    return xstrdup(c ? c : "");
}

int logdb_load(struct logdb *ldb, const char *source, struct logdb_state *st)
{
    struct db_result res;
    int rc;

    memset(st, 0, sizeof(*st));
    if (db_exec(ldb->db, &res,
                "SELECT dev, ino, file_offset, head_len, head_hash, journal_cursor, queue_ids,"
                " pending FROM modo_logd_state WHERE source = $1",
                DB_ARGS(source)) < 0) {
        db_result_free(&res);
        return -1;
    }
    rc = res.nrows > 0;
    if (rc) {
        st->pos.dev = (dev_t)strtoull(db_cell(&res, 0, 0), NULL, 10);
        st->pos.ino = (ino_t)strtoull(db_cell(&res, 0, 1), NULL, 10);
        st->pos.offset = (off_t)strtoll(db_cell(&res, 0, 2), NULL, 10);
        st->pos.head_len = (unsigned)strtoul(db_cell(&res, 0, 3), NULL, 10);
        st->pos.head_hash = (unsigned)strtoul(db_cell(&res, 0, 4), NULL, 10);
        st->cursor = dup_cell(&res, 5);
        st->queue_ids = dup_cell(&res, 6);
        st->pending = dup_cell(&res, 7);
    }
    db_result_free(&res);
    return rc;
}

void logdb_state_free(struct logdb_state *st)
{
    free(st->cursor);
    free(st->queue_ids);
    free(st->pending);
    memset(st, 0, sizeof(*st));
}

/* ---- the batch ---- */

/* modo_mailbox_traffic's counters, in its column order */
enum { T_SENT, T_RECV, T_BOUNCED, T_REJECT, T_SIZE_SENT, T_SIZE_RECV, T__COUNT };

/* the mailbox's row of the day (local date) */
static long long *traffic(struct namemap *m, time_t when, const char *address)
{
    char key[300], day[16];
    struct tm tm;
    size_t i, n;

    localtime_r(&when, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    n = (size_t)snprintf(key, sizeof(key), "%s ", day);
    for (i = 0; address[i] && n + 1 < sizeof(key); i++)
        key[n++] = (char)tolower((unsigned char)address[i]);
    key[n] = '\0';
    return namemap_put(m, key);
}

static const char *domain_part(const char *a)
{
    const char *at = strrchr(a, '@');

    return at ? at + 1 : "";
}

/* Modoboa's counters per mailbox: the sender side of sent and bounced, the recipient side of
 * received, bounced and rejected (the same rules as the domains', so they add up to them) */
static void count_traffic(struct namemap *m, const struct logrec *r)
{
    const char *to = r->orig_rcpt && r->to_domain &&
                             strcasecmp(domain_part(r->orig_rcpt), r->to_domain) == 0
                         ? r->orig_rcpt
                         : r->rcpt;
    bool sent = strcmp(r->status, "sent") == 0 || strcmp(r->status, "received") == 0;
    bool bounced = strcmp(r->status, "bounced") == 0;

    if (r->from_domain != NULL && r->sender[0] != '\0' && (sent || bounced)) {
        long long *t = traffic(m, r->date, r->sender);
        t[T_SENT]++;
        t[T_SIZE_SENT] += r->size;
    }
    if (r->to_domain == NULL || to[0] == '\0')
        return;
    if (strcmp(r->status, "received") == 0) {
        long long *t = traffic(m, r->date, to);
        t[T_RECV]++;
        t[T_SIZE_RECV] += r->size;
    } else if (bounced) {
        traffic(m, r->date, to)[T_BOUNCED]++;
    } else if (strcmp(r->status, "rejected") == 0) {
        traffic(m, r->date, to)[T_REJECT]++;
    }
}

/* a delivered message's reply ("250 2.0.0 Ok: queued as ...") is not kept: the reasons
 * are of what did not go through, and where Dovecot put what it delivered when that was not
 * the INBOX (Sieve) */
static bool keeps_reason(const struct logrec *r)
{
    return r->reason != NULL && r->reason[0] != '\0' &&
           (r->noted || (strcmp(r->status, "sent") != 0 && strcmp(r->status, "received") != 0));
}

#define INSERT_COLUMNS                                                                             \
    "INSERT INTO maillog_maillog (queue_id, date, sender, rcpt, original_rcpt, size, status,"     \
    " from_domain_id, to_domain_id)"
/*
 * A row not already there (--once, or a first reading without checkpoint), found by its
 * queue id (index modo_maillog_queue_id); a reject's, whose queue id is NOQUEUE like every
 * reject's, by its date (Modoboa's index). An expression keeps a column's index out of
 * SQLite's choice ("+date": the second's every row otherwise; PostgreSQL chooses by its
 * statistics).
 */
#define DEDUP_MATCH(QID, DATE)                                                                     \
    QID " = $1 AND rcpt = $4 AND status = $7 AND coalesce(original_rcpt, '') = coalesce($5, '')" \
        " AND " DATE " = $2"
#define DEDUP_CONDITION(QID)                                                                       \
    " WHERE NOT EXISTS (SELECT 1 FROM maillog_maillog WHERE " DEDUP_MATCH(QID, "date")           \
    ") RETURNING id"
#define BY_DATE "(queue_id || '')"

static int insert_record(struct logdb *ldb, const struct logrec *r, const struct namemap *ids,
                         bool dedup, struct logdb_result *res, struct namemap *tr)
{
    char date[40], size[24], fid[24], tid[24], id[24];
    const long long *f = r->from_domain ? namemap_get(ids, r->from_domain) : NULL;
    const long long *t = r->to_domain ? namemap_get(ids, r->to_domain) : NULL;
    bool deferred = strcmp(r->status, "deferred") == 0, pg = db_is_pgsql(ldb->db),
         rejected = strcmp(r->queue_id, "NOQUEUE") == 0;
    const char *sql;
    struct db_result q;
    int rc;

    db_time(ldb->db, r->date, date, sizeof(date));
    id[0] = '\0';
    if (deferred) {
        /* one row per recipient, with its last attempt */
        if (db_exec(ldb->db, &q,
                    "SELECT id FROM maillog_maillog WHERE queue_id = $1 AND rcpt = $2"
                    " AND status = 'deferred' AND coalesce(original_rcpt, '') = $3",
                    DB_ARGS(r->queue_id, r->rcpt, r->orig_rcpt ? r->orig_rcpt : "")) < 0) {
            db_result_free(&q);
            return -1;
        }
        if (q.nrows > 0)
            snprintf(id, sizeof(id), "%s", db_cell(&q, 0, 0) ? db_cell(&q, 0, 0) : "0");
        db_result_free(&q);
        if (id[0] != '\0') {
            res->updated++;
            if (db_exec(ldb->db, NULL, "UPDATE maillog_maillog SET date = $1 WHERE id = $2",
                        DB_ARGS(date, id)) < 0 ||
                db_exec(ldb->db, NULL, "DELETE FROM modo_maillog_reason WHERE maillog_id = $1",
                        DB_ARGS(id)) < 0)
                return -1;
        }
    }
    if (id[0] == '\0') {
        snprintf(size, sizeof(size), "%lld", r->size > 0 ? r->size : 0);
        if (f)
            snprintf(fid, sizeof(fid), "%lld", *f);
        if (t)
            snprintf(tid, sizeof(tid), "%lld", *t);
        if (dedup && !deferred && !pg) {
            /* SQLite: looked up first (an INSERT ... SELECT reading its own table builds a
             * temporary table each time); the parameters in the INSERT's order */
            if (db_exec(ldb->db, &q,
                        rejected
                            ? "SELECT 1 FROM maillog_maillog WHERE " DEDUP_MATCH(BY_DATE, "date")
                            : "SELECT 1 FROM maillog_maillog WHERE " DEDUP_MATCH("queue_id", "+date"),
                        DB_ARGS(r->queue_id, date, r->sender, r->rcpt, r->orig_rcpt, size,
                                r->status)) < 0) {
                db_result_free(&q);
                return -1;
            }
            rc = (int)q.nrows;
            db_result_free(&q);
            if (rc > 0) {
                res->duplicates++;
                return 0;
            }
        }
        if (!pg) /* no RETURNING (SQLite gathers its rows in a table of their own): a reason
                  * takes the row's id from last_insert_rowid() */
            sql = INSERT_COLUMNS " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        else if (!dedup || deferred)
            sql = INSERT_COLUMNS " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        else if (rejected) /* one round trip; a SELECT list's parameters are text unless cast */
            sql = INSERT_COLUMNS " SELECT $1::varchar, $2::timestamptz, $3::varchar, $4::varchar,"
                                 " $5::varchar, $6::integer, $7::varchar, $8::integer,"
                                 " $9::integer" DEDUP_CONDITION(BY_DATE);
        else
            sql = INSERT_COLUMNS " SELECT $1::varchar, $2::timestamptz, $3::varchar, $4::varchar,"
                                 " $5::varchar, $6::integer, $7::varchar, $8::integer,"
                                 " $9::integer" DEDUP_CONDITION("queue_id");
        rc = db_exec(ldb->db, pg ? &q : NULL, sql,
                     DB_ARGS(r->queue_id, date, r->sender, r->rcpt, r->orig_rcpt, size, r->status,
                             f ? fid : NULL, t ? tid : NULL));
        if (rc < 0) {
            if (pg)
                db_result_free(&q);
            return -1;
        }
        if (pg) {
            if (q.nrows == 0 || db_cell(&q, 0, 0) == NULL) { /* already there */
                db_result_free(&q);
                res->duplicates++;
                return 0;
            }
            snprintf(id, sizeof(id), "%s", db_cell(&q, 0, 0));
            db_result_free(&q);
        }
        res->inserted++;
        count_traffic(tr, r);
    }
    if (keeps_reason(r) &&
        (id[0] != '\0'
             ? db_exec(ldb->db, NULL,
                       "INSERT INTO modo_maillog_reason (maillog_id, reason) VALUES ($1, $2)",
                       DB_ARGS(id, r->reason))
             : db_exec(ldb->db, NULL,
                       "INSERT INTO modo_maillog_reason (maillog_id, reason)"
                       " VALUES (last_insert_rowid(), $1)",
                       DB_ARGS(r->reason))) < 0)
        return -1;
    return 0;
}

struct traffic_ctx {
    struct logdb *ldb;
    int rc;
};

static void write_traffic(void *arg, const char *key, void *value)
{
    struct traffic_ctx *c = arg;
    const long long *v = value;
    char day[16], n[T__COUNT][24];
    const char *sp = strchr(key, ' ');
    int i;

    if (c->rc < 0 || sp == NULL || (size_t)(sp - key) >= sizeof(day))
        return;
    snprintf(day, sizeof(day), "%.*s", (int)(sp - key), key);
    for (i = 0; i < T__COUNT; i++)
        snprintf(n[i], sizeof(n[i]), "%lld", v[i]);
    if (db_exec(c->ldb->db, NULL,
                "INSERT INTO modo_mailbox_traffic (day, address, sent, recv, bounced, reject,"
                " size_sent, size_recv) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (day, address) DO UPDATE SET"
                " sent = modo_mailbox_traffic.sent + excluded.sent,"
                " recv = modo_mailbox_traffic.recv + excluded.recv,"
                " bounced = modo_mailbox_traffic.bounced + excluded.bounced,"
                " reject = modo_mailbox_traffic.reject + excluded.reject,"
                " size_sent = modo_mailbox_traffic.size_sent + excluded.size_sent,"
                " size_recv = modo_mailbox_traffic.size_recv + excluded.size_recv",
                DB_ARGS(day, sp + 1, n[0], n[1], n[2], n[3], n[4], n[5])) < 0)
        c->rc = -1;
}

static int save_state(struct logdb *ldb, const char *source, const struct logdb_state *st)
{
    char dev[24], ino[24], off[24], hl[24], hh[24], now[24];

    snprintf(dev, sizeof(dev), "%llu", (unsigned long long)st->pos.dev);
    snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st->pos.ino);
    snprintf(off, sizeof(off), "%lld", (long long)st->pos.offset);
    snprintf(hl, sizeof(hl), "%u", st->pos.head_len);
    snprintf(hh, sizeof(hh), "%u", st->pos.head_hash);
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    return db_exec(ldb->db, NULL,
                   "INSERT INTO modo_logd_state (source, dev, ino, file_offset, head_len, head_hash,"
                   " journal_cursor, queue_ids, pending, updated)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                   " ON CONFLICT (source) DO UPDATE SET dev = excluded.dev, ino = excluded.ino,"
                   " file_offset = excluded.file_offset, head_len = excluded.head_len,"
                   " head_hash = excluded.head_hash, journal_cursor = excluded.journal_cursor,"
                   " queue_ids = excluded.queue_ids, pending = excluded.pending,"
                   " updated = excluded.updated",
                   DB_ARGS(source, dev, ino, off, hl, hh, st->cursor ? st->cursor : "",
                           st->queue_ids ? st->queue_ids : "", st->pending ? st->pending : "",
                           now));
}

int logdb_commit(struct logdb *ldb, const char *source, const struct logdb_state *st,
                 const struct logrec *recs, size_t nrecs, const struct namemap *ids, bool dedup,
                 struct logdb_result *res)
{
    struct namemap *tr = namemap_new(T__COUNT * sizeof(long long));
    struct traffic_ctx c = {ldb, 0};
    struct logdb_result r = {0, 0, 0};
    size_t i;

    if (db_begin(ldb->db) < 0)
        goto fail;
    for (i = 0; i < nrecs; i++)
        if (insert_record(ldb, &recs[i], ids, dedup, &r, tr) < 0)
            goto fail;
    namemap_foreach(tr, write_traffic, &c);
    if (c.rc < 0 || (source != NULL && save_state(ldb, source, st) < 0) || db_commit(ldb->db) < 0)
        goto fail;
    namemap_free(&tr);
    if (res != NULL)
        *res = r;
    return 0;
fail:
    db_rollback(ldb->db);
    namemap_free(&tr);
    return -1;
}

long long logdb_prune(struct logdb *ldb, int days, int traffic_days)
{
    char limit[40], day[16];
    time_t now = time(NULL), t = now - (time_t)days * 86400;
    struct db_result res = {0, 0, NULL, 0};
    struct tm tm;
    long long n = 0;

    db_time(ldb->db, t, limit, sizeof(limit));
    t = now - (time_t)traffic_days * 86400;
    localtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    if (db_begin(ldb->db) < 0)
        return -1;
    if (db_exec(ldb->db, NULL,
                "DELETE FROM modo_maillog_reason WHERE maillog_id IN"
                " (SELECT id FROM maillog_maillog WHERE date < $1)",
                DB_ARGS(limit)) < 0 ||
        db_exec(ldb->db, &res, "DELETE FROM maillog_maillog WHERE date < $1", DB_ARGS(limit)) < 0)
        goto fail;
    n += res.affected;
    db_result_free(&res);
    if (db_exec(ldb->db, &res, "DELETE FROM modo_mailbox_traffic WHERE day < $1", DB_ARGS(day)) < 0)
        goto fail;
    n += res.affected;
    db_result_free(&res);
    if (db_commit(ldb->db) < 0)
        goto fail;
    return n;
fail:
    db_result_free(&res);
    db_rollback(ldb->db);
    return -1;
}
