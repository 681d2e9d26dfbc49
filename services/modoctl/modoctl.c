/*
 * modoctl - the admin's tool. This version: the database commands and a
 * view of what the store answers.
 *
 *   modoctl [-c modo.conf] db init             create the schema and modo's objects
 *   modoctl [-c modo.conf] db add-modo-objects apply modo's objects to a Modoboa database
 *   modoctl [-c modo.conf] ask QUESTION ARG... ask the store one question
 *   modoctl [-c modo.conf] demo                create demo data and show the answers
 *   modoctl [-c modo.conf] explain ADDRESS [--sender S] [--sasl LOGIN]
 *                                              what every map answers for ADDRESS, and why
 *   modoctl config reference                   every setting with its default
 *   modoctl [-c modo.conf] config check        validate the configuration file
 *   modoctl pw hash [-s SCHEME] [-p PASSWORD]  hash a password (like doveadm pw)
 *   modoctl pw verify HASH [-p PASSWORD]       check a password against a hash
 *
 * A password not given with -p is read from standard input (first line) or,
 * on a terminal, prompted for without echo. -p shows the password to every
 * user of the machine (ps): prefer standard input in scripts.
 *
 * Exit status: 0 success, 1 error, 2 usage, 3 (ask) nothing found,
 * 4 (ask) temporary failure.
 */
#include "modoctl.h"

#include "conf.h"
#include "daemon.h"
#include "metrics.h"
#include "num.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include "addr.h"
#include "admin.h"
#include "db.h"
#include "cache.h"
#include "maps.h"
#include "password.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>


static const char demo_sql[] =
    "INSERT INTO admin_domain (name, quota, default_mailbox_quota, message_limit, enabled, type,"
    " enable_dns_checks, transport_id, enable_dkim, dkim_key_selector, dkim_key_length,"
    " dkim_public_key, dkim_private_key_path, creation, last_modification) VALUES"
    " ('example.test', 0, 1024, NULL, TRUE, 'domain', FALSE, NULL, FALSE, 'modoboa', NULL, '', '',"
    "  '2026-01-01 00:00:00', '2026-01-01 00:00:00');"
    "INSERT INTO admin_domainalias (name, target_id, enabled, creation, last_modification)"
    " SELECT 'example.org', id, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'"
    " FROM admin_domain WHERE name = 'example.test';"
    "INSERT INTO core_user (password, last_login, is_superuser, username, first_name, last_name,"
    " email, is_staff, is_active, date_joined, is_local, master_user, language, phone_number,"
    " secondary_email, _parameters, totp_enabled, webauthn_enabled) VALUES"
    " ('{PLAIN}demo', NULL, FALSE, 'alice@example.test', 'Alice', '', 'alice@example.test',"
    "  FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE);"
    "INSERT INTO admin_mailbox (address, domain_id, user_id, quota, use_domain_quota,"
    " message_limit, is_send_only, creation, last_modification)"
    " SELECT 'alice', d.id, u.id, 1024, TRUE, NULL, FALSE, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00' FROM admin_domain d, core_user u"
    " WHERE d.name = 'example.test' AND u.username = 'alice@example.test';"
    "INSERT INTO admin_alias (address, domain_id, enabled, internal, description, expire_at,"
    " creation, last_modification)"
    " SELECT 'alice@example.test', id, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00' FROM admin_domain WHERE name = 'example.test';"
    "INSERT INTO admin_alias (address, domain_id, enabled, internal, description, expire_at,"
    " creation, last_modification)"
    " SELECT 'sales@example.test', id, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00' FROM admin_domain WHERE name = 'example.test';"
    "INSERT INTO admin_alias (address, domain_id, enabled, internal, description, expire_at,"
    " creation, last_modification)"
    " VALUES ('@example.org', NULL, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00',"
    " '2026-01-01 00:00:00');"
    "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
    " SELECT 'alice@example.test', a.id, m.id, NULL FROM admin_alias a, admin_mailbox m"
    " WHERE a.address IN ('alice@example.test', 'sales@example.test') AND m.address = 'alice';"
    "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
    " SELECT 'bob@partner.test', id, NULL, NULL FROM admin_alias WHERE address = 'sales@example.test';"
    "INSERT INTO modoboa_admin_aliasrecipient (address, alias_id, r_mailbox_id, r_alias_id)"
    " SELECT '@example.test', id, NULL, NULL FROM admin_alias WHERE address = '@example.org';"
    "INSERT INTO admin_quota (username, bytes, messages) VALUES ('alice@example.test', 0, 0);";

