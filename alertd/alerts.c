/* alerts.c - alertd's own store of alerts, history, acknowledgements,
 * silences and audit lines in the LMDB environment "<data>/alertd"; see
 * alerts.h.  Each call is one transaction; listings decode into memory and
 * call back after the transaction ended, so a callback may use the store. */
#include "alertd/alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alertd/alerts_db.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "store/query.h"

#define LAYOUT_VERSION 1
#define INITIAL_MAP    (16u << 20)
#define DEFAULT_KEEP   (24 * 3600 * RTIME_NS_PER_SEC)
#define TIME_KEY(t)    ((uint64_t)(t) ^ (UINT64_C(1) << 63)) /* signed order as bytes */

static const char *const db_names[ADB_COUNT] = {
	"meta", "alerts", "active", "events", "silences", "audit", "notices", "owed", "sent",
};

const char *alert_state_name(enum alert_state state)
{
	switch (state) {
	case ALERT_INACTIVE:
		return "inactive";
	case ALERT_PENDING:
		return "pending";
	case ALERT_FIRING:
		return "firing";
	case ALERT_RESOLVED:
		return "resolved";
	}
	return "unknown";
}

/* ---- records ---- */

static void put_alert(struct rec_out *r, const struct alert *a)
{
	rec_put_u64(r, a->id);
	rec_put_str(r, a->key);
	rec_put_str(r, a->rule);
	rec_put_str(r, a->host);
	rec_put_str(r, a->labels);
	rec_put_str(r, a->severity);
	rec_put_str(r, a->series);
	rec_put_u64(r, a->state);
	rec_put_f64(r, a->value);
	rec_put_f64(r, a->threshold);
	rec_put_i64(r, a->started);
	rec_put_i64(r, a->fired);
	rec_put_i64(r, a->resolved);
	rec_put_i64(r, a->updated);
	rec_put_str(r, a->summary);
	rec_put_str(r, a->detail);
	rec_put_i64(r, a->acked_at);
	rec_put_str(r, a->acked_by);
	rec_put_str(r, a->ack_comment);
	rec_put_u64(r, a->silenced_by);
	rec_put_u64(r, a->inhibited);
}

static bool get_alert(const MDB_val *v, struct alert *a)
{
	struct rec_in r = { v->mv_data, v->mv_size, false };
	a->id = rec_get_u64(&r);
	rec_get_str(&r, a->key, sizeof a->key);
	rec_get_str(&r, a->rule, sizeof a->rule);
	rec_get_str(&r, a->host, sizeof a->host);
	rec_get_str(&r, a->labels, sizeof a->labels);
	rec_get_str(&r, a->severity, sizeof a->severity);
	rec_get_str(&r, a->series, sizeof a->series);
	uint64_t state = rec_get_u64(&r);
	a->state = state <= ALERT_RESOLVED ? (enum alert_state)state : ALERT_INACTIVE;
	a->value = rec_get_f64(&r);
	a->threshold = rec_get_f64(&r);
	a->started = rec_get_i64(&r);
	a->fired = rec_get_i64(&r);
	a->resolved = rec_get_i64(&r);
	a->updated = rec_get_i64(&r);
	rec_get_str(&r, a->summary, sizeof a->summary);
	rec_get_str(&r, a->detail, sizeof a->detail);
	a->acked_at = rec_get_i64(&r);
	rec_get_str(&r, a->acked_by, sizeof a->acked_by);
	rec_get_str(&r, a->ack_comment, sizeof a->ack_comment);
	a->silenced_by = rec_get_u64(&r);
	a->inhibited = rec_get_u64(&r) != 0;
	return !r.bad && state <= ALERT_RESOLVED;
}

static void put_event(struct rec_out *r, const struct alert_event *ev)
{
	rec_put_u64(r, ev->alert_id);
	rec_put_i64(r, ev->at);
	rec_put_u64(r, ev->from);
	rec_put_u64(r, ev->to);
	rec_put_f64(r, ev->value);
	rec_put_str(r, ev->rule);
	rec_put_str(r, ev->host);
	rec_put_str(r, ev->labels);
}

