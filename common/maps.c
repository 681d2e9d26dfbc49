/*
 * maps - key forms, questions and result rewriting of every map; see maps.h.
 *
 * Each request builds its list of key forms up front (exact address, address
 * without extension, @domain, domain, parent domains...), then asks one
 * question per form until one answers; the first answer wins, as Postfix's
 * search order for fixed-key tables.
 */
#include "maps.h"
#include "cache.h"
#include "conf.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *map_form_describe(enum map_form f)
{
    switch (f) {
    case MAP_FORM_FULL: return "the address itself";
    case MAP_FORM_NOEXT: return "the address without its extension";
    case MAP_FORM_ATDOMAIN: return "the catch-all or domain alias @domain";
    case MAP_FORM_DOMAIN: return "the domain";
    case MAP_FORM_PARENT: return "a parent domain";
    }
    return "?";
}

/* a few address forms, then the domain and every parent of it (a label is >= 2 bytes) */
#define MAX_FORMS (8 + 2 * (ADDR_MAX_DOMAIN / 2 + 1))

/* A step's key points into the request (the address, its forms, a suffix of the domain). */
struct form_step {
    enum store_question q;
    enum map_form form;
    const char *key;
};

struct request {
    struct cache *cache;
    const struct map_config *mc;
    enum map_kind kind;
    map_done_cb *cb;
    void *arg;
    struct addr a;
    char noext_local[ADDR_MAX_LOCAL + 1];
    char ext[ADDR_MAX_LOCAL + 1];
    char noext[sizeof(((struct addr *)0)->full)]; /* address without extension */
    char atdomain[ADDR_MAX_DOMAIN + 2];           /* @domain */
    bool is_addr;
    int addr_flags; /* ADDR_KEEP_UNICODE on the second pass for internationalized domains */
    size_t nsteps, step;
    struct form_step steps[MAX_FORMS];
};

void map_config_load(struct map_config *mc, const struct conf *conf)
{
    static const char *const settings[MAP__COUNT] = {
        [MAP_DOMAINS] = "map_domains",
        [MAP_DOMAIN_ALIASES] = "map_domain_aliases",
        [MAP_ALIASES] = "map_aliases",
        [MAP_RELAY_DOMAINS] = "map_relay_domains",
        [MAP_TRANSPORT] = "map_transport",
        [MAP_SPLIT_TRANSPORT] = "map_split_domains_transport",
        [MAP_MAINTAIN] = "map_maintain",
        [MAP_RELAY_VERIFY] = "map_relay_recipient_verification",
        [MAP_SENDER_LOGIN] = "map_sender_login",
    };
    size_t i;

    memset(mc, 0, sizeof(*mc));
    for (i = 0; i < MAP__COUNT; i++)
        snprintf(mc->names[i], sizeof(mc->names[i]), "%s", conf_str(conf, "lookupd", settings[i]));
    snprintf(mc->delims.set, sizeof(mc->delims.set), "%s",
             conf_str(conf, "lookupd", "recipient_delimiter"));
    mc->delims.owner_request_special = conf_bool(conf, "lookupd", "owner_request_special");
    mc->propagate_extensions = conf_bool(conf, "lookupd", "propagate_unmatched_extensions");
    mc->relay_parent_match = conf_bool(conf, "lookupd", "relay_domains_match_subdomains");
    snprintf(mc->split_transport, sizeof(mc->split_transport), "%s",
             conf_str(conf, "lookupd", "split_domains_transport"));
    snprintf(mc->maintain_action, sizeof(mc->maintain_action), "%s",
             conf_str(conf, "lookupd", "maintain_action"));
}

int map_by_name(const struct map_config *mc, const char *name, size_t len)
{
    int i;

    for (i = 0; i < MAP__COUNT; i++)
        if (strlen(mc->names[i]) == len && memcmp(mc->names[i], name, len) == 0)
            return i;
    return -1;
}

static void add_step(struct request *r, enum store_question q, enum map_form form, const char *key)
{
    if (r->nsteps == MAX_FORMS) /* cannot happen: MAX_FORMS covers every label of a domain */
        log_panic("maps: more than %d key forms", MAX_FORMS);
    r->steps[r->nsteps].q = q;
    r->steps[r->nsteps].form = form;
    r->steps[r->nsteps].key = key;
    r->nsteps++;
}

/* "local@domain" for the address without its extension. */
static void noext_address(const struct request *r, char *out, size_t size)
{
    size_t l = strlen(r->noext_local), d = strlen(r->a.domain);

    if (l + 1 + d >= size) {
        out[0] = '\0';
        return;
    }
    memcpy(out, r->noext_local, l);
    out[l] = '@';
    memcpy(out + l + 1, r->a.domain, d + 1);
}

