/*
 * Store conformance: every question against the fixture (t/data/fixture.sql),
 * with the same expected answers on every backend. Usage:
 *   store_conformance DATABASE-URL FIXTURE.sql
 * The database must be empty: the schema and modo's objects are created first.
 */
#include "tap.h"
#include "testutil.h"

#include "conf.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <stdlib.h>

static struct store *store;

struct answer {
    int status;
    char *rows; /* "a|b;c|d", rows sorted */
    long long affected;
    time_t valid_until;
};

static void collect(const struct store_answer *ans, void *arg)
{
    struct answer *g = arg;

    g->status = ans->status;
    g->affected = ans->affected;
    g->valid_until = ans->valid_until;
    if (ans->status < 0)
        diag("error: %s", ans->error);
    g->rows = answer_text(ans, 0);
}

static struct answer ask(enum store_question q, const char *a0, const char *a1, const char *a2)
{
    const char *args[3] = {a0, a1, a2};
    struct answer g = {0, NULL, 0, 0};

    store_ask_wait(store, q, args, collect, &g);
    return g;
}

static void expect(enum store_question q, const char *key, const char *want)
{
    struct answer g = ask(q, key, NULL, NULL);

    if (want == NULL) {
        ok(g.status == 0 && g.rows[0] == '\0', "%s(%s): nothing (status %d, got \"%s\")",
           store_question_name(q), key, g.status, g.rows);
    } else {
        if (!is_str(g.rows, want, "%s(%s)", store_question_name(q), key))
            diag("status %d", g.status);
        else
            ok(g.status == 1, "%s(%s) status found", store_question_name(q), key);
    }
    free(g.rows);
}

static long long generation_now(void)
{
    struct answer g = ask(STORE_Q_GENERATION, NULL, NULL, NULL);
    long long v = strtoll(g.rows, NULL, 10);

    free(g.rows);
    return v;
}

