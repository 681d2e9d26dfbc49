/*
 * The mail log line reader: syslog headers (RFC 3164 with and without fractions, RFC 3339
 * with offsets), program names (three parts, instances), the year across New Year, DST,
 * and Postfix's and amavis's messages as they are logged.
 */
#include "maillog.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static struct maillog_line L;
static struct maillog_event E;

static int parse(const char *line)
{
    return maillog_parse(line, strlen(line), &L);
}

static int pf(const char *line)
{
    if (parse(line) < 0)
        return -2;
    return maillog_postfix(&L, &E);
}

static char buf[8][512];
static int nbuf;
static const char *S(struct maillog_span s)
{
    char *b = buf[nbuf++ % 8];
    snprintf(b, 512, "%.*s", (int)s.len, s.p ? s.p : "");
    return b;
}

static void test_headers(void)
{
    ok(parse("Dec  4 02:25:21 mx1 postfix/smtpd[1234]: connect from x[1.2.3.4]\n") == 0,
         "RFC 3164, day padded with a space");
    is_int(L.time.mon, 11, "month");
    is_int(L.time.mday, 4, "day");
    is_int(L.time.hour * 3600 + L.time.min * 60 + L.time.sec, 2 * 3600 + 25 * 60 + 21, "time");
    is_int(L.time.year, 0, "no year");
    ok(!L.time.has_offset, "local time");
    is_str(S(L.host), "mx1", "host");
    is_str(S(L.program), "postfix/smtpd", "program");
    is_str(S(L.instance), "postfix", "instance");
    is_str(S(L.service), "smtpd", "service");
    is_int(L.pid, 1234, "pid");
    is_str(S(L.msg), "connect from x[1.2.3.4]", "message without the line end");

    ok(parse("Dec 14 02:25:21.123456 mx1 postfix/submission/smtpd[9]: x") == 0,
       "Postfix's maillog_file form (microseconds)");
    is_int(L.time.mday, 14, "two-digit day");
    is_int(L.time.usec, 123456, "microseconds");
    is_str(S(L.program), "postfix/submission/smtpd", "three-part name");
    is_str(S(L.instance), "postfix", "... instance");
    is_str(S(L.service), "smtpd", "... service is the last part");

    ok(parse("2026-12-04T02:25:21.5+01:00 mx1 postfix-out/qmgr[77]: ABC123: removed") == 0,
       "RFC 3339 with an offset");
    is_int(L.time.year, 2026, "year");
    is_int(L.time.usec, 500000, "fraction padded");
    ok(L.time.has_offset && L.time.offset_min == 60, "offset +01:00");
    is_str(S(L.instance), "postfix-out", "multi-instance name");
    is_str(S(L.service), "qmgr", "... its service");
    is_int((int)(maillog_epoch(&L.time, 2026) % 86400), 1 * 3600 + 25 * 60 + 21,
           "epoch: the offset applied");
    ok(parse("2026-12-04T02:25:21Z mx1 dovecot: lmtp(a@b)<1><x>: msg") == 0, "RFC 3339, Z");
    ok(L.time.has_offset && L.time.offset_min == 0, "Z is UTC");
    is_int((int)L.pid, -1, "no pid");
    is_str(S(L.program), "dovecot", "one-part name");
    is_str(S(L.service), "", "... no service");
    ok(parse("2026-12-04T02:25:21.123456789-05:30 h amavis[1]: x") == 0 &&
           L.time.usec == 123456 && L.time.offset_min == -330,
       "nanoseconds cut to microseconds; a negative offset with minutes");

    ok(parse("2025-12-04T08:33:33+0000 mx postfix/smtpd[123]: connect from x[1.2.3.4]") == 0 &&
           L.time.has_offset && L.time.offset_min == 0 && L.time.year == 2025,
       "journalctl -o short-iso: +0000");
    ok(parse("2025-12-04T08:33:33.123456-0430 mx postfix/smtpd[123]: x") == 0 &&
           L.time.usec == 123456 && L.time.offset_min == -270,
       "journalctl -o short-iso-precise, an offset without its colon");
    ok(parse("2025-12-04T08:33:33+01: mx postfix/smtpd[1]: x") < 0, "a cut offset: malformed");
    ok(parse("1764837213.123456 mx postfix/smtpd[123]: connect from x[1.2.3.4]") == 0,
       "journalctl -o short-unix");
    ok(L.time.has_offset && L.time.offset_min == 0 && L.time.usec == 123456, "... UTC, usec");
    ok(maillog_epoch(&L.time, L.time.year) == 1764837213, "... the same second");
    is_str(S(L.program), "postfix/smtpd", "... the program after it");
    ok(parse("1764837213 mx postfix/smtpd[123]: x") == 0, "epoch seconds without a fraction");
    ok(parse("12345 mx postfix/smtpd[123]: x") < 0, "a short number: malformed");
    ok(parse("17648372131234 mx postfix/smtpd[123]: x") < 0, "a long number: malformed");

    ok(parse("") < 0, "empty line: malformed");
    ok(parse("Foo  4 02:25:21 mx1 postfix/smtpd[1]: x") < 0, "unknown month");
    ok(parse("Dec 32 02:25:21 mx1 postfix/smtpd[1]: x") < 0, "day 32");
    ok(parse("Dec  4 24:25:21 mx1 postfix/smtpd[1]: x") < 0, "hour 24");
    ok(parse("Dec  4 02:25:21 mx1") < 0, "no program");
    ok(parse("Dec  4 02:25:21 mx1 postfix/smtpd[12") < 0, "unterminated pid");
    ok(parse("Dec  4 02:25:21 mx1 postfix/smtpd[1x]: m") < 0, "pid not a number");
    ok(parse("2026-12-04T02:25:21 mx1 p: m") < 0, "RFC 3339 without an offset");
    ok(parse("2026-13-04T02:25:21Z mx1 p: m") < 0, "month 13");
    {
        size_t n = MAILLOG_MAX_LINE + 1;
        char *big = malloc(n + 1);
        memcpy(big, "Dec  4 02:25:21 mx1 postfix/smtpd[1]: ", 38);
        memset(big + 38, 'x', n - 38);
        big[n] = '\0';
        ok(maillog_parse(big, n, &L) < 0, "a line over %d bytes is malformed", MAILLOG_MAX_LINE);
        ok(maillog_parse(big, MAILLOG_MAX_LINE, &L) == 0, "... one of %d bytes is read",
           MAILLOG_MAX_LINE);
        free(big);
    }
}

