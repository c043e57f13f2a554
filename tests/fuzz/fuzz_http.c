/* fuzz_http.c - libFuzzer harness for the /metrics request parser
 * (net/httpd.c): any bytes must parse, ask for more or be refused with a
 * status, never crash or read out of bounds; a parsed head lies within
 * the input and its path and query within the head; the query string's
 * pairs decode or fail cleanly; and feeding the input in pieces gives the
 * same answer as feeding it whole (a scraper's packets may split
 * anywhere). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t max = 1024;
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size); /* exactly size bytes: ASan sees any overread */
	struct httpd_request r;
	struct err e = { 0 };
	long whole = httpd_parse(buf, size, max, &r, &e);
	if (whole > 0) {
		if ((size_t)whole > size || (size_t)whole > max)
			abort();
		if (r.path < buf || r.path + r.path_len > buf + whole)
			abort();
		if (r.query && (r.query < buf || r.query + r.query_len > buf + whole))
			abort();
		const char *at = r.query, *end = r.query ? r.query + r.query_len : NULL;
		char key[64], value[256];
		while (at && httpd_query_next(&at, end, key, sizeof key, value, sizeof value) != 0)
			if (at > end)
				abort();
	} else if (whole < 0 && whole != -400 && whole != -405 && whole != -413 && whole != -431 &&
		   whole != -505) {
		abort();
	}
	/* The first prefix that is not "more, please" gives the same answer
	 * (the answer can change only where a line ends, or at max). */
	for (size_t n = 1; n <= size; n++) {
		if (n != size && n != max && buf[n - 1] != '\n')
			continue;
		long part = httpd_parse(buf, n, max, &r, NULL);
		if (part == 0)
			continue;
		if (part > 0 && whole > 0 && part != whole)
			abort();
		if ((part > 0) != (whole > 0) && n == size)
			abort();
		break;
	}
	free(buf);
	return 0;
}
