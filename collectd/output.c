/* output.c - printing or ring output of collections; see output.h. */
#include "collectd/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "shmring/series.h"

struct coll_output {
	struct coll_sink sink; /* first: collectors see only this */
	const struct coll_config *config;
	FILE *out;
	struct ring *ring;
	struct ring_lane *lane;
	struct shipper *shipper;
	struct series_label statics[COLL_MAX_LABELS];
	char statics_text[COLL_LIST_BYTES];
	int n_statics;
	int64_t ts;
	/* Ids already in the ring's series table: open addressing. */
	uint64_t *known;
	size_t known_cap, known_used;
	struct sample *batch;
	size_t n_batch, batch_cap, collected;
	/* Collections repeat: the value at position p of one is almost always
	 * the series at position p of the last.  memo[p] keeps that series'
	 * raw key (metric and labels as given) and id, so a repeat skips
	 * building its canonical name. */
	struct memo {
		uint64_t id;
		size_t key_off, key_len;
	} * memo;
	size_t memo_cap, pos;
	char *keys; /* raw keys: metric NUL (key NUL value NUL)... */
	size_t keys_len, keys_cap;
	struct coll_output_stats stats;
};

static bool known_contains(struct coll_output *o, uint64_t id)
{
	if (!o->known_cap)
		return false;
	size_t j = id & (o->known_cap - 1);
	while (o->known[j] && o->known[j] != id)
		j = (j + 1) & (o->known_cap - 1);
	return o->known[j] == id;
}

static void known_add(struct coll_output *o, uint64_t id)
{
	if ((o->known_used + 1) * 2 > o->known_cap) {
		size_t old_cap = o->known_cap, cap = old_cap ? old_cap * 2 : 4096;
		uint64_t *fresh = calloc(cap, sizeof *fresh), *old = o->known;
		if (!fresh)
			return; /* the name is inserted again next time: harmless */
		o->known = fresh;
		o->known_cap = cap;
		o->known_used = 0;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				known_add(o, old[i]);
		free(old);
	}
	size_t j = id & (o->known_cap - 1);
	while (o->known[j])
		j = (j + 1) & (o->known_cap - 1);
	o->known[j] = id;
	o->known_used++;
}

#define KEY_PARTS (2 * COLL_MAX_LABELS + 1)

/* The strings of a raw key, in order: metric, then each label's key and
 * value as the collector gave them. */
static size_t key_parts(const char *metric, const struct series_label *labels, size_t n_labels,
			const char *parts[KEY_PARTS])
{
	size_t n = 0;
	parts[n++] = metric;
	for (size_t i = 0; i < n_labels && n + 2 <= KEY_PARTS; i++) {
		parts[n++] = labels[i].key;
		parts[n++] = labels[i].value;
	}
	return n;
}

/* True when the raw key at key (len bytes) is metric and labels. */
static bool key_matches(const char *key, size_t len, const char *metric,
			const struct series_label *labels, size_t n_labels)
{
	const char *end = key + len;
	const char *parts[KEY_PARTS];
	size_t n = key_parts(metric, labels, n_labels, parts);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);
		if ((size_t)(end - key) < l + 1 || memcmp(key, parts[i], l + 1) != 0)
			return false;
		key += l + 1;
	}
	return key == end;
}

/* Remembers that position p of a collection is (metric, labels) = id. */
static void memo_set(struct coll_output *o, size_t p, uint64_t id, const char *metric,
		     const struct series_label *labels, size_t n_labels)
{
	const char *parts[KEY_PARTS];
	size_t n = key_parts(metric, labels, n_labels, parts), len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	size_t old_cap = o->memo_cap;
	if (!grow_array_from(&o->memo, &o->memo_cap, p + 1, sizeof *o->memo, 1024))
		return;
	memset(o->memo + old_cap, 0, (o->memo_cap - old_cap) * sizeof *o->memo);
	if (!grow_bytes(&o->keys, &o->keys_cap, o->keys_len + len, 64 * 1024))
		return;
	char *at = o->keys + o->keys_len;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]) + 1;
		memcpy(at, parts[i], l);
		at += l;
	}
	o->memo[p] = (struct memo){ id, o->keys_len, len };
	o->keys_len += len;
}

