/*
 * modoctl mailbox-ops run: perform the queued renames and deletions of mail homes
 * (spec modoboa.md §6), in table order, one transaction each.
 *
 * - Paths are handled by common/mailfs.c: relative to [admin] mail_root, walked with
 *   *at() calls that refuse symbolic links, so nothing outside the mail root is touched.
 * - rename: a missing old home means there is nothing to move (the operation goes);
 *   otherwise the home moves to the mailbox's current home, parents created (owned as the
 *   mail root when run as root). A failure keeps the operation queued (the mailbox stays
 *   held by the maintain map), is logged to core_log and opens an admin_alarm; the run
 *   exits 1. The next success closes the alarm.
 * - delete: the home is removed (only the mailbox's, never the domain's); a missing home
 *   is fine; a failure is logged and alarmed, and the operation goes, as in Modoboa.
 * - A lock (flock on the mail root) keeps two runs from overlapping: a second run says so
 *   and exits 0.
 */
#include "modoctl.h"

#include "admin.h"
#include "conf.h"
#include "db.h"
#include "mailfs.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct run {
    struct admin *a;
    const char *root;
    int root_fd;
    uid_t uid;
    gid_t gid;
    int failures;
};

/* Record an outcome in its own transaction. */
static int record(struct run *r, const char *op_id, bool drop, const char *level,
                  const char *message, const char *alarm_mailbox, const char *alarm_domain)
{
    int rc;

    if ((rc = admin_begin(r->a)) != 0)
        return rc;
    rc = admin_op_finish(r->a, op_id, drop, level, message);
    if (rc == 0 && strcmp(level, "CRITICAL") == 0)
        rc = admin_op_alarm(r->a, op_id, alarm_mailbox, alarm_domain, message);
    return admin_end(r->a, rc);
}

static int do_rename(struct run *r, const char *id, const char *old, const char *mbid,
                     const char *local, const char *domain, const char *domain_id)
{
    struct strbuf msg = STRBUF_INIT;
    const char *rel_old, *rel_new, *err = "";
    char *home;
    int rc, exists;

    if (local == NULL) { /* the mailbox went since (its deletion queued its own operation) */
        strbuf_printf(&msg, "Rename %s: the mailbox no longer exists", old);
        rc = record(r, id, true, "ERROR", msg.data, NULL, NULL);
        goto out;
    }
    home = admin_mail_home(r->a, local, domain);
    rel_old = mailfs_relative(r->root, old);
    rel_new = mailfs_relative(r->root, home);
    if (rel_old == NULL || rel_new == NULL) {
        strbuf_printf(&msg, "Renaming of %s failed (reason: %s is outside the mail root %s)", home,
                      rel_old ? home : old, r->root);
        r->failures++;
        rc = record(r, id, false, "CRITICAL", msg.data, mbid, domain_id);
    } else if (strcmp(rel_old, rel_new) == 0) {
        strbuf_printf(&msg, "Rename %s: already in place", old);
        rc = record(r, id, true, "INFO", msg.data, NULL, NULL);
    } else if ((exists = mailfs_exists(r->root_fd, rel_old, &err)) == 0) {
        strbuf_printf(&msg, "Rename %s -> %s: no such directory, nothing to move", old, home);
        rc = record(r, id, true, "ERROR", msg.data, NULL, NULL);
    } else if (exists < 0 || mailfs_rename(r->root_fd, rel_old, rel_new, r->uid, r->gid, &err) < 0) {
        strbuf_printf(&msg, "Renaming of %s failed (reason: %s: %s)", home, err, strerror(errno));
        r->failures++;
        rc = record(r, id, false, "CRITICAL", msg.data, mbid, domain_id);
    } else {
        strbuf_printf(&msg, "Rename %s -> %s succeed", old, home);
        rc = record(r, id, true, "INFO", msg.data, NULL, NULL);
    }
    free(home);
out:
    printf("%s\n", msg.data);
    strbuf_free(&msg);
    return rc;
}

