/*
 * ratelimit: the rules of [policyd] rate_limits and the exempt networks.
 */
#include "tap.h"

#include "ratelimit.h"

#include <string.h>

static void bad(const char *rules, const char *exempt, const char *want)
{
    struct rate_config rc;
    char buf[256];
    const char *err = "";

    ok(rate_config_parse(&rc, rules, exempt, buf, sizeof(buf), &err) < 0, "refused: %s%s", rules,
       exempt);
    is_str(err, want, "the error names the item");
}

int main(void)
{
    struct rate_config rc;
    char buf[256];
    const char *err = "";

    ok(rate_config_parse(&rc, "sasl:100/1h client:1000/1d:msg, sender_domain:5/30s:rcpt sender:2/1m",
                         "127.0.0.1 10.0.0.0/8 2001:db8::/32 ::1", buf, sizeof(buf), &err) == 0,
       "a rule list parses (%s)", err);
    ok(rc.nrules == 4, "four rules");
    ok(rc.rules[0].key == RATE_SASL && rc.rules[0].count == 100 && rc.rules[0].period_ms == 3600000 &&
           !rc.rules[0].per_message,
       "sasl:100/1h: per recipient by default");
    ok(rc.rules[1].key == RATE_CLIENT && rc.rules[1].count == 1000 &&
           rc.rules[1].period_ms == 86400000 && rc.rules[1].per_message,
       "client:1000/1d:msg: per message");
    ok(rc.rules[2].key == RATE_SENDER_DOMAIN && rc.rules[2].period_ms == 30000, "sender_domain:5/30s:rcpt");
    is_str(rc.rules[3].text, "sender:2/1m", "the rule's text names its buckets");
    is_str(rate_key_name(RATE_SENDER_DOMAIN), "sender_domain", "key names");

    ok(rate_exempt(&rc, "127.0.0.1"), "exempt: an address");
    ok(rate_exempt(&rc, "10.200.3.4"), "exempt: in a /8");
    ok(!rate_exempt(&rc, "11.0.0.1"), "not exempt: outside");
    ok(rate_exempt(&rc, "2001:db8:ffff::1"), "exempt: IPv6 /32");
    ok(!rate_exempt(&rc, "2001:db9::1"), "not exempt: outside the IPv6 /32");
    ok(rate_exempt(&rc, "::1"), "exempt: ::1");
    ok(!rate_exempt(&rc, "unknown"), "not exempt: not an address");

    ok(rate_config_parse(&rc, "client:1/1s", "192.168.1.128/25", buf, sizeof(buf), &err) == 0,
       "a /25");
    ok(rate_exempt(&rc, "192.168.1.200") && !rate_exempt(&rc, "192.168.1.100"),
       "a /25 splits inside a byte");
    ok(rate_config_parse(&rc, "", "", buf, sizeof(buf), &err) == 0 && rc.nrules == 0 && rc.nnets == 0,
       "empty settings: no rule");

    bad("sasl", "", "a rule is KEY:COUNT/PERIOD[:rcpt|msg]: \"sasl\"");
    bad("ip:1/1h", "", "unknown key (sasl, sender_domain, sender or client): \"ip:1/1h\"");
    bad("sasl:0/1h", "", "COUNT must be a positive integer: \"sasl:0/1h\"");
    bad("sasl:10/100ms", "", "PERIOD must be a duration of at least 1s: \"sasl:10/100ms\"");
    bad("sasl:10/1h:bytes", "", "UNIT must be rcpt or msg: \"sasl:10/1h:bytes\"");
    bad("", "10.0.0.0/33", "bad prefix length: \"10.0.0.0/33\"");
    bad("", "example.com", "not an address or a network: \"example.com\"");
    return done_testing();
}
