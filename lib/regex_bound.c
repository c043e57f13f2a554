/* regex_bound.c - the size check before regcomp; see regex_bound.h. */
#include "lib/regex_bound.h"

#include <string.h>

_Static_assert(REGEX_MAX_BYTES == 256 && REGEX_MAX_COPIES == 4096,
	       "REGEX_BOUND_TEXT spells the bounds out");

/* The copies x{n}, x{n,} or x{n,m} makes of x: the larger bound, and one. */
static double counted_copies(const char *brace)
{
	double n = 0, m = 0, *bound = &n; /* digits go to n, after a comma to m */
	for (const char *d = brace + 1; *d && *d != '}'; d++)
		if (*d == ',')
			bound = &m;
		else if (*d >= '0' && *d <= '9')
			*bound = *bound * 10 + (*d - '0');
	return (m > n ? m : n) + 1;
}

bool regex_bounded(const char *re)
{
	if (strlen(re) > REGEX_MAX_BYTES)
		return false;
	double copies = 1;
	for (const char *p = re; *p; p++)
		if (*p == '+')
			copies *= 2;
		else if (*p == '{')
			copies *= counted_copies(p);
	return copies <= REGEX_MAX_COPIES;
}
