/*
 * modoctl import FILE... and export domains|identities: Modoboa's CSV formats
 * (spec modoboa.md §9), through the same writes as the other commands.
 *
 * Differences from Modoboa, all so that an export imports back unchanged: relay
 * domains are exported as relaydomain rows (with their transport), and cells are
 * not prefixed with "'" (a catch-all "@domain" stays a catch-all).
 */
#include "modoctl.h"

#include "admin.h"
#include "conf.h"
#include "csv.h"
#include "db.h"
#include "password.h"
#include "strbuf.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INVALID_LINE (-3)
#define UNKNOWN_TYPE (-2)

struct import {
    struct admin *a;
    const struct conf *conf;
    const char *file;
    char sep;
    bool continue_if_exists, crypt;
    size_t rows, skipped;
};

static char *strip(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static const char *yesno(const char *csv_bool)
{
    return admin_truthy(csv_bool) ? "yes" : "no";
}

static int import_account(struct import *im, char **f, size_t n, char **hash)
{
    struct admin_account acc = {0};
    const char *scheme = conf_str(im->conf, "admin", "password_scheme"), *err = "";
    bool simple = strcasecmp(f[6], "SimpleUsers") == 0;
    struct strbuf out = STRBUF_INIT;

    acc.username = f[1];
    acc.password_hash = f[2];
    acc.first_name = f[3];
    acc.last_name = f[4];
    acc.enabled = yesno(f[5]);
    acc.role = f[6];
    acc.email = n > 7 ? f[7] : NULL;
    acc.quota = n > 8 ? f[8] : NULL;
    acc.admin_domains = n > 9 ? (const char *const *)f + 9 : NULL;
    if (simple && (acc.email == NULL || acc.email[0] == '\0')) {
        return admin_fail(im->a, ADMIN_EINVAL, "The simple user '%s' must have a valid email address",
                          f[1]);
    }
    if (simple && strcasecmp(acc.email, acc.username) != 0) {
        return admin_fail(im->a, ADMIN_EINVAL,
                          "The username of this account does not match its email address");
    }
    if (acc.quota && acc.quota[0] && strspn(acc.quota, "0123456789") != strlen(acc.quota)) {
        return admin_fail(im->a, ADMIN_EINVAL, "Account import failed (%s): wrong quota value", f[1]);
    }
    if (acc.email && acc.email[0]) {
        const char *at = strrchr(acc.email, '@');
        struct db_result r;
        int found;
        if (at == NULL)
            return admin_fail(im->a, ADMIN_EINVAL, "Account import failed (%s): invalid email %s",
                              f[1], acc.email);
        if (db_exec(admin_db(im->a), &r, "SELECT 1 FROM admin_domain WHERE name = lower($1)",
                    DB_ARGS(at + 1)) < 0)
            return admin_fail(im->a, ADMIN_EDB, "database: %s", db_error(admin_db(im->a)));
        found = r.nrows > 0;
        db_result_free(&r);
        if (!found)
            return admin_fail(im->a, ADMIN_ENOENT, "Account import failed (%s): domain does not exist",
                              f[1]);
    }
    if (im->crypt) {
        if (password_hash(scheme, f[2], NULL, &out, &err) < 0)
            return admin_fail(im->a, ADMIN_EINVAL, "[admin] password_scheme %s: %s", scheme, err);
        *hash = strbuf_steal(&out);
        acc.password_hash = *hash;
    }
    return admin_account_add(im->a, &acc);
}

/* One row (fields stripped, NULL-terminated): 0, an admin status, INVALID_LINE or UNKNOWN_TYPE. */
static int import_row(struct import *im, char **f, size_t n)
{
    const char *type = f[0];
    char *hash = NULL;
    int rc;

    if (strcasecmp(type, "domain") == 0) {
        struct admin_domain d = {0};
        if (n < 5)
            return INVALID_LINE;
        d.name = f[1];
        d.quota = f[2];
        d.default_mailbox_quota = f[3];
        d.enabled = yesno(f[4]);
        rc = admin_domain_add(im->a, &d);
    } else if (strcasecmp(type, "domainalias") == 0) {
        if (n < 4)
            return INVALID_LINE;
        rc = admin_domainalias_add(im->a, f[1], f[2], yesno(f[3]));
    } else if (strcasecmp(type, "relaydomain") == 0) {
        struct admin_domain d = {0};
        if (n != 7)
            return INVALID_LINE;
        d.name = f[1];
        d.relay_host = f[2];
        d.relay_port = f[3];
        d.enabled = yesno(f[5]);
        d.relay_verify = yesno(f[6]);
        rc = admin_relaydomain_add(im->a, &d);
    } else if (strcasecmp(type, "account") == 0) {
        if (n < 7)
            return INVALID_LINE;
        rc = import_account(im, f, n, &hash);
        free(hash);
    } else if (strcasecmp(type, "alias") == 0 || strcasecmp(type, "forward") == 0 ||
               strcasecmp(type, "dlist") == 0) {
        struct admin_alias al = {0};
        if (n < (strcasecmp(type, "dlist") == 0 ? 5u : 4u))
            return INVALID_LINE;
        al.address = f[1];
        al.enabled = yesno(f[2]);
        al.recipients = (const char *const *)f + 3;
        al.merge = im->continue_if_exists;
        rc = admin_alias_add(im->a, &al);
    } else {
        return UNKNOWN_TYPE; /* skipped, as Modoboa does */
    }
    return rc;
}

static int savepoint(struct import *im, const char *sql)
{
    if (db_script(admin_db(im->a), sql) < 0) {
        fprintf(stderr, "modoctl: %s: database: %s\n", im->file, db_error(admin_db(im->a)));
        return ADMIN_EDB;
    }
    return 0;
}

static int import_text(struct import *im, const char *text, size_t len)
{
    struct csv_record rec;
    size_t pos = 0, line = 1, i;
    const char *err;
    int rc = 0, got;

    while ((got = csv_next(text, len, &pos, &line, im->sep, &rec, &err)) == 1) {
        char **f;
        if (rec.nfields == 0)
            continue; /* empty rows are skipped */
        f = xcalloc(rec.nfields + 1, sizeof(char *));
        for (i = 0; i < rec.nfields; i++)
            f[i] = strip(rec.fields[i]);
        if (f[0][0] == '\0') {
            free(f);
            csv_record_free(&rec);
            continue;
        }
        if ((rc = savepoint(im, "SAVEPOINT modo_row")) != 0)
            goto next;
        rc = import_row(im, f, rec.nfields);
        if (rc == ADMIN_EEXIST && im->continue_if_exists) {
            im->skipped++;
            rc = savepoint(im, "ROLLBACK TO SAVEPOINT modo_row");
        } else if (rc == ADMIN_EEXIST) {
            fprintf(stderr, "modoctl: %s: Object already exists at line %zu: %s%c%s\n", im->file,
                    rec.line, f[0], im->sep, rec.nfields > 1 ? f[1] : "");
        } else if (rc == INVALID_LINE) {
            fprintf(stderr, "modoctl: %s: line %zu: Invalid line (%zu fields for a %s row)\n",
                    im->file, rec.line, rec.nfields, f[0]);
            rc = ADMIN_EINVAL;
        } else if (rc == UNKNOWN_TYPE) {
            im->skipped++;
            rc = savepoint(im, "RELEASE SAVEPOINT modo_row");
        } else if (rc != 0) {
            fprintf(stderr, "modoctl: %s: line %zu: %s\n", im->file, rec.line, admin_error(im->a));
        } else {
            im->rows++;
            rc = savepoint(im, "RELEASE SAVEPOINT modo_row");
        }
    next:
        free(f);
        csv_record_free(&rec);
        if (rc != 0)
            return rc;
    }
    if (got < 0) {
        fprintf(stderr, "modoctl: %s: line %zu: %s\n", im->file, line, err);
        return ADMIN_EINVAL;
    }
    return 0;
}

static int import_file(struct import *im, const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    char *text;
    size_t len;
    int rc;

    im->file = path;
    im->rows = im->skipped = 0;
    if (strbuf_read_file(&sb, strcmp(path, "-") == 0 ? "/dev/stdin" : path) < 0) {
        fprintf(stderr, "modoctl: %s: cannot read: %m\n", path);
        strbuf_free(&sb);
        return ADMIN_EINVAL;
    }
    /* UTF-8, or else (as Modoboa guesses a charset) ISO-8859-1 */
    if (!csv_is_utf8(sb.data ? sb.data : "", sb.len)) {
        text = csv_latin1_to_utf8(sb.data, sb.len, &len);
        strbuf_free(&sb);
    } else {
        len = sb.len;
        text = sb.data ? strbuf_steal(&sb) : xstrdup("");
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a byte order mark */
        memmove(text, text + 3, (len -= 3) + 1);
    if ((rc = admin_begin(im->a)) != 0) {
        fprintf(stderr, "modoctl: %s\n", admin_error(im->a));
        free(text);
        return rc;
    }
    rc = import_text(im, text, len);
    free(text);
    if (rc == 0 && (rc = admin_end(im->a, 0)) != 0) /* the commit failed */
        fprintf(stderr, "modoctl: %s: %s\n", path, admin_error(im->a));
    else if (rc != 0)
        admin_rollback(im->a);
    if (rc != 0) {
        fprintf(stderr, "modoctl: %s: nothing imported\n", path);
        return rc;
    }
    printf("%s: %zu rows imported, %zu skipped\n", path, im->rows, im->skipped);
    return 0;
}

/* ---- export ---- */

static void row(struct strbuf *out, char sep, const char *const *fields, size_t n)
{
    csv_write(out, sep, fields, n);
    fwrite(out->data, 1, out->len, stdout);
    strbuf_reset(out);
}

static const char *pybool(const char *cell)
{
    return cell && (cell[0] == 't' || cell[0] == '1') ? "True" : "False";
}

static int export_domains(struct db *db, char sep)
{
    struct db_result d, da;
    struct strbuf out = STRBUF_INIT;
    size_t i, j;

    if (db_exec(db, &d,
                "SELECT d.id, d.name, d.quota, d.default_mailbox_quota, d.enabled, d.type,"
                " t.next_hop, EXISTS (SELECT 1 FROM relaydomains_recipientaccess ra"
                " WHERE ra.pattern = d.name)"
                " FROM admin_domain d LEFT JOIN transport_transport t ON t.id = d.transport_id"
                " ORDER BY d.name",
                0, NULL) < 0)
        goto dberr;
    for (i = 0; i < d.nrows; i++) {
        const char *hop = db_cell(&d, i, 6);
        if (strcmp(db_cell(&d, i, 5), "relaydomain") == 0 && hop && hop[0] == '[' &&
            strstr(hop, "]:")) {
            char host[256], *port;
            snprintf(host, sizeof(host), "%s", hop + 1);
            port = strstr(host, "]:");
            *port = '\0';
            port += 2;
            const char *f[] = {"relaydomain", db_cell(&d, i, 1), host, port, "relay",
                               pybool(db_cell(&d, i, 4)), pybool(db_cell(&d, i, 7))};
            row(&out, sep, f, 7);
        } else {
            const char *f[] = {"domain", db_cell(&d, i, 1), db_cell(&d, i, 2), db_cell(&d, i, 3),
                               pybool(db_cell(&d, i, 4))};
            row(&out, sep, f, 5);
        }
        if (db_exec(db, &da,
                    "SELECT name, enabled FROM admin_domainalias WHERE target_id = $1 ORDER BY name",
                    DB_ARGS(db_cell(&d, i, 0))) < 0) {
            db_result_free(&d);
            goto dberr;
        }
        for (j = 0; j < da.nrows; j++) {
            const char *f[] = {"domainalias", db_cell(&da, j, 0), db_cell(&d, i, 1),
                               pybool(db_cell(&da, j, 1))};
            row(&out, sep, f, 4);
        }
        db_result_free(&da);
    }
    db_result_free(&d);
    strbuf_free(&out);
    return 0;
dberr:
    fprintf(stderr, "modoctl: database: %s\n", db_error(db));
    strbuf_free(&out);
    return ADMIN_EDB;
}

/* One account row: account;username;password;first;last;enabled;role;email;quota[;domain...] */
static int export_account(struct db *db, struct db_result *u, size_t i, char sep,
                          struct strbuf *out)
{
    const char *f[CSV_MAX_FIELDS];
    struct db_result doms = {0};
    size_t j, n = 0;

    f[n++] = "account";
    for (j = 1; j < 9; j++)
        f[n++] = j == 5 ? pybool(db_cell(u, i, j)) : db_cell(u, i, j);
    if (strcmp(db_cell(u, i, 6), "DomainAdmins") == 0) {
        if (db_exec(db, &doms,
                    "SELECT d.name FROM core_objectaccess oa JOIN django_content_type ct"
                    " ON ct.id = oa.content_type_id JOIN admin_domain d ON d.id = oa.object_id"
                    " WHERE oa.user_id = $1 AND ct.app_label = 'admin' AND ct.model = 'domain'"
                    " ORDER BY d.name",
                    DB_ARGS(db_cell(u, i, 0))) < 0)
            return -1;
        for (j = 0; j < doms.nrows && n < CSV_MAX_FIELDS; j++)
            f[n++] = db_cell(&doms, j, 0);
    }
    row(out, sep, f, n);
    db_result_free(&doms);
    return 0;
}

/* One alias row: alias;address;enabled;recipient... (sorted) */
static int export_alias(struct db *db, const char *id, const char *address, const char *enabled,
                        char sep, struct strbuf *out)
{
    const char *f[CSV_MAX_FIELDS];
    struct db_result r;
    size_t j, n = 0;

    if (db_exec(db, &r,
                "SELECT address FROM modoboa_admin_aliasrecipient WHERE alias_id = $1 ORDER BY address",
                DB_ARGS(id)) < 0)
        return -1;
    f[n++] = "alias";
    f[n++] = address;
    f[n++] = pybool(enabled);
    for (j = 0; j < r.nrows && n < CSV_MAX_FIELDS; j++)
        f[n++] = db_cell(&r, j, 0);
    row(out, sep, f, n);
    db_result_free(&r);
    return 0;
}

static int export_identities(struct db *db, char sep)
{
    struct db_result u, al, deps;
    struct strbuf out = STRBUF_INIT;
    size_t i, j, left;
    bool *written = NULL, progress;
    int rc = 0;

    if (db_exec(db, &u,
                "SELECT u.id, u.username, u.password, u.first_name, u.last_name, u.is_active,"
                " CASE WHEN u.is_superuser THEN 'SuperAdmins' ELSE COALESCE((SELECT g.name FROM"
                " core_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id ="
                " u.id ORDER BY g.id LIMIT 1), 'SimpleUsers') END, CASE WHEN m.id IS NULL THEN ''"
                " ELSE m.address || '@' || d.name END, CASE WHEN m.id IS NULL THEN ''"
                " ELSE CAST(m.quota AS varchar(20)) END"
                " FROM core_user u LEFT JOIN admin_mailbox m ON m.user_id = u.id"
                " LEFT JOIN admin_domain d ON d.id = m.domain_id ORDER BY u.username",
                0, NULL) < 0)
        goto dberr;
    for (i = 0; i < u.nrows && rc == 0; i++)
        rc = export_account(db, &u, i, sep, &out);
    db_result_free(&u);
    if (rc < 0)
        goto dberr;
    /* aliases: an alias that others point at comes before them, so the file imports */
    if (db_exec(db, &al,
                "SELECT id, address, enabled FROM admin_alias WHERE NOT internal ORDER BY address",
                0, NULL) < 0)
        goto dberr;
    if (db_exec(db, &deps,
                "SELECT r.alias_id, r.r_alias_id FROM modoboa_admin_aliasrecipient r"
                " JOIN admin_alias a ON a.id = r.r_alias_id WHERE NOT a.internal",
                0, NULL) < 0) {
        db_result_free(&al);
        goto dberr;
    }
    written = xcalloc(al.nrows + 1, sizeof(bool));
    for (left = al.nrows; left > 0 && rc == 0;) {
        progress = false;
        for (i = 0; i < al.nrows && rc == 0; i++) {
            bool ready = true;
            if (written[i])
                continue;
            for (j = 0; j < deps.nrows && ready; j++) {
                size_t k;
                if (strcmp(db_cell(&deps, j, 0), db_cell(&al, i, 0)) != 0)
                    continue;
                for (k = 0; k < al.nrows; k++)
                    if (!written[k] && k != i && strcmp(db_cell(&al, k, 0), db_cell(&deps, j, 1)) == 0)
                        ready = false;
            }
            if (!ready)
                continue;
            rc = export_alias(db, db_cell(&al, i, 0), db_cell(&al, i, 1), db_cell(&al, i, 2), sep, &out);
            written[i] = progress = true;
            left--;
        }
        /* a cycle of aliases cannot be ordered: break it at the first one left */
        for (i = 0; !progress && i < al.nrows; i++)
            if (!written[i]) {
                rc = export_alias(db, db_cell(&al, i, 0), db_cell(&al, i, 1), db_cell(&al, i, 2),
                                  sep, &out);
                written[i] = progress = true;
                left--;
            }
    }
    free(written);
    db_result_free(&deps);
    db_result_free(&al);
    if (rc < 0)
        goto dberr;
    strbuf_free(&out);
    return 0;
dberr:
    fprintf(stderr, "modoctl: database: %s\n", db_error(db));
    strbuf_free(&out);
    return ADMIN_EDB;
}

int csv_command(const struct conf *conf, int argc, char **argv)
{
    static const struct option opts[] = {
        {"sepchar", required_argument, NULL, 's'},
        {"continue-if-exists", no_argument, NULL, 'c'},
        {"crypt-passwords", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct import im = {.conf = conf, .sep = ';'};
    bool import = strcmp(argv[0], "import") == 0;
    int opt, rc = 0;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (strlen(optarg) != 1 || optarg[0] == '"' || optarg[0] == '\n' || optarg[0] == '\r') {
                fprintf(stderr, "modoctl: --sepchar takes one character\n");
                return EXIT_USAGE;
            }
            im.sep = optarg[0];
            break;
        case 'c': im.continue_if_exists = true; break;
        case 'p': im.crypt = true; break;
        default:
            fprintf(stderr, "modoctl: %s: unknown option or missing value\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc || (!import && (optind + 1 != argc || im.continue_if_exists || im.crypt ||
                                       (strcmp(argv[optind], "domains") != 0 &&
                                        strcmp(argv[optind], "identities") != 0)))) {
        fprintf(stderr, "usage: modoctl import [--sepchar C] [--continue-if-exists]"
                        " [--crypt-passwords] FILE...\n"
                        "       modoctl export domains|identities [--sepchar C]\n");
        return EXIT_USAGE;
    }
    if ((im.a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    if (import) {
        for (; optind < argc && rc == 0; optind++)
            rc = import_file(&im, argv[optind]);
    } else {
        rc = strcmp(argv[optind], "domains") == 0 ? export_domains(admin_db(im.a), im.sep)
                                                  : export_identities(admin_db(im.a), im.sep);
    }
    close_admin(&im.a);
    return rc;
}