static const struct {
    const char *name;
    enum store_question q;
} question_names[] = {
    {"domain", STORE_Q_DOMAIN},
    {"domain_alias", STORE_Q_DOMAIN_ALIAS},
    {"relay_domain", STORE_Q_RELAY_DOMAIN},
    {"alias_recipients", STORE_Q_ALIAS_RECIPIENTS},
    {"alias_forms", STORE_Q_ALIAS_FORMS},
    {"sender_owners", STORE_Q_SENDER_OWNERS},
    {"transport", STORE_Q_TRANSPORT},
    {"split_mailbox", STORE_Q_SPLIT_MAILBOX},
    {"maintenance", STORE_Q_MAINTENANCE},
    {"relay_verify", STORE_Q_RELAY_VERIFY},
    {"userdb", STORE_Q_USERDB},
    {"message_limits", STORE_Q_MESSAGE_LIMITS},
    {"quota_get", STORE_Q_QUOTA_GET},
    {"generation", STORE_Q_GENERATION},
};

struct printed {
    int status;
};

static const char *row_indent = "";

static void print_answer(const struct store_answer *ans, void *arg)
{
    struct printed *p = arg;
    size_t r, c;

    p->status = ans->status;
    if (ans->status < 0) {
        fprintf(stderr, "modoctl: temporary failure: %s\n", ans->error ? ans->error : "?");
        return;
    }
    if (ans->status == 0) {
        printf("%s(not found)\n", row_indent);
        return;
    }
    for (r = 0; r < ans->nrows; r++) {
        printf("%s", row_indent);
        for (c = 0; c < ans->ncols; c++) {
            const char *v = ans->cells[r * ans->ncols + c];
            printf("%s%s", c ? "\t" : "", v ? v : "NULL");
        }
        printf("\n");
    }
}

static void print_silently(const struct store_answer *ans, void *arg)
{
    ((struct printed *)arg)->status = ans->status;
}

static int ask(struct store *store, const char *qname, int argc, char **argv)
{
    struct printed p = {0};
    const char *args[STORE_MAX_ARGS] = {NULL, NULL, NULL};
    size_t i;

    for (i = 0; i < sizeof(question_names) / sizeof(question_names[0]); i++)
        if (strcmp(question_names[i].name, qname) == 0)
            break;
    if (i == sizeof(question_names) / sizeof(question_names[0])) {
        fprintf(stderr, "modoctl: unknown question \"%s\"; one of:", qname);
        for (i = 0; i < sizeof(question_names) / sizeof(question_names[0]); i++)
            fprintf(stderr, " %s", question_names[i].name);
        fprintf(stderr, "\n");
        return 2;
    }
    if ((size_t)argc != store_question_nargs(question_names[i].q)) {
        fprintf(stderr, "modoctl: %s takes %zu argument(s)\n", qname,
                store_question_nargs(question_names[i].q));
        return 2;
    }
    for (int a = 0; a < argc; a++)
        args[a] = argv[a];
    store_ask_wait(store, question_names[i].q, args, print_answer, &p);
    return p.status < 0 ? EXIT_TEMPFAIL : p.status == 0 ? EXIT_NOTFOUND : 0;
}

/* ---- SQLite: the file and its directory belong to the daemons' user ---- */

static const char *sqlite_file(const struct conf *conf)
{
    const char *url = conf_str(conf, "database", "url");

    return strncmp(url, "sqlite://", 9) == 0 && url[9] != '\0' ? url + 9 : NULL;
}

/* mkdir -p the database's directory: 1 if the directory itself was made, 0 if it was there */
static int sqlite_make_dir(const struct conf *conf)
{
    const char *file = sqlite_file(conf);
    char *dir, *p;
    struct stat st;
    int made = 0;

    if (file == NULL)
        return 0;
    dir = xstrdup(file);
    if ((p = strrchr(dir, '/')) == NULL || p == dir) {
        free(dir);
        return 0;
    }
    *p = '\0';
    if (stat(dir, &st) < 0) {
        for (p = dir + 1; *p != '\0'; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                break;
            *p = '/';
        }
        made = mkdir(dir, 0750) == 0;
    }
    free(dir);
    return made;
}

