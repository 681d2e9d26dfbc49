/*
 * cache - L1 LRU + L2 Redis in front of the store; see cache.h.
 *
 * Diagnostics: one line per Redis state change (up, down); nothing per lookup.
 */
#include "cache.h"
#include "conf.h"
#include "log.h"
#include "store_impl.h"
#include "strbuf.h"

#include "redis.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_MAX_KEY 2048

/* One allocation per entry: the links, then "key\0value". Kept small: RSS matters. */
struct l1_entry {
    struct l1_entry *hnext; /* hash chain */
    struct l1_entry *lru_prev, *lru_next;
    int64_t generation;
    uint32_t hash;
    uint32_t expires;   /* wall clock seconds (uint32 lasts until 2106) */
    uint32_t stored_at;
    uint16_t key_len;   /* "<question id>\t<args>" (no generation) */
    uint32_t value_len; /* encoded answer */
    char data[];
};

static const char *l1_value(const struct l1_entry *e)
{
    return e->data + e->key_len + 1;
}

struct cache {
    struct event_base *base;
    struct store *store;
    /* L1 */
    size_t max_entries, nentries, nbuckets;
    struct l1_entry **buckets;
    struct l1_entry *lru_head, *lru_tail; /* head = most recent */
    long long positive_ttl, negative_ttl, stale_max_age, fallback_ttl; /* seconds */
    /* L2 */
    struct redis *redis; /* NULL without [redis] address */
    char *prefix;
    double l2_hit_rate; /* recent L2 hits / L2 lookups */
    struct cache_stats stats;
};

bool cache_question_cacheable(enum store_question q)
{
    switch (q) {
    case STORE_Q_QUOTA_GET:
    case STORE_Q_QUOTA_ADD:
    case STORE_Q_QUOTA_SET:
    case STORE_Q_TOUCH_LAST_LOGIN:
    case STORE_Q_GENERATION:
    case STORE_Q_LIMIT_ALARM_OPEN:
    case STORE_Q_LIMIT_ALARMS_CLOSE:
    case STORE_Q__COUNT:
        return false;
    default:
        return true;
    }
}

/* ---- answer encoding: "<status>:<ncols>:<nrows>:<valid_until>:" then cells ("-" or "<len>:<bytes>") ---- */

char *cache_encode_answer(const struct store_answer *ans, size_t *len_r)
{
    struct strbuf sb = STRBUF_INIT;
    size_t i, n = ans->nrows * ans->ncols;

    strbuf_printf(&sb, "%d:%zu:%zu:%lld:", ans->status, ans->ncols, ans->nrows,
                  (long long)ans->valid_until);
    for (i = 0; i < n; i++) {
        const char *v = ans->cells[i];
        if (v == NULL) {
            strbuf_putc(&sb, '-');
        } else {
            strbuf_printf(&sb, "%zu:", strlen(v));
            strbuf_puts(&sb, v);
        }
    }
    *len_r = sb.len;
    return strbuf_steal(&sb);
}

/* A decimal number (optionally negative) followed by ':'; advances *p. Hot: no strtoll. */
static int parse_num(const char **p, const char *end, long long *v)
{
    const char *q = *p;
    bool neg = false;
    long long n = 0;
    int digits = 0;

    if (q < end && *q == '-') {
        neg = true;
        q++;
    }
    while (q < end && *q >= '0' && *q <= '9') {
        if (++digits > 18)
            return -1;
        n = n * 10 + (*q++ - '0');
    }
    if (digits == 0 || q >= end || *q != ':')
        return -1;
    *v = neg ? -n : n;
    *p = q + 1;
    return 0;
}

/*
 * Decode into `buf` when it is large enough (the common, small answers: no
 * allocation on the hot path), else into a new allocation returned in *arena_r
 * (NULL when buf was used).
 */
