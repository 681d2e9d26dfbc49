/*
 * conf - modo.conf settings table and INI loader (libinih); see conf.h.
 */
#include "conf.h"
#include "log.h"
#include "num.h"
#include "strbuf.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SEC 1000LL
/* starts the stand-in value of a line too long for libinih (see conf_reader) */
#define LONG_VALUE_MARK '\x01'
#define DAY (86400LL * SEC)

/* Settings shared by every daemon section: how it listens and runs. */
#define SERVER_SETTINGS(sec, listen_def, max_request_def)                                                           \
    {sec, "listen", CONF_STRING, listen_def, 0, 0, NULL,                                            \
     "space-separated endpoints: inet:HOST:PORT, unix:PATH, fd:N or systemd"},                      \
    {sec, "socket_mode", CONF_MODE, "0660", 0, 07777, NULL, "mode of unix sockets (octal)"},        \
    {sec, "socket_owner", CONF_STRING, "", 0, 0, NULL, "owner[:group] of unix sockets"},            \
    {sec, "user", CONF_STRING, "", 0, 0, NULL,                                                     \
     "drop privileges to this user after binding (required when started as root)"},                \
    {sec, "workers", CONF_INT, "1", 1, 64, NULL, "processes sharing the listening sockets"},        \
    {sec, "max_connections", CONF_INT, "1000", 1, 100000, NULL,                                    \
     "connections per worker; more are refused"},                                                  \
    {sec, "idle_timeout", CONF_DURATION, "300s", 1 * SEC, DAY, NULL,                               \
     "close a connection idle this long"},                                                         \
    {sec, "max_request", CONF_INT, max_request_def, 64, 1048576, NULL,                                     \
     "largest request accepted, in bytes, however it is split across reads"},                      \
    {sec, "request_timeout", CONF_DURATION, "10s", 100, 3600 * SEC, NULL,                          \
     "close a connection that takes longer than this to send one complete request"},              \
    {sec, "max_pending", CONF_INT, "1000", 1, 1000000, NULL,                                       \
     "replies a connection may have outstanding (being answered, or not yet read by the"          \
     " client) before its further requests are left unread"},                                     \
    {sec, "max_output", CONF_INT, "1048576", 4096, 1073741824, NULL,                               \
     "bytes of replies a client may leave unread before its further requests are left unread"},   \
    {sec, "stats_listen", CONF_STRING, "", 0, 0, NULL,                                             \
     "where the counters are served in Prometheus text format (inet:127.0.0.1:PORT or"            \
     " unix:PATH; loopback only; empty: not served)"},                                             \
    {sec, "log", CONF_ENUM, "syslog", 0, 0, "syslog|stderr", "where diagnostics go"},              \
    {sec, "debug", CONF_BOOL, "no", 0, 0, NULL, "log one line per request"}

