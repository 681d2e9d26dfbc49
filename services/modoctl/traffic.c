/*
 * modoctl stats (the traffic modo-logd records) and modoctl history.
 *
 *   modoctl stats [--domain D] [--period day|week|month|year] [--rows] [--json]
 *                 [--png FILE [--graph traffic|size]]
 *   modoctl history [--sender S] [--rcpt R] [--status S] [--queue-id Q] [--domain D]
 *                   [--since T] [--until T] [--limit N] [--json]
 *
 * stats reads the RRD file of the domain (global.rrd without --domain) over the period, at
 * the resolution Modoboa's graphs use (8, 56, 280, 3360 minutes a row), and prints each
 * counter's total, its average and its highest rate per minute; --png draws Modoboa's
 * "Average traffic (msgs/min)" graph (or "Average normal traffic size") with librrd.
 */
#include "admin.h"
#include "conf.h"
#include "modoctl.h"
#include "strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct period {
    const char *name;
    long seconds, step;
} periods[] = {
    {"day", 86400, 480},
    {"week", 7 * 86400, 3360},
    {"month", 30 * 86400, 16800},
    {"year", 365 * 86400, 201600},
};

/* Modoboa's curves: data source, colour, legend */
static const struct curve {
    const char *ds, *color, *legend;
} traffic_curves[] = {
    {"reject", "#FF6347", "rejected messages"}, {"greylist", "#696969", "greylisted messages"},
    {"bounced", "#FFFF00", "bounced messages"}, {"recv", "#4682B4", "received messages"},
    {"sent", "#7CFC00", "sent messages"},       {"virus", "#FFA500", "virus messages"},
    {"spam", "#C0C0C0", "spam messages"},
}, size_curves[] = {
    {"size_recv", "#FFA500", "received size"},
    {"size_sent", "#48D1CC", "sent size"},
};

struct series {
    time_t start, end;
    unsigned long step, nds;
    char **names;
    rrd_value_t *data;
};

static void series_free(struct series *s)
{
    unsigned long i;

    for (i = 0; i < s->nds; i++)
        rrd_freemem(s->names[i]);
    rrd_freemem(s->names);
    rrd_freemem(s->data);
    memset(s, 0, sizeof(*s));
}

static int fetch(const char *path, const char *cf, const struct period *p, time_t now,
                 struct series *s)
{
    memset(s, 0, sizeof(*s));
    s->end = now - now % p->step;
    s->start = s->end - p->seconds;
    s->step = (unsigned long)p->step;
    rrd_clear_error();
    if (rrd_fetch_r(path, cf, &s->start, &s->end, &s->step, &s->nds, &s->names, &s->data) != 0) {
        fprintf(stderr, "modoctl: %s: %s\n", path, rrd_get_error());
        return -1;
    }
    return 0;
}

