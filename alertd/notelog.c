/* notelog.c - the notification log in alertd's store; see notelog.h. */
#include "alertd/notelog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/alerts_db.h"
#include "lib/grow.h"

#define SENT_FIRST    'F' /* the first firing or escalation message */
#define SENT_RESOLVED 'R'

const char *notelog_kind_name(enum notice_kind kind)
{
	switch (kind) {
	case NOTICE_FIRING:
		return "firing";
	case NOTICE_RESOLVED:
		return "resolved";
	case NOTICE_REPEAT:
		return "repeat";
	case NOTICE_ESCALATION:
		return "escalation";
	case NOTICE_DIGEST:
		return "digest";
	}
	return "unknown";
}

/* An entry as decoded, owning its items. */
struct decoded {
	struct notelog_entry ent;
	struct notelog_item *items;
};

static void put_entry(struct rec_out *r, const struct notelog_entry *ent)
{
	rec_put_u64(r, ent->id);
	rec_put_u64(r, ent->kind);
	rec_put_str(r, ent->receiver);
	rec_put_str(r, ent->message_id);
	rec_put_str(r, ent->thread_id);
	rec_put_i64(r, ent->created);
	rec_put_i64(r, ent->delivered);
	rec_put_i64(r, ent->result);
	rec_put_u64(r, ent->n_held);
	rec_put_u64(r, ent->n_items);
	for (size_t i = 0; i < ent->n_items; i++) {
		rec_put_u64(r, ent->items[i].alert_id);
		rec_put_u64(r, ent->items[i].state);
	}
}

static bool get_entry(const MDB_val *v, struct decoded *d)
{
	struct rec_in r = { v->mv_data, v->mv_size, false };
	struct notelog_entry *ent = &d->ent;
	ent->id = rec_get_u64(&r);
	uint64_t kind = rec_get_u64(&r);
	ent->kind = kind <= NOTICE_DIGEST ? (enum notice_kind)kind : NOTICE_FIRING;
	rec_get_str(&r, ent->receiver, sizeof ent->receiver);
	rec_get_str(&r, ent->message_id, sizeof ent->message_id);
	rec_get_str(&r, ent->thread_id, sizeof ent->thread_id);
	ent->created = rec_get_i64(&r);
	ent->delivered = rec_get_i64(&r);
	ent->result = (int)rec_get_i64(&r);
	ent->n_held = rec_get_u64(&r);
	uint64_t n = rec_get_u64(&r);
	if (r.bad || n > r.left / 16)
		return false;
	d->items = calloc(n ? n : 1, sizeof *d->items);
	if (!d->items)
		return false;
	for (uint64_t i = 0; i < n; i++) {
		d->items[i].alert_id = rec_get_u64(&r);
		uint64_t state = rec_get_u64(&r);
		d->items[i].state =
		    state <= ALERT_RESOLVED ? (enum alert_state)state : ALERT_FIRING;
	}
	ent->items = d->items;
	ent->n_items = n;
	return !r.bad && kind <= NOTICE_DIGEST;
}

/* Key of what was logged for (alert, kind, receiver). */
static size_t sent_key(unsigned char *key, uint64_t alert_id, char kind, const char *receiver)
{
	size_t n = strlen(receiver);
	rec_key_u64(key, alert_id);
	key[8] = (unsigned char)kind;
	memcpy(key + 9, receiver, n);
	return 9 + n;
}

/* The Message-ID of the message logged for (alert, kind, receiver) into
 * out, or "" when none. */
