/*
 * metrics - counters in shared memory, one slot per worker; see metrics.h.
 */
#include "metrics.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* Upper bounds of the latency histogram, in seconds (Prometheus "le"). */
static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

struct slot {
    uint64_t used; /* a worker has counted here */
    uint64_t requests[METRICS_MAX_NAMES];
    uint64_t answers[METRICS_MAX_NAMES][METRICS_MAX_ANSWERS];
    uint64_t buckets[NBUCKETS + 1]; /* the last: above every bound */
    uint64_t latency_us;            /* sum */
    uint64_t bad_requests;
    uint64_t connections_total;
    int64_t connections_open;
    uint64_t l1_hits, l2_hits, misses, stale_served;
    uint64_t store_questions, store_errors, store_deadlines, store_reconnects;
    uint64_t database_up, redis_up, redis_used;
};

static const struct metrics_def *def;
static struct slot *slots;
static int nslots;
static struct slot *mine;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define ADD(x, v) STORE(x, LOAD(x) + (v)) /* one writer per slot */

void metrics_init(const struct metrics_def *d, int nworkers)
{
    size_t size = sizeof(struct slot) * (size_t)nworkers;

    if (d->nnames > METRICS_MAX_NAMES || d->nanswers > METRICS_MAX_ANSWERS)
        log_panic("metrics: too many names or answers");
    def = d;
    slots = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        log_fatal("metrics: cannot map shared memory: %s", strerror(errno));
    nslots = nworkers;
    mine = &slots[0];
}

void metrics_use_slot(int index)
{
    if (slots != NULL && index >= 0 && index < nslots) {
        mine = &slots[index];
        STORE(mine->used, 1);
        /* a restarted worker starts with no connection of its own */
        STORE(mine->connections_open, 0);
    }
}

void metrics_request(size_t name)
{
    if (mine != NULL && name < METRICS_MAX_NAMES)
        ADD(mine->requests[name], 1);
}

void metrics_answer(size_t name, size_t answer, double seconds)
{
    size_t b = 0;

    if (mine == NULL || name >= METRICS_MAX_NAMES || answer >= METRICS_MAX_ANSWERS)
        return;
    ADD(mine->answers[name][answer], 1);
    while (b < NBUCKETS && seconds > bucket_le[b])
        b++;
    ADD(mine->buckets[b], 1);
    ADD(mine->latency_us, (uint64_t)(seconds * 1e6));
}

void metrics_bad_request(void)
{
    if (mine != NULL)
        ADD(mine->bad_requests, 1);
}

void metrics_connection(int delta)
{
    if (mine == NULL)
        return;
    if (delta > 0)
        ADD(mine->connections_total, (uint64_t)delta);
    STORE(mine->connections_open, LOAD(mine->connections_open) + delta);
}

void metrics_set_deps(const struct metrics_deps *d)
{
    if (mine == NULL)
        return;
    STORE(mine->l1_hits, d->l1_hits);
    STORE(mine->l2_hits, d->l2_hits);
    STORE(mine->misses, d->misses);
    STORE(mine->stale_served, d->stale_served);
    STORE(mine->store_questions, d->store_questions);
    STORE(mine->store_errors, d->store_errors);
    STORE(mine->store_deadlines, d->store_deadlines);
    STORE(mine->store_reconnects, d->store_reconnects);
    STORE(mine->database_up, d->database_up);
    STORE(mine->redis_up, d->redis_up);
    STORE(mine->redis_used, d->redis_used);
}

/* ---- rendering ---- */

static void head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
    strbuf_printf(sb, "# HELP modo_%s %s\n# TYPE modo_%s %s\n", name, help, name, type);
}

/* A sum over the slots in use of the field at `offset`. */
static uint64_t sum_at(size_t offset)
{
    uint64_t total = 0;
    int i;

    for (i = 0; i < nslots; i++)
        if (LOAD(slots[i].used))
            total += LOAD(*(uint64_t *)((char *)&slots[i] + offset));
    return total;
}

#define SUM(field) sum_at(offsetof(struct slot, field))

static void simple(struct strbuf *sb, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    head(sb, name, type, help);
    strbuf_printf(sb, "modo_%s{daemon=\"%s\"} %llu\n", name, def->daemon,
                  (unsigned long long)value);
}

/* 1 when every worker in use says so */
static uint64_t all_up(size_t offset)
{
    int i, seen = 0;

    for (i = 0; i < nslots; i++)
        if (LOAD(slots[i].used)) {
            seen++;
            if (!LOAD(*(uint64_t *)((char *)&slots[i] + offset)))
                return 0;
        }
    return seen > 0;
}

