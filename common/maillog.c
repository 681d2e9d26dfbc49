/*
 * maillog - the mail log's lines, read without I/O; see maillog.h.
 */
#include "maillog.h"

#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at p as a number, or -1 */
static int digits(const char *p, const char *end, int n)
{
    int v = 0;

    if (end - p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* ".123456" after the seconds: microseconds (more digits are cut, fewer padded) */
static const char *fraction(const char *p, const char *end, int *usec)
{
    int n = 0;

    *usec = 0;
    if (p >= end || *p != '.')
        return p;
    for (p++; p < end && is_digit(*p); p++, n++)
        if (n < 6)
            *usec = *usec * 10 + (*p - '0');
    for (; n < 6; n++)
        *usec *= 10;
    return p;
}

static bool valid_time(const struct maillog_time *t)
{
    return t->mon >= 0 && t->mon < 12 && t->mday >= 1 && t->mday <= 31 && t->hour >= 0 &&
           t->hour < 24 && t->min >= 0 && t->min < 60 && t->sec >= 0 && t->sec <= 60;
}

/* "2026-12-04T02:25:21.123456+01:00 " */
static const char *rfc3339(const char *p, const char *end, struct maillog_time *t)
{
    int oh, om;

    t->year = digits(p, end, 4);
    if (t->year < 0 || end - p < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' ') ||
        p[13] != ':' || p[16] != ':')
        return NULL;
    t->mon = digits(p + 5, end, 2) - 1;
    t->mday = digits(p + 8, end, 2);
    t->hour = digits(p + 11, end, 2);
    t->min = digits(p + 14, end, 2);
    t->sec = digits(p + 17, end, 2);
    p = fraction(p + 19, end, &t->usec);
    if (p < end && (*p == 'Z' || *p == 'z')) {
        t->has_offset = true;
        t->offset_min = 0;
        p++;
    } else if (end - p >= 5 && (*p == '+' || *p == '-') &&
               (oh = digits(p + 1, end, 2)) >= 0 && oh < 24 &&
               ((p[3] == ':' && end - p >= 6 && (om = digits(p + 4, end, 2)) >= 0) ||
                (p[3] != ':' && (om = digits(p + 3, end, 2)) >= 0)) &&
               om < 60) {
        /* "+01:00" (RFC 3339), "+0100" (journalctl -o short-iso) */
        t->has_offset = true;
        t->offset_min = (*p == '-' ? -1 : 1) * (oh * 60 + om);
        p += p[3] == ':' ? 6 : 5;
    } else {
        return NULL;
    }
    return valid_time(t) ? p : NULL;
}

/* "1764815121.123456 " (journalctl -o short-unix): seconds since the epoch, in UTC */
static const char *epoch_seconds(const char *p, const char *end, struct maillog_time *t)
{
    long long secs = 0;
    struct tm tm;
    time_t when;
    int n = 0;

    for (; p < end && is_digit(*p) && n < 12; p++, n++)
        secs = secs * 10 + (*p - '0');
    if (n < 9 || n >= 12 || p >= end || (*p != '.' && *p != ' '))
        return NULL;
    p = fraction(p, end, &t->usec);
    when = (time_t)secs;
    if (gmtime_r(&when, &tm) == NULL)
        return NULL;
    t->year = tm.tm_year + 1900;
    t->mon = tm.tm_mon;
    t->mday = tm.tm_mday;
    t->hour = tm.tm_hour;
    t->min = tm.tm_min;
    t->sec = tm.tm_sec;
    t->has_offset = true;
    t->offset_min = 0;
    return p;
}

/* "Dec  4 02:25:21[.uuuuuu] " (English month names, whatever the locale) */
static const char *rfc3164(const char *p, const char *end, struct maillog_time *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    if (end - p < 15 || p[3] != ' ')
        return NULL;
    t->mon = -1;
    for (int m = 0; m < 12; m++)
        if (strncmp(p, months + 3 * m, 3) == 0)
            t->mon = m;
    p += 4;
    if (*p == ' ')
        p++;
    if (p < end && is_digit(*p) && p + 1 < end && is_digit(p[1])) {
        t->mday = digits(p, end, 2);
        p += 2;
    } else if (p < end && is_digit(*p)) {
        t->mday = *p++ - '0';
    } else {
        return NULL;
    }
    if (end - p < 9 || *p != ' ' || p[3] != ':' || p[6] != ':')
        return NULL;
    t->hour = digits(p + 1, end, 2);
    t->min = digits(p + 4, end, 2);
    t->sec = digits(p + 7, end, 2);
    p = fraction(p + 9, end, &t->usec);
    t->year = 0;
    t->has_offset = false;
    return valid_time(t) ? p : NULL;
}

int maillog_parse(const char *line, size_t len, struct maillog_line *out)
{
    const char *p = line, *end = line + len, *tag, *q;

    memset(out, 0, sizeof(*out));
    out->pid = -1;
    if (len > MAILLOG_MAX_LINE)
        return -1;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end - p >= 5 && is_digit(*p) && p[4] == '-')
        p = rfc3339(p, end, &out->time);
    else if (p < end && is_digit(*p))
        p = epoch_seconds(p, end, &out->time);
    else
        p = rfc3164(p, end, &out->time);
    if (p == NULL || p >= end || *p != ' ')
        return -1;
    p++;
    out->host.p = p;
    while (p < end && *p != ' ')
        p++;
    out->host.len = (size_t)(p - out->host.p);
    if (out->host.len == 0 || p >= end)
        return -1;
    tag = ++p;
    while (p < end && *p != '[' && *p != ':' && *p != ' ')
        p++;
    out->program.p = tag;
    out->program.len = (size_t)(p - tag);
    if (out->program.len == 0 || p >= end)
        return -1;
    if (*p == '[') {
        long pid = 0;
        for (p++; p < end && is_digit(*p) && pid < 100000000; p++)
            pid = pid * 10 + (*p - '0');
        if (p >= end || *p != ']')
            return -1;
        out->pid = pid;
        p++;
    }
    if (p >= end || *p != ':')
        return -1;
    p++;
    if (p < end && *p == ' ')
        p++;
    out->msg.p = p;
    out->msg.len = (size_t)(end - p);
    /* instance: up to the first '/'; service: after the last '/' */
    out->instance.p = tag;
    q = memchr(tag, '/', out->program.len);
    out->instance.len = q ? (size_t)(q - tag) : out->program.len;
    out->service.p = tag + out->program.len;
    for (q = tag + out->program.len; q > tag; q--)
        if (q[-1] == '/') {
            out->service.p = q;
            break;
        }
    out->service.len = (size_t)(tag + out->program.len - out->service.p);
    return 0;
}