/* Keys of replaced memo entries pile up at the arena's end: now and then
 * the live ones are packed to the front. */
static void memo_compact(struct coll_output *o)
{
	size_t live = 0;
	for (size_t p = 0; p < o->memo_cap; p++)
		live += o->memo[p].key_len;
	if (o->keys_len < 4 * live + 64 * 1024)
		return;
	char *packed = malloc(live ? live : 1);
	if (!packed)
		return;
	size_t at = 0;
	for (size_t p = 0; p < o->memo_cap; p++) {
		memcpy(packed + at, o->keys + o->memo[p].key_off, o->memo[p].key_len);
		o->memo[p].key_off = at;
		at += o->memo[p].key_len;
	}
	free(o->keys);
	o->keys = packed;
	o->keys_len = o->keys_cap = live;
}

static void append_sample(struct coll_output *o, uint64_t id, double value)
{
	if (!grow_array_from(&o->batch, &o->batch_cap, o->n_batch + 1, sizeof *o->batch, 1024))
		return;
	o->batch[o->n_batch++] = (struct sample){ id, o->ts, value };
}

/* Names come from the system: /proc field names, command names, mount
 * points, cgroup paths, interface and sensor names.  Rather than lose a
 * series over a byte, a metric name's bytes outside [a-zA-Z0-9_:] become
 * '_' (as Prometheus exporters do), and a label value that breaks the rule
 * (lib/series_name.h) is written as rmon prints text on a terminal:
 * \n, \x1b, \u202e, \xff (lib/escape.h).  The cleaned strings go into
 * arena; false when they do not fit (the name would be too long anyway). */
static bool clean_names(const char **metric, struct series_label *labels, size_t n, char *arena,
			size_t cap)
{
	size_t used = 0, len = strlen(*metric);
	if (series_check_metric(*metric, len, NULL) != 0) {
		if (len + 1 > cap)
			return false;
		for (size_t i = 0; i < len; i++) {
			char c = (*metric)[i];
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
				  c == ':' || (i > 0 && c >= '0' && c <= '9');
			arena[i] = ok ? c : '_';
		}
		arena[len] = '\0';
		*metric = arena;
		used = len + 1;
	}
	for (size_t i = 0; i < n; i++) {
		len = strlen(labels[i].value);
		if (series_check_label_value(labels[i].value, len, NULL) == 0)
			continue;
		size_t need = escape(ESCAPE_TEXT, arena + used, cap - used, labels[i].value, len);
		if (need >= cap - used)
			return false;
		labels[i].value = arena + used;
		used += need + 1;
	}
	return true;
}

static void on_value(struct coll_sink *sink, const char *metric, struct series_label *labels,
		     size_t n_labels, double value)
{
	struct coll_output *o = (struct coll_output *)sink;
	size_t p = o->pos++;
	bool memorable = !o->out && n_labels <= COLL_MAX_LABELS; /* the raw key holds them all */
	if (memorable && p < o->memo_cap && o->memo[p].key_len &&
	    key_matches(o->keys + o->memo[p].key_off, o->memo[p].key_len, metric, labels,
			n_labels)) {
		o->collected++;
		append_sample(o, o->memo[p].id, value);
		return;
	}
	struct series_label all[COLL_MAX_LABELS + 8];
	char name[SERIES_NAME_MAX + 1], cleaned[2 * (SERIES_NAME_MAX + 1)];
	size_t n = 0;
	for (int i = 0; i < o->n_statics; i++)
		all[n++] = o->statics[i];
	for (size_t i = 0; i < n_labels && n < sizeof all / sizeof all[0]; i++)
		all[n++] = labels[i];
	const char *raw_metric = metric;
	int len = clean_names(&metric, all, n, cleaned, sizeof cleaned)
		      ? series_canonical(name, sizeof name, o->config->host, metric, all, n, NULL)
		      : -ENAMETOOLONG;
	if (len < 0) {
		o->stats.bad_names++;
		return;
	}
	o->collected++;
	if (o->out) {
		/* The shortest text that reads back as the same double. */
		char text[32];
		snprintf(text, sizeof text, "%.15g", value);
		if (strtod(text, NULL) != value)
			snprintf(text, sizeof text, "%.17g", value);
		fprintf(o->out, "%s %s\n", name, text);
		return;
	}
	uint64_t id = series_id(name, (size_t)len);
	if (!known_contains(o, id) && o->shipper) {
		struct err e = { 0 };
		if (shipper_define(o->shipper, id, name, &e) != 0) {
			o->stats.table_full++; /* the spool cannot be written */
			return;
		}
		known_add(o, id);
	} else if (!known_contains(o, id)) {
		uint64_t inserted;
		if (series_insert(ring_series(o->ring), name, (size_t)len, &inserted, NULL) != 0) {
			o->stats.table_full++; /* full or a clash: the value is dropped */
			return;
		}
		known_add(o, id);
	}
	if (memorable)
		memo_set(o, p, id, raw_metric, labels, n_labels);
	append_sample(o, id, value);
}