char *metrics_render(size_t *len_r)
{
    struct strbuf sb = STRBUF_INIT;
    uint64_t cumulative = 0;
    int64_t open = 0;
    size_t n, a, b;
    int i;

    if (slots == NULL) {
        *len_r = 0;
        return xstrdup("");
    }
    head(&sb, "requests_total", "counter", "Requests read, by what they ask.");
    for (n = 0; n < def->nnames; n++)
        strbuf_printf(&sb, "modo_requests_total{daemon=\"%s\",%s=\"%s\"} %llu\n", def->daemon,
                      def->name_label, def->names[n],
                      (unsigned long long)SUM(requests[n]));
    head(&sb, "answers_total", "counter", "Answers sent, by what was asked and the answer.");
    for (n = 0; n < def->nnames; n++)
        for (a = 0; a < def->nanswers; a++)
            strbuf_printf(&sb, "modo_answers_total{daemon=\"%s\",%s=\"%s\",%s=\"%s\"} %llu\n",
                          def->daemon, def->name_label, def->names[n], def->answer_label,
                          def->answers[a], (unsigned long long)SUM(answers[n][a]));
    simple(&sb, "bad_requests_total", "counter",
           "Requests that could not be read as one (malformed, unknown map).",
           SUM(bad_requests));
    head(&sb, "request_duration_seconds", "histogram",
         "Time from reading a request to sending its answer.");
    for (b = 0; b <= NBUCKETS; b++) {
        cumulative += SUM(buckets[b]);
        if (b < NBUCKETS)
            strbuf_printf(&sb, "modo_request_duration_seconds_bucket{daemon=\"%s\",le=\"%g\"} %llu\n",
                          def->daemon, bucket_le[b], (unsigned long long)cumulative);
        else
            strbuf_printf(&sb, "modo_request_duration_seconds_bucket{daemon=\"%s\",le=\"+Inf\"} %llu\n",
                          def->daemon, (unsigned long long)cumulative);
    }
    strbuf_printf(&sb, "modo_request_duration_seconds_sum{daemon=\"%s\"} %.6f\n", def->daemon,
                  (double)SUM(latency_us) / 1e6);
    strbuf_printf(&sb, "modo_request_duration_seconds_count{daemon=\"%s\"} %llu\n", def->daemon,
                  (unsigned long long)cumulative);
    simple(&sb, "connections_total", "counter", "Connections accepted.", SUM(connections_total));
    for (i = 0; i < nslots; i++)
        if (LOAD(slots[i].used))
            open += LOAD(slots[i].connections_open);
    head(&sb, "connections", "gauge", "Connections open.");
    strbuf_printf(&sb, "modo_connections{daemon=\"%s\"} %lld\n", def->daemon, (long long)open);
    simple(&sb, "cache_l1_hits_total", "counter", "Answers found in the process's cache.",
           SUM(l1_hits));
    simple(&sb, "cache_l2_hits_total", "counter", "Answers found in Redis.", SUM(l2_hits));
    simple(&sb, "cache_misses_total", "counter", "Questions the caches could not answer.",
           SUM(misses));
    simple(&sb, "cache_stale_served_total", "counter",
           "Old answers served while the database was down (stale_max_age).", SUM(stale_served));
    simple(&sb, "store_questions_total", "counter", "Questions asked of the database.",
           SUM(store_questions));
    simple(&sb, "store_errors_total", "counter",
           "Database questions that failed (answered as temporary failures).", SUM(store_errors));
    simple(&sb, "store_deadlines_total", "counter", "Database questions past [database] deadline.",
           SUM(store_deadlines));
    simple(&sb, "store_reconnects_total", "counter", "Database connections made again.",
           SUM(store_reconnects));
    simple(&sb, "database_up", "gauge", "1 when every worker can reach the database.",
           all_up(offsetof(struct slot, database_up)));
    simple(&sb, "redis_up", "gauge",
           "1 when every worker is connected to Redis (0 also when Redis is not configured).",
           SUM(redis_used) ? all_up(offsetof(struct slot, redis_up)) : 0);
    *len_r = sb.len;
    return strbuf_steal(&sb);
}

/* ---- the client side: modoctl stats ---- */

static int connect_endpoint(const char *endpoint, char **error_r)
{
    struct strbuf sb = STRBUF_INIT;
    struct timeval tv = {5, 0};
    int fd = -1;

    if (strncmp(endpoint, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", endpoint + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            close(fd);
            fd = -1;
        }
    } else if (strncmp(endpoint, "inet:", 5) == 0) {
        char host[256];
        const char *colon = strrchr(endpoint + 5, ':');
        struct addrinfo hints, *res = NULL, *ai;
        if (colon != NULL && (size_t)(colon - endpoint - 5) < sizeof(host)) {
            snprintf(host, sizeof(host), "%.*s", (int)(colon - endpoint - 5), endpoint + 5);
            if (host[0] == '[') {
                memmove(host, host + 1, strlen(host));
                host[strcspn(host, "]")] = '\0';
            }
            memset(&hints, 0, sizeof(hints));
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_NUMERICSERV;
            if (getaddrinfo(host, colon + 1, &hints, &res) == 0) {
                for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
                    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
                    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                        close(fd);
                        fd = -1;
                    }
                }
                freeaddrinfo(res);
            }
        }
    } else {
        strbuf_printf(&sb, "\"%s\" is not inet:HOST:PORT or unix:PATH", endpoint);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    if (fd < 0) {
        strbuf_printf(&sb, "cannot connect to %s: %s", endpoint, strerror(errno));
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

int metrics_fetch(const char *endpoint, char **text_r, char **error_r)
{
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    struct strbuf in = STRBUF_INIT;
    char buf[4096], *body;
    ssize_t n;
    int fd = connect_endpoint(endpoint, error_r);

    if (fd < 0)
        return -1;
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
        close(fd);
        *error_r = xstrdup("cannot send the request");
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0 && in.len < 16 * 1024 * 1024)
        strbuf_append(&in, buf, (size_t)n);
    close(fd);
    body = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
    if (body == NULL || strncmp(in.data, "HTTP/1.", 7) != 0 || strncmp(in.data + 8, " 200", 4) != 0) {
        strbuf_free(&in);
        *error_r = xstrdup("not an HTTP 200 answer");
        return -1;
    }
    *text_r = xstrdup(body + 4);
    strbuf_free(&in);
    return 0;
}
