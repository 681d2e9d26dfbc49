/*
 * What the store and cache do when PostgreSQL misbehaves. Usage:
 *   store_failures DATABASE-URL FIXTURE.sql STOP-COMMAND START-COMMAND LOCK-URL
 *
 * 1. A statement blocked by a lock answers an error at the deadline (never
 *    "not found"), and the store keeps answering other questions.
 * 2. Database stopped: questions fail fast with an error; a cache with
 *    stale_max_age serves the last answers; one without it answers errors.
 * 3. Database started again: answers come back without restarting anything.
 */
#include "tap.h"
#include "testutil.h"

#include "cache.h"
#include "conf.h"
#include "log.h"
#include "store.h"

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <time.h>

static struct event_base *base;

static struct got ask(struct store *s, struct cache *c, enum store_question q, const char *key,
                      double *ms_r)
{
    const char *args[3] = {key, NULL, NULL};
    struct got g = {false, 0, NULL};
    double t0 = now_ms();

    if (c != NULL)
        cache_ask(c, q, args, got_first_column, &g);
    else
        store_ask(s, q, args, got_first_column, &g);
    while (!g.done)
        event_base_loop(base, EVLOOP_ONCE);
    if (ms_r)
        *ms_r = now_ms() - t0;
    return g;
}

static struct conf *make_conf(const char *url, const char *extra)
{
    struct strbuf t = STRBUF_INIT;
    char *err = NULL;
    struct conf *conf;

    strbuf_printf(&t,
                  "[database]\nurl = %s\ndeadline = 300ms\npool_size = 2\nreconnect_max = 300ms\n"
                  "%s",
                  url, extra);
    conf = conf_load_string("test.conf", t.data, &err);
    if (conf == NULL)
        log_fatal("%s", err);
    strbuf_free(&t);
    return conf;
}

int main(int argc, char **argv)
{
    struct conf *conf, *conf_stale;
    struct store *store, *store2;
    struct cache *plain, *stale;
    char *err = NULL, *fixture;
    struct got g;
    double ms;
    PGconn *locker;
    PGresult *res;
    int i, errors = 0, notfound = 0;

    if (argc != 6) {
        fprintf(stderr, "usage: store_failures URL FIXTURE STOP START LOCK-URL\n");
        return 2;
    }
    log_open("store_failures", LOG_TARGET_STDERR);
    base = event_base_new();
    conf = make_conf(argv[1], "");
    conf_stale = make_conf(argv[1], "[cache]\nstale_max_age = 1h\n");
    store = store_open(base, conf, &err);
    store2 = store_open(base, conf_stale, &err);
    fixture = slurp(argv[2], NULL);
    ok(store_exec_script(store, store_schema_sql(store), &err) == 0 &&
           store_exec_script(store, store_objects_sql(store), &err) == 0 &&
           store_exec_script(store, fixture, &err) == 0,
       "schema and fixture");
    free(fixture);
    plain = cache_new(base, conf, store);
    stale = cache_new(base, conf_stale, store2);
    run_loop_ms(base, 200);

    g = ask(store, plain, STORE_Q_DOMAIN, "test.com", NULL);
    is_str(g.rows, "test.com", "answer while the database is up");
    free(g.rows);
    g = ask(store2, stale, STORE_Q_DOMAIN, "test.com", NULL);
    free(g.rows);
    g = ask(store2, stale, STORE_Q_DOMAIN, "nosuch.test", NULL);
    free(g.rows);

    /* 1. a statement that blocks */
    locker = PQconnectdb(argv[5]);
    res = PQexec(locker, "BEGIN; LOCK TABLE admin_domainalias IN ACCESS EXCLUSIVE MODE");
    ok(PQresultStatus(res) == PGRES_COMMAND_OK, "another session locks admin_domainalias");
    PQclear(res);
    g = ask(store, NULL, STORE_Q_DOMAIN_ALIAS, "alias.test", &ms);
    ok(g.status == -1, "blocked question: error (status %d), not an answer", g.status);
    ok(ms >= 250 && ms < 1000, "answered at the deadline (%.0f ms, deadline 300 ms)", ms);
    free(g.rows);
    g = ask(store, NULL, STORE_Q_DOMAIN, "test2.com", &ms);
    is_str(g.rows, "test2.com", "other questions still answered (%.0f ms)", ms);
    free(g.rows);
    res = PQexec(locker, "ROLLBACK");
    PQclear(res);
    PQfinish(locker);
    run_loop_ms(base, 400); /* the dropped connection comes back */
    g = ask(store, NULL, STORE_Q_DOMAIN_ALIAS, "alias.test", NULL);
    is_str(g.rows, "test.com", "after the lock: answered again");
    free(g.rows);

    /* 2. database down */
    ok(system(argv[3]) == 0, "stop PostgreSQL");
    run_loop_ms(base, 100);
    for (i = 0; i < 20; i++) {
        g = ask(store, NULL, STORE_Q_DOMAIN, i % 2 ? "test.com" : "nosuch.test", &ms);
        if (g.status == -1)
            errors++;
        else if (g.status == 0)
            notfound++;
        free(g.rows);
    }
    is_int(notfound, 0, "database down: never 'not found'");
    is_int(errors, 20, "database down: every question is an error");
    g = ask(store, NULL, STORE_Q_DOMAIN, "test.com", &ms);
    ok(g.status == -1 && ms < 350, "and fails within the deadline (%.0f ms)", ms);
    free(g.rows);
    g = ask(store, plain, STORE_Q_DOMAIN, "test2.com", NULL);
    ok(g.status == -1, "cache without stale_max_age: error for an uncached key");
    free(g.rows);
    g = ask(store2, stale, STORE_Q_DOMAIN, "test.com", NULL);
    ok(g.status == 1 && strcmp(g.rows, "test.com") == 0,
       "cache with stale_max_age: the last answer (status %d)", g.status);
    free(g.rows);
    g = ask(store2, stale, STORE_Q_DOMAIN, "nosuch.test", NULL);
    ok(g.status == 0, "stale negative answer kept negative");
    free(g.rows);
    g = ask(store2, stale, STORE_Q_DOMAIN, "test2.com", NULL);
    ok(g.status == -1, "stale cache: error for a key never seen");
    free(g.rows);

    /* 3. back */
    ok(system(argv[4]) == 0, "start PostgreSQL again");
    for (i = 0; i < 50; i++) {
        run_loop_ms(base, 100);
        g = ask(store, NULL, STORE_Q_DOMAIN, "test.com", NULL);
        free(g.rows);
        if (g.status == 1)
            break;
    }
    ok(g.status == 1, "answers come back without a restart (after %d00 ms)", i + 1);
    g = ask(store, plain, STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", NULL);
    is_str(g.rows, "user@test.com", "through the cache too");
    free(g.rows);
    ok(store_exec_script(store, "UPDATE admin_domain SET enabled = FALSE WHERE name = 'test2.com'",
                         &err) == 0,
       "a change after the restart");
    for (i = 0; i < 50; i++) {
        run_loop_ms(base, 20);
        g = ask(store, plain, STORE_Q_DOMAIN, "test2.com", NULL);
        free(g.rows);
        if (g.status == 0)
            break;
    }
    ok(g.status == 0, "is seen (LISTEN was re-established) after %d ms", (i + 1) * 20);

    cache_free(&plain);
    cache_free(&stale);
    store_close(&store);
    store_close(&store2);
    conf_free(&conf);
    conf_free(&conf_stale);
    event_base_free(base);
    return done_testing();
}
