/*
 * Reading the journal: the line an entry becomes, the matches (mail facility and rspamd),
 * entries passed over, and the cursor across reopenings. Journal files are written with
 * systemd-journal-remote from export-format entries; without it only the lines are tested.
 */
#include "logjournal.h"
#include "strbuf.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote"

static struct strbuf got;

static void line(void *arg, const char *l, size_t len)
{
    (void)arg;
    strbuf_append(&got, l, len);
    strbuf_putc(&got, '|');
}

/* poll at most max entries: what they became, "" for none; *n the count */
static const char *poll(struct logjournal *lj, long max, long *n)
{
    strbuf_reset(&got);
    strbuf_puts(&got, "");
    *n = logjournal_poll_some(lj, line, NULL, max);
    return got.data;
}

static const char *fmt(unsigned long long usec, const char *host, const char *ident,
                       long long pid, const char *msg, size_t msg_len)
{
    strbuf_reset(&got);
    logjournal_format(&got, usec, host, strlen(host), ident, strlen(ident), pid, msg, msg_len);
    return got.data;
}

static void test_format(void)
{
    is_str(fmt(1764837213123456ULL, "mx", "postfix/smtpd", 123, "connect from x", 14),
           "2025-12-04T08:33:33.123456+00:00 mx postfix/smtpd[123]: connect from x",
           "an entry: RFC 3339 in UTC with microseconds, host, ident[pid]: message");
    is_str(fmt(1764837213000000ULL, "", "", -1, "x", 1),
           "2025-12-04T08:33:33.000000+00:00 localhost unknown: x",
           "no host, ident or pid");
    is_str(fmt(0, "m x", "post\tfix", 7, "a\nb\rc\0d", 7),
           "1970-01-01T00:00:00.000000+00:00 m_x post_fix[7]: a b c d",
           "spaces in header words, line ends and NULs in the message");
}

/* one export-format entry; a message with a line end goes in the binary form */
static void entry(FILE *f, unsigned long long usec, int facility, const char *ident,
                  const char *msg)
{
    static unsigned long long mono = 1000;

    fprintf(f, "__REALTIME_TIMESTAMP=%llu\n__MONOTONIC_TIMESTAMP=%llu\n"
               "_BOOT_ID=6f0b1a2c3d4e5f60718293a4b5c6d7e8\n_HOSTNAME=mx\n_PID=42\n",
            usec, mono++);
    if (facility >= 0)
        fprintf(f, "SYSLOG_FACILITY=%d\n", facility);
    fprintf(f, "SYSLOG_IDENTIFIER=%s\n", ident);
    if (msg != NULL && strchr(msg, '\n') != NULL) {
        unsigned long long n = strlen(msg);
        unsigned char le[8];
        for (int i = 0; i < 8; i++)
            le[i] = (unsigned char)(n >> (8 * i));
        fputs("MESSAGE\n", f);
        fwrite(le, 1, 8, f);
        fprintf(f, "%s\n", msg);
    } else if (msg != NULL) {
        fprintf(f, "MESSAGE=%s\n", msg);
    }
    fputc('\n', f);
}

static int write_journal(const char *dir, const char *name, const char *export_path)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), JOURNAL_REMOTE " -o %s/%s %s >/dev/null 2>&1", dir, name,
             export_path);
    return system(cmd);
}

