/* coll_mem.c - memory and swap from /proc/meminfo; paging, swapping and
 * OOM kills from /proc/vmstat. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectd/coll.h"
#include "collectd/parse.h"

/* Every "Name:   123 kB" line becomes node_memory_Name_bytes, and lines
 * without a unit (HugePages_Total: 0) node_memory_Name, as node_exporter
 * names them; "(anon)" style suffixes become "_anon". */
int coll_parse_meminfo(const char *text, struct coll_sink *sink)
{
	const char *p = text;
	int found = 0;
	do {
		char name[64], metric[96];
		size_t n = 0;
		const char *s = p;
		while (*s && *s != ':' && *s != '\n' && n + 1 < sizeof name) {
			char c = *s++;
			name[n++] = c == '(' ? '_' : c == ')' ? '\0' : c;
			if (!name[n - 1])
				n--;
		}
		name[n] = '\0';
		if (*s != ':' || n == 0)
			continue;
		s++;
		bool ok;
		uint64_t value = parse_u64(&s, &ok);
		if (!ok)
			continue;
		s = parse_skip_spaces(s);
		bool kb = strncmp(s, "kB", 2) == 0;
		parse_join(metric, sizeof metric, "node_memory_", name, strlen(name),
			   kb ? "_bytes" : "");
		coll_emit(sink, metric, kb ? (double)value * 1024 : (double)value);
		found++;
	} while (parse_next_line(&p));
	return found ? 0 : -EPROTO;
}

/* Every "name value" line of /proc/vmstat becomes node_vmstat_<name>,
 * unless fields (space-separated globs; NULL or "" = all) leaves it out. */
int coll_parse_vmstat(const char *text, const char *fields, struct coll_sink *sink)
{
	const char *p = text;
	int found = 0;
	do {
		char name[64], metric[96];
		const char *v = p;
		if (!parse_word(&v, name, sizeof name))
			continue;
		bool ok;
		uint64_t value = parse_u64(&v, &ok);
		if (!ok || (fields && fields[0] && !coll_glob_list_match(fields, name)))
			continue;
		parse_join(metric, sizeof metric, "node_vmstat_", name, strlen(name), "");
		coll_emit(sink, metric, (double)value);
		found++;
	} while (parse_next_line(&p));
	return found || (fields && fields[0]) ? 0 : -EPROTO;
}

int coll_memory(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	char *text;
	struct coll_files *f = coll_state_files(st);
	long n = coll_read(f, "/proc/meminfo", &text);
	if (n < 0 || coll_parse_meminfo(text, sink) != 0)
		return err_sys(e, n < 0 ? (int)n : -EPROTO, "cannot read /proc/meminfo");
	n = coll_read(f, "/proc/vmstat", &text);
	if (n < 0 || coll_parse_vmstat(text, coll_state_config(st)->vmstat_fields, sink) != 0)
		return err_sys(e, n < 0 ? (int)n : -EPROTO, "cannot read /proc/vmstat");
	return 0;
}
