/*
 * log - diagnostics for every modo program.
 *
 * Messages go to syslog (facility mail) or to stderr, chosen once at start-up.
 * Severities follow Postfix: info, warning, error, fatal (clean exit 1 on a
 * configuration or resource problem) and panic (internal inconsistency: abort).
 * log_debug() is printed only when the debug level is on.
 */
#ifndef MODO_LOG_H
#define MODO_LOG_H

#include <stdbool.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_open(const char *ident, enum log_target target);
void log_set_debug(bool on);
/* The exit status of log_fatal() (1 unless a program's callers read 1 otherwise). */
void log_set_fatal_status(int status);
bool log_debug_enabled(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
