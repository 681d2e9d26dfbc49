/*
 * maillog_track - mail log lines to Modoboa's counters and message history; see
 * maillog_track.h.
 */
#include "maillog_track.h"

#include "maillog.h"
#include "strbuf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

const char *const maillog_counter_names[MAILLOG_C__COUNT] = {
    "sent", "recv", "bounced", "reject", "spam", "virus", "size_sent", "size_recv", "greylist",
};

struct qentry {
    char qid[32];
    char *sender; /* SRS unwrapped; NULL until from= */
    char *origs;  /* a content filter's hop: "rcpt\torig\t..." the hop's original recipients */
    long long size;
    time_t last;
    TAILQ_ENTRY(qentry) lru;
    struct qentry *next; /* in its bucket */
};
TAILQ_HEAD(qlist, qentry);

struct maillog_track {
    const struct maillog_track_ops *ops;
    void *arg;
    size_t max_ids, nids, nbuckets;
    long ttl;
    bool greylist;
    bool loading; /* a checkpoint is loaded as it was saved: nothing evicted for its age */
    struct qentry **buckets;
    struct qlist lru; /* least recently seen first */
    struct maillog_track_stats st;
    /* Dovecot's deliveries that were not the INBOX's plain save (Sieve's actions), by
     * session id, until Postfix's LMTP line that names the session: a ring, newest last */
    struct {
        char session[80];
        char *text;
    } notes[MAILLOG_NOTES];
    unsigned notes_next;
};

struct maillog_track *maillog_track_new(const struct maillog_track_ops *ops, void *arg,
                                        size_t max_ids, long ttl, bool greylist)
{
    struct maillog_track *t = xcalloc(1, sizeof(*t));

    t->ops = ops;
    t->arg = arg;
    t->max_ids = max_ids > 0 ? max_ids : 1;
    t->ttl = ttl;
    t->greylist = greylist;
    for (t->nbuckets = 64; t->nbuckets < t->max_ids; t->nbuckets *= 2)
        ;
    t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
    TAILQ_INIT(&t->lru);
    return t;
}

static struct qentry **slot(struct maillog_track *t, const char *qid, size_t len)
{
    struct qentry **e = &t->buckets[str_hash(qid, len) & (t->nbuckets - 1)];

    while (*e != NULL && !(strlen((*e)->qid) == len && memcmp((*e)->qid, qid, len) == 0))
        e = &(*e)->next;
    return e;
}

static void drop(struct maillog_track *t, struct qentry *q)
{
    struct qentry **e = slot(t, q->qid, strlen(q->qid));

    *e = q->next;
    TAILQ_REMOVE(&t->lru, q, lru);
    free(q->sender);
    free(q->origs);
    free(q);
    t->nids--;
}

void maillog_track_free(struct maillog_track **tp)
{
    struct maillog_track *t = *tp;

    if (t == NULL)
        return;
    while (!TAILQ_EMPTY(&t->lru))
        drop(t, TAILQ_FIRST(&t->lru));
    for (unsigned i = 0; i < MAILLOG_NOTES; i++)
        free(t->notes[i].text);
    free(t->buckets);
    free(t);
    *tp = NULL;
}

void maillog_track_stats(const struct maillog_track *t, struct maillog_track_stats *st)
{
    *st = t->st;
    st->queue_ids = t->nids;
}

/* The entry of a queue id (made if create), seen at now: the oldest go past ttl or max_ids */
static struct qentry *entry(struct maillog_track *t, struct maillog_span qid, time_t now,
                            bool create)
{
    struct qentry **e, *q;

    while (!t->loading && !TAILQ_EMPTY(&t->lru) && TAILQ_FIRST(&t->lru)->last + t->ttl < now) {
        drop(t, TAILQ_FIRST(&t->lru));
        t->st.evicted++;
    }
    if (qid.len == 0 || qid.len >= sizeof(q->qid))
        return NULL;
    e = slot(t, qid.p, qid.len);
    if ((q = *e) == NULL) {
        if (!create)
            return NULL;
        if (t->nids >= t->max_ids) {
            drop(t, TAILQ_FIRST(&t->lru));
            t->st.evicted++;
            e = slot(t, qid.p, qid.len);
        }
        q = xcalloc(1, sizeof(*q));
        memcpy(q->qid, qid.p, qid.len);
        *e = q;
        t->nids++;
    } else {
        TAILQ_REMOVE(&t->lru, q, lru);
    }
    q->last = now;
    TAILQ_INSERT_TAIL(&t->lru, q, lru);
    return q;
}