static int draw(const char *path, const char *png, const struct period *p, bool size,
                bool greylist)
{
    const struct curve *curves = size ? size_curves : traffic_curves;
    size_t ncurves = size ? 2 : sizeof(traffic_curves) / sizeof(traffic_curves[0]), i;
    char *argv[64], start[32];
    struct strbuf defs[32];
    int argc = 0, nd = 0;
    rrd_info_t *info;
    int rc = 0;

    snprintf(start, sizeof(start), "-%ld", p->seconds);
    argv[argc++] = "graph";
    argv[argc++] = (char *)png;
    argv[argc++] = "--imgformat";
    argv[argc++] = "PNG";
    argv[argc++] = "--start";
    argv[argc++] = start;
    argv[argc++] = "--end";
    argv[argc++] = "now";
    argv[argc++] = "--width";
    argv[argc++] = "800";
    argv[argc++] = "--height";
    argv[argc++] = "250";
    argv[argc++] = "--title";
    argv[argc++] = size ? "Average normal traffic size (bytes/min)" : "Average traffic (msgs/min)";
    argv[argc++] = "--vertical-label";
    argv[argc++] = size ? "bytes/min" : "msgs/min";
    argv[argc++] = "--lower-limit";
    argv[argc++] = "0";
    for (i = 0; i < ncurves; i++) {
        const struct curve *c = &curves[i];
        if (strcmp(c->ds, "greylist") == 0 && !greylist)
            continue;
        /* Modoboa's: unknown as 0, the rate per second times 60 */
        strbuf_init(&defs[nd]);
        strbuf_printf(&defs[nd], "DEF:%s=%s:%s:AVERAGE", c->ds, path, c->ds);
        argv[argc++] = defs[nd++].data;
        strbuf_init(&defs[nd]);
        strbuf_printf(&defs[nd], "CDEF:%spm=%s,UN,0,%s,IF,60,*", c->ds, c->ds, c->ds);
        argv[argc++] = defs[nd++].data;
        strbuf_init(&defs[nd]);
        strbuf_printf(&defs[nd], "LINE2:%spm%s:%s", c->ds, c->color, c->legend);
        argv[argc++] = defs[nd++].data;
    }
    argv[argc] = NULL;
    rrd_clear_error();
    optind = 0;
    info = rrd_graph_v(argc, argv);
    if (info == NULL || rrd_test_error()) {
        fprintf(stderr, "modoctl: cannot draw %s: %s\n", png, rrd_get_error());
        rc = 1;
    }
    if (info != NULL)
        rrd_info_free(info);
    while (nd > 0)
        strbuf_free(&defs[--nd]);
    return rc;
}

static int stats_usage(FILE *fp)
{
    fprintf(fp, "usage: modoctl stats [--domain D] [--period day|week|month|year] [--rows] [--json]\n"
                "                     [--png FILE [--graph traffic|size]]\n"
                "       modoctl stats daemons|lookupd|policyd|dictd\n");
    return fp == stdout ? 0 : EXIT_USAGE;
}

