/*
 * libFuzzer harness for the mail log line reader: any bytes as one line; every span an
 * event or the header points at must lie inside the line, and the time read must be a
 * valid one. Then the input's lines go through the tracker (8 queue ids at most), whose
 * records must name a known status, and whose saved queue ids load back to the same text;
 * the input itself is loaded as saved queue ids.
 */
#include "maillog.h"
#include "maillog_track.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct maillog_span s, const char *line, size_t len)
{
    if (s.p != NULL && (s.p < line || s.p + s.len > line + len))
        abort();
}

static bool any_domain(void *arg, const char *domain)
{
    (void)arg;
    return domain[0] != '\0' && domain[0] < 'n'; /* half of them hosted */
}

static void counted(void *arg, const char *domain, enum maillog_counter c, time_t t, long long v)
{
    (void)arg;
    (void)t;
    if (domain[0] == '\0' || c >= MAILLOG_C__COUNT || v <= 0)
        abort();
}

static void recorded(void *arg, const struct maillog_record *r)
{
    static const char *const statuses[] = {"received", "sent", "bounced", "deferred", "expired",
                                           "rejected"};
    size_t i;

    (void)arg;
    for (i = 0; i < 6 && strcmp(r->status, statuses[i]) != 0; i++)
        ;
    if (i == 6 || r->sender == NULL || r->rcpt == NULL || r->reason == NULL || r->size < 0)
        abort();
}

static const struct maillog_track_ops ops = {any_domain, counted, recorded};

static void track(const char *data, size_t size)
{
    struct maillog_track *t = maillog_track_new(&ops, NULL, 8, 600, size % 2 == 0);
    const char *p = data, *end = data + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        maillog_track_line(t, p, n, 1796256000);
        p += n + (nl != NULL);
    }
    {
        /* a checkpoint's text loads back to the same text */
        struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        struct maillog_track *u = maillog_track_new(&ops, NULL, 8, 600, false);
        maillog_track_save(t, &a);
        if (maillog_track_load(u, a.data ? a.data : "", a.len) < 0)
            abort();
        maillog_track_save(u, &b);
        if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
            abort();
        strbuf_free(&a);
        strbuf_free(&b);
        maillog_track_free(&u);
        /* and arbitrary text is refused or loaded, never a crash */
        u = maillog_track_new(&ops, NULL, 8, 600, false);
        (void)maillog_track_load(u, data, size);
        maillog_track_free(&u);
    }
    maillog_track_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct maillog_line l;
    struct maillog_event ev;

    track(line, size);
    if (maillog_parse(line, size, &l) < 0)
        return 0;
    if (l.time.mon < 0 || l.time.mon > 11 || l.time.mday < 1 || l.time.mday > 31 ||
        l.time.usec < 0 || l.time.usec > 999999)
        abort();
    inside(l.host, line, size);
    inside(l.program, line, size);
    inside(l.instance, line, size);
    inside(l.service, line, size);
    inside(l.msg, line, size);
    for (int pass = 0; pass < 3; pass++) {
        if ((pass == 0   ? maillog_postfix(&l, &ev)
             : pass == 1 ? maillog_amavis(&l, &ev)
                         : maillog_rspamd(&l, &ev)) < 0)
            continue;
        inside(ev.queue_id, line, size);
        inside(ev.sender, line, size);
        inside(ev.rcpt, line, size);
        inside(ev.orig_rcpt, line, size);
        inside(ev.message_id, line, size);
        inside(ev.relay, line, size);
        inside(ev.dsn, line, size);
        inside(ev.reason, line, size);
        inside(ev.queued_as, line, size);
        inside(ev.client, line, size);
        inside(ev.sasl_username, line, size);
        if (ev.queue_id.len > 0 && !maillog_is_queue_id(ev.queue_id.p, ev.queue_id.len))
            abort();
    }
    return 0;
}