static void test_year(void)
{
    struct maillog_time t = {0, 11, 31, 23, 59, 50, 0, false, 0};
    struct tm ref = {0};
    time_t r;

    setenv("TZ", "Europe/Paris", 1);
    tzset();
    ref.tm_year = 2027 - 1900;
    ref.tm_mon = 0;
    ref.tm_mday = 1;
    ref.tm_hour = 0;
    ref.tm_min = 5;
    ref.tm_isdst = -1;
    r = mktime(&ref);
    is_int(maillog_year(&t, r), 2026, "Dec 31 read on Jan 1: last year");
    t.mon = 0;
    t.mday = 1;
    t.hour = 0;
    is_int(maillog_year(&t, r), 2027, "Jan 1 read on Jan 1: this year");
    t.mon = 0;
    t.mday = 1;
    t.hour = 23;
    is_int(maillog_year(&t, r), 2027, "less than a day ahead (clock skew): this year");
    t.mday = 3;
    is_int(maillog_year(&t, r), 2026, "more than a day ahead: last year");
    t.year = 2020;
    is_int(maillog_year(&t, r), 2020, "a year in the line is kept");
    /* DST in Paris: 2026-03-29 02:30 does not exist; 2026-10-25 02:30 happens twice */
    {
        struct maillog_time a = {0, 9, 25, 1, 59, 59, 0, false, 0};
        struct maillog_time b = {0, 9, 25, 3, 0, 0, 0, false, 0};
        time_t ta = maillog_epoch(&a, 2026), tb = maillog_epoch(&b, 2026);
        is_int((int)(tb - ta), 2 * 3600 + 1, "autumn DST: 01:59:59 to 03:00:00 is 2 h 1 s");
        a.mon = 2;
        a.mday = 29;
        b.mon = 2;
        b.mday = 29;
        ta = maillog_epoch(&a, 2026);
        tb = maillog_epoch(&b, 2026);
        is_int((int)(tb - ta), 1, "spring DST: 01:59:59 to 03:00:00 is 1 s");
    }
    unsetenv("TZ");
    tzset();
}