int traffic_command(const struct conf *conf, int argc, char **argv)
{
    static const struct option opts[] = {
        {"domain", required_argument, NULL, 'd'}, {"period", required_argument, NULL, 'p'},
        {"rows", no_argument, NULL, 'r'},         {"json", no_argument, NULL, 'j'},
        {"png", required_argument, NULL, 'P'},    {"graph", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *domain = "global", *png = NULL, *graph = "traffic";
    const struct period *p = &periods[0];
    const char *root = conf_str(conf, "logd", "rrd_rootdir");
    bool rows = false, json = false, greylist = conf_bool(conf, "logd", "greylist");
    struct series avg, max;
    struct strbuf path = STRBUF_INIT;
    struct stat st;
    time_t now = time(NULL);
    unsigned long i, j, n;
    int opt, rc = 0;
    size_t k;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': domain = optarg; break;
        case 'p':
            for (p = NULL, k = 0; k < sizeof(periods) / sizeof(periods[0]); k++)
                if (strcmp(optarg, periods[k].name) == 0)
                    p = &periods[k];
            if (p == NULL)
                return stats_usage(stderr);
            break;
        case 'r': rows = true; break;
        case 'j': json = true; break;
        case 'P': png = optarg; break;
        case 'g':
            if (strcmp(optarg, "traffic") != 0 && strcmp(optarg, "size") != 0)
                return stats_usage(stderr);
            graph = optarg;
            break;
        case 'h': return stats_usage(stdout);
        default: return stats_usage(stderr);
        }
    }
    if (optind != argc || strchr(domain, '/') != NULL || domain[0] == '.')
        return stats_usage(stderr);
    if (root[0] == '\0') {
        fprintf(stderr, "modoctl: [logd] rrd_rootdir is empty: no traffic is recorded\n");
        return 1;
    }
    strbuf_printf(&path, "%s/%s.rrd", root, domain);
    if (stat(path.data, &st) < 0) {
        fprintf(stderr, "modoctl: no traffic recorded for %s (%s: %s)\n", domain, path.data,
                strerror(errno));
        strbuf_free(&path);
        return EXIT_NOTFOUND;
    }
    if (png != NULL) {
        rc = draw(path.data, png, p, strcmp(graph, "size") == 0, greylist);
        if (rc == 0)
            printf("%s: %s, last %s\n", png, domain, p->name);
        strbuf_free(&path);
        return rc;
    }
    if (fetch(path.data, "AVERAGE", p, now, &avg) < 0) {
        strbuf_free(&path);
        return 1;
    }
    if (fetch(path.data, "MAX", p, now, &max) < 0) {
        series_free(&avg);
        strbuf_free(&path);
        return 1;
    }
    n = avg.step ? (unsigned long)((avg.end - avg.start) / (time_t)avg.step) : 0;
    {
        double total[16] = {0}, peak[16] = {0};
        unsigned long known = 0;
        char from[32], to[32];
        struct tm tm;
        for (i = 0; i < n; i++) {
            bool any = false;
            for (j = 0; j < avg.nds && j < 16; j++) {
                double v = avg.data[i * avg.nds + j];
                if (isnan(v))
                    continue;
                any = true;
                total[j] += v * (double)avg.step;
            }
            for (j = 0; j < max.nds && j < 16 && i * max.nds + j < n * max.nds; j++) {
                double v = max.data[i * max.nds + j];
                if (!isnan(v) && v * 60 > peak[j])
                    peak[j] = v * 60;
            }
            known += any;
        }
        localtime_r(&avg.start, &tm);
        strftime(from, sizeof(from), "%Y-%m-%d %H:%M", &tm);
        localtime_r(&avg.end, &tm);
        strftime(to, sizeof(to), "%Y-%m-%d %H:%M", &tm);
        if (json) {
            printf("{\"domain\": \"%s\", \"period\": \"%s\", \"start\": %lld, \"end\": %lld,"
                   " \"step\": %lu, \"counters\": {",
                   domain, p->name, (long long)avg.start, (long long)avg.end, avg.step);
            for (j = 0; j < avg.nds && j < 16; j++)
                printf("%s\"%s\": {\"total\": %.0f, \"per_minute\": %.3f, \"max_per_minute\": %.3f}",
                       j ? ", " : "", avg.names[j], total[j],
                       known ? total[j] / ((double)known * (double)avg.step / 60) : 0.0, peak[j]);
            printf("}");
            if (rows) {
                printf(", \"rows\": [");
                for (i = 0; i < n; i++) {
                    printf("%s[%lld", i ? ", " : "", (long long)(avg.start + (time_t)((i + 1) * avg.step)));
                    for (j = 0; j < avg.nds; j++) {
                        double v = avg.data[i * avg.nds + j];
                        if (isnan(v))
                            printf(", null");
                        else
                            printf(", %.0f", v * (double)avg.step);
                    }
                    printf("]");
                }
                printf("]");
            }
            printf("}\n");
        } else {
            printf("%s, last %s: %s to %s (%lu-minute rows, %lu of %lu with data)\n", domain,
                   p->name, from, to, avg.step / 60, known, n);
            printf("%-10s %14s %12s %12s\n", "counter", "total", "per minute", "max/minute");
            for (j = 0; j < avg.nds && j < 16; j++)
                printf("%-10s %14.0f %12.3f %12.3f\n", avg.names[j], total[j],
                       known ? total[j] / ((double)known * (double)avg.step / 60) : 0.0, peak[j]);
            if (rows) {
                printf("\n%-16s", "row ending");
                for (j = 0; j < avg.nds; j++)
                    printf(" %10s", avg.names[j]);
                printf("\n");
                for (i = 0; i < n; i++) {
                    time_t t = avg.start + (time_t)((i + 1) * avg.step);
                    char when[32];
                    localtime_r(&t, &tm);
                    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                    printf("%-16s", when);
                    for (j = 0; j < avg.nds; j++) {
                        double v = avg.data[i * avg.nds + j];
                        if (isnan(v))
                            printf(" %10s", "-");
                        else
                            printf(" %10.0f", v * (double)avg.step);
                    }
                    printf("\n");
                }
            }
        }
    }
    series_free(&avg);
    series_free(&max);
    strbuf_free(&path);
    return rc;
}

