/* remote_write_encode.c - the series names a remote-write sender knows
 * and the WriteRequest it builds from spooled samples: grouped by series
 * (a request of many batches carries each series' labels once), labels
 * sorted, protobuf by libprotobuf-c, compressed by snappy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "lib/grow.h"
#include "lib/series_name.h"
#include "store/remote_write.pb-c.h"
#include "store/remote_write_private.h"

static size_t slot_of(const struct remote_write *rw, uint64_t id)
{
	return (size_t)(id ^ (id >> 29)) & (rw->series_cap - 1);
}

struct rw_series *rw_find(struct remote_write *rw, uint64_t id)
{
	if (!rw->series_cap)
		return NULL;
	for (size_t j = slot_of(rw, id);; j = (j + 1) & (rw->series_cap - 1)) {
		if (rw->series[j].id == id)
			return &rw->series[j];
		if (!rw->series[j].id)
			return NULL;
	}
}

static bool grow_table(struct remote_write *rw)
{
	size_t old_cap = rw->series_cap, cap = old_cap ? old_cap * 2 : 4096;
	struct rw_series *old = rw->series, *fresh = calloc(cap, sizeof *fresh);
	if (!fresh)
		return false;
	rw->series = fresh;
	rw->series_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].id)
			continue;
		size_t j = slot_of(rw, old[i].id);
		while (fresh[j].id)
			j = (j + 1) & (cap - 1);
		fresh[j] = old[i];
	}
	free(old);
	return true;
}

int remote_write_define(struct remote_write *rw, uint64_t id, const char *name, size_t len)
{
	if (rw_find(rw, id))
		return 0;
	if (len > SERIES_NAME_MAX)
		return -ENAMETOOLONG;
	if (((rw->series_used + 1) * 2 > rw->series_cap && !grow_table(rw)) ||
	    !grow_bytes(&rw->names, &rw->names_cap, rw->names_len + len + 1, 1 << 20))
		return -ENOMEM;
	size_t j = slot_of(rw, id);
	while (rw->series[j].id)
		j = (j + 1) & (rw->series_cap - 1);
	memcpy(rw->names + rw->names_len, name, len);
	rw->names[rw->names_len + len] = '\0';
	rw->series[j] = (struct rw_series){ .id = id,
					    .name_off = (uint32_t)rw->names_len,
					    .name_len = (uint32_t)len,
					    .sent_ts = INT64_MIN };
	rw->names_len += len + 1;
	rw->series_used++;
	return 0;
}

void rw_free_names(struct remote_write *rw)
{
	free(rw->series);
	free(rw->names);
	for (int i = 0; i < 2; i++) {
		struct rw_request *r = i ? &rw->next : &rw->cur;
		rw_request_clear(r);
		free(r->touched);
		free(r->touched_ts);
	}
}

void rw_request_clear(struct rw_request *req)
{
	free(req->body);
	req->body = NULL;
	req->body_len = 0;
	req->n_touched = 0;
	req->samples = 0;
}

static int by_label_name(const void *a, const void *b)
{
	const Prometheus__Label *la = *(Prometheus__Label *const *)a;
	const Prometheus__Label *lb = *(Prometheus__Label *const *)b;
	return strcmp(la->name, lb->name);
}

/* Everything one build allocates, freed together. */
struct build {
	Prometheus__TimeSeries *ts, **ts_ptrs;
	Prometheus__Sample *samples, **sample_ptrs;
	Prometheus__Label *labels, **label_ptrs;
	size_t n_labels, labels_cap;
	uint32_t *slot_of_sample, *count, *first_label, *n_label;
	char *strings;
	uint8_t *packed;
};

static void build_free(struct build *b)
{
	free(b->ts);
	free(b->ts_ptrs);
	free(b->samples);
	free(b->sample_ptrs);
	free(b->labels);
	free(b->label_ptrs);
	free(b->slot_of_sample);
	free(b->count);
	free(b->first_label);
	free(b->n_label);
	free(b->strings);
	free(b->packed);
}

