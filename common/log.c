/*
 * log - syslog (mail facility) or stderr diagnostics; see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "modo";
static enum log_target log_to = LOG_TARGET_STDERR;
static bool log_debug_on;
static int log_fatal_status = 1;

void log_set_fatal_status(int status)
{
    log_fatal_status = status;
}

void log_open(const char *ident, enum log_target target)
{
    log_ident = ident;
    log_to = target;
    if (target == LOG_TARGET_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_debug(bool on)
{
    log_debug_on = on;
}

bool log_debug_enabled(void)
{
    return log_debug_on;
}

static void emit(int prio, const char *label, const char *msg)
{
    if (log_to == LOG_TARGET_SYSLOG) {
        if (label[0])
            syslog(prio, "%s: %s", label, msg);
        else
            syslog(prio, "%s", msg);
        return;
    }
    fprintf(stderr, "%s[%ld]: %s%s%s\n", log_ident, (long)getpid(), label, label[0] ? ": " : "",
            msg);
}

__attribute__((format(printf, 3, 0))) static void log_emit(int prio, const char *label,
                                                         const char *fmt, va_list ap)
{
    char raw[2048], msg[2048 * 4];
    size_t i, o = 0;

    vsnprintf(raw, sizeof(raw), fmt, ap);
    /* control bytes (a client's "\n" in a key) must not forge log lines: escape them */
    for (i = 0; raw[i] != '\0' && (unsigned char)raw[i] >= 0x20 && raw[i] != 0x7f; i++)
        ;
    if (raw[i] == '\0') { /* nothing to escape: the common case, no copy */
        emit(prio, label, raw);
        return;
    }
    memcpy(msg, raw, i);
    o = i;
    for (; raw[i] != '\0' && o + 5 < sizeof(msg); i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            msg[o++] = '\\';
            msg[o++] = 'x';
            msg[o++] = hex[c >> 4];
            msg[o++] = hex[c & 15];
        } else {
            msg[o++] = (char)c;
        }
    }
    msg[o] = '\0';
    emit(prio, label, msg);
}

#define LOG_BODY(prio, label)                                                                      \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(prio, label, fmt, ap);                                                            \
        va_end(ap);                                                                                \
    } while (0)

void log_debug(const char *fmt, ...)
{
    if (!log_debug_on)
        return;
    LOG_BODY(LOG_DEBUG, "debug");
}

void log_info(const char *fmt, ...)
{
    LOG_BODY(LOG_INFO, "");
}

void log_warning(const char *fmt, ...)
{
    LOG_BODY(LOG_WARNING, "warning");
}

void log_error(const char *fmt, ...)
{
    LOG_BODY(LOG_ERR, "error");
}

void log_fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "fatal");
    exit(log_fatal_status);
}

void log_panic(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "panic");
    abort();
}