/* "2026-12-01", "2026-12-01 10:30[:15]" (local time), or "30m", "2h", "7d" ago; -1 if not */
static time_t parse_when(const char *s, time_t now)
{
    struct tm tm;
    char *end;
    long n;

    if (s[0] >= '0' && s[0] <= '9') {
        n = strtol(s, &end, 10);
        if (end != s && end[1] == '\0' && n >= 0) {
            switch (*end) {
            case 'm': return now - n * 60;
            case 'h': return now - n * 3600;
            case 'd': return now - n * 86400;
            default: break;
            }
        }
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_isdst = -1;
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end != NULL && *end == ' ')
        end = strptime(end + 1, "%H:%M", &tm);
    if (end != NULL && *end == ':')
        end = strptime(end + 1, "%S", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    return mktime(&tm);
}

static int history_usage(FILE *fp)
{
    fprintf(fp, "usage: modoctl history [--sender S] [--rcpt R] [--status S] [--queue-id Q]"
                " [--domain D]\n"
                "                       [--since T] [--until T] [--limit N] [--json]\n"
                "  S, R: an address, '*' for any characters; status: received, sent, bounced,"
                " deferred,\n"
                "  expired or rejected; T: YYYY-MM-DD[ HH:MM[:SS]] (local time) or 30m, 2h, 7d"
                " ago\n");
    return fp == stdout ? 0 : EXIT_USAGE;
}

int history_command(const struct conf *conf, int argc, char **argv)
{
    static const struct option opts[] = {
        {"sender", required_argument, NULL, 's'}, {"rcpt", required_argument, NULL, 'r'},
        {"status", required_argument, NULL, 'S'}, {"queue-id", required_argument, NULL, 'q'},
        {"domain", required_argument, NULL, 'd'}, {"since", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},  {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const statuses[] = {"received", "sent",    "bounced",
                                           "deferred", "expired", "rejected"};
    struct admin_history_query q = {.limit = 100};
    enum admin_format f = ADMIN_TEXT;
    time_t now = time(NULL);
    struct admin *a;
    char *end;
    int opt, rc;
    size_t i;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 's': q.sender = optarg; break;
        case 'r': q.rcpt = optarg; break;
        case 'S':
            for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
                if (strcmp(optarg, statuses[i]) == 0)
                    q.status = statuses[i];
            if (q.status == NULL) {
                fprintf(stderr, "modoctl: history: no status \"%s\"\n", optarg);
                return history_usage(stderr);
            }
            break;
        case 'q': q.queue_id = optarg; break;
        case 'd': q.domain = optarg; break;
        case 'f':
        case 'u': {
            time_t t = parse_when(optarg, now);
            if (t < 0) {
                fprintf(stderr, "modoctl: history: \"%s\" is not a time\n", optarg);
                return history_usage(stderr);
            }
            if (opt == 'f')
                q.since = t;
            else
                q.until = t;
            break;
        }
        case 'l':
            q.limit = strtol(optarg, &end, 10);
            if (*end != '\0' || q.limit < 0)
                return history_usage(stderr);
            break;
        case 'j': f = ADMIN_JSON; break;
        case 'h': return history_usage(stdout);
        default: return history_usage(stderr);
        }
    }
    if (optind != argc)
        return history_usage(stderr);
    if ((a = open_admin(conf)) == NULL)
        return EXIT_TEMPFAIL;
    rc = admin_history(a, &q, f, stdout);
    if (rc != 0)
        fprintf(stderr, "modoctl: history: %s\n", admin_error(a));
    close_admin(&a);
    return rc == 0 ? 0 : EXIT_TEMPFAIL;
}