static bool get_event(const MDB_val *v, struct alert_event *ev)
{
	struct rec_in r = { v->mv_data, v->mv_size, false };
	ev->alert_id = rec_get_u64(&r);
	ev->at = rec_get_i64(&r);
	uint64_t from = rec_get_u64(&r), to = rec_get_u64(&r);
	ev->from = from <= ALERT_RESOLVED ? (enum alert_state)from : ALERT_INACTIVE;
	ev->to = to <= ALERT_RESOLVED ? (enum alert_state)to : ALERT_INACTIVE;
	ev->value = rec_get_f64(&r);
	rec_get_str(&r, ev->rule, sizeof ev->rule);
	rec_get_str(&r, ev->host, sizeof ev->host);
	rec_get_str(&r, ev->labels, sizeof ev->labels);
	return !r.bad && from <= ALERT_RESOLVED && to <= ALERT_RESOLVED;
}

static void put_silence(struct rec_out *r, const struct alert_silence *si)
{
	rec_put_u64(r, si->id);
	rec_put_str(r, si->selector);
	rec_put_i64(r, si->start);
	rec_put_i64(r, si->end);
	rec_put_i64(r, si->created);
	rec_put_str(r, si->by);
	rec_put_str(r, si->comment);
}

static bool get_silence(const MDB_val *v, struct alert_silence *si)
{
	struct rec_in r = { v->mv_data, v->mv_size, false };
	si->id = rec_get_u64(&r);
	rec_get_str(&r, si->selector, sizeof si->selector);
	si->start = rec_get_i64(&r);
	si->end = rec_get_i64(&r);
	si->created = rec_get_i64(&r);
	rec_get_str(&r, si->by, sizeof si->by);
	rec_get_str(&r, si->comment, sizeof si->comment);
	return !r.bad;
}

static bool get_audit(const MDB_val *v, struct alert_audit *a)
{
	struct rec_in r = { v->mv_data, v->mv_size, false };
	a->at = rec_get_i64(&r);
	rec_get_str(&r, a->who, sizeof a->who);
	rec_get_str(&r, a->what, sizeof a->what);
	return !r.bad;
}

static int damaged(struct alert_store *s, struct err *e, const char *what, uint64_t id)
{
	return err_set(e, -EIO, "alert store %s: %s %" PRIu64 " is damaged", s->dir, what, id);
}

/* Puts the record built in s->rec under key in db. */
static int put_rec(struct alert_store *s, MDB_txn *txn, enum adb db, const void *key,
		   size_t key_len, struct err *e)
{
	if (s->rec.failed)
		return err_set(e, -ENOMEM, "alert store %s: out of memory", s->dir);
	MDB_val k = { key_len, (void *)key }, v = { s->rec.len, s->rec.buf };
	int rc = mdb_put(txn, s->dbi[db], &k, &v, 0);
	return rc ? adb_error(s, e, rc, "cannot write") : 0;
}

static int put_alert_rec(struct alert_store *s, MDB_txn *txn, const struct alert *a, struct err *e)
{
	unsigned char key[8];
	rec_key_u64(key, a->id);
	rec_reset(&s->rec);
	put_alert(&s->rec, a);
	return put_rec(s, txn, ADB_ALERTS, key, sizeof key, e);
}