static int decode_answer(const char *data, size_t len, struct store_answer *ans, char *buf,
                         size_t bufsize, char **arena_r)
{
    const char *p = data, *end = data + len;
    long long status, ncols, nrows, valid, i, n;
    const char **cells;
    char *arena, *a;
    size_t need;

    memset(ans, 0, sizeof(*ans));
    *arena_r = NULL;
    if (parse_num(&p, end, &status) < 0 || parse_num(&p, end, &ncols) < 0 ||
        parse_num(&p, end, &nrows) < 0 || parse_num(&p, end, &valid) < 0)
        return -1;
    if ((status != 0 && status != 1) || ncols < 0 || nrows < 0 || ncols > 64 ||
        nrows > 100000 || ncols * nrows > (long long)len)
        return -1;
    n = ncols * nrows;
    /* one block: the cell pointers (aligned), then the strings */
    need = ((size_t)n + 1) * sizeof(*cells) + len + (size_t)n + 1;
    if (need <= bufsize) {
        arena = buf;
    } else {
        arena = xmalloc(need);
        *arena_r = arena;
    }
    cells = (const char **)(void *)arena;
    a = arena + ((size_t)n + 1) * sizeof(*cells);
    for (i = 0; i < n; i++) {
        long long l;
        if (p < end && *p == '-') {
            cells[i] = NULL;
            p++;
            continue;
        }
        if (parse_num(&p, end, &l) < 0 || l < 0 || l > end - p)
            goto bad;
        memcpy(a, p, (size_t)l);
        a[l] = '\0';
        cells[i] = a;
        a += l + 1;
        p += l;
    }
    if (p != end)
        goto bad;
    ans->status = (int)status;
    ans->ncols = (size_t)ncols;
    ans->nrows = (size_t)nrows;
    ans->valid_until = (time_t)valid;
    ans->cells = cells;
    return 0;
bad:
    free(*arena_r);
    *arena_r = NULL;
    return -1;
}

int cache_decode_answer(const char *data, size_t len, struct store_answer *ans, char **arena_r)
{
    if (decode_answer(data, len, ans, NULL, 0, arena_r) < 0)
        return -1;
    if (*arena_r == NULL) /* only for a zero-size buf; keep the contract: one allocation */
        *arena_r = xmalloc(1);
    return 0;
}

/* ---- L1 ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return h;
}

static void lru_unlink(struct cache *c, struct l1_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct cache *c, struct l1_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = e;
    c->lru_head = e;
    if (c->lru_tail == NULL)
        c->lru_tail = e;
}

static struct l1_entry *l1_find(struct cache *c, const char *key)
{
    struct l1_entry *e;
    uint32_t h;

    if (c->nbuckets == 0)
        return NULL;
    h = (uint32_t)hash_str(key);
    for (e = c->buckets[h % c->nbuckets]; e != NULL; e = e->hnext)
        if (e->hash == h && strcmp(e->data, key) == 0)
            return e;
    return NULL;
}

static void l1_remove(struct cache *c, struct l1_entry *e)
{
    struct l1_entry **pp = &c->buckets[e->hash % c->nbuckets];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    free(e);
    c->nentries--;
}

static void l1_put(struct cache *c, const char *key, const char *value, size_t len,
                   int64_t generation, time_t expires)
{
    struct l1_entry *e;
    size_t klen = strlen(key);
    uint32_t h;

    if (c->max_entries == 0 || klen > UINT16_MAX || len > UINT32_MAX - 1)
        return;
    e = l1_find(c, key);
    if (e != NULL)
        l1_remove(c, e); /* the new value may not fit the old allocation */
    else if (c->nentries >= c->max_entries)
        l1_remove(c, c->lru_tail);
    h = (uint32_t)hash_str(key);
    e = xmalloc(sizeof(*e) + klen + 1 + len + 1);
    e->hash = h;
    e->key_len = (uint16_t)klen;
    e->value_len = (uint32_t)len;
    memcpy(e->data, key, klen + 1);
    memcpy(e->data + klen + 1, value, len);
    e->data[klen + 1 + len] = '\0';
    e->generation = generation;
    e->expires = expires > (time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)expires;
    e->stored_at = (uint32_t)time(NULL);
    e->hnext = c->buckets[h % c->nbuckets];
    c->buckets[h % c->nbuckets] = e;
    e->lru_prev = e->lru_next = NULL;
    c->nentries++;
    lru_push_front(c, e);
}

/* ---- lookups ---- */

/*
 * One lookup past L1. It may be waiting on Redis and on the store at once
 * (speculation, below), so it is reference counted: one reference per
 * outstanding party; the caller's callback runs once, with the first usable
 * answer.
 */
struct lookup {
    struct cache *cache;
    enum store_question q;
    char *args[STORE_MAX_ARGS];
    size_t nargs;
    char *key;   /* L1 key */
    char *l2key; /* prefix:generation:question:args */
    int64_t generation;
    store_cb *cb;
    void *arg;
    int refs;
    bool delivered, store_asked;
};

/*
 * When L2 rarely answers (a cold cluster, a flushed Redis), waiting for its
 * miss before asking the database only adds a round trip to every lookup. The
 * cache then asks both at once and uses whichever answers first. The L2 hit
 * rate is an exponentially weighted average of recent L2 lookups.
 */
