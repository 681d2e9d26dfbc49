/*
 * mailfs: renames and removals of mail homes that never leave the mail root.
 */
#include "tap.h"

#include "mailfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[256];

static void path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", top, rel);
}

static void mkdirs(const char *rel)
{
    char p[512], *s;

    path(p, sizeof(p), rel);
    for (s = p + strlen(top) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0700);
        *s = '/';
    }
    mkdir(p, 0700);
}

static void touch(const char *rel)
{
    char p[512];
    FILE *fp;

    path(p, sizeof(p), rel);
    fp = fopen(p, "w");
    if (fp)
        fclose(fp);
}

static int exists(const char *rel)
{
    char p[512];
    struct stat st;

    path(p, sizeof(p), rel);
    return lstat(p, &st) == 0;
}

int main(void)
{
    const char *err = "";
    char p[512], q[512];
    int root;

    snprintf(top, sizeof(top), "%s/mailfs.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(top) == NULL)
        return 1;
    mkdirs("root/a.test/alice/Maildir/cur");
    touch("root/a.test/alice/Maildir/cur/1");
    mkdirs("outside/secret");
    touch("outside/secret/keep");
    path(p, sizeof(p), "root");
    root = open(p, O_RDONLY | O_DIRECTORY);

    is_str(mailfs_relative("/srv/vmail", "/srv/vmail/a.test/alice"), "a.test/alice", "relative path");
    is_str(mailfs_relative("/srv/vmail/", "/srv/vmail/a.test/alice"), "a.test/alice",
           "relative path, root with a slash");
    ok(mailfs_relative("/srv/vmail", "/srv/vmailx/a") == NULL, "a sibling is not under the root");
    ok(mailfs_relative("/srv/vmail", "/srv/vmail") == NULL, "the root itself is not a home");
    ok(mailfs_relative("/srv/vmail", "/etc/passwd") == NULL, "elsewhere is not under the root");

    ok(mailfs_exists(root, "a.test/alice", &err) == 1, "exists");
    ok(mailfs_exists(root, "a.test/bob", &err) == 0, "does not exist");
    ok(mailfs_exists(root, "a.test/../../outside", &err) == -1, "\"..\" refused");

    /* rename, creating the parent */
    ok(mailfs_rename(root, "a.test/alice", "b.test/alicia", (uid_t)-1, (gid_t)-1, &err) == 0,
       "rename into a new domain directory (%s)", err);
    ok(exists("root/b.test/alicia/Maildir/cur/1") && !exists("root/a.test/alice"), "moved");
    mkdirs("root/b.test/taken");
    ok(mailfs_rename(root, "b.test/alicia", "b.test/taken", (uid_t)-1, (gid_t)-1, &err) == -1 &&
           errno == EEXIST,
       "the target exists: refused (%s)", err);
    ok(mailfs_rename(root, "b.test/nobody", "b.test/x", (uid_t)-1, (gid_t)-1, &err) == -1 &&
           errno == ENOENT,
       "no old home: ENOENT");

    /* symbolic links out of the root */
    path(p, sizeof(p), "outside");
    path(q, sizeof(q), "root/evil.test");
    ok(symlink(p, q) == 0, "a link root/evil.test -> outside");
    ok(mailfs_rename(root, "b.test/alicia", "evil.test/alicia", (uid_t)-1, (gid_t)-1, &err) == -1,
       "rename through a link refused (%s)", err);
    ok(exists("root/b.test/alicia") && !exists("outside/alicia"), "nothing moved out");
    ok(mailfs_remove(root, "evil.test/secret", &err) == -1 && exists("outside/secret/keep"),
       "remove through a link refused (%s)", err);
    path(q, sizeof(q), "root/b.test/alicia/Maildir/link");
    ok(symlink(p, q) == 0, "a link inside the home to what is outside");
    ok(mailfs_remove(root, "b.test/alicia", &err) == 0, "remove a home holding a link (%s)", err);
    ok(!exists("root/b.test/alicia") && exists("outside/secret/keep"),
       "the home is gone, what the link pointed at is not");
    ok(exists("root/b.test"), "the domain directory stays");
    ok(mailfs_remove(root, "b.test/alicia", &err) == -1 && errno == ENOENT, "remove: gone already");
    ok(mailfs_remove(root, "evil.test", &err) == 0 && !exists("root/evil.test") &&
           exists("outside/secret/keep"),
       "a link in place of a home is unlinked, not followed");

    close(root);
    snprintf(p, sizeof(p), "rm -rf '%s'", top);
    if (system(p) != 0)
        diag("cannot clean %s", top);
    return done_testing();
}
