/*
 * modoctl objects: domain, relaydomain, domainalias, account, alias, sender-address and
 * passwd. Each command is one transaction; the rules live in common/admin.c.
 *
 *   modoctl OBJECT add|mod|del|list|show ARGS [OPTIONS]
 *
 * Exit status: 0 done, 1 refused (the message says why), 2 usage, 3 no such object,
 * 4 database failure, 5 the object exists already.
 */
#include "modoctl.h"

#include "admin.h"
#include "conf.h"
#include "db.h"
#include "password.h"
#include "strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt {
    O_QUOTA = 1, O_DEFQUOTA, O_ENABLED, O_DISABLED, O_LIMIT, O_DNS, O_DKIM, O_SELECTOR, O_KEYLEN,
    O_HOST, O_PORT, O_VERIFY, O_RENAME, O_KEEP, O_TARGET, O_ROLE, O_EMAIL, O_SENDONLY, O_MASTER,
    O_FIRST, O_LAST, O_PWHASH, O_PASSWORD, O_ADMDOM, O_NOMAILBOX, O_ENALIASES, O_DESC, O_EXPIRE,
    O_ADD, O_REMOVE, O_SET, O_DOMAIN, O_JSON, O_HELP, O_QUIET, O__COUNT
};

static const struct option long_opts[] = {
    {"quota", required_argument, NULL, O_QUOTA},
    {"default-mailbox-quota", required_argument, NULL, O_DEFQUOTA},
    {"enabled", required_argument, NULL, O_ENABLED},
    {"disabled", no_argument, NULL, O_DISABLED},
    {"message-limit", required_argument, NULL, O_LIMIT},
    {"dns-checks", required_argument, NULL, O_DNS},
    {"dkim", required_argument, NULL, O_DKIM},
    {"dkim-selector", required_argument, NULL, O_SELECTOR},
    {"dkim-key-length", required_argument, NULL, O_KEYLEN},
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"verify-recipients", required_argument, NULL, O_VERIFY},
    {"rename", required_argument, NULL, O_RENAME},
    {"keep-dirs", no_argument, NULL, O_KEEP},
    {"keep-dir", no_argument, NULL, O_KEEP},
    {"target", required_argument, NULL, O_TARGET},
    {"role", required_argument, NULL, O_ROLE},
    {"email", required_argument, NULL, O_EMAIL},
    {"send-only", required_argument, NULL, O_SENDONLY},
    {"master-user", required_argument, NULL, O_MASTER},
    {"first-name", required_argument, NULL, O_FIRST},
    {"last-name", required_argument, NULL, O_LAST},
    {"password-hash", required_argument, NULL, O_PWHASH},
    {"password", no_argument, NULL, O_PASSWORD},
    {"admin-domain", required_argument, NULL, O_ADMDOM},
    {"no-mailbox", no_argument, NULL, O_NOMAILBOX},
    {"enable-aliases", no_argument, NULL, O_ENALIASES},
    {"description", required_argument, NULL, O_DESC},
    {"expire-at", required_argument, NULL, O_EXPIRE},
    {"add", required_argument, NULL, O_ADD},
    {"remove", required_argument, NULL, O_REMOVE},
    {"set", required_argument, NULL, O_SET},
    {"domain", required_argument, NULL, O_DOMAIN},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {"quiet", no_argument, NULL, O_QUIET},
    {NULL, 0, NULL, 0},
};

#define MAX_LIST 256

struct cli {
    const char *v[O__COUNT];
    bool given[O__COUNT];
    const char *add[MAX_LIST + 1], *remove[MAX_LIST + 1], *admdom[MAX_LIST + 1];
    size_t nadd, nremove, nadmdom;
    char **args;
    int nargs;
};

struct command {
    const char *object, *verb;
    int min_args, max_args; /* -1: any number */
    unsigned long long opts;
    const char *usage;
};

#define B(o) (1ULL << (o))
#define DOMAIN_OPTS                                                                                \
    (B(O_QUOTA) | B(O_DEFQUOTA) | B(O_ENABLED) | B(O_DISABLED) | B(O_LIMIT) | B(O_DNS) |          \
     B(O_DKIM) | B(O_SELECTOR) | B(O_KEYLEN))
