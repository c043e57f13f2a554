/* fuzz_text.c - libFuzzer harness for every parser of text a person or the
 * kernel hands us: query selectors, and the agent's /proc parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectd/coll.h"
#include "store/query.h"

static void ignore(struct coll_sink *sink, const char *metric, struct series_label *labels,
		   size_t n_labels, double value)
{
	char name[SERIES_NAME_MAX + 1];
	series_canonical(name, sizeof name, "h", metric, labels, n_labels, NULL);
}

static bool any_disk(const char *name, void *ctx)
{
	return true;
}

static void ignore_mount(const struct coll_mount *m, void *ctx)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct coll_sink sink = { ignore };
	struct coll_config config;
	coll_config_default(&config);
	struct query_selector *sel;
	if (query_selector_parse(text, &sel, NULL) == 0) {
		query_selector_match(sel, text, size);
		query_selector_free(sel);
	}
	uint64_t counts[12] = { 0 };
	struct coll_proc_stat ps;
	coll_parse_stat(text, 100, &sink);
	coll_parse_loadavg(text, &sink);
	coll_parse_pressure(text, "cpu", &sink);
	coll_parse_meminfo(text, &sink);
	coll_parse_vmstat(text, NULL, &sink);
	coll_parse_diskstats(text, any_disk, NULL, &sink);
	coll_parse_netdev(text, &config, &sink);
	coll_count_tcp(text, counts);
	coll_parse_sockstat(text, &sink);
	coll_parse_snmp(text, NULL, &sink);
	coll_parse_proc_stat(text, &ps);
	coll_parse_mountinfo(text, ignore_mount, NULL);
	free(text);
	return 0;
}