static int do_delete(struct run *r, const char *id, const char *path)
{
    struct strbuf msg = STRBUF_INIT;
    const char *rel = mailfs_relative(r->root, path), *err = "";
    int rc, exists = 0;

    if (rel == NULL) {
        strbuf_printf(&msg, "Delete %s failed (reason: outside the mail root %s)", path, r->root);
        r->failures++;
        rc = record(r, id, true, "CRITICAL", msg.data, NULL, NULL);
    } else if ((exists = mailfs_exists(r->root_fd, rel, &err)) == 0) {
        strbuf_printf(&msg, "Delete %s: no such directory", path);
        rc = record(r, id, true, "ERROR", msg.data, NULL, NULL);
    } else if (exists < 0 || mailfs_remove(r->root_fd, rel, &err) < 0) {
        strbuf_printf(&msg, "Delete %s failed (reason: %s: %s)", path, err, strerror(errno));
        r->failures++;
        rc = record(r, id, true, "CRITICAL", msg.data, NULL, NULL);
    } else {
        strbuf_printf(&msg, "Delete %s succeed", path);
        rc = record(r, id, true, "INFO", msg.data, NULL, NULL);
    }
    printf("%s\n", msg.data);
    strbuf_free(&msg);
    return rc;
}

static int list(const struct conf *conf, bool json)
{
    struct admin *a;
    int rc;

    if ((a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    if ((rc = admin_list(a, "mailbox-operations", NULL, json ? ADMIN_JSON : ADMIN_TEXT, stdout)) != 0)
        fprintf(stderr, "modoctl: %s\n", admin_error(a));
    close_admin(&a);
    return rc;
}

int mailbox_ops_command(const struct conf *conf, int argc, char **argv)
{
    struct run r = {.root = conf_str(conf, "admin", "mail_root"), .uid = (uid_t)-1,
                    .gid = (gid_t)-1};
    struct db_result ops;
    struct stat st;
    size_t i;
    int rc = 0;

    if (argc >= 2 && strcmp(argv[1], "list") == 0 &&
        (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
        return list(conf, argc == 3);
    if (argc != 2 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: modoctl mailbox-ops run | list [--json]\n");
        return EXIT_USAGE;
    }
    if (!conf_bool(conf, "admin", "handle_mailboxes")) {
        printf("[admin] handle_mailboxes is off: nothing to do\n");
        return 0;
    }
    if (r.root[0] != '/') {
        fprintf(stderr, "modoctl: [admin] mail_root must be an absolute path\n");
        return 1;
    }
    r.root_fd = open(r.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.root_fd < 0 || fstat(r.root_fd, &st) < 0) {
        fprintf(stderr, "modoctl: [admin] mail_root %s: %s\n", r.root, strerror(errno));
        return 1;
    }
    if (flock(r.root_fd, LOCK_EX | LOCK_NB) < 0) {
        printf("another mailbox-ops run is in progress: nothing done\n");
        close(r.root_fd);
        return 0;
    }
    if (geteuid() == 0) { /* new directories belong to the mail user, as the root does */
        r.uid = st.st_uid;
        r.gid = st.st_gid;
    }
    if ((r.a = open_admin(conf)) == NULL) {
        close(r.root_fd);
        return EXIT_TEMPFAIL;
    }
    if ((rc = admin_ops_pending(r.a, &ops)) == 0) {
        for (i = 0; i < ops.nrows && rc == 0; i++) {
            const char *type = db_cell(&ops, i, 1);
            if (strcmp(type, "rename") == 0)
                rc = do_rename(&r, db_cell(&ops, i, 0), db_cell(&ops, i, 2), db_cell(&ops, i, 3),
                               db_cell(&ops, i, 4), db_cell(&ops, i, 5), db_cell(&ops, i, 6));
            else if (strcmp(type, "delete") == 0)
                rc = do_delete(&r, db_cell(&ops, i, 0), db_cell(&ops, i, 2));
            else
                printf("operation %s: unknown type \"%s\", left alone\n", db_cell(&ops, i, 0), type);
        }
        db_result_free(&ops);
    }
    if (rc != 0)
        fprintf(stderr, "modoctl: %s\n", admin_error(r.a));
    close_admin(&r.a);
    close(r.root_fd);
    return rc != 0 ? rc : r.failures ? 1 : 0;
}
