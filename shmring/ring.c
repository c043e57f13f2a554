/* ring.c - the shared-memory sample ring: one single-producer lane per
 * attached producer, drained by one consumer; see ring.h for the contract
 * and docs/ring.md for the design.
 *
 * Lane protocol (positions are 64-bit and never wrap; N = slots per lane):
 *   - the slot of position p is slots[p % N]; the producer publishes p by
 *     storing seq = p + 1 there (release), the consumer reads p once it
 *     sees seq == p + 1 (acquire);
 *   - the consumer frees positions by storing lane->released (release)
 *     once per batch; the producer may write position p while
 *     p < released + N, re-reading released (acquire) only when its cached
 *     copy says the lane is full.
 * So a slot's cache line travels producer -> consumer only, and the
 * consumer writes one line per batch: no per-slot traffic back.
 */
#include "shmring/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/rtime.h"
#include "shmring/series.h"

#define OWNER_FREE 0
#define OWNER_DEAD UINT64_MAX /* the owner died; the consumer drains, then frees */

#ifdef RMON_TESTING
void (*ring_test_hook)(const char *point);
#define TEST_HOOK(point)                                                                           \
	do {                                                                                       \
		if (ring_test_hook)                                                                \
			ring_test_hook(point);                                                     \
	} while (0)
#else
#define TEST_HOOK(point) ((void)0)
#endif

struct slot {
	_Atomic uint64_t seq;
	uint64_t id;
	int64_t ts;
	double value;
};

/* A lane's fields are grouped by writer so a cache line moves one way only. */
struct lane {
	alignas(64) _Atomic uint64_t owner; /* pid << 32 | tid, OWNER_FREE or OWNER_DEAD */
	/* Written by the producer, read by the consumer only when reclaiming. */
	alignas(64) _Atomic uint64_t head; /* next position the producer claims */
	_Atomic uint64_t dropped;	   /* pushes refused because the lane was full */
	/* Written by the consumer. */
	alignas(64) _Atomic uint64_t released; /* positions below are free again */
	alignas(64) struct slot slots[];
};

struct ring_header {
	_Atomic uint64_t magic; /* stored last, with release, by the creator */
	uint32_t layout_version;
	uint32_t header_size;
	uint32_t lanes;
	uint32_t slots_per_lane;
	uint32_t series_capacity;
	uint32_t name_bytes;
	uint64_t segment_size;
	uint64_t series_offset;
	uint64_t lanes_offset;
	uint64_t lane_size;
	alignas(64) _Atomic uint64_t consumer_pid;
	_Atomic uint32_t lanes_used; /* high-water mark of lane indexes ever attached */
	_Atomic uint64_t lost_dead;
	_Atomic uint64_t reclaimed_lanes;
};

struct ring {
	char name[256];
	void *base;
	size_t size;
	struct ring_header *hdr;
	struct series_table *series;
	bool consumer;
	/* Consumer-only state: where peeking stands in each lane. */
	uint64_t peeked[RING_MAX_LANES];
	uint64_t released[RING_MAX_LANES];
	uint32_t next_lane; /* round-robin start, so no lane starves */
	int64_t last_reclaim_ns;
	uint32_t reclaim_interval_ms;
	/* Producer-only state. */
	struct ring_lane *attached[RING_MAX_LANES];
};

struct ring_lane {
	struct ring *ring;
	struct lane *lane;
	uint32_t index;
	uint64_t head;	/* private copy of lane->head */
	uint64_t limit; /* cached released + N: positions below it are free */
	uint64_t mask;	/* slots_per_lane - 1 */
	uint64_t owner; /* our owner word */
};

void ring_config_default(struct ring_config *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->name = name;
	c->lanes = 16;
	c->slots_per_lane = 16384;
	c->series_capacity = 16384;
	c->reclaim_interval_ms = 100;
	c->mode = 0600;
	c->group = (gid_t)-1;
}

void ring_name_for_dir(const char *data_dir, char *buf, size_t len)
{
	char resolved[4096];
	const char *path = realpath(data_dir, resolved) ? resolved : data_dir;
	snprintf(buf, len, "/rmon-%016llx", (unsigned long long)series_id(path, strlen(path)));
}

static struct lane *lane_at(struct ring *r, uint32_t i)
{
	return (struct lane *)((char *)r->base + r->hdr->lanes_offset +
			       (uint64_t)i * r->hdr->lane_size);
}