#define SKIPPED UINT32_MAX

/* Pass 1: which TimeSeries each sample goes to, or SKIPPED. */
static size_t assign_slots(struct remote_write *rw, struct rw_request *req, uint32_t after_gen,
			   struct build *b, size_t *kept)
{
	size_t n_ts = 0;
	*kept = 0;
	req->n_touched = 0;
	for (size_t i = 0; i < rw->n_samples; i++) {
		const struct sample *s = &rw->samples[i];
		struct rw_series *r = rw_find(rw, s->id);
		b->slot_of_sample[i] = SKIPPED;
		if (!r) {
			rw->stats.skipped_samples++;
			continue;
		}
		if (r->req_gen != rw->gen) {
			/* The request in flight carries this series: after its newest. */
			if (!after_gen || r->req_gen != after_gen || r->req_ts < r->sent_ts)
				r->req_ts = r->sent_ts;
			r->req_gen = rw->gen;
			r->slot = (uint32_t)n_ts++;
			b->count[r->slot] = 0;
			req->touched[req->n_touched++] = r;
		}
		if (s->ts <= r->req_ts) { /* a resent sample the receiver has */
			rw->stats.skipped_samples++;
			continue;
		}
		r->req_ts = s->ts;
		b->slot_of_sample[i] = r->slot;
		b->count[r->slot]++;
		(*kept)++;
	}
	return n_ts;
}

/* The labels of series r: __name__, host, its own (a "host" of its own
 * as exported_host), into b->labels, the strings into at. */
static int series_labels(struct remote_write *rw, struct build *b, const struct rw_series *r,
			 char *at)
{
	const char *host, *metric, *text;
	struct series_label own[SERIES_LABELS_MAX];
	memcpy(at, rw->names + r->name_off, r->name_len + 1);
	int n;
	if (series_split(at, &host, &metric, &text) != 0 ||
	    (n = series_split_labels((char *)text, own, SERIES_LABELS_MAX)) < 0)
		return -EIO;
	if (!grow_array(&b->labels, &b->labels_cap, b->n_labels + (size_t)n + 2, sizeof *b->labels))
		return -ENOMEM;
	Prometheus__Label *l = b->labels + b->n_labels;
	prometheus__label__init(&l[0]);
	l[0].name = "__name__";
	l[0].value = (char *)metric;
	prometheus__label__init(&l[1]);
	l[1].name = "host";
	l[1].value = (char *)host;
	for (int i = 0; i < n; i++) {
		prometheus__label__init(&l[i + 2]);
		l[i + 2].name =
		    strcmp(own[i].key, "host") == 0 ? "exported_host" : (char *)own[i].key;
		l[i + 2].value = (char *)own[i].value;
	}
	b->n_labels += (size_t)n + 2;
	return n + 2;
}

