/*
 * modoctl config postfix | dovecot [sql] | opendkim: the configuration fragments that wire
 * Postfix, Dovecot and OpenDKIM to modo for the current modo.conf.
 *
 * - postfix: main.cf lines with every Modoboa map answered by modo-lookupd over socketmap,
 *   at the first unix or inet endpoint of [lookupd] listen (a socket inside Postfix's queue
 *   directory is named relative to it, so chrooted daemons reach it).
 * - dovecot: a conf.d fragment for Dovecot 2.3 on modo-dictd (passdb, master passdb and
 *   userdb { driver = dict }, the quota dict and last_login on modo-dictd's socket);
 *   "dovecot dict-auth|dict-master" print the files it names; "dovecot checkpassword" the
 *   same with modo-checkpassword and quota = count + quota_clone; "dovecot sql-fragment"
 *   Dovecot's own sql drivers with Modoboa's queries on modo's database, and
 *   "dovecot sql|master|dict" the files that one names.
 * - opendkim: KeyTable and SigningTable on the modo_dkim view.
 */
#include "modoctl.h"

#include "conf.h"
#include "strbuf.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_CONF "/etc/dovecot/modo-sql.conf.ext"
#define MASTER_CONF "/etc/dovecot/modo-sql-master.conf.ext"
#define DICT_CONF "/etc/dovecot/modo-dict-sql.conf.ext"
#define DICT_AUTH_CONF "/etc/dovecot/modo-dict-auth.conf.ext"
#define DICT_MASTER_CONF "/etc/dovecot/modo-dict-master.conf.ext"

/* The endpoint Postfix should use for a daemon's first unix or inet listener, or NULL. */
static char *endpoint(const struct conf *conf, const char *section)
{
    static const char spool[] = "/var/spool/postfix/";
    char *ep = conf_listen_first(conf, section, "unix:", "inet:"), *out;
    struct strbuf sb = STRBUF_INIT;

    if (ep == NULL || strncmp(ep, "unix:", 5) != 0)
        return ep;
    /* Postfix daemons run in the queue directory, often chrooted to it */
    strbuf_printf(&sb, "unix:%s",
                  strncmp(ep + 5, spool, sizeof(spool) - 1) == 0 ? ep + 5 + sizeof(spool) - 1
                                                                  : ep + 5);
    free(ep);
    out = strbuf_steal(&sb);
    return out;
}

static char *lookupd_endpoint(const struct conf *conf)
{
    return endpoint(conf, "lookupd");
}

static char *policyd_endpoint(const struct conf *conf)
{
    return endpoint(conf, "policyd");
}

/* One main.cf parameter modo sets, with the comment that explains it. */
struct pf_param {
    const char *comment;
    const char *name;
    char value[512];
};

/* A value in single quotes for sh. */
static void sh_quoted(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    }
    putchar('\'');
}

/*
 * main.cf as text to paste, or (postconf) as postconf -e / -P commands that set exactly
 * modo's parameters in place (an existing main.cf keeps one definition of each) and create
 * the submission service only if master.cf has none.
 */