/* ---- checkpoints ---- */

/* "QID SIZE LAST ORIGS SENDER\n": ORIGS "-" or "rcpt\torig\t...", SENDER "-" when unknown,
 * else "<" sender (it may be empty) */
void maillog_track_save(const struct maillog_track *t, struct strbuf *out)
{
    const struct qentry *q;

    TAILQ_FOREACH(q, &t->lru, lru) {
        strbuf_printf(out, "%s %lld %lld %s ", q->qid, q->size, (long long)q->last,
                      q->origs != NULL ? q->origs : "-");
        if (q->sender == NULL)
            strbuf_putc(out, '-');
        else {
            strbuf_putc(out, '<');
            strbuf_puts(out, q->sender);
        }
        strbuf_putc(out, '\n');
    }
}

int maillog_track_load(struct maillog_track *t, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp[4], *s = p;
        long long size, last;
        struct qentry *q;
        char num[32];
        int i;

        if (nl == NULL)
            return -1;
        for (i = 0; i < 4; i++) {
            sp[i] = memchr(s, ' ', (size_t)(nl - s));
            if (sp[i] == NULL)
                return -1;
            s = sp[i] + 1;
        }
        if (sp[1] - sp[0] - 1 >= (long)sizeof(num) || sp[2] - sp[1] - 1 >= (long)sizeof(num))
            return -1;
        snprintf(num, sizeof(num), "%.*s", (int)(sp[1] - sp[0] - 1), sp[0] + 1);
        if (sscanf(num, "%lld", &size) != 1)
            return -1;
        snprintf(num, sizeof(num), "%.*s", (int)(sp[2] - sp[1] - 1), sp[1] + 1);
        if (sscanf(num, "%lld", &last) != 1)
            return -1;
        if (!(s < nl && (*s == '-' || *s == '<')) || !maillog_is_queue_id(p, (size_t)(sp[0] - p)) ||
            sp[3] == sp[2] + 1)
            return -1;
        t->loading = true;
        q = entry(t, (struct maillog_span){p, (size_t)(sp[0] - p)}, (time_t)last, true);
        t->loading = false;
        if (q == NULL)
            return -1;
        q->size = size;
        free(q->sender);
        q->sender = *s == '<' ? xstrndup(s + 1, (size_t)(nl - s - 1)) : NULL;
        free(q->origs);
        q->origs = sp[3] - sp[2] - 1 == 1 && sp[2][1] == '-'
                       ? NULL
                       : xstrndup(sp[2] + 1, (size_t)(sp[3] - sp[2] - 1));
        p = nl + 1;
    }
    return 0;
}

/* ---- addresses ---- */

char *maillog_srs_unwrap(const char *addr, size_t len)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = addr, *end = addr + len, *at, *f[3];
    int n = 0;

    at = memchr(addr, '@', len);
    if (len > 5 && strncasecmp(addr, "SRS1", 4) == 0 && (addr[4] == '=' || addr[4] == '+' ||
                                                         addr[4] == '-')) {
        /* SRS1=HHH=forwarder==HHH=TT=domain=local@...: the SRS0 part after "==" */
        const char *dd = NULL;
        for (const char *s = addr + 5; s + 1 < (at ? at : end); s++)
            if (s[0] == '=' && s[1] == '=') {
                dd = s + 2;
                break;
            }
        if (dd == NULL)
            goto plain;
        p = dd;
    } else if (len > 5 && strncasecmp(addr, "SRS0", 4) == 0 &&
               (addr[4] == '=' || addr[4] == '+' || addr[4] == '-')) {
        p = addr + 5;
    } else {
        goto plain;
    }
    /* HHH=TT=domain=local@forwarder */
    if (at == NULL)
        goto plain;
    for (const char *s = p; s < at && n < 3; s++)
        if (*s == '=')
            f[n++] = s;
    if (n < 3)
        goto plain;
    strbuf_append(&sb, f[2] + 1, (size_t)(at - f[2] - 1));
    strbuf_putc(&sb, '@');
    strbuf_append(&sb, f[1] + 1, (size_t)(f[2] - f[1] - 1));
    return strbuf_steal(&sb);