int rw_build(struct remote_write *rw, struct rw_request *req, uint32_t after_gen, struct err *e)
{
	struct build b = { 0 };
	size_t n = rw->n_samples, kept, strings = 0, cap = req->touched_cap;
	int rc = -ENOMEM;
	req->gen = ++rw->gen;
	rw_request_clear(req);
	if (!grow_array(&req->touched, &req->touched_cap, n + 1, sizeof *req->touched) ||
	    !grow_array(&req->touched_ts, &cap, n + 1, sizeof *req->touched_ts) ||
	    !(b.slot_of_sample = malloc((n + 1) * sizeof *b.slot_of_sample)) ||
	    !(b.count = malloc((n + 1) * sizeof *b.count)))
		goto out;
	size_t n_ts = assign_slots(rw, req, after_gen, &b, &kept);
	for (size_t k = 0; k < n_ts; k++) {
		strings += req->touched[k]->name_len + 1;
		req->touched_ts[k] = req->touched[k]->req_ts;
	}
	if (!(b.ts = calloc(n_ts + 1, sizeof *b.ts)) ||
	    !(b.ts_ptrs = malloc((n_ts + 1) * sizeof *b.ts_ptrs)) ||
	    !(b.samples = malloc((kept + 1) * sizeof *b.samples)) ||
	    !(b.sample_ptrs = malloc((kept + 1) * sizeof *b.sample_ptrs)) ||
	    !(b.first_label = malloc((n_ts + 1) * sizeof *b.first_label)) ||
	    !(b.n_label = malloc((n_ts + 1) * sizeof *b.n_label)) ||
	    !(b.strings = malloc(strings + 1)))
		goto out;
	/* Each series' samples get a run of sample_ptrs, in spool order. */
	size_t start = 0;
	char *at = b.strings;
	for (size_t k = 0; k < n_ts; k++) {
		prometheus__time_series__init(&b.ts[k]);
		b.ts_ptrs[k] = &b.ts[k];
		b.ts[k].samples = b.sample_ptrs + start;
		start += b.count[k];
		b.first_label[k] = (uint32_t)b.n_labels;
		int got = series_labels(rw, &b, req->touched[k], at);
		if (got < 0) {
			rc = err_set(e, got, "remote_write: a stored name does not split");
			goto out;
		}
		b.n_label[k] = (uint32_t)got;
		at += req->touched[k]->name_len + 1;
	}
	for (size_t i = 0, used = 0; i < n; i++) {
		uint32_t k = b.slot_of_sample[i];
		if (k == SKIPPED)
			continue;
		Prometheus__Sample *p = &b.samples[used++];
		prometheus__sample__init(p);
		p->value = rw->samples[i].value;
		p->timestamp = rw->samples[i].ts / 1000000;
		b.ts[k].samples[b.ts[k].n_samples++] = p;
	}
	if (!(b.label_ptrs = malloc((b.n_labels + 1) * sizeof *b.label_ptrs)))
		goto out;
	for (size_t k = 0; k < n_ts; k++) {
		b.ts[k].labels = b.label_ptrs + b.first_label[k];
		b.ts[k].n_labels = b.n_label[k];
		for (size_t j = 0; j < b.n_label[k]; j++)
			b.ts[k].labels[j] = &b.labels[b.first_label[k] + j];
		qsort(b.ts[k].labels, b.ts[k].n_labels, sizeof *b.ts[k].labels, by_label_name);
	}
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	wr.n_timeseries = n_ts;
	wr.timeseries = b.ts_ptrs;
	size_t packed_len = prometheus__write_request__get_packed_size(&wr);
	size_t max = snappy_max_compressed_length(packed_len);
	if (!(b.packed = malloc(packed_len + 1)) || !(req->body = malloc(max + 1)))
		goto out;
	prometheus__write_request__pack(&wr, b.packed);
	req->body_len = max;
	if (snappy_compress((const char *)b.packed, packed_len, req->body, &req->body_len) !=
	    SNAPPY_OK) {
		rc = err_set(e, -EIO, "remote_write: snappy could not compress");
		goto out;
	}
	req->samples = kept;
	rc = 0;
out:
	if (rc == -ENOMEM)
		err_set(e, rc, "remote_write: out of memory building a request");
	if (rc != 0) {
		free(req->body);
		req->body = NULL;
	}
	build_free(&b);
	return rc;
}

int remote_write_encode(struct remote_write *rw, const struct sample *s, size_t n, char **body,
			size_t *len, struct err *e)
{
	if (!grow_array(&rw->samples, &rw->samples_cap, n + 1, sizeof *rw->samples))
		return err_set(e, -ENOMEM, "remote_write: out of memory");
	memcpy(rw->samples, s, n * sizeof *s);
	rw->n_samples = n;
	struct rw_request req = { 0 };
	int rc = rw_build(rw, &req, 0, e);
	if (rc == 0) {
		*body = req.body;
		*len = req.body_len;
		req.body = NULL;
	}
	rw_request_clear(&req);
	free(req.touched);
	free(req.touched_ts);
	return rc;
}
