/*
 * dmarc - DMARC records and DNSBL names; see dmarc.h.
 */
#include "dmarc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool one_of(const char *v, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

/* Every comma-separated item satisfies ok(); the bad one in bad. */
static bool each_item(const char *v, char sep, bool (*ok)(const char *, size_t), char *bad,
                      size_t size)
{
    const char *p = v;

    for (;;) {
        const char *end = strchr(p, sep);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && isspace((unsigned char)*p))
            p++, n--;
        while (n > 0 && isspace((unsigned char)p[n - 1]))
            n--;
        if (!ok(p, n)) {
            snprintf(bad, size, "%.*s", (int)(n > 100 ? 100 : n), p);
            return false;
        }
        if (end == NULL)
            return true;
        p = end + 1;
    }
}

static bool is_afrf(const char *s, size_t n)
{
    return n == 4 && strncasecmp(s, "afrf", 4) == 0;
}

static bool is_fo(const char *s, size_t n)
{
    return n == 1 && strchr("01ds", s[0]) != NULL;
}

/* mailto:addr[!size[kmgt]] with an @ */
static bool is_uri(const char *s, size_t n)
{
    const char *bang = memchr(s, '!', n);
    size_t un = bang ? (size_t)(bang - s) : n;
    const char *at;

    if (un < 10 || strncasecmp(s, "mailto:", 7) != 0)
        return false;
    at = memchr(s + 7, '@', un - 7);
    if (at == NULL || at == s + 7 || at == s + un - 1)
        return false;
    if (bang != NULL) {
        size_t i = 1, rest = n - un;
        if (rest < 2)
            return false;
        for (; i < rest && isdigit((unsigned char)bang[i]); i++)
            ;
        if (i == 1 || (i < rest && (i != rest - 1 || strchr("kmgtKMGT", bang[i]) == NULL)))
            return false;
    }
    return true;
}

