/*
 * modo-checkpassword - Dovecot 2.3's passdb/userdb { driver = checkpassword }.
 *
 * Dovecot forks it once per login (and per userdb lookup without prefetch): it reads
 * "user\0password\0\0" from fd 3, asks a running modo-dictd over its unix socket (one round
 * trip: shared/fields/<kind>/<service>/<user>), or the database itself when no modo-dictd
 * answers, and answers the way Dovecot 2.3.19's db-checkpassword.c reads it:
 *
 *   verify (no AUTHORIZED)    0 through checkpassword-reply, 1 unknown user or wrong
 *                             password, 111 temporary failure
 *   lookup (AUTHORIZED=1)     2 through checkpassword-reply (AUTHORIZED=2 set), 3 unknown
 *                             user, 111 temporary failure; CREDENTIALS_LOOKUP=1 adds
 *                             password={SCHEME}... so Dovecot can verify and cache it
 *
 * --master makes it the master passdb (master = yes): active accounts with master_user.
 * After a master login Dovecot runs the normal passdb for the target with MASTER_USER set:
 * the password was verified by the master passdb, so only the target's right to log in for
 * the service is checked.
 *
 * Rules and fields are modo-dictd's (auth.h): the same code answers both ways. A hard
 * deadline ([checkpassword] timeout) ends a run stuck on a dependency with 111; every
 * failure that is not the user's is 111, never 1. See modo-checkpassword(8).
 *
 * Built twice: modo-checkpassword links no database client library (what is loaded at
 * each exec is what a login costs), and when no modo-dictd answers it runs
 * modo-checkpassword-db (CPW_DIRECT: this file with the store) on the same input.
 */
#include "config.h"

#include "auth.h"
#include "conf.h"
#include "cpw_input.h"
#include "dict_proto.h"
#include "log.h"
#include "password.h"
#include "strbuf.h"
#ifdef CPW_DIRECT
#include "store.h"
#include <event2/event.h>
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define EXIT_TEMPFAIL 111

enum result { R_FOUND, R_NOTFOUND, R_FAIL, R_NO_DAEMON };

#ifdef __SANITIZE_ADDRESS__
/*
 * A run lasts one login and its memory goes back at exit: LeakSanitizer's exit status (23)
 * would turn "unknown user" (1, 3) into an internal failure for Dovecot.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

static void on_alarm(int sig)
{
    static const char msg[] = "modo-checkpassword: deadline reached: temporary failure\n";

    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to do */
    }
    _exit(EXIT_TEMPFAIL);
}

static void set_deadline(long long ms)
{
    struct itimerval it;

    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t)(ms / 1000);
    it.it_value.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    setitimer(ITIMER_REAL, &it, NULL);
}

#ifdef CPW_DIRECT
struct direct {
    const struct auth_settings *auth;
    const struct auth_key *key;
    struct strbuf *value;
    int rc;
    char *error;
};

static void direct_done(const struct store_answer *ans, void *arg)
{
    struct direct *d = arg;

    d->rc = auth_answer(d->auth, d->key, ans, d->value);
    if (d->rc < 0)
        d->error = xstrdup(ans->error ? ans->error : "database error");
}

/* No modo-dictd: ask the database with the same question and the same rules. */
static enum result ask_database(const struct conf *conf, const struct auth_settings *auth,
                                const struct auth_key *k, struct strbuf *value)
{
    struct event_base *base = event_base_new();
    struct direct d = {auth, k, value, -1, NULL};
    struct store *store;
    char *err = NULL;
    const char *args[1] = {k->user};

    if (base == NULL) {
        log_error("cannot create an event loop");
        return R_FAIL;
    }
    store = store_open_flags(base, conf, 0, &err);
    if (store == NULL) {
        log_error("%s", err);
        free(err);
        event_base_free(base);
        return R_FAIL;
    }
    store_ask_wait(store, auth_question(k->kind), args, direct_done, &d);
    store_close(&store);
    event_base_free(base);
    if (d.rc < 0) {
        log_error("database: %s", d.error);
        free(d.error);
        return R_FAIL;
    }
    return d.rc > 0 ? R_FOUND : R_NOTFOUND;
}
#else
/* The unix socket modo-dictd listens on (malloc'd), or NULL. */
static char *dictd_socket(const struct conf *conf)
{
    const char *s = conf_str(conf, "checkpassword", "dictd_socket");
    char *ep;

    if (s[0] != '\0')
        return xstrdup(s);
    ep = conf_listen_first(conf, "dictd", "unix:", NULL);
    if (ep != NULL)
        memmove(ep, ep + 5, strlen(ep + 5) + 1);
    return ep;
}

