/*
 * logjournal - the mail log from the systemd journal; see logjournal.h.
 */
#include "logjournal.h"

#include "strbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

struct logjournal {
    sd_journal *j;
    char *cursor;       /* the last entry read; "" none */
    bool check_cursor;  /* opened at a cursor: the first entry may be that one */
    bool cursor_lost;   /* ... and it was not: its entry is gone, or another journal's */
    size_t max_line;
    struct strbuf line;
    unsigned long long overlong;
};

static char *sd_error(const char *what, int r)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_printf(&sb, "%s: %s", what, strerror(-r));
    return strbuf_steal(&sb);
}

struct logjournal *logjournal_open(const char *dir, const char *cursor, size_t max_line,
                                   char **error_r)
{
    struct logjournal *lj = xcalloc(1, sizeof(*lj));
    int r;

    r = dir != NULL ? sd_journal_open_directory(&lj->j, dir, 0)
                    : sd_journal_open(&lj->j, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
        *error_r = sd_error(dir != NULL ? dir : "the journal", r);
        free(lj);
        return NULL;
    }
    if ((r = sd_journal_add_match(lj->j, "SYSLOG_FACILITY=2", 0)) < 0 ||
        (r = sd_journal_add_disjunction(lj->j)) < 0 ||
        (r = sd_journal_add_match(lj->j, "SYSLOG_IDENTIFIER=rspamd", 0)) < 0 ||
        /* a MESSAGE longer than the threshold comes cut to it: then it is overlong */
        (r = sd_journal_set_data_threshold(lj->j, max_line + sizeof("MESSAGE="))) < 0) {
        *error_r = sd_error("the journal's matches", r);
        sd_journal_close(lj->j);
        free(lj);
        return NULL;
    }
    /* inotify: sd_journal_process() then sees new journal files (rotation) */
    (void)sd_journal_get_fd(lj->j);
    if (cursor != NULL && cursor[0] != '\0') {
        if ((r = sd_journal_seek_cursor(lj->j, cursor)) < 0) {
            *error_r = sd_error("the stored journal cursor (delete its row in modo_logd_state to"
                            " read the journal from its oldest entry)", r);
            sd_journal_close(lj->j);
            free(lj);
            return NULL;
        }
        lj->check_cursor = true;
        lj->cursor = xstrdup(cursor);
    } else {
        (void)sd_journal_seek_head(lj->j);
        lj->cursor = xstrdup("");
    }
    lj->max_line = max_line;
    strbuf_init(&lj->line);
    return lj;
}

/* FIELD's value in the current entry; false if it has none */
static bool field(sd_journal *j, const char *name, const char **v, size_t *len)
{
    const void *d;
    size_t n, nl = strlen(name);

    if (sd_journal_get_data(j, name, &d, &n) < 0 || n <= nl || ((const char *)d)[nl] != '=')
        return false;
    *v = (const char *)d + nl + 1;
    *len = n - nl - 1;
    return true;
}

static long long number(const char *p, size_t len)
{
    long long v = 0;
    size_t i;

    if (len == 0 || len > 10)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* a header word: no spaces or control characters in it */
static void put_word(struct strbuf *sb, const char *p, size_t len)
{
    size_t at = sb->len, i;

    strbuf_append(sb, p, len);
    for (i = at; i < sb->len; i++)
        if ((unsigned char)sb->data[i] <= ' ' || sb->data[i] == 0x7f)
            sb->data[i] = '_';
}

void logjournal_format(struct strbuf *sb, unsigned long long realtime_usec, const char *host,
                       size_t host_len, const char *ident, size_t ident_len, long long pid,
                       const char *msg, size_t msg_len)
{
    time_t secs = (time_t)(realtime_usec / 1000000);
    struct tm tm;
    char stamp[64];
    size_t at, i;

    if (gmtime_r(&secs, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+00:00 ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(realtime_usec % 1000000));
    strbuf_puts(sb, stamp);
    if (host_len > 0)
        put_word(sb, host, host_len);
    else
        strbuf_puts(sb, "localhost");
    strbuf_putc(sb, ' ');
    if (ident_len > 0)
        put_word(sb, ident, ident_len);
    else
        strbuf_puts(sb, "unknown");
    if (pid >= 0)
        strbuf_printf(sb, "[%lld]", pid);
    strbuf_puts(sb, ": ");
    at = sb->len;
    strbuf_append(sb, msg, msg_len);
    for (i = at; i < sb->len; i++)
        if (sb->data[i] == '\n' || sb->data[i] == '\r' || sb->data[i] == '\0')
            sb->data[i] = ' ';
}

long logjournal_poll_some(struct logjournal *lj, logfollow_cb *cb, void *arg, long max)
{
    long delivered = 0, read = 0;
    int r = 0;

    (void)sd_journal_process(lj->j);
    while (delivered < max) {
        const char *msg, *host = "", *ident = "", *pid_s;
        size_t msg_len, host_len = 0, ident_len = 0, pid_len;
        uint64_t usec;
        long long pid = -1;

        r = sd_journal_next(lj->j);
        if (r < 0) {
            errno = -r;
            break;
        }
        if (r == 0)
            break;
        if (lj->check_cursor) {
            lj->check_cursor = false;
            if (sd_journal_test_cursor(lj->j, lj->cursor) > 0)
                continue; /* the last entry read before */
            lj->cursor_lost = true;
        }
        read++;
        if (!field(lj->j, "MESSAGE", &msg, &msg_len))
            continue;
        if (msg_len > lj->max_line) {
            lj->overlong++;
            continue;
        }
        if (sd_journal_get_realtime_usec(lj->j, &usec) < 0)
            continue;
        if (!field(lj->j, "_HOSTNAME", &host, &host_len))
            host_len = 0;
        if (!field(lj->j, "SYSLOG_IDENTIFIER", &ident, &ident_len) &&
            !field(lj->j, "_COMM", &ident, &ident_len))
            ident_len = 0;
        if (field(lj->j, "SYSLOG_PID", &pid_s, &pid_len) ||
            field(lj->j, "_PID", &pid_s, &pid_len))
            pid = number(pid_s, pid_len);
        strbuf_reset(&lj->line);
        logjournal_format(&lj->line, usec, host, host_len, ident, ident_len, pid, msg, msg_len);
        if (lj->line.len > lj->max_line) {
            lj->overlong++;
            continue;
        }
        cb(arg, lj->line.data, lj->line.len);
        delivered++;
    }
    if (read > 0) {
        char *c = NULL;
        if (sd_journal_get_cursor(lj->j, &c) >= 0) {
            free(lj->cursor);
            lj->cursor = c;
        }
    }
    if (r < 0)
        return -1;
    return delivered;
}

const char *logjournal_cursor(const struct logjournal *lj)
{
    return lj->cursor;
}

bool logjournal_cursor_lost(const struct logjournal *lj)
{
    return lj->cursor_lost;
}

unsigned long long logjournal_overlong(const struct logjournal *lj)
{
    return lj->overlong;
}

void logjournal_close(struct logjournal **lj)
{
    if (*lj == NULL)
        return;
    sd_journal_close((*lj)->j);
    free((*lj)->cursor);
    strbuf_free(&(*lj)->line);
    free(*lj);
    *lj = NULL;
}
