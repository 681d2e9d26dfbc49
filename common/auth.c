/*
 * auth - passdb and userdb answers by Modoboa's rules; see auth.h.
 */
#include "auth.h"

#include "conf.h"
#include "dict_proto.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[AUTH__COUNT] = {"passdb", "userdb", "master"};

int auth_parse_key(const char *key, struct auth_key *k, const char **error_r)
{
    const char *p, *slash;
    size_t i, n;

    if (strncmp(key, "shared/", 7) != 0)
        return 0;
    p = key + 7;
    k->format = AUTH_JSON;
    if (strncmp(p, "fields/", 7) == 0) {
        k->format = AUTH_FIELDS;
        p += 7;
    }
    for (i = 0; i < AUTH__COUNT; i++) {
        n = strlen(kind_names[i]);
        if (strncmp(p, kind_names[i], n) == 0 && p[n] == '/')
            break;
    }
    if (i == AUTH__COUNT)
        return k->format == AUTH_FIELDS ? (*error_r = "unknown auth key", -1) : 0;
    k->kind = (enum auth_kind)i;
    p += n + 1;
    k->service[0] = '\0';
    slash = strchr(p, '/');
    if (slash != NULL) {
        n = (size_t)(slash - p);
        if (n >= sizeof(k->service)) {
            *error_r = "service name too long";
            return -1;
        }
        memcpy(k->service, p, n);
        k->service[n] = '\0';
        p = slash + 1;
    }
    n = strlen(p);
    if (n == 0 || n >= sizeof(k->user) || strchr(p, '/') != NULL) {
        *error_r = n == 0 ? "no user in the key" : "malformed user in the key";
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c == 0x7f) {
            *error_r = "control character or space in the user";
            return -1;
        }
        k->user[i] = (char)tolower(c);
    }
    k->user[n] = '\0';
    for (i = 0; k->service[i] != '\0'; i++)
        k->service[i] = (char)tolower((unsigned char)k->service[i]);
    return 1;
}

int auth_settings_load(struct auth_settings *s, const struct conf *conf, char **error_r)
{
    const char *root = conf_str(conf, "admin", "mail_root");
    const char *home = conf_str(conf, "admin", "mail_home");
    const char *user = conf_str(conf, "admin", "mail_user");
    struct passwd *pw;

    if (strlen(root) + strlen(home) + 2 > sizeof(s->home)) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%s: [admin] mail_root and mail_home: longer than %zu bytes",
                      conf_origin(conf, "admin", "mail_home"), sizeof(s->home) - 2);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    /* Dovecot's mail_home is absolute: mail_root/mail_home, unless mail_home already is */
    s->home[0] = '\0';
    if (home[0] != '/') {
        strcat(s->home, root);
        strcat(s->home, "/");
    }
    strcat(s->home, home);
    s->uid[0] = s->gid[0] = '\0';
    if (user[0] == '\0')
        return 0;
    pw = getpwnam(user);
    if (pw == NULL) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%s: [admin] mail_user: no such user \"%s\" (create it, or leave"
                           " mail_user empty to give Dovecot no uid/gid)",
                      conf_origin(conf, "admin", "mail_user"), user);
        *error_r = strbuf_steal(&sb);
        return -1;
    }
    snprintf(s->uid, sizeof(s->uid), "%lu", (unsigned long)pw->pw_uid);
    snprintf(s->gid, sizeof(s->gid), "%lu", (unsigned long)pw->pw_gid);
    return 0;
}

enum store_question auth_question(enum auth_kind kind)
{
    return kind == AUTH_PASSDB   ? STORE_Q_PASSDB
           : kind == AUTH_USERDB ? STORE_Q_USERDB
                                 : STORE_Q_MASTER_PASSDB;
}

bool auth_service_allowed(enum auth_kind kind, bool send_only, const char *service)
{
    if (!send_only || kind == AUTH_MASTER)
        return true;
    if (strcmp(service, "imap") == 0 || strcmp(service, "pop3") == 0)
        return false;
    return !(kind == AUTH_USERDB && strcmp(service, "lmtp") == 0);
}

void auth_home(struct strbuf *out, const char *tmpl, const char *user)
{
    const char *at = strrchr(user, '@');
    size_t llen = at ? (size_t)(at - user) : strlen(user);
    const char *domain = at ? at + 1 : "";
    const char *p;

    for (p = tmpl; *p != '\0'; p++) {
        if (*p != '%' || p[1] == '\0') {
            strbuf_putc(out, *p);
            continue;
        }
        p++;
        if (*p == 'L' && p[1] != '\0') /* %Lx: already lower case */
            p++;
        switch (*p) {
        case 'u': strbuf_puts(out, user); break;
        case 'n': strbuf_append(out, user, llen); break;
        case 'd': strbuf_puts(out, domain); break;
        case '%': strbuf_putc(out, '%'); break;
        default:
            strbuf_putc(out, '%');
            strbuf_putc(out, *p);
            break;
        }
    }
}

