/*
 * Cache behaviour against a real database and a real Redis. Usage:
 *   cache_test DATABASE-URL FIXTURE.sql REDIS-ADDR REDIS-PIDFILE REDIS-CONF
 *
 * 1. A change committed by another connection is answered within 100 ms by a
 *    running process (PostgreSQL NOTIFY, SQLite data_version), for a positive
 *    and a negative answer, several times.
 * 2. L2: a second process-like cache with no L1 gets its answers from Redis.
 * 3. Redis is killed mid-run (SIGKILL) while lookups go on: no lookup fails
 *    and every answer stays right; Redis is restarted and the cache uses it
 *    again.
 */
#include "tap.h"
#include "testutil.h"

#include "cache.h"
#include "conf.h"
#include "log.h"
#include "store.h"
#include "strbuf.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct event_base *base;

static struct got cask(struct cache *c, enum store_question q, const char *key)
{
    const char *args[3] = {key, NULL, NULL};
    struct got g = {false, 0, NULL};

    cache_ask(c, q, args, got_first_column, &g);
    while (!g.done)
        event_base_loop(base, EVLOOP_ONCE);
    return g;
}

/* Commit `sql` with the writer and measure how long until cache answers `want` for key. */
static double time_to_see(struct cache *c, struct store *writer, const char *sql,
                          enum store_question q, const char *key, const char *want)
{
    char *err = NULL;
    double t0;

    if (store_exec_script(writer, sql, &err) != 0) {
        diag("writer: %s", err);
        free(err);
        return 1e9;
    }
    t0 = now_ms();
    for (;;) {
        struct got g = cask(c, q, key);
        int seen = strcmp(g.rows, want) == 0;
        free(g.rows);
        if (seen)
            return now_ms() - t0;
        if (now_ms() - t0 > 2000)
            return 1e9;
        run_loop_ms(base, 2);
    }
}

static struct conf *make_conf(const char *url, const char *redis, int l1_size, bool replica)
{
    struct strbuf t = STRBUF_INIT;
    char *err = NULL;
    struct conf *conf;

    strbuf_printf(&t,
                  "[database]\nurl = %s\ndeadline = 5s\npoll_interval = 20ms\nreplica = %s\n"
                  "[redis]\naddress = %s\ntimeout = 50ms\nreconnect_max = 200ms\n"
                  "[cache]\nsize = %d\n",
                  url, replica ? "yes" : "no", redis, l1_size);
    conf = conf_load_string("test.conf", t.data, &err);
    if (conf == NULL)
        log_fatal("%s", err);
    strbuf_free(&t);
    return conf;
}

