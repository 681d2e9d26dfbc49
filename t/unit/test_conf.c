/*
 * conf: defaults, types, bounds and error messages naming file:line and key.
 */
#include "tap.h"

#include "conf.h"
#include "num.h"
#include "strbuf.h"

#include <sys/time.h>

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

/* num.c: the one parser family and the backoff */
static void test_num(void)
{
    static const struct {
        const char *s;
        long long min, max;
        int rc;
        long long v;
    } ints[] = {
        {"0", 0, 10, 0, 0},         {"10", 0, 10, 0, 10},      {"11", 0, 10, -1, 0},
        {"-1", 0, 10, -1, 0},       {"-5", -10, 10, 0, -5},    {" 5", 0, 10, -1, 0},
        {"+5", 0, 10, -1, 0},       {"5 ", 0, 10, -1, 0},      {"0x10", 0, 100, -1, 0},
        {"", 0, 10, -1, 0},         {"-", -10, 10, -1, 0},     {"99999999999999999999", 0, 10, -1, 0},
        {"65535", 1, 65535, 0, 65535}, {"65536", 1, 65535, -1, 0},
    };
    static const struct {
        const char *s;
        int rc;
        bool v;
    } bools[] = {{"yes", 0, true}, {"TRUE", 0, true}, {"on", 0, true}, {"1", 0, true},
                 {"y", 0, true},   {"No", 0, false},  {"off", 0, false}, {"0", 0, false},
                 {"n", 0, false},  {"", -1, false},   {"yess", -1, false}, {"2", -1, false}};
    struct backoff b = {0, 1000};
    struct timeval tv;
    size_t i;

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        long long v = -999;
        const char *err = NULL;
        int rc = num_parse(ints[i].s, ints[i].min, ints[i].max, &v, &err);
        ok(rc == ints[i].rc && (rc < 0 ? err != NULL : v == ints[i].v),
           "num_parse(\"%s\", %lld, %lld): %s", ints[i].s, ints[i].min, ints[i].max,
           ints[i].rc == 0 ? "accepted" : "refused");
    }
    ok(num_or("x", 0, 10, 7) == 7 && num_or("3", 0, 10, 7) == 3, "num_or: the default for bad text");
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        bool v = !bools[i].v;
        const char *err = NULL;
        int rc = num_parse_bool(bools[i].s, &v, &err);
        ok(rc == bools[i].rc && (rc < 0 || v == bools[i].v), "num_parse_bool(\"%s\")", bools[i].s);
    }
    tv = backoff_next(&b);
    ok(tv.tv_sec == 0 && tv.tv_usec == 100000, "backoff: 100 ms first");
    backoff_next(&b);
    backoff_next(&b);
    tv = backoff_next(&b);
    ok(tv.tv_sec == 0 && tv.tv_usec == 800000 && backoff_active(&b), "backoff: doubles (800 ms the 4th)");
    tv = backoff_next(&b);
    ok(tv.tv_sec == 1 && tv.tv_usec == 0, "backoff: capped at max_ms");
    backoff_reset(&b);
    tv = backoff_next(&b);
    ok(!(tv.tv_sec != 0 || tv.tv_usec != 100000), "backoff: 100 ms again after a reset");
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
    is_str(conf_origin(c, "database", "url"), "modo.conf:3", "origin of a set value: file:line");
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
    /* lines longer than libinih's 200-byte buffer: whole values, right line numbers */
    {
        struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
        size_t i;
        strbuf_puts(&text, "[policyd]\n# a comment\nrate_limit_action = DEFER_IF_PERMIT ");
        for (i = 0; i < 60; i++)
            strbuf_puts(&want, "slow down ");
        strbuf_append(&text, want.data, want.len - 1);
        strbuf_puts(&text, "  ; inline comment\n");
        for (i = 0; i < 30; i++)
            strbuf_puts(&text, "# a long comment line ...................................\n");
        strbuf_puts(&text, "# ");
        for (i = 0; i < 40; i++)
            strbuf_puts(&text, "long comment ");
        strbuf_puts(&text, "\nworkers = 3\n");
        c = conf_load_string("modo.conf", text.data, &err);
        if (!ok(c != NULL, "a 600-byte line loads"))
            diag("%s", err);
        if (c != NULL) {
            char expect[1024];
            snprintf(expect, sizeof(expect), "DEFER_IF_PERMIT %.*s", (int)want.len - 1, want.data);
            is_str(conf_str(c, "policyd", "rate_limit_action"), expect,
                   "its value whole, trimmed, without the inline comment");
            is_int(conf_int(c, "policyd", "workers"), 3, "the lines after it are read");
            is_str(conf_origin(c, "policyd", "workers"), "modo.conf:35", "and numbered right");
        }
        conf_free(&c);
        strbuf_puts(&text, "bogus = 1\n");
        bad(text.data, "modo.conf:36: [policyd] bogus: unknown setting");
        strbuf_free(&text);
        strbuf_free(&want);
    }
    bad("[lookupd]\nsocket_mode = rw-rw----\n",
        "modo.conf:2: [lookupd] socket_mode: not an octal file mode (like 0660): \"rw-rw----\"");
    bad("[lookupd]\nsocket_mode = 0999\n",
        "modo.conf:2: [lookupd] socket_mode: not an octal file mode (like 0660): \"0999\"");
    c = conf_load_string("modo.conf", "[lookupd]\nsocket_mode = 0640\n", &err);
    ok(c != NULL && conf_int(c, "lookupd", "socket_mode") == 0640, "socket_mode 0640 is octal");
    conf_free(&c);
    c = conf_load("/", &err);
    ok(c == NULL && err != NULL && strstr(err, "/: cannot read: it is a directory") == err,
       "a directory is refused, not read as an empty file");
    free(err);
    c = conf_load("/nonexistent/modo.conf", &err);
    ok(c == NULL && err != NULL && strstr(err, "/nonexistent/modo.conf: cannot open") == err,
       "missing file named");
    free(err);

    ok(conf_parse_duration("1d", &ms, &e) == 0 && ms == 86400000, "1d");
    ok(conf_parse_duration("-1s", &ms, &e) == -1, "negative duration refused");
    ok(conf_parse_duration("99999999999999999d", &ms, &e) == -1, "overflow refused");
    test_num();
    return done_testing();
}