static const struct conf_setting conf_table[] = {
    {"database", "url", CONF_STRING, "sqlite:///var/lib/modo/modo.db", 0, 0, NULL,
     "sqlite:///PATH or postgresql://user:pass@host:port/dbname?options (libpq URI)"},
    {"database", "write_url", CONF_STRING, "", 0, 0, NULL,
     "where the daemons write (limit alarms, quota, last login) when url is a read-only"
     " replica: its primary (postgresql://...); empty: url"},
    {"database", "pool_size", CONF_INT, "4", 1, 64, NULL,
     "PostgreSQL connections per process"},
    {"database", "deadline", CONF_DURATION, "1s", 10, 60 * SEC, NULL,
     "internal deadline of every database question"},
    {"database", "replica", CONF_BOOL, "no", 0, 0, NULL,
     "the PostgreSQL server is a streaming replica: poll the generation instead of LISTEN"},
    {"database", "poll_interval", CONF_DURATION, "50ms", 10, 60 * SEC, NULL,
     "how often to check for changes when not notified (SQLite, replicas)"},
    {"database", "busy_timeout", CONF_DURATION, "1s", 0, 60 * SEC, NULL,
     "SQLite busy timeout"},
    {"database", "reconnect_max", CONF_DURATION, "10s", 100, 600 * SEC, NULL,
     "longest wait between PostgreSQL reconnection attempts (while questions wait, one is"
     " made at least every 250 ms)"},
    {"database", "max_queue", CONF_INT, "10000", 1, 10000000, NULL,
     "PostgreSQL questions waiting for a connection, per process; more fail at once"
     " (a temporary failure)"},
    {"database", "owner", CONF_STRING, "modo", 0, 0, NULL,
     "SQLite: the user (with its group) modoctl db init gives the database file and the"
     " directory it creates: the daemons' user; empty: left to whoever runs modoctl"},

    {"redis", "address", CONF_STRING, "", 0, 0, NULL,
     "HOST:PORT or unix:PATH of the shared L2 cache; empty disables Redis"},
    {"redis", "database", CONF_INT, "0", 0, 255, NULL, "Redis database number"},
    {"redis", "password", CONF_STRING, "", 0, 0, NULL, "Redis AUTH password"},
    {"redis", "timeout", CONF_DURATION, "100ms", 1, 10 * SEC, NULL,
     "give up on a Redis reply after this long and ask the database"},
    {"redis", "reconnect_max", CONF_DURATION, "5s", 100, 600 * SEC, NULL,
     "longest wait between Redis reconnection attempts"},
    {"redis", "prefix", CONF_STRING, "modo", 0, 0, NULL, "prefix of every cache key"},

    {"cache", "size", CONF_INT, "100000", 0, 100000000, NULL,
     "answers kept in process memory (L1); 0 disables L1"},
    {"cache", "positive_ttl", CONF_DURATION, "1h", 0, 30 * DAY, NULL,
     "lifetime of a cached answer"},
    {"cache", "negative_ttl", CONF_DURATION, "10m", 0, 30 * DAY, NULL,
     "lifetime of a cached 'not found'"},
    {"cache", "fallback_ttl", CONF_DURATION, "1s", 0, 3600 * SEC, NULL,
     "the longest an answer is cached while modo_generation cannot be read (changes are then"
     " not seen at once; the error log says how to fix it)"},
    {"cache", "stale_max_age", CONF_DURATION, "0", 0, 30 * DAY, NULL,
     "when the database is down, serve answers this old (0: never, answer a temporary error)"},

    SERVER_SETTINGS("lookupd", "unix:/var/spool/postfix/private/modo-lookupd", "10000"),
    {"lookupd", "map_domains", CONF_STRING, "domains", 0, 0, NULL,
     "socketmap name of the virtual_mailbox_domains map"},
    {"lookupd", "map_domain_aliases", CONF_STRING, "domain-aliases", 0, 0, NULL,
     "socketmap name of the virtual_alias_domains map"},
    {"lookupd", "map_aliases", CONF_STRING, "aliases", 0, 0, NULL,
     "socketmap name of the virtual_alias_maps map"},
    {"lookupd", "map_relay_domains", CONF_STRING, "relay-domains", 0, 0, NULL,
     "socketmap name of the relay_domains map"},
    {"lookupd", "map_transport", CONF_STRING, "transport", 0, 0, NULL,
     "socketmap name of the transport_maps map (relay transports and split domains together)"},
    {"lookupd", "map_split_domains_transport", CONF_STRING, "split-domains-transport", 0, 0,
     NULL, "socketmap name of the split-domains transport map alone"},
    {"lookupd", "map_maintain", CONF_STRING, "maintain", 0, 0, NULL,
     "socketmap name of the maintenance hold (check_recipient_access)"},
    {"lookupd", "map_relay_recipient_verification", CONF_STRING, "relay-recipient-verification",
     0, 0, NULL, "socketmap name of the relay recipient verification (check_recipient_access)"},
    {"lookupd", "map_sender_login", CONF_STRING, "sender-login", 0, 0, NULL,
     "socketmap name of the smtpd_sender_login_maps map"},
    {"lookupd", "recipient_delimiter", CONF_STRING, "+", 0, 0, NULL,
     "Postfix's recipient_delimiter: the characters that start an address extension"},
    {"lookupd", "owner_request_special", CONF_BOOL, "yes", 0, 0, NULL,
     "Postfix's owner_request_special: never split owner-* and *-request at '-'"},
    {"lookupd", "propagate_unmatched_extensions", CONF_BOOL, "yes", 0, 0, NULL,
     "append the unmatched extension to alias results (Postfix's default for virtual)"},
    {"lookupd", "relay_domains_match_subdomains", CONF_BOOL, "yes", 0, 0, NULL,
     "subdomains of a relay domain are relayed too (parent_domain_matches_subdomains)"},
    {"lookupd", "split_domains_transport", CONF_STRING, "lmtp:unix:private/dovecot-lmtp", 0, 0,
     NULL, "transport of local mailboxes inside relay domains"},
    {"lookupd", "maintain_action", CONF_STRING,
     "450 Requested mail action not taken: mailbox unavailable", 0, 0, NULL,
     "access(5) action while a mailbox has a pending rename"},
    {"admin", "mail_root", CONF_STRING, "/srv/vmail", 0, 0, NULL,
     "directory holding every mail home; mailbox operations never leave it"},
    {"admin", "mail_home", CONF_STRING, "%d/%n", 0, 0, NULL,
     "home of a mailbox under mail_root, as Dovecot's mail_home (%d domain, %n local part,"
     " %u address)"},
    {"admin", "mail_user", CONF_STRING, "vmail", 0, 0, NULL,
     "the system user owning the mail homes (Dovecot's mail_uid and mail_gid; modo-dictd and"
     " modo-checkpassword give its uid and gid with every user, as Modoboa's queries do;"
     " empty: none given)"},
    {"admin", "handle_mailboxes", CONF_BOOL, "yes", 0, 0, NULL,
     "queue renames and deletions of mail homes (modoctl mailbox-ops run performs them)"},
    {"admin", "password_scheme", CONF_STRING, "SHA512-CRYPT", 0, 0, NULL,
     "scheme of the passwords modoctl hashes"},
    {"admin", "auto_account_removal", CONF_BOOL, "no", 0, 0, NULL,
     "deleting a domain deletes its accounts (otherwise they are kept without a mailbox)"},
    {"admin", "alias_can_target_any_domain", CONF_BOOL, "yes", 0, 0, NULL,
     "aliases may forward to any remote domain (except alias_target_block_list)"},
    {"admin", "alias_target_block_list", CONF_STRING, "", 0, 0, NULL,
     "remote domains aliases may not forward to"},
    {"admin", "alias_target_allow_list", CONF_STRING, "", 0, 0, NULL,
     "remote domains aliases may forward to when alias_can_target_any_domain is no"},
    {"admin", "log_maximum_age", CONF_INT, "365", 1, 100000, NULL,
     "cleanup logs: days of core_log kept"},
    {"admin", "message_history_maximum_age", CONF_INT, "180", 1, 100000, NULL,
     "cleanup logs: days of message history (maillog_maillog) kept"},
    {"admin", "inactive_account_threshold", CONF_INT, "30", 1, 100000, NULL,
     "cleanup inactive-accounts: days without a login"},
    SERVER_SETTINGS("policyd", "inet:127.0.0.1:9999", "10000"),
    {"policyd", "send_as", CONF_STRING, "*", 0, 0, NULL,
     "policy contexts (policy_context values; \"default\" = none given; * = all) where an"
     " authenticated client must own the envelope sender"},
    {"policyd", "auth_required_for_hosted_senders", CONF_STRING, "", 0, 0, NULL,
     "policy contexts where a hosted domain may not be the sender without authentication"},
    {"policyd", "daily_limits", CONF_STRING, "*", 0, 0, NULL,
     "policy contexts where the daily sending limits (message_limit) apply"},
    {"policyd", "limit_mode", CONF_ENUM, "rcpt", 0, 0, "rcpt|message",
     "rcpt: each recipient is charged at RCPT (Modoboa); message: checked at RCPT, charged"
     " at END-OF-MESSAGE with recipient_count"},
    {"policyd", "limit_action", CONF_STRING, "DEFER_IF_PERMIT Daily limit reached, retry later",
     0, 0, NULL, "the reply when a daily limit is reached"},
    {"policyd", "counters", CONF_STRING, "messages_count", 0, 0, NULL,
     "the Redis hash of remaining allowances (Modoboa's UI reads it)"},
    {"policyd", "redis_failure", CONF_ENUM, "open", 0, 0, "open|closed",
     "limits while Redis is down: open (DUNNO) or closed (tempfail_action)"},
    {"policyd", "rate_limits", CONF_STRING, "", 0, 0, NULL,
     "rate limit rules KEY:COUNT/PERIOD[:rcpt|msg], KEY sasl, sender_domain, sender or client"
     " (e.g. sasl:100/1h client:1000/1d:msg)"},
    {"policyd", "rate_limit_contexts", CONF_STRING, "*", 0, 0, NULL,
     "policy contexts where the rate limits apply"},
    {"policyd", "rate_limit_exempt", CONF_STRING, "127.0.0.1 ::1", 0, 0, NULL,
     "client addresses and networks (CIDR) the rate limits never apply to"},
    {"policyd", "rate_limit_action", CONF_STRING,
     "DEFER_IF_PERMIT Rate limit exceeded, retry later", 0, 0, NULL,
     "the reply when a rate limit is exceeded"},
    {"policyd", "mailbox_full", CONF_STRING, "", 0, 0, NULL,
     "policy contexts where recipients whose mailbox is full are refused at RCPT"},
    {"policyd", "mailbox_full_action", CONF_STRING, "552 5.2.2 Mailbox full", 0, 0, NULL,
     "the reply for a full mailbox"},
    {"policyd", "log_accepted", CONF_BOOL, "yes", 0, 0, NULL,
     "log every decision, DUNNO included (no: only refusals and deferrals)"},
    {"policyd", "tempfail_action", CONF_STRING,
     "DEFER_IF_PERMIT Temporary failure, retry later", 0, 0, NULL,
     "the reply when a check cannot be made (database down, or Redis with redis_failure ="
     " closed)"},
    /* a dict line may be 64 KiB (Dovecot's DICT_CLIENT_MAX_LINE_LENGTH) */
    SERVER_SETTINGS("dictd", "unix:/run/modo/dictd.sock", "65537"),
    {"dictd", "last_login_flush", CONF_DURATION, "2s", 100, 60 * SEC, NULL,
     "last-login times are written at most this long after the login (one write per user"
     " per period) and at stop"},
    {"dictd", "last_login_key", CONF_STRING, "shared/last-login/", 0, 0, NULL,
     "key prefix of Dovecot's last_login plugin (shared/ + its last_login_key without %u)"},
    {"checkpassword", "dictd_socket", CONF_STRING, "", 0, 0, NULL,
     "modo-dictd's unix socket (empty: the first unix: endpoint of [dictd] listen)"},
    {"checkpassword", "timeout", CONF_DURATION, "5s", 100, 60 * SEC, NULL,
     "hard deadline of one run; past it the run exits 111 (temporary failure)"},
    {"checkpassword", "log", CONF_ENUM, "syslog", 0, 0, "syslog|stderr", "where diagnostics go"},
    {"dkim", "storage_dir", CONF_STRING, "/var/lib/dkim", 0, 0, NULL,
     "directory of the private keys (DOMAIN.pem); when not set here, Modoboa's"
     " dkim_keys_storage_dir (core_localconfig) wins over the default"},
    {"dkim", "default_key_length", CONF_ENUM, "2048", 0, 0, "1024|2048|4096",
     "RSA bits of domains without dkim_key_length (when not set here, Modoboa's"
     " dkim_default_key_length)"},
    {"dkim", "user", CONF_STRING, "opendkim", 0, 0, NULL,
     "the signer's user, owner of the private keys (empty: whoever runs modo-dkim)"},
    {"dkim", "ed25519", CONF_BOOL, "no", 0, 0, NULL,
     "also make an Ed25519 key (RFC 8463) under a second selector, for dual signing"},
    {"dkim", "ed25519_selector", CONF_STRING, "%s-ed25519", 0, 0, NULL,
     "the Ed25519 key's selector (%s: the domain's RSA selector)"},
    {"dkim", "signer", CONF_ENUM, "opendkim", 0, 0, "opendkim|rspamd",
     "what signs: OpenDKIM reads the modo_dkim view; rspamd reads the two map files below,"
     " which modo-dkim rewrites whenever a key is made or switched"},
    {"dkim", "rspamd_selector_map", CONF_STRING, "/var/lib/rspamd/dkim_selectors.map", 0, 0,
     NULL, "rspamd's selector_map (domain selector)"},
    {"dkim", "rspamd_path_map", CONF_STRING, "/var/lib/rspamd/dkim_paths.map", 0, 0, NULL,
     "rspamd's path_map (domain key-file)"},
    {"dkim", "rspamd_domains", CONF_STRING, "/var/lib/rspamd/dkim_domains.conf", 0, 0, NULL,
     "rspamd: a dkim_signing include listing both selectors of domains with an Ed25519 key"
     " (dual signing; written when there is one)"},
    {"dkim", "rotate_selector", CONF_STRING, "%Y%m", 0, 0, NULL,
     "selector of a rotation's new key (strftime of the day it starts; a suffix is added if"
     " the domain used it already)"},
    {"dkim", "revoke_grace", CONF_DURATION, "7d", 0, 365 * DAY, NULL,
     "rotation: how long the old key stays published after the switch before its record"
     " is replaced by a revocation (p=)"},
    {"dkim", "log", CONF_ENUM, "stderr", 0, 0, "syslog|stderr", "where diagnostics go"},
    {"dnscheck", "mx_checks", CONF_BOOL, "yes", 0, 0, NULL, "check MX records"},
    {"dnscheck", "spf_checks", CONF_BOOL, "yes", 0, 0, NULL, "check SPF records"},
    {"dnscheck", "dkim_checks", CONF_BOOL, "yes", 0, 0, NULL,
     "check DKIM records of domains with DKIM on and a key"},
    {"dnscheck", "dmarc_checks", CONF_BOOL, "yes", 0, 0, NULL, "check DMARC records"},
    {"dnscheck", "autoconfig_checks", CONF_BOOL, "yes", 0, 0, NULL,
     "check autoconfig and autodiscover names"},
    {"dnscheck", "dnsbl_checks", CONF_BOOL, "yes", 0, 0, NULL,
     "ask the DNSBL providers about every MX address"},
    {"dnscheck", "ipv6_mx_checks", CONF_BOOL, "yes", 0, 0, NULL,
     "resolve AAAA for MX hosts (and autoconfig) too"},
    {"dnscheck", "dmarc_critical", CONF_BOOL, "yes", 0, 0, NULL,
     "a DMARC problem makes the domain critical"},
    {"dnscheck", "authoritative", CONF_BOOL, "yes", 0, 0, NULL,
     "ask the domain's own records of its authoritative servers (Modoboa's way), the rest of"
     " the resolver; no: everything of the resolver"},
    {"dnscheck", "valid_mxs", CONF_STRING, "", 0, 0, NULL,
     "addresses and networks (CIDR) of this platform's MX hosts, space-separated; when not"
     " set here, Modoboa's valid_mxs"},
    {"dnscheck", "dnsbl_providers", CONF_STRING,
     "b.barracudacentral.org bl.spamcop.net ips.backscatterer.org psbl.surriel.com"
     " sbl.spamhaus.org ubl.unsubscore.com xbl.spamhaus.org zen.spamhaus.org",
     0, 0, NULL, "DNSBL zones asked about every MX address (Modoboa's list)"},
    {"dnscheck", "sending_addresses", CONF_STRING, "", 0, 0, NULL,
     "this platform's outgoing addresses: each domain's SPF must pass them"},
    {"dnscheck", "concurrency", CONF_INT, "16", 1, 256, NULL, "domains checked at once"},
    {"dnscheck", "ttl", CONF_DURATION, "2h", 0, 30 * DAY, NULL,
     "how long valid results are kept as current (Modoboa's --ttl)"},
    {"dnscheck", "log", CONF_ENUM, "stderr", 0, 0, "syslog|stderr", "where diagnostics go"},
    SERVER_SETTINGS("logd", "", "65536"),
    {"logd", "source", CONF_STRING, "/var/log/mail.log", 0, 0, NULL,
     "the mail log followed: a file (syslog's, or Postfix's maillog_file), across rotation"},
    {"logd", "rrd_rootdir", CONF_STRING, "/srv/modoboa/rrdfiles", 0, 0, NULL,
     "where the traffic RRD files are written (Modoboa's maillog rrd_rootdir; empty: none)"},
    {"logd", "greylist", CONF_BOOL, "no", 0, 0, NULL,
     "count greylisted connections apart (Modoboa's maillog greylist): the greylist data"
     " source"},
    {"logd", "history", CONF_BOOL, "yes", 0, 0, NULL,
     "write the message history (maillog_maillog) and the mailboxes' daily traffic"},
    {"logd", "poll_interval", CONF_DURATION, "1s", 50, 60 * SEC, NULL,
     "how often the log is read for new lines"},
    {"logd", "commit_interval", CONF_DURATION, "5s", 0, 3600 * SEC, NULL,
     "how often what was read is committed with the checkpoint"},
    {"logd", "batch_lines", CONF_INT, "20000", 1, 10000000, NULL,
     "lines read at most between two commits"},
    {"logd", "max_line", CONF_INT, "16384", 256, 1048576, NULL,
     "longest line read; longer ones are skipped and counted"},
    {"logd", "max_queue_ids", CONF_INT, "200000", 100, 100000000, NULL,
     "queue ids followed at once (the oldest are forgotten first)"},
    {"logd", "queue_id_ttl", CONF_DURATION, "6d", 60 * SEC, 365 * DAY, NULL,
     "a queue id without a line for this long is forgotten (Postfix keeps a message at most"
     " maximal_queue_lifetime, 5d)"},
    {"logd", "mailbox_traffic_days", CONF_INT, "400", 1, 100000, NULL,
     "days of the mailboxes' daily traffic kept"},
    {"dns", "resolver", CONF_STRING, "", 0, 0, NULL,
     "the recursive resolver (HOST or HOST:PORT, space-separated; empty: /etc/resolv.conf)"},
    {"dns", "timeout", CONF_DURATION, "3s", 100, 60 * SEC, NULL, "deadline of one query"},
    {"dns", "hosts", CONF_STRING, "", 0, 0, NULL,
     "fixed addresses of name servers, space-separated NAME=ADDRESS[:PORT] (hidden masters,"
     " split horizons, test beds); others are resolved"},
};