static bool has_extension(const struct request *r)
{
    return r->ext[0] != '\0';
}

/* Every parent domain of d (r->a.domain): "a.b.c" -> "b.c", "c" (".b.c", ".c" when dotted). */
static void add_parents(struct request *r, enum store_question q, const char *domain, bool dotted)
{
    const char *p = domain;

    while ((p = strchr(p, '.')) != NULL) {
        add_step(r, q, MAP_FORM_PARENT, dotted ? p : p + 1);
        p++;
    }
}

/* Build the key forms; returns false when the key can never match (answer not found). */
static bool build_forms(struct request *r, const char *key, size_t len)
{
    const char *err = NULL, *ext;
    const char *domain = r->a.domain, *noext = r->noext;
    bool is_addr = addr_is_address(key, len), null_local;
    size_t n;

    r->is_addr = is_addr;
    if (is_addr) {
        /* "@domain" and '""@domain' are addresses with a null local part (mail to @domain) */
        if (addr_parse_flags(key, len, &r->a, r->addr_flags | ADDR_ALLOW_EMPTY_LOCAL, &err) < 0)
            return false;
        n = addr_split_extension(r->a.local, &r->mc->delims, &ext);
        memcpy(r->noext_local, r->a.local, n);
        r->noext_local[n] = '\0';
        /* plain copies: this runs for every lookup */
        memcpy(r->ext, ext, strlen(ext) + 1); /* ext is within a.local: it fits */
        noext_address(r, r->noext, sizeof(r->noext));
        r->atdomain[0] = '@';
        memcpy(r->atdomain + 1, r->a.domain, strlen(r->a.domain) + 1);
    } else {
        if (addr_fold_domain_flags(key, len, r->a.domain, r->addr_flags, &err) < 0)
            return false;
        r->a.local[0] = '\0';
    }
    null_local = is_addr && r->a.local[0] == '\0';

    switch (r->kind) {
    case MAP_DOMAINS:
        if (is_addr)
            return false;
        add_step(r, STORE_Q_DOMAIN, MAP_FORM_DOMAIN, domain);
        return true;
    case MAP_DOMAIN_ALIASES:
        if (is_addr)
            return false;
        add_step(r, STORE_Q_DOMAIN_ALIAS, MAP_FORM_DOMAIN, domain);
        return true;
    case MAP_RELAY_DOMAINS:
        if (is_addr)
            return false;
        add_step(r, STORE_Q_RELAY_DOMAIN, MAP_FORM_DOMAIN, domain);
        if (r->mc->relay_parent_match)
            add_parents(r, STORE_Q_RELAY_DOMAIN, domain, false);
        return true;
    case MAP_ALIASES:
        /* trivial-rewrite asks bare domains (virtual_alias_domains = $virtual_alias_maps) */
        if (!is_addr)
            return false;
        /* full, noext and @domain in one question; the first form with rows wins */
        add_step(r, STORE_Q_ALIAS_FORMS, MAP_FORM_FULL, r->a.full);
        return true;
    case MAP_SENDER_LOGIN:
        /* Modoboa's query uses %u and %d, so Postfix suppresses the @domain form; a null
           local part is asked in its external form '""@domain' */
        if (!is_addr || key[0] == '@') /* "@domain": Postfix's %u suppresses the query */
            return false;
        add_step(r, STORE_Q_SENDER_OWNERS, MAP_FORM_FULL, r->a.full);
        if (has_extension(r))
            add_step(r, STORE_Q_SENDER_OWNERS, MAP_FORM_NOEXT, noext);
        return true;
    case MAP_MAINTAIN:
        /* domain-only and local@ forms are suppressed by %d/%u in Modoboa's query */
        if (!is_addr)
            return false;
        add_step(r, STORE_Q_MAINTENANCE, MAP_FORM_FULL, r->a.full);
        if (has_extension(r))
            add_step(r, STORE_Q_MAINTENANCE, MAP_FORM_NOEXT, noext);
        return true;
    case MAP_RELAY_VERIFY:
        /* WHERE pattern='%d': only address keys, and both address forms share the domain */
        if (!is_addr)
            return false;
        add_step(r, STORE_Q_RELAY_VERIFY, MAP_FORM_DOMAIN, r->a.domain);
        return true;
    case MAP_SPLIT_TRANSPORT:
        if (!is_addr)
            return false;
        add_step(r, STORE_Q_SPLIT_MAILBOX, MAP_FORM_FULL, r->a.full);
        if (has_extension(r))
            add_step(r, STORE_Q_SPLIT_MAILBOX, MAP_FORM_NOEXT, noext);
        return true;
    case MAP_TRANSPORT:
        /* each form in both tables (split domains first) before the next form */
        if (is_addr) {
            add_step(r, STORE_Q_SPLIT_MAILBOX, MAP_FORM_FULL, r->a.full);
            add_step(r, STORE_Q_TRANSPORT, MAP_FORM_FULL, r->a.full);
            /* a null local part: trivial-rewrite asks '""@domain', then the internal form
               "@domain" (the split query's %u suppresses it there) */
            if (null_local)
                add_step(r, STORE_Q_TRANSPORT, MAP_FORM_FULL, r->atdomain);
            if (has_extension(r)) {
                add_step(r, STORE_Q_SPLIT_MAILBOX, MAP_FORM_NOEXT, noext);
                add_step(r, STORE_Q_TRANSPORT, MAP_FORM_NOEXT, noext);
            }
        }
        add_step(r, STORE_Q_TRANSPORT, MAP_FORM_DOMAIN, domain);
        add_parents(r, STORE_Q_TRANSPORT, domain, true);
        return true;
    case MAP__COUNT:
        break;
    }
    return false;
}

