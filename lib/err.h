/* err.h - an error message for the person, filled by libraries, printed by
 * programs.  Library functions return 0 or a negative errno-style code and,
 * when the caller passes a struct err, say what went wrong and where. */
#ifndef RMON_ERR_H
#define RMON_ERR_H

#include <stddef.h>

struct err {
	int code;      /* the negative errno-style code last returned, or 0 */
	char msg[512]; /* "what is wrong: where", NUL-terminated */
};

/* Fills e (which may be NULL) with a printf-style message and returns code,
 * so a library can write `return err_set(e, -EINVAL, "...", ...);`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like err_set, with ": strerror(-code)" appended. */
int err_sys(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Empties e so it can be reused. */
void err_clear(struct err *e);

#endif
