/* regex_bound.h - whether a POSIX extended regular expression is small
 * enough to hand to glibc's regcomp.  regcomp copies what a repetition
 * applies to: x+ is compiled as xx*, x{n,m} as m copies of x, and nested
 * ones multiply, so ((a{255}){255}){255} or a+++...+ take gigabytes and
 * minutes.  Every expression that comes from outside (a query's selector,
 * an agent's watched-process pattern) is checked here first. */
#ifndef RMON_REGEX_BOUND_H
#define RMON_REGEX_BOUND_H

#include <stdbool.h>

#define REGEX_MAX_BYTES	 256
#define REGEX_MAX_COPIES 4096

/* What regex_bounded refuses, for error messages. */
#define REGEX_BOUND_TEXT                                                                           \
	"at most 256 bytes, and its repetitions + and {n,m} at most 4096 copies together"

/* True when re has at most REGEX_MAX_BYTES bytes and its repetitions make
 * at most REGEX_MAX_COPIES copies, counted as if every one were nested in
 * the others (an overestimate, never an underestimate). */
bool regex_bounded(const char *re);

#endif
