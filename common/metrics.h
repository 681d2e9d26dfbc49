/*
 * metrics - what a daemon is doing, summed across its workers, in Prometheus text format.
 *
 * Each worker counts in its own slot of one shared memory region made before the workers
 * are forked (no locks: one writer per slot, relaxed atomic loads and stores), so a slot
 * outlives a worker that is restarted and the totals never go back. Any worker's render
 * sums every slot. A daemon names what it counts: the label of its requests (lookupd: map;
 * policyd: check) and the kinds of answers (found / notfound / temp; dunno / reject / ...).
 *
 * The endpoint ([section] stats_listen: inet on a loopback address, or unix:PATH) is bound
 * with the other listeners (server.c) and served by worker 0 with libevent's evhttp
 * (daemon.c); `modoctl stats` reads it (metrics_fetch).
 */
#ifndef MODO_METRICS_H
#define MODO_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics_def {
    const char *daemon;        /* "lookupd" */
    const char *name_label;    /* "map" */
    const char *const *names;  /* values of name_label, by index */
    size_t nnames;
    const char *answer_label;  /* "answer" */
    const char *const *answers; /* values of answer_label, by index */
    size_t nanswers;
};

#define METRICS_MAX_NAMES 16
#define METRICS_MAX_ANSWERS 8

/* What the frame copies from the store, the cache and Redis (a snapshot per worker). */
struct metrics_deps {
    uint64_t l1_hits, l2_hits, misses, stale_served;
    uint64_t store_questions, store_errors, store_deadlines, store_reconnects;
    bool database_up, redis_up, redis_used;
};

/* Before the workers are forked: the shared region for nworkers slots. */
void metrics_init(const struct metrics_def *def, int nworkers);
/* In a worker: count in slot `index` from now on. */
void metrics_use_slot(int index);

/* A request was read (name: its map or check index). */
void metrics_request(size_t name);
/* Its answer left, `seconds` after it was read. */
void metrics_answer(size_t name, size_t answer, double seconds);
/* A request that could not be read as one (malformed, unknown map). */
void metrics_bad_request(void);
/* Connections accepted and closed. */
void metrics_connection(int delta);
void metrics_set_deps(const struct metrics_deps *deps);

/* The Prometheus text of every slot summed; malloc'd, *len_r its length. */
char *metrics_render(size_t *len_r);

/* Fetch the text of a running daemon's endpoint (modoctl stats); 0, or -1 with *error_r. */
int metrics_fetch(const char *endpoint, char **text_r, char **error_r);

#endif