/* ---- time ---- */

int maillog_year(const struct maillog_time *t, time_t ref)
{
    struct tm r;
    struct maillog_time c = *t;
    time_t when;

    if (t->year != 0)
        return t->year;
    localtime_r(&ref, &r);
    c.year = r.tm_year + 1900;
    when = maillog_epoch(&c, c.year);
    /* more than a day ahead of when it was read: it was logged last year */
    return when > ref + 86400 ? c.year - 1 : c.year;
}

time_t maillog_epoch(const struct maillog_time *t, int year)
{
    /* the hour's start, kept: a log's lines come an hour at a time (mktime is the cost of
     * a line otherwise); within an hour a local time is the hour's start plus its minutes */
    static __thread struct {
        int year, mon, mday, hour, offset_min;
        bool has_offset, valid;
        time_t base;
    } last;
    struct tm tm;

    if (!(last.valid && last.year == year && last.mon == t->mon && last.mday == t->mday &&
          last.hour == t->hour && last.has_offset == t->has_offset &&
          last.offset_min == t->offset_min)) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = year - 1900;
        tm.tm_mon = t->mon;
        tm.tm_mday = t->mday;
        tm.tm_hour = t->hour;
        if (t->has_offset) {
            last.base = timegm(&tm) - (time_t)t->offset_min * 60;
        } else {
            tm.tm_isdst = -1;
            last.base = mktime(&tm);
        }
        last.year = year;
        last.mon = t->mon;
        last.mday = t->mday;
        last.hour = t->hour;
        last.has_offset = t->has_offset;
        last.offset_min = t->offset_min;
        last.valid = true;
    }
    return last.base + (time_t)t->min * 60 + t->sec;
}

