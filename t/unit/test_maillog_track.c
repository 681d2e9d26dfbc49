/*
 * Mail log lines to Modoboa's counters and message history: Modoboa's rules (spec
 * modoboa.md §10) and where modo differs on purpose (content filter hops counted once,
 * submission and multi-instance lines, deferred/expired/rejected history, milter spam).
 */
#include "maillog_track.h"
#include "strbuf.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static struct strbuf counts, records;
static long long total[2][MAILLOG_C__COUNT]; /* [0] hosted domains, [1] global */

static bool hosted(void *arg, const char *domain)
{
    (void)arg;
    return strcmp(domain, "dom.test") == 0 || strcmp(domain, "alias.test") == 0 ||
           strcmp(domain, "orig.test") == 0;
}

static void count(void *arg, const char *domain, enum maillog_counter c, time_t t, long long v)
{
    (void)arg;
    (void)t;
    if (strcmp(domain, "global") == 0) {
        total[1][c] += v;
        return;
    }
    total[0][c] += v;
    strbuf_printf(&counts, "%s:%s+%lld ", domain, maillog_counter_names[c], v);
}

static void record(void *arg, const struct maillog_record *r)
{
    (void)arg;
    strbuf_printf(&records, "%s %s %s->%s%s%s [%s|%s] %lld (%s)%s%s\n", r->queue_id, r->status,
                  r->sender, r->rcpt, r->orig_rcpt ? " orig " : "", r->orig_rcpt ? r->orig_rcpt : "",
                  r->from_domain ? r->from_domain : "-", r->to_domain ? r->to_domain : "-",
                  r->size, r->reason, r->note ? " note: " : "", r->note ? r->note : "");
}

static const struct maillog_track_ops ops = {hosted, count, record};
static time_t REF = 1796256000; /* 2026-12-02 */

static void feed(struct maillog_track *t, const char *log)
{
    const char *p = log;

    strbuf_reset(&counts);
    strbuf_reset(&records);
    memset(total, 0, sizeof(total));
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        maillog_track_line(t, p, n, REF);
        p += n + (nl != NULL);
    }
}

static const char *C(void)
{
    return counts.data ? counts.data : "";
}
static const char *R(void)
{
    return records.data ? records.data : "";
}

#define H "Dec  1 10:00:0"