/* Ask modo-dictd; R_NO_DAEMON when nothing listens (then the database is asked). */
static enum result ask_dictd(const char *path, const char *key, const char *user,
                             struct strbuf *value)
{
    struct sockaddr_un sun;
    struct strbuf req = STRBUF_INIT;
    char line[DICT_MAX_LINE + 2];
    size_t got = 0;
    char *v, *nl = NULL;
    int fd, rc;

    if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
        return R_NO_DAEMON;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return R_NO_DAEMON;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        if (errno != ENOENT && errno != ECONNREFUSED)
            log_warning("cannot reach modo-dictd at %s: %s: asking the database", path,
                        strerror(errno));
        close(fd);
        return R_NO_DAEMON;
    }
    strbuf_puts(&req, "H3\t2\t0\t\tauth\nL");
    dict_escape(&req, key, strlen(key));
    strbuf_putc(&req, '\t');
    dict_escape(&req, user, strlen(user));
    strbuf_putc(&req, '\n');
    if (write(fd, req.data, req.len) != (ssize_t)req.len) {
        log_warning("modo-dictd at %s: write: %s: asking the database", path, strerror(errno));
        strbuf_free(&req);
        close(fd);
        return R_NO_DAEMON;
    }
    strbuf_free(&req);
    while (got < sizeof(line) - 1 && (nl = memchr(line, '\n', got)) == NULL) {
        ssize_t n = read(fd, line + got, sizeof(line) - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (nl == NULL) {
        log_error("modo-dictd at %s closed without an answer (see its log)", path);
        return R_FAIL;
    }
    rc = cpw_parse_reply(line, (size_t)(nl - line), &v);
    switch (rc) {
    case 'O':
        strbuf_puts(value, v);
        return R_FOUND;
    case 'N':
        return R_NOTFOUND;
    case 'F':
        log_error("modo-dictd: %s", v);
        return R_FAIL;
    default:
        log_error("modo-dictd at %s: unexpected answer \"%.40s\"", path, line);
        return R_FAIL;
    }
}

/*
 * No modo-dictd: modo-checkpassword-db (next to this program, or in the package's
 * libexec directory) asks the database, with the same input on a new fd 3.
 */
static int run_direct(char **argv, const char *input, size_t len)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int fds[2];

    if (pipe(fds) < 0 || write(fds[1], input, len) != (ssize_t)len) {
        log_error("cannot pass the input on: %s", strerror(errno));
        return EXIT_TEMPFAIL;
    }
    close(fds[1]);
    if (fds[0] != 3) {
        if (dup2(fds[0], 3) < 0)
            return EXIT_TEMPFAIL;
        close(fds[0]);
    }
    argv[0] = path;
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            snprintf(path, sizeof(path), "%.*s/modo-checkpassword-db", (int)(slash - self), self);
            execv(path, argv);
        }
    }
    snprintf(path, sizeof(path), "%s/modo-checkpassword-db", MODO_PKGLIBEXECDIR);
    execv(path, argv);
    log_error("no modo-dictd answers and %s cannot run: %s", path, strerror(errno));
    return EXIT_TEMPFAIL;
}
#endif

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: modo-checkpassword [-c FILE] [--master] REPLY-PROGRAM [ARGS...]\n"
            "Dovecot 2.3 checkpassword passdb/userdb from modo's database.\n"
            "  -c FILE     configuration file (default " MODO_SYSCONFDIR "/modo/modo.conf)\n"
            "  --master    the master passdb (passdb { master = yes })\n"
            "  -h, --help  this help;  -V, --version  the version\n"
            "Reads user\\0password\\0 from fd 3; exits 0/2 through REPLY-PROGRAM, 1 (login\n"
            "failed), 3 (unknown user, lookups) or 111 (temporary failure).\n");
}

static void put(const char *name, const char *value, struct strbuf *extra)
{
    if (value == NULL)
        return;
    setenv(name, value, 1);
    if (extra != NULL) {
        if (extra->len > 0)
            strbuf_putc(extra, ' ');
        strbuf_puts(extra, name);
    }
}

