/* log.c - stderr logging; see log.h.  Each line is written with one write(2)
 * so lines from several processes sharing a terminal never interleave. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/escape.h"

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
	char message[1024], line[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	size_t used = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
	int len = snprintf(line, sizeof line, "%s %s: ", level_names[level], component);
	size_t room = sizeof line - (size_t)len - 1; /* the newline's byte */
	size_t full = escape(ESCAPE_TEXT, line + len, room, message, used);
	len += (int)(full < room ? full : strlen(line + len));
	line[len++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
	(void)ignored;
}
