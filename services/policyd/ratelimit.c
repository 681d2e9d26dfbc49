/*
 * ratelimit - rate limit rules and exemptions; see ratelimit.h.
 */
#include "ratelimit.h"
#include "conf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const key_names[] = {"sasl", "sender_domain", "sender", "client"};

const char *rate_key_name(enum rate_key key)
{
    return key_names[key];
}

static int fail(char *buf, size_t size, const char *what, const char *item, size_t len,
                const char **error_r)
{
    snprintf(buf, size, "%s: \"%.*s\"", what, (int)len, item);
    *error_r = buf;
    return -1;
}

static int parse_rule(struct rate_rule *r, const char *s, size_t len, char *buf, size_t size,
                      const char **error_r)
{
    char item[128], *colon, *slash, *unit;
    const char *err;
    size_t i;

    if (len >= sizeof(item) || len >= sizeof(r->text))
        return fail(buf, size, "rule too long", s, len, error_r);
    memcpy(item, s, len);
    item[len] = '\0';
    memcpy(r->text, s, len);
    r->text[len] = '\0';
    colon = strchr(item, ':');
    if (colon == NULL)
        return fail(buf, size, "a rule is KEY:COUNT/PERIOD[:rcpt|msg]", s, len, error_r);
    *colon = '\0';
    for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
        if (strcmp(item, key_names[i]) == 0)
            break;
    if (i == sizeof(key_names) / sizeof(key_names[0]))
        return fail(buf, size, "unknown key (sasl, sender_domain, sender or client)", s, len,
                    error_r);
    r->key = (enum rate_key)i;
    slash = strchr(colon + 1, '/');
    if (slash == NULL)
        return fail(buf, size, "a rule is KEY:COUNT/PERIOD[:rcpt|msg]", s, len, error_r);
    *slash = '\0';
    unit = strchr(slash + 1, ':');
    if (unit != NULL)
        *unit++ = '\0';
    if (conf_parse_int(colon + 1, &r->count, &err) < 0 || r->count < 1)
        return fail(buf, size, "COUNT must be a positive integer", s, len, error_r);
    if (conf_parse_duration(slash + 1, &r->period_ms, &err) < 0 || r->period_ms < 1000)
        return fail(buf, size, "PERIOD must be a duration of at least 1s", s, len, error_r);
    if (unit == NULL || strcmp(unit, "rcpt") == 0)
        r->per_message = false;
    else if (strcmp(unit, "msg") == 0)
        r->per_message = true;
    else
        return fail(buf, size, "UNIT must be rcpt or msg", s, len, error_r);
    return 0;
}

static int parse_net(struct rate_net *n, const char *s, size_t len, char *buf, size_t size,
                     const char **error_r)
{
    char item[64], *slash;
    int max;

    if (len >= sizeof(item))
        return fail(buf, size, "not an address or a network", s, len, error_r);
    memcpy(item, s, len);
    item[len] = '\0';
    slash = strchr(item, '/');
    if (slash != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, item, n->addr) == 1) {
        n->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, item, n->addr) == 1) {
        n->family = AF_INET6;
        max = 128;
    } else {
        return fail(buf, size, "not an address or a network", s, len, error_r);
    }
    n->prefix = max;
    if (slash != NULL) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max)
            return fail(buf, size, "bad prefix length", s, len, error_r);
        n->prefix = (int)p;
    }
    return 0;
}

int rate_config_parse(struct rate_config *rc, const char *rules, const char *exempt,
                      char *buf, size_t size, const char **error_r)
{
    const char *p;

    memset(rc, 0, sizeof(*rc));
    for (p = rules; *p;) {
        size_t len;
        p += strspn(p, " ,\t");
        len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        if (rc->nrules == RATE_MAX_RULES)
            return fail(buf, size, "too many rules (16 at most)", p, len, error_r);
        if (parse_rule(&rc->rules[rc->nrules++], p, len, buf, size, error_r) < 0)
            return -1;
        p += len;
    }
    for (p = exempt; *p;) {
        size_t len;
        p += strspn(p, " ,\t");
        len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        if (rc->nnets == RATE_MAX_NETS)
            return fail(buf, size, "too many networks (64 at most)", p, len, error_r);
        if (parse_net(&rc->nets[rc->nnets++], p, len, buf, size, error_r) < 0)
            return -1;
        p += len;
    }
    return 0;
}

static bool in_net(const struct rate_net *n, const uint8_t *addr)
{
    int full = n->prefix / 8, rest = n->prefix % 8;

    if (memcmp(n->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((n->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool rate_exempt(const struct rate_config *rc, const char *client_address)
{
    uint8_t a4[4], a6[16];
    bool v4 = inet_pton(AF_INET, client_address, a4) == 1;
    bool v6 = !v4 && inet_pton(AF_INET6, client_address, a6) == 1;
    size_t i;

    for (i = 0; i < rc->nnets; i++) {
        const struct rate_net *n = &rc->nets[i];
        if ((n->family == AF_INET && v4 && in_net(n, a4)) ||
            (n->family == AF_INET6 && v6 && in_net(n, a6)))
            return true;
    }
    return false;
}