#define CONF_COUNT (sizeof(conf_table) / sizeof(conf_table[0]))

struct conf_value {
    char *raw;
    long long num;
    char *origin;
};

struct conf {
    struct conf_value values[CONF_COUNT];
    /* loader state */
    const char *file;
    char *error;
    bool seen[CONF_COUNT];
    int line;          /* of the line being parsed */
    char **long_values; /* values of lines too long for libinih, by index */
    size_t nlong;
};

int conf_parse_bool(const char *s, bool *v, const char **error_r)
{
    return num_parse_bool(s, v, error_r);
}

int conf_parse_int(const char *s, long long *v, const char **error_r)
{
    return num_parse(s, LLONG_MIN, LLONG_MAX, v, error_r);
}

int conf_parse_duration(const char *s, long long *ms, const char **error_r)
{
    static const struct {
        const char *unit;
        long long mult;
    } units[] = {{"", SEC}, {"ms", 1}, {"s", SEC}, {"m", 60 * SEC}, {"h", 3600 * SEC},
                 {"d", DAY}};
    char *end;
    long long n;
    size_t i;

    errno = 0;
    n = strtoll(s, &end, 10);
    if (end == s || errno == ERANGE || n < 0) {
        *error_r = "not a duration (a number with unit ms, s, m, h or d)";
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (n > LLONG_MAX / units[i].mult) {
                *error_r = "duration too large";
                return -1;
            }
            *ms = n * units[i].mult;
            return 0;
        }
    }
    *error_r = "unknown duration unit (use ms, s, m, h or d)";
    return -1;
}

