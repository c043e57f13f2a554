/* fuzz_conf.c - libFuzzer harness for the configuration reader (lib/conf.c):
 * any bytes must parse or fail with a message, never crash or read out of
 * bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"

static int read_typed(void *ctx, const struct conf_entry *entry, struct err *e)
{
	bool b;
	int64_t i;
	double d;
	uint64_t u;
	(void)ctx;
	conf_bool(entry, &b, e);
	conf_int(entry, -1000, 1000, &i, e);
	conf_double(entry, &d, e);
	conf_duration(entry, 0, &i, e);
	conf_size(entry, &u, e);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct err e = { 0 };
	conf_parse_text(text, "fuzz.conf", read_typed, NULL, &e);
	free(text);
	return 0;
}