int main(void)
{
    struct maillog_track *t = maillog_track_new(&ops, NULL, 1000, 3600, false);
    struct maillog_track_stats st;

    feed(t, H "1 mx postfix/submission/smtpd[1]: A1B2C3D4E5: client=c[1.2.3.4], "
            "sasl_method=PLAIN, sasl_username=alice@dom.test\n" H
            "1 mx postfix/cleanup[2]: A1B2C3D4E5: message-id=<m1@dom.test>\n" H
            "2 mx postfix/qmgr[3]: A1B2C3D4E5: from=<alice@dom.test>, size=1000, nrcpt=1 (queue "
            "active)\n" H "3 mx postfix/smtp[4]: A1B2C3D4E5: to=<bob@remote.test>, "
            "relay=mx[5.6.7.8]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok: queued "
            "as 99AABBCCDD)\n" H "3 mx postfix/qmgr[3]: A1B2C3D4E5: removed\n");
    is_str(C(), "dom.test:sent+1 dom.test:size_sent+1000 ", "outgoing from submission: sent and size_sent");
    ok(total[1][MAILLOG_C_SENT] == 1 && total[1][MAILLOG_C_SIZE_SENT] == 1000, "... global too");
    is_str(R(), "A1B2C3D4E5 sent alice@dom.test->bob@remote.test [dom.test|-] 1000 (250 ok: queued as "
                "99AABBCCDD)\n",
           "... a history record, status sent");
    maillog_track_stats(t, &st);
    ok(st.queue_ids == 0, "removed: the queue id is forgotten");

    /* incoming through amavis: the hop to 127.0.0.1:10024 is not counted */
    feed(t, H "4 mx postfix/smtpd[1]: B1B2C3D4E5: client=r[9.9.9.9]\n" H
            "4 mx postfix/qmgr[3]: B1B2C3D4E5: from=<s@remote.test>, size=500, nrcpt=1 (queue active)\n" H
            "5 mx postfix-in/smtpd[5]: C1B2C3D4E5: client=localhost[127.0.0.1]\n" H
            "5 mx postfix/smtp[4]: B1B2C3D4E5: to=<alice@dom.test>, relay=127.0.0.1[127.0.0.1]:10024, "
            "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): "
            "250 2.0.0 Ok: queued as C1B2C3D4E5)\n" H
            "5 mx postfix/qmgr[3]: B1B2C3D4E5: removed\n" H
            "5 mx postfix/qmgr[3]: C1B2C3D4E5: from=<s@remote.test>, size=700, nrcpt=1 (queue active)\n" H
            "6 mx postfix/lmtp[6]: C1B2C3D4E5: to=<alice@dom.test>, relay=mx[private/dovecot-lmtp], "
            "delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <alice@dom.test> Saved)\n" H
            "6 mx postfix/qmgr[3]: C1B2C3D4E5: removed\n");
    is_str(C(), "dom.test:recv+1 dom.test:size_recv+700 ",
           "through a content filter: received once (Modoboa counts the hop too)");
    is_str(R(), "C1B2C3D4E5 received s@remote.test->alice@dom.test [-|dom.test] 700 (250 2.0.0 "
                "<alice@dom.test> Saved)\n",
           "... one history record, status received");

    /* the hop's original recipient (an alias) carried to the re-injected message, which the
     * filter re-injected without address mappings */
    feed(t, H "4 mx postfix/smtpd[1]: B2B2C3D4E5: client=r[9.9.9.9]\n" H
            "4 mx postfix/qmgr[3]: B2B2C3D4E5: from=<s@remote.test>, size=500, nrcpt=1 (queue active)\n" H
            "5 mx postfix/smtpd[5]: C2B2C3D4E5: client=localhost[127.0.0.1]\n" H
            "5 mx postfix/smtp[4]: B2B2C3D4E5: to=<alice@dom.test>, orig_to=<info@alias.test>, "
            "relay=127.0.0.1[127.0.0.1]:10024, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as C2B2C3D4E5)\n" H
            "6 mx postfix/lmtp[6]: C2B2C3D4E5: to=<alice@dom.test>, relay=mx[private/dovecot-lmtp], "
            "dsn=2.0.0, status=sent (250 2.0.0 Saved)\n");
    is_str(C(), "alias.test:recv+1 alias.test:size_recv+500 ",
           "through a content filter to an alias: counted for the alias's domain");
    is_str(R(), "C2B2C3D4E5 received s@remote.test->alice@dom.test orig info@alias.test [-|alias.test] 500 "
                "(250 2.0.0 Saved)\n",
           "... the row has the original recipient");
    /* a relay on loopback answering with a queue id this log never showed: a delivery */
    feed(t, H "4 mx postfix/qmgr[3]: B3B2C3D4E5: from=<alice@dom.test>, size=50, nrcpt=1 (queue active)\n" H
            "5 mx postfix/smtp[4]: B3B2C3D4E5: to=<x@remote.test>, relay=127.0.0.1[127.0.0.1]:2525, "
            "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 916D77CB)\n");
    is_str(C(), "dom.test:sent+1 dom.test:size_sent+50 ",
           "a loopback relay whose queue id is not this log's: a delivery, counted");

    /* bounced, deferred, expired */
    feed(t, H "7 mx postfix/qmgr[3]: D1B2C3D4E5: from=<alice@dom.test>, size=10, nrcpt=2 (queue active)\n" H
            "7 mx postfix/smtp[4]: D1B2C3D4E5: to=<x@remote.test>, relay=mx[5.6.7.8]:25, dsn=5.1.1, "
            "status=bounced (host mx said: 550 5.1.1 unknown (in reply to RCPT TO command))\n" H
            "8 mx postfix/smtp[4]: D1B2C3D4E5: to=<y@remote.test>, relay=none, dsn=4.4.1, "
            "status=deferred (connect to mx[5.6.7.8]:25: Connection timed out)\n" H
            "9 mx postfix/qmgr[3]: D1B2C3D4E5: from=<alice@dom.test>, status=expired, returned to sender\n");
    is_str(C(), "dom.test:sent+1 dom.test:size_sent+10 ",
           "bounced: the sender's domain counts it sent (Modoboa's rule); deferred and expired count nothing");
    is_str(R(),
           "D1B2C3D4E5 bounced alice@dom.test->x@remote.test [dom.test|-] 10 (host mx said: 550 "
           "5.1.1 unknown (in reply to RCPT TO command))\n"
           "D1B2C3D4E5 deferred alice@dom.test->y@remote.test [dom.test|-] 10 (connect to "
           "mx[5.6.7.8]:25: Connection timed out)\n"
           "D1B2C3D4E5 expired alice@dom.test-> [dom.test|-] 10 (returned to sender)\n",
           "... bounced, deferred and expired in the history with their reasons");
    feed(t, H "7 mx postfix/qmgr[3]: E1B2C3D4E5: from=<s@remote.test>, size=10, nrcpt=1 (queue active)\n" H
            "7 mx postfix/virtual[4]: E1B2C3D4E5: to=<nobody@dom.test>, relay=virtual, dsn=5.1.1, "
            "status=bounced (unknown user)\n");
    is_str(C(), "dom.test:bounced+1 ", "a bounce to a hosted recipient: bounced for its domain");

    /* orig_to: a domain alias counts; an SRS orig_to does not; an SRS sender is unwrapped */
    feed(t, H "7 mx postfix/qmgr[3]: F1B2C3D4E5: from=<SRS0=HHH=TT=orig.test=bob@fwd.test>, size=5, nrcpt=1 (queue active)\n" H
            "8 mx postfix/lmtp[4]: F1B2C3D4E5: to=<alice@dom.test>, orig_to=<info@alias.test>, "
            "relay=x[private/dovecot-lmtp], dsn=2.0.0, status=sent (250 ok)\n" H
            "8 mx postfix/lmtp[4]: F1B2C3D4E5: to=<alice@dom.test>, orig_to=<SRS0=a=b=c.test=d@alias.test>, "
            "relay=x[private/dovecot-lmtp], dsn=2.0.0, status=sent (250 ok)\n");
    is_str(C(), "orig.test:sent+1 orig.test:size_sent+5 alias.test:recv+1 alias.test:size_recv+5 "
                "orig.test:sent+1 orig.test:size_sent+5 dom.test:recv+1 dom.test:size_recv+5 ",
           "SRS sender unwrapped (orig.test); orig_to's domain alias counts, an SRS orig_to does not");

    /* rejects */
    feed(t, H "9 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from u[1.2.3.4]: 554 5.7.1 <a@dom.test>: "
            "Relay access denied; from=<s@x.test> to=<a@dom.test> proto=ESMTP helo=<h>\n" H
            "9 mx postfix/postscreen[2]: NOQUEUE: reject: RCPT from [1.2.3.4]:5: 450 4.3.2 Service "
            "currently unavailable; from=<s@x.test>, to=<a@dom.test>, proto=ESMTP, helo=<h>\n" H
            "9 mx postfix/cleanup[3]: 61B2C3D4E5: milter-reject: END-OF-MESSAGE from u[1.2.3.4]: 5.7.1 "
            "Spam message rejected; from=<s@x.test> to=<a@dom.test> proto=ESMTP helo=<h>\n" H
            "9 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from u[1.2.3.4]: 554 5.7.1 <a@else.test>: "
            "Relay access denied; from=<s@x.test> to=<a@else.test> proto=ESMTP helo=<h>\n");
    is_str(C(), "dom.test:reject+1 dom.test:reject+1 dom.test:spam+1 ",
           "rejects: counted for hosted recipients; postscreen's 450 is a reject without the greylist "
           "setting; a milter's spam is spam");
    is_str(R(),
           "NOQUEUE rejected s@x.test->a@dom.test [-|dom.test] 0 (554 5.7.1 <a@dom.test>: Relay access denied)\n"
           "NOQUEUE rejected s@x.test->a@dom.test [-|dom.test] 0 (450 4.3.2 Service currently unavailable)\n"
           "61B2C3D4E5 rejected s@x.test->a@dom.test [-|dom.test] 0 (5.7.1 Spam message rejected)\n"
           "NOQUEUE rejected s@x.test->a@else.test [-|-] 0 (554 5.7.1 <a@else.test>: Relay access denied)\n",
           "... rejected messages in the history with the reply");
    maillog_track_free(&t);
    t = maillog_track_new(&ops, NULL, 1000, 3600, true);
    feed(t, H "9 mx postfix/postscreen[2]: NOQUEUE: reject: RCPT from [1.2.3.4]:5: 450 4.3.2 Service "
            "currently unavailable; from=<s@x.test>, to=<a@dom.test>, proto=ESMTP, helo=<h>\n");
    is_str(C(), "dom.test:greylist+1 ", "with the greylist setting: greylist");
    is_str(R(), "", "... and no history record for greylisting");

    /* amavis */
    feed(t, H "9 mx amavis[9]: (00123-01) Blocked SPAM {DiscardedInbound}, [1.2.3.4]:4455 <s@x.test> "
            "-> <a@dom.test>,<b@alias.test>,<c@else.test>, Queue-ID: 71B2C3D4E5, size: 10, 5 ms\n" H
            "9 mx amavis[9]: (00123-02) Blocked INFECTED (Eicar) {DiscardedInbound}, <s@x.test> -> "
            "<a@dom.test>, Queue-ID: 81B2C3D4E5, size: 10, 5 ms\n");
    is_str(C(), "dom.test:spam+1 alias.test:spam+1 dom.test:virus+1 ",
           "amavis: spam and virus for each hosted recipient's domain");

    /* rspamd: tagged spam and viruses from its task line, rejects from Postfix's line */
    feed(t, H "9 mx rspamd[9]: <a1>; task; rspamd_task_write_log: id: <m@x>, qid: <A1B2C3D4E6>, "
            "from: <s@x.test>, (default: T (add header): [8.00/15.00] [BAYES_SPAM(8.00){}]), len: 9,"
            " rcpts: <a@dom.test,c@else.test,b@alias.test>, mime_rcpts: <a@dom.test>\n" H
            "9 mx rspamd[9]: <a2>; task; rspamd_task_write_log: id: <m@x>, qid: <A1B2C3D4E7>, "
            "(default: T (reject): [20.00/15.00] [GTUBE(20.00){}]), len: 9, rcpts: <a@dom.test>, \n" H
            "9 mx postfix/cleanup[2]: A1B2C3D4E7: milter-reject: END-OF-MESSAGE from c[1.2.3.4]: "
            "5.7.1 Spam message rejected; from=<s@x.test> to=<a@dom.test> proto=ESMTP helo=<h>\n" H
            "9 mx postfix/cleanup[2]: A1B2C3D4E8: milter-reject: END-OF-MESSAGE from c[1.2.3.4]: "
            "5.7.1 Virus found: Eicar; from=<s@x.test> to=<b@dom.test> proto=ESMTP helo=<h>\n");
    is_str(C(), "dom.test:spam+1 alias.test:spam+1 dom.test:spam+1 dom.test:virus+1 ",
           "rspamd: tagged spam per hosted recipient; a milter's spam and virus rejects once each");

    /* bounds: at most max_ids queue ids, ttl seconds of log time */
    maillog_track_free(&t);
    t = maillog_track_new(&ops, NULL, 2, 60, false);
    feed(t, H "1 mx postfix/qmgr[3]: 91B2C3D4E5: from=<alice@dom.test>, size=1, nrcpt=1 (queue active)\n" H
            "1 mx postfix/qmgr[3]: 92B2C3D4E5: from=<alice@dom.test>, size=2, nrcpt=1 (queue active)\n" H
            "1 mx postfix/qmgr[3]: 93B2C3D4E5: from=<alice@dom.test>, size=3, nrcpt=1 (queue active)\n");
    maillog_track_stats(t, &st);
    ok(st.queue_ids == 2 && st.evicted == 1, "max_ids 2: the oldest of three is evicted (%llu, %llu)",
       st.queue_ids, st.evicted);
    feed(t, "Dec  1 10:05:00 mx postfix/qmgr[3]: 94B2C3D4E5: from=<a@dom.test>, size=3, nrcpt=1 (queue active)\n");
    maillog_track_stats(t, &st);
    ok(st.queue_ids == 1 && st.evicted == 3, "ttl 60 s: five minutes later only the new one is left");
    feed(t, "Dec  1 10:05:01 mx postfix/smtp[4]: 92B2C3D4E5: to=<b@remote.test>, relay=mx[1.1.1.1]:25, "
            "dsn=2.0.0, status=sent (250 ok)\n");
    is_str(R(), "92B2C3D4E5 sent ->b@remote.test [-|-] 0 (250 ok)\n",
           "a delivery of a forgotten queue id: recorded without its sender");

    /* malformed and ignored lines */
    feed(t, "garbage\nDec  1 10:05:02 mx postfix/smtp[4]: 94B2C3D4E5: to=<b@remote.test>, relay=x\n"
            "Dec  1 10:05:02 mx dovecot: imap-login: Login: user=<a>\n");
    maillog_track_stats(t, &st);
    ok(st.malformed == 2 && st.ignored >= 1, "malformed lines counted (%llu), others ignored (%llu)",
       st.malformed, st.ignored);

    {
        char *u = maillog_srs_unwrap("SRS1=X=fwd2.test==HHH=TT=orig.test=bob@fwd.test", 47);
        is_str(u, "bob@orig.test", "SRS1 unwrapped");
        free(u);
        u = maillog_srs_unwrap("SRS0+HHH=TT=orig.test=bob@fwd.test", 34);
        is_str(u, "bob@orig.test", "SRS0 with + unwrapped");
        free(u);
        u = maillog_srs_unwrap("SRS0=broken@fwd.test", 20);
        is_str(u, "SRS0=broken@fwd.test", "a broken SRS address is kept");
        free(u);
    }
    maillog_track_free(&t);

    {
        /* a checkpoint between a message's from= line and its deliveries: saved, loaded into
         * a new tracker, the deliveries still counted with the sender and size */
        static const char first[] =
            H "1 mx postfix/qmgr[3]: C1B2C3D4E5: from=<alice@dom.test>, size=700, nrcpt=2 (queue active)\n"
            H "1 mx postfix/qmgr[3]: C2B2C3D4E5: from=<>, size=90, nrcpt=1 (queue active)\n"
            H "1 mx postfix/smtpd[1]: C3B2C3D4E5: client=c[1.2.3.4]\n";
        static const char second[] =
            H "2 mx postfix/smtp[4]: C1B2C3D4E5: to=<x@remote.test>, relay=mx[1.1.1.1]:25, "
              "dsn=2.0.0, status=sent (250 ok)\n"
            H "2 mx postfix/lmtp[5]: C1B2C3D4E5: to=<bob@dom.test>, relay=lmtp, dsn=2.0.0, status=sent (ok)\n"
            H "2 mx postfix/lmtp[5]: C2B2C3D4E5: to=<bob@dom.test>, relay=lmtp, dsn=2.0.0, status=sent (ok)\n";
        struct strbuf saved = STRBUF_INIT, whole = STRBUF_INIT;
        struct maillog_track *a = maillog_track_new(&ops, NULL, 1000, 3600, false), *b;

        feed(a, first);
        feed(a, second);
        strbuf_puts(&whole, R());
        maillog_track_free(&a);
        a = maillog_track_new(&ops, NULL, 1000, 3600, false);
        feed(a, first);
        maillog_track_save(a, &saved);
        is_str(saved.data,
               "C1B2C3D4E5 700 1796119201 - <alice@dom.test\n"
               "C2B2C3D4E5 90 1796119201 - <\n"
               "C3B2C3D4E5 0 1796119201 - -\n",
               "saved: queue ids oldest first, the null sender told from an unknown one");
        b = maillog_track_new(&ops, NULL, 1000, 3600, false);
        ok(maillog_track_load(b, saved.data, saved.len) == 0, "loaded");
        feed(b, second);
        is_str(R(), whole.data, "after the load: the same history as one uninterrupted run");
        maillog_track_stats(b, &st);
        is_int((long long)st.queue_ids, 3, "... the same queue ids");
        ok(maillog_track_load(b, "C1B2C3D4E5 1 2\n", 15) < 0 &&
               maillog_track_load(b, "C1B2C3D4E5 1 2 - -", 18) < 0 &&
               maillog_track_load(b, "C1B2C3D4E5 a 2 - -\n", 19) < 0 &&
               maillog_track_load(b, "not-a-qid 1 2 - -\n", 18) < 0,
           "a text save did not write: refused");
        maillog_track_free(&a);
        maillog_track_free(&b);
        strbuf_free(&saved);
        strbuf_free(&whole);
    }
    {
        /* Dovecot's lines of an LMTP session, then Postfix's line naming the session */
        struct maillog_track *d = maillog_track_new(&ops, NULL, 1000, 3600, false);
        const char *lines =
            H "1 mx postfix/smtpd[1]: D1B2C3D4E5: client=c[1.2.3.4]\n" H
            "1 mx postfix/qmgr[3]: D1B2C3D4E5: from=<ext@ext.test>, size=100, nrcpt=3 (queue active)\n" H
            "2 mx dovecot: lmtp(bob@dom.test)<7><S1>: sieve: msgid=<m@x>: fileinto action: stored "
            "mail into mailbox 'Junk'\n" H
            "2 mx dovecot: lmtp(amy@dom.test)<7><S1:R2>: sieve: msgid=<m@x>: stored mail into "
            "mailbox 'INBOX'\n" H
            "2 mx dovecot: lmtp(cy@dom.test)<7><S1:R3>: sieve: msgid=<m@x>: redirect action: "
            "forwarded to <z@remote.test>\n" H
            "2 mx dovecot: lmtp(cy@dom.test)<7><S1:R3>: sieve: msgid=<m@x>: stored mail into "
            "mailbox 'INBOX'\n" H
            "3 mx postfix/lmtp[4]: D1B2C3D4E5: to=<bob@dom.test>, relay=mx[private/dovecot-lmtp], "
            "delay=1, dsn=2.0.0, status=sent (250 2.0.0 <bob@dom.test> S1 Saved)\n" H
            "3 mx postfix/lmtp[4]: D1B2C3D4E5: to=<amy@dom.test>, relay=mx[private/dovecot-lmtp], "
            "delay=1, dsn=2.0.0, status=sent (250 2.0.0 <amy@dom.test> S1:R2 Saved)\n" H
            "3 mx postfix/lmtp[4]: D1B2C3D4E5: to=<cy@dom.test>, relay=mx[private/dovecot-lmtp], "
            "delay=1, dsn=2.0.0, status=sent (250 2.0.0 <cy@dom.test> S1:R3 Saved)\n";
        feed(d, lines);
        is_str(R(),
               "D1B2C3D4E5 received ext@ext.test->bob@dom.test [-|dom.test] 100 (250 2.0.0 "
               "<bob@dom.test> S1 Saved) note: sieve: fileinto action: stored mail into mailbox "
               "'Junk'\n"
               "D1B2C3D4E5 received ext@ext.test->amy@dom.test [-|dom.test] 100 (250 2.0.0 "
               "<amy@dom.test> S1:R2 Saved)\n"
               "D1B2C3D4E5 received ext@ext.test->cy@dom.test [-|dom.test] 100 (250 2.0.0 "
               "<cy@dom.test> S1:R3 Saved) note: sieve: redirect action: forwarded to "
               "<z@remote.test>; sieve: stored mail into mailbox 'INBOX'\n",
               "Dovecot's deliveries: Sieve's fileinto and redirect noted on the row of their "
               "session, the INBOX's plain keep not");
        is_str(C(), "dom.test:recv+1 dom.test:size_recv+100 dom.test:recv+1 dom.test:size_recv+100 "
                    "dom.test:recv+1 dom.test:size_recv+100 ",
               "... Dovecot's lines count nothing");
        feed(d, H "4 mx postfix/lmtp[4]: D1B2C3D4E5: to=<bob@dom.test>, relay=mx[private/dovecot-lmtp], "
                  "delay=1, dsn=2.0.0, status=sent (250 2.0.0 <bob@dom.test> S1 Saved)\n");
        ok(strstr(R(), "note") == NULL, "... a note is taken once");
        maillog_track_free(&d);
    }
    strbuf_free(&counts);
    strbuf_free(&records);
    return done_testing();
}