static int postfix(const struct conf *conf, bool postconf)
{
    char *ep = lookupd_endpoint(conf), *pol = policyd_endpoint(conf);
    const char *delim = conf_str(conf, "lookupd", "recipient_delimiter");
    struct pf_param p[12];
    char sub_rcpt[512];
    size_t n = 0, i;

    if (ep == NULL || pol == NULL) {
        fprintf(stderr, "modoctl: [%s] listen has no unix: or inet: endpoint for Postfix\n",
                ep == NULL ? "lookupd" : "policyd");
        free(ep);
        free(pol);
        return 1;
    }
#define MAP(m) conf_str(conf, "lookupd", m)
#define SET(c, nm, ...)                                                                            \
    do {                                                                                           \
        p[n].comment = (c);                                                                        \
        p[n].name = (nm);                                                                          \
        snprintf(p[n].value, sizeof(p[n].value), __VA_ARGS__);                                    \
        n++;                                                                                       \
    } while (0)
    SET(NULL, "modo", "socketmap:%s", ep);
    SET(NULL, "virtual_transport", "%s", conf_str(conf, "lookupd", "split_domains_transport"));
    SET(NULL, "virtual_mailbox_domains", "${modo}:%s", MAP("map_domains"));
    SET("set explicitly, or trivial-rewrite asks the alias map about bare domains",
        "virtual_alias_domains", "${modo}:%s", MAP("map_domain_aliases"));
    SET(NULL, "virtual_alias_maps", "${modo}:%s", MAP("map_aliases"));
    SET(NULL, "relay_domains", "${modo}:%s", MAP("map_relay_domains"));
    SET("one map applies Postfix's search order over relay transports and split domains",
        "transport_maps", "${modo}:%s", MAP("map_transport"));
    SET(NULL, "smtpd_sender_login_maps", "${modo}:%s", MAP("map_sender_login"));
    SET(NULL, "recipient_delimiter", "%s", delim[0] ? delim : "+");
    SET(NULL, "unverified_recipient_reject_code", "550");
    SET("as Modoboa's installer: modo-policyd first (limits, send-as, full mailboxes), then the\n"
        "# maintenance hold and recipient verification of relay domains for unauthenticated mail",
        "smtpd_recipient_restrictions",
        "check_policy_service %s permit_mynetworks permit_sasl_authenticated"
        " check_recipient_access ${modo}:%s ${modo}:%s reject_unverified_recipient"
        " reject_unauth_destination",
        pol, MAP("map_maintain"), MAP("map_relay_recipient_verification"));
    SET("with [policyd] limit_mode = message, END-OF-MESSAGE is charged",
        "smtpd_end_of_data_restrictions", "check_policy_service %s", pol);
#undef SET
#undef MAP
    snprintf(sub_rcpt, sizeof(sub_rcpt),
             "check_policy_service { %s, policy_context=submission } permit_sasl_authenticated"
             " reject",
             pol);
    if (postconf) {
        printf("# modoctl config postfix --postconf: run these as root; postconf -e changes\n"
               "# main.cf in place (one definition of each parameter), postconf -P master.cf's\n"
               "# submission service, created only if master.cf has none. Then: postfix reload\n");
        for (i = 0; i < n; i++) {
            char pv[600];
            snprintf(pv, sizeof(pv), "%s=%s", p[i].name, p[i].value);
            fputs("postconf -e ", stdout);
            sh_quoted(pv);
            putchar('\n');
        }
        printf("postconf -M submission/inet 2>/dev/null | grep -q . ||"
               " postconf -M submission/inet='submission inet n - y - - smtpd'\n"
               "postconf -P 'submission/inet/syslog_name=postfix/submission'\n"
               "postconf -P 'submission/inet/smtpd_sasl_auth_enable=yes'\n"
               "postconf -P 'submission/inet/smtpd_sender_restrictions=reject_sender_login_mismatch'\n");
        {
            /* postconf -P takes no whitespace: the list lives in main.cf, as Debian's
               master.cf does with $mua_client_restrictions */
            char pv[600];
            snprintf(pv, sizeof(pv), "modo_submission_recipient_restrictions=%s", sub_rcpt);
            fputs("postconf -e ", stdout);
            sh_quoted(pv);
            printf("\npostconf -P 'submission/inet/smtpd_recipient_restrictions="
                   "$modo_submission_recipient_restrictions'\n");
        }
    } else {
        printf("# Postfix main.cf: every Modoboa map answered by modo-lookupd (modoctl config postfix;\n"
               "# --postconf prints postconf commands that change an existing main.cf in place)\n");
        for (i = 0; i < n; i++) {
            if (p[i].comment != NULL)
                printf("# %s\n", p[i].comment);
            if (strcmp(p[i].name, "smtpd_recipient_restrictions") == 0) {
                /* one restriction a line, as the installer writes it */
                char *copy = strdup(p[i].value), *tok, *save = NULL;
                const char *pending = NULL;
                printf("%s =\n", p[i].name);
                for (tok = copy ? strtok_r(copy, " ", &save) : NULL; tok != NULL;
                     tok = strtok_r(NULL, " ", &save)) {
                    bool arg = strchr(tok, ':') != NULL && pending != NULL;
                    if (strcmp(tok, "check_policy_service") == 0 ||
                        strcmp(tok, "check_recipient_access") == 0) {
                        printf("    %s", tok);
                        pending = tok;
                    } else if (arg) {
                        printf(" %s", tok);
                    } else {
                        if (pending != NULL)
                            putchar('\n');
                        pending = NULL;
                        printf("    %s\n", tok);
                    }
                }
                if (pending != NULL)
                    putchar('\n');
                free(copy);
                continue;
            }
            printf("%s = %s\n", p[i].name, p[i].value);
        }
        printf("# on submission (master.cf), tell the policy server which port it serves:\n"
               "#   -o smtpd_sender_restrictions=reject_sender_login_mismatch\n"
               "#   -o {smtpd_recipient_restrictions=%s}\n",
               sub_rcpt);
    }
    free(ep);
    free(pol);
    return 0;
}

