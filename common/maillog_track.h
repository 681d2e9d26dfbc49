/*
 * maillog_track - mail log lines to Modoboa's counters and message history, in memory.
 *
 * Lines are given in log order (maillog_track_line); what they mean comes out through
 * callbacks: counter increments per hosted domain (and "global"), as Modoboa's logparser
 * defines them (spec modoboa.md §10), and message history records. No I/O, no clock: times
 * are the lines' own, so a log read twice gives the same results.
 *
 * As Modoboa's, global counts every delivery's recipient side (received, bounced) whatever
 * the recipient's domain, and the sender's side and rejects only for hosted domains.
 *
 * Where modo differs from Modoboa, on purpose:
 *  - a content filter's hop (a delivery to a loopback relay that says "queued as QID") is
 *    not counted: the message is counted once, when the re-injected copy is delivered;
 *  - postfix/submission/smtpd and multi-instance names (postfix-out/...) are read;
 *  - deferred, expired and rejected messages get history records, with their reason;
 *  - spam rejected by a milter (rspamd) counts as spam.
 *
 * Memory is bounded: at most max_ids queue ids are remembered, each for ttl seconds of log
 * time after its last line (the oldest go first).
 */
#ifndef MODO_MAILLOG_TRACK_H
#define MODO_MAILLOG_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum maillog_counter {
    MAILLOG_C_SENT,
    MAILLOG_C_RECV,
    MAILLOG_C_BOUNCED,
    MAILLOG_C_REJECT,
    MAILLOG_C_SPAM,
    MAILLOG_C_VIRUS,
    MAILLOG_C_SIZE_SENT,
    MAILLOG_C_SIZE_RECV,
    MAILLOG_C_GREYLIST,
    MAILLOG_C__COUNT
};
/* Modoboa's RRD data source names, in this order */
extern const char *const maillog_counter_names[MAILLOG_C__COUNT];

struct maillog_record {
    const char *queue_id; /* "NOQUEUE" for rejects before queueing */
    time_t date;
    const char *sender, *rcpt, *orig_rcpt; /* orig_rcpt NULL if none */
    long long size;                       /* 0 if unknown */
    const char *status;      /* received, sent, bounced, deferred, expired, rejected */
    const char *from_domain; /* hosted domains (NULL if not hosted) */
    const char *to_domain;
    const char *reason; /* the reply or the reason ("" if none) */
    /* a delivery through Dovecot's LMTP that was not the INBOX's plain save, from Dovecot's
     * lines of the session the reply names ("sieve: fileinto action: stored mail into mailbox
     * 'Junk'"); NULL if none */
    const char *note;
};

/* Dovecot's delivery lines kept until Postfix's LMTP line of their session */
#define MAILLOG_NOTES 256

struct maillog_track_ops {
    /* Is the domain (lower case) hosted: a domain or a domain alias? */
    bool (*hosted)(void *arg, const char *domain);
    /* counter c of domain (a hosted one, or "global") += v at time t */
    void (*count)(void *arg, const char *domain, enum maillog_counter c, time_t t, long long v);
    /* a message history record (its strings live until the callback returns) */
    void (*record)(void *arg, const struct maillog_record *r);
};

struct maillog_track_stats {
    unsigned long long lines, malformed, ignored, queue_ids, evicted;
    time_t newest; /* the newest time of a line read (0: none yet) */
};

struct maillog_track;

struct maillog_track *maillog_track_new(const struct maillog_track_ops *ops, void *arg,
                                        size_t max_ids, long ttl, bool greylist);
void maillog_track_free(struct maillog_track **t);
/* One line (without or with its line end); ref: when it was read (for year-less times). */
void maillog_track_line(struct maillog_track *t, const char *line, size_t len, time_t ref);
void maillog_track_stats(const struct maillog_track *t, struct maillog_track_stats *st);

/*
 * The queue ids being followed, as text (one per line, oldest first), and back: a checkpoint
 * stores them so that a restart goes on where it stopped (a message whose from= line was
 * read before the restart is still attributed). load adds to what t holds; -1 if the text
 * is not one save wrote.
 */
struct strbuf;
void maillog_track_save(const struct maillog_track *t, struct strbuf *out);
int maillog_track_load(struct maillog_track *t, const char *text, size_t len);

/* An SRS address unwrapped to the original sender (SRS0 and SRS1), else a copy; malloc'd. */
char *maillog_srs_unwrap(const char *addr, size_t len);

#endif
