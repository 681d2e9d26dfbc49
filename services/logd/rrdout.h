/*
 * rrdout - Modoboa's traffic RRD files, written with librrd: <rootdir>/<domain>.rrd and
 * global.rrd, step 60 s, data sources sent recv bounced reject spam virus size_sent
 * size_recv (+ greylist), ABSOLUTE, heartbeat 120, min 0, AVERAGE and MAX archives of 8, 56,
 * 280 and 3360 steps, 198 rows each (the files Modoboa's graphs read).
 *
 * A minute is written once: a minute at or before the file's last update is skipped (as
 * Modoboa does), minutes missing since the last update are filled with zeros. Unlike
 * Modoboa, a new file starts one step before its first minute, so that minute is kept.
 */
#ifndef MODO_RRDOUT_H
#define MODO_RRDOUT_H

#include "maillog_track.h"

#include <stdbool.h>
#include <time.h>

struct rrdout;

struct rrdout *rrdout_new(const char *rootdir, bool greylist);
void rrdout_free(struct rrdout **r);
/* A domain's minutes, in order, in as few librrd calls as can be: how many were written
 * (minutes already stored are skipped), or -1 (*error_r, malloc'd). */
int rrdout_write_series(struct rrdout *r, const char *domain, const time_t *minutes,
                        const long long (*v)[MAILLOG_C__COUNT], size_t nminutes, char **error_r);

#endif