static int enum_contains(const char *choices, const char *s)
{
    size_t n = strlen(s);
    const char *p = choices;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return 1;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return 0;
}

/* Check and store a value; on error return a static reason. */
static const char *conf_set(struct conf *conf, size_t i, const char *value, const char *origin)
{
    const struct conf_setting *s = &conf_table[i];
    const char *err = NULL;
    long long num = 0;
    bool b;

    switch (s->type) {
    case CONF_STRING:
        break;
    case CONF_INT:
        if (conf_parse_int(value, &num, &err) < 0)
            return err;
        if (num < s->min || num > s->max)
            return "value out of range";
        break;
    case CONF_DURATION:
        if (conf_parse_duration(value, &num, &err) < 0)
            return err;
        if (num < s->min || num > s->max)
            return "duration out of range";
        break;
    case CONF_BOOL:
        if (conf_parse_bool(value, &b, &err) < 0)
            return err;
        num = b;
        break;
    case CONF_ENUM:
        if (!enum_contains(s->choices, value))
            return "not one of the allowed values";
        break;
    case CONF_MODE: {
        char *end;
        if (value[0] < '0' || value[0] > '7' || strlen(value) > 5)
            return "not an octal file mode (like 0660)";
        num = strtoll(value, &end, 8);
        if (*end != '\0' || num > s->max)
            return "not an octal file mode (like 0660)";
        break;
    }
    }
    free(conf->values[i].raw);
    free(conf->values[i].origin);
    conf->values[i].raw = xstrdup(value);
    conf->values[i].num = num;
    conf->values[i].origin = xstrdup(origin);
    return NULL;
}

