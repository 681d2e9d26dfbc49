/*
 * admin_list - listings and single objects, as aligned text or JSON; see admin.h.
 *
 * Column names carry a type suffix for JSON: ":b" boolean, ":i" integer,
 * ":l" comma-separated list (printed as an array); no suffix is a string.
 */
#include "addr.h"
#include "admin_impl.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECIPIENTS_PG                                                                              \
    "(SELECT string_agg(address, ',' ORDER BY address) FROM modoboa_admin_aliasrecipient"          \
    " WHERE alias_id = al.id)"
#define RECIPIENTS_LITE                                                                            \
    "(SELECT group_concat(address, ',') FROM (SELECT address FROM modoboa_admin_aliasrecipient"    \
    " WHERE alias_id = al.id ORDER BY address))"
#define SENDERS_PG                                                                                 \
    "(SELECT string_agg(address, ',' ORDER BY address) FROM admin_senderaddress"                   \
    " WHERE mailbox_id = m.id)"
#define SENDERS_LITE                                                                               \
    "(SELECT group_concat(address, ',') FROM (SELECT address FROM admin_senderaddress"             \
    " WHERE mailbox_id = m.id ORDER BY address))"

#define ROLE                                                                                       \
    "CASE WHEN u.is_superuser THEN 'SuperAdmins' ELSE COALESCE((SELECT g.name FROM"                \
    " core_user_groups ug JOIN auth_group g ON g.id = ug.group_id WHERE ug.user_id = u.id"         \
    " ORDER BY g.id LIMIT 1), '') END"

struct view {
    const char *what;
    const char *columns; /* "name:type,..." as printed */
    const char *select;  /* {R}: recipients aggregate, {S}: senders aggregate */
    const char *filter;  /* SQL condition on $1 for --domain / show */
    const char *key;     /* show: the condition on $1 */
    const char *order;
};

static const struct view views[] = {
    {"domains",
     "name,type,enabled:b,quota:i,default_mailbox_quota:i,message_limit:i,mailboxes:i,aliases:i,"
     "enable_dns_checks:b,enable_dkim:b,dkim_key_selector,dkim_key_length:i",
     "SELECT d.name, d.type, d.enabled, d.quota, d.default_mailbox_quota, d.message_limit,"
     " (SELECT count(*) FROM admin_mailbox m WHERE m.domain_id = d.id),"
     " (SELECT count(*) FROM admin_alias al WHERE al.domain_id = d.id AND NOT al.internal),"
     " d.enable_dns_checks, d.enable_dkim, d.dkim_key_selector, d.dkim_key_length"
     " FROM admin_domain d WHERE d.type = 'domain'",
     "d.name = $1", "d.name = $1", "d.name"},
    {"relaydomains", "name,enabled:b,next_hop,verify_recipients:b,mailboxes:i",
     "SELECT d.name, d.enabled, t.next_hop,"
     " EXISTS (SELECT 1 FROM relaydomains_recipientaccess ra WHERE ra.pattern = d.name),"
     " (SELECT count(*) FROM admin_mailbox m WHERE m.domain_id = d.id)"
     " FROM admin_domain d LEFT JOIN transport_transport t ON t.id = d.transport_id"
     " WHERE d.type = 'relaydomain'",
     "d.name = $1", "d.name = $1", "d.name"},
    {"domainaliases", "name,target,enabled:b",
     "SELECT da.name, d.name, da.enabled FROM admin_domainalias da"
     " JOIN admin_domain d ON d.id = da.target_id WHERE 1 = 1",
     "d.name = $1", "da.name = $1", "da.name"},
    {"accounts",
     "username,role,enabled:b,email,first_name,last_name,quota:i,use_domain_quota:b,"
     "message_limit:i,send_only:b,master_user:b,last_login,sender_addresses:l",
     "SELECT u.username, " ROLE ", u.is_active, u.email, u.first_name, u.last_name, m.quota,"
     " m.use_domain_quota, m.message_limit, m.is_send_only, u.master_user, u.last_login, {S}"
     " FROM core_user u LEFT JOIN admin_mailbox m ON m.user_id = u.id"
     " LEFT JOIN admin_domain d ON d.id = m.domain_id WHERE 1 = 1",
     "d.name = $1", "u.username = $1", "u.username"},
    {"aliases", "address,enabled:b,kind,expire_at,description,recipients:l",
     "SELECT al.address, al.enabled, CASE WHEN al.address LIKE '@%' THEN 'catchall'"
     " WHEN EXISTS (SELECT 1 FROM admin_mailbox m JOIN admin_domain md ON md.id = m.domain_id"
     " WHERE m.address || '@' || md.name = al.address) THEN 'forward'"
     " WHEN (SELECT count(*) FROM modoboa_admin_aliasrecipient WHERE alias_id = al.id) > 1"
     " THEN 'dlist' ELSE 'alias' END, al.expire_at, al.description, {R}"
     " FROM admin_alias al LEFT JOIN admin_domain d ON d.id = al.domain_id WHERE NOT al.internal",
     "d.name = $1", "al.address = lower($1)", "al.address"},
    {"sender-addresses", "account,address",
     "SELECT u.username, sa.address FROM admin_senderaddress sa"
     " JOIN admin_mailbox m ON m.id = sa.mailbox_id JOIN core_user u ON u.id = m.user_id"
     " JOIN admin_domain d ON d.id = m.domain_id WHERE 1 = 1",
     "d.name = $1", "u.username = lower($1)", "u.username, sa.address"},
    {"mailbox-operations", "id:i,type,argument,mailbox",
     "SELECT o.id, o.type, o.argument, m.address || '@' || d.name FROM admin_mailboxoperation o"
     " LEFT JOIN admin_mailbox m ON m.id = o.mailbox_id LEFT JOIN admin_domain d"
     " ON d.id = m.domain_id WHERE 1 = 1",
     "d.name = $1", "o.id = $1", "o.id"},
};