static int read_alert(struct alert_store *s, MDB_txn *txn, uint64_t id, struct alert *a,
		      struct err *e)
{
	unsigned char key[8];
	rec_key_u64(key, id);
	MDB_val k = { sizeof key, key }, v;
	int rc = mdb_get(txn, s->dbi[ADB_ALERTS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, -ENOENT, "no alert %" PRIu64, id);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	return get_alert(&v, a) ? 0 : damaged(s, e, "alert", id);
}

/* Keys of time-ordered records: (time, sequence), both big-endian. */
static int put_timed(struct alert_store *s, MDB_txn *txn, enum adb db, int64_t at, struct err *e)
{
	uint64_t seq;
	int rc = adb_next(s, txn, "next_timed", &seq);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	unsigned char key[16];
	rec_key_u64(key, TIME_KEY(at));
	rec_key_u64(key + 8, seq);
	return put_rec(s, txn, db, key, sizeof key, e);
}

static int audit_in(struct alert_store *s, MDB_txn *txn, const char *who, const char *what,
		    int64_t now, struct err *e)
{
	struct alert_audit a = { .at = now };
	adb_copy(a.who, sizeof a.who, who);
	adb_copy(a.what, sizeof a.what, what);
	rec_reset(&s->rec);
	rec_put_i64(&s->rec, a.at);
	rec_put_str(&s->rec, a.who);
	rec_put_str(&s->rec, a.what);
	return put_timed(s, txn, ADB_AUDIT, now, e);
}

/* ---- opening ---- */

static int open_dbs(struct alert_store *s, bool create, struct err *e)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	for (int i = 0; i < ADB_COUNT && rc == 0; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	if (rc) {
		mdb_txn_abort(txn);
		return adb_error(s, e, rc, "cannot open its databases");
	}
	uint64_t version = adb_meta(s, txn, "version");
	if (version == 0 && (rc = adb_meta_put(s, txn, "version", LAYOUT_VERSION))) {
		mdb_txn_abort(txn);
		return adb_error(s, e, rc, "cannot write");
	}
	if (version != 0 && version != LAYOUT_VERSION) {
		mdb_txn_abort(txn);
		return err_set(e, -EPROTO,
			       "alert store %s has layout version %" PRIu64
			       ", this program reads version %d",
			       s->dir, version, LAYOUT_VERSION);
	}
	if ((rc = mdb_txn_commit(txn)))
		return adb_error(s, e, rc, "cannot open its databases");
	(void)create;
	return 0;
}

int alert_store_open(const char *data_dir, unsigned flags, struct alert_store **out, struct err *e)
{
	*out = NULL;
	struct alert_store *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	int rc;
	if ((size_t)snprintf(s->dir, sizeof s->dir, "%s/alertd", data_dir) >= sizeof s->dir) {
		rc = err_set(e, -ENAMETOOLONG, "data folder %s: path too long", data_dir);
		goto fail;
	}
	bool create = flags & ALERT_STORE_CREATE;
	char file[4200];
	snprintf(file, sizeof file, "%s/data.mdb", s->dir);
	struct stat st;
	if (!create && stat(file, &st) != 0) {
		rc = err_set(e, -ENOENT,
			     "no alert store in %s: rmon-alertd has not run with --data %s yet",
			     data_dir, data_dir);
		goto fail;
	}
	if (create && mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		rc = err_sys(e, -errno, "cannot create %s", s->dir);
		goto fail;
	}
	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, ADB_COUNT))) {
		rc = adb_error(s, e, rc, "cannot create the environment");
		goto fail;
	}
	/* MDB_NOTLS: transactions belong to this handle, whichever thread
	 * runs them.  Commits sync: the notification log's promise (written
	 * before a send) must hold across a power cut too, and alertd writes
	 * a few transactions a second at most. */
	if ((rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600))) {
		rc = adb_error(s, e, rc, "cannot open");
		goto fail;
	}
	MDB_envinfo info;
	MDB_stat mst;
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &mst);
	size_t used = (size_t)(info.me_last_pgno + 1) * mst.ms_psize;
	s->map_size = info.me_mapsize;
	if (s->map_size < used * 2 + INITIAL_MAP) {
		s->map_size = used * 2 + INITIAL_MAP;
		if ((rc = mdb_env_set_mapsize(s->env, s->map_size))) {
			rc = adb_error(s, e, rc, "cannot size the map");
			goto fail;
		}
	}
	if ((rc = open_dbs(s, create, e)))
		goto fail;
	*out = s;
	return 0;
fail:
	alert_store_close(s);
	return rc;
}