/*
 * After db init (and demo) on SQLite: the file (and SQLite's -wal and -shm) become [database]
 * owner's, mode 0640, and so does the directory if this run made it (0750); a directory that
 * was there and that the owner cannot write is named with the chown that fixes it.
 */
static void sqlite_give_to_owner(const struct conf *conf, bool dir_made)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    const char *file = sqlite_file(conf);
    const char *owner = conf_str(conf, "database", "owner");
    struct passwd *pw;
    struct group *gr;
    struct strbuf path = STRBUF_INIT;
    char *copy;
    const char *dir;
    struct stat st;

    if (file == NULL || owner[0] == '\0')
        return;
    copy = xstrdup(file);
    dir = dirname(copy);
    pw = getpwnam(owner);
    gr = pw != NULL ? getgrgid(pw->pw_gid) : NULL;
    if (pw == NULL) {
        const char *origin = conf_origin(conf, "database", "owner");
        bool set = strcmp(origin, "default") != 0;
        fprintf(stderr, "modoctl: warning: %s%s[database] owner%s: no such user \"%s\": %s stays"
                        " as it is; the daemons' user must own it (create it: adduser --system"
                        " --group --no-create-home --home /nonexistent %s; then chown %s:%s %s"
                        " %s)\n",
                set ? origin : "", set ? ": " : "", set ? "" : " (default)", owner, file, owner,
                owner, owner, dir, file);
    } else if (geteuid() != 0 && geteuid() != pw->pw_uid) {
        fprintf(stderr, "modoctl: warning: %s is not given to %s (modoctl does not run as root):"
                        " chown %s:%s %s %s\n", file, owner, owner, gr ? gr->gr_name : owner,
                dir, file);
    } else {
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            strbuf_reset(&path);
            strbuf_printf(&path, "%s%s", file, suffixes[i]);
            if (chown(path.data, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
                fprintf(stderr, "modoctl: warning: chown %s: %s\n", path.data, strerror(errno));
            else if (chmod(path.data, 0640) < 0 && errno != ENOENT)
                fprintf(stderr, "modoctl: warning: chmod %s: %s\n", path.data, strerror(errno));
        }
        if (dir_made && (chown(dir, pw->pw_uid, pw->pw_gid) < 0 || chmod(dir, 0750) < 0))
            fprintf(stderr, "modoctl: warning: %s: %s\n", dir, strerror(errno));
        /* SQLite makes its -wal and -shm files next to the database: the owner must write there */
        if (stat(dir, &st) == 0 &&
            !(st.st_uid == pw->pw_uid ? (st.st_mode & S_IWUSR) != 0
              : st.st_gid == pw->pw_gid ? (st.st_mode & S_IWGRP) != 0
                                        : (st.st_mode & S_IWOTH) != 0))
            fprintf(stderr, "modoctl: warning: the daemons' user %s cannot write %s, where SQLite"
                            " keeps its -wal and -shm files: chown %s:%s %s\n", owner, dir,
                    owner, gr ? gr->gr_name : owner, dir);
    }
    strbuf_free(&path);
    free(copy);
}

/* Does the database have Modoboa's schema already? */
static bool schema_present(struct store *store)
{
    char *err = NULL;
    int rc = store_exec_script(store, "SELECT 1 FROM admin_domain LIMIT 1;", &err);

    free(err);
    return rc == 0;
}

static int db_init(struct store *store, bool objects_only)
{
    char *err = NULL;

    if (!objects_only && store_exec_script(store, store_schema_sql(store), &err) < 0) {
        fprintf(stderr, "modoctl: cannot create the schema: %s\n", err);
        free(err);
        return 1;
    }
    if (store_exec_script(store, store_objects_sql(store), &err) < 0) {
        fprintf(stderr, "modoctl: cannot create modo's objects: %s\n", err);
        free(err);
        return 1;
    }
    printf("%s on %s\n", objects_only ? "modo objects applied" : "schema created",
           store_backend_name(store));
    return 0;
}

