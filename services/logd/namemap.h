/*
 * namemap - a hash table from names to fixed-size values (modo-logd's domains, its
 * per-minute tallies, the last update of each RRD file).
 */
#ifndef MODO_NAMEMAP_H
#define MODO_NAMEMAP_H

#include <stddef.h>

struct namemap;

struct namemap *namemap_new(size_t value_size);
void namemap_free(struct namemap **m);
/* The value of name, NULL if absent. */
void *namemap_get(const struct namemap *m, const char *name);
/* The value of name, made (zeroed) if absent. */
void *namemap_put(struct namemap *m, const char *name);
void namemap_del(struct namemap *m, const char *name);
void namemap_clear(struct namemap *m);
size_t namemap_count(const struct namemap *m);
/* Every entry, in no order; the callback must not change the map. */
void namemap_foreach(const struct namemap *m, void (*cb)(void *arg, const char *name, void *value),
                     void *arg);

#endif