static const struct view *find_view(const char *what)
{
    static const struct {
        const char *alias, *name;
    } singular[] = {{"domain", "domains"},           {"relaydomain", "relaydomains"},
                    {"domainalias", "domainaliases"}, {"account", "accounts"},
                    {"alias", "aliases"},             {"sender-address", "sender-addresses"}};
    size_t i;

    for (i = 0; i < sizeof(singular) / sizeof(singular[0]); i++)
        if (strcmp(what, singular[i].alias) == 0)
            what = singular[i].name;
    for (i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (strcmp(views[i].what, what) == 0)
            return &views[i];
    return NULL;
}

struct column {
    char name[40];
    char type; /* 's', 'b', 'i', 'l' */
};

static size_t parse_columns(const char *spec, struct column *cols, size_t max)
{
    size_t n = 0;

    while (*spec && n < max) {
        size_t len = strcspn(spec, ",");
        const char *colon = memchr(spec, ':', len);
        size_t nlen = colon ? (size_t)(colon - spec) : len;
        snprintf(cols[n].name, sizeof(cols[n].name), "%.*s", (int)nlen, spec);
        cols[n].type = colon ? colon[1] : 's';
        n++;
        spec += len + (spec[len] == ',');
    }
    return n;
}

static void json_string(FILE *out, const char *s, size_t len)
{
    size_t i;

    fputc('"', out);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_value(FILE *out, const struct column *col, const char *v)
{
    if (col->type == 'l') {
        const char *p = v ? v : "";
        fputc('[', out);
        while (*p) {
            size_t len = strcspn(p, ",");
            json_string(out, p, len);
            p += len;
            if (*p == ',' && *++p)
                fputs(", ", out);
        }
        fputc(']', out);
    } else if (v == NULL) {
        fputs("null", out);
    } else if (col->type == 'b') {
        fputs(admin_cell_true(v) ? "true" : "false", out);
    } else if (col->type == 'i') {
        fputs(v, out);
    } else {
        json_string(out, v, strlen(v));
    }
}

static const char *text_value(const struct column *col, const char *v)
{
    if (col->type == 'b' && v != NULL)
        return admin_cell_true(v) ? "yes" : "no";
    if (v == NULL || v[0] == '\0')
        return "-";
    return v;
}

static int query(struct admin *a, const struct view *v, const char *cond, const char *arg,
                 struct db_result *r)
{
    struct strbuf sql = STRBUF_INIT;
    bool pg = db_is_pgsql(a->db);
    int rc;

    const char *p;

    for (p = v->select; *p; p++) {
        if (strncmp(p, "{R}", 3) == 0 || strncmp(p, "{S}", 3) == 0) {
            strbuf_puts(&sql, p[1] == 'R' ? (pg ? RECIPIENTS_PG : RECIPIENTS_LITE)
                                          : (pg ? SENDERS_PG : SENDERS_LITE));
            p += 2;
        } else {
            strbuf_putc(&sql, *p);
        }
    }
    if (cond != NULL)
        strbuf_printf(&sql, " AND %s", cond);
    strbuf_printf(&sql, " ORDER BY %s", v->order);
    rc = cond ? admin_exec(a, r, sql.data, DB_ARGS(arg)) : admin_exec(a, r, sql.data, 0, NULL);
    strbuf_free(&sql);
    return rc < 0 ? ADMIN_EDB : 0;
}

/* Rows as aligned text (a header, "-" for empty) or a JSON array of objects. */
static void print_rows(const struct column *cols, size_t ncols, const struct db_result *r,
                       enum admin_format f, FILE *out)
{
    size_t width[16] = {0}, i, j;

    if (f == ADMIN_JSON) {
        fputs("[", out);
        for (i = 0; i < r->nrows; i++) {
            fputs(i ? ",\n {" : "\n {", out);
            for (j = 0; j < ncols; j++) {
                fprintf(out, "%s\"%s\": ", j ? ", " : "", cols[j].name);
                json_value(out, &cols[j], db_cell(r, i, j));
            }
            fputs("}", out);
        }
        fputs(r->nrows ? "\n]\n" : "]\n", out);
        return;
    }
    for (j = 0; j < ncols; j++)
        width[j] = strlen(cols[j].name);
    for (i = 0; i < r->nrows; i++)
        for (j = 0; j < ncols; j++)
            if (strlen(text_value(&cols[j], db_cell(r, i, j))) > width[j])
                width[j] = strlen(text_value(&cols[j], db_cell(r, i, j)));
    for (j = 0; j < ncols; j++)
        fprintf(out, "%-*s%s", j + 1 < ncols ? (int)width[j] : 0, cols[j].name,
                j + 1 < ncols ? "  " : "\n");
    for (i = 0; i < r->nrows; i++)
        for (j = 0; j < ncols; j++)
            fprintf(out, "%-*s%s", j + 1 < ncols ? (int)width[j] : 0,
                    text_value(&cols[j], db_cell(r, i, j)), j + 1 < ncols ? "  " : "\n");
}

int admin_list(struct admin *a, const char *what, const char *filter, enum admin_format f,
               FILE *out)
{
    const struct view *v = find_view(what);
    struct column cols[16];
    size_t ncols;
    struct db_result r;
    int rc;

    if (v == NULL)
        return admin_fail(a, ADMIN_EINVAL, "cannot list \"%s\"", what);
    ncols = parse_columns(v->columns, cols, 16);
    if ((rc = query(a, v, filter ? v->filter : NULL, filter, &r)) != 0)
        return rc;
    print_rows(cols, ncols, &r, f, out);
    db_result_free(&r);
    return 0;
}

/* '*' as SQL's '%' */
static const char *like_pattern(const char *v, char *buf, size_t size)
{
    size_t i;

    snprintf(buf, size, "%s", v);
    for (i = 0; buf[i]; i++)
        if (buf[i] == '*')
            buf[i] = '%';
    return buf;
}

/* The message history (maillog_maillog and modo-logd's reasons), newest first. */
int admin_history(struct admin *a, const struct admin_history_query *q, enum admin_format f,
                  FILE *out)
{
    static const char columns[] =
        "date,queue_id,status,sender,rcpt,original_rcpt,size:i,from_domain,to_domain,reason";
    struct column cols[16];
    struct strbuf sql = STRBUF_INIT;
    const char *args[8];
    char since[40], until[40], pattern[2][300];
    bool pg = db_is_pgsql(a->db);
    size_t ncols = parse_columns(columns, cols, 16), n = 0;
    struct db_result r;
    int rc;

    strbuf_printf(&sql,
                  "SELECT %s, m.queue_id, m.status, m.sender, m.rcpt, m.original_rcpt, m.size,"
                  " f.name, t.name, r.reason FROM maillog_maillog m"
                  " LEFT JOIN admin_domain f ON f.id = m.from_domain_id"
                  " LEFT JOIN admin_domain t ON t.id = m.to_domain_id"
                  " LEFT JOIN modo_maillog_reason r ON r.maillog_id = m.id WHERE 1 = 1",
                  pg ? "to_char(m.date, 'YYYY-MM-DD HH24:MI:SS')" : "substr(m.date, 1, 19)");
    /* an address with '*' is a pattern (LIKE), else compared whole; both without case */
    if (q->sender != NULL) {
        args[n++] = like_pattern(q->sender, pattern[0], sizeof(pattern[0]));
        strbuf_printf(&sql, " AND lower(m.sender) %s lower($%zu)",
                      strchr(q->sender, '*') ? "LIKE" : "=", n);
    }
    if (q->rcpt != NULL) {
        const char *op = strchr(q->rcpt, '*') ? "LIKE" : "=";
        args[n++] = like_pattern(q->rcpt, pattern[1], sizeof(pattern[1]));
        strbuf_printf(&sql, " AND (lower(m.rcpt) %s lower($%zu) OR lower(m.original_rcpt) %s"
                            " lower($%zu))", op, n, op, n);
    }
    if (q->status != NULL) {
        args[n++] = q->status;
        strbuf_printf(&sql, " AND m.status = $%zu", n);
    }
    if (q->queue_id != NULL) {
        args[n++] = q->queue_id;
        strbuf_printf(&sql, " AND m.queue_id = $%zu", n);
    }
    if (q->domain != NULL) {
        args[n++] = q->domain;
        strbuf_printf(&sql, " AND (f.name = lower($%zu) OR t.name = lower($%zu))", n, n);
    }
    if (q->since > 0) {
        args[n++] = db_time(a->db, q->since, since, sizeof(since));
        strbuf_printf(&sql, " AND m.date >= $%zu", n);
    }
    if (q->until > 0) {
        args[n++] = db_time(a->db, q->until, until, sizeof(until));
        strbuf_printf(&sql, " AND m.date < $%zu", n);
    }
    strbuf_puts(&sql, " ORDER BY m.date DESC, m.id DESC");
    if (q->limit > 0)
        strbuf_printf(&sql, " LIMIT %ld", q->limit);
    rc = admin_exec(a, &r, sql.data, n, args);
    strbuf_free(&sql);
    if (rc < 0) {
        db_result_free(&r);
        return ADMIN_EDB;
    }
    print_rows(cols, ncols, &r, f, out);
    db_result_free(&r);
    return 0;
}

/*
 * The other spelling of a name (a domain, or an address's domain): U-labels for one in
 * A-labels ("xn--"), A-labels for one in UTF-8. False when there is none.
 */
static bool other_spelling(const char *name, char *out, size_t size)
{
    const char *at = strrchr(name, '@'), *dom = at ? at + 1 : name, *err, *p;
    char conv[ADDR_MAX_DOMAIN + 1];
    bool utf8 = false;
    size_t llen = (size_t)(dom - name);

    for (p = dom; *p; p++)
        if ((unsigned char)*p >= 0x80)
            utf8 = true;
    if (utf8) {
        if (addr_fold_domain(dom, strlen(dom), conv, &err) < 0)
            return false;
    } else if (addr_domain_unicode(dom, conv, sizeof(conv)) != 1) {
        return false;
    }
    if (llen + strlen(conv) + 1 > size)
        return false;
    memcpy(out, name, llen);
    strcpy(out + llen, conv);
    return strcmp(out, name) != 0;
}

int admin_show(struct admin *a, const char *what, const char *name, enum admin_format f,
               FILE *out)
{
    const struct view *v = find_view(what);
    struct column cols[16];
    struct db_result r;
    size_t ncols, j;
    int rc;

    if (v == NULL)
        return admin_fail(a, ADMIN_EINVAL, "cannot show \"%s\"", what);
    ncols = parse_columns(v->columns, cols, 16);
    if ((rc = query(a, v, v->key, name, &r)) != 0)
        return rc;
    if (r.nrows == 0) {
        /* an internationalized domain is stored in one spelling and may be typed in the other */
        char other[ADDR_MAX + 1];
        db_result_free(&r);
        if (other_spelling(name, other, sizeof(other)) && (rc = query(a, v, v->key, other, &r)) != 0)
            return rc;
        if (r.nrows == 0) {
            db_result_free(&r);
            return admin_fail(a, ADMIN_ENOENT, "%s %s: not found", what, name);
        }
    }
    if (f == ADMIN_JSON) {
        fputs("{", out);
        for (j = 0; j < ncols; j++) {
            fprintf(out, "%s\"%s\": ", j ? ", " : "", cols[j].name);
            json_value(out, &cols[j], db_cell(&r, 0, j));
        }
        fputs("}\n", out);
    } else {
        for (j = 0; j < ncols; j++)
            fprintf(out, "%-22s %s\n", cols[j].name, text_value(&cols[j], db_cell(&r, 0, j)));
    }
    db_result_free(&r);
    return 0;
}