/* ---- Postfix ---- */

static bool span_is(struct maillog_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* the first occurrence of lit in [p, end) */
static const char *find(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    for (; (size_t)(end - p) >= n; p++) {
        p = memchr(p, lit[0], (size_t)(end - p) - n + 1);
        if (p == NULL)
            return NULL;
        if (memcmp(p, lit, n) == 0)
            return p;
    }
    return NULL;
}

static const char *find_nocase(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    for (; (size_t)(end - p) >= n; p++)
        if (strncasecmp(p, lit, n) == 0)
            return p;
    return NULL;
}

static bool qid_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool maillog_is_queue_id(const char *s, size_t len)
{
    size_t i;
    bool hex = len >= 6 && len <= 20, lng = len >= 12 && len <= 24;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            hex = false;
        if (!qid_char(c) || (c >= 'a' && c <= 'z' && strchr("aeiou", c) != NULL) ||
            (c >= 'A' && c <= 'Z' && strchr("AEIOU", c) != NULL))
            lng = false;
    }
    /* the long form: time and a 'z' separating the inode part (Postfix's qmgr) */
    return hex || (lng && memchr(s, 'z', len) != NULL);
}

/*
 * "name=<value>" in [p, end): the value between the brackets (the bracket that closes it
 * is followed by ',', ' ' or the end); "name=value" without brackets: up to ',' or ' '.
 */
static bool field(const char *p, const char *end, const char *name, struct maillog_span *out)
{
    size_t n = strlen(name);
    const char *f = p, *v, *e;

    for (;;) {
        if ((f = find(f, end, name)) == NULL)
            return false;
        if ((f == p || f[-1] == ' ' || f[-1] == ',') && f + n < end && f[n] == '=')
            break;
        f += n;
    }
    v = f + n + 1;
    if (v < end && *v == '<') {
        for (e = ++v; e < end; e++)
            if (*e == '>' && (e + 1 == end || e[1] == ',' || e[1] == ' '))
                break;
        if (e >= end)
            return false;
    } else {
        for (e = v; e < end && *e != ',' && *e != ' '; e++)
            ;
    }
    out->p = v;
    out->len = (size_t)(e - v);
    return true;
}

