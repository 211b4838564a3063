/*
 * Levelled logging to stderr. Each line starts with a syslog priority
 * prefix ("<3>") so that journald keeps the level. Messages start with the
 * module name; secrets are never passed in.
 */
#ifndef STABILD_LOG_H
#define STABILD_LOG_H

#include <syslog.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(int level);
void log_set_level(int level);
int log_get_level(void);
/* Level by name ("debug", "info", "notice", "warning", "error"); -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
/* _warn and _error append strerror(errno); _warnx and _errorx do not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_errorx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* For startup failures and broken invariants only: log and exit(1). */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