/*
 * db upgrade: bring a database made by an older Modoboa (or modo) to the columns this
 * version reads and writes, in one transaction, then (re)apply modo's objects.
 */
static int db_upgrade(struct store *store, const struct conf *conf)
{
    struct admin *a = open_admin(conf);
    int rc;

    if (a == NULL)
        return EXIT_TEMPFAIL;
    if ((rc = admin_begin(a)) == 0)
        rc = admin_end(a, admin_upgrade_columns(a, stdout));
    if (rc != 0)
        fprintf(stderr, "modoctl: %s\n", admin_error(a));
    close_admin(&a);
    return rc != 0 ? rc : db_init(store, true);
}

static int demo(struct store *store)
{
    static const char *const shown[][2] = {
        {"domain", "example.test"},
        {"domain", "unknown.test"},
        {"domain_alias", "example.org"},
        {"alias_recipients", "alice@example.test"},
        {"alias_recipients", "sales@example.test"},
        {"alias_recipients", "@example.org"},
        {"alias_recipients", "nobody@example.test"},
        {"sender_owners", "sales@example.test"},
        {"sender_owners", "alice@example.org"},
        {"userdb", "alice@example.test"},
        {"generation", NULL},
    };
    char *err = NULL;
    size_t i;

    struct printed p = {0};

    store_ask_wait(store, STORE_Q_GENERATION, NULL, print_silently, &p);
    if (p.status == 1) {
        printf("the demo database exists already: showing its answers\n");
    } else if (db_init(store, false) != 0) {
        return 1;
    } else if (store_exec_script(store, demo_sql, &err) < 0) {
        fprintf(stderr, "modoctl: cannot load the demo data: %s\n", err);
        free(err);
        return 1;
    }
    printf("demo data: domain example.test (alias domain example.org), mailbox alice,\n"
           "alias sales@example.test -> alice@example.test, bob@partner.test\n\n");
    row_indent = "    ";
    for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
        char *argv[1] = {(char *)shown[i][1]};
        printf("%s(%s) =\n", shown[i][0], shown[i][1] ? shown[i][1] : "");
        fflush(stdout);
        if (ask(store, shown[i][0], shown[i][1] ? 1 : 0, argv) == EXIT_TEMPFAIL)
            return 1;
    }
    return 0;
}

static void usage(FILE *fp);

/* ---- explain ---- */

struct explained {
    bool done;
    struct map_result res;
    char *data, *matched;
};

static void explain_cb(const struct map_result *res, void *arg)
{
    struct explained *e = arg;

    e->done = true;
    e->res = *res;
    e->data = res->data ? xstrndup(res->data, res->len) : xstrdup("");
    e->matched = res->matched ? xstrdup(res->matched) : NULL;
}

static int explain_one(struct event_base *base, struct cache *cache, const struct map_config *mc,
                       enum map_kind kind, const char *what, const char *key, const char *why)
{
    struct explained e = {0};
    int rc = 0;

    map_lookup(cache, mc, kind, key, strlen(key), explain_cb, &e);
    while (!e.done)
        event_base_loop(base, EVLOOP_ONCE);
    printf("%-30s %s %s\n", what, mc->names[kind], key);
    switch (e.res.status) {
    case MAP_FOUND:
        printf("    OK %s\n", e.data);
        if (e.matched != NULL)
            printf("    (answered by %s: %s%s)\n", map_form_describe(e.res.form), e.matched,
                   why ? why : "");
        break;
    case MAP_NOTFOUND:
        printf("    NOTFOUND\n");
        break;
    case MAP_TEMPFAIL:
        printf("    TEMP %s (Postfix would defer)\n", e.data);
        rc = 4;
        break;
    }
    free(e.data);
    free(e.matched);
    return rc;
}

/*
 * explain ADDRESS: what each map answers for it, as Postfix would ask, and why. With
 * --sender S --sasl LOGIN, whether LOGIN may send as S (reject_sender_login_mismatch).
 */
