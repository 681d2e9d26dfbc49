/*
 * libFuzzer harness for the mail log line reader: any bytes as one line; every span an
 * event or the header points at must lie inside the line, and the time read must be a
 * valid one.
 */
#include "maillog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct maillog_span s, const char *line, size_t len)
{
    if (s.p != NULL && (s.p < line || s.p + s.len > line + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct maillog_line l;
    struct maillog_event ev;

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
    for (int pass = 0; pass < 2; pass++) {
        if ((pass == 0 ? maillog_postfix(&l, &ev) : maillog_amavis(&l, &ev)) < 0)
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
