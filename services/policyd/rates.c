/*
 * rates - modo-policyd's rate limits (see policyd.h): one GCRA bucket per rule and value
 * in Redis, checked and charged by one Lua script; the rules are parsed by ratelimit.c.
 */
#include "policyd.h"
#include "cache.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* GCRA, one bucket per rule and value. KEYS: the buckets. ARGV: now (ms), then per key:
 * emission interval (ms), period (ms), cost. Returns 0, or the number of the first rule
 * exceeded (nothing is charged then). */
static const char rate_script[] =
    "local now = tonumber(ARGV[1])\n"
    "local tats = {}\n"
    "for i = 1, #KEYS do\n"
    "  local t, period, cost = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i]) or now)\n"
    "  if tat < now then tat = now end\n"
    "  tats[i] = tat + t * cost\n"
    "  if cost > 0 and tats[i] - now > period then return i end\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  if tonumber(ARGV[3 * i + 1]) > 0 then\n"
    "    redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now) + 1000)\n"
    "  end\n"
    "end\n"
    "return 0\n";


/* ---- rate limits (services/policyd/ratelimit.c) ---- */

struct rate_args {
    size_t n;
    const char *argv[1 + RATE_MAX_RULES + 1 + 3 * RATE_MAX_RULES];
    char keys[RATE_MAX_RULES][1024];
    char nums[1 + 3 * RATE_MAX_RULES][24];
    size_t rule_of[RATE_MAX_RULES];
    bool message;
};

/* The buckets this request charges; 0 when no rule applies. */
static size_t rate_prepare(struct req *r, struct rate_args *a)
{
    struct addr sender;
    const char *err;
    bool sender_ok = r->sender[0] && addr_parse(r->sender, strlen(r->sender), &sender, &err) == 0;
    size_t i, nkeys = 0, k = 0;
    struct timespec now;

    a->message = false;
    for (i = 0; i < pd.rates.nrules; i++) {
        const struct rate_rule *rule = &pd.rates.rules[i];
        const char *value = NULL;
        switch (rule->key) {
        case RATE_SASL: value = r->login_folded[0] ? r->login_folded : NULL; break;
        case RATE_SENDER_DOMAIN: value = sender_ok ? sender.domain : NULL; break;
        case RATE_SENDER: value = sender_ok ? sender.full : NULL; break;
        case RATE_CLIENT:
            value = r->client[0] && strcmp(r->client, "unknown") != 0 ? r->client : NULL;
            break;
        }
        if (value == NULL || (rule->per_message && r->pc->message_counted))
            continue;
        snprintf(a->keys[nkeys], sizeof(a->keys[nkeys]), "%s:rate:%s:%s", pd.rate_prefix,
                 rule->text, value);
        a->rule_of[nkeys++] = i;
        a->message |= rule->per_message;
    }
    if (nkeys == 0)
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(a->nums[0], sizeof(a->nums[0]), "%lld",
             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    a->n = 0;
    snprintf(a->nums[1], sizeof(a->nums[1]), "%zu", nkeys);
    a->argv[a->n++] = a->nums[1];
    for (i = 0; i < nkeys; i++)
        a->argv[a->n++] = a->keys[i];
    a->argv[a->n++] = a->nums[0];
    for (i = 0, k = 2; i < nkeys; i++) {
        const struct rate_rule *rule = &pd.rates.rules[a->rule_of[i]];
        snprintf(a->nums[k], sizeof(a->nums[k]), "%lld", rule->period_ms / rule->count);
        snprintf(a->nums[k + 1], sizeof(a->nums[k + 1]), "%lld", rule->period_ms);
        snprintf(a->nums[k + 2], sizeof(a->nums[k + 2]), "1");
        a->argv[a->n++] = a->nums[k];
        a->argv[a->n++] = a->nums[k + 1];
        a->argv[a->n++] = a->nums[k + 2];
        k += 3;
    }
    return nkeys;
}


static void rate_done(redisReply *rep, void *arg)
{
    struct req *r = arg;
    struct rate_args a;

    if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
        if (pd.fail_closed)
            tempfail(r, "rate_limit", rep ? "unexpected reply from Redis" : "Redis");
    } else if (rep->integer > 0 && rate_prepare(r, &a) >= (size_t)rep->integer) {
        const struct rate_rule *rule = &pd.rates.rules[a.rule_of[rep->integer - 1]];
        log_info("rate limit %s exceeded: %s", rule->text, a.keys[rep->integer - 1]);
        decide(r, "rate_limit", "%s", pd.rate_action);
    } else if (rep->integer == 0 && rate_prepare(r, &a) > 0 && a.message) {
        r->pc->message_counted = true;
    }
    run_checks(r);
}

int rate_send(struct req *r)
{
    struct rate_args a;

    if (rate_prepare(r, &a) == 0)
        return 1; /* nothing to count */
    return redis_script_run(pd.redis, &pd.rate_script, (int)a.n, a.argv, rate_done, r);
}

void rates_init(void)
{
    redis_script_init(&pd.rate_script, rate_script);
}