static void test_postfix(void)
{
    ok(pf("Dec  4 02:25:21 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: "
          "554 5.7.1 <x@dom.test>: Relay access denied; from=<s@a.test> to=<x@dom.test> "
          "proto=ESMTP helo=<h>") == 0 && E.kind == MAILLOG_REJECT,
       "NOQUEUE reject (smtpd)");
    is_str(S(E.sender), "s@a.test", "... from");
    is_str(S(E.rcpt), "x@dom.test", "... to");
    is_str(S(E.client), "unknown[192.0.2.1]", "... the client");
    is_str(S(E.reason), "554 5.7.1 <x@dom.test>: Relay access denied", "... the reply");
    ok(!E.greylist && E.queue_id.len == 0, "... not greylisting, no queue id");
    ok(pf("Dec  4 02:25:21 mx postfix/postscreen[2]: NOQUEUE: reject: RCPT from "
          "[192.0.2.1]:52341: 450 4.3.2 Service currently unavailable; from=<s@a.test>, "
          "to=<x@dom.test>, proto=ESMTP, helo=<h>") == 0 && E.kind == MAILLOG_REJECT,
       "postscreen reject");
    ok(E.greylist, "... its 450 counts as greylisting (Modoboa's rule)");
    is_str(S(E.rcpt), "x@dom.test", "... to, comma separated");
    is_str(S(E.client), "[192.0.2.1]:52341", "... client with port");
    is_str(S(E.reason), "450 4.3.2 Service currently unavailable", "... reply");
    ok(pf("Dec  4 02:25:21 mx postfix/submission/smtpd[3]: NOQUEUE: reject: RCPT from "
          "a[192.0.2.2]: 450 4.2.0 <x@dom.test>: Recipient address rejected: Greylisted; "
          "from=<s@a.test> to=<x@dom.test> proto=ESMTP helo=<h>") == 0 && E.greylist,
       "a policy service's Greylisted: greylisting, on the submission service");
    ok(pf("Dec  4 02:25:21 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[1.2.3.4]: 550 "
          "5.1.1 <>: Recipient address rejected; from=<> to=<> proto=ESMTP helo=<h>") == 0 &&
           E.sender.len == 0 && E.rcpt.len == 0,
       "null sender and recipient");

    ok(pf("Dec  4 02:25:21 mx postfix/smtpd[1]: 4F2A32C0A1: client=a.test[1.2.3.4], "
          "sasl_method=PLAIN, sasl_username=alice@dom.test") == 0 && E.kind == MAILLOG_CLIENT,
       "client= with SASL");
    is_str(S(E.queue_id), "4F2A32C0A1", "... queue id");
    is_str(S(E.client), "a.test[1.2.3.4]", "... client");
    is_str(S(E.sasl_username), "alice@dom.test", "... sasl_username");
    ok(pf("Dec  4 02:25:21 mx postfix/cleanup[1]: 4F2A32C0A1: message-id=<abc@x.test>") == 0 &&
           E.kind == MAILLOG_MESSAGE_ID && strcmp(S(E.message_id), "abc@x.test") == 0,
       "message-id");
    ok(pf("Dec  4 02:25:21 mx postfix/qmgr[1]: 4F2A32C0A1: from=<s@dom.test>, size=1234, "
          "nrcpt=2 (queue active)") == 0 && E.kind == MAILLOG_FROM,
       "from=, size=");
    is_str(S(E.sender), "s@dom.test", "... sender");
    ok(E.size == 1234, "... size");
    ok(pf("Dec  4 02:25:21 mx postfix/qmgr[1]: 4F2A32C0A1: from=<>, size=9, nrcpt=1 (queue "
          "active)") == 0 && E.sender.len == 0 && E.size == 9, "bounce sender <>");
    ok(pf("Dec  4 02:25:21 mx postfix/qmgr[1]: 4F2A32C0A1: from=<s@dom.test>, status=expired, "
          "returned to sender") == 0 && E.kind == MAILLOG_EXPIRED &&
           E.status == MAILLOG_EXPIRED_STATUS,
       "expired");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@remote.test>, "
          "orig_to=<alias@dom.test>, relay=mx.remote.test[5.6.7.8]:25, delay=1.2, "
          "delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9ABCDEF012)") == 0 &&
           E.kind == MAILLOG_DELIVERY && E.status == MAILLOG_SENT,
       "delivery: sent");
    is_str(S(E.rcpt), "r@remote.test", "... to");
    is_str(S(E.orig_rcpt), "alias@dom.test", "... orig_to");
    is_str(S(E.relay), "mx.remote.test[5.6.7.8]:25", "... relay");
    is_str(S(E.dsn), "2.0.0", "... dsn");
    is_str(S(E.reason), "250 2.0.0 Ok: queued as 9ABCDEF012", "... the reply");
    is_str(S(E.queued_as), "9ABCDEF012", "... queued as (the next hop's queue id)");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@dom.test>, "
          "relay=127.0.0.1[127.0.0.1]:10024, delay=0.3, delays=0.1/0/0/0.2, dsn=2.0.0, "
          "status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as "
          "5B1C2D3E4F)") == 0 &&
           strcmp(S(E.queued_as), "5B1C2D3E4F") == 0,
       "a content filter's re-injection: the second queue id");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@remote.test>, "
          "relay=mx[5.6.7.8]:25, delay=2, delays=0/0/1/1, dsn=5.1.1, status=bounced (host "
          "mx[5.6.7.8] said: 550 5.1.1 <r@remote.test>: User unknown (in reply to RCPT TO "
          "command))") == 0 && E.status == MAILLOG_BOUNCED,
       "delivery: bounced");
    is_str(S(E.reason), "host mx[5.6.7.8] said: 550 5.1.1 <r@remote.test>: User unknown (in "
                        "reply to RCPT TO command)",
           "... the reason, with its nested parentheses");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@remote.test>, relay=none, "
          "delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx[5.6.7.8]:25: "
          "Connection timed out)") == 0 && E.status == MAILLOG_DEFERRED &&
           strcmp(S(E.relay), "none") == 0,
       "delivery: deferred");
    ok(pf("Dec  4 02:25:21 mx postfix/lmtp[1]: 4F2A32C0A1: to=<alice@dom.test>, "
          "relay=mx[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent "
          "(250 2.0.0 <alice@dom.test> x Saved)") == 0 && E.status == MAILLOG_SENT &&
           E.queued_as.len == 0,
       "LMTP to Dovecot: sent, no next queue id");
    ok(pf("Dec  4 02:25:21 mx postfix/qmgr[1]: 4F2A32C0A1: removed") == 0 &&
           E.kind == MAILLOG_REMOVED, "removed");
    ok(pf("Dec  4 02:25:21 mx postfix/cleanup[1]: 4F2A32C0A1: milter-reject: END-OF-MESSAGE "
          "from a[1.2.3.4]: 5.7.1 Spam message rejected; from=<s@a.test> to=<r@dom.test> "
          "proto=ESMTP helo=<h>") == 0 && E.kind == MAILLOG_REJECT,
       "milter-reject (rspamd)");
    ok(E.spam, "... says spam");
    is_str(S(E.reason), "5.7.1 Spam message rejected", "... reason");
    is_str(S(E.queue_id), "4F2A32C0A1", "... has a queue id");
    ok(pf("Dec  4 02:25:21 mx postfix/cleanup[1]: 4F2A32C0A1: reject: header Subject: buy "
          "from a[1.2.3.4]; from=<s@a.test> to=<r@dom.test> proto=ESMTP helo=<h>: 5.7.1 "
          "message content rejected") == 0 && E.kind == MAILLOG_REJECT,
       "header_checks reject");
    is_str(S(E.reason), "5.7.1 message content rejected", "... reason after helo");
    is_str(S(E.client), "a[1.2.3.4]", "... client");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 3bK8Wx0gKlzPkPy: to=<r@remote.test>, relay=x, "
          "dsn=2.0.0, status=sent (250 ok)") == 0 && E.kind == MAILLOG_DELIVERY,
       "a long queue id");
    ok(pf("Dec  4 02:25:21 mx postfix/smtpd[1]: connect from a[1.2.3.4]") == 0 &&
           E.kind == MAILLOG_OTHER, "connect: nothing to count");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@remote.test>, relay=x") == -1,
       "a delivery without status: malformed");
    ok(pf("Dec  4 02:25:21 mx postfix/smtp[1]: 4F2A32C0A1: to=<r@remote.test, status=sent") == -1,
       "an unterminated address: malformed");
    ok(maillog_is_queue_id("4F2A32C0A1", 10) && maillog_is_queue_id("3bK8Wx0gKlzPkPy", 15),
       "queue ids: short and long");
    ok(!maillog_is_queue_id("NOQUEUE", 7) && !maillog_is_queue_id("warning", 7) &&
           !maillog_is_queue_id("ABC", 3),
       "not queue ids: NOQUEUE, warning, too short");
}

