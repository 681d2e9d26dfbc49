/*
 * modoctl cleanup logs | inactive-accounts (spec modoboa.md §10).
 *
 * inactive-accounts selects what Modoboa's clean_inactive_accounts selects (active,
 * not super administrators, last login older than [admin] inactive_account_threshold
 * days; never-logged-in accounts are left alone), but disables them through the same
 * write as "account mod --disabled", so their single-recipient aliases are disabled too
 * (Modoboa's bulk update leaves them delivering). --delete deletes them instead.
 * The question "(y/N)" is asked only on a terminal, and not with --silent.
 */
#include "modoctl.h"

#include "admin.h"
#include "conf.h"
#include "db.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int inactive(struct admin *a, bool del, bool dry_run, bool silent, bool verbose)
{
    struct db_result r;
    char answer[16];
    size_t i;
    int rc;

    if ((rc = admin_inactive_accounts(a, &r)) != 0)
        return rc;
    if (r.nrows == 0) {
        printf("no inactive account\n");
        db_result_free(&r);
        return 0;
    }
    printf("%zu inactive account%s\n", r.nrows, r.nrows == 1 ? "" : "s");
    if (verbose || dry_run)
        for (i = 0; i < r.nrows; i++)
            printf("> %s\n    (last login: %s)\n", db_cell(&r, i, 0), db_cell(&r, i, 1));
    if (dry_run) {
        db_result_free(&r);
        return 0;
    }
    if (!silent && isatty(STDIN_FILENO)) {
        printf("Do you want to %s those accounts? (y/N) ", del ? "delete" : "disable");
        fflush(stdout);
        if (fgets(answer, sizeof(answer), stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y')) {
            db_result_free(&r);
            return 0;
        }
    }
    for (i = 0; i < r.nrows && rc == 0; i++) {
        struct admin_account acc = {.username = db_cell(&r, i, 0), .enabled = "no"};
        rc = del ? admin_account_del(a, &acc) : admin_account_mod(a, &acc);
    }
    if (rc == 0)
        printf("%zu account%s %s\n", r.nrows, r.nrows == 1 ? "" : "s", del ? "deleted" : "disabled");
    db_result_free(&r);
    return rc;
}

int cleanup_command(const struct conf *conf, int argc, char **argv)
{
    static const struct option opts[] = {
        {"delete", no_argument, NULL, 'd'}, {"dry-run", no_argument, NULL, 'n'},
        {"silent", no_argument, NULL, 's'}, {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    bool del = false, dry_run = false, silent = false, verbose = false;
    long long logs = 0, history = 0;
    struct admin *a;
    int opt, rc;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': del = true; break;
        case 'n': dry_run = true; break;
        case 's': silent = true; break;
        case 'v': verbose = true; break;
        default: optind = argc + 1; break;
        }
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "logs") != 0 && strcmp(argv[optind], "inactive-accounts") != 0) ||
        (strcmp(argv[optind], "logs") == 0 && (del || dry_run || verbose))) {
        fprintf(stderr, "usage: modoctl cleanup logs\n"
                        "       modoctl cleanup inactive-accounts [--delete] [--dry-run] [--silent]"
                        " [--verbose]\n");
        return EXIT_USAGE;
    }
    if ((a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    if ((rc = admin_begin(a)) == 0) {
        if (strcmp(argv[optind], "logs") == 0) {
            rc = admin_cleanup_logs(a, &logs, &history);
            if (rc == 0)
                printf("%lld log entries and %lld message history entries removed\n", logs, history);
        } else {
            rc = inactive(a, del, dry_run, silent, verbose);
        }
        rc = admin_end(a, rc);
    }
    if (rc != 0)
        fprintf(stderr, "modoctl: %s\n", admin_error(a));
    close_admin(&a);
    return rc;
}
