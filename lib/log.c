/* log.c - stderr logging; see log.h.  Each line is written with one write(2)
 * so lines from several processes sharing a terminal never interleave. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
	if (level > current_level)
		return;
	char line[1024];
	int len = snprintf(line, sizeof line, "%s %s: ", level_names[level], component);
	va_list ap;
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof line - (size_t)len, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof line - 2)
		len = (int)sizeof line - 2;
	line[len++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
	(void)ignored;
}
