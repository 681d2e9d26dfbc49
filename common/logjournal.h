/*
 * logjournal - read the mail log from the systemd journal, entry by entry, from a cursor
 * that survives restarts: no entry read twice, none skipped (the journal's own rotation and
 * vacuuming are sd-journal's business).
 *
 *  - The entries read are the mail facility's (SYSLOG_FACILITY=2: Postfix, Dovecot, amavis)
 *    and rspamd's (SYSLOG_IDENTIFIER=rspamd, which logs as a daemon).
 *  - Each entry is given as a syslog line with an exact time, so that maillog reads it as it
 *    reads a file: "2026-12-04T08:33:33.123456+00:00 HOST IDENT[PID]: MESSAGE" (HOST is
 *    _HOSTNAME, IDENT SYSLOG_IDENTIFIER or _COMM, PID SYSLOG_PID or _PID; line ends and NULs
 *    in the message become spaces). An entry without a MESSAGE is passed over; one whose line
 *    would be longer than max_line is skipped and counted.
 *  - The cursor is that of the last entry read (passed over and skipped ones too); opened
 *    with it, reading goes on with the entry after it. Without one, from the oldest entry.
 */
#ifndef MODO_LOGJOURNAL_H
#define MODO_LOGJOURNAL_H

#include "logfollow.h"

#include <stdbool.h>
#include <stddef.h>

struct logjournal;

/* dir NULL: the local machine's journal; else the journal files in dir (a directory
 * systemd-journal-remote writes, a copy). cursor NULL or "": from the oldest entry. NULL
 * with *error_r (malloc'd) if the journal cannot be opened. */
struct logjournal *logjournal_open(const char *dir, const char *cursor, size_t max_line,
                                   char **error_r);
/* Deliver at most max new entries as lines; the number delivered, or -1 with errno. */
long logjournal_poll_some(struct logjournal *lj, logfollow_cb *cb, void *arg, long max);
/* The checkpoint to store: the cursor of the last entry read ("" if none yet). */
const char *logjournal_cursor(const struct logjournal *lj);
/* Opened at a cursor whose entry is not there (vacuumed, or the cursor is another
 * journal's): reading went on from the entry nearest to it, which may have been read. */
bool logjournal_cursor_lost(const struct logjournal *lj);
/* Entries skipped for being longer than max_line. */
unsigned long long logjournal_overlong(const struct logjournal *lj);
void logjournal_close(struct logjournal **lj);

/* The line for one entry (a pure function, for tests): appended to sb. */
struct strbuf;
void logjournal_format(struct strbuf *sb, unsigned long long realtime_usec, const char *host,
                       size_t host_len, const char *ident, size_t ident_len, long long pid,
                       const char *msg, size_t msg_len);

#endif