static uint64_t lane_size_for(uint32_t slots)
{
	return sizeof(struct lane) + (uint64_t)slots * sizeof(struct slot);
}

static void layout(struct ring_header *h, const struct ring_config *c)
{
	h->layout_version = RING_LAYOUT_VERSION;
	h->header_size = sizeof *h;
	h->lanes = c->lanes;
	h->slots_per_lane = c->slots_per_lane;
	h->series_capacity = c->series_capacity;
	h->name_bytes = c->name_bytes;
	h->series_offset = (sizeof *h + 63) & ~UINT64_C(63);
	uint64_t series_size = series_table_size(c->series_capacity, c->name_bytes);
	h->lanes_offset = (h->series_offset + series_size + 4095) & ~UINT64_C(4095);
	h->lane_size = lane_size_for(c->slots_per_lane);
	h->segment_size = h->lanes_offset + (uint64_t)c->lanes * h->lane_size;
}

static int check_config(const struct ring_config *c, struct err *e)
{
	if (!c->name || c->name[0] != '/' || strchr(c->name + 1, '/') || strlen(c->name) > 250)
		return err_set(e, -EINVAL,
			       "ring name '%s' must start with '/' and contain no other '/'",
			       c->name ? c->name : "(null)");
	if (c->lanes < 1 || c->lanes > RING_MAX_LANES)
		return err_set(e, -EINVAL, "ring lanes = %u: must be 1 to %d", c->lanes,
			       RING_MAX_LANES);
	if (c->slots_per_lane < 64 || (c->slots_per_lane & (c->slots_per_lane - 1)))
		return err_set(e, -EINVAL,
			       "ring slots_per_lane = %u: must be a power of two, at least 64",
			       c->slots_per_lane);
	if (c->series_capacity < 1)
		return err_set(e, -EINVAL, "ring series_capacity must be at least 1");
	return 0;
}

/* Compares a field of an existing segment with the wanted value. */
#define CHECK_FIELD(field, want)                                                                   \
	do {                                                                                       \
		if ((uint64_t)h->field != (uint64_t)(want))                                        \
			return err_set(                                                            \
			    e, -EPROTO,                                                            \
			    "ring %s: " #field " is %llu in the segment but %llu here; "           \
			    "stop its users and remove it (rmon-stored --reset) or match the "     \
			    "configuration",                                                       \
			    name, (unsigned long long)h->field, (unsigned long long)(want));       \
	} while (0)

/* Validates a mapped segment's header before anything else is read. */
static int check_header(const char *name, struct ring_header *h, size_t size, struct err *e)
{
	if (size < sizeof *h)
		return err_set(e, -EPROTO,
			       "ring %s: segment of %zu bytes is too small to be a ring", name,
			       size);
	uint64_t magic = atomic_load_explicit(&h->magic, memory_order_acquire);
	if (magic == 0)
		return err_set(e, -EAGAIN, "ring %s: segment is still being created", name);
	if (magic != RING_MAGIC)
		return err_set(e, -EPROTO, "ring %s: bad magic %016llx, not a Rusty Monitor ring",
			       name, (unsigned long long)magic);
	CHECK_FIELD(layout_version, RING_LAYOUT_VERSION);
	CHECK_FIELD(header_size, sizeof *h);
	CHECK_FIELD(segment_size, size);
	struct ring_config c = { .name = name,
				 .lanes = h->lanes,
				 .slots_per_lane = h->slots_per_lane,
				 .series_capacity = h->series_capacity,
				 .name_bytes = h->name_bytes };
	if (check_config(&c, NULL) != 0)
		return err_set(e, -EPROTO, "ring %s: header holds impossible sizes", name);
	struct ring_header want = { 0 };
	layout(&want, &c);
	CHECK_FIELD(series_offset, want.series_offset);
	CHECK_FIELD(lanes_offset, want.lanes_offset);
	CHECK_FIELD(lane_size, want.lane_size);
	CHECK_FIELD(segment_size, want.segment_size);
	return 0;
}

/* An existing segment must match the consumer's configuration exactly. */
static int check_matches(const char *name, struct ring_header *h, const struct ring_config *c,
			 struct err *e)
{
	CHECK_FIELD(lanes, c->lanes);
	CHECK_FIELD(slots_per_lane, c->slots_per_lane);
	CHECK_FIELD(series_capacity, c->series_capacity);
	CHECK_FIELD(name_bytes, c->name_bytes);
	return 0;
}

