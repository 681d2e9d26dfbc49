/*
 * cache - answers of the store, remembered: L1 in process memory (a bounded
 * LRU), L2 in Redis (shared by every process and host), then the store.
 *
 * Keys are versioned by the database generation (store_generation()), so a
 * committed change is never answered from an older entry: the store switches
 * generation on NOTIFY (PostgreSQL) or data_version (SQLite) and every entry
 * of the old generation stops matching. Positive and negative answers are
 * cached ([cache] positive_ttl, negative_ttl); answers that depend on time
 * (alias expiry) live no longer than their valid_until.
 *
 * Redis is optional and never required: when it is down or slow ([redis]
 * timeout), lookups go on to the store; when it seldom has the answer (a cold
 * or flushed Redis), the store is asked at the same time rather than after
 * Redis's miss; the connection is retried with
 * backoff and each state change is logged once. Writes and uncacheable
 * questions pass straight through to the store.
 *
 * When the store fails and [cache] stale_max_age is set, the last answer
 * seen for the key (whatever its generation) is served if it is not older
 * than that; otherwise the caller gets the error (a temporary failure).
 */
#ifndef MODO_CACHE_H
#define MODO_CACHE_H

#include "store.h"

struct cache;
struct conf;
struct event_base;

struct cache *cache_new(struct event_base *base, const struct conf *conf, struct store *store);
void cache_free(struct cache **cache);

/* Like store_ask(); cb is called exactly once, possibly before cache_ask returns. */
void cache_ask(struct cache *cache, enum store_question q, const char *const *args,
               store_cb *cb, void *arg);

bool cache_question_cacheable(enum store_question q);

struct cache_stats {
    unsigned long long l1_hits, l2_hits, misses, store_errors, stale_served, l2_errors;
    unsigned long long speculations; /* database asked without waiting for Redis */
    size_t l1_entries;
    bool redis_up;
};
void cache_get_stats(const struct cache *cache, struct cache_stats *st);

/* Encoding of an answer as stored in L1 and L2; decode returns -1 on garbage. */
char *cache_encode_answer(const struct store_answer *ans, size_t *len_r);
/* On success, ans->cells and every string point into *arena_r: free(*arena_r) frees all. */
int cache_decode_answer(const char *data, size_t len, struct store_answer *ans, char **arena_r);

#endif
