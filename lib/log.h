/* log.h - one line per event on stderr: "level component: message".
 * Only programs log; libraries report through struct err (lib/err.h).
 *
 * A line is always one line: the formatted message passes through
 * escape(ESCAPE_TEXT) (lib/escape.h), so a newline, an escape sequence or
 * invalid UTF-8 inside a value shows as \n, \x1b or \xNN and can never
 * start a forged line.  Values that came from a peer should still be
 * quoted with escape_quote, so a reader sees where they end. */
#ifndef RMON_LOG_H
#define RMON_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; -v raises it to LOG_DEBUG. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(c, ...) log_msg(LOG_ERROR, c, __VA_ARGS__)
#define log_warn(c, ...)  log_msg(LOG_WARN, c, __VA_ARGS__)
#define log_info(c, ...)  log_msg(LOG_INFO, c, __VA_ARGS__)
#define log_debug(c, ...) log_msg(LOG_DEBUG, c, __VA_ARGS__)

#endif