static int map_segment(struct ring *r, int fd, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return err_sys(e, -errno, "ring %s: fstat", r->name);
	r->size = (size_t)st.st_size;
	if (r->size < sizeof(struct ring_header))
		return err_set(e, -EPROTO,
			       "ring %s: segment of %zu bytes is too small to be a ring", r->name,
			       r->size);
	r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		return err_sys(e, -errno, "ring %s: mmap of %zu bytes", r->name, r->size);
	}
	r->hdr = r->base;
	return 0;
}

static int attach_series(struct ring *r, struct err *e)
{
	struct ring_header *h = r->hdr;
	size_t size = series_table_size(h->series_capacity, h->name_bytes);
	int rc = series_table_attach((char *)r->base + h->series_offset, size, &r->series, e);
	if (rc != 0)
		return err_set(e, rc, "ring %s: %s", r->name, e ? e->msg : "bad series table");
	return 0;
}

static int create_segment(struct ring *r, const struct ring_config *c, struct err *e)
{
	int fd = shm_open(c->name, O_RDWR | O_CREAT | O_EXCL, c->mode);
	if (fd < 0 && errno == EEXIST)
		return -EEXIST; /* not an error: the caller attaches instead */
	if (fd < 0)
		return err_sys(e, -errno, "ring %s: cannot create", c->name);
	struct ring_header want = { 0 };
	layout(&want, c);
	int rc = 0;
	/* umask may have narrowed the mode; the configured one is what we want. */
	if (fchmod(fd, c->mode) != 0 ||
	    (c->group != (gid_t)-1 && fchown(fd, (uid_t)-1, c->group) != 0) ||
	    ftruncate(fd, (off_t)want.segment_size) != 0) {
		rc = err_sys(e, -errno, "ring %s: cannot create a segment of %llu bytes", c->name,
			     (unsigned long long)want.segment_size);
		shm_unlink(c->name);
		goto out;
	}
	if ((rc = map_segment(r, fd, e)) != 0) {
		shm_unlink(c->name);
		goto out;
	}
	struct ring_header *h = r->hdr;
	layout(h, c);
	series_table_init((char *)r->base + h->series_offset, c->series_capacity, c->name_bytes);
	/* ftruncate zeroed everything: seq 0 publishes no position, head and
	 * released start at 0, every lane is free. */
	/* Release: whoever acquires the magic sees the whole initialised layout. */
	atomic_store_explicit(&h->magic, RING_MAGIC, memory_order_release);
out:
	close(fd);
	return rc;
}

static int open_existing(struct ring *r, const char *name, struct err *e)
{
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		return err_sys(e, -errno,
			       "ring %s: cannot open (is rmon-stored running on this data folder?)",
			       name);
	int rc = map_segment(r, fd, e);
	close(fd);
	if (rc == 0)
		rc = check_header(name, r->hdr, r->size, e);
	if (rc == 0)
		rc = attach_series(r, e);
	return rc;
}

