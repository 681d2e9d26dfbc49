/*
 * maps - the Postfix maps modo-lookupd serves (and modoctl explain shows), with the search order and
 * result rewriting Postfix applies to its own SQL maps but not to socketmap
 * or tcp_table (virtual(5), transport(5), access(5) key forms), with the answers
 * of Modoboa's SQL maps.
 *
 * map_lookup() folds the key, walks the map's key forms asking the cache
 * (L1, Redis, then the store) and calls back once with the reply: found with
 * its data, not found, or a temporary failure (any store error: never "not
 * found" when the database could not answer).
 */
#ifndef MODO_MAPS_H
#define MODO_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct cache;
struct conf;

enum map_kind {
    MAP_DOMAINS,
    MAP_DOMAIN_ALIASES,
    MAP_ALIASES,
    MAP_RELAY_DOMAINS,
    MAP_TRANSPORT,
    MAP_SPLIT_TRANSPORT,
    MAP_MAINTAIN,
    MAP_RELAY_VERIFY,
    MAP_SENDER_LOGIN,
    MAP__COUNT
};

enum map_status { MAP_FOUND, MAP_NOTFOUND, MAP_TEMPFAIL };

enum map_form { MAP_FORM_FULL, MAP_FORM_NOEXT, MAP_FORM_ATDOMAIN, MAP_FORM_DOMAIN,
                MAP_FORM_PARENT };

struct map_result {
    enum map_status status;
    const char *data; /* MAP_FOUND: the value; MAP_TEMPFAIL: the reason */
    size_t len;
    /* MAP_FOUND: which key form answered, and that key (valid during the callback) */
    enum map_form form;
    const char *matched;
};

/* "the address", "the address without its extension", "the catch-all @domain"... */
const char *map_form_describe(enum map_form form);

typedef void map_done_cb(const struct map_result *res, void *arg);

struct map_config {
    char names[MAP__COUNT][64];
    struct addr_delimiters delims;
    bool propagate_extensions;
    bool relay_parent_match;
    char split_transport[256];
    char maintain_action[256];
};

void map_config_load(struct map_config *mc, const struct conf *conf);
/* The map called `name`, or -1. */
int map_by_name(const struct map_config *mc, const char *name, size_t len);

void map_lookup(struct cache *cache, const struct map_config *mc, enum map_kind kind,
                const char *key, size_t len, map_done_cb *cb, void *arg);

#endif
