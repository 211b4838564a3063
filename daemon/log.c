/*
 * Logging: one line per message on stderr, "<N>" priority prefix first, so
 * journald (and anything reading the unit's output) keeps the severity.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static int log_level = LOG_INFO;

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING },
	{ "error", LOG_ERR },
};

void
log_init(int level)
{
	log_level = level;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	}
	if (strcasecmp(name, "warn") == 0)
		return LOG_WARNING;
	if (strcasecmp(name, "err") == 0)
		return LOG_ERR;
	return -1;
}

const char *
log_level_name(int level)
{
	size_t i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (log_levels[i].level == level)
			return log_levels[i].name;
	}
	return "unknown";
}

/* Format into one buffer and write it with one call, so lines never mix. */
static void
log_vwrite(int level, int errnum, const char *fmt, va_list ap)
{
	char msg[2048];
	int n;

	if (level > log_level)
		return;
	n = snprintf(msg, sizeof msg, "<%d>", level);
	if (n < 0)
		return;
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	if (errnum != 0) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, ": %s", strerror(errnum));
	}
	fprintf(stderr, "%s\n", msg);
}

#define LOG_FN(fname, level, witherrno)				\
void								\
fname(const char *fmt, ...)					\
{								\
	va_list ap;						\
	int saved = errno;					\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, (witherrno) ? saved : 0, fmt, ap);	\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_notice, LOG_NOTICE, 0)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_error, LOG_ERR, 1)
LOG_FN(log_errorx, LOG_ERR, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