/* Dovecot's driver and connect string for [database] url. */
static int dovecot_connect(const struct conf *conf, const char **driver, char **connect)
{
    const char *url = conf_str(conf, "database", "url");
    PQconninfoOption *opts, *o;
    struct strbuf sb = STRBUF_INIT;
    char *err = NULL;

    if (strncmp(url, "sqlite://", 9) == 0) {
        *driver = "sqlite";
        *connect = xstrdup(url + 9);
        return 0;
    }
    if ((opts = PQconninfoParse(url, &err)) == NULL) {
        fprintf(stderr, "modoctl: [database] url: %s\n", err ? err : "cannot parse");
        PQfreemem(err);
        return -1;
    }
    for (o = opts; o->keyword != NULL; o++)
        if (o->val != NULL && o->val[0] != '\0')
            strbuf_printf(&sb, "%s%s=%s", sb.len ? " " : "", o->keyword, o->val);
    PQconninfoFree(opts);
    *driver = "pgsql";
    *connect = strbuf_steal(&sb);
    return 0;
}

/* mail_home, mail_location, uid/gid and the auth settings every variant starts with */
static void dovecot_mail(const struct conf *conf)
{
    const char *home = conf_str(conf, "admin", "mail_home");

    if (home[0] == '/')
        printf("mail_home = %s\n", home);
    else
        printf("mail_home = %s/%s\n", conf_str(conf, "admin", "mail_root"), home);
    printf("mail_location = maildir:~/Maildir\n");
    if (conf_str(conf, "admin", "mail_user")[0] != '\0')
        printf("mail_uid = %s\nmail_gid = %s\n", conf_str(conf, "admin", "mail_user"),
               conf_str(conf, "admin", "mail_user"));
    printf("auth_username_format = %%Lu\n"
           "auth_master_user_separator = *\n");
}

/* Dovecot 2.3 on modo-dictd (dict auth) or modo-checkpassword. */
/*
 * Debian's conf.d files are 10-*.conf to 90-*.conf, included in name order: modo's sorts
 * after them, so its settings are the last word (Dovecot takes a repeated setting's last
 * value, without a warning). Passdbs and userdbs add up instead: the stock system one goes.
 */
#define CONF_D_FILE "/etc/dovecot/conf.d/99-modo.conf"
static void conf_d_note(void)
{
    printf("# Its name sorts after Debian's conf.d files, so its settings win. Debian's\n"
           "# 10-auth.conf also includes auth-system.conf.ext (PAM and /etc/passwd accounts);\n"
           "# to answer from modo alone:\n"
           "#   sed -i 's/^!include auth-system.conf.ext/#&/' /etc/dovecot/conf.d/10-auth.conf\n");
}

