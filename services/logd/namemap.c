/*
 * namemap - names to fixed-size values; see namemap.h.
 */
#include "namemap.h"

#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

struct nentry {
    struct nentry *next;
    char *name;
    /* the value follows, aligned */
    long long value[];
};

struct namemap {
    size_t value_size, count, nbuckets;
    struct nentry **buckets;
};

struct namemap *namemap_new(size_t value_size)
{
    struct namemap *m = xcalloc(1, sizeof(*m));

    m->value_size = value_size;
    m->nbuckets = 64;
    m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
    return m;
}

static struct nentry **slot(const struct namemap *m, const char *name)
{
    struct nentry **e = &m->buckets[str_hash(name, strlen(name)) & (m->nbuckets - 1)];

    while (*e != NULL && strcmp((*e)->name, name) != 0)
        e = &(*e)->next;
    return e;
}

void *namemap_get(const struct namemap *m, const char *name)
{
    struct nentry *e = *slot(m, name);

    return e != NULL ? e->value : NULL;
}

static void grow(struct namemap *m)
{
    size_t n = m->nbuckets * 2, i;
    struct nentry **b = xcalloc(n, sizeof(*b));

    for (i = 0; i < m->nbuckets; i++) {
        struct nentry *e = m->buckets[i], *next;
        for (; e != NULL; e = next) {
            size_t h = str_hash(e->name, strlen(e->name)) & (n - 1);
            next = e->next;
            e->next = b[h];
            b[h] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *namemap_put(struct namemap *m, const char *name)
{
    struct nentry **e = slot(m, name);

    if (*e != NULL)
        return (*e)->value;
    if (m->count >= m->nbuckets) {
        grow(m);
        e = slot(m, name);
    }
    *e = xcalloc(1, sizeof(**e) + m->value_size);
    (*e)->name = xstrdup(name);
    m->count++;
    return (*e)->value;
}

void namemap_del(struct namemap *m, const char *name)
{
    struct nentry **e = slot(m, name), *dead = *e;

    if (dead == NULL)
        return;
    *e = dead->next;
    free(dead->name);
    free(dead);
    m->count--;
}

void namemap_clear(struct namemap *m)
{
    size_t i;

    for (i = 0; i < m->nbuckets; i++)
        while (m->buckets[i] != NULL) {
            struct nentry *e = m->buckets[i];
            m->buckets[i] = e->next;
            free(e->name);
            free(e);
        }
    m->count = 0;
}

size_t namemap_count(const struct namemap *m)
{
    return m->count;
}

void namemap_foreach(const struct namemap *m, void (*cb)(void *arg, const char *name, void *value),
                     void *arg)
{
    size_t i;

    for (i = 0; i < m->nbuckets; i++)
        for (struct nentry *e = m->buckets[i]; e != NULL; e = e->next)
            cb(arg, e->name, e->value);
}

void namemap_free(struct namemap **mp)
{
    struct namemap *m = *mp;

    if (m == NULL)
        return;
    namemap_clear(m);
    free(m->buckets);
    free(m);
    *mp = NULL;
}