static void test_amavis(void)
{
    ok(parse("Dec  4 02:25:21 mx amavis[123]: (00123-01) Blocked SPAM {DiscardedInbound}, "
             "[1.2.3.4]:4455 [1.2.3.4] <s@a.test> -> <r@dom.test>,<q@dom.test>, Queue-ID: "
             "4F2A32C0A1, Message-ID: <m@a>, mail_id: x, Hits: 12.1, size: 2345, 412 ms") == 0 &&
           maillog_amavis(&L, &E) == 0 && E.kind == MAILLOG_FILTER,
       "amavis Blocked SPAM");
    ok(E.spam && !E.virus, "... spam");
    is_str(S(E.sender), "s@a.test", "... sender");
    is_str(S(E.rcpt), "<r@dom.test>,<q@dom.test>", "... the recipients");
    is_str(S(E.queue_id), "4F2A32C0A1", "... Queue-ID");
    ok(E.size == 2345, "... size");
    ok(parse("Dec  4 02:25:21 mx amavis[123]: (00123-02) Passed CLEAN {RelayedInbound}, "
             "[1.2.3.4]:4455 <s@a.test> -> <r@dom.test>, Queue-ID: 4F2A32C0A1, Message-ID: "
             "<m@a>, mail_id: x, Hits: -1, size: 99, queued_as: 5B1C2D3E4F, 80 ms") == 0 &&
           maillog_amavis(&L, &E) == 0 && !E.spam && !E.virus,
       "amavis Passed CLEAN");
    is_str(S(E.queued_as), "5B1C2D3E4F", "... queued_as");
    is_str(S(E.rcpt), "<r@dom.test>", "... one recipient");
    ok(parse("Dec  4 02:25:21 mx amavis[123]: (00123-03) Blocked INFECTED (Eicar-Signature) "
             "{DiscardedInbound}, [1.2.3.4]:4455 <s@a.test> -> <r@dom.test>, Queue-ID: "
             "4F2A32C0A1, size: 68") == 0 && maillog_amavis(&L, &E) == 0 && E.virus,
       "amavis INFECTED");
    ok(parse("Dec  4 02:25:21 mx amavis[123]: (00123-04) Passed SPAMMY {RelayedTaggedInbound}, "
             "<s@a.test> -> <r@dom.test>, Hits: 6") == 0 && maillog_amavis(&L, &E) == 0 &&
           E.spam && E.queue_id.len == 0,
       "amavis SPAMMY, no queue id");
    ok(parse("Dec  4 02:25:21 mx amavis[123]: (00123-05) Passed CLEAN no arrow here") == 0 &&
           maillog_amavis(&L, &E) == -1,
       "amavis verdict without addresses: malformed");
    ok(parse("Dec  4 02:25:21 mx amavis[123]: starting.") == 0 && maillog_amavis(&L, &E) == 0 &&
           E.kind == MAILLOG_OTHER,
       "other amavis lines: nothing");
}