int main(int argc, char **argv)
{
    struct conf *conf, *conf_nol1, *conf_writer, *conf_replica;
    struct store *store_replica;
    struct cache *cache_replica;
    struct store *store, *store2, *writer;
    struct cache *cache, *cache2;
    struct cache_stats st;
    char *err = NULL, *fixture;
    double worst = 0, t;
    int i, failures = 0, wrong = 0, n = 0;
    struct got g;
    FILE *fp;
    long pid = 0;
    char cmd[2048];

    if (argc != 6) {
        fprintf(stderr, "usage: cache_test URL FIXTURE REDIS-ADDR REDIS-PIDFILE REDIS-CONF\n");
        return 2;
    }
    log_open("cache_test", LOG_TARGET_STDERR);
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    conf = make_conf(argv[1], argv[3], 1000, false);
    conf_nol1 = make_conf(argv[1], argv[3], 0, false);
    conf_writer = make_conf(argv[1], "", 0, false);
    conf_replica = make_conf(argv[1], "", 1000, true);
    writer = store_open(base, conf_writer, &err);
    store = store_open(base, conf, &err);
    store2 = store_open(base, conf_nol1, &err);
    if (!ok(writer && store && store2, "open three stores on %s", argv[1]))
        return done_testing();
    fixture = slurp(argv[2], NULL);
    ok(store_exec_script(writer, store_schema_sql(writer), &err) == 0 &&
           store_exec_script(writer, store_objects_sql(writer), &err) == 0 &&
           store_exec_script(writer, fixture, &err) == 0,
       "schema and fixture");
    free(fixture);
    cache = cache_new(base, conf, store);
    cache2 = cache_new(base, conf_nol1, store2);
    run_loop_ms(base, 300); /* connections, LISTEN, Redis */

    g = cask(cache, STORE_Q_ALIAS_RECIPIENTS, "alias@test.com");
    is_str(g.rows, "user@test.com", "first answer from the database");
    free(g.rows);
    g = cask(cache, STORE_Q_ALIAS_RECIPIENTS, "alias@test.com");
    free(g.rows);
    cache_get_stats(cache, &st);
    ok(st.l1_hits == 1 && st.misses == 1, "second answer from L1 (hits %llu, misses %llu)",
       st.l1_hits, st.misses);
    ok(st.redis_up, "Redis is up");

    /* 1. invalidation */
    for (i = 0; i < 5; i++) {
        char sql[512], want[64];
        snprintf(want, sizeof(want), "changed%d@test.com", i);
        snprintf(sql, sizeof(sql),
                 "UPDATE modoboa_admin_aliasrecipient SET address = '%s' WHERE id = 11", want);
        t = time_to_see(cache, writer, sql, STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", want);
        if (t > worst)
            worst = t;
        ok(t < 100, "changed alias answered after %.1f ms", t);
    }
    g = cask(cache, STORE_Q_ALIAS_RECIPIENTS, "new@test.com");
    ok(g.status == 0, "unknown alias: negative answer (cached)");
    free(g.rows);
    t = time_to_see(cache, writer,
                    "INSERT INTO admin_alias (id, address, domain_id, enabled, internal,"
                    " description, expire_at, creation, last_modification) VALUES (100,"
                    " 'new@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00',"
                    " '2026-01-01 00:00:00');"
                    " INSERT INTO modoboa_admin_aliasrecipient (id, address, alias_id,"
                    " r_mailbox_id, r_alias_id) VALUES (100, 'user@test.com', 100, 2, NULL)",
                    STORE_Q_ALIAS_RECIPIENTS, "new@test.com", "user@test.com");
    ok(t < 100, "new alias answered after %.1f ms despite the cached negative answer", t);
    diag("worst time to see a change: %.1f ms", worst);

    /* 1b. a process reading a streaming replica cannot LISTEN: it polls the generation */
    store_replica = store_open(base, conf_replica, &err);
    cache_replica = cache_new(base, conf_replica, store_replica);
    run_loop_ms(base, 100);
    g = cask(cache_replica, STORE_Q_ALIAS_RECIPIENTS, "alias@test.com");
    free(g.rows);
    t = time_to_see(cache_replica, writer,
                    "UPDATE modoboa_admin_aliasrecipient SET address = 'replica@test.com' WHERE id = 11",
                    STORE_Q_ALIAS_RECIPIENTS, "alias@test.com", "replica@test.com");
    ok(t < 100, "replica = yes: change seen by polling after %.1f ms", t);
    cache_free(&cache_replica);
    store_close(&store_replica);
    conf_free(&conf_replica);

    /* 2. L2 */
    g = cask(cache, STORE_Q_DOMAIN, "test.com");
    free(g.rows);
    run_loop_ms(base, 100); /* the SET reaches Redis (20 ms was too short on a loaded machine) */
    g = cask(cache2, STORE_Q_DOMAIN, "test.com");
    is_str(g.rows, "test.com", "a process without L1 gets the answer");
    free(g.rows);
    cache_get_stats(cache2, &st);
    ok(st.l2_hits == 1, "from Redis (L2 hits %llu, misses %llu)", st.l2_hits, st.misses);

    /* 2b. a Redis that seldom answers: the database is asked at the same time */
    {
        int bad = 0, k;
        char key[64];
        for (k = 0; k < 300; k++) {
            snprintf(key, sizeof(key), "cold%d.test", k);
            g = cask(cache2, STORE_Q_DOMAIN, key);
            if (g.status != 0)
                bad++;
            free(g.rows);
        }
        cache_get_stats(cache2, &st);
        ok(bad == 0 && st.speculations > 0,
           "cold Redis: database asked without waiting (%llu speculations), answers right",
           st.speculations);
        run_loop_ms(base, 50);
        for (k = 0; k < 300; k++) {
            snprintf(key, sizeof(key), "cold%d.test", k);
            g = cask(cache2, STORE_Q_DOMAIN, key);
            if (g.status != 0)
                bad++;
            free(g.rows);
            run_loop_ms(base, 1); /* a daemon's loop runs on: late Redis replies are counted */
        }
        cache_get_stats(cache2, &st);
        ok(bad == 0 && st.l2_hits > 250, "the same keys then come from Redis (%llu L2 hits)",
           st.l2_hits);
    }

    /* 3. kill Redis mid-run */
    fp = fopen(argv[4], "r");
    if (fp != NULL) {
        if (fscanf(fp, "%ld", &pid) != 1)
            pid = 0;
        fclose(fp);
    }
    ok(pid > 0, "Redis pid %ld", pid);
    for (i = 0; i < 600; i++) {
        static const char *const keys[] = {"test.com", "test2.com", "nosuch.test", "limit.test"};
        static const char *const want[] = {"test.com", "test2.com", "", "limit.test"};
        if (i == 200 && pid > 0)
            kill((pid_t)pid, SIGKILL);
        if (i == 400) {
            snprintf(cmd, sizeof(cmd), "redis-server %s >/dev/null 2>&1", argv[5]);
            if (system(cmd) != 0)
                diag("redis-server did not restart");
            run_loop_ms(base, 500); /* reconnect backoff is at most 200 ms */
        }
        g = cask(cache2, STORE_Q_DOMAIN, keys[i % 4]);
        n++;
        if (g.status < 0)
            failures++;
        else if (strcmp(g.rows, want[i % 4]) != 0)
            wrong++;
        free(g.rows);
        if (i % 10 == 0)
            run_loop_ms(base, 1);
    }
    is_int(failures, 0, "no failed answer over %d lookups while Redis was killed and restarted", n);
    is_int(wrong, 0, "no wrong answer");
    cache_get_stats(cache2, &st);
    ok(st.redis_up, "Redis is used again after its restart");
    {
        unsigned long long before = st.l2_hits;
        g = cask(cache2, STORE_Q_DOMAIN, "test.com");
        free(g.rows);
        run_loop_ms(base, 20);
        g = cask(cache2, STORE_Q_DOMAIN, "test.com");
        free(g.rows);
        cache_get_stats(cache2, &st);
        ok(st.l2_hits > before, "L2 hits resume (%llu -> %llu)", before, st.l2_hits);
    }

    cache_free(&cache);
    cache_free(&cache2);
    store_close(&store);
    store_close(&store2);
    store_close(&writer);
    conf_free(&conf);
    conf_free(&conf_nol1);
    conf_free(&conf_writer);
    event_base_free(base);
    return done_testing();
}