struct conf *conf_defaults(void)
{
    struct conf *conf = xcalloc(1, sizeof(*conf));
    size_t i;

    for (i = 0; i < CONF_COUNT; i++) {
        const char *err = conf_set(conf, i, conf_table[i].def, "default");
        if (err != NULL)
            log_panic("default of [%s] %s is invalid: %s", conf_table[i].section,
                      conf_table[i].name, err);
    }
    return conf;
}

static int section_known(const char *section)
{
    size_t i;

    for (i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_table[i].section, section) == 0)
            return 1;
    return 0;
}

/* libinih reports the line of the first handler failure through ini_parse()'s result. */
static int conf_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    struct conf *conf = user;
    const char *err;
    size_t i;

    if (conf->error != NULL)
        return 0;
    if (!section_known(section)) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "[%s] %s: unknown section [%s]", section, name, section);
        conf->error = strbuf_steal(&sb);
        return 0;
    }
    for (i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_table[i].section, section) == 0 && strcmp(conf_table[i].name, name) == 0)
            break;
    if (i == CONF_COUNT) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "[%s] %s: unknown setting", section, name);
        conf->error = strbuf_steal(&sb);
        return 0;
    }
    if (conf->seen[i]) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "[%s] %s: set twice", section, name);
        conf->error = strbuf_steal(&sb);
        return 0;
    }
    conf->seen[i] = true;
    if (value[0] == LONG_VALUE_MARK) { /* a line longer than libinih's buffer: see conf_reader */
        size_t k = (size_t)strtoul(value + 1, NULL, 10);
        value = k < conf->nlong ? conf->long_values[k] : "";
    }
    {
        char origin[1024];
        snprintf(origin, sizeof(origin), "%s:%d", conf->file, conf->line);
        err = conf_set(conf, i, value, origin);
    }
    if (err != NULL) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "[%s] %s: %s: \"%s\"", section, name, err, value);
        if (conf_table[i].type == CONF_ENUM)
            strbuf_printf(&sb, " (allowed: %s)", conf_table[i].choices);
        else if (conf_table[i].type == CONF_INT)
            strbuf_printf(&sb, " (allowed: %lld to %lld)", conf_table[i].min, conf_table[i].max);
        conf->error = strbuf_steal(&sb);
        return 0;
    }
    return 1;
}