int dmarc_parse(const char *record, struct dmarc_record *r, char *err, size_t size)
{
    static const char *const policies[] = {"none", "quarantine", "reject", NULL};
    static const char *const align[] = {"r", "s", NULL};
    static const char *const yn[] = {"y", "n", NULL};
    static const char *const psd[] = {"y", "n", "u", NULL};
    static const char *const known[] = {"v",  "p",  "sp", "np", "adkim", "aspf", "pct", "rf",
                                        "ri", "rua", "ruf", "fo", "psd", "t",   NULL};
    const char *pos = record;
    bool first = true, has_p = false;
    char bad[128];

    memset(r, 0, sizeof(*r));
    r->pct = -1;
    while (*pos == ' ' || *pos == '\t')
        pos++;
    if (strncmp(pos, "v=DMARC1", 8) != 0 ||
        (pos[8] != '\0' && pos[8] != ';' && pos[8] != ' ' && pos[8] != '\t')) {
        snprintf(err, size, "Not a valid DMARC record");
        return -1;
    }
    for (;;) {
        const char *end = strchr(pos, ';');
        size_t n = end ? (size_t)(end - pos) : strlen(pos);
        char tag[64], value[512];
        const char *eq;
        size_t tn, vn;

        while (n > 0 && isspace((unsigned char)*pos))
            pos++, n--;
        while (n > 0 && isspace((unsigned char)pos[n - 1]))
            n--;
        if (n > 0) {
            eq = memchr(pos, '=', n);
            if (eq == NULL) {
                snprintf(err, size, "Invalid tag %.*s", (int)(n > 60 ? 60 : n), pos);
                return -1;
            }
            tn = (size_t)(eq - pos);
            while (tn > 0 && isspace((unsigned char)pos[tn - 1]))
                tn--;
            vn = n - (size_t)(eq + 1 - pos);
            eq++;
            while (vn > 0 && isspace((unsigned char)*eq))
                eq++, vn--;
            snprintf(tag, sizeof(tag), "%.*s", (int)(tn > 63 ? 63 : tn), pos);
            snprintf(value, sizeof(value), "%.*s", (int)(vn > 511 ? 511 : vn), eq);
            if (first) {
                first = false; /* v=DMARC1, checked above */
            } else if (!one_of(tag, known)) {
                snprintf(err, size, "Unknown tag %s", tag);
                return -1;
            } else if (strcmp(tag, "v") == 0) {
                snprintf(err, size, "Wrong value %s for tag v", value);
                return -1;
            } else if (strcmp(tag, "p") == 0 || strcmp(tag, "sp") == 0 || strcmp(tag, "np") == 0) {
                if (!one_of(value, policies)) {
                    snprintf(err, size, "Wrong value %s for tag %s", value, tag);
                    return -1;
                }
                snprintf(strcmp(tag, "p") == 0 ? r->p : strcmp(tag, "sp") == 0 ? r->sp : r->np,
                         sizeof(r->p), "%.15s", value);
                has_p = has_p || strcmp(tag, "p") == 0;
            } else if (strcmp(tag, "adkim") == 0 || strcmp(tag, "aspf") == 0) {
                if (!one_of(value, align)) {
                    snprintf(err, size, "Wrong value %s for tag %s", value, tag);
                    return -1;
                }
            } else if (strcmp(tag, "t") == 0 || strcmp(tag, "psd") == 0) {
                if (!one_of(value, strcmp(tag, "t") == 0 ? yn : psd)) {
                    snprintf(err, size, "Wrong value %s for tag %s", value, tag);
                    return -1;
                }
            } else if (strcmp(tag, "pct") == 0 || strcmp(tag, "ri") == 0) {
                char *e;
                long v = strtol(value, &e, 10);
                if (value[0] == '\0' || *e != '\0') {
                    snprintf(err, size, "Wrong value %s for tag %s: not an integer", value, tag);
                    return -1;
                }
                if (strcmp(tag, "pct") == 0) {
                    if (v < 0 || v > 100) {
                        snprintf(err, size, "Wrong value %s for tag pct: %s", value,
                                 v < 0 ? "less than 0" : "greater than 100");
                        return -1;
                    }
                    r->pct = (int)v;
                } else {
                    r->has_ri = true;
                }
            } else if (strcmp(tag, "rf") == 0) {
                r->has_rf = true;
                if (!each_item(value, ',', is_afrf, bad, sizeof(bad))) {
                    snprintf(err, size, "Wrong value %s for tag rf", bad);
                    return -1;
                }
            } else if (strcmp(tag, "fo") == 0) {
                /* a colon-separated list (Modoboa takes it as one value) */
                if (!each_item(value, ':', is_fo, bad, sizeof(bad))) {
                    snprintf(err, size, "Wrong value %s for tag fo", bad);
                    return -1;
                }
            } else { /* rua, ruf */
                if (!each_item(value, ',', is_uri, bad, sizeof(bad))) {
                    snprintf(err, size, "Wrong value %s for tag %s", bad, tag);
                    return -1;
                }
                snprintf(strcmp(tag, "rua") == 0 ? r->rua : r->ruf, sizeof(r->rua), "%s", value);
            }
        }
        if (end == NULL)
            break;
        pos = end + 1;
    }
    if (!has_p) {
        snprintf(err, size, "Missing required p tag");
        return -1;
    }
    return 0;
}

bool dmarc_next_mailto_domain(const char *list, size_t *pos, char *domain, size_t size)
{
    while (list[*pos] != '\0') {
        const char *item = list + *pos, *end = strchr(item, ',');
        size_t n = end ? (size_t)(end - item) : strlen(item);
        const char *at = memchr(item, '@', n), *stop;
        *pos += n + (end ? 1 : 0);
        if (at == NULL)
            continue;
        stop = at + 1;
        while (stop < item + n && *stop != '!' && !isspace((unsigned char)*stop))
            stop++;
        snprintf(domain, size, "%.*s", (int)(stop - at - 1), at + 1);
        for (char *c = domain; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        return true;
    }
    return false;
}

int dnsbl_query_name(const char *ip, const char *zone, char *out, size_t size)
{
    unsigned char a[16];
    size_t off = 0;
    int i;

    if (inet_pton(AF_INET, ip, a) == 1) {
        snprintf(out, size, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) != 1)
        return -1;
    for (i = 15; i >= 0 && off + 4 < size; i--) {
        off += (size_t)snprintf(out + off, size - off, "%x.%x.", a[i] & 15, a[i] >> 4);
    }
    snprintf(out + off, size > off ? size - off : 0, "%s", zone);
    return 0;
}

enum dnsbl_verdict dnsbl_answer(const char *a)
{
    unsigned char x[4];

    if (inet_pton(AF_INET, a, x) != 1 || x[0] != 127)
        return DNSBL_ERROR; /* not a DNSBL answer: the list or the resolver is broken */
    if (x[1] == 255 && x[2] == 255)
        return DNSBL_ERROR; /* 127.255.255.252/254/255: the query was refused */
    return x[3] <= 15 ? DNSBL_LISTED : DNSBL_CLEAN;
}
