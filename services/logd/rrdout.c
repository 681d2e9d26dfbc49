/*
 * rrdout - Modoboa's RRD files written with librrd; see rrdout.h.
 */
#include "rrdout.h"

#include "namemap.h"
#include "strbuf.h"

#include <errno.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STEP 60
#define ROWS 198
/* the longest archive's span: older zeros would be consolidated away at once */
#define SPAN ((time_t)3360 * ROWS * STEP)
#define CHUNK 1024

struct rrdout {
    char *rootdir;
    bool greylist;
    struct namemap *last; /* path -> time_t of the last update */
};

struct rrdout *rrdout_new(const char *rootdir, bool greylist)
{
    struct rrdout *r = xcalloc(1, sizeof(*r));

    r->rootdir = xstrdup(rootdir);
    r->greylist = greylist;
    r->last = namemap_new(sizeof(time_t));
    return r;
}

void rrdout_free(struct rrdout **rp)
{
    if (*rp == NULL)
        return;
    namemap_free(&(*rp)->last);
    free((*rp)->rootdir);
    free(*rp);
    *rp = NULL;
}

/* The file of a domain (malloc'd); NULL if the name cannot be a file name. */
static char *rrdout_path(const struct rrdout *r, const char *domain)
{
    struct strbuf sb = STRBUF_INIT;

    if (domain[0] == '\0' || domain[0] == '.' || strchr(domain, '/') != NULL ||
        strlen(domain) > 255)
        return NULL;
    strbuf_printf(&sb, "%s/%s.rrd", r->rootdir, domain);
    return strbuf_steal(&sb);
}

static int fail(char **error_r, const char *what, const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    const char *why = rrd_get_error();

    strbuf_printf(&sb, "%s %s: %s", what, path, why && why[0] ? why : "failed");
    rrd_clear_error();
    *error_r = strbuf_steal(&sb);
    return -1;
}

static int create(const struct rrdout *r, const char *path, time_t start, char **error_r)
{
    static const int steps[] = {8, 56, 280, 3360};
    const char *argv[MAILLOG_C__COUNT + 8];
    char rra[8][40], ds[MAILLOG_C__COUNT][48];
    int argc = 0, i, cf, nds = r->greylist ? MAILLOG_C__COUNT : MAILLOG_C_GREYLIST;

    for (i = 0; i < nds; i++) {
        snprintf(ds[i], sizeof(ds[i]), "DS:%s:ABSOLUTE:%d:0:U", maillog_counter_names[i],
                 STEP * 2);
        argv[argc++] = ds[i];
    }
    for (cf = 0; cf < 2; cf++)
        for (i = 0; i < 4; i++) {
            snprintf(rra[cf * 4 + i], sizeof(rra[0]), "RRA:%s:0.5:%d:%d",
                     cf ? "MAX" : "AVERAGE", steps[i], ROWS);
            argv[argc++] = rra[cf * 4 + i];
        }
    rrd_clear_error();
    if (rrd_create_r(path, STEP, start, argc, argv) != 0)
        return fail(error_r, "cannot create", path);
    return 0;
}

/* greylist counted on a file made without it: the data source is added (rrdtool tune) */
static int add_greylist(const char *path, char **error_r)
{
    char ds[64];
    char *argv[] = {"tune", (char *)path, ds, NULL};

    snprintf(ds, sizeof(ds), "DS:greylist:ABSOLUTE:%d:0:U", STEP * 2);
    rrd_clear_error();
    optind = 0;
    if (rrd_tune(3, argv) != 0)
        return fail(error_r, "cannot add the greylist data source to", path);
    return 0;
}

static int update(const struct rrdout *r, const char *path, const char **argv, int argc,
                  char **error_r)
{
    char tpl[128];
    int i, n = r->greylist ? MAILLOG_C__COUNT : MAILLOG_C_GREYLIST;

    tpl[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0)
            strcat(tpl, ":");
        strcat(tpl, maillog_counter_names[i]);
    }
    rrd_clear_error();
    if (rrd_update_r(path, tpl, argc, argv) == 0)
        return 0;
    if (r->greylist && strstr(rrd_get_error(), "unknown DS name") != NULL) {
        if (add_greylist(path, error_r) < 0)
            return -1;
        rrd_clear_error();
        if (rrd_update_r(path, tpl, argc, argv) == 0)
            return 0;
    }
    return fail(error_r, "cannot update", path);
}

int rrdout_write_series(struct rrdout *r, const char *domain, const time_t *minutes,
                        const long long (*v)[MAILLOG_C__COUNT], size_t nminutes, char **error_r)
{
    char *path = rrdout_path(r, domain);
    time_t *last, t, end;
    const char *argv[CHUNK];
    static char values[CHUNK][MAILLOG_C__COUNT * 21 + 24]; /* one thread */
    char zeros[MAILLOG_C__COUNT * 2 + 1];
    struct stat st;
    int i, n = r->greylist ? MAILLOG_C__COUNT : MAILLOG_C_GREYLIST, argc = 0, rc = 0;
    size_t len, k = 0;

    if (path == NULL) {
        *error_r = xstrdup("not a file name");
        return -1;
    }
    if (nminutes == 0) {
        free(path);
        return 0;
    }
    if ((last = namemap_get(r->last, path)) == NULL) {
        if (stat(path, &st) < 0) {
            if (errno != ENOENT) {
                struct strbuf sb = STRBUF_INIT;
                strbuf_printf(&sb, "cannot read %s: %s", path, strerror(errno));
                *error_r = strbuf_steal(&sb);
                free(path);
                return -1;
            }
            if (create(r, path, minutes[0] - STEP, error_r) < 0) {
                free(path);
                return -1;
            }
            t = minutes[0] - STEP;
        } else {
            rrd_clear_error();
            if ((t = rrd_last_r(path)) < 0) {
                rc = fail(error_r, "cannot read", path);
                free(path);
                return rc;
            }
        }
        last = namemap_put(r->last, path);
        *last = t;
    }
    /* minutes already stored are skipped (Modoboa's way) */
    while (k < nminutes && minutes[k] <= *last)
        k++;
    if (k == nminutes) {
        free(path);
        return 0;
    }
    /* the minutes since the last update and between those given, as zeros (Modoboa's way) */
    for (i = 0, len = 0; i < n; i++)
        len += (size_t)snprintf(zeros + len, sizeof(zeros) - len, i ? ":0" : "0");
    t = *last + STEP;
    if (minutes[k] - t > SPAN)
        t = minutes[k] - SPAN;
    end = minutes[nminutes - 1];
    for (; t <= end && rc >= 0; t += STEP) {
        while (k < nminutes && minutes[k] < t)
            k++; /* not on a step (never from tally) or twice: skipped */
        len = (size_t)snprintf(values[argc], sizeof(values[0]), "%lld:", (long long)t);
        if (k < nminutes && minutes[k] == t) {
            for (i = 0; i < n; i++)
                len += (size_t)snprintf(values[argc] + len, sizeof(values[0]) - len,
                                        i ? ":%lld" : "%lld", v[k][i] > 0 ? v[k][i] : 0);
            rc++;
        } else {
            snprintf(values[argc] + len, sizeof(values[0]) - len, "%s", zeros);
        }
        argv[argc] = values[argc];
        if (++argc == CHUNK || t + STEP > end) {
            if (update(r, path, argv, argc, error_r) < 0)
                rc = -1;
            argc = 0;
        }
    }
    /* an error leaves the file where librrd stopped: read its last update again next time */
    if (rc < 0)
        namemap_del(r->last, path);
    else
        *last = end;
    free(path);
    return rc;
}