plain:
    strbuf_append(&sb, addr, len);
    return strbuf_steal(&sb);
}

static bool is_srs(struct maillog_span a)
{
    return a.len > 5 && (strncasecmp(a.p, "SRS0", 4) == 0 || strncasecmp(a.p, "SRS1", 4) == 0) &&
           (a.p[4] == '=' || a.p[4] == '+' || a.p[4] == '-');
}

/* The domain of an address, lower case, in buf ("" if none) */
static const char *domain_of(const char *addr, size_t len, char *buf, size_t size)
{
    const char *at = NULL;
    size_t i, n = 0;

    for (i = len; i > 0; i--)
        if (addr[i - 1] == '@') {
            at = addr + i;
            break;
        }
    if (at != NULL)
        for (; at < addr + len && n + 1 < size; at++)
            buf[n++] = (char)tolower((unsigned char)*at);
    buf[n] = '\0';
    return buf;
}

static char *copy(struct maillog_span s)
{
    return xstrndup(s.p ? s.p : "", s.len);
}

/* ---- counting ---- */

static bool hosted(struct maillog_track *t, const char *domain)
{
    return domain[0] != '\0' && t->ops->hosted(t->arg, domain);
}

/* the domain's counter and global's (only hosted domains count) */
static void count(struct maillog_track *t, const char *domain, enum maillog_counter c,
                  time_t when, long long v)
{
    if (!hosted(t, domain) || v <= 0)
        return;
    t->ops->count(t->arg, domain, c, when, v);
    t->ops->count(t->arg, "global", c, when, v);
}

/* the recipient's side of a delivery: its domain if hosted, and global whatever the domain
 * (Modoboa's global counts every delivery, to remote recipients too) */
static void count_rcpt(struct maillog_track *t, const char *domain, enum maillog_counter c,
                       time_t when, long long v)
{
    if (v <= 0)
        return;
    if (hosted(t, domain))
        t->ops->count(t->arg, domain, c, when, v);
    t->ops->count(t->arg, "global", c, when, v);
}

static bool loopback_relay(struct maillog_span relay)
{
    const char *end = relay.p + relay.len, *b = relay.p ? memchr(relay.p, '[', relay.len) : NULL;

    if (b == NULL)
        return false;
    b++;
    return (end - b >= 4 && memcmp(b, "127.", 4) == 0) || (end - b >= 4 && memcmp(b, "::1]", 4) == 0) ||
           (end - b >= 8 && memcmp(b, "private/", 8) == 0) || (end - b >= 7 && memcmp(b, "public/", 7) == 0);
}

static void record_noted(struct maillog_track *t, const char *qid, time_t when,
                         const char *sender, struct maillog_span rcpt, struct maillog_span orig,
                         long long size, const char *status, struct maillog_span reason,
                         const char *note)
{
    char fd[256], td[256];
    char *r = copy(rcpt), *o = orig.len ? copy(orig) : NULL, *why = copy(reason);
    struct maillog_record rec = {qid, when, sender ? sender : "", r, o, size > 0 ? size : 0,
                                 status, NULL, NULL, why, note};

    domain_of(rec.sender, strlen(rec.sender), fd, sizeof(fd));
    domain_of(o && !is_srs(orig) ? o : r, strlen(o && !is_srs(orig) ? o : r), td, sizeof(td));
    rec.from_domain = hosted(t, fd) ? fd : NULL;
    rec.to_domain = hosted(t, td) ? td : NULL;
    if (strcmp(status, "sent") == 0 && rec.to_domain != NULL)
        rec.status = "received";
    t->ops->record(t->arg, &rec);
    free(r);
    free(o);
    free(why);
}

