/*
 * maillog - the mail log's lines, read without I/O (modo-logd's codec).
 *
 * A line is a syslog header and a message:
 *   RFC 3164   "Dec  4 02:25:21 host postfix/smtpd[123]: msg" (also with ".uuuuuu"
 *              after the seconds, as Postfix's own maillog_file writes it); month names
 *              are English whatever the locale; the year is not in the line;
 *   RFC 3339   "2026-12-04T02:25:21.123456+01:00 host postfix/smtpd[123]: msg" (rsyslog's
 *              file format, Debian 12's default; also "+0100", journalctl -o short-iso);
 *   epoch      "1764811521.123456 host postfix/smtpd[123]: msg" (journalctl -o short-unix).
 * The program may have three parts ("postfix/submission/smtpd") and an instance name
 * ("postfix-out/qmgr"); the pid is optional. maillog_parse() fills a struct whose strings
 * point into the line (not NUL-terminated: pointer and length).
 *
 * Postfix's messages (maillog_postfix) and amavis's (maillog_amavis) become events with
 * their fields.
 */
#ifndef MODO_MAILLOG_H
#define MODO_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MAILLOG_MAX_LINE 16384 /* longer lines are malformed (counted, skipped) */

struct maillog_span {
    const char *p;
    size_t len;
};

struct maillog_time {
    int year; /* 0 when the line has none (RFC 3164): see maillog_year() */
    int mon;  /* 0-11 */
    int mday, hour, min, sec, usec;
    bool has_offset; /* RFC 3339: the offset is known; else local time */
    int offset_min;
};

struct maillog_line {
    struct maillog_time time;
    struct maillog_span host;
    struct maillog_span program;  /* "postfix/submission/smtpd", "amavis", "dovecot" */
    struct maillog_span instance; /* "postfix", "postfix-out"; the first part */
    struct maillog_span service;  /* "smtpd": the last part ("" for a one-part name) */
    long pid;                     /* -1 when the line has none */
    struct maillog_span msg;
};

/* 0, or -1 when the line is not a syslog line this reads (too long, no header). */
int maillog_parse(const char *line, size_t len, struct maillog_line *out);

/*
 * The year of an RFC 3164 time: the one that puts it at most a day after ref (the time
 * the line was read at, or the file's modification time for a back-fill), so that
 * December lines read in January are last year's.
 */
int maillog_year(const struct maillog_time *t, time_t ref);
/* Seconds since the epoch: with the offset, or as local time (DST: the first of two). */
time_t maillog_epoch(const struct maillog_time *t, int year);

/* ---- Postfix ---- */

enum maillog_kind {
    MAILLOG_OTHER = 0,
    MAILLOG_REJECT,     /* NOQUEUE: reject: (smtpd, postscreen) or milter-reject (queue id) */
    MAILLOG_CLIENT,     /* <qid>: client=host[addr] (smtpd: a message begins) */
    MAILLOG_MESSAGE_ID, /* <qid>: message-id=<...> (cleanup) */
    MAILLOG_FROM,       /* <qid>: from=<s>, size=N, nrcpt=N (qmgr) */
    MAILLOG_DELIVERY,   /* <qid>: to=<r>, [orig_to=<o>,] relay=..., dsn=..., status=S (text) */
    MAILLOG_EXPIRED,    /* <qid>: from=<s>, status=expired, returned to sender */
    MAILLOG_REMOVED,    /* <qid>: removed (qmgr) */
    MAILLOG_FILTER,     /* a content filter's verdict (amavis) */
    MAILLOG_MAILBOX,    /* Dovecot delivered into a mailbox (LMTP, LDA; Sieve's actions) */
};

enum maillog_status { MAILLOG_NONE = 0, MAILLOG_SENT, MAILLOG_BOUNCED, MAILLOG_DEFERRED,
                      MAILLOG_EXPIRED_STATUS };

struct maillog_event {
    enum maillog_kind kind;
    struct maillog_span queue_id;
    struct maillog_span sender, rcpt, orig_rcpt; /* amavis: rcpt is "<a>,<b>" */
    struct maillog_span message_id;
    struct maillog_span relay, dsn, reason; /* reason: the text in parentheses / the reply */
    struct maillog_span queued_as; /* a content filter's re-injection: the new queue id */
    struct maillog_span client;    /* client=, or the rejected client */
    struct maillog_span sasl_username;
    struct maillog_span session; /* MAILLOG_MAILBOX: Dovecot's session id */
    enum maillog_status status;
    long long size;    /* -1 unknown */
    bool greylist;     /* a reject that is greylisting (450 from postscreen, "Greylisted") */
    bool spam, virus;  /* MAILLOG_FILTER; MAILLOG_REJECT by a milter that says spam/virus */
    bool sieve;        /* MAILLOG_MAILBOX: a Sieve action (reason: "fileinto action: ...") */
};

/* Is s a Postfix queue id (short hex or long format)? */
bool maillog_is_queue_id(const char *s, size_t len);

/*
 * The event of a Postfix line (l->instance starts with "postfix"): 0 with *ev filled
 * (MAILLOG_OTHER for lines that count for nothing), -1 when a line that should have
 * fields does not parse.
 */
int maillog_postfix(const struct maillog_line *l, struct maillog_event *ev);

/* amavis "(SPAM|INFECTED|CLEAN|...) ... <s> -> <r>,<r2>, Queue-ID: ..." */
int maillog_amavis(const struct maillog_line *l, struct maillog_event *ev);

/* rspamd's rspamd_task_write_log line (through syslog): spam (tagged), virus; rcpt is
 * "a@x,b@y" */
int maillog_rspamd(const struct maillog_line *l, struct maillog_event *ev);

/*
 * Dovecot's delivery lines (syslog ident "dovecot"): "lmtp(USER)<PID><SESSION>: [sieve: ]
 * msgid=<ID>: TEXT" (also lda(USER)); TEXT "saved mail to INBOX", "stored mail into mailbox
 * 'Junk'", "discard action: ...", "save failed to INBOX: Quota exceeded ...". rcpt is USER,
 * session the session id Dovecot's LMTP reply names ("250 2.0.0 <USER> SESSION Saved"),
 * reason TEXT. Other Dovecot lines are MAILLOG_OTHER.
 */
int maillog_dovecot(const struct maillog_line *l, struct maillog_event *ev);

/* The session id in Dovecot's LMTP reply "250 2.0.0 <USER> SESSION Saved" (len 0: none). */
struct maillog_span maillog_lmtp_session(struct maillog_span reply);

#endif