#define RELAY_OPTS (B(O_HOST) | B(O_PORT) | B(O_VERIFY) | B(O_ENABLED) | B(O_DISABLED) | B(O_LIMIT))
#define ACCOUNT_OPTS                                                                               \
    (B(O_ROLE) | B(O_EMAIL) | B(O_QUOTA) | B(O_LIMIT) | B(O_SENDONLY) | B(O_MASTER) |             \
     B(O_FIRST) | B(O_LAST) | B(O_ENABLED) | B(O_DISABLED) | B(O_PWHASH) | B(O_ADMDOM))
#define ALIAS_OPTS (B(O_ENABLED) | B(O_DISABLED) | B(O_DESC) | B(O_EXPIRE))
#define LIST_OPTS (B(O_DOMAIN) | B(O_JSON))

static const struct command commands[] = {
    {"domain", "add", 1, 1, DOMAIN_OPTS,
     "NAME [--quota MB] [--default-mailbox-quota MB] [--message-limit N|none] [--disabled]\n"
     "      [--dns-checks yes|no] [--dkim yes|no] [--dkim-selector S] [--dkim-key-length N]"},
    {"domain", "mod", 1, 1, DOMAIN_OPTS | B(O_RENAME), "NAME [options of add] [--rename NEW]"},
    {"domain", "del", 1, 1, B(O_KEEP), "NAME [--keep-dirs]"},
    {"domain", "list", 0, 0, B(O_JSON), "[--json]"},
    {"domain", "show", 1, 1, B(O_JSON), "NAME [--json]"},
    {"relaydomain", "add", 1, 1, RELAY_OPTS,
     "NAME --host HOST [--port 25] [--verify-recipients yes|no] [--disabled]"},
    {"relaydomain", "mod", 1, 1, RELAY_OPTS | B(O_RENAME), "NAME [options of add] [--rename NEW]"},
    {"relaydomain", "del", 1, 1, B(O_KEEP), "NAME"},
    {"relaydomain", "list", 0, 0, B(O_JSON), "[--json]"},
    {"relaydomain", "show", 1, 1, B(O_JSON), "NAME [--json]"},
    {"domainalias", "add", 2, 2, B(O_ENABLED) | B(O_DISABLED), "NAME TARGET [--disabled]"},
    {"domainalias", "mod", 1, 1, B(O_ENABLED) | B(O_DISABLED) | B(O_TARGET),
     "NAME [--target DOMAIN] [--enabled yes|no]"},
    {"domainalias", "del", 1, 1, 0, "NAME"},
    {"domainalias", "list", 0, 0, LIST_OPTS, "[--domain TARGET] [--json]"},
    {"domainalias", "show", 1, 1, B(O_JSON), "NAME [--json]"},
    {"account", "add", 1, 1, ACCOUNT_OPTS,
     "USERNAME [--role SimpleUsers|DomainAdmins|Resellers|SuperAdmins] [--email ADDRESS]\n"
     "      [--quota MB] [--message-limit N|none] [--send-only yes|no] [--master-user yes|no]\n"
     "      [--first-name S] [--last-name S] [--disabled] [--admin-domain D]...\n"
     "      [--password-hash {SCHEME}HASH]   (otherwise the password is read from stdin)"},
    {"account", "mod", 1, 1,
     ACCOUNT_OPTS | B(O_RENAME) | B(O_PASSWORD) | B(O_NOMAILBOX) | B(O_ENALIASES) | B(O_KEEP),
     "USERNAME [options of add] [--password] [--rename NEW] [--no-mailbox [--keep-dir]]\n"
     "      [--enable-aliases]"},
    {"account", "del", 1, 1, B(O_KEEP), "USERNAME [--keep-dir]"},
    {"account", "list", 0, 0, LIST_OPTS, "[--domain D] [--json]"},
    {"account", "show", 1, 1, B(O_JSON), "USERNAME [--json]"},
    {"alias", "add", 2, -1, ALIAS_OPTS,
     "ADDRESS|@DOMAIN RECIPIENT... [--disabled] [--description S] [--expire-at DATE]"},
    {"alias", "mod", 1, 1, ALIAS_OPTS | B(O_ADD) | B(O_REMOVE) | B(O_SET),
     "ADDRESS [--add R]... [--remove R]... [--set R,R...] [--enabled yes|no]\n"
     "      [--description S] [--expire-at DATE|never]"},
    {"alias", "del", 1, 1, 0, "ADDRESS"},
    {"alias", "list", 0, 0, LIST_OPTS, "[--domain D] [--json]"},
    {"alias", "show", 1, 1, B(O_JSON), "ADDRESS [--json]"},
    {"sender-address", "add", 2, 2, 0, "ACCOUNT ADDRESS|@DOMAIN"},
    {"sender-address", "del", 2, 2, 0, "ACCOUNT ADDRESS|@DOMAIN"},
    {"sender-address", "list", 0, 0, LIST_OPTS, "[--domain D] [--json]"},
    {"passwd", NULL, 1, 1, 0, "ACCOUNT   (the new password is read from stdin or prompted)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void command_usage(FILE *fp, const char *object)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (object == NULL || strcmp(commands[i].object, object) == 0)
            fprintf(fp, "usage: modoctl %s%s%s %s\n", commands[i].object,
                    commands[i].verb ? " " : "", commands[i].verb ? commands[i].verb : "",
                    commands[i].usage);
}

static int parse(const struct command *c, int argc, char **argv, struct cli *cli)
{
    int opt, idx;

    memset(cli, 0, sizeof(*cli));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "modoctl: %s: unknown option or missing value\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (opt == O_HELP) {
            command_usage(stdout, c->object);
            exit(0);
        }
        if (opt == O_QUIET) { /* every command: writes say nothing on success */
            cli->given[opt] = true;
            continue;
        }
        if (!(c->opts & B(opt))) {
            fprintf(stderr, "modoctl: %s %s: --%s does not apply\n", c->object,
                    c->verb ? c->verb : "", long_opts[idx].name);
            return EXIT_USAGE;
        }
        cli->given[opt] = true;
        cli->v[opt] = optarg;
        if (opt == O_ADD && cli->nadd < MAX_LIST)
            cli->add[cli->nadd++] = optarg;
        if (opt == O_REMOVE && cli->nremove < MAX_LIST)
            cli->remove[cli->nremove++] = optarg;
        if (opt == O_ADMDOM && cli->nadmdom < MAX_LIST)
            cli->admdom[cli->nadmdom++] = optarg;
        if (opt == O_DISABLED)
            cli->v[O_ENABLED] = "no";
    }
    cli->args = argv + optind;
    cli->nargs = argc - optind;
    if (cli->nargs < c->min_args || (c->max_args >= 0 && cli->nargs > c->max_args)) {
        fprintf(stderr, "usage: modoctl %s%s%s %s\n", c->object, c->verb ? " " : "",
                c->verb ? c->verb : "", c->usage);
        return EXIT_USAGE;
    }
    return 0;
}