static void record(struct maillog_track *t, const char *qid, time_t when, const char *sender,
                   struct maillog_span rcpt, struct maillog_span orig, long long size,
                   const char *status, struct maillog_span reason)
{
    record_noted(t, qid, when, sender, rcpt, orig, size, status, reason, NULL);
}

/* ---- Dovecot's side of an LMTP delivery ---- */

static int note_find(const struct maillog_track *t, struct maillog_span session)
{
    for (unsigned k = 1; k <= MAILLOG_NOTES; k++) { /* newest first: it is almost always */
        unsigned i = (t->notes_next + MAILLOG_NOTES - k) % MAILLOG_NOTES;
        if (t->notes[i].text != NULL && strlen(t->notes[i].session) == session.len &&
            memcmp(t->notes[i].session, session.p, session.len) == 0)
            return (int)i;
    }
    return -1;
}

static bool plain_save(struct maillog_span text)
{
    return (text.len == 19 && memcmp(text.p, "saved mail to INBOX", 19) == 0) ||
           (text.len == 32 && memcmp(text.p, "stored mail into mailbox 'INBOX'", 32) == 0);
}

/* Dovecot delivered: a Sieve action or a save elsewhere than the INBOX is kept for the
 * Postfix line of the session (several lines of one session are joined by "; ") */
static void mailbox(struct maillog_track *t, const struct maillog_event *ev)
{
    struct strbuf sb = STRBUF_INIT;
    int i;

    if (ev->session.len == 0 || ev->session.len >= sizeof(t->notes[0].session))
        return;
    i = note_find(t, ev->session);
    if (i < 0 && plain_save(ev->reason))
        return; /* also Sieve's implicit keep */
    if (i >= 0)
        strbuf_printf(&sb, "%s; ", t->notes[i].text);
    strbuf_printf(&sb, "%s%.*s", ev->sieve ? "sieve: " : "", (int)ev->reason.len, ev->reason.p);
    if (sb.len > 500)
        strbuf_truncate(&sb, 500);
    if (i < 0) {
        i = (int)t->notes_next;
        t->notes_next = (t->notes_next + 1) % MAILLOG_NOTES;
        snprintf(t->notes[i].session, sizeof(t->notes[i].session), "%.*s",
                 (int)ev->session.len, ev->session.p);
    }
    free(t->notes[i].text);
    t->notes[i].text = strbuf_steal(&sb);
}

/* the note of the session Postfix's LMTP reply names, taken (NULL: none) */
static char *note_take(struct maillog_track *t, struct maillog_span reply)
{
    struct maillog_span session = maillog_lmtp_session(reply);
    char *text;
    int i;

    if (session.len == 0 || (i = note_find(t, session)) < 0)
        return NULL;
    text = t->notes[i].text;
    t->notes[i].text = NULL;
    return text;
}

/* a hop's original recipient of rcpt, kept on the re-injected message (empty if none) */
static struct maillog_span hop_orig(const struct qentry *q, struct maillog_span rcpt)
{
    const char *p = q != NULL ? q->origs : NULL;
    struct maillog_span none = {NULL, 0};

    while (p != NULL && *p) {
        const char *tab = strchr(p, '\t'), *next;
        if (tab == NULL)
            break;
        next = strchr(tab + 1, '\t');
        if ((size_t)(tab - p) == rcpt.len && strncasecmp(p, rcpt.p, rcpt.len) == 0)
            return (struct maillog_span){tab + 1, next ? (size_t)(next - tab - 1) : strlen(tab + 1)};
        p = next ? next + 1 : NULL;
    }
    return none;
}

static bool plain_address(struct maillog_span a)
{
    return a.len > 0 && a.len < 512 && memchr(a.p, ' ', a.len) == NULL &&
           memchr(a.p, '\t', a.len) == NULL;
}