/*
 * libinih reads lines into a fixed buffer (INI_MAX_LINE, 200 bytes in Debian's build) and
 * would cut a longer line into several, misnumbering every line after it. This reader
 * hands it whole lines: a line too long for the buffer becomes "key = <mark><index>", its
 * value (trimmed, inline comment removed, as libinih would) kept aside for the handler.
 */
struct conf_reader {
    struct conf *conf;
    FILE *fp;         /* a file, */
    const char *text; /* or a string */
    char *buf;
    size_t cap;
};

static bool conf_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *conf_reader(char *str, int num, void *stream)
{
    struct conf_reader *rd = stream;
    struct conf *conf = rd->conf;
    ssize_t n;
    size_t keylen;
    char *sep, *v, *end;

    if (rd->fp != NULL) {
        n = getline(&rd->buf, &rd->cap, rd->fp);
        if (n < 0)
            return NULL;
    } else {
        const char *nl;
        if (*rd->text == '\0')
            return NULL;
        nl = strchr(rd->text, '\n');
        n = nl ? nl - rd->text + 1 : (ssize_t)strlen(rd->text);
        if ((size_t)n + 1 > rd->cap) {
            rd->cap = (size_t)n + 1;
            rd->buf = xrealloc(rd->buf, rd->cap);
        }
        memcpy(rd->buf, rd->text, (size_t)n);
        rd->buf[n] = '\0';
        rd->text += n;
    }
    conf->line++;
    if (memchr(rd->buf, '\0', (size_t)n) != NULL) {
        snprintf(str, (size_t)num, "\x02 NUL byte\n"); /* a syntax error on this line */
        return str;
    }
    if (n < num - 1 || (n == num - 1 && rd->buf[n - 1] == '\n')) {
        memcpy(str, rd->buf, (size_t)n + 1);
        return str;
    }
    /* too long: comments and blank-led continuations keep their meaning, key = value too */
    v = rd->buf + strspn(rd->buf, " \t");
    if (*v == ';' || *v == '#') {
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    sep = strpbrk(v, "=:");
    keylen = sep ? (size_t)(sep - rd->buf) : 0;
    if (sep == NULL || keylen + 24 > (size_t)num) {
        snprintf(str, (size_t)num, "\x02 line too long\n");
        return str;
    }
    v = sep + 1;
    for (end = v; *end != '\0'; end++) /* inline comment: ';' after whitespace */
        if (*end == ';' && end > v && conf_space(end[-1]))
            break;
    *end = '\0';
    while (conf_space(*v))
        v++;
    while (end > v && conf_space(end[-1]))
        *--end = '\0';
    conf->long_values = xrealloc(conf->long_values, (conf->nlong + 1) * sizeof(char *));
    conf->long_values[conf->nlong] = xstrdup(v);
    snprintf(str, (size_t)num, "%.*s= %c%zu\n", (int)keylen, rd->buf, LONG_VALUE_MARK,
             conf->nlong);
    conf->nlong++;
    return str;
}

static struct conf *conf_finish(struct conf *conf, const char *name, int rc, char **error_r)
{
    struct strbuf sb = STRBUF_INIT;

    if (rc == 0) {
        conf->file = NULL; /* the caller's string: not kept */
        return conf;
    }
    if (rc == -1)
        strbuf_printf(&sb, "%s: cannot open: %s", name, strerror(errno));
    else if (rc == -2)
        strbuf_printf(&sb, "%s: out of memory while parsing", name);
    else if (conf->error != NULL)
        strbuf_printf(&sb, "%s:%d: %s", name, rc, conf->error);
    else
        strbuf_printf(&sb, "%s:%d: syntax error (expected [section], key = value or a comment)",
                      name, rc);
    *error_r = strbuf_steal(&sb);
    conf_free(&conf);
    return NULL;
}

static int conf_parse(struct conf *conf, FILE *fp, const char *text)
{
    struct conf_reader rd = {conf, fp, text, NULL, 0};
    int rc = ini_parse_stream(conf_reader, &rd, conf_ini_handler, conf);

    free(rd.buf);
    return rc;
}

struct conf *conf_load(const char *path, char **error_r)
{
    struct conf *conf = conf_defaults();
    struct stat st;
    FILE *fp;
    int rc;

    conf->file = path;
    fp = fopen(path, "r");
    if (fp == NULL)
        return conf_finish(conf, path, -1, error_r);
    if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode)) {
        struct strbuf sb = STRBUF_INIT;
        fclose(fp);
        strbuf_printf(&sb, "%s: cannot read: %s; give the path of modo.conf", path,
                      S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        *error_r = strbuf_steal(&sb);
        conf_free(&conf);
        return NULL;
    }
    rc = conf_parse(conf, fp, NULL);
    fclose(fp);
    return conf_finish(conf, path, rc, error_r);
}