int main(int argc, char **argv)
{
    struct event_base *base = event_base_new();
    struct strbuf conftext = STRBUF_INIT;
    char *err = NULL, *fixture;
    struct conf *conf;
    struct answer g;
    long long gen0, gen1;

    if (argc != 3) {
        fprintf(stderr, "usage: store_conformance URL FIXTURE\n");
        return 2;
    }
    log_open("store_conformance", LOG_TARGET_STDERR);
    strbuf_printf(&conftext, "[database]\nurl = %s\ndeadline = 5s\n", argv[1]);
    conf = conf_load_string("test.conf", conftext.data, &err);
    if (conf == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    store = store_open(base, conf, &err);
    if (!ok(store != NULL, "open %s store", argv[1])) {
        diag("%s", err);
        return done_testing();
    }
    diag("backend %s", store_backend_name(store));
    ok(store_exec_script(store, store_schema_sql(store), &err) == 0, "create schema") || (diag("%s", err), 0);
    ok(store_exec_script(store, store_objects_sql(store), &err) == 0, "create modo objects") || (diag("%s", err), 0);
    ok(store_exec_script(store, store_objects_sql(store), &err) == 0, "modo objects re-applied") || (diag("%s", err), 0);
    fixture = slurp(argv[2], NULL);
    ok(fixture != NULL && store_exec_script(store, fixture, &err) == 0, "load fixture") || (diag("%s", err), 0);
    free(fixture);

    expect(STORE_Q_DOMAIN, "test.com", "test.com");
    expect(STORE_Q_DOMAIN, "disabled.test", NULL);
    expect(STORE_Q_DOMAIN, "relay.test", NULL);
    expect(STORE_Q_DOMAIN, "alias.test", NULL);
    expect(STORE_Q_DOMAIN, "nosuch.test", NULL);
    expect(STORE_Q_DOMAIN_ALIAS, "alias.test", "test.com");
    expect(STORE_Q_DOMAIN_ALIAS, "disalias.test", NULL);
    expect(STORE_Q_DOMAIN_ALIAS, "alias-of-disabled.test", NULL);
    expect(STORE_Q_DOMAIN_ALIAS, "test.com", NULL);
    expect(STORE_Q_RELAY_DOMAIN, "relay.test", "relay.test");
    expect(STORE_Q_RELAY_DOMAIN, "test.com", NULL);

    expect(STORE_Q_ALIAS_RECIPIENTS, "user@test.com",
           "copy@external.test;user@test.com;user@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "admin@test.com", "admin@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "fwd@test.com", "ext@external.test");
    expect(STORE_Q_ALIAS_RECIPIENTS, "disabled@test.com", NULL);
    expect(STORE_Q_ALIAS_RECIPIENTS, "forward@test.com", "user@external.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", "user@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "postmaster@test.com", "test@truc.fr;toto@titi.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "list@test.com", "admin@test.com;alias@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "@test2.com", "user@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "@alias.test", "@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "@disalias.test", "@test.com");
    expect(STORE_Q_ALIAS_RECIPIENTS, "expired@test.com", NULL);
    expect(STORE_Q_ALIAS_RECIPIENTS, "disabledalias@test.com", NULL);
    expect(STORE_Q_ALIAS_RECIPIENTS, "nosuch@test.com", NULL);
    expect(STORE_Q_ALIAS_RECIPIENTS, "local@relay.test", "local@relay.test");
    g = ask(STORE_Q_ALIAS_RECIPIENTS, "future@test.com", NULL, NULL);
    is_str(g.rows, "user@test.com", "alias with a future expiry answers");
    is_int((long long)g.valid_until, 32472144000LL, "its answer is valid until the expiry");
    free(g.rows);
    g = ask(STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", NULL, NULL);
    is_int((long long)g.valid_until, 0, "answers without expiry are not time-limited");
    free(g.rows);

    g = ask(STORE_Q_ALIAS_FORMS, "alias+x@test.com", "alias@test.com", "@test.com");
    is_str(g.rows, "alias@test.com|user@test.com", "alias_forms: the form that exists answers");
    free(g.rows);
    g = ask(STORE_Q_ALIAS_FORMS, "nobody@test2.com", "nobody@test2.com", "@test2.com");
    is_str(g.rows, "@test2.com|user@test.com", "alias_forms: catch-all");
    free(g.rows);
    g = ask(STORE_Q_ALIAS_FORMS, "user@test.com", "user@test.com", "@test.com");
    is_str(g.rows, "user@test.com|copy@external.test;user@test.com|user@test.com;user@test.com|user@test.com",
           "alias_forms: internal and external rows merged");
    free(g.rows);
    g = ask(STORE_Q_ALIAS_FORMS, "future@test.com", "future@test.com", "@test.com");
    is_int((long long)g.valid_until, 32472144000LL, "alias_forms: valid until the expiry");
    free(g.rows);
    g = ask(STORE_Q_ALIAS_FORMS, "expired@test.com", "expired@test.com", "@nosuch.test");
    ok(g.status == 0, "alias_forms: expired and missing forms: nothing");
    free(g.rows);

    expect(STORE_Q_SENDER_OWNERS, "user@test.com", "user@test.com");
    expect(STORE_Q_SENDER_OWNERS, "alias@test.com", "user@test.com");
    expect(STORE_Q_SENDER_OWNERS, "shared@test.com", "user@test.com");
    expect(STORE_Q_SENDER_OWNERS, "anyone@test2.com", "admin@test.com");
    expect(STORE_Q_SENDER_OWNERS, "user@alias.test", "user@test.com");
    expect(STORE_Q_SENDER_OWNERS, "user@disalias.test", "user@test.com");
    expect(STORE_Q_SENDER_OWNERS, "disabled@test.com", NULL);
    expect(STORE_Q_SENDER_OWNERS, "list@test.com", "admin@test.com");
    expect(STORE_Q_SENDER_OWNERS, "postmaster@test.com", NULL);
    expect(STORE_Q_SENDER_OWNERS, "fwd@test.com", "fwd@test.com");
    expect(STORE_Q_SENDER_OWNERS, "nobody@nosuch.test", NULL);
    expect(STORE_Q_SENDER_OWNERS, "no-at-sign", NULL);

    expect(STORE_Q_TRANSPORT, "relay.test", "relay:[mx.backend.test]:2525");
    expect(STORE_Q_TRANSPORT, "test.com", NULL);
    expect(STORE_Q_SPLIT_MAILBOX, "local@relay.test", "1");
    expect(STORE_Q_SPLIT_MAILBOX, "other@relay.test", NULL);
    expect(STORE_Q_SPLIT_MAILBOX, "user@test.com", NULL);
    expect(STORE_Q_MAINTENANCE, "admin@test.com", "1");
    expect(STORE_Q_MAINTENANCE, "user@test.com", NULL);
    expect(STORE_Q_RELAY_VERIFY, "relay.test", "reject_unverified_recipient");
    expect(STORE_Q_RELAY_VERIFY, "test.com", NULL);

    expect(STORE_Q_PASSDB, "user@test.com", "user@test.com|{PLAIN}toto|10|0");
    expect(STORE_Q_PASSDB, "sendonly@test.com", "sendonly@test.com|{PLAIN}toto|10|1");
    expect(STORE_Q_PASSDB, "disabled@test.com", NULL);
    expect(STORE_Q_PASSDB, "user@disabled.test", NULL);
    expect(STORE_Q_PASSDB, "admin", NULL);
    expect(STORE_Q_MASTER_PASSDB, "master@test.com", "master@test.com|{PLAIN}masterpw");
    expect(STORE_Q_MASTER_PASSDB, "user@test.com", NULL);
    expect(STORE_Q_USERDB, "disabled@test.com", "10|0");
    expect(STORE_Q_USERDB, "sendonly@test.com", "10|1");
    expect(STORE_Q_USERDB, "nosuch@test.com", NULL);
    expect(STORE_Q_MESSAGE_LIMITS, "limited@limit.test", "20|limit.test|100");
    expect(STORE_Q_MESSAGE_LIMITS, "user@test.com", "NULL|test.com|NULL");

    expect(STORE_Q_QUOTA_GET, "admin@test.com", "1000|5");
    gen0 = generation_now();
    g = ask(STORE_Q_QUOTA_ADD, "admin@test.com", "24", "1");
    ok(g.status == 1 && g.affected == 1, "quota_add on an existing row");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "admin@test.com", "1024|6");
    g = ask(STORE_Q_QUOTA_ADD, "admin@test.com", "-1024", "-6");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "admin@test.com", "0|0");
    g = ask(STORE_Q_QUOTA_ADD, "nosuch@test.com", "5", "1");
    ok(g.status == 0 && g.affected == 0, "quota_add on a missing row changes nothing");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "nosuch@test.com", NULL);
    g = ask(STORE_Q_QUOTA_SET, "new@test.com", "10", "2");
    ok(g.status == 1, "quota_set creates a row");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "new@test.com", "10|2");
    g = ask(STORE_Q_QUOTA_SET, "new@test.com", "4096", "7");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "new@test.com", "4096|7");
    g = ask(STORE_Q_QUOTA_SET, "new@test.com", "", "9");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "new@test.com", "4096|9");
    g = ask(STORE_Q_QUOTA_SET, "new2@test.com", "77", "");
    ok(g.status == 1, "quota_set of one value creates a row");
    free(g.rows);
    expect(STORE_Q_QUOTA_GET, "new2@test.com", "77|0");
    g = ask(STORE_Q_TOUCH_LAST_LOGIN, "user@test.com", "1700000000", NULL);
    ok(g.status == 1 && g.affected == 1, "touch_last_login");
    free(g.rows);
    is_int(generation_now(), gen0, "quota and last-login writes leave the generation alone");

    ok(store_exec_script(store,
                         "UPDATE admin_alias SET enabled = FALSE WHERE address = 'alias@test.com'",
                         &err) == 0,
       "disable an alias");
    gen1 = generation_now();
    ok(gen1 > gen0, "the change bumped the generation (%lld -> %lld)", gen0, gen1);
    expect(STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", NULL);

    store_close(&store);
    conf_free(&conf);
    event_base_free(base);
    strbuf_free(&conftext);
    return done_testing();
}