static void delivery(struct maillog_track *t, const struct maillog_event *ev, time_t when)
{
    struct qentry *q = entry(t, ev->queue_id, when, true);
    const char *sender = q && q->sender ? q->sender : "";
    long long size = q ? q->size : 0;
    struct maillog_span orig = ev->orig_rcpt.len ? ev->orig_rcpt : hop_orig(q, ev->rcpt);
    struct maillog_span to = orig.len && !is_srs(orig) ? orig : ev->rcpt;
    char sd[256], rd[256];
    struct qentry *next;

    /*
     * A content filter's hop: a loopback relay that answered with the queue id of a message
     * this log has already shown (the filter re-injects before it answers). The re-injected
     * message is the one counted; it inherits the sender, the size and the hop's original
     * recipient. A relay on loopback whose queue id is not this log's is a delivery.
     */
    if (ev->queued_as.len > 0 && loopback_relay(ev->relay) &&
        (next = entry(t, ev->queued_as, when, false)) != NULL) {
        if (next->sender == NULL && q != NULL && q->sender != NULL) {
            next->sender = xstrdup(q->sender);
            next->size = q->size;
        }
        if (orig.len > 0 && plain_address(orig) && plain_address(ev->rcpt)) {
            struct strbuf sb = STRBUF_INIT;
            if (next->origs != NULL)
                strbuf_printf(&sb, "%s\t", next->origs);
            strbuf_printf(&sb, "%.*s\t%.*s", (int)ev->rcpt.len, ev->rcpt.p, (int)orig.len, orig.p);
            free(next->origs);
            next->origs = strbuf_steal(&sb);
        }
        return;
    }
    domain_of(sender, strlen(sender), sd, sizeof(sd));
    domain_of(to.p, to.len, rd, sizeof(rd));
    switch (ev->status) {
    case MAILLOG_SENT:
    case MAILLOG_BOUNCED:
        /* Modoboa: the sender's domain counts a sent message (and size) per recipient line */
        count(t, sd, MAILLOG_C_SENT, when, 1);
        count(t, sd, MAILLOG_C_SIZE_SENT, when, size);
        if (ev->status == MAILLOG_SENT) {
            count_rcpt(t, rd, MAILLOG_C_RECV, when, 1);
            count_rcpt(t, rd, MAILLOG_C_SIZE_RECV, when, size);
        } else {
            count_rcpt(t, rd, MAILLOG_C_BOUNCED, when, 1);
        }
        {
            char *note = ev->status == MAILLOG_SENT ? note_take(t, ev->reason) : NULL;
            record_noted(t, q ? q->qid : "", when, sender, ev->rcpt, orig, size,
                         ev->status == MAILLOG_SENT ? "sent" : "bounced", ev->reason, note);
            free(note);
        }
        break;
    case MAILLOG_DEFERRED:
        record(t, q ? q->qid : "", when, sender, ev->rcpt, orig, size, "deferred", ev->reason);
        break;
    case MAILLOG_EXPIRED_STATUS:
        record(t, q ? q->qid : "", when, sender, ev->rcpt, orig, size, "expired", ev->reason);
        break;
    default:
        break;
    }
}

static void rejected(struct maillog_track *t, const struct maillog_event *ev, time_t when)
{
    char rd[256];
    char *sender = maillog_srs_unwrap(ev->sender.p ? ev->sender.p : "", ev->sender.len);
    char qid[32] = "NOQUEUE";
    struct maillog_span none = {NULL, 0};

    if (ev->queue_id.len > 0 && ev->queue_id.len < sizeof(qid))
        snprintf(qid, sizeof(qid), "%.*s", (int)ev->queue_id.len, ev->queue_id.p);
    domain_of(ev->rcpt.p ? ev->rcpt.p : "", ev->rcpt.len, rd, sizeof(rd));
    count(t, rd, ev->greylist && t->greylist ? MAILLOG_C_GREYLIST
                 : ev->spam                  ? MAILLOG_C_SPAM
                 : ev->virus                 ? MAILLOG_C_VIRUS
                                             : MAILLOG_C_REJECT,
          when, 1);
    if (!(ev->greylist && t->greylist)) /* greylisting: a retry comes */
        record(t, qid, when, sender, ev->rcpt, none, 0, "rejected", ev->reason);
    free(sender);
}