#define L2_RATE_WEIGHT 0.01
#define L2_SPECULATE_BELOW 0.3

static void lookup_unref(struct lookup *lk)
{
    size_t i;

    if (--lk->refs > 0)
        return;
    for (i = 0; i < lk->nargs; i++)
        free(lk->args[i]);
    free(lk->key);
    free(lk->l2key);
    free(lk);
}

static void deliver(struct lookup *lk, const struct store_answer *ans)
{
    if (lk->delivered)
        return;
    lk->delivered = true;
    lk->cb(ans, lk->arg);
}

static void deliver_encoded(struct lookup *lk, const char *value, size_t len)
{
    struct store_answer ans;
    char *arena = NULL;
    /* small answers decode on the stack; aligned for the cell pointers */
    _Alignas(max_align_t) char buf[1024];

    if (decode_answer(value, len, &ans, buf, sizeof(buf), &arena) < 0) {
        /* cannot happen for our own entries; treat as an error rather than guess */
        struct store_answer err = {.status = -1, .error = "corrupt cache entry"};
        deliver(lk, &err);
        return;
    }
    deliver(lk, &ans);
    free(arena);
}

static time_t answer_expiry(struct cache *c, const struct store_answer *ans, time_t now)
{
    long long ttl = ans->status == 1 ? c->positive_ttl : c->negative_ttl;
    time_t exp;

    /* changes cannot be seen (modo_generation unreadable): never cache longer than this */
    if (!store_generation_known(c->store) && ttl > c->fallback_ttl)
        ttl = c->fallback_ttl;
    exp = now + (time_t)ttl;

    if (ans->valid_until != 0 && ans->valid_until < exp)
        exp = ans->valid_until;
    return exp;
}

static void store_answered(const struct store_answer *ans, void *arg)
{
    struct lookup *lk = arg;
    struct cache *c = lk->cache;
    time_t now = time(NULL), exp;

    if (ans->status < 0) {
        struct l1_entry *e = c->stale_max_age > 0 ? l1_find(c, lk->key) : NULL;
        c->stats.store_errors++;
        if (e != NULL && now - (time_t)e->stored_at <= c->stale_max_age) {
            if (!lk->delivered)
                c->stats.stale_served++;
            deliver_encoded(lk, l1_value(e), e->value_len);
        } else {
            deliver(lk, ans);
        }
        lookup_unref(lk);
        return;
    }
    exp = answer_expiry(c, ans, now);
    /* a generation switch while the store was answering: the answer may predate it */
    if (exp > now && lk->generation == store_generation(c->store)) {
        size_t len;
        char *enc = cache_encode_answer(ans, &len);
        l1_put(c, lk->key, enc, len, lk->generation, exp);
        redis_command(c->redis, NULL, NULL, "SET %s %b EX %lld", lk->l2key, enc, len,
                      (long long)(exp - now));
        free(enc);
    }
    deliver(lk, ans);
    lookup_unref(lk);
}

static void ask_store(struct lookup *lk)
{
    const char *args[STORE_MAX_ARGS] = {lk->args[0], lk->args[1], lk->args[2]};

    if (lk->store_asked)
        return;
    lk->store_asked = true;
    lk->refs++;
    lk->cache->stats.misses++;
    store_ask(lk->cache->store, lk->q, args, store_answered, lk);
}

static void l2_rate(struct cache *c, bool hit)
{
    c->l2_hit_rate = c->l2_hit_rate * (1 - L2_RATE_WEIGHT) + (hit ? L2_RATE_WEIGHT : 0);
}

/* Redis answered the GET (reply NULL: not in time, or the connection went). */
static void l2_reply(struct redisReply *reply, void *arg)
{
    struct lookup *lk = arg;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING) {
        struct store_answer ans;
        char *arena = NULL;
        if (cache_decode_answer(reply->str, reply->len, &ans, &arena) == 0) {
            time_t now = time(NULL);
            time_t exp = answer_expiry(lk->cache, &ans, now);
            if (exp > now) {
                l2_rate(lk->cache, true);
                if (!lk->delivered) {
                    lk->cache->stats.l2_hits++;
                    if (lk->generation == store_generation(lk->cache->store))
                        l1_put(lk->cache, lk->key, reply->str, reply->len, lk->generation, exp);
                    deliver(lk, &ans);
                }
                free(arena);
                lookup_unref(lk);
                return;
            }
            free(arena);
        }
    } else if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        lk->cache->stats.l2_errors++;
    }
    l2_rate(lk->cache, false);
    ask_store(lk);
    lookup_unref(lk);
}

