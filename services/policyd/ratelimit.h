/*
 * ratelimit - the rate limit rules of modo-policyd and the client exemptions: parsing
 * and matching, no I/O (the counting is a Redis script in policyd.c).
 *
 * [policyd] rate_limits is a space-separated list of rules KEY:COUNT/PERIOD[:UNIT]:
 *   KEY     sasl (the login), sender_domain, sender (the address) or client (the IP);
 *   COUNT   how many in PERIOD (a duration: 30s, 10m, 1h, 1d);
 *   UNIT    rcpt (every recipient, the default) or msg (a message: its first recipient).
 * Each rule is a leaky bucket (GCRA): COUNT at once, then one every PERIOD/COUNT.
 *
 * [policyd] rate_limit_exempt lists addresses and networks (CIDR, IPv4 or IPv6) whose
 * clients no rule applies to.
 */
#ifndef MODO_RATELIMIT_H
#define MODO_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rate_key { RATE_SASL, RATE_SENDER_DOMAIN, RATE_SENDER, RATE_CLIENT };

struct rate_rule {
    enum rate_key key;
    long long count;
    long long period_ms;
    bool per_message;
    char text[64]; /* the rule as written, names its counters */
};

#define RATE_MAX_RULES 16
#define RATE_MAX_NETS 64

struct rate_net {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int prefix;
};

struct rate_config {
    size_t nrules;
    struct rate_rule rules[RATE_MAX_RULES];
    size_t nnets;
    struct rate_net nets[RATE_MAX_NETS];
};

/* Parse the two settings; -1 with *error_r (static text naming the bad item in buf). */
int rate_config_parse(struct rate_config *rc, const char *rules, const char *exempt,
                      char *buf, size_t size, const char **error_r);

/* Is this client address (as Postfix sends it) exempt? */
bool rate_exempt(const struct rate_config *rc, const char *client_address);

const char *rate_key_name(enum rate_key key);

#endif