static int sent_message_id(struct alert_store *s, MDB_txn *txn, uint64_t alert_id, char kind,
			   const char *receiver, char *out, size_t cap, struct err *e)
{
	unsigned char key[9 + ALERT_NAME_MAX];
	MDB_val k = { sent_key(key, alert_id, kind, receiver), key }, v;
	out[0] = 0;
	int rc = mdb_get(txn, s->dbi[ADB_SENT], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc || v.mv_size != 16)
		return rc ? adb_error(s, e, rc, "cannot read") : -EIO;
	unsigned char nkey[8];
	memcpy(nkey, v.mv_data, 8);
	MDB_val nk = { 8, nkey }, nv;
	if ((rc = mdb_get(txn, s->dbi[ADB_NOTICES], &nk, &nv)) == MDB_NOTFOUND)
		return 0; /* pruned */
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	struct decoded d = { 0 };
	bool ok = get_entry(&nv, &d);
	free(d.items);
	if (!ok)
		return err_set(e, -EIO, "alert store %s: notice %" PRIu64 " is damaged", s->dir,
			       rec_key_get_u64(nkey));
	snprintf(out, cap, "%s", d.ent.message_id);
	return 0;
}

static int remember_sent(struct alert_store *s, MDB_txn *txn, uint64_t alert_id, char kind,
			 const char *receiver, uint64_t notice_id, int64_t at, struct err *e)
{
	unsigned char key[9 + ALERT_NAME_MAX], val[16];
	MDB_val k = { sent_key(key, alert_id, kind, receiver), key }, v = { sizeof val, val };
	rec_key_u64(val, notice_id);
	rec_key_u64(val + 8, (uint64_t)at);
	int rc = mdb_put(txn, s->dbi[ADB_SENT], &k, &v, MDB_NOOVERWRITE);
	return rc && rc != MDB_KEYEXIST ? adb_error(s, e, rc, "cannot write") : 0;
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 128)
		return false;
	for (const char *p = d; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return false;
	return true;
}