static long long number(struct maillog_span s)
{
    long long v = 0;

    if (s.len == 0 || s.len > 18)
        return -1;
    for (size_t i = 0; i < s.len; i++) {
        if (!is_digit(s.p[i]))
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

/* A reject: the client after " from ", the reply after the client up to "; from=", from and to. */
static int reject(const struct maillog_line *l, const char *p, const char *end,
                  struct maillog_event *ev)
{
    const char *from = find(p, end, " from "), *reply = NULL, *stop;

    ev->kind = MAILLOG_REJECT;
    if (from != NULL) {
        const char *c = from + 6, *ce = c;
        while (ce < end && *ce != ' ' && *ce != ';' &&
               !(*ce == ':' && (ce + 1 == end || ce[1] == ' ')))
            ce++;
        ev->client.p = c;
        ev->client.len = (size_t)(ce - c);
        reply = find(ce, end, ": ");
    }
    if (reply != NULL) {
        reply += 2;
        stop = find(reply, end, "; from=");
        ev->reason.p = reply;
        ev->reason.len = (size_t)((stop != NULL ? stop : end) - reply);
    }
    field(p, end, "from", &ev->sender);
    field(p, end, "to", &ev->rcpt);
    /* Modoboa's rule: postscreen's 450 and "Greylisted" count as greylisting */
    ev->greylist = (span_is(l->service, "postscreen") && find(p, end, " 450 ") != NULL) ||
                   find(p, end, "Greylisted") != NULL;
    ev->spam = ev->reason.p != NULL &&
               find_nocase(ev->reason.p, ev->reason.p + ev->reason.len, "spam") != NULL;
    /* a milter's reject that names a virus ("5.7.1 Virus found: ...") */
    ev->virus = !ev->spam && ev->reason.p != NULL &&
                find_nocase(ev->reason.p, ev->reason.p + ev->reason.len, "virus") != NULL;
    return 0;
}

/* After "label": a queue id, or an empty span */
static struct maillog_span qid_after(const char *p, const char *end, const char *label)
{
    struct maillog_span out = {NULL, 0};
    const char *q = find(p, end, label), *e;

    if (q == NULL)
        return out;
    for (q += strlen(label), e = q; e < end && qid_char(*e); e++)
        ;
    if (maillog_is_queue_id(q, (size_t)(e - q))) {
        out.p = q;
        out.len = (size_t)(e - q);
    }
    return out;
}

int maillog_postfix(const struct maillog_line *l, struct maillog_event *ev)
{
    const char *p = l->msg.p, *end = l->msg.p + l->msg.len, *colon;
    struct maillog_span v;

    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
    if (starts(p, end, "NOQUEUE: reject: ") || starts(p, end, "NOQUEUE: milter-reject: "))
        return reject(l, p + 9, end, ev);
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL || colon + 1 >= end || colon[1] != ' ' ||
        !maillog_is_queue_id(p, (size_t)(colon - p)))
        return 0; /* not about a message */
    ev->queue_id.p = p;
    ev->queue_id.len = (size_t)(colon - p);
    p = colon + 2;
    if (starts(p, end, "client=")) {
        ev->kind = MAILLOG_CLIENT;
        field(p, end, "client", &ev->client);
        field(p, end, "sasl_username", &ev->sasl_username);
    } else if (starts(p, end, "message-id=")) {
        ev->kind = MAILLOG_MESSAGE_ID;
        if (!field(p, end, "message-id", &ev->message_id))
            return -1;
    } else if (starts(p, end, "from=")) {
        if (!field(p, end, "from", &ev->sender))
            return -1;
        if (field(p, end, "status", &v) && span_is(v, "expired")) {
            ev->kind = MAILLOG_EXPIRED;
            ev->status = MAILLOG_EXPIRED_STATUS;
            return 0;
        }
        ev->kind = MAILLOG_FROM;
        if (field(p, end, "size", &v))
            ev->size = number(v);
    } else if (starts(p, end, "to=")) {
        const char *open;
        ev->kind = MAILLOG_DELIVERY;
        if (!field(p, end, "to", &ev->rcpt) || !field(p, end, "status", &v))
            return -1;
        field(p, end, "orig_to", &ev->orig_rcpt);
        field(p, end, "relay", &ev->relay);
        field(p, end, "dsn", &ev->dsn);
        ev->status = span_is(v, "sent")       ? MAILLOG_SENT
                     : span_is(v, "bounced")  ? MAILLOG_BOUNCED
                     : span_is(v, "deferred") ? MAILLOG_DEFERRED
                     : span_is(v, "expired")  ? MAILLOG_EXPIRED_STATUS
                                              : MAILLOG_NONE;
        open = v.p + v.len;
        if (open + 2 < end && open[0] == ' ' && open[1] == '(') {
            const char *close = end;
            while (close > open && close[-1] != ')')
                close--;
            if (close > open + 2) {
                ev->reason.p = open + 2;
                ev->reason.len = (size_t)(close - 1 - (open + 2));
            }
        }
        if (ev->reason.p != NULL)
            ev->queued_as = qid_after(ev->reason.p, ev->reason.p + ev->reason.len, "queued as ");
    } else if (starts(p, end, "removed")) {
        ev->kind = MAILLOG_REMOVED;
    } else if (starts(p, end, "milter-reject: ") || starts(p, end, "reject: ")) {
        return reject(l, p, end, ev);
    }
    return 0;
}

/* ---- amavis ---- */

int maillog_amavis(const struct maillog_line *l, struct maillog_event *ev)
{
    const char *p = l->msg.p, *end = l->msg.p + l->msg.len, *verdict, *arrow, *e, *size;

    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
    if ((verdict = find(p, end, ") Passed ")) != NULL)
        verdict += 9;
    else if ((verdict = find(p, end, ") Blocked ")) != NULL)
        verdict += 10;
    else
        return 0;
    ev->kind = MAILLOG_FILTER;
    ev->virus = starts(verdict, end, "INFECTED");
    ev->spam = starts(verdict, end, "SPAM"); /* SPAM and SPAMMY */
    /* "<s> -> <r1>,<r2>, Queue-ID: ..." */
    if ((arrow = find(verdict, end, "> -> <")) == NULL)
        return -1;
    for (e = arrow; e > verdict && *e != '<'; e--)
        ;
    if (*e != '<')
        return -1;
    ev->sender.p = e + 1;
    ev->sender.len = (size_t)(arrow - e - 1);
    ev->rcpt.p = arrow + 5;
    for (e = ev->rcpt.p; e < end; e++)
        if (*e == '>' && (e + 1 == end || (e[1] == ',' && (e + 2 == end || e[2] != '<'))))
            break;
    ev->rcpt.len = (size_t)((e < end ? e + 1 : end) - ev->rcpt.p);
    ev->queue_id = qid_after(p, end, "Queue-ID: ");
    ev->queued_as = qid_after(p, end, "queued_as: ");
    if ((size = find(p, end, ", size: ")) != NULL) {
        struct maillog_span n = {size + 8, 0};
        while (n.p + n.len < end && is_digit(n.p[n.len]))
            n.len++;
        ev->size = number(n);
    }
    return 0;
}

/*
 * rspamd's task line, logged through syslog (the default log_format):
 *   "<uid>; task; rspamd_task_write_log: id: <mid>, qid: <QID>, ip: ..., from: <s>,
 *    (default: T (add header): [8.10/15.00] [SYM1(1.00){...},CLAM_VIRUS(..)...]), len: N,
 *    time: ..., dns req: N, digest: <...>, rcpts: <a@x,b@y>, mime_rcpts: <...>"
 * A message tagged (add header, rewrite subject) is spam; one with a virus symbol that was
 * not rejected a virus. A rejected message is counted from Postfix's milter-reject line.
 */
int maillog_rspamd(const struct maillog_line *l, struct maillog_event *ev)
{
    const char *p = l->msg.p, *end = l->msg.p + l->msg.len, *t, *act, *e, *syms, *syms_end;

    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
    if ((t = find(p, end, "rspamd_task_write_log: ")) == NULL)
        return 0;
    ev->kind = MAILLOG_FILTER;
    /* "(default: T (ACTION): [score] [symbols]), len:" */
    if ((act = find(t, end, "(default: ")) == NULL ||
        (act = memchr(act + 1, '(', (size_t)(end - act - 1))) == NULL ||
        (e = memchr(act, ')', (size_t)(end - act))) == NULL)
        return -1;
    act++;
    syms = find(e, end, "] [");
    syms_end = syms ? find(syms, end, "]), len: ") : NULL;
    if (syms != NULL && syms_end == NULL)
        syms_end = end;
    ev->virus = syms != NULL && find(syms, syms_end, "VIRUS") != NULL;
    ev->spam = !ev->virus && (starts(act, e, "add header") || starts(act, e, "rewrite subject"));
    if (starts(act, e, "reject"))
        ev->spam = ev->virus = false; /* Postfix's milter-reject line counts it */
    ev->queue_id = qid_after(t, end, "qid: <");
    if ((t = find(e, end, " rcpts: <")) != NULL) {
        t += 9;
        if ((e = memchr(t, '>', (size_t)(end - t))) == NULL)
            return -1;
        ev->rcpt.p = t; /* "a@x,b@y" */
        ev->rcpt.len = (size_t)(e - t);
    }
    return 0;
}

int maillog_dovecot(const struct maillog_line *l, struct maillog_event *ev)
{
    const char *p = l->msg.p, *end = l->msg.p + l->msg.len, *q, *groups[2][2];
    int n = 0;

    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
    if (starts(p, end, "lmtp("))
        p += 5;
    else if (starts(p, end, "lda("))
        p += 4;
    else
        return 0;
    /* USER) then <PID><SESSION> (or one of them), then ": " */
    for (q = p; q < end && *q != ')' && *q != ' '; q++)
        ;
    if (q >= end || *q != ')' || q == p)
        return 0; /* "lmtp(12345): Connect from ...": no user, no delivery */
    ev->rcpt.p = p;
    ev->rcpt.len = (size_t)(q - p);
    p = q + 1;
    while (p < end && *p == '<' && n < 2) {
        if ((q = memchr(p, '>', (size_t)(end - p))) == NULL)
            return -1;
        if (memchr(p, ' ', (size_t)(q - p)) != NULL)
            return 0; /* not Dovecot's <PID><SESSION> */
        groups[n][0] = p + 1;
        groups[n][1] = q;
        n++;
        p = q + 1;
    }
    if (!starts(p, end, ": "))
        return 0;
    p += 2;
    for (int i = n - 1; i >= 0; i--) { /* the session: the last group that is not the pid */
        const char *g = groups[i][0];
        bool digits_only = g < groups[i][1];
        for (; g < groups[i][1]; g++)
            digits_only = digits_only && is_digit(*g);
        if (!digits_only) {
            ev->session.p = groups[i][0];
            ev->session.len = (size_t)(groups[i][1] - groups[i][0]);
            break;
        }
    }
    if (starts(p, end, "Info: ")) /* Dovecot's own log file; syslog has the level apart */
        p += 6;
    if (starts(p, end, "sieve: ")) {
        ev->sieve = true;
        p += 7;
    }
    if (!starts(p, end, "msgid="))
        return 0; /* an error, a Sieve warning: not a delivery */
    p += 6;
    ev->message_id.p = p;
    if (p < end && *p == '<' && (q = memchr(p, '>', (size_t)(end - p))) != NULL)
        q++;
    else
        q = find(p, end, ": ");
    if (q == NULL || !starts(q, end, ": "))
        return -1;
    ev->message_id.len = (size_t)(q - p);
    ev->reason.p = q + 2;
    ev->reason.len = (size_t)(end - q - 2);
    ev->kind = MAILLOG_MAILBOX;
    return 0;
}

struct maillog_span maillog_lmtp_session(struct maillog_span reply)
{
    struct maillog_span none = {NULL, 0}, s;
    const char *end = reply.p + reply.len, *p;

    if (reply.len < 16 || memcmp(end - 6, " Saved", 6) != 0 || reply.p[0] != '2')
        return none;
    end -= 6;
    for (p = end; p > reply.p && p[-1] != ' '; p--)
        ;
    if (p == end || p - reply.p < 2 || p[-2] != '>')
        return none; /* "250 2.0.0 <USER> SESSION Saved": the session follows the address */
    s.p = p;
    s.len = (size_t)(end - p);
    return s;
}