static int dovecot_modo(const struct conf *conf, const char *part)
{
    char *ep = endpoint(conf, "dictd");
    const char *sock;

    if (ep == NULL || strncmp(ep, "unix:", 5) != 0) {
        fprintf(stderr, "modoctl: [dictd] listen has no unix: endpoint (Dovecot's proxy dict"
                        " needs a unix socket)\n");
        free(ep);
        return 1;
    }
    sock = ep + 5;
    if (part == NULL || strcmp(part, "checkpassword") == 0) {
        bool cpw = part != NULL;
        char *abs = realpath(modoctl_conf_path, NULL);
        const char *cf = strcmp(modoctl_conf_path, MODO_SYSCONFDIR "/modo/modo.conf") == 0
                             ? NULL
                         : abs ? abs
                               : modoctl_conf_path;
        printf("# " CONF_D_FILE " - Dovecot 2.3: accounts, quota usage and last login from\n"
               "# modo (modoctl config dovecot%s%s)\n",
               cpw ? " checkpassword" : "",
               cpw ? "" : "; the files it names: modoctl config dovecot dict-auth|dict-master");
        conf_d_note();
        dovecot_mail(conf);
        if (cpw) {
#define CPW_PASSDB "passdb {\n  driver = checkpassword\n  args = %s/modo-checkpassword%s%s%s\n%s}\n"
            printf(CPW_PASSDB, MODO_SBINDIR, cf ? " -c " : "", cf ? cf : "", " --master",
                   "  master = yes\n  pass = yes\n");
            printf(CPW_PASSDB, MODO_SBINDIR, cf ? " -c " : "", cf ? cf : "", "", "");
            printf("userdb {\n  driver = prefetch\n}\n");
            printf("userdb {\n  driver = checkpassword\n  args = %s/modo-checkpassword%s%s\n}\n",
                   MODO_SBINDIR, cf ? " -c " : "", cf ? cf : "");
            printf("mail_plugins = $mail_plugins quota quota_clone\n"
                   "plugin {\n  quota = count:User quota\n  quota_vsizes = yes\n"
                   "  quota_clone_dict = proxy:%s:quota\n"
                   "  last_login_dict = proxy:%s:lastlogin\n}\n",
                   sock, sock);
        } else {
            printf("passdb {\n  driver = dict\n  args = " DICT_MASTER_CONF "\n"
                   "  master = yes\n  pass = yes\n}\n"
                   "passdb {\n  driver = dict\n  args = " DICT_AUTH_CONF "\n}\n"
                   "userdb {\n  driver = prefetch\n}\n"
                   "userdb {\n  driver = dict\n  args = " DICT_AUTH_CONF "\n}\n"
                   "mail_plugins = $mail_plugins quota\n"
                   "plugin {\n  quota = dict:User quota::proxy:%s:quota\n"
                   "  last_login_dict = proxy:%s:lastlogin\n}\n",
                   sock, sock);
        }
        /* Modoboa counts IMAP and POP3 logins only */
        printf("protocol imap {\n  mail_plugins = $mail_plugins imap_quota last_login\n}\n"
               "protocol pop3 {\n  mail_plugins = $mail_plugins last_login\n}\n");
        free(abs);
    } else if (strcmp(part, "dict-auth") == 0) {
        printf("# " DICT_AUTH_CONF " (modoctl config dovecot dict-auth)\n"
               "uri = proxy:%s:auth\n"
               "iterate_prefix = userdb/\n"
               "key passdb {\n  key = passdb/%%s/%%u\n  format = json\n}\n"
               "key userdb {\n  key = userdb/%%s/%%u\n  format = json\n}\n"
               "passdb_objects = passdb\n"
               "userdb_objects = userdb\n",
               sock);
    } else {
        printf("# " DICT_MASTER_CONF " (modoctl config dovecot dict-master)\n"
               "uri = proxy:%s:auth\n"
               "key master {\n  key = master/%%u\n  format = json\n}\n"
               "passdb_objects = master\n",
               sock);
    }
    free(ep);
    return 0;
}

static int dovecot(const struct conf *conf, const char *part)
{
    const char *driver;
    char *connect;

    if (part == NULL || strcmp(part, "checkpassword") == 0 || strcmp(part, "dict-auth") == 0 ||
        strcmp(part, "dict-master") == 0)
        return dovecot_modo(conf, part);
    if (strcmp(part, "sql") != 0 && strcmp(part, "master") != 0 && strcmp(part, "dict") != 0 &&
        strcmp(part, "sql-fragment") != 0) {
        fprintf(stderr, "usage: modoctl config dovecot [checkpassword|dict-auth|dict-master|"
                        "sql-fragment|sql|master|dict]\n");
        return EXIT_USAGE;
    }
    if (dovecot_connect(conf, &driver, &connect) < 0)
        return 1;
    if (strcmp(part, "sql-fragment") == 0) {
        printf("# " CONF_D_FILE " - Dovecot: accounts and quotas by Dovecot's own sql drivers\n"
               "# (modoctl config dovecot sql-fragment; the files it names: modoctl config"
               " dovecot sql|master|dict)\n");
        conf_d_note();
        dovecot_mail(conf);
        printf("passdb {\n  driver = sql\n  args = " SQL_CONF "\n}\n"
               "passdb {\n  driver = sql\n  args = " MASTER_CONF "\n  master = yes\n  pass = yes\n}\n"
               "userdb {\n  driver = sql\n  args = " SQL_CONF "\n}\n"
               "mail_plugins = $mail_plugins quota\n"
               "plugin {\n  quota = dict:User quota::proxy::quota\n}\n"
               "dict {\n  quota = %s:" DICT_CONF "\n}\n",
               driver);
    } else if (strcmp(part, "sql") == 0) {
        printf("# " SQL_CONF " (modoctl config dovecot sql)\n"
               "driver = %s\n"
               "connect = %s\n"
               "password_query = SELECT u.email AS user, u.password,"
               " '*:bytes=' || mb.quota || 'M' AS userdb_quota_rule"
               " FROM core_user u JOIN admin_mailbox mb ON u.id = mb.user_id"
               " JOIN admin_domain dom ON mb.domain_id = dom.id"
               " WHERE (mb.is_send_only IS NOT TRUE OR '%%s' NOT IN ('imap', 'pop3'))"
               " AND u.email = '%%u' AND u.is_active AND dom.enabled\n"
               "user_query = SELECT '*:bytes=' || mb.quota || 'M' AS quota_rule"
               " FROM admin_mailbox mb JOIN admin_domain dom ON mb.domain_id = dom.id"
               " WHERE (mb.is_send_only IS NOT TRUE OR '%%s' NOT IN ('imap', 'pop3', 'lmtp'))"
               " AND mb.address = '%%n' AND dom.name = '%%d'\n"
               "iterate_query = SELECT email AS user FROM core_user WHERE email <> ''\n",
               driver, connect);
    } else if (strcmp(part, "master") == 0) {
        printf("# " MASTER_CONF " (modoctl config dovecot master)\n"
               "driver = %s\n"
               "connect = %s\n"
               "password_query = SELECT email AS user, password FROM core_user"
               " WHERE email = '%%u' AND is_active AND master_user\n",
               driver, connect);
    } else {
        printf("# " DICT_CONF " (modoctl config dovecot dict)\n"
               "connect = %s\n"
               "map {\n  pattern = priv/quota/storage\n  table = admin_quota\n"
               "  username_field = username\n  value_field = bytes\n}\n"
               "map {\n  pattern = priv/quota/messages\n  table = admin_quota\n"
               "  username_field = username\n  value_field = messages\n}\n",
               connect);
    }
    free(connect);
    return 0;
}