struct conf *conf_load_string(const char *name, const char *text, char **error_r)
{
    struct conf *conf = conf_defaults();
    int rc;

    conf->file = name;
    rc = conf_parse(conf, NULL, text);
    return conf_finish(conf, name, rc, error_r);
}

void conf_free(struct conf **confp)
{
    struct conf *conf = *confp;
    size_t i;

    if (conf == NULL)
        return;
    for (i = 0; i < CONF_COUNT; i++) {
        free(conf->values[i].raw);
        free(conf->values[i].origin);
    }
    free(conf->error);
    for (i = 0; i < conf->nlong; i++)
        free(conf->long_values[i]);
    free(conf->long_values);
    free(conf);
    *confp = NULL;
}

static size_t conf_index(const char *section, const char *name, enum conf_type type)
{
    size_t i;

    for (i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_table[i].section, section) == 0 && strcmp(conf_table[i].name, name) == 0) {
            if (conf_table[i].type != type && !(type == CONF_STRING) &&
                !(type == CONF_INT && conf_table[i].type == CONF_MODE))
                log_panic("setting [%s] %s read with the wrong type", section, name);
            return i;
        }
    log_panic("no setting [%s] %s", section, name);
}

const char *conf_str(const struct conf *conf, const char *section, const char *name)
{
    return conf->values[conf_index(section, name, CONF_STRING)].raw;
}

