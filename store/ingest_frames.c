/* ingest_frames.c - what an authenticated ingest connection sends: SERIES
 * (which series it may write: its own host's, a relay's carries) and
 * SAMPLES (ownership, rate limits, samples from the far future), on to the
 * drainer.  See ingest_private.h and docs/protocol.md. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/drainer.h"
#include "store/idset.h"
#include "store/ingest_private.h"

#ifdef RMON_TESTING
int ingest_testing_scratch_failures;
#endif

/* Whether the connection may write series of host (host_len bytes): its
 * own, and for a relay those its carries patterns match. */
static bool may_write_host(const struct conn *c, const char *host, size_t host_len)
{
	if (host_len == strlen(c->host) && memcmp(host, c->host, host_len) == 0)
		return true;
	if (!c->relay || host_len > PROTO_HOST_MAX)
		return false;
	char name[PROTO_HOST_MAX + 1];
	memcpy(name, host, host_len);
	name[host_len] = '\0';
	for (size_t i = 0; i < c->entry->n_carries; i++)
		if (fnmatch(c->entry->carries[i], name, 0) == 0)
			return true;
	return false;
}

/* A definition must name a series of a host the connection may write and
 * carry the id that its name hashes to.  -EPERM for another host's series,
 * -EINVAL for a bad name or id; reason says which. */
static int check_definition(struct ingest *s, struct conn *c, uint64_t id, const char *name,
			    size_t len, char *reason, size_t reason_len)
{
	if (len == 0 || len > SERIES_NAME_MAX || memchr(name, '\0', len)) {
		snprintf(reason, reason_len, "a series name is empty, too long or holds a NUL");
		return -EINVAL;
	}
	struct err e = { 0 };
	if (series_name_check(name, len, &e) != 0) {
		snprintf(reason, reason_len, "%s", e.msg); /* the name shown escaped */
		return -EINVAL;
	}
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	const char *slash = memchr(name, '/', len);
	if (!slash || !may_write_host(c, name, (size_t)(slash - name))) {
		snprintf(reason, reason_len, "series %.200s does not belong to host %s", s->name,
			 c->host);
		return -EPERM;
	}
	if (series_id(s->name, len) != id) {
		snprintf(reason, reason_len, "series %.200s: id %016llx is not its id", s->name,
			 (unsigned long long)id);
		return -EINVAL;
	}
	return 0;
}

/* Every definition is checked, known series too: a connection may write
 * exactly the series it defined here (c->ids); a definition of a series it
 * may not write is left out (its samples are then refused); a known id
 * defined under another name (a forged hash collision) is a name clash. */
void ingest_on_series(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct proto_series_iter it;
	struct err e = { 0 };
	char reason[512];
	int64_t n = proto_series_begin(&it, payload, len, &e);
	if (n < 0) {
		ingest_refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
		return;
	}
	for (int64_t i = 0; i < n; i++) {
		uint64_t id;
		const char *name;
		size_t name_len;
		int rc;
		if (proto_series_next(&it, &id, &name, &name_len, &e) != 0) {
			ingest_refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
			return;
		}
		if (idset_has(&c->ids, id))
			continue; /* defined before on this connection */
		rc = check_definition(s, c, id, name, name_len, reason, sizeof reason);
		if (rc != 0 && rc != -EPERM) {
			ingest_refuse(s, c, PROTO_ERR_SERIES, reason);
			return;
		}
		if (c->ids.n >= c->max_series) {
			snprintf(reason, sizeof reason, "more than %u series on one connection",
				 c->max_series);
			ingest_refuse(s, c, PROTO_ERR_LIMIT, reason);
			return;
		}
		if (rc == -EPERM) {
			/* Not fatal: a sender renamed keeps its old name's definitions
			 * in its spool.  Not in c->ids: a sample of it is refused. */
			s->stats.ownership_refused++;
			if (!c->told_foreign)
				ingest_say(s, LOG_WARN,
					   "%s host %s: %s; its samples will be refused",
					   c->link.peer, c->host, reason);
			c->told_foreign = true;
			continue;
		}
		if ((rc = drainer_define(s->drainer, id, s->name, &e)) != 0) {
			ingest_refuse(
			    s, c, rc == -EEXIST ? PROTO_ERR_SERIES : PROTO_ERR_UNAVAILABLE, e.msg);
			return;
		}
		if (idset_add(&c->ids, id) < 0) {
			ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, "the store is out of memory");
			return;
		}
	}
}

/* Takes n samples from the connection's rate budget, refilled at max_rate
 * a second; when spent, the connection is paused until it is repaid. */
static void charge_rate(struct ingest *s, struct conn *c, size_t n)
{
	int64_t now = rtime_mono_ns();
	double rate = (double)c->max_rate;
	c->tokens += rate * (double)(now - c->tokens_at) / 1e9;
	if (c->tokens > rate)
		c->tokens = rate;
	c->tokens_at = now;
	c->tokens -= (double)n;
	if (c->tokens >= 0)
		return;
	/* Over budget: this batch is taken, the next waits until repaid. */
	if (!c->paused_until)
		s->n_paused++;
	c->paused_until = now + (int64_t)(-c->tokens / rate * 1e9);
	s->stats.throttled++;
}