static void test_journal(void)
{
    char dir[] = "/tmp/modo-logjournal.XXXXXX", exp[300], cursor[512], cmd[400];
    struct logjournal *lj;
    char *err = NULL;
    FILE *f;
    long n;

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(exp, sizeof(exp), "%s/e.export", dir);
    f = fopen(exp, "w");
    entry(f, 1796119200000001ULL, 2, "postfix/smtpd", "one");
    entry(f, 1796119200000002ULL, 3, "cron", "not mail");
    entry(f, 1796119200000003ULL, 3, "rspamd", "two (rspamd, a daemon)");
    entry(f, 1796119200000004ULL, 2, "postfix/qmgr", NULL);
    entry(f, 1796119200000005ULL, 2, "postfix/smtp", "three\nwith a line end");
    entry(f, 1796119200000006ULL, 2, "dovecot", "four 0123456789012345678901234567890123456789"
                                                "0123456789012345678901234567890123456789");
    entry(f, 1796119200000007ULL, -1, "kernel", "no facility");
    entry(f, 1796119200000008ULL, 2, "postfix/qmgr", "five");
    fclose(f);
    if (write_journal(dir, "system.journal", exp) != 0) {
        ok(0, "systemd-journal-remote wrote the journal");
        return;
    }

    lj = logjournal_open(dir, NULL, 100, &err);
    if (!ok(lj != NULL, "a journal directory opens")) {
        diag("%s", err);
        return;
    }
    is_str(logjournal_cursor(lj), "", "no cursor before the first entry");
    is_str(poll(lj, 2, &n),
           "2026-12-01T10:00:00.000001+00:00 mx postfix/smtpd[42]: one|"
           "2026-12-01T10:00:00.000003+00:00 mx rspamd[42]: two (rspamd, a daemon)|",
           "the mail facility's and rspamd's entries, _PID when there is no SYSLOG_PID");
    is_int(n, 2, "two entries at most");
    snprintf(cursor, sizeof(cursor), "%s", logjournal_cursor(lj));
    ok(strncmp(cursor, "s=", 2) == 0, "a cursor after them");
    logjournal_close(&lj);

    lj = logjournal_open(dir, cursor, 100, &err);
    is_str(poll(lj, 100, &n),
           "2026-12-01T10:00:00.000005+00:00 mx postfix/smtp[42]: three with a line end|"
           "2026-12-01T10:00:00.000008+00:00 mx postfix/qmgr[42]: five|",
           "... the entry without a MESSAGE passed over, the line end a space, the overlong"
           " one skipped");
    is_int(n, 2, "reopened at the cursor: the rest");
    is_int((long long)logjournal_overlong(lj), 1, "... and counted");
    snprintf(cursor, sizeof(cursor), "%s", logjournal_cursor(lj));
    is_int(logjournal_poll_some(lj, line, NULL, 100), 0, "at the end: nothing");

    /* entries appended while it is open, in a new file (journald's rotation) */
    f = fopen(exp, "w");
    entry(f, 1796119300000000ULL, 2, "postfix/smtpd", "six");
    fclose(f);
    write_journal(dir, "system@2.journal", exp);
    is_str(poll(lj, 100, &n), "2026-12-01T10:01:40.000000+00:00 mx postfix/smtpd[42]: six|",
           "a new journal file while open: its entry");
    logjournal_close(&lj);

    lj = logjournal_open(dir, cursor, 100, &err);
    is_str(poll(lj, 100, &n), "2026-12-01T10:01:40.000000+00:00 mx postfix/smtpd[42]: six|",
           "reopened at the cursor of five: six, nothing twice");
    ok(!logjournal_cursor_lost(lj), "... its cursor found");
    logjournal_close(&lj);

    lj = logjournal_open(dir,
                         "s=2055313a595342dcb51c4ffe741269c7;i=5;b=0123456789abcdef0123456789abcdef;"
                         "m=7d0;t=5e5c2f3bf5c0;x=b3ed033ac5d031c7",
                         100, &err);
    poll(lj, 100, &n);
    ok(lj != NULL && n > 0 && logjournal_cursor_lost(lj),
       "another journal's cursor: read from the nearest entry, and said");
    logjournal_close(&lj);

    lj = logjournal_open(dir, "not a cursor", 100, &err);
    if (!ok(lj == NULL && err != NULL && strstr(err, "cursor") != NULL,
            "a stored cursor that is not one: an error that says so"))
        diag("%s", err ? err : "(none)");
    free(err);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        diag("cannot remove %s", dir);
}

int main(void)
{
    test_format();
    if (access(JOURNAL_REMOTE, X_OK) == 0)
        test_journal();
    else
        diag("no " JOURNAL_REMOTE ": the journal itself is tested by logd-journal.test");
    strbuf_free(&got);
    return done_testing();
}