static int explain(struct event_base *base, struct store *store, const struct conf *conf,
                   int argc, char **argv)
{
    const char *address = NULL, *sender = NULL, *sasl = NULL;
    struct map_config mc;
    struct cache *cache;
    struct addr a;
    const char *err;
    int i, rc = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sender") == 0 && i + 1 < argc)
            sender = argv[++i];
        else if (strcmp(argv[i], "--sasl") == 0 && i + 1 < argc)
            sasl = argv[++i];
        else if (argv[i][0] != '-' && address == NULL)
            address = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (address == NULL && sender == NULL) {
        usage(stderr);
        return 2;
    }
    map_config_load(&mc, conf);
    cache = cache_new(base, conf, store);
    if (address != NULL) {
        if (addr_parse(address, strlen(address), &a, &err) < 0) {
            printf("%s: not an address modo can host (%s): every map answers NOTFOUND\n",
                   address, err);
        } else {
            printf("%s (folded: %s)\n\n", address, a.full);
            rc |= explain_one(base, cache, &mc, MAP_DOMAINS, "hosted domain?", a.domain, NULL);
            rc |= explain_one(base, cache, &mc, MAP_DOMAIN_ALIASES, "alias domain of?", a.domain,
                              NULL);
            rc |= explain_one(base, cache, &mc, MAP_RELAY_DOMAINS, "relay domain?", a.domain, NULL);
            rc |= explain_one(base, cache, &mc, MAP_ALIASES, "delivered to", a.full,
                              " (Postfix looks every result up again)");
            rc |= explain_one(base, cache, &mc, MAP_TRANSPORT, "transport", a.full,
                              NULL);
            rc |= explain_one(base, cache, &mc, MAP_MAINTAIN, "maintenance hold", a.full, NULL);
            rc |= explain_one(base, cache, &mc, MAP_RELAY_VERIFY, "recipient verification",
                              a.full, NULL);
        }
    }
    if (sender != NULL) {
        struct explained e = {0};
        printf("%s", address ? "\n" : "");
        map_lookup(cache, &mc, MAP_SENDER_LOGIN, sender, strlen(sender), explain_cb, &e);
        while (!e.done)
            event_base_loop(base, EVLOOP_ONCE);
        printf("%-30s %s %s\n", "who may send as", mc.names[MAP_SENDER_LOGIN], sender);
        if (e.res.status == MAP_TEMPFAIL) {
            printf("    TEMP %s (Postfix would defer)\n", e.data);
            rc = 4;
        } else if (e.res.status == MAP_NOTFOUND) {
            printf("    NOTFOUND (no login owns it)\n");
        } else {
            printf("    OK %s\n", e.data);
        }
        if (sasl != NULL && e.res.status != MAP_TEMPFAIL) {
            bool allowed = false;
            char *p, *save = NULL, *copy = xstrdup(e.data);
            for (p = strtok_r(copy, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save))
                if (strcasecmp(p, sasl) == 0)
                    allowed = true;
            free(copy);
            printf("    %s: %s may%s send as %s\n", allowed ? "allowed" : "refused", sasl,
                   allowed ? "" : " not", sender);
            if (!allowed && rc == 0)
                rc = 3;
        }
        free(e.data);
        free(e.matched);
    }
    cache_free(&cache);
    return rc;
}

struct admin *open_admin(const struct conf *conf)
{
    char *err = NULL;
    struct db *db = db_open(conf, &err);

    if (db == NULL) {
        fprintf(stderr, "modoctl: %s\n", err);
        free(err);
        return NULL;
    }
    return admin_new(db, conf);
}

/*
 * The daily limits a committed command changed: adjust modo-policyd's counters in Redis
 * ([policyd] counters) as Modoboa's post_save does, so the remaining allowance ends where
 * Modoboa's would: HINCRBY by new - old (by new when there was no limit), HDEL when the
 * limit is removed. Without Redis configured there is nothing to adjust; if Redis cannot
 * be reached the change stands and the counter follows it from the next day.
 */