long long conf_int(const struct conf *conf, const char *section, const char *name)
{
    return conf->values[conf_index(section, name, CONF_INT)].num;
}

bool conf_bool(const struct conf *conf, const char *section, const char *name)
{
    return conf->values[conf_index(section, name, CONF_BOOL)].num != 0;
}

long long conf_ms(const struct conf *conf, const char *section, const char *name)
{
    return conf->values[conf_index(section, name, CONF_DURATION)].num;
}

const char *conf_origin(const struct conf *conf, const char *section, const char *name)
{
    return conf->values[conf_index(section, name, CONF_STRING)].origin;
}

static bool value_differs(const struct conf *a, const struct conf *b, size_t i)
{
    return strcmp(a->values[i].raw, b->values[i].raw) != 0;
}

bool conf_differs(const struct conf *a, const struct conf *b, const char *section,
                  const char *name)
{
    size_t i;

    for (i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_table[i].section, section) == 0 &&
            (name == NULL || strcmp(conf_table[i].name, name) == 0) && value_differs(a, b, i))
            return true;
    return false;
}

void conf_print_reference(FILE *fp)
{
    static const char *const types[] = {"string", "integer", "boolean", "duration", "enum",
                                        "octal mode"};
    const char *section = "";
    size_t i;

    for (i = 0; i < CONF_COUNT; i++) {
        const struct conf_setting *s = &conf_table[i];
        if (strcmp(section, s->section) != 0) {
            fprintf(fp, "%s[%s]\n", i ? "\n" : "", s->section);
            section = s->section;
        }
        fprintf(fp, "# %s (%s", s->help, types[s->type]);
        if (s->type == CONF_INT)
            fprintf(fp, ", %lld to %lld", s->min, s->max);
        if (s->type == CONF_ENUM)
            fprintf(fp, ": %s", s->choices);
        fprintf(fp, ")\n#%s = %s\n", s->name, s->def);
    }
}

char *conf_listen_first(const struct conf *conf, const char *section, const char *prefix1,
                        const char *prefix2)
{
    const char *p = conf_str(conf, section, "listen");

    for (;;) {
        size_t len;
        const char *eq;
        p += strspn(p, " ,\t");
        if (*p == '\0')
            return NULL;
        len = strcspn(p, " ,\t");
        eq = memchr(p, '=', len);
        if (eq == NULL && ((prefix1 != NULL && len > strlen(prefix1) && strncmp(p, prefix1, strlen(prefix1)) == 0) ||
            (prefix2 != NULL && len > strlen(prefix2) && strncmp(p, prefix2, strlen(prefix2)) == 0)))
            return xstrndup(p, len);
        p += len;
    }
}