static int opendkim(const struct conf *conf)
{
    const char *url = conf_str(conf, "database", "url");
    PQconninfoOption *opts, *o;
    const char *host = "127.0.0.1", *port = "5432", *db = "modoboa", *user = "opendkim",
               *pw = NULL;
    char *err = NULL;

    if (strncmp(url, "sqlite://", 9) == 0) {
        const char *path = url + 9, *slash = strrchr(path, '/');
        printf("# opendkim.conf (modoctl config opendkim): the modo_dkim view of modo's SQLite database,\n"
               "# read through OpenDBX (Debian: libopendbx1-sqlite3): host = directory, database = file\n"
               "KeyTable     dsn:sqlite3://%.*s/%s/table=modo_dkim?keycol=id?datacol=domain_name,selector,private_key_path\n"
               "SigningTable dsn:sqlite3://%.*s/%s/table=modo_dkim?keycol=domain_name?datacol=id\n",
               (int)(slash ? slash - path : 1), slash ? path : ".", slash ? slash + 1 : path,
               (int)(slash ? slash - path : 1), slash ? path : ".", slash ? slash + 1 : path);
    } else {
        if ((opts = PQconninfoParse(url, &err)) == NULL) {
            fprintf(stderr, "modoctl: [database] url: %s\n", err ? err : "cannot parse");
            PQfreemem(err);
            return 1;
        }
        for (o = opts; o->keyword != NULL; o++) {
            if (o->val == NULL || o->val[0] == '\0')
                continue;
            if (strcmp(o->keyword, "host") == 0)
                host = o->val;
            else if (strcmp(o->keyword, "port") == 0)
                port = o->val;
            else if (strcmp(o->keyword, "dbname") == 0)
                db = o->val;
            else if (strcmp(o->keyword, "user") == 0)
                user = o->val;
            else if (strcmp(o->keyword, "password") == 0)
                pw = o->val;
        }
        printf("# opendkim.conf (modoctl config opendkim): the modo_dkim view of modo's database.\n"
               "# Better: a role that may only SELECT on dkim (GRANT SELECT ON modo_dkim TO opendkim).\n"
               "KeyTable     dsn:pgsql://%s%s%s@%s+%s/%s/table=modo_dkim?keycol=id?datacol=domain_name,selector,private_key_path\n"
               "SigningTable dsn:pgsql://%s%s%s@%s+%s/%s/table=modo_dkim?keycol=domain_name?datacol=id\n",
               user, pw ? ":" : "", pw ? pw : "", port, host, db, user, pw ? ":" : "", pw ? pw : "",
               port, host, db);
        PQconninfoFree(opts);
    }
    printf("SubDomains yes\nCanonicalization relaxed/relaxed\nOversignHeaders From\n"
           "Socket inet:12345@localhost\n");
    return 0;
}

int fragments_command(const struct conf *conf, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "postfix") == 0)
        return postfix(conf, false);
    if (argc == 3 && strcmp(argv[1], "postfix") == 0 && strcmp(argv[2], "--postconf") == 0)
        return postfix(conf, true);
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "dovecot") == 0)
        return dovecot(conf, argc == 3 ? argv[2] : NULL);
    if (argc == 2 && strcmp(argv[1], "opendkim") == 0)
        return opendkim(conf);
    fprintf(stderr, "usage: modoctl config postfix | dovecot [PART] | opendkim | check\n"
                    "       modoctl config reference\n");
    return EXIT_USAGE;
}