#define RSPAMD "Dec  4 02:25:21 mx rspamd[812]: <1f7b4c>; task; rspamd_task_write_log: id: <m@a>, " \
               "qid: <4F2A32C0A1>, ip: 1.2.3.4, from: <s@a.test>, "
static void test_rspamd(void)
{
    ok(parse(RSPAMD "(default: T (add header): [8.10/15.00] [BAYES_SPAM(5.10){99.0%;},"
                    "R_SPF_FAIL(1.00){-all;}]), len: 2345, time: 120.1ms, dns req: 12, digest: "
                    "<0a1b>, rcpts: <r@dom.test,q@dom.test>, mime_rcpts: <r@dom.test>") == 0 &&
           maillog_rspamd(&L, &E) == 0 && E.kind == MAILLOG_FILTER,
       "rspamd task line");
    ok(E.spam && !E.virus, "... add header: spam");
    is_str(S(E.rcpt), "r@dom.test,q@dom.test", "... the SMTP recipients");
    is_str(S(E.queue_id), "4F2A32C0A1", "... qid");
    ok(parse(RSPAMD "(default: T (rewrite subject): [9.00/15.00] [X(9.00){}]), len: 1, rcpts: "
                    "<r@dom.test>, ") == 0 && maillog_rspamd(&L, &E) == 0 && E.spam,
       "rspamd rewrite subject: spam");
    ok(parse(RSPAMD "(default: F (no action): [0.10/15.00] [ARC_NA(0.00){}]), len: 1, rcpts: "
                    "<r@dom.test>, ") == 0 && maillog_rspamd(&L, &E) == 0 && !E.spam && !E.virus,
       "rspamd no action: neither");
    ok(parse(RSPAMD "(default: F (add header): [6.00/15.00] [CLAM_VIRUS(6.00){Eicar;}]), len: 1, "
                    "rcpts: <r@dom.test>, ") == 0 && maillog_rspamd(&L, &E) == 0 && E.virus && !E.spam,
       "rspamd with a virus symbol, not rejected: virus");
    ok(parse(RSPAMD "(default: T (reject): [20.00/15.00] [CLAM_VIRUS(20.00){Eicar;}]), len: 1, "
                    "rcpts: <r@dom.test>, ") == 0 && maillog_rspamd(&L, &E) == 0 && !E.virus && !E.spam,
       "rspamd reject: not counted here (Postfix's milter-reject line is)");
    ok(parse(RSPAMD "(default: broken") == 0 && maillog_rspamd(&L, &E) == -1,
       "rspamd task line without its action: malformed");
    ok(parse("Dec  4 02:25:21 mx rspamd[812]: <1f7b4c>; lua; some other line") == 0 &&
           maillog_rspamd(&L, &E) == 0 && E.kind == MAILLOG_OTHER,
       "other rspamd lines: nothing");
}

