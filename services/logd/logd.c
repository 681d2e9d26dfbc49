/*
 * modo-logd - mail traffic statistics and message history from Postfix's log, read
 * incrementally (spec modoboa.md §10; modo-logd(8)).
 *
 *   modo-logd [-c modo.conf] [-f]           follow [logd] source from its checkpoint
 *   modo-logd [-c modo.conf] --once [--totals] FILE...
 *                                           read the files (plain or gzip), in the order
 *                                           given, and exit: back-fills and tests (--totals:
 *                                           each domain's counters of what was read)
 *
 * Lines go through maillog_track (Modoboa's rules); counters are held per domain and minute
 * (tally) and written to the RRD files once their minute is over; history rows are committed
 * in batches, each with the checkpoint after its last line, the queue ids being followed and
 * the minutes not yet written (logdb): a restart goes on exactly where the last commit was.
 * While the database is down nothing more is read: the batch is committed when it is back.
 */
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "logdb.h"
#include "logfollow.h"
#include "logjournal.h"
#include "maillog_track.h"
#include "namemap.h"
#include "rrdout.h"
#include "strbuf.h"
#include "tally.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

struct settings {
    char *source, *rrd_rootdir;
    bool greylist, history;
    long long poll_ms, commit_ms, batch_lines, max_line, max_ids, ttl_s, traffic_days,
        history_days;
};

static struct {
    struct settings set;
    struct logdb *ldb;
    struct namemap *ids; /* hosted domain names -> domain id */
    long long generation;
    struct maillog_track *track;
    struct tally *tally;
    struct rrdout *rrd;
    struct logfollow *lf;   /* a file source */
    struct logjournal *lj;  /* the journal */
    struct logrec *recs;
    size_t nrecs, caprecs;
    time_t ref;          /* "now" for year-less timestamps */
    time_t last_line;    /* when a line was last read (wall clock) */
    time_t last_commit, last_prune, last_db_error, last_open_error;
    bool dirty;          /* read since the last commit */
    bool db_down;        /* the database failed: said once */
    bool held;           /* a commit failed: read nothing until it is made */
    bool started;
    bool first_pass;     /* no checkpoint at start: rows may be there already (a back-fill) */
    bool cursor_lost;    /* the journal's stored cursor was not found: said */
    struct event *tick;
    struct namemap *totals; /* --once --totals: domain -> counters of what was read */
    unsigned long long lines, records, rrd_written, rrd_skipped, rrd_errors;
} L;

static const struct conf *the_conf; /* --once; the daemon's is the frame's */

static const struct conf *current_conf(void)
{
    return the_conf != NULL ? the_conf : daemon_conf();
}

/* ---- settings ---- */

static void settings_free(struct settings *s)
{
    free(s->source);
    free(s->rrd_rootdir);
    memset(s, 0, sizeof(*s));
}

/* "journal" (the machine's), "journal:/dir" (journal files in a directory) */
static bool is_journal(const char *source)
{
    return strcmp(source, "journal") == 0 || strncmp(source, "journal:/", 9) == 0;
}