void apply_limit_changes(const struct conf *conf, struct admin *a)
{
    const char *addr = conf_str(conf, "redis", "address"), *counters;
    const struct admin_limit *l;
    size_t n, i;
    struct timeval tv = {2, 0};
    redisContext *rc;

    l = admin_limit_changes(a, &n);
    if (n == 0 || addr[0] == '\0')
        return;
    counters = conf_str(conf, "policyd", "counters");
    if (strncmp(addr, "unix:", 5) == 0) {
        rc = redisConnectUnixWithTimeout(addr + 5, tv);
    } else {
        char host[256];
        const char *colon = strrchr(addr, ':');
        snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - addr) : (int)strlen(addr), addr);
        rc = redisConnectWithTimeout(host, colon ? (int)num_or(colon + 1, 1, 65535, 6379) : 6379, tv);
    }
    if (rc != NULL && rc->err == 0) {
        redisReply *r = NULL;
        if (conf_str(conf, "redis", "password")[0] != '\0')
            freeReplyObject(redisCommand(rc, "AUTH %s", conf_str(conf, "redis", "password")));
        if (conf_int(conf, "redis", "database") != 0)
            freeReplyObject(redisCommand(rc, "SELECT %lld", conf_int(conf, "redis", "database")));
        for (i = 0; i < n && rc->err == 0; i++) {
            if (l[i].new_limit < 0)
                r = redisCommand(rc, "HDEL %s %s", counters, l[i].name);
            else
                r = redisCommand(rc, "HINCRBY %s %s %lld", counters, l[i].name,
                                 l[i].new_limit - (l[i].old_limit < 0 ? 0 : l[i].old_limit));
            if (r != NULL && r->type == REDIS_REPLY_ERROR)
                fprintf(stderr, "modoctl: warning: the daily counter of %s was not adjusted: %s\n",
                        l[i].name, r->str);
            freeReplyObject(r);
        }
    }
    if (rc == NULL || rc->err != 0)
        fprintf(stderr, "modoctl: warning: Redis (%s): %s: the daily counters of the limits"
                " changed follow them from the next day\n", addr, rc ? rc->errstr : "out of memory");
    redisFree(rc);
}

void close_admin(struct admin **a)
{
    struct db *db;

    if (*a == NULL)
        return;
    db = admin_db(*a);
    admin_free(a);
    db_close(&db);
}

/* Commands that work on the database through the admin module (one transaction each). */
/*
 * modoctl stats [--domain D] [--period P] ...: the traffic modo-logd records (traffic.c);
 * modoctl stats daemons|DAEMON: the counters of running daemons, read from their [DAEMON]
 * stats_listen endpoints (every daemon that has one, or the one named).
 */
static int stats_command(const struct conf *conf, int argc, char **argv)
{
    static const char *const daemons[] = {"lookupd", "policyd", "dictd"};
    int rc = 0, shown = 0;
    size_t i;

    if (argc == 1 || argv[1][0] == '-')
        return traffic_command(conf, argc, argv);
    if (argc > 2) {
        fprintf(stderr, "usage: modoctl stats daemons|lookupd|policyd|dictd\n");
        return 2;
    }
    if (strcmp(argv[1], "daemons") == 0)
        argc = 1; /* every daemon that has stats_listen */
    for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
        const char *endpoint = conf_str(conf, daemons[i], "stats_listen");
        char *text = NULL, *err = NULL;
        if (argc == 2 && strcmp(argv[1], daemons[i]) != 0)
            continue;
        shown++;
        if (endpoint[0] == '\0') {
            if (argc == 2) {
                fprintf(stderr, "modoctl: [%s] stats_listen is not set: modo-%s serves no"
                                " counters\n", daemons[i], daemons[i]);
                rc = 1;
            }
            continue;
        }
        if (metrics_fetch(endpoint, &text, &err) < 0) {
            fprintf(stderr, "modoctl: modo-%s (%s): %s\n", daemons[i], endpoint, err);
            free(err);
            rc = EXIT_TEMPFAIL;
            continue;
        }
        fputs(text, stdout);
        free(text);
    }
    if (shown == 0) {
        fprintf(stderr, "modoctl: stats: no daemon \"%s\" (lookupd, policyd or dictd)\n", argv[1]);
        return 2;
    }
    return rc;
}