/* A password read from stdin or a prompt, hashed with [admin] password_scheme. */
static char *new_password_hash(const struct conf *conf)
{
    const char *scheme = conf_str(conf, "admin", "password_scheme"), *err = "";
    struct strbuf out = STRBUF_INIT;
    char pw[4096];

    if (read_password(NULL, pw, sizeof(pw)) < 0 || pw[0] == '\0') {
        fprintf(stderr, "modoctl: a password is needed (on standard input, one line)\n");
        return NULL;
    }
    if (password_hash(scheme, pw, NULL, &out, &err) < 0) {
        fprintf(stderr, "modoctl: [admin] password_scheme %s: %s\n", scheme, err);
        return NULL;
    }
    memset(pw, 0, sizeof(pw));
    return strbuf_steal(&out);
}

static char **split_commas(const char *s, size_t *n)
{
    char **list = xcalloc(strlen(s) + 2, sizeof(char *)), *copy = xstrdup(s), *p, *save = NULL;

    *n = 0;
    for (p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
        list[(*n)++] = xstrdup(p);
    free(copy);
    return list;
}

static int run(struct admin *a, const struct conf *conf, const struct command *c, struct cli *o)
{
    enum admin_format fmt = o->given[O_JSON] ? ADMIN_JSON : ADMIN_TEXT;
    const char *obj = c->object, *verb = c->verb ? c->verb : "";
    char *hash = NULL;
    int rc = ADMIN_EINVAL;

    if (strcmp(verb, "list") == 0)
        return admin_list(a, obj, o->v[O_DOMAIN], fmt, stdout);
    if (strcmp(verb, "show") == 0)
        return admin_show(a, obj, o->args[0], fmt, stdout);

    if (strcmp(obj, "domain") == 0 || strcmp(obj, "relaydomain") == 0) {
        struct admin_domain d = {
            .name = o->args[0], .new_name = o->v[O_RENAME], .quota = o->v[O_QUOTA],
            .default_mailbox_quota = o->v[O_DEFQUOTA], .enabled = o->v[O_ENABLED],
            .message_limit = o->v[O_LIMIT], .enable_dns_checks = o->v[O_DNS],
            .enable_dkim = o->v[O_DKIM], .dkim_selector = o->v[O_SELECTOR],
            .dkim_key_length = o->v[O_KEYLEN], .relay_host = o->v[O_HOST],
            .relay_port = o->v[O_PORT], .relay_verify = o->v[O_VERIFY],
            .keep_dirs = o->given[O_KEEP]};
        bool relay = obj[0] == 'r';
        if (strcmp(verb, "add") == 0)
            rc = relay ? admin_relaydomain_add(a, &d) : admin_domain_add(a, &d);
        else if (strcmp(verb, "mod") == 0)
            rc = relay ? admin_relaydomain_mod(a, &d) : admin_domain_mod(a, &d);
        else
            rc = admin_domain_del(a, &d);
    } else if (strcmp(obj, "domainalias") == 0) {
        if (strcmp(verb, "add") == 0)
            rc = admin_domainalias_add(a, o->args[0], o->args[1], o->v[O_ENABLED]);
        else if (strcmp(verb, "mod") == 0)
            rc = admin_domainalias_mod(a, o->args[0], o->v[O_TARGET], o->v[O_ENABLED]);
        else
            rc = admin_domainalias_del(a, o->args[0]);
    } else if (strcmp(obj, "account") == 0 || strcmp(obj, "passwd") == 0) {
        struct admin_account acc = {
            .username = o->args[0], .new_username = o->v[O_RENAME],
            .password_hash = o->v[O_PWHASH], .first_name = o->v[O_FIRST],
            .last_name = o->v[O_LAST], .enabled = o->v[O_ENABLED], .role = o->v[O_ROLE],
            .email = o->v[O_EMAIL], .quota = o->v[O_QUOTA], .message_limit = o->v[O_LIMIT],
            .send_only = o->v[O_SENDONLY], .master_user = o->v[O_MASTER],
            .admin_domains = o->nadmdom ? o->admdom : NULL, .no_mailbox = o->given[O_NOMAILBOX],
            .enable_aliases = o->given[O_ENALIASES], .keep_dir = o->given[O_KEEP]};
        if ((strcmp(obj, "passwd") == 0 || strcmp(verb, "add") == 0 || o->given[O_PASSWORD]) &&
            acc.password_hash == NULL) {
            if ((hash = new_password_hash(conf)) == NULL)
                return ADMIN_EINVAL;
            acc.password_hash = hash;
        }
        if (strcmp(verb, "add") == 0)
            rc = admin_account_add(a, &acc);
        else if (strcmp(verb, "mod") == 0 || strcmp(obj, "passwd") == 0)
            rc = admin_account_mod(a, &acc);
        else
            rc = admin_account_del(a, &acc);
        free(hash);
    } else if (strcmp(obj, "alias") == 0) {
        struct admin_alias al = {
            .address = o->args[0], .enabled = o->v[O_ENABLED], .description = o->v[O_DESC],
            .expire_at = o->v[O_EXPIRE], .add = o->nadd ? o->add : NULL,
            .remove = o->nremove ? o->remove : NULL};
        char **set = NULL;
        size_t n = 0;
        if (strcmp(verb, "add") == 0) {
            /* the recipients: arguments, each possibly a comma-separated list */
            struct strbuf all = STRBUF_INIT;
            for (int i = 1; i < o->nargs; i++)
                strbuf_printf(&all, "%s%s", i > 1 ? "," : "", o->args[i]);
            set = split_commas(all.data, &n);
            strbuf_free(&all);
            al.recipients = (const char *const *)set;
            rc = admin_alias_add(a, &al);
        } else if (strcmp(verb, "mod") == 0) {
            if (o->v[O_SET] != NULL) {
                set = split_commas(o->v[O_SET], &n);
                al.recipients = (const char *const *)set;
            }
            rc = admin_alias_mod(a, &al);
        } else {
            rc = admin_alias_del(a, o->args[0]);
        }
        for (size_t i = 0; set && i < n; i++)
            free(set[i]);
        free(set);
    } else if (strcmp(obj, "sender-address") == 0) {
        rc = strcmp(verb, "add") == 0 ? admin_sender_address_add(a, o->args[0], o->args[1])
                                      : admin_sender_address_del(a, o->args[0], o->args[1]);
    }
    return rc;
}

/* One line saying what a committed write did (--quiet: nothing). */
static void say_done(const struct command *c, const struct cli *o)
{
    const char *verb = c->verb == NULL ? "" : strcmp(c->verb, "add") == 0 ? "added"
                                          : strcmp(c->verb, "mod") == 0 ? "modified"
                                                                        : "deleted";

    if (c->verb == NULL) {
        printf("%s: password changed\n", o->args[0]);
    } else if (strcmp(c->object, "sender-address") == 0) {
        printf("sender address %s of %s %s\n", o->args[1], o->args[0], verb);
    } else if (strcmp(c->object, "domainalias") == 0 && strcmp(c->verb, "add") == 0) {
        printf("domainalias %s -> %s added\n", o->args[0], o->args[1]);
    } else if (o->given[O_RENAME] && o->v[O_RENAME] != NULL) {
        printf("%s %s modified, renamed to %s\n", c->object, o->args[0], o->v[O_RENAME]);
    } else {
        printf("%s %s %s\n", c->object, o->args[0], verb);
    }
}

int objects_command(const struct conf *conf, int argc, char **argv)
{
    const struct command *c = NULL;
    struct admin *a;
    struct cli o;
    bool write;
    size_t i;
    int rc;

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].object, argv[0]) != 0)
            continue;
        if (commands[i].verb == NULL || (argc > 1 && strcmp(commands[i].verb, argv[1]) == 0)) {
            c = &commands[i];
            break;
        }
    }
    if (c == NULL) {
        if (argc > 1 && strcmp(argv[1], "--help") == 0) {
            command_usage(stdout, argv[0]);
            return 0;
        }
        command_usage(stderr, argv[0]);
        return EXIT_USAGE;
    }
    if ((rc = parse(c, argc - (c->verb ? 1 : 0), argv + (c->verb ? 1 : 0), &o)) != 0)
        return rc;
    if ((a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    write = c->verb == NULL || (strcmp(c->verb, "list") != 0 && strcmp(c->verb, "show") != 0);
    if (write && (rc = admin_begin(a)) != 0)
        goto out;
    rc = run(a, conf, c, &o);
    if (write && (rc = admin_end(a, rc)) == 0) {
        apply_limit_changes(conf, a);
        if (!o.given[O_QUIET])
            say_done(c, &o);
    }
out:
    if (rc != 0 && admin_error(a)[0] != '\0')
        fprintf(stderr, "modoctl: %s\n", admin_error(a));
    close_admin(&a);
    return rc;
}