static int read_settings(const struct conf *conf, struct settings *s, char **error_r)
{
    struct strbuf sb = STRBUF_INIT;

    memset(s, 0, sizeof(*s));
    if (conf_int(conf, "logd", "workers") != 1) {
        strbuf_printf(&sb, "%s: [logd] workers: modo-logd is one process (the log is read in"
                           " order)", conf_origin(conf, "logd", "workers"));
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    if (conf_str(conf, "logd", "stats_listen")[0] != '\0') {
        strbuf_printf(&sb, "%s: [logd] stats_listen: modo-logd serves no counters (its progress"
                           " is in the table modo_logd_state)",
                      conf_origin(conf, "logd", "stats_listen"));
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    if (conf_str(conf, "logd", "source")[0] != '/' &&
        !is_journal(conf_str(conf, "logd", "source"))) {
        strbuf_printf(&sb, "%s: [logd] source: \"%s\" is neither an absolute path nor"
                           " journal or journal:DIRECTORY",
                      conf_origin(conf, "logd", "source"), conf_str(conf, "logd", "source"));
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    s->source = xstrdup(conf_str(conf, "logd", "source"));
    s->rrd_rootdir = xstrdup(conf_str(conf, "logd", "rrd_rootdir"));
    s->greylist = conf_bool(conf, "logd", "greylist");
    s->history = conf_bool(conf, "logd", "history");
    s->poll_ms = conf_ms(conf, "logd", "poll_interval");
    s->commit_ms = conf_ms(conf, "logd", "commit_interval");
    s->batch_lines = conf_int(conf, "logd", "batch_lines");
    s->max_line = conf_int(conf, "logd", "max_line");
    s->max_ids = conf_int(conf, "logd", "max_queue_ids");
    s->ttl_s = conf_ms(conf, "logd", "queue_id_ttl") / 1000;
    s->traffic_days = conf_int(conf, "logd", "mailbox_traffic_days");
    s->history_days = conf_int(conf, "admin", "message_history_maximum_age");
    return 0;
}

/* ---- what the tracker says ---- */

static bool hosted(void *arg, const char *domain)
{
    (void)arg;
    return namemap_get(L.ids, domain) != NULL;
}

static void count(void *arg, const char *domain, enum maillog_counter c, time_t t, long long v)
{
    (void)arg;
    if (c == MAILLOG_C_GREYLIST && !L.set.greylist)
        return;
    tally_add(L.tally, domain, t, c, v);
    if (L.totals != NULL)
        ((long long *)namemap_put(L.totals, domain))[c] += v;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* at most max bytes of s */
static char *cut(const char *s, size_t max)
{
    return xstrndup(s, strnlen(s, max));
}

static void record(void *arg, const struct maillog_record *r)
{
    struct logrec *x;

    (void)arg;
    L.records++;
    if (!L.set.history)
        return;
    if (L.nrecs == L.caprecs) {
        L.caprecs = L.caprecs ? L.caprecs * 2 : 256;
        L.recs = xrealloc(L.recs, L.caprecs * sizeof(*L.recs));
    }
    x = &L.recs[L.nrecs++];
    /* Modoboa's column widths: what does not fit is cut, never refused */
    x->queue_id = cut(r->queue_id, 50);
    x->sender = cut(r->sender, 254);
    x->rcpt = cut(r->rcpt, 254);
    x->orig_rcpt = r->orig_rcpt ? cut(r->orig_rcpt, 254) : NULL;
    x->date = r->date;
    x->size = r->size;
    x->status = r->status;
    x->from_domain = dup_or_null(r->from_domain);
    x->to_domain = dup_or_null(r->to_domain);
    x->noted = r->note != NULL;
    x->reason = xstrdup(r->note ? r->note : r->reason ? r->reason : "");
}

static void recs_clear(void)
{
    size_t i;

    for (i = 0; i < L.nrecs; i++) {
        struct logrec *x = &L.recs[i];
        free(x->queue_id);
        free(x->sender);
        free(x->rcpt);
        free(x->orig_rcpt);
        free(x->from_domain);
        free(x->to_domain);
        free(x->reason);
    }
    L.nrecs = 0;
}

static const struct maillog_track_ops track_ops = {hosted, count, record};

static void on_line(void *arg, const char *line, size_t len)
{
    (void)arg;
    L.lines++;
    maillog_track_line(L.track, line, len, L.ref);
    L.dirty = true;
}

/* ---- RRD ---- */

/* a domain's minutes, gathered in order and written with one librrd call */
static struct {
    char domain[256];
    time_t *minutes;
    long long (*v)[MAILLOG_C__COUNT];
    size_t n, cap;
} series;

static void series_flush(void)
{
    char *err = NULL;
    int rc;

    if (series.n == 0)
        return;
    rc = rrdout_write_series(L.rrd, series.domain, series.minutes,
                             (const long long(*)[MAILLOG_C__COUNT])series.v, series.n, &err);
    if (rc >= 0) {
        L.rrd_written += (unsigned long long)rc;
        L.rrd_skipped += series.n - (size_t)rc;
    } else {
        L.rrd_errors++;
        log_error("rrd: %s", err);
        free(err);
    }
    series.n = 0;
}

static void write_minute(void *arg, const char *domain, time_t minute,
                         const long long v[MAILLOG_C__COUNT])
{
    (void)arg;
    if (L.rrd == NULL)
        return;
    if (series.n > 0 && strcmp(series.domain, domain) != 0)
        series_flush();
    if (series.n == series.cap) {
        series.cap = series.cap ? series.cap * 2 : 64;
        series.minutes = xrealloc(series.minutes, series.cap * sizeof(*series.minutes));
        series.v = xrealloc(series.v, series.cap * sizeof(*series.v));
    }
    snprintf(series.domain, sizeof(series.domain), "%s", domain);
    series.minutes[series.n] = minute;
    memcpy(series.v[series.n], v, sizeof(series.v[0]));
    series.n++;
}

/*
 * The minutes that are over: those before the newest line's minute but one; when the log is
 * read to its end and its newest line is recent, those before the current minute but two
 * (syslog's delays); when nothing came for two minutes, all.
 */
static void write_closed(bool caught_up, bool all)
{
    struct maillog_track_stats ts;
    time_t now = time(NULL), before;

    maillog_track_stats(L.track, &ts);
    before = ts.newest - (ts.newest % 60) - 60;
    if (caught_up && now - ts.newest < 180 && now - (now % 60) - 120 > before)
        before = now - (now % 60) - 120;
    if (caught_up && now - L.last_line >= 120)
        all = true;
    /* what is taken leaves the stored state at the next commit */
    if (tally_take(L.tally, all ? TALLY_ALL : before, write_minute, NULL) > 0)
        L.dirty = true;
    series_flush();
}

/* ---- the database ---- */

/* A database failure: the first of an outage is logged, then one line every ten minutes. */
static void db_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void db_failed(const char *fmt, ...)
{
    time_t now = time(NULL);
    char why[1024];
    va_list ap;

    if (!L.db_down || now - L.last_db_error >= 600) {
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        log_error("database: %s (nothing more is read until it answers; what was read is held)",
                  why);
        L.last_db_error = now;
    }
    L.db_down = true;
    logdb_close(&L.ldb); /* a new connection at the next try */
}

static bool db_ready(void)
{
    char *err = NULL;
    long long g;

    if (L.ldb == NULL && (L.ldb = logdb_open(current_conf(), &err)) == NULL) {
        db_failed("%s", err);
        free(err);
        return false;
    }
    g = logdb_generation(L.ldb);
    if (g < 0 || g != L.generation || namemap_count(L.ids) == 0) {
        if (logdb_domains(L.ldb, L.ids) < 0) {
            db_failed("cannot read the domains: %s", logdb_error(L.ldb));
            return false;
        }
        L.generation = g;
    }
    return true;
}

static int commit(const char *source)
{
    struct logdb_state st;
    struct strbuf ids = STRBUF_INIT, pending = STRBUF_INIT;
    struct logdb_result res;
    int rc;

    memset(&st, 0, sizeof(st));
    if (source != NULL) {
        if (L.lf != NULL)
            logfollow_pos(L.lf, &st.pos);
        else
            st.cursor = (char *)logjournal_cursor(L.lj);
        maillog_track_save(L.track, &ids);
        tally_save(L.tally, &pending);
        st.queue_ids = ids.data ? ids.data : "";
        st.pending = pending.data ? pending.data : "";
    }
    rc = logdb_commit(L.ldb, source, &st, L.recs, L.nrecs, L.ids, source == NULL || L.first_pass,
                      &res);
    strbuf_free(&ids);
    strbuf_free(&pending);
    if (rc < 0) {
        db_failed("cannot commit %zu history rows and the checkpoint: %s", L.nrecs,
                  logdb_error(L.ldb));
        L.held = true;
        return -1;
    }
    if (L.db_down)
        log_info("database: back; %zu history rows committed with the checkpoint", L.nrecs);
    L.db_down = L.held = false;
    log_debug("committed %lld rows (%lld already there, %lld updated)", res.inserted,
              res.duplicates, res.updated);
    recs_clear();
    L.dirty = false;
    L.last_commit = time(NULL);
    return 0;
}

/* ---- following the log ---- */

static void start_engine(void)
{
    L.ids = namemap_new(sizeof(long long));
    L.track = maillog_track_new(&track_ops, NULL, (size_t)L.set.max_ids, (long)L.set.ttl_s,
                                L.set.greylist);
    L.tally = tally_new();
    L.rrd = L.set.rrd_rootdir[0] ? rrdout_new(L.set.rrd_rootdir, L.set.greylist) : NULL;
}

static void stop_engine(void)
{
    recs_clear();
    free(L.recs);
    L.recs = NULL;
    L.caprecs = 0;
    maillog_track_free(&L.track);
    tally_free(&L.tally);
    rrdout_free(&L.rrd);
    free(series.minutes);
    free(series.v);
    memset(&series, 0, sizeof(series));
    namemap_free(&L.ids);
    logfollow_close(&L.lf);
    logjournal_close(&L.lj);
    logdb_close(&L.ldb);
}

static bool source_open(void)
{
    return L.lf != NULL || L.lj != NULL;
}

/* The checkpoint and what was held with it; then the file (or the journal) from there. */
static bool open_source(void)
{
    char *err = NULL;
    struct logdb_state st;
    int found = logdb_load(L.ldb, L.set.source, &st);

    if (found < 0) {
        log_error("database: cannot read the checkpoint: %s", logdb_error(L.ldb));
        logdb_close(&L.ldb);
        return false;
    }
    if (found && !L.started) {
        if (maillog_track_load(L.track, st.queue_ids, strlen(st.queue_ids)) < 0 ||
            tally_load(L.tally, st.pending, strlen(st.pending)) < 0)
            log_error("%s: the stored state is not modo-logd's: the queue ids and minutes held"
                      " are dropped", L.set.source);
    }
    L.started = true;
    if (is_journal(L.set.source)) {
        const char *dir = L.set.source[7] == ':' ? L.set.source + 8 : NULL;
        L.lj = logjournal_open(dir, found ? st.cursor : NULL, (size_t)L.set.max_line, &err);
    } else if ((L.lf = logfollow_open(L.set.source, found ? &st.pos : NULL,
                                      (size_t)L.set.max_line)) == NULL) {
        err = xstrdup(strerror(errno));
    }
    if (!source_open()) {
        time_t now = time(NULL);
        if (now - L.last_open_error >= 60) {
            log_error("%s: %s (waiting for it)", L.set.source, err);
            L.last_open_error = now;
        }
        free(err);
    } else if (found) {
        struct maillog_track_stats ts;
        maillog_track_stats(L.track, &ts);
        if (L.lf != NULL)
            log_info("%s: from offset %lld (%llu queue ids and %zu minutes held)", L.set.source,
                     (long long)st.pos.offset, ts.queue_ids, tally_count(L.tally));
        else
            log_info("%s: after cursor %s (%llu queue ids and %zu minutes held)", L.set.source,
                     st.cursor, ts.queue_ids, tally_count(L.tally));
    } else {
        log_info("%s: no checkpoint: from its start (rows already there are not written"
                 " again)", L.set.source);
        L.first_pass = true;
    }
    logdb_state_free(&st);
    return source_open();
}

static void schedule(long long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

    evtimer_add(L.tick, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    long n = 0;
    time_t now = time(NULL);
    bool caught_up = true;

    (void)fd;
    (void)what;
    (void)arg;
    if (!db_ready() || (!source_open() && !open_source())) {
        schedule(L.set.poll_ms);
        return;
    }
    if (L.held) { /* the held batch first, with the checkpoint it was read to */
        if (commit(L.set.source) < 0) {
            schedule(L.set.poll_ms);
            return;
        }
        write_closed(true, false);
    }
    L.ref = now;
    n = L.lf != NULL ? logfollow_poll_some(L.lf, on_line, NULL, (long)L.set.batch_lines)
                     : logjournal_poll_some(L.lj, on_line, NULL, (long)L.set.batch_lines);
    if (L.lj != NULL && logjournal_cursor_lost(L.lj) && !L.cursor_lost) {
        /* what was read may be read again: rows already there are not written twice */
        log_warning("%s: the entry of the stored cursor is not in the journal (vacuumed, or"
                    " the cursor is another journal's): from the entry nearest to it; rows"
                    " already there are not written again", L.set.source);
        L.cursor_lost = L.first_pass = true;
    }
    if (n < 0) {
        log_error("%s: %s", L.set.source, strerror(errno));
        n = 0;
    }
    if (n > 0)
        L.last_line = now;
    caught_up = n < L.set.batch_lines;
    if (caught_up && L.first_pass && !L.dirty)
        L.first_pass = false; /* everything there at start is committed */
    if (L.dirty && (!caught_up || (now - L.last_commit) * 1000 >= L.set.commit_ms)) {
        if (commit(L.set.source) < 0) {
            schedule(L.set.poll_ms);
            return;
        }
        write_closed(caught_up, false);
    } else if (!L.dirty && tally_count(L.tally) > 0 && caught_up) {
        /* a quiet log: the minutes that are over go out (the next commit says so) */
        write_closed(true, false);
    }
    if (now - L.last_prune >= 86400 && L.set.history) {
        long long gone = logdb_prune(L.ldb, (int)L.set.history_days, (int)L.set.traffic_days);
        if (gone < 0)
            log_error("database: pruning the history: %s", logdb_error(L.ldb));
        else if (gone > 0)
            log_info("pruned %lld history and traffic rows (older than %lld and %lld days)", gone,
                     L.set.history_days, L.set.traffic_days);
        L.last_prune = now;
    }
    schedule(caught_up ? L.set.poll_ms : 0);
}

/* ---- the daemon ---- */

static int logd_configure(const struct conf *conf, char **error_r)
{
    struct settings s;

    if (read_settings(conf, &s, error_r) < 0)
        return -1;
    if (L.set.source != NULL &&
        (strcmp(L.set.source, s.source) != 0 || strcmp(L.set.rrd_rootdir, s.rrd_rootdir) != 0 ||
         L.set.greylist != s.greylist || L.set.max_ids != s.max_ids)) {
        log_warning("[logd] source, rrd_rootdir, greylist and max_queue_ids change at a"
                    " restart: kept as they were");
        free(s.source);
        free(s.rrd_rootdir);
        s.source = xstrdup(L.set.source);
        s.rrd_rootdir = xstrdup(L.set.rrd_rootdir);
        s.greylist = L.set.greylist;
        s.max_ids = L.set.max_ids;
    }
    settings_free(&L.set);
    L.set = s;
    return 0;
}

static int logd_start(struct event_base *base)
{
    start_engine();
    L.last_commit = L.last_line = time(NULL);
    L.tick = evtimer_new(base, on_tick, NULL);
    schedule(0);
    return 0;
}

static void logd_drain(void)
{
    /* what was read since the last commit, with its checkpoint */
    if (source_open() && L.dirty && L.ldb != NULL && commit(L.set.source) == 0)
        write_closed(true, false);
}

static void logd_stop(void)
{
    if (L.tick != NULL)
        event_free(L.tick);
    L.tick = NULL;
    stop_engine();
    settings_free(&L.set);
}

static const struct daemon_ops logd_ops = {
    .program = "modo-logd",
    .section = "logd",
    .summary = "mail traffic statistics and message history from Postfix's log",
    .proto = NULL,
    .configure = logd_configure,
    .start = logd_start,
    .drain = logd_drain,
    .stop = logd_stop,
};

/* ---- --once ---- */

struct once_stats {
    unsigned long long overlong;
};

/* Every line of one file (gzip or plain); -1 if it cannot be read. */
static int read_file(const char *path, struct once_stats *os)
{
    gzFile gz;
    struct stat st;
    size_t cap = (size_t)L.set.max_line + 1 > 1 << 20 ? (size_t)L.set.max_line + 1 : 1 << 20;
    char *buf = xmalloc(cap);
    size_t have = 0;
    bool skipping = false;
    int n;

    if (stat(path, &st) < 0 || (gz = gzopen(path, "rb")) == NULL) {
        fprintf(stderr, "modo-logd: %s: %s\n", path, strerror(errno ? errno : ENOMEM));
        free(buf);
        return -1;
    }
    gzbuffer(gz, 1 << 17);
    L.ref = st.st_mtime; /* year-less times: the year that puts them before the file's end */
    while ((n = gzread(gz, buf + have, (unsigned)(cap - have))) > 0) {
        char *p = buf, *end = buf + have + (size_t)n, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (skipping)
                skipping = false;
            else if ((size_t)(nl - p) > (size_t)L.set.max_line)
                os->overlong++;
            else
                on_line(NULL, p, (size_t)(nl - p));
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have == cap || (skipping && have > 0)) { /* a line longer than the buffer */
            if (!skipping)
                os->overlong++;
            skipping = true;
            have = 0;
        } else {
            memmove(buf, p, have);
        }
        if (L.nrecs >= (size_t)L.set.batch_lines) {
            if (commit(NULL) < 0)
                break;
            write_closed(false, false); /* memory stays bounded whatever the file's size */
        } else if (tally_count(L.tally) > 100000) {
            write_closed(false, false);
        }
    }
    if (n < 0) {
        int e;
        fprintf(stderr, "modo-logd: %s: %s\n", path, gzerror(gz, &e));
    }
    if (have > 0 && !skipping && n == 0) /* the last line without its newline */
        on_line(NULL, buf, have);
    gzclose(gz);
    free(buf);
    return n < 0 || L.held ? -1 : 0;
}

struct total_row {
    const char *domain;
    const long long *v;
};

static void collect_total(void *arg, const char *name, void *value)
{
    struct total_row **p = arg;

    (*p)->domain = name;
    (*p)->v = value;
    (*p)++;
}

static int by_domain(const void *a, const void *b)
{
    return strcmp(((const struct total_row *)a)->domain, ((const struct total_row *)b)->domain);
}

/* --totals: one line per domain, "DOMAIN sent=N recv=N ..." (sorted) */
static void print_totals(void)
{
    size_t n = namemap_count(L.totals), i;
    struct total_row *rows = xcalloc(n + 1, sizeof(*rows)), *p = rows;
    int c;

    namemap_foreach(L.totals, collect_total, &p);
    qsort(rows, n, sizeof(*rows), by_domain);
    for (i = 0; i < n; i++) {
        printf("%s", rows[i].domain);
        for (c = 0; c < MAILLOG_C__COUNT; c++)
            if (c != MAILLOG_C_GREYLIST || L.set.greylist)
                printf(" %s=%lld", maillog_counter_names[c], rows[i].v[c]);
        printf("\n");
    }
    free(rows);
}

static int run_once(const char *path, int nfiles, char **files, bool totals)
{
    struct maillog_track_stats ts;
    struct once_stats os = {0};
    struct timespec t0, t1;
    char *err = NULL;
    int i, rc = 0;
    double secs;

    the_conf = conf_load(path, &err);
    if (the_conf == NULL) {
        fprintf(stderr, "modo-logd: %s\n", err);
        free(err);
        return 1;
    }
    log_open("modo-logd", LOG_TARGET_STDERR);
    if (read_settings(the_conf, &L.set, &err) < 0) {
        fprintf(stderr, "modo-logd: %s\n", err);
        free(err);
        conf_free((struct conf **)&the_conf);
        return 1;
    }
    start_engine();
    if (totals)
        L.totals = namemap_new(MAILLOG_C__COUNT * sizeof(long long));
    if (!db_ready()) {
        namemap_free(&L.totals);
        stop_engine();
        settings_free(&L.set);
        conf_free((struct conf **)&the_conf);
        return 4;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < nfiles && rc == 0; i++)
        if (read_file(files[i], &os) < 0)
            rc = 1;
    if (rc == 0 && commit(NULL) < 0)
        rc = 4;
    if (rc == 0)
        write_closed(true, true);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    maillog_track_stats(L.track, &ts);
    printf("modo-logd: %llu lines (%llu malformed, %llu overlong, %llu not mail), %llu history"
           " records, %llu RRD minutes written (%llu already there, %llu errors), %.2f s,"
           " %.0f lines/s\n",
           L.lines, ts.malformed, os.overlong, ts.ignored, L.records, L.rrd_written,
           L.rrd_skipped, L.rrd_errors, secs, secs > 0 ? (double)L.lines / secs : 0.0);
    if (L.rrd_errors > 0 && rc == 0)
        rc = 1;
    if (L.totals != NULL)
        print_totals();
    namemap_free(&L.totals);
    stop_engine();
    settings_free(&L.set);
    conf_free((struct conf **)&the_conf);
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf_path = MODO_SYSCONFDIR "/modo/modo.conf";
    bool totals = false;
    int i;

    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--once") == 0)
            break;
    if (i == argc)
        return daemon_main(argc, argv, &logd_ops);
    /* --once: [-c FILE] before it; [--totals] and the files after it */
    for (int j = 1; j < i; j++) {
        if (strcmp(argv[j], "-c") == 0 && j + 1 < i)
            conf_path = argv[++j];
        else {
            fprintf(stderr, "usage: modo-logd [-c modo.conf] --once [--totals] FILE...\n");
            return 2;
        }
    }
    if (i + 1 < argc && strcmp(argv[i + 1], "--totals") == 0) {
        totals = true;
        i++;
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: modo-logd [-c modo.conf] --once [--totals] FILE...\n");
        return 2;
    }
    return run_once(conf_path, argc - i - 1, argv + i + 1, totals);
}