static const struct {
    const char *name;
    int (*run)(const struct conf *conf, int argc, char **argv);
} tool_commands[] = {
    {"stats", stats_command},         {"history", history_command},
    {"domain", objects_command},      {"relaydomain", objects_command},
    {"domainalias", objects_command}, {"account", objects_command},
    {"alias", objects_command},       {"sender-address", objects_command},
    {"passwd", objects_command},      {"import", csv_command},
    {"export", csv_command},          {"mailbox-ops", mailbox_ops_command},
    {"cleanup", cleanup_command},     {"config", fragments_command},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: modoctl [-c modo.conf] db init | db upgrade | db add-modo-objects | db doctor [--json]\n"
                "       modoctl [-c modo.conf] ask QUESTION [ARG...]\n"
                "       modoctl [-c modo.conf] demo\n"
                "       modoctl [-c modo.conf] domain|relaydomain|domainalias|account|alias add|mod|del|list|show ...\n"
                "       modoctl [-c modo.conf] sender-address add|del|list ...\n"
                "       modoctl [-c modo.conf] passwd ACCOUNT\n"
                "       modoctl [-c modo.conf] import [--sepchar C] [--continue-if-exists] [--crypt-passwords] FILE...\n"
                "       modoctl [-c modo.conf] export domains|identities [--sepchar C]\n"
                "       modoctl [-c modo.conf] mailbox-ops run | list [--json]\n"
                "       modoctl [-c modo.conf] stats [--domain D] [--period day|week|month|year] [--png FILE]\n"
                "       modoctl [-c modo.conf] stats daemons|lookupd|policyd|dictd\n"
                "       modoctl [-c modo.conf] history [--sender S] [--rcpt R] [--status S] [--since T] ...\n"
                "       (modoctl OBJECT --help lists the options of each)\n"
                "       modoctl [-c modo.conf] explain ADDRESS [--sender S] [--sasl LOGIN]\n"
                "       modoctl [-c modo.conf] config check | postfix [--postconf] | dovecot [PART] | opendkim\n"
                "       modoctl [-c modo.conf] cleanup logs | inactive-accounts [--delete] [--dry-run] [--silent] [--verbose]\n"
                "       modoctl config reference\n"
                "       modoctl pw hash [-s SCHEME] [-p PASSWORD]\n"
                "       modoctl pw verify HASH [-p PASSWORD]\n"
                "       modoctl -h|--help | -V|--version\n");
}

/* The password: -p, else the first line of standard input (prompted on a terminal). */
int read_password(const char *given, char *buf, size_t size)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, noecho;
    size_t len;

    if (given != NULL) {
        if (strlen(given) >= size)
            return -1;
        strcpy(buf, given);
        return 0;
    }
    if (tty) {
        fprintf(stderr, "Password: ");
        tcgetattr(STDIN_FILENO, &old);
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
    }
    if (fgets(buf, (int)size, stdin) == NULL)
        buf[0] = '\0';
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    len = strcspn(buf, "\n");
    if (buf[len] != '\n' && !feof(stdin) && len == size - 1)
        return -1; /* longer than the buffer */
    buf[len] = '\0';
    return 0;
}