void auth_json_string(struct strbuf *out, const char *s)
{
    const char *run = s; /* [run, s) is copied as it is */

    strbuf_putc(out, '"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        strbuf_append(out, run, (size_t)(s - run));
        if (c < 0x20)
            strbuf_printf(out, "\\u%04x", c);
        else {
            strbuf_putc(out, '\\');
            strbuf_putc(out, (char)c);
        }
        run = s + 1;
    }
    strbuf_append(out, run, (size_t)(s - run));
    strbuf_putc(out, '"');
}

/* One field of the answer, in either format. */
struct emitter {
    struct strbuf *out;
    enum auth_format format;
    size_t n;
};

static void emit(struct emitter *e, const char *name, const char *value, bool number)
{
    if (e->format == AUTH_JSON) {
        strbuf_puts(e->out, e->n == 0 ? "{" : ",");
        auth_json_string(e->out, name);
        strbuf_putc(e->out, ':');
        if (number)
            strbuf_puts(e->out, value);
        else
            auth_json_string(e->out, value);
    } else {
        /* each value escaped as Dovecot escapes fields, so a TAB in a password is kept */
        if (e->n > 0)
            strbuf_putc(e->out, '\t');
        strbuf_printf(e->out, "%s=", name);
        dict_escape(e->out, value, strlen(value));
    }
    e->n++;
}

static void emit_userdb(struct emitter *e, const struct auth_settings *s, const char *prefix,
                        const char *user, const char *quota)
{
    struct strbuf v = STRBUF_INIT, name = STRBUF_INIT;

    auth_home(&v, s->home, user);
    strbuf_printf(&name, "%shome", prefix);
    emit(e, name.data, v.data, false);
    if (s->uid[0] != '\0') {
        strbuf_reset(&name);
        strbuf_printf(&name, "%suid", prefix);
        emit(e, name.data, s->uid, true);
    }
    if (s->gid[0] != '\0') {
        strbuf_reset(&name);
        strbuf_printf(&name, "%sgid", prefix);
        emit(e, name.data, s->gid, true);
    }
    if (quota != NULL && strtoll(quota, NULL, 10) > 0) {
        strbuf_reset(&v);
        strbuf_reset(&name);
        strbuf_printf(&v, "*:bytes=%lldM", strtoll(quota, NULL, 10));
        strbuf_printf(&name, "%squota_rule", prefix);
        emit(e, name.data, v.data, false);
    }
    strbuf_free(&v);
    strbuf_free(&name);
}

static bool cell_true(const char *c)
{
    return c != NULL && (strcmp(c, "1") == 0 || strcmp(c, "t") == 0 || strcmp(c, "true") == 0);
}

int auth_answer(const struct auth_settings *s, const struct auth_key *k,
                const struct store_answer *ans, struct strbuf *out)
{
    struct emitter e = {out, k->format, 0};
    const char *const *row;

    if (ans->status < 0)
        return -1;
    if (ans->nrows == 0)
        return 0;
    row = ans->cells;
    switch (k->kind) {
    case AUTH_PASSDB:
        /* email, password, quota, is_send_only */
        if (ans->ncols < 4 || !auth_service_allowed(k->kind, cell_true(row[3]), k->service))
            return 0;
        emit(&e, "user", row[0] ? row[0] : k->user, false);
        emit(&e, "password", row[1] ? row[1] : "", false);
        emit_userdb(&e, s, "userdb_", row[0] ? row[0] : k->user, row[2]);
        break;
    case AUTH_USERDB:
        /* quota, is_send_only */
        if (ans->ncols < 2 || !auth_service_allowed(k->kind, cell_true(row[1]), k->service))
            return 0;
        if (k->format == AUTH_FIELDS)
            emit(&e, "user", k->user, false);
        emit_userdb(&e, s, "", k->user, row[0]);
        break;
    default:
        /* email, password */
        if (ans->ncols < 2)
            return 0;
        emit(&e, "user", row[0] ? row[0] : k->user, false);
        emit(&e, "password", row[1] ? row[1] : "", false);
        break;
    }
    if (k->format == AUTH_JSON)
        strbuf_putc(out, '}');
    return 1;
}