int main(int argc, char **argv)
{
    const char *conf_path = MODO_SYSCONFDIR "/modo/modo.conf";
    const char *service, *authorized = getenv("AUTHORIZED"), *master_user;
    bool master = false, lookup, credentials;
    char buf[CPW_MAX_INPUT + 1], *err = NULL;
    const char *perr;
    size_t got = 0;
    struct cpw_input in;
    struct cpw_fields f;
#ifdef CPW_DIRECT
    struct auth_settings auth;
#endif
    struct auth_key k;
    struct strbuf key = STRBUF_INIT, value = STRBUF_INIT, extra = STRBUF_INIT;
    struct conf *conf;
    enum result res;
    int i, rc;

    signal(SIGALRM, on_alarm);
    set_deadline(5000); /* until modo.conf says otherwise */
    log_set_fatal_status(EXIT_TEMPFAIL);
    log_open("modo-checkpassword", LOG_TARGET_STDERR);
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf_path = argv[++i];
        } else if (strcmp(argv[i], "--master") == 0) {
            master = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("modo-checkpassword (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            usage(stderr);
            return EXIT_TEMPFAIL;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_TEMPFAIL;
    }
    conf = conf_load(conf_path, &err);
    if (conf == NULL) {
        log_error("%s", err);
        return EXIT_TEMPFAIL;
    }
    if (strcmp(conf_str(conf, "checkpassword", "log"), "syslog") == 0)
        log_open("modo-checkpassword", LOG_TARGET_SYSLOG);
    set_deadline(conf_ms(conf, "checkpassword", "timeout"));

    /* fd 3: Dovecot writes, then closes */
    for (;;) {
        ssize_t n = read(3, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("cannot read fd 3 (run by Dovecot's checkpassword driver?): %s",
                      strerror(errno));
            return EXIT_TEMPFAIL;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == sizeof(buf))
            break;
    }
    if (cpw_parse_input(buf, got, &in, &perr) < 0) {
        log_error("fd 3: %s", perr);
        return EXIT_TEMPFAIL;
    }

    lookup = authorized != NULL;
    if (lookup && strcmp(authorized, "1") != 0) {
        log_error("AUTHORIZED=%s: expected 1", authorized);
        return EXIT_TEMPFAIL;
    }
    credentials = lookup && getenv("CREDENTIALS_LOOKUP") != NULL &&
                  strcmp(getenv("CREDENTIALS_LOOKUP"), "1") == 0;
    service = getenv("SERVICE") ? getenv("SERVICE") : getenv("AUTH_SERVICE");
    master_user = getenv("MASTER_USER");
    strbuf_printf(&key, "shared/fields/%s/",
                  master                  ? "master"
                  : lookup && !credentials ? "userdb"
                                           : "passdb");
    if (service != NULL && service[0] != '\0' && strchr(service, '/') == NULL)
        strbuf_printf(&key, "%s/", service);
    strbuf_puts(&key, in.user);
    if (auth_parse_key(key.data, &k, &perr) <= 0) {
        return lookup ? 3 : 1; /* a name no account can have: unknown (Dovecot logs it) */
    }

#ifdef CPW_DIRECT
    if (auth_settings_load(&auth, conf, &err) < 0) {
        log_error("%s", err);
        return EXIT_TEMPFAIL;
    }
    res = ask_database(conf, &auth, &k, &value);
#else
    char *sock = dictd_socket(conf);
    res = ask_dictd(sock, key.data, k.user, &value);
    free(sock);
    if (res == R_NO_DAEMON) {
        conf_free(&conf);
        return run_direct(argv, buf, got);
    }
#endif
    if (res == R_FAIL)
        return EXIT_TEMPFAIL;
    if (res == R_NOTFOUND)
        return lookup ? 3 : 1; /* Dovecot logs "unknown user" / "Login failed" */
    if (cpw_parse_fields(value.data, &f, &perr) < 0) {
        log_error("%s: unreadable answer: %s", k.user, perr);
        return EXIT_TEMPFAIL;
    }
    if (!lookup && !(master_user != NULL && master_user[0] != '\0' && !master)) {
        const char *stored = cpw_field(&f, "password");
        rc = password_verify(stored ? stored : "", in.password, &perr);
        memset(in.password, 0, sizeof(in.password));
        if (rc < 0) {
            log_error("%s: stored password cannot be checked: %s", k.user, perr);
            return EXIT_TEMPFAIL;
        }
        if (rc == 0)
            return 1;
    }

    /* the reply, read by checkpassword-reply */
    put("USER", cpw_field(&f, "user") ? cpw_field(&f, "user") : k.user, NULL);
    if (k.kind == AUTH_USERDB) {
        put("HOME", cpw_field(&f, "home"), NULL);
        put("userdb_uid", cpw_field(&f, "uid"), &extra);
        put("userdb_gid", cpw_field(&f, "gid"), &extra);
        put("userdb_quota_rule", cpw_field(&f, "quota_rule"), &extra);
    } else if (k.kind == AUTH_PASSDB) {
        put("HOME", cpw_field(&f, "userdb_home"), NULL);
        put("userdb_uid", cpw_field(&f, "userdb_uid"), &extra);
        put("userdb_gid", cpw_field(&f, "userdb_gid"), &extra);
        put("userdb_quota_rule", cpw_field(&f, "userdb_quota_rule"), &extra);
    }
    if (credentials)
        put("password", cpw_field(&f, "password"), &extra);
    if (extra.len > 0)
        setenv("EXTRA", extra.data, 1);
    else
        unsetenv("EXTRA");
    if (lookup)
        setenv("AUTHORIZED", "2", 1);
    conf_free(&conf);
    execv(argv[i], argv + i);
    log_error("cannot run %s: %s", argv[i], strerror(errno));
    return EXIT_TEMPFAIL;
}
