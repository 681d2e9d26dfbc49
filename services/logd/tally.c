/*
 * tally - counters per domain and minute; see tally.h.
 */
#include "tally.h"

#include "namemap.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct minute {
    time_t minute;
    long long v[MAILLOG_C__COUNT];
};

struct tally {
    struct namemap *m; /* "DOMAIN MINUTE" -> struct minute */
};

struct tally *tally_new(void)
{
    struct tally *t = xcalloc(1, sizeof(*t));

    t->m = namemap_new(sizeof(struct minute));
    return t;
}

void tally_free(struct tally **tp)
{
    if (*tp == NULL)
        return;
    namemap_free(&(*tp)->m);
    free(*tp);
    *tp = NULL;
}

static struct minute *at(struct tally *t, const char *domain, time_t minute)
{
    char key[320];
    struct minute *e;

    snprintf(key, sizeof(key), "%s %lld", domain, (long long)minute);
    e = namemap_put(t->m, key);
    e->minute = minute;
    return e;
}

void tally_add(struct tally *t, const char *domain, time_t when, enum maillog_counter c,
               long long v)
{
    if ((unsigned)c >= MAILLOG_C__COUNT || domain[0] == '\0' || strlen(domain) > 255)
        return;
    at(t, domain, when - (when % 60 + 60) % 60)->v[c] += v;
}

size_t tally_count(const struct tally *t)
{
    return namemap_count(t->m);
}

struct taken {
    char *key;
    struct minute m;
};

struct collect {
    time_t before;
    struct taken *list;
    size_t n, cap;
};

static void collect(void *arg, const char *name, void *value)
{
    struct collect *c = arg;
    const struct minute *m = value;

    if (m->minute >= c->before)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->list = xrealloc(c->list, c->cap * sizeof(*c->list));
    }
    c->list[c->n].key = xstrdup(name);
    c->list[c->n++].m = *m;
}

static int by_domain_minute(const void *a, const void *b)
{
    const struct taken *x = a, *y = b;
    size_t lx = strcspn(x->key, " "), ly = strcspn(y->key, " ");
    int c = strncmp(x->key, y->key, lx < ly ? lx : ly);

    if (c == 0 && lx != ly)
        c = lx < ly ? -1 : 1;
    if (c != 0)
        return c;
    return x->m.minute < y->m.minute ? -1 : x->m.minute > y->m.minute;
}

size_t tally_take(struct tally *t, time_t before, tally_cb *cb, void *arg)
{
    struct collect c = {before, NULL, 0, 0};
    size_t i;

    namemap_foreach(t->m, collect, &c);
    if (c.n > 1)
        qsort(c.list, c.n, sizeof(*c.list), by_domain_minute);
    for (i = 0; i < c.n; i++) {
        namemap_del(t->m, c.list[i].key);
        c.list[i].key[strcspn(c.list[i].key, " ")] = '\0';
        cb(arg, c.list[i].key, c.list[i].m.minute, c.list[i].m.v);
        free(c.list[i].key);
    }
    free(c.list);
    return c.n;
}

static void save_one(void *arg, const char *name, void *value)
{
    struct strbuf *out = arg;
    const struct minute *m = value;
    int i;

    strbuf_puts(out, name); /* "DOMAIN MINUTE" */
    for (i = 0; i < MAILLOG_C__COUNT; i++)
        strbuf_printf(out, " %lld", m->v[i]);
    strbuf_putc(out, '\n');
}

void tally_save(const struct tally *t, struct strbuf *out)
{
    namemap_foreach(t->m, save_one, out);
}

int tally_load(struct tally *t, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char line[512], domain[256];
        long long minute, v[MAILLOG_C__COUNT];
        int used = 0, i;
        struct minute *m;

        if (nl == NULL || (size_t)(nl - p) >= sizeof(line))
            return -1;
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = '\0';
        if (sscanf(line, "%255s %lld%n", domain, &minute, &used) != 2)
            return -1;
        for (i = 0; i < MAILLOG_C__COUNT; i++) {
            int n = 0;
            if (sscanf(line + used, " %lld%n", &v[i], &n) != 1)
                return -1;
            used += n;
        }
        if (line[used] != '\0' || minute % 60 != 0)
            return -1;
        m = at(t, domain, (time_t)minute);
        for (i = 0; i < MAILLOG_C__COUNT; i++)
            m->v[i] += v[i];
        p = nl + 1;
    }
    return 0;
}
