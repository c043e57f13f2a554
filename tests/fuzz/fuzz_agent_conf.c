/* fuzz_agent_conf.c - libFuzzer harness for the agent's configuration
 * (collectd/config.c): any text must load or fail with a message, never
 * crash, leak, read out of bounds or hang, the watched-process patterns
 * (compiled with regcomp, whose cost a pattern can make explode) included.
 * Every '/' of the input becomes '_' and the text is read as a file of an
 * empty folder of the harness's own, so an include reaches nothing else. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectd/config.h"
#include "lib/err.h"

static char dir[64], file[96];

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz-agent-conf-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(file, sizeof file, "%s/agent.conf", dir);
		atexit(remove_dir);
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	for (size_t i = 0; i < size; i++)
		text[i] = data[i] == '/' ? '_' : (char)data[i];
	text[size] = '\0';
	struct coll_config c;
	struct err e = { 0 };
	coll_config_default(&c);
	coll_config_parse(&c, text, file, &e);
	coll_config_release(&c);
	free(text);
	return 0;
}