static bool retry_unicode(struct request *r);

static void finish_form(struct request *r, enum map_status status, const char *data,
                        size_t len, enum map_form form, const char *matched);

static void finish(struct request *r, enum map_status status, const char *data, size_t len)
{
    finish_form(r, status, data, len, MAP_FORM_FULL, NULL);
}

static void finish_form(struct request *r, enum map_status status, const char *data,
                        size_t len, enum map_form form, const char *matched)
{
    struct map_result res = {status, data, len, form, matched};

    /* an internationalized domain may be stored in U-labels: ask again in that spelling */
    if (status == MAP_NOTFOUND && r->addr_flags == 0 && retry_unicode(r))
        return;
    r->cb(&res, r->arg);
    free(r);
}

/*
 * The results already in the answer, so that each address is listed once: a hash set of
 * (offset, length) into the output, linear in the number of recipients (an alias may have
 * thousands).
 */
struct result_set {
    size_t cap; /* a power of two, more than twice the entries */
    struct result_slot {
        uint32_t hash;
        bool used;
        size_t off, len;
    } *slots;
};

/* Is it there already? If not, remember it at off (the caller appends it there). */
static bool result_seen(struct result_set *set, const struct strbuf *out, const char *s,
                        size_t len, size_t off)
{
    uint32_t h = str_hash(s, len);
    size_t i = h & (set->cap - 1);

    while (set->slots[i].used) {
        const struct result_slot *sl = &set->slots[i];
        if (sl->hash == h && sl->len == len && memcmp(out->data + sl->off, s, len) == 0)
            return true;
        i = (i + 1) & (set->cap - 1);
    }
    set->slots[i].used = true;
    set->slots[i].hash = h;
    set->slots[i].off = off;
    set->slots[i].len = len;
    return false;
}

/* Append one alias result, rewritten as Postfix's mail_addr_map() would. */
static void append_alias_result(struct request *r, enum map_form form, const char *v,
                                struct strbuf *out, struct result_set *set)
{
    struct strbuf one = STRBUF_INIT;
    const char *at;
    size_t off;

    if (v[0] == '@') { /* domain alias: @alias -> @target keeps the local part */
        const char *local = form == MAP_FORM_NOEXT ? r->noext_local : r->a.local;
        /* a null local part is written in external form, as quote_822_local() does */
        strbuf_printf(&one, "%s%s", local[0] ? local : "\"\"", v);
    } else {
        strbuf_puts(&one, v);
    }
    if (form == MAP_FORM_NOEXT && r->mc->propagate_extensions && (at = strrchr(one.data, '@'))) {
        struct strbuf ext = STRBUF_INIT;
        strbuf_append(&ext, one.data, (size_t)(at - one.data));
        strbuf_puts(&ext, r->ext);
        strbuf_puts(&ext, at);
        strbuf_free(&one);
        one = ext;
    }
    /* the same address twice (self alias + keep-copy forward) is delivered once anyway */
    off = out->len ? out->len + 1 : 0;
    if (!result_seen(set, out, one.data, one.len, off)) {
        if (out->len)
            strbuf_putc(out, ',');
        strbuf_append(out, one.data, one.len);
    }
    strbuf_free(&one);
}

static void ask_next(struct request *r);

