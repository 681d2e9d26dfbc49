/*
 * redis - one asynchronous Redis connection on the event loop ([redis] settings),
 * shared by the cache and the policy counters.
 *
 * Every command has the [redis] timeout: its callback is called exactly once, with
 * the reply, or with NULL when Redis did not answer in time, the connection dropped,
 * or Redis is down. Several timeouts in a row drop the connection. A lost connection
 * is re-established with exponential backoff up to [redis] reconnect_max. One log
 * line per state change: "Redis <what> available" / "Redis <what> unavailable (why):
 * <consequence>".
 */
#ifndef MODO_REDIS_H
#define MODO_REDIS_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct event_base;
struct redis;
struct redisReply;

typedef void redis_cb(struct redisReply *reply, void *arg);

/* NULL when [redis] address is empty (Redis not used). Fatal on a malformed address. */
struct redis *redis_new(struct event_base *base, const struct conf *conf, const char *what,
                        const char *consequence);
void redis_free(struct redis **r);
/*
 * Is [redis] address well formed and, with connect, does Redis answer (AUTH and SELECT
 * included; blocking, 2 s)? 0 (also for an empty address), or -1 with *error_r (malloc'd,
 * naming the setting or the address; never the password).
 */
int redis_check(const struct conf *conf, bool connect, char **error_r);

bool redis_is_up(const struct redis *r);

/*
 * Send a command (hiredis format). Returns 0 when sent (cb will be called), -1 when
 * Redis is down (cb is not called). cb may be NULL (fire and forget).
 */
int redis_command(struct redis *r, redis_cb *cb, void *arg, const char *fmt, ...);
int redis_command_argv(struct redis *r, redis_cb *cb, void *arg, int argc, const char **argv,
                       const size_t *argvlen);

/*
 * A Lua script run by its SHA1 (EVALSHA), sent itself (EVAL) when this Redis does not know
 * it yet (first use, after a restart or SCRIPT FLUSH): callers see only its reply.
 */
struct redis_script {
    const char *text;
    char sha[41];
};
void redis_script_init(struct redis_script *script, const char *text);
/* args: numkeys, the keys, the arguments (copied); like redis_command's return and cb. */
int redis_script_run(struct redis *r, const struct redis_script *script, int argc,
                     const char **args, redis_cb *cb, void *arg);

/* Counters: commands that failed (error reply, timeout, drop). */
unsigned long long redis_errors(const struct redis *r);

#endif