/* Room for n samples in the decoding scratch, with their series and
 * places. */
static bool grow_scratch(struct ingest *s, size_t n)
{
#ifdef RMON_TESTING
	if (ingest_testing_scratch_failures > 0) {
		ingest_testing_scratch_failures--;
		return false;
	}
#endif
	struct sample *samples = realloc(s->samples, n * sizeof *samples);
	if (samples)
		s->samples = samples;
	struct db_series **found = realloc(s->found, n * sizeof *found);
	if (found)
		s->found = found;
	uint32_t *places = realloc(s->places, n * sizeof *places);
	if (places)
		s->places = places;
	if (!samples || !found || !places)
		return false;
	s->samples_cap = n;
	return true;
}

/* Room in c->found for every place of c->ids, the new ones not resolved. */
static bool grow_found(struct conn *c)
{
	size_t had = c->found_cap;
	if (!grow_array_from(&c->found, &c->found_cap, c->ids.n, sizeof *c->found, 64))
		return false;
	if (c->found_cap > had) /* with no ids yet, found may still be NULL */
		memset(c->found + had, 0, (c->found_cap - had) * sizeof *c->found);
	return true;
}

/* Samples further ahead of this clock than max_future are left out (and
 * counted), with their series and places: stored, they would make every
 * real sample of their series look out of order until that time.
 * Returns how many are kept. */
static size_t drop_future(struct ingest *s, struct conn *c, size_t n)
{
	int64_t limit = rtime_now_ns() + s->config.max_future_ns;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (s->samples[i].ts <= limit) {
			s->samples[kept] = s->samples[i];
			s->found[kept] = s->found[i];
			s->places[kept++] = s->places[i];
		}
	if (kept < n && !c->told_future) {
		c->told_future = true; /* once a connection: a skewed clock sends many */
		ingest_say(s, LOG_WARN,
			   "%s host %s: samples more than %llds ahead of this clock are not stored "
			   "(counted in rmon_ingest_future_dropped_total)",
			   c->link.peer, c->host,
			   (long long)(s->config.max_future_ns / RTIME_NS_PER_SEC));
	}
	s->stats.future_dropped += n - kept;
	return kept;
}

/* Finds each sample's place on the connection and what it resolved to,
 * into s->places and s->found: false (and id set) at the first sample of
 * a series the connection did not define.  An agent sends its series in
 * the order it defined them, so the place after the last sample's is
 * nearly always the next one's, and neither the set of ids nor the
 * store's table of series is looked up (at a million series, a cache miss
 * each). */
static bool find_places(struct ingest *s, struct conn *c, size_t n, uint64_t *id)
{
	size_t next = c->next_place;
	for (size_t i = 0; i < n; i++) {
		*id = s->samples[i].id;
		long place = next < c->ids.n && c->ids.order[next] == *id
				 ? (long)next
				 : idset_place(&c->ids, *id);
		if (place < 0)
			return false;
		s->places[i] = (uint32_t)place;
		s->found[i] = c->found[place];
		next = (size_t)place + 1 < c->ids.n ? (size_t)place + 1 : 0;
	}
	c->next_place = next;
	return true;
}

void ingest_on_samples(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct err e = { 0 };
	char reason[128];
	int64_t count = proto_samples_count(payload, len, &e);
	size_t n;
	uint64_t seq;
	if (count < 0) {
		ingest_refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
		return;
	}
	if ((size_t)count > s->samples_cap && !grow_scratch(s, (size_t)count)) {
		/* Our memory, not the peer's fault: it may retry (and keeps its batch). */
		ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, "the store is out of memory");
		return;
	}
	if (proto_decode_samples(payload, len, &seq, s->samples, s->samples_cap, &n, &e) != 0) {
		ingest_refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
		return;
	}
	if (!grow_found(c)) {
		ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, "the store is out of memory");
		return;
	}
	/* Nothing of the batch is added when one of its ids is not the
	 * connection's to write: the sender keeps it (and an operator who
	 * renamed a host or forgot a relay's carries sees why in both logs). */
	uint64_t foreign;
	if (!find_places(s, c, n, &foreign)) {
		snprintf(reason, sizeof reason,
			 "series id %016llx is not one this connection defined as its own",
			 (unsigned long long)foreign);
		ingest_refuse(s, c, PROTO_ERR_OWNERSHIP, reason);
		return;
	}
	size_t kept = drop_future(s, c, n);
	int rc = drainer_add_found(s->drainer, s->samples, kept, s->found, &e);
	if (rc != 0) {
		ingest_refuse(s, c, rc == -ENOENT ? PROTO_ERR_SERIES : PROTO_ERR_UNAVAILABLE,
			      e.msg);
		return;
	}
	for (size_t i = 0; i < kept; i++)
		c->found[s->places[i]] = s->found[i];
	charge_rate(s, c, n);
	s->stats.samples += kept;
	c->ack_due = s->acks_due = true;
	c->ack_seq = seq;
}