static void answered(const struct store_answer *ans, void *arg)
{
    struct request *r = arg;
    const struct form_step *st = &r->steps[r->step];
    struct strbuf out = STRBUF_INIT;
    enum map_form matched_form;
    const char *matched_key;
    size_t i;

    if (ans->status < 0) {
        finish(r, MAP_TEMPFAIL, ans->error ? ans->error : "database error",
               ans->error ? strlen(ans->error) : 14);
        return;
    }
    if (ans->status == 0 || ans->nrows == 0) {
        r->step++;
        ask_next(r);
        return;
    }
    matched_form = st->form;
    matched_key = st->key;
    switch (st->q) {
    case STORE_Q_ALIAS_FORMS: {
        static const enum map_form order[] = {MAP_FORM_FULL, MAP_FORM_NOEXT, MAP_FORM_ATDOMAIN};
        struct result_set set;
        size_t f;
        for (set.cap = 16; set.cap <= 2 * ans->nrows; set.cap *= 2)
            ;
        set.slots = xcalloc(set.cap, sizeof(*set.slots));
        for (f = 0; f < 3 && out.len == 0; f++) {
            const char *want = order[f] == MAP_FORM_FULL    ? r->a.full
                               : order[f] == MAP_FORM_NOEXT ? (has_extension(r) ? r->noext : NULL)
                                                        : r->atdomain;
            if (want == NULL)
                continue;
            for (i = 0; i < ans->nrows; i++) {
                const char *matched = ans->cells[i * ans->ncols];
                const char *v = ans->cells[i * ans->ncols + 1];
                if (matched != NULL && strcmp(matched, want) == 0 && v != NULL && v[0] != '\0') {
                    append_alias_result(r, order[f], v, &out, &set);
                    matched_form = order[f];
                    matched_key = want;
                }
            }
        }
        free(set.slots);
        break;
    }
    case STORE_Q_SPLIT_MAILBOX:
        strbuf_puts(&out, r->mc->split_transport);
        break;
    case STORE_Q_MAINTENANCE:
        strbuf_puts(&out, r->mc->maintain_action);
        break;
    default:
        /* lists (sender logins) are comma-separated; single values as they are */
        for (i = 0; i < ans->nrows; i++) {
            const char *v = ans->cells[i * ans->ncols];
            if (v == NULL || v[0] == '\0')
                continue;
            if (out.len)
                strbuf_putc(&out, ',');
            strbuf_puts(&out, v);
        }
        break;
    }
    if (out.len == 0) { /* never answer OK with empty data */
        strbuf_free(&out);
        r->step++;
        ask_next(r);
        return;
    }
    finish_form(r, MAP_FOUND, out.data, out.len, matched_form, matched_key);
    strbuf_free(&out);
}

static void ask_next(struct request *r)
{
    const char *args[STORE_MAX_ARGS] = {NULL, NULL, NULL};

    if (r->step == r->nsteps) {
        finish(r, MAP_NOTFOUND, NULL, 0);
        return;
    }
    args[0] = r->steps[r->step].key;
    if (r->steps[r->step].q == STORE_Q_ALIAS_FORMS) {
        args[1] = has_extension(r) ? r->noext : r->a.full;
        args[2] = r->atdomain;
    }
    cache_ask(r->cache, r->steps[r->step].q, args, answered, r);
}

static bool retry_unicode(struct request *r)
{
    char udomain[ADDR_MAX_DOMAIN + 1], key[sizeof(r->a.full)];
    size_t llen, dlen;

    /* nothing was parsed when the key could not even be parsed */
    if (r->nsteps == 0 || addr_domain_unicode(r->a.domain, udomain, sizeof(udomain)) != 1)
        return false;
    llen = strlen(r->a.local);
    dlen = strlen(udomain);
    if (r->is_addr) {
        if (llen + 1 + dlen >= sizeof(key))
            return false;
        memcpy(key, r->a.local, llen);
        key[llen] = '@';
        memcpy(key + llen + 1, udomain, dlen + 1);
    } else {
        memcpy(key, udomain, dlen + 1);
    }
    r->addr_flags = ADDR_KEEP_UNICODE;
    r->nsteps = 0;
    r->step = 0;
    r->noext_local[0] = r->ext[0] = r->noext[0] = r->atdomain[0] = '\0';
    if (!build_forms(r, key, strlen(key)))
        return false;
    ask_next(r);
    return true;
}

void map_lookup(struct cache *cache, const struct map_config *mc, enum map_kind kind,
                const char *key, size_t len, map_done_cb *cb, void *arg)
{
    /* not calloc: the step keys are large and written only when used */
    struct request *r = xmalloc(sizeof(*r));

    r->nsteps = 0;
    r->step = 0;
    r->addr_flags = 0;
    r->noext_local[0] = r->ext[0] = r->noext[0] = r->atdomain[0] = '\0';
    r->cache = cache;
    r->mc = mc;
    r->kind = kind;
    r->cb = cb;
    r->arg = arg;
    if (!build_forms(r, key, len)) {
        finish(r, MAP_NOTFOUND, NULL, 0);
        return;
    }
    ask_next(r);
}