/* Redis keys are readable: prefix:generation:question:arg:arg... */
static void l2_key(struct strbuf *out, const struct cache *c, const struct lookup *lk)
{
    size_t i;

    strbuf_printf(out, "%s:%" PRId64 ":%s", c->prefix, lk->generation, store_question_name(lk->q));
    for (i = 0; i < lk->nargs; i++) {
        strbuf_putc(out, ':');
        strbuf_puts(out, lk->args[i]);
    }
}

void cache_ask(struct cache *c, enum store_question q, const char *const *args, store_cb *cb,
               void *arg)
{
    struct strbuf key = STRBUF_INIT, k2 = STRBUF_INIT;
    struct lookup *lk;
    struct l1_entry *e;
    size_t i, nargs = store_question_nargs(q);
    time_t now;

    if (!cache_question_cacheable(q)) {
        store_ask(c->store, q, args, cb, arg);
        return;
    }
    /* the question by number, then its arguments; one equal to the one before is left empty
       (alias_forms often repeats the address): shorter keys, smaller L1 */
    strbuf_putc(&key, (char)('A' + q));
    for (i = 0; i < nargs; i++) {
        strbuf_putc(&key, '\t');
        if (i == 0 || strcmp(args[i], args[i - 1]) != 0)
            strbuf_puts(&key, args[i]);
    }
    if (key.len > CACHE_MAX_KEY) {
        strbuf_free(&key);
        store_ask(c->store, q, args, cb, arg);
        return;
    }
    now = time(NULL);
    e = l1_find(c, key.data);
    if (e != NULL && e->generation == store_generation(c->store) && (time_t)e->expires > now) {
        struct lookup tmp = {.cb = cb, .arg = arg};
        c->stats.l1_hits++;
        lru_unlink(c, e);
        lru_push_front(c, e);
        strbuf_free(&key);
        /* decoding copies every cell: the callback may evict the entry meanwhile */
        deliver_encoded(&tmp, l1_value(e), e->value_len);
        return;
    }
    lk = xcalloc(1, sizeof(*lk));
    lk->cache = c;
    lk->q = q;
    lk->nargs = nargs;
    for (i = 0; i < nargs; i++)
        lk->args[i] = xstrdup(args[i]);
    lk->key = strbuf_steal(&key);
    lk->generation = store_generation(c->store);
    lk->cb = cb;
    lk->arg = arg;
    lk->refs = 1; /* ours, until the end of this function */
    l2_key(&k2, c, lk);
    lk->l2key = strbuf_steal(&k2);
    lk->refs++; /* the GET's */
    if (redis_command(c->redis, l2_reply, lk, "GET %s", lk->l2key) == 0) {
        if (c->l2_hit_rate < L2_SPECULATE_BELOW) {
            c->stats.speculations++;
            ask_store(lk);
        }
        lookup_unref(lk);
        return;
    }
    lk->refs--;
    ask_store(lk);
    lookup_unref(lk);
}

struct cache *cache_new(struct event_base *base, const struct conf *conf, struct store *store)
{
    struct cache *c = xcalloc(1, sizeof(*c));
    c->base = base;
    c->store = store;
    c->l2_hit_rate = 1.0; /* trust Redis until it proves useless */
    c->max_entries = (size_t)conf_int(conf, "cache", "size");
    c->nbuckets = c->max_entries ? c->max_entries + c->max_entries / 2 + 1 : 0;
    c->buckets = c->nbuckets ? xcalloc(c->nbuckets, sizeof(*c->buckets)) : NULL;
    c->positive_ttl = conf_ms(conf, "cache", "positive_ttl") / 1000;
    c->negative_ttl = conf_ms(conf, "cache", "negative_ttl") / 1000;
    c->fallback_ttl = conf_ms(conf, "cache", "fallback_ttl") / 1000;
    c->stale_max_age = conf_ms(conf, "cache", "stale_max_age") / 1000;
    c->prefix = xstrdup(conf_str(conf, "redis", "prefix"));
    c->redis = redis_new(base, conf, "cache", "answering from the database");
    return c;
}

void cache_free(struct cache **cp)
{
    struct cache *c = *cp;

    if (c == NULL)
        return;
    redis_free(&c->redis);
    while (c->lru_head != NULL)
        l1_remove(c, c->lru_head);
    free(c->buckets);
    free(c->prefix);
    free(c);
    *cp = NULL;
}

void cache_get_stats(const struct cache *c, struct cache_stats *st)
{
    *st = c->stats;
    st->l1_entries = c->nentries;
    st->redis_up = redis_is_up(c->redis);
}
