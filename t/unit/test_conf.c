/*
 * conf: defaults, types, bounds and error messages naming file:line and key.
 */
#include "tap.h"

#include "conf.h"

#include <stdlib.h>

static void bad(const char *text, const char *want)
{
    char *err = NULL;
    struct conf *c = conf_load_string("modo.conf", text, &err);

    ok(c == NULL, "refused: %s", want);
    is_str(err, want, "error message");
    free(err);
    conf_free(&c);
}

int main(void)
{
    char *err = NULL;
    struct conf *c = conf_load_string("modo.conf",
                                      "# comment\n"
                                      "[database]\n"
                                      "url = postgresql://modo@127.0.0.1/modo\n"
                                      "deadline = 250ms\n"
                                      "[redis]\n"
                                      "address = unix:/run/redis.sock\n"
                                      "[lookupd]\n"
                                      "debug = yes\n"
                                      "workers = 2\n"
                                      "idle_timeout = 5m\n",
                                      &err);
    long long ms;
    const char *e;

    if (!ok(c != NULL, "valid file loads"))
        diag("%s", err);
    is_str(conf_str(c, "database", "url"), "postgresql://modo@127.0.0.1/modo", "string");
    is_int(conf_ms(c, "database", "deadline"), 250, "duration in ms");
    is_int(conf_ms(c, "lookupd", "idle_timeout"), 300000, "minutes");
    ok(conf_bool(c, "lookupd", "debug"), "boolean");
    is_int(conf_int(c, "lookupd", "workers"), 2, "integer");
    is_int(conf_int(c, "policyd", "workers"), 1, "default kept");
    is_str(conf_origin(c, "database", "url"), "modo.conf", "origin of a set value");
    is_str(conf_origin(c, "cache", "size"), "default", "origin of a default");
    conf_free(&c);
    ok(c == NULL, "conf_free clears the pointer");

    bad("[database]\nurl = x\nbogus = 1\n", "modo.conf:3: [database] bogus: unknown setting");
    bad("\n[nosuch]\nx = 1\n", "modo.conf:3: [nosuch] x: unknown section [nosuch]");
    bad("[lookupd]\nworkers = 0\n",
        "modo.conf:2: [lookupd] workers: value out of range: \"0\" (allowed: 1 to 64)");
    bad("[lookupd]\nworkers = two\n",
        "modo.conf:2: [lookupd] workers: not an integer: \"two\" (allowed: 1 to 64)");
    bad("[lookupd]\ndebug = maybe\n",
        "modo.conf:2: [lookupd] debug: not a boolean (yes or no): \"maybe\"");
    bad("[lookupd]\nlog = file\n",
        "modo.conf:2: [lookupd] log: not one of the allowed values: \"file\" (allowed: "
        "syslog|stderr)");
    bad("[database]\ndeadline = 5 parsecs\n",
        "modo.conf:2: [database] deadline: unknown duration unit (use ms, s, m, h or d): \"5 "
        "parsecs\"");
    bad("[database]\ndeadline = 1\ndeadline = 2\n", "modo.conf:3: [database] deadline: set twice");
    bad("[database\n", "modo.conf:1: syntax error (expected [section], key = value or a comment)");
    bad("[database]\njust words\n",
        "modo.conf:2: syntax error (expected [section], key = value or a comment)");
    bad("key = 1\n", "modo.conf:1: [] key: unknown section []");
    c = conf_load("/nonexistent/modo.conf", &err);
    ok(c == NULL && err != NULL && strstr(err, "/nonexistent/modo.conf: cannot open") == err,
       "missing file named");
    free(err);

    ok(conf_parse_duration("1d", &ms, &e) == 0 && ms == 86400000, "1d");
    ok(conf_parse_duration("-1s", &ms, &e) == -1, "negative duration refused");
    ok(conf_parse_duration("99999999999999999d", &ms, &e) == -1, "overflow refused");
    return done_testing();
}