static struct ring *ring_alloc(const char *name)
{
	struct ring *r = calloc(1, sizeof *r);
	if (r)
		snprintf(r->name, sizeof r->name, "%s", name);
	return r;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Becomes the one consumer: the recorded consumer must be absent or dead. */
static int claim_consumer(struct ring *r, struct err *e)
{
	uint64_t me = (uint64_t)getpid();
	uint64_t cur = atomic_load_explicit(&r->hdr->consumer_pid, memory_order_acquire);
	for (;;) {
		if (cur != 0 && cur != me && pid_alive((pid_t)cur))
			return err_set(e, -EBUSY, "ring %s: already drained by process %llu",
				       r->name, (unsigned long long)cur);
		if (atomic_compare_exchange_weak_explicit(&r->hdr->consumer_pid, &cur, me,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return 0;
	}
}

int ring_consumer_open(const struct ring_config *c, struct ring **out, struct err *e)
{
	int rc = check_config(c, e);
	if (rc != 0)
		return rc;
	struct ring *r = ring_alloc(c->name);
	if (!r)
		return err_set(e, -ENOMEM, "ring %s: out of memory", c->name);
	rc = create_segment(r, c, e);
	if (rc == -EEXIST)
		rc = open_existing(r, c->name, e);
	else if (rc == 0)
		rc = attach_series(r, e);
	if (rc == 0)
		rc = check_matches(c->name, r->hdr, c, e);
	if (rc == 0)
		rc = claim_consumer(r, e);
	if (rc != 0)
		goto fail;
	struct ring_header *h = r->hdr;
	r->consumer = true;
	r->reclaim_interval_ms = c->reclaim_interval_ms ? c->reclaim_interval_ms : 100;
	/* Resume where the last release stopped: anything peeked but not
	 * released by a previous consumer is delivered again. */
	for (uint32_t i = 0; i < h->lanes; i++) {
		uint64_t rel = atomic_load_explicit(&lane_at(r, i)->released, memory_order_acquire);
		r->peeked[i] = r->released[i] = rel;
	}
	*out = r;
	return 0;
fail:
	ring_close(r);
	return rc;
}

int ring_producer_open(const char *name, struct ring **out, struct err *e)
{
	struct ring *r = ring_alloc(name);
	if (!r)
		return err_set(e, -ENOMEM, "ring %s: out of memory", name);
	int rc = open_existing(r, name, e);
	if (rc != 0) {
		ring_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void ring_close(struct ring *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < RING_MAX_LANES; i++)
		if (r->attached[i])
			ring_lane_detach(r->attached[i]);
	if (r->consumer) {
		uint64_t me = (uint64_t)getpid();
		atomic_compare_exchange_strong(&r->hdr->consumer_pid, &me, 0);
	}
	if (r->base)
		munmap(r->base, r->size);
	free(r);
}

int ring_unlink(const char *name, struct err *e)
{
	if (shm_unlink(name) != 0 && errno != ENOENT)
		return err_sys(e, -errno, "ring %s: cannot remove", name);
	return 0;
}

/* ---- producers ---- */

int ring_lane_attach(struct ring *r, struct ring_lane **out, struct err *e)
{
	struct ring_lane *pl = calloc(1, sizeof *pl);
	if (!pl)
		return err_set(e, -ENOMEM, "ring %s: out of memory", r->name);
	uint64_t me = (uint64_t)getpid() << 32 | (uint32_t)syscall(SYS_gettid);
	for (uint32_t i = 0; i < r->hdr->lanes; i++) {
		struct lane *l = lane_at(r, i);
		uint64_t expected = OWNER_FREE;
		/* Acquire: the lane's head was last written by the previous owner
		 * or by the consumer's reclaim, both before their release of
		 * the owner word. */
		if (!atomic_compare_exchange_strong_explicit(
			&l->owner, &expected, me, memory_order_acquire, memory_order_relaxed))
			continue;
		uint32_t used = atomic_load_explicit(&r->hdr->lanes_used, memory_order_relaxed);
		while (used < i + 1 && !atomic_compare_exchange_weak_explicit(
					   &r->hdr->lanes_used, &used, i + 1, memory_order_release,
					   memory_order_relaxed))
			;
		pl->ring = r;
		pl->lane = l;
		pl->index = i;
		pl->owner = me;
		pl->mask = r->hdr->slots_per_lane - 1;
		pl->head = atomic_load_explicit(&l->head, memory_order_relaxed);
		pl->limit = atomic_load_explicit(&l->released, memory_order_acquire) + pl->mask + 1;
		r->attached[i] = pl;
		*out = pl;
		return 0;
	}
	free(pl);
	return err_set(e, -EAGAIN, "ring %s: all %u lanes are taken by other producers", r->name,
		       r->hdr->lanes);
}

void ring_lane_detach(struct ring_lane *pl)
{
	if (!pl)
		return;
	/* Release: the next owner (acquire in attach) sees our final head.
	 * Published samples stay in the lane and are drained as usual. */
	uint64_t me = pl->owner;
	atomic_compare_exchange_strong_explicit(&pl->lane->owner, &me, OWNER_FREE,
						memory_order_release, memory_order_relaxed);
	pl->ring->attached[pl->index] = NULL;
	free(pl);
}

/* True when position p is free, refreshing the cached limit only when the
 * lane looks full. */
static inline bool lane_has_room(struct ring_lane *pl, uint64_t p)
{
	if (p < pl->limit)
		return true;
	/* Acquire pairs with the consumer's release of lane->released: the
	 * consumer is done reading every slot below it. */
	pl->limit = atomic_load_explicit(&pl->lane->released, memory_order_acquire) + pl->mask + 1;
	return p < pl->limit;
}

static void count_drops(struct lane *l, uint64_t n)
{
	/* Only this lane's producer writes the counter: no atomic RMW needed. */
	atomic_store_explicit(&l->dropped,
			      atomic_load_explicit(&l->dropped, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void publish(struct ring_lane *pl, uint64_t p, const struct sample *s)
{
	struct lane *l = pl->lane;
	struct slot *slot = &l->slots[p & pl->mask];
	/* Relaxed: only the consumer's reclaim of a dead lane reads head, to
	 * count a claimed position that was never published. */
	atomic_store_explicit(&l->head, p + 1, memory_order_relaxed);
	TEST_HOOK("claimed");
	slot->id = s->id;
	slot->ts = s->ts;
	slot->value = s->value;
	TEST_HOOK("written");
	/* Release: the consumer's acquire of seq == p + 1 sees the data above. */
	atomic_store_explicit(&slot->seq, p + 1, memory_order_release);
	TEST_HOOK("published");
}

int ring_push(struct ring_lane *pl, const struct sample *s)
{
	uint64_t p = pl->head;
	if (!lane_has_room(pl, p)) {
		count_drops(pl->lane, 1);
		return -ENOSPC;
	}
	publish(pl, p, s);
	pl->head = p + 1;
	return 0;
}

size_t ring_push_many(struct ring_lane *pl, const struct sample *s, size_t n)
{
	uint64_t p = pl->head;
	size_t done = 0;
	for (; done < n && lane_has_room(pl, p); done++, p++)
		publish(pl, p, &s[done]);
	pl->head = p;
	if (done < n)
		count_drops(pl->lane, n - done);
	return done;
}

/* ---- the consumer ---- */

/* Copies the published run of lane i after the peek cursor into out. */
static size_t peek_lane(struct ring *r, uint32_t i, struct sample *out, size_t max)
{
	struct lane *l = lane_at(r, i);
	uint64_t mask = r->hdr->slots_per_lane - 1;
	uint64_t p = r->peeked[i];
	size_t n = 0;
	while (n < max) {
		struct slot *slot = &l->slots[p & mask];
		/* Acquire pairs with the producer's release of seq = p + 1. */
		if (atomic_load_explicit(&slot->seq, memory_order_acquire) != p + 1)
			break;
		/* Ask for the line 8 slots ahead now: it is in the producer's
		 * cache, and fetching it takes longer than reading 8 slots. */
		__builtin_prefetch(&l->slots[(p + 8) & mask]);
		out[n].id = slot->id;
		out[n].ts = slot->ts;
		out[n].value = slot->value;
		n++;
		p++;
	}
	r->peeked[i] = p;
	return n;
}

size_t ring_peek(struct ring *r, struct sample *out, size_t max)
{
	uint32_t used = atomic_load_explicit(&r->hdr->lanes_used, memory_order_acquire);
	size_t n = 0;
	if (used == 0)
		return 0;
	/* A fair share per lane first, then whatever room is left. */
	size_t share = max / used > 0 ? max / used : 1;
	for (int pass = 0; pass < 2 && n < max; pass++) {
		for (uint32_t k = 0; k < used && n < max; k++) {
			uint32_t i = (r->next_lane + k) % used;
			size_t room = max - n;
			n += peek_lane(r, i, out + n, pass == 0 && room > share ? share : room);
		}
	}
	r->next_lane = (r->next_lane + 1) % used;
	return n;
}

void ring_release(struct ring *r)
{
	uint32_t used = atomic_load_explicit(&r->hdr->lanes_used, memory_order_acquire);
	for (uint32_t i = 0; i < used; i++) {
		if (r->released[i] == r->peeked[i])
			continue;
		r->released[i] = r->peeked[i];
		/* Release: our reads of the slots below happen before the
		 * producer, acquiring this, overwrites them. */
		atomic_store_explicit(&lane_at(r, i)->released, r->peeked[i], memory_order_release);
	}
}

static bool owner_alive(uint64_t owner)
{
	pid_t pid = (pid_t)(owner >> 32), tid = (pid_t)(owner & 0xffffffffu);
	if (syscall(SYS_tgkill, pid, tid, 0) == 0)
		return true;
	return errno != ESRCH;
}

/* Frees a dead lane once everything it published has been released. */
static bool finish_dead_lane(struct ring *r, uint32_t i)
{
	struct lane *l = lane_at(r, i);
	uint64_t mask = r->hdr->slots_per_lane - 1, p = r->peeked[i];
	if (atomic_load_explicit(&l->slots[p & mask].seq, memory_order_acquire) == p + 1)
		return false; /* published samples not yet peeked */
	if (r->released[i] != p)
		return false; /* peeked but not yet durable */
	/* The dead producer may have claimed positions it never published:
	 * those samples are lost.  Rewind head so the next owner starts at the
	 * first unpublished position, whose slot never got seq == p + 1. */
	uint64_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
	if (head > p)
		atomic_fetch_add_explicit(&r->hdr->lost_dead, head - p, memory_order_relaxed);
	atomic_store_explicit(&l->head, p, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->hdr->reclaimed_lanes, 1, memory_order_relaxed);
	/* Release: the next owner's acquire CAS sees the rewound head. */
	atomic_store_explicit(&l->owner, OWNER_FREE, memory_order_release);
	return true;
}

int ring_reclaim_dead(struct ring *r)
{
	uint32_t used = atomic_load_explicit(&r->hdr->lanes_used, memory_order_acquire);
	int reclaimed = 0;
	r->last_reclaim_ns = rtime_mono_ns();
	for (uint32_t i = 0; i < used; i++) {
		struct lane *l = lane_at(r, i);
		uint64_t owner = atomic_load_explicit(&l->owner, memory_order_acquire);
		if (owner == OWNER_FREE)
			continue;
		if (owner != OWNER_DEAD) {
			if (owner_alive(owner))
				continue;
			if (!atomic_compare_exchange_strong(&l->owner, &owner, OWNER_DEAD))
				continue;
		}
		reclaimed += finish_dead_lane(r, i);
	}
	return reclaimed;
}

static bool any_ready(struct ring *r)
{
	uint32_t used = atomic_load_explicit(&r->hdr->lanes_used, memory_order_acquire);
	uint64_t mask = r->hdr->slots_per_lane - 1;
	for (uint32_t i = 0; i < used; i++) {
		uint64_t p = r->peeked[i];
		if (atomic_load_explicit(&lane_at(r, i)->slots[p & mask].seq,
					 memory_order_acquire) == p + 1)
			return true;
	}
	return false;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void ring_wait(struct ring *r, int timeout_ms)
{
	int64_t start = rtime_mono_ns(), deadline = start + (int64_t)timeout_ms * RTIME_NS_PER_MS;
	long sleep_ns = 20000;
	/* First a short busy phase, for latency.  It looks at the producers'
	 * next slots only every couple of microseconds: looking more often
	 * would steal the cache line a producer is filling and slow it down. */
	while (rtime_mono_ns() - start < 50000) {
		if (any_ready(r))
			return;
		for (int64_t t = rtime_mono_ns(); rtime_mono_ns() - t < 2000;)
			cpu_relax();
	}
	for (;;) {
		int64_t now = rtime_mono_ns();
		if (now - r->last_reclaim_ns >= (int64_t)r->reclaim_interval_ms * RTIME_NS_PER_MS)
			ring_reclaim_dead(r);
		if (any_ready(r) || now >= deadline)
			return;
		struct timespec ts = { 0, sleep_ns };
		nanosleep(&ts, NULL);
		if (sleep_ns < 1000000)
			sleep_ns *= 2;
	}
}

void ring_get_stats(struct ring *r, struct ring_stats *out)
{
	struct ring_header *h = r->hdr;
	memset(out, 0, sizeof *out);
	out->lanes = h->lanes;
	out->slots_per_lane = h->slots_per_lane;
	out->lost_dead = atomic_load_explicit(&h->lost_dead, memory_order_relaxed);
	out->reclaimed_lanes = atomic_load_explicit(&h->reclaimed_lanes, memory_order_relaxed);
	uint64_t claimed = 0;
	for (uint32_t i = 0; i < h->lanes; i++) {
		struct lane *l = lane_at(r, i);
		claimed += atomic_load_explicit(&l->head, memory_order_relaxed);
		out->dropped_full += atomic_load_explicit(&l->dropped, memory_order_relaxed);
		out->released += atomic_load_explicit(&l->released, memory_order_relaxed);
		uint64_t owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
		out->lanes_in_use += owner != OWNER_FREE;
	}
	/* Heads were rewound past lost positions, so claimed counts published
	 * samples only, except for the half-written ones of live lanes. */
	out->pushed = claimed;
}

struct series_table *ring_series(struct ring *r)
{
	return r->series;
}