void alert_store_close(struct alert_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	rec_free(&s->rec);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int read_generation(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	*(uint64_t *)ctx = adb_meta(s, txn, "generation");
	return 0;
}

uint64_t alert_store_generation(struct alert_store *s)
{
	uint64_t g = 0;
	adb_read(s, read_generation, &g, NULL);
	return g;
}

/* ---- alerts ---- */

struct alert_list {
	bool active_only;
	int64_t now;
	struct alert *items;
	size_t n, cap;
};

static int list_alerts(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct alert_list *l = ctx;
	int64_t keep = (int64_t)adb_meta(s, txn, "resolved_keep");
	if (keep <= 0)
		keep = DEFAULT_KEEP;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_ALERTS], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	MDB_val k, v;
	/* Newest first: ids grow with time. */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (!grow_array(&l->items, &l->cap, l->n + 1, sizeof *l->items)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		struct alert *a = &l->items[l->n];
		if (!get_alert(&v, a)) {
			mdb_cursor_close(c);
			return damaged(s, e, "alert",
				       k.mv_size == 8 ? rec_key_get_u64(k.mv_data) : 0);
		}
		bool active = a->state == ALERT_PENDING || a->state == ALERT_FIRING;
		if (active ||
		    (!l->active_only && a->state == ALERT_RESOLVED && a->resolved >= l->now - keep))
			l->n++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

int alert_store_alerts(struct alert_store *s, bool active_only, alert_fn fn, void *ctx,
		       struct err *e)
{
	struct alert_list l = { .active_only = active_only, .now = rtime_now_ns() };
	int rc = adb_read(s, list_alerts, &l, e);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = fn(ctx, &l.items[i]);
	free(l.items);
	return rc;
}

struct get_ctx {
	uint64_t id;
	struct alert *out;
};

static int get_one(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct get_ctx *g = ctx;
	return read_alert(s, txn, g->id, g->out, e);
}

int alert_store_get(struct alert_store *s, uint64_t id, struct alert *out, struct err *e)
{
	struct get_ctx g = { id, out };
	return adb_read(s, get_one, &g, e);
}

/* ---- history ---- */

struct history_ctx {
	int64_t from, to;
	size_t limit;
	struct alert_event *items;
	size_t n, cap;
};

static int list_history(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct history_ctx *h = ctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_EVENTS], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	unsigned char key[16];
	rec_key_u64(key, TIME_KEY(h->to));
	memset(key + 8, 0, 8);
	MDB_val k = { sizeof key, key }, v;
	/* The first key at or after `to`, then backwards. */
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	rc = mdb_cursor_get(c, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	for (; rc == 0 && (!h->limit || h->n < h->limit);
	     rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (!grow_array(&h->items, &h->cap, h->n + 1, sizeof *h->items)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		struct alert_event *ev = &h->items[h->n];
		if (!get_event(&v, ev)) {
			mdb_cursor_close(c);
			return damaged(s, e, "history event of alert", 0);
		}
		if (ev->at < h->from)
			break;
		if (ev->at < h->to)
			h->n++;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

int alert_store_history(struct alert_store *s, int64_t from, int64_t to, size_t limit,
			alert_event_fn fn, void *ctx, struct err *e)
{
	struct history_ctx h = { .from = from, .to = to, .limit = limit };
	int rc = adb_read(s, list_history, &h, e);
	for (size_t i = 0; rc == 0 && i < h.n; i++)
		rc = fn(ctx, &h.items[i]);
	free(h.items);
	return rc;
}

/* ---- acknowledgements ---- */

struct ack_ctx {
	uint64_t id;
	const char *who, *comment;
	int64_t now;
	bool ack;
};

static int do_ack(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct ack_ctx *a = ctx;
	struct alert al;
	int rc = read_alert(s, txn, a->id, &al, e);
	if (rc)
		return rc;
	if (a->ack && al.state != ALERT_PENDING && al.state != ALERT_FIRING) {
		char when[32] = "";
		time_t t = (time_t)(al.resolved / RTIME_NS_PER_SEC);
		struct tm tm;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		return err_set(e, -EALREADY,
			       "alert %" PRIu64 " is %s since %s: nothing to acknowledge", a->id,
			       al.state == ALERT_RESOLVED ? "resolved" : "over", when);
	}
	char what[ALERT_TEXT_MAX];
	if (a->ack) {
		al.acked_at = a->now;
		adb_copy(al.acked_by, sizeof al.acked_by, a->who);
		adb_copy(al.ack_comment, sizeof al.ack_comment, a->comment ? a->comment : "");
		snprintf(what, sizeof what, "ack %" PRIu64 "%s%.480s", a->id,
			 al.ack_comment[0] ? ": " : "", al.ack_comment);
	} else {
		al.acked_at = 0;
		al.acked_by[0] = al.ack_comment[0] = 0;
		snprintf(what, sizeof what, "unack %" PRIu64, a->id);
	}
	if ((rc = put_alert_rec(s, txn, &al, e)))
		return rc;
	return audit_in(s, txn, a->who, what, a->now, e);
}

int alert_store_ack(struct alert_store *s, uint64_t id, const char *who, const char *comment,
		    int64_t now, struct err *e)
{
	struct ack_ctx a = { id, who, comment, now, true };
	return adb_write(s, do_ack, &a, e);
}

int alert_store_unack(struct alert_store *s, uint64_t id, const char *who, int64_t now,
		      struct err *e)
{
	struct ack_ctx a = { id, who, NULL, now, false };
	return adb_write(s, do_ack, &a, e);
}

/* ---- silences ---- */

struct silence_ctx {
	struct alert_silence si;
	uint64_t id;
	int64_t now;
	bool active_only;
	struct alert_silence *items;
	size_t n, cap;
};

static int do_silence_add(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct silence_ctx *c = ctx;
	int rc = adb_next(s, txn, "next_silence", &c->si.id);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	unsigned char key[8];
	rec_key_u64(key, c->si.id);
	rec_reset(&s->rec);
	put_silence(&s->rec, &c->si);
	if ((rc = put_rec(s, txn, ADB_SILENCES, key, sizeof key, e)))
		return rc;
	char what[ALERT_TEXT_MAX];
	snprintf(what, sizeof what, "silence %" PRIu64 " %.200s%s%.200s", c->si.id, c->si.selector,
		 c->si.comment[0] ? ": " : "", c->si.comment);
	return audit_in(s, txn, c->si.by, what, c->now, e);
}

int alert_store_silence_add(struct alert_store *s, const char *selector, int64_t start, int64_t end,
			    const char *who, const char *comment, int64_t now, uint64_t *id,
			    struct err *e)
{
	struct query_selector *sel;
	int rc = query_selector_parse(selector, &sel, e);
	if (rc)
		return rc;
	query_selector_free(sel);
	if (strlen(selector) >= ALERT_TEXT_MAX)
		return err_set(e, -EINVAL, "selector longer than %d bytes", ALERT_TEXT_MAX - 1);
	if (end <= start)
		return err_set(e, -EINVAL, "a silence must end after it starts");
	struct silence_ctx c = { .si = { .start = start, .end = end, .created = now }, .now = now };
	adb_copy(c.si.selector, sizeof c.si.selector, selector);
	adb_copy(c.si.by, sizeof c.si.by, who);
	adb_copy(c.si.comment, sizeof c.si.comment, comment ? comment : "");
	if ((rc = adb_write(s, do_silence_add, &c, e)))
		return rc;
	if (id)
		*id = c.si.id;
	return 0;
}

static int do_silence_rm(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct silence_ctx *c = ctx;
	unsigned char key[8];
	rec_key_u64(key, c->id);
	MDB_val k = { sizeof key, key };
	int rc = mdb_del(txn, s->dbi[ADB_SILENCES], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return err_set(e, -ENOENT, "no silence %" PRIu64, c->id);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	char what[64];
	snprintf(what, sizeof what, "unsilence %" PRIu64, c->id);
	return audit_in(s, txn, c->si.by, what, c->now, e);
}

int alert_store_silence_rm(struct alert_store *s, uint64_t id, const char *who, int64_t now,
			   struct err *e)
{
	struct silence_ctx c = { .id = id, .now = now };
	adb_copy(c.si.by, sizeof c.si.by, who);
	return adb_write(s, do_silence_rm, &c, e);
}

static int list_silences(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct silence_ctx *c = ctx;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_SILENCES], &cur);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (!grow_array(&c->items, &c->cap, c->n + 1, sizeof *c->items)) {
			mdb_cursor_close(cur);
			return err_set(e, -ENOMEM, "out of memory");
		}
		if (!get_silence(&v, &c->items[c->n])) {
			mdb_cursor_close(cur);
			return damaged(s, e, "silence", rec_key_get_u64(k.mv_data));
		}
		if (!c->active_only || c->items[c->n].end > c->now)
			c->n++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

int alert_store_silences(struct alert_store *s, bool active_only, int64_t now, alert_silence_fn fn,
			 void *ctx, struct err *e)
{
	struct silence_ctx c = { .now = now, .active_only = active_only };
	int rc = adb_read(s, list_silences, &c, e);
	for (size_t i = 0; rc == 0 && i < c.n; i++)
		rc = fn(ctx, &c.items[i]);
	free(c.items);
	return rc;
}

/* ---- audit ---- */

struct audit_ctx {
	const char *who, *what;
	int64_t now;
	size_t limit;
	struct alert_audit *items;
	size_t n, cap;
};

static int do_audit_add(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct audit_ctx *a = ctx;
	return audit_in(s, txn, a->who, a->what, a->now, e);
}

int alert_store_audit_add(struct alert_store *s, const char *who, const char *what, int64_t now,
			  struct err *e)
{
	struct audit_ctx a = { .who = who, .what = what, .now = now };
	return adb_write(s, do_audit_add, &a, e);
}

static int list_audit(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct audit_ctx *a = ctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_AUDIT], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0 && (!a->limit || a->n < a->limit);
	     rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (!grow_array(&a->items, &a->cap, a->n + 1, sizeof *a->items)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		if (!get_audit(&v, &a->items[a->n])) {
			mdb_cursor_close(c);
			return damaged(s, e, "audit line", 0);
		}
		a->n++;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

int alert_store_audit(struct alert_store *s, size_t limit, alert_audit_fn fn, void *ctx,
		      struct err *e)
{
	struct audit_ctx a = { .limit = limit };
	int rc = adb_read(s, list_audit, &a, e);
	for (size_t i = 0; rc == 0 && i < a.n; i++)
		rc = fn(ctx, &a.items[i]);
	free(a.items);
	return rc;
}

/* ---- rmon-alertd's writes ---- */

struct apply_ctx {
	const struct alert_change *changes;
	size_t n;
	struct alert *out;
};

static int add_event(struct alert_store *s, MDB_txn *txn, const struct alert *a,
		     enum alert_state from, struct err *e)
{
	struct alert_event ev = {
		.alert_id = a->id, .at = a->updated, .from = from, .to = a->state, .value = a->value
	};
	adb_copy(ev.rule, sizeof ev.rule, a->rule);
	adb_copy(ev.host, sizeof ev.host, a->host);
	adb_copy(ev.labels, sizeof ev.labels, a->labels);
	rec_reset(&s->rec);
	put_event(&s->rec, &ev);
	return put_timed(s, txn, ADB_EVENTS, ev.at, e);
}

static int apply_one(struct alert_store *s, MDB_txn *txn, const struct alert_change *c,
		     struct alert *a, struct err *e)
{
	size_t key_len = strlen(c->key);
	if (key_len == 0 || key_len >= ALERT_KEY_MAX)
		return err_set(e, -EINVAL, "alert key of %zu bytes (1 to %d)", key_len,
			       ALERT_KEY_MAX - 1);
	MDB_val k = { key_len, (void *)c->key }, v;
	int rc = mdb_get(txn, s->dbi[ADB_ACTIVE], &k, &v);
	bool ends = c->to == ALERT_RESOLVED || c->to == ALERT_INACTIVE;
	enum alert_state from = ALERT_INACTIVE;
	memset(a, 0, sizeof *a);
	if (rc == 0 && v.mv_size == 8) {
		uint64_t id;
		memcpy(&id, v.mv_data, 8);
		if ((rc = read_alert(s, txn, id, a, e)))
			return rc;
		from = a->state;
	} else if (rc && rc != MDB_NOTFOUND) {
		return adb_error(s, e, rc, "cannot read");
	} else if (ends) {
		return 0; /* nothing active to end */
	} else {
		if ((rc = adb_next(s, txn, "next_alert", &a->id)))
			return adb_error(s, e, rc, "cannot write");
		adb_copy(a->key, sizeof a->key, c->key);
		a->started = c->since ? c->since : c->at;
		a->state = ALERT_INACTIVE;
	}
	adb_copy(a->rule, sizeof a->rule, c->rule);
	adb_copy(a->host, sizeof a->host, c->host);
	adb_copy(a->labels, sizeof a->labels, c->labels);
	adb_copy(a->severity, sizeof a->severity, c->severity);
	adb_copy(a->series, sizeof a->series, c->series);
	if (c->summary)
		adb_copy(a->summary, sizeof a->summary, c->summary);
	if (c->detail)
		adb_copy(a->detail, sizeof a->detail, c->detail);
	a->value = c->value;
	a->threshold = c->threshold;
	a->updated = c->at;
	a->state = c->to;
	if (c->to == ALERT_FIRING && !a->fired)
		a->fired = c->at;
	if (ends)
		a->resolved = c->at;
	if ((rc = put_alert_rec(s, txn, a, e)))
		return rc;
	if (ends) {
		if ((rc = mdb_del(txn, s->dbi[ADB_ACTIVE], &k, NULL)))
			return adb_error(s, e, rc, "cannot write");
	} else if (from == ALERT_INACTIVE) {
		MDB_val idv = { sizeof a->id, &a->id };
		if ((rc = mdb_put(txn, s->dbi[ADB_ACTIVE], &k, &idv, 0)))
			return adb_error(s, e, rc, "cannot write");
	}
	return from != a->state ? add_event(s, txn, a, from, e) : 0;
}

static int do_apply(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct apply_ctx *ac = ctx;
	struct alert scratch;
	for (size_t i = 0; i < ac->n; i++) {
		int rc = apply_one(s, txn, &ac->changes[i], ac->out ? &ac->out[i] : &scratch, e);
		if (rc)
			return rc;
	}
	return 0;
}

int alert_store_apply(struct alert_store *s, const struct alert_change *changes, size_t n,
		      struct alert *out, struct err *e)
{
	if (n == 0)
		return 0;
	struct apply_ctx ac = { changes, n, out };
	return adb_write(s, do_apply, &ac, e);
}

struct mark_ctx {
	uint64_t id, silenced_by;
	bool inhibited;
};

static int do_mark(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct mark_ctx *m = ctx;
	struct alert a;
	int rc = read_alert(s, txn, m->id, &a, e);
	if (rc)
		return rc;
	a.silenced_by = m->silenced_by;
	a.inhibited = m->inhibited;
	return put_alert_rec(s, txn, &a, e);
}

int alert_store_mark(struct alert_store *s, uint64_t id, uint64_t silenced_by, bool inhibited,
		     struct err *e)
{
	struct mark_ctx m = { id, silenced_by, inhibited };
	return adb_write(s, do_mark, &m, e);
}

static int do_keep(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	int rc = adb_meta_put(s, txn, "resolved_keep", *(uint64_t *)ctx);
	return rc ? adb_error(s, e, rc, "cannot write") : 0;
}

int alert_store_set_keep(struct alert_store *s, int64_t resolved_keep_ns, struct err *e)
{
	if (resolved_keep_ns <= 0)
		return err_set(e, -EINVAL, "resolved_keep must be positive");
	uint64_t keep = (uint64_t)resolved_keep_ns;
	return adb_write(s, do_keep, &keep, e);
}

struct prune_ctx {
	int64_t before;
	uint64_t removed;
};

/* Deletes the time-keyed records of db older than before. */
static int prune_timed(struct alert_store *s, MDB_txn *txn, enum adb db, struct prune_ctx *p,
		       struct err *e)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[db], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 16 || rec_key_get_u64(k.mv_data) >= TIME_KEY(p->before))
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		p->removed++;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot write");
}

static int do_prune(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct prune_ctx *p = ctx;
	int rc;
	p->removed = 0; /* the transaction may run again */
	if ((rc = prune_timed(s, txn, ADB_EVENTS, p, e)) ||
	    (rc = prune_timed(s, txn, ADB_AUDIT, p, e)))
		return rc;
	MDB_cursor *c;
	static const enum adb scanned[] = { ADB_ALERTS, ADB_SILENCES };
	for (size_t i = 0; i < 2; i++) {
		enum adb db = scanned[i];
		if ((rc = mdb_cursor_open(txn, s->dbi[db], &c)))
			return adb_error(s, e, rc, "cannot write");
		MDB_val k, v;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			bool old;
			if (db == ADB_ALERTS) {
				struct alert a;
				old = get_alert(&v, &a) && a.resolved && a.resolved < p->before &&
				      a.state != ALERT_PENDING && a.state != ALERT_FIRING;
			} else {
				struct alert_silence si;
				old = get_silence(&v, &si) && si.end < p->before;
			}
			if (old && (rc = mdb_cursor_del(c, 0)))
				break;
			p->removed += old;
		}
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return adb_error(s, e, rc, "cannot write");
	}
	return 0;
}

int alert_store_prune(struct alert_store *s, int64_t before, uint64_t *removed, struct err *e)
{
	struct prune_ctx p = { .before = before };
	int rc = adb_write(s, do_prune, &p, e);
	if (removed)
		*removed = rc == 0 ? p.removed : 0;
	return rc;
}