/* Static labels from the configuration ("k=v,k=v"). */
static void parse_statics(struct coll_output *o)
{
	o->n_statics = 0;
	snprintf(o->statics_text, sizeof o->statics_text, "%s", o->config->labels);
	for (char *save = NULL, *pair = strtok_r(o->statics_text, ",", &save);
	     pair && o->n_statics < COLL_MAX_LABELS; pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (!eq)
			continue;
		*eq = '\0';
		o->statics[o->n_statics++] = (struct series_label){ pair, eq + 1 };
	}
}

struct coll_output *coll_output_new(const struct coll_config *c, FILE *out)
{
	struct coll_output *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->sink.value = on_value;
	o->config = c;
	o->out = out;
	parse_statics(o);
	return o;
}

void coll_output_reconfigure(struct coll_output *o)
{
	parse_statics(o);
	/* Host and labels may have changed: every name is built afresh. */
	if (o->memo)
		memset(o->memo, 0, o->memo_cap * sizeof *o->memo);
	o->keys_len = 0;
}

void coll_output_free(struct coll_output *o)
{
	if (!o)
		return;
	ring_close(o->ring);
	free(o->known);
	free(o->batch);
	free(o->memo);
	free(o->keys);
	free(o);
}

int coll_output_attach(struct coll_output *o, const char *ring_name, struct err *e)
{
	int rc = ring_producer_open(ring_name, &o->ring, e);
	if (rc == 0 && (rc = ring_lane_attach(o->ring, &o->lane, e)) != 0) {
		ring_close(o->ring);
		o->ring = NULL;
	}
	return rc;
}

void coll_output_ship(struct coll_output *o, struct shipper *sh)
{
	o->shipper = sh;
}

bool coll_output_attached(struct coll_output *o)
{
	return o->out || o->lane || o->shipper;
}

void coll_output_begin(struct coll_output *o, int64_t ts)
{
	o->ts = ts;
	o->n_batch = 0;
	o->collected = 0;
	o->pos = 0;
	if (o->memo_cap)
		memo_compact(o);
}

struct coll_sink *coll_output_sink(struct coll_output *o)
{
	return &o->sink;
}

size_t coll_output_end(struct coll_output *o)
{
	o->stats.values += o->collected;
	if (o->out) {
		fflush(o->out);
		return o->collected;
	}
	if (o->shipper) {
		struct err e = { 0 };
		if (o->n_batch && shipper_send(o->shipper, o->batch, o->n_batch, &e) != 0)
			o->stats.dropped += o->n_batch; /* the spool cannot be written */
		return o->collected;
	}
	size_t pushed = ring_push_many(o->lane, o->batch, o->n_batch);
	o->stats.dropped += o->n_batch - pushed;
	return o->collected;
}

void coll_output_stats(struct coll_output *o, struct coll_output_stats *out)
{
	*out = o->stats;
}