#define DOVECOT "Dec  4 08:52:23 mx dovecot: "
static int dv(const char *line)
{
    if (parse(line) < 0)
        return -2;
    return maillog_dovecot(&L, &E);
}

static void test_dovecot(void)
{
    struct maillog_span reply;

    ok(dv(DOVECOT "lmtp(bob@dom.test)<21096><EM/WK0d/EmtoUgAAg+zDdQ>: sieve: "
                  "msgid=<20261204085223.021097@vm>: fileinto action: stored mail into mailbox "
                  "'Junk'") == 0 &&
           E.kind == MAILLOG_MAILBOX,
       "Dovecot LMTP, a Sieve action");
    is_str(S(E.rcpt), "bob@dom.test", "... the user");
    is_str(S(E.session), "EM/WK0d/EmtoUgAAg+zDdQ", "... the session id (not the pid)");
    is_str(S(E.message_id), "<20261204085223.021097@vm>", "... msgid");
    ok(E.sieve, "... Sieve's");
    is_str(S(E.reason), "fileinto action: stored mail into mailbox 'Junk'", "... what it did");
    ok(dv(DOVECOT "lmtp(bob@dom.test)<21096><EM/WK0d/EmtoUgAAg+zDdQ:R2>: msgid=<a@b>: saved "
                  "mail to INBOX") == 0 &&
           E.kind == MAILLOG_MAILBOX && !E.sieve && S(E.session)[22] == ':',
       "a plain save, a second recipient's session (ID:R2)");
    is_str(S(E.reason), "saved mail to INBOX", "... its text");
    ok(parse("2026-12-04T08:52:23.645686+0000 lmtp(bob@dom.test)<1><S1>: Info: sieve: msgid=<x>: "
             "stored mail into mailbox 'INBOX'") < 0 ||
           strcmp(S(L.program), "dovecot") != 0,
       "Dovecot's own log file (no host, no program): not Dovecot's syslog line");
    ok(dv(DOVECOT "lda(bob@dom.test)<99><S9>: msgid=unspecified: saved mail to Archive") == 0 &&
           E.kind == MAILLOG_MAILBOX,
       "dovecot-lda, a message without Message-ID");
    is_str(S(E.message_id), "unspecified", "... msgid as Dovecot says it");
    is_str(S(E.reason), "saved mail to Archive", "... into another mailbox");
    ok(dv(DOVECOT "lmtp(21096): Connect from 127.0.0.1") == 0 && E.kind == MAILLOG_OTHER,
       "lmtp(PID): Connect: nothing");
    ok(dv(DOVECOT "lmtp(bob@dom.test)<21096><S1>: Error: quota: failed") == 0 &&
           E.kind == MAILLOG_OTHER,
       "an error line of a session: nothing");
    ok(dv(DOVECOT "imap(bob@dom.test)<1><S>: Logged out in=1 out=2") == 0 &&
           E.kind == MAILLOG_OTHER,
       "IMAP: nothing");
    ok(dv(DOVECOT "lmtp(bob@dom.test)<21096: msgid=<x>: saved mail to INBOX") == 0 &&
           E.kind == MAILLOG_OTHER,
       "a group not closed: not a delivery");
    ok(dv(DOVECOT "lmtp(bob@dom.test)<21096><S1") == -1, "a line cut in a group: malformed");
    ok(dv(DOVECOT "lmtp(bob@dom.test)<1><S>: msgid=<x> saved") == -1,
       "msgid without what was done: malformed");

    reply.p = "250 2.0.0 <bob@dom.test> LbOzJUd/EmtoUgAAg+zDdQ Saved";
    reply.len = strlen(reply.p);
    is_str(S(maillog_lmtp_session(reply)), "LbOzJUd/EmtoUgAAg+zDdQ",
           "Dovecot's LMTP reply: the session id");
    reply.p = "250 2.0.0 Ok: queued as 4F2A32C0A1";
    reply.len = strlen(reply.p);
    is_int((long long)maillog_lmtp_session(reply).len, 0, "another reply: none");
    reply.p = "250 2.0.0 <bob@dom.test> Saved";
    reply.len = strlen(reply.p);
    is_int((long long)maillog_lmtp_session(reply).len, 0, "Saved without a session: none");
}

int main(void)
{
    test_headers();
    test_dovecot();
    test_rspamd();
    test_year();
    test_postfix();
    test_amavis();
    return done_testing();
}
