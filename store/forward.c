/* forward.c - the relay's and the remote writers' hooks; see forward.h. */
#include "store/forward.h"

#include <errno.h>
#include <stdio.h>

#include "lib/log.h"
#include "lib/rtime.h"
#include "store/query.h"

void forward_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct forward *f = ctx;
	char copy[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	snprintf(copy, sizeof copy, "%.*s", (int)len, name);
	if (f->up && shipper_define(f->up, id, copy, &e) != 0)
		log_warn("relay", "%s", e.msg);
	for (size_t i = 0; i < f->n_rw; i++)
		if (remote_write_define(f->rw[i], id, name, len) != 0)
			log_warn("remote_write", "out of memory naming %s", copy);
}

void forward_samples(void *ctx, const struct sample *s, size_t n)
{
	struct forward *f = ctx;
	struct err e = { 0 };
	if (f->up && shipper_send(f->up, s, n, &e) != 0)
		log_warn("relay", "%s", e.msg);
	for (size_t i = 0; i < f->n_rw; i++)
		if (remote_write_samples(f->rw[i], s, n, &e) != 0)
			log_warn("remote_write", "%s", e.msg);
}

static int define_one(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct forward *f = ctx;
	char copy[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	snprintf(copy, sizeof copy, "%.*s", (int)len, name);
	if (f->up && shipper_define(f->up, id, copy, &e) != 0) {
		log_error("relay", "%s", e.msg);
		return -EIO;
	}
	for (size_t i = 0; i < f->n_rw; i++)
		if (remote_write_define(f->rw[i], id, name, len) != 0) {
			log_error("remote_write", "out of memory naming %s", copy);
			return -ENOMEM;
		}
	return 0;
}

int forward_start(struct forward *f, const char *data, struct err *e)
{
	struct query *q;
	if (!f->up && !f->n_rw)
		return 0;
	int rc = query_open(data, &q, e);
	if (rc != 0)
		return rc;
	rc = query_series(q, NULL, define_one, f, e);
	query_close(q);
	for (size_t i = 0; rc == 0 && i < f->n_rw; i++)
		remote_write_start(f->rw[i]);
	return rc;
}

int forward_record(struct forward *f, struct drainer *d, struct err *e)
{
	int rc = 0;
	if (f->up) {
		struct shipper_stats ss;
		shipper_get_stats(f->up, &ss);
		const struct drainer_metric v[] = {
			{ "rmon_relay_connected", ss.connected ? 1 : 0 },
			{ "rmon_relay_spool_bytes", (double)ss.spool.bytes },
			{ "rmon_relay_spool_pending_batches", (double)ss.spool.pending_batches },
			{ "rmon_relay_spool_dropped_samples_total",
			  (double)ss.spool.dropped_samples },
		};
		rc = drainer_record(d, v, sizeof v / sizeof v[0], e);
	}
	for (size_t i = 0; rc == 0 && i < f->n_rw; i++) {
		struct remote_write_stats st;
		remote_write_get_stats(f->rw[i], &st);
		const struct drainer_metric v[] = {
			{ "rmon_remote_write_sent_samples_total", (double)st.sent_samples },
			{ "rmon_remote_write_sent_requests_total", (double)st.sent_requests },
			{ "rmon_remote_write_failed_requests_total", (double)st.failed_requests },
			{ "rmon_remote_write_rejected_samples_total", (double)st.rejected_samples },
			{ "rmon_remote_write_dropped_samples_total", (double)st.dropped_samples },
			{ "rmon_remote_write_skipped_samples_total", (double)st.skipped_samples },
			{ "rmon_remote_write_pending_batches", (double)st.pending_batches },
			{ "rmon_remote_write_spool_bytes", (double)st.spool_bytes },
			{ "rmon_remote_write_lag_seconds", st.lag_seconds },
			{ "rmon_remote_write_failing", st.failing ? 1 : 0 },
		};
		struct series_label label = { "remote", remote_write_name(f->rw[i]) };
		rc = drainer_record_labelled(d, &label, v, sizeof v / sizeof v[0], e);
	}
	return rc;
}

void forward_drain(struct forward *f, struct evloop *loop, int64_t max_ns)
{
	struct err e = { 0 };
	for (int64_t end = rtime_mono_ns() + max_ns; rtime_mono_ns() < end;) {
		bool busy = false;
		for (size_t i = 0; i < f->n_rw; i++) {
			struct remote_write_stats st;
			remote_write_get_stats(f->rw[i], &st);
			busy |= !st.failing && st.pending_batches;
		}
		if (!busy || evloop_run_once(loop, 50 * RTIME_NS_PER_MS, &e) < 0)
			break;
	}
}