/* modoctl pw hash|verify: exit 0 (verified / hashed), 1 (mismatch or error), 2 (usage). */
static int pw_command(int argc, char **argv)
{
    const char *scheme = "SHA512-CRYPT", *given = NULL;
    char pw[4096];
    const char *err = "";
    int opt, rc;

    optind = 0; /* glibc: a fresh scan of a new argument vector */
    while ((opt = getopt(argc, argv, "s:p:")) != -1) {
        switch (opt) {
        case 's': scheme = optarg; break;
        case 'p': given = optarg; break;
        default: return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1 || (strcmp(argv[0], "hash") == 0 && argc != 1) ||
        (strcmp(argv[0], "verify") == 0 && argc != 2) ||
        (strcmp(argv[0], "hash") != 0 && strcmp(argv[0], "verify") != 0)) {
        usage(stderr);
        return 2;
    }
    if (read_password(given, pw, sizeof(pw)) < 0) {
        fprintf(stderr, "modoctl: password too long\n");
        return 1;
    }
    if (strcmp(argv[0], "hash") == 0) {
        struct strbuf out = STRBUF_INIT;
        if (password_hash(scheme, pw, NULL, &out, &err) < 0) {
            fprintf(stderr, "modoctl: %s: %s\n", scheme, err);
            return 1;
        }
        printf("%s\n", out.data);
        strbuf_free(&out);
        return 0;
    }
    rc = password_verify(argv[1], pw, &err);
    if (rc < 0) {
        fprintf(stderr, "modoctl: cannot verify: %s\n", err);
        return 1;
    }
    printf("%s\n", rc == 1 ? "verified" : "mismatch");
    return rc == 1 ? 0 : 1;
}

const char *modoctl_conf_path = MODO_SYSCONFDIR "/modo/modo.conf";

int main(int argc, char **argv)
{
    const char *path = modoctl_conf_path;
    struct event_base *base;
    struct store *store;
    struct conf *conf;
    char *err = NULL;
    int opt, rc, dir_made = 0;

    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};

    log_open("modoctl", LOG_TARGET_STDERR);
    while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = modoctl_conf_path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': daemon_print_version("modoctl"); return 0;
        default: usage(stderr); return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "config") == 0 && argc == 2 && strcmp(argv[1], "reference") == 0) {
        conf_print_reference(stdout);
        return 0;
    }
    if (strcmp(argv[0], "pw") == 0)
        return pw_command(argc, argv);
    conf = conf_load(path, &err);
    if (conf != NULL && strcmp(argv[0], "config") == 0 && argc == 2 &&
        strcmp(argv[1], "check") == 0) {
        printf("%s: ok\n", path);
        conf_free(&conf);
        return 0;
    }
    if (conf != NULL && strcmp(argv[0], "db") == 0 && argc >= 2 && strcmp(argv[1], "doctor") == 0) {
        rc = doctor_command(conf, argc, argv);
        conf_free(&conf);
        return rc;
    }
    for (size_t i = 0; conf != NULL && i < sizeof(tool_commands) / sizeof(tool_commands[0]); i++) {
        if (strcmp(argv[0], tool_commands[i].name) == 0) {
            rc = tool_commands[i].run(conf, argc, argv);
            conf_free(&conf);
            return rc;
        }
    }
    if (conf == NULL) {
        fprintf(stderr, "modoctl: %s\n", err);
        free(err);
        return 1;
    }
    base = event_base_new();
    if (strcmp(argv[0], "demo") == 0 || (strcmp(argv[0], "db") == 0 && argc == 2 &&
                                         strcmp(argv[1], "init") == 0))
        dir_made = sqlite_make_dir(conf);
    store = store_open(base, conf, &err);
    if (store == NULL) {
        fprintf(stderr, "modoctl: %s\n", err);
        free(err);
        return 1;
    }
    if (strcmp(argv[0], "db") == 0 && argc == 2 && strcmp(argv[1], "init") == 0) {
        if (schema_present(store)) {
            /* never touch an initialised database (a Modoboa one especially) */
            fprintf(stderr, "modoctl: the database has Modoboa's schema already (%s): nothing"
                            " done; \"modoctl db upgrade\" brings an older one up to date,"
                            " \"modoctl db add-modo-objects\" adds modo's objects\n",
                    store_backend_name(store));
            rc = 1;
        } else {
            rc = db_init(store, false);
        }
        if (rc == 0)
            sqlite_give_to_owner(conf, dir_made);
    }
    else if (strcmp(argv[0], "db") == 0 && argc == 2 && strcmp(argv[1], "add-modo-objects") == 0) {
        rc = db_init(store, true);
        /* without SELECT on modo_generation the daemons cannot see changes at once */
        if (rc == 0 && strcmp(store_backend_name(store), "pgsql") == 0)
            printf("a read-only role for the daemons needs (ROLE: the one in [database] url):\n"
                   "  GRANT SELECT ON modo_generation TO ROLE;\n"
                   "  and SELECT on the tables the maps read (GRANT SELECT ON ALL TABLES IN"
                   " SCHEMA public TO ROLE)\n");
    }
    else if (strcmp(argv[0], "db") == 0 && argc == 2 && strcmp(argv[1], "upgrade") == 0)
        rc = db_upgrade(store, conf);
    else if (strcmp(argv[0], "ask") == 0 && argc >= 2)
        rc = ask(store, argv[1], argc - 2, argv + 2);
    else if (strcmp(argv[0], "demo") == 0 && argc == 1) {
        if ((rc = demo(store)) == 0)
            sqlite_give_to_owner(conf, dir_made);
    }
    else if (strcmp(argv[0], "explain") == 0)
        rc = explain(base, store, conf, argc, argv);
    else {
        usage(stderr);
        rc = 2;
    }
    store_close(&store);
    event_base_free(base);
    conf_free(&conf);
    return rc;
}