/* amavis ("<a>,<b>") or rspamd ("a,b"): spam or virus for each recipient's domain */
static void filtered(struct maillog_track *t, const struct maillog_event *ev, time_t when)
{
    const char *p = ev->rcpt.p, *end = ev->rcpt.p + ev->rcpt.len;
    bool bracketed = ev->rcpt.len > 0 && p[0] == '<';
    char rd[256];

    if (!ev->spam && !ev->virus)
        return;
    while (p < end) {
        const char *open = bracketed ? memchr(p, '<', (size_t)(end - p)) : p - 1, *close;
        if (open == NULL)
            break;
        close = memchr(open + 1, bracketed ? '>' : ',', (size_t)(end - open - 1));
        if (close == NULL) {
            if (bracketed)
                break;
            close = end;
        }
        domain_of(open + 1, (size_t)(close - open - 1), rd, sizeof(rd));
        count(t, rd, ev->virus ? MAILLOG_C_VIRUS : MAILLOG_C_SPAM, when, 1);
        p = close + 1;
    }
}

void maillog_track_line(struct maillog_track *t, const char *line, size_t len, time_t ref)
{
    struct maillog_line l;
    struct maillog_event ev;
    struct qentry *q;
    time_t when;
    int rc;

    t->st.lines++;
    if (maillog_parse(line, len, &l) < 0) {
        t->st.malformed++;
        return;
    }
    when = maillog_epoch(&l.time, maillog_year(&l.time, ref));
    if (when > t->st.newest)
        t->st.newest = when;
    if (l.instance.len >= 7 && memcmp(l.instance.p, "postfix", 7) == 0)
        rc = maillog_postfix(&l, &ev);
    else if (l.program.len == 6 && memcmp(l.program.p, "amavis", 6) == 0)
        rc = maillog_amavis(&l, &ev);
    else if (l.program.len == 6 && memcmp(l.program.p, "rspamd", 6) == 0)
        rc = maillog_rspamd(&l, &ev);
    else if (l.program.len == 7 && memcmp(l.program.p, "dovecot", 7) == 0)
        rc = maillog_dovecot(&l, &ev);
    else {
        t->st.ignored++;
        return;
    }
    if (rc < 0) {
        t->st.malformed++;
        return;
    }
    switch (ev.kind) {
    case MAILLOG_CLIENT:
    case MAILLOG_MESSAGE_ID:
        entry(t, ev.queue_id, when, true);
        break;
    case MAILLOG_FROM:
        if ((q = entry(t, ev.queue_id, when, true)) != NULL) {
            free(q->sender);
            q->sender = maillog_srs_unwrap(ev.sender.p, ev.sender.len);
            q->size = ev.size > 0 ? ev.size : 0;
        }
        break;
    case MAILLOG_DELIVERY:
        delivery(t, &ev, when);
        break;
    case MAILLOG_EXPIRED:
        q = entry(t, ev.queue_id, when, true);
        {
            char *sender = maillog_srs_unwrap(ev.sender.p, ev.sender.len);
            struct maillog_span none = {NULL, 0}, why = {"returned to sender", 18};
            record(t, q ? q->qid : "", when, sender, none, none, q ? q->size : 0, "expired", why);
            free(sender);
        }
        break;
    case MAILLOG_REMOVED:
        if ((q = entry(t, ev.queue_id, when, false)) != NULL)
            drop(t, q);
        break;
    case MAILLOG_REJECT:
        rejected(t, &ev, when);
        break;
    case MAILLOG_FILTER:
        filtered(t, &ev, when);
        break;
    case MAILLOG_MAILBOX:
        mailbox(t, &ev);
        break;
    default:
        t->st.ignored++;
        break;
    }
}