/* A short, stable tag of a receiver's name (any text) for a Message-ID. */
static uint32_t name_tag(const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

struct add_ctx {
	struct notelog_entry ent;
	const char *domain;
};

static int do_add(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct add_ctx *a = ctx;
	struct notelog_entry *ent = &a->ent;
	int rc = adb_next(s, txn, "next_notice", &ent->id);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	uint64_t first = ent->n_items ? ent->items[0].alert_id : 0;
	snprintf(ent->message_id, sizeof ent->message_id, "<%" PRIu64 ".%s.%" PRIu64 ".%08x@%s>",
		 first, notelog_kind_name(ent->kind), ent->id, name_tag(ent->receiver), a->domain);
	ent->thread_id[0] = 0;
	if ((ent->kind == NOTICE_RESOLVED || ent->kind == NOTICE_REPEAT) && first &&
	    (rc = sent_message_id(s, txn, first, SENT_FIRST, ent->receiver, ent->thread_id,
				  sizeof ent->thread_id, e)))
		return rc;
	char kind = ent->kind == NOTICE_RESOLVED				   ? SENT_RESOLVED
		    : ent->kind == NOTICE_FIRING || ent->kind == NOTICE_ESCALATION ? SENT_FIRST
										   : 0;
	for (size_t i = 0; kind && i < ent->n_items; i++)
		if ((rc = remember_sent(s, txn, ent->items[i].alert_id, kind, ent->receiver,
					ent->id, ent->created, e)))
			return rc;
	unsigned char key[8];
	rec_key_u64(key, ent->id);
	rec_reset(&s->rec);
	put_entry(&s->rec, ent);
	if (s->rec.failed)
		return err_set(e, -ENOMEM, "out of memory");
	MDB_val k = { sizeof key, key }, v = { s->rec.len, s->rec.buf }, none = { 0, "" };
	if ((rc = mdb_put(txn, s->dbi[ADB_NOTICES], &k, &v, 0)) ||
	    (rc = mdb_put(txn, s->dbi[ADB_OWED], &k, &none, 0)))
		return adb_error(s, e, rc, "cannot write");
	return 0;
}

int notelog_add(struct alert_store *s, enum notice_kind kind, const char *receiver,
		const struct notelog_item *items, size_t n, uint64_t n_held, const char *domain,
		int64_t now, struct notelog_entry *out, struct err *e)
{
	if (strlen(receiver) >= ALERT_NAME_MAX)
		return err_set(e, -EINVAL, "receiver name longer than %d bytes",
			       ALERT_NAME_MAX - 1);
	struct add_ctx a = { .domain = domain && domain_ok(domain) ? domain : "rmon.invalid" };
	a.ent.kind = kind;
	snprintf(a.ent.receiver, sizeof a.ent.receiver, "%s", receiver);
	a.ent.created = now;
	a.ent.n_held = n_held;
	a.ent.items = items;
	a.ent.n_items = n;
	int rc = adb_write(s, do_add, &a, e);
	if (rc == 0 && out)
		*out = a.ent;
	return rc;
}

struct done_ctx {
	uint64_t id;
	int result;
	int64_t now;
};

static int do_done(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct done_ctx *d = ctx;
	unsigned char key[8];
	rec_key_u64(key, d->id);
	MDB_val k = { sizeof key, key }, v;
	int rc = mdb_get(txn, s->dbi[ADB_NOTICES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(e, -ENOENT, "no notice %" PRIu64 " in the log", d->id);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	struct decoded dec = { 0 };
	if (!get_entry(&v, &dec)) {
		free(dec.items);
		return err_set(e, -EIO, "alert store %s: notice %" PRIu64 " is damaged", s->dir,
			       d->id);
	}
	if (dec.ent.delivered) {
		free(dec.items);
		return 0;
	}
	dec.ent.delivered = d->now;
	dec.ent.result = d->result;
	rec_reset(&s->rec);
	put_entry(&s->rec, &dec.ent);
	free(dec.items);
	if (s->rec.failed)
		return err_set(e, -ENOMEM, "out of memory");
	MDB_val nv = { s->rec.len, s->rec.buf };
	if ((rc = mdb_put(txn, s->dbi[ADB_NOTICES], &k, &nv, 0)))
		return adb_error(s, e, rc, "cannot write");
	rc = mdb_del(txn, s->dbi[ADB_OWED], &k, NULL);
	return rc && rc != MDB_NOTFOUND ? adb_error(s, e, rc, "cannot write") : 0;
}

int notelog_done(struct alert_store *s, uint64_t id, int result, int64_t now, struct err *e)
{
	struct done_ctx d = { id, result, now };
	return adb_write(s, do_done, &d, e);
}

struct owed_ctx {
	struct decoded *list;
	size_t n, cap;
	bool count_only;
	size_t limit; /* notelog_list: newest first, at most this many (0: all) */
};

static int list_owed(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct owed_ctx *o = ctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_OWED], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (o->count_only) {
			o->n++;
			continue;
		}
		MDB_val nv;
		if ((rc = mdb_get(txn, s->dbi[ADB_NOTICES], &k, &nv)))
			break;
		if (!grow_array(&o->list, &o->cap, o->n + 1, sizeof *o->list)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		struct decoded *d = &o->list[o->n++];
		*d = (struct decoded){ 0 };
		if (!get_entry(&nv, d)) {
			mdb_cursor_close(c);
			return err_set(e, -EIO, "alert store %s: notice %" PRIu64 " is damaged",
				       s->dir, rec_key_get_u64(k.mv_data));
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

static int list_all(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct owed_ctx *o = ctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_NOTICES], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0 && (!o->limit || o->n < o->limit);
	     rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		if (!grow_array(&o->list, &o->cap, o->n + 1, sizeof *o->list)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		struct decoded *d = &o->list[o->n++];
		*d = (struct decoded){ 0 };
		if (!get_entry(&v, d)) {
			mdb_cursor_close(c);
			return err_set(e, -EIO, "alert store %s: notice %" PRIu64 " is damaged",
				       s->dir, rec_key_get_u64(k.mv_data));
		}
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

static void free_owed(struct owed_ctx *o)
{
	for (size_t i = 0; i < o->n && o->list; i++)
		free(o->list[i].items);
	free(o->list);
}

int notelog_owed(struct alert_store *s, notelog_fn fn, void *ctx, struct err *e)
{
	struct owed_ctx o = { 0 };
	int rc = adb_read(s, list_owed, &o, e);
	for (size_t i = 0; rc == 0 && i < o.n; i++)
		rc = fn(ctx, &o.list[i].ent);
	free_owed(&o);
	return rc;
}

int notelog_list(struct alert_store *s, size_t limit, notelog_fn fn, void *ctx, struct err *e)
{
	struct owed_ctx o = { .limit = limit };
	int rc = adb_read(s, list_all, &o, e);
	for (size_t i = 0; rc == 0 && i < o.n; i++)
		rc = fn(ctx, &o.list[i].ent);
	free_owed(&o);
	return rc;
}

int notelog_count_owed(struct alert_store *s, size_t *out, struct err *e)
{
	struct owed_ctx o = { .count_only = true };
	int rc = adb_read(s, list_owed, &o, e);
	*out = o.n;
	return rc;
}

struct told_entry {
	char receiver[ALERT_NAME_MAX];
	enum notice_kind kind;
	int64_t at;
};

struct told_ctx {
	uint64_t alert_id;
	struct told_entry *list;
	size_t n, cap;
};

static int list_told(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct told_ctx *t = ctx;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_SENT], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot read");
	unsigned char key[8];
	rec_key_u64(key, t->alert_id);
	MDB_val k = { sizeof key, key }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 9 || memcmp(k.mv_data, key, 8) != 0 || v.mv_size != 16)
			break;
		if (!grow_array(&t->list, &t->cap, t->n + 1, sizeof *t->list)) {
			mdb_cursor_close(c);
			return err_set(e, -ENOMEM, "out of memory");
		}
		struct told_entry *te = &t->list[t->n++];
		const unsigned char *kb = k.mv_data;
		size_t len =
		    k.mv_size - 9 < sizeof te->receiver ? k.mv_size - 9 : sizeof te->receiver - 1;
		memcpy(te->receiver, kb + 9, len);
		te->receiver[len] = 0;
		te->kind = kb[8] == SENT_RESOLVED ? NOTICE_RESOLVED : NOTICE_FIRING;
		te->at = (int64_t)rec_key_get_u64((const unsigned char *)v.mv_data + 8);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot read");
}

int notelog_told(struct alert_store *s, uint64_t alert_id, notelog_told_fn fn, void *ctx,
		 struct err *e)
{
	struct told_ctx t = { .alert_id = alert_id };
	int rc = adb_read(s, list_told, &t, e);
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		rc = fn(ctx, t.list[i].receiver, t.list[i].kind, t.list[i].at);
	free(t.list);
	return rc;
}

struct prune_ctx {
	int64_t before;
	uint64_t removed;
};

static int do_prune(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e)
{
	struct prune_ctx *p = ctx;
	p->removed = 0;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->dbi[ADB_NOTICES], &c);
	if (rc)
		return adb_error(s, e, rc, "cannot write");
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct decoded d = { 0 };
		bool ok = get_entry(&v, &d);
		free(d.items);
		if (ok && d.ent.created >= p->before)
			break; /* ids grow with time */
		if (ok && d.ent.delivered) {
			if ((rc = mdb_cursor_del(c, 0)))
				break;
			p->removed++;
		}
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return adb_error(s, e, rc, "cannot write");
	/* What was told of alerts the store no longer has. */
	if ((rc = mdb_cursor_open(txn, s->dbi[ADB_SENT], &c)))
		return adb_error(s, e, rc, "cannot write");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val ak = { 8, k.mv_data }, av;
		if (k.mv_size >= 8 && mdb_get(txn, s->dbi[ADB_ALERTS], &ak, &av) == MDB_NOTFOUND) {
			if ((rc = mdb_cursor_del(c, 0)))
				break;
			p->removed++;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : adb_error(s, e, rc, "cannot write");
}

int notelog_prune(struct alert_store *s, int64_t before, uint64_t *removed, struct err *e)
{
	struct prune_ctx p = { .before = before };
	int rc = adb_write(s, do_prune, &p, e);
	if (removed)
		*removed = rc == 0 ? p.removed : 0;
	return rc;
}
