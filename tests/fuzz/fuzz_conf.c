/* fuzz_conf.c - libFuzzer harness for the configuration reader (lib/conf.c):
 * any bytes must parse or fail with a message, never crash, leak or read out
 * of bounds, through settings, section ends and includes. Every '/' of the
 * input becomes '_', so an include can reach only the two files this harness
 * puts in its own folder (one of which includes the other and itself). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int section_end(void *ctx, const struct conf_entry *entry, struct err *e)
{
	(*(int *)ctx)++;
	conf_error(e, entry, "checked as a whole");
	return entry->section[0] == 'x' ? -1 : 0; /* a hook may stop the reading */
}

static char dir[64];

static void remove_dir(void)
{
	char path[128];
	for (const char *const *f = (const char *const[]){ "a.conf", "b.conf", NULL }; *f; f++) {
		snprintf(path, sizeof path, "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
}

static void put(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_conf.%d", (int)getpid());
		mkdir(dir, 0700);
		put("a.conf", "[rule a]\nexpr = up < 1 # c\ninclude = b.conf\n");
		put("b.conf", "[rule b]\nfor = 010\ninclude = *.conf\n");
		atexit(remove_dir);
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; p < text + size; p++)
		if (*p == '/')
			*p = '_';
	char file[96];
	snprintf(file, sizeof file, "%s/fuzz.conf", dir);
	struct err e = { 0 };
	int ends = 0;
	const struct conf_hooks hooks = { read_typed, section_end };
	conf_read_text(text, file, &hooks, &ends, &e);
	conf_parse_text(text, file, read_typed, NULL, &e);
	free(text);
	return 0;
}
