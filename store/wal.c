/* wal.c - the write-ahead log: buffered appends, group commit with
 * io_uring (write linked to fdatasync) or pwrite + fdatasync, segment
 * rollover, replay and torn-tail repair; see wal.h. */
#include "store/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fault.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"

#define WAL_MAGIC    0x57413200u /* "WA2" and the type in the low byte */
#define WAL_MAGIC_1  0x57414c00u /* "WAL": records of the first checksum, still read */
#define HEADER_BYTES 16
#define NO_SPLIT     SIZE_MAX
/* Direct writes go in whole blocks of this size from this alignment: the
 * largest logical block of the disks we meet (512 or 4096). */
#define BLOCK_BYTES 4096

struct record_header {
	uint32_t magic_type;
	uint32_t len;
	uint32_t check;
	uint32_t zero;
};

/* One write of a commit: n bytes at p to offset of fd. */
struct piece {
	int fd;
	const uint8_t *p;
	size_t n;
	uint64_t offset;
};

struct segment {
	uint64_t start;
	int fd;
};

struct wal {
	char dir[4096];
	int dir_fd;
	struct wal_config config;
	struct segment *segments; /* sorted by start; the last one is written */
	size_t n_segments, segments_cap;
	uint64_t end; /* durable end position */
	/* buf holds `head` durable bytes, the start of the last segment's
	 * block that `end` falls in (only with direct_fd), then the `len`
	 * bytes of records appended since the last commit. */
	uint8_t *buf;
	size_t head, len, cap;
	size_t split; /* offset after head where a new segment starts, or NO_SPLIT */
	/* The last segment opened with O_DIRECT, or -1 (not supported here):
	 * a commit's records go to disk without a copy into the page cache,
	 * which cost the drainer as much CPU as everything else it does when
	 * memory was slow. */
	int direct_fd;
	bool uring_ok;
	struct io_uring uring;
	/* A commit begun and not yet ended: the writes of buf, submitted to
	 * io_uring when submitted is true. */
	struct piece flight[2];
	int n_flight, new_fd;
	bool submitted;
	int reaped, result; /* its completions seen, and the first error */
	int64_t durable_ns; /* when the last commit was seen on disk */
	struct wal_stats stats;
	pthread_t remover; /* unlinking the segments the last truncation dropped */
	struct removal *removal;
};

/* Segments a truncation dropped, unlinked on a thread of their own: a
 * minute of a busy store's WAL took 1.3 s to unlink, on the loop that
 * acks.  The next truncation (or wal_close) joins it and reports the
 * first failure. */
struct removal {
	char **paths;
	size_t n;
	int error; /* errno of the first failure, 0 when none */
	char failed[4200];
};

void wal_config_default(struct wal_config *c)
{
	c->segment_bytes = 64ull << 20;
	c->buffer_bytes = 8ull << 20;
	c->use_io_uring = true;
}

/* The first checksum: one multiply chain over the payload, a tenth of the
 * drainer's time at full speed.  Only read now. */
static uint32_t checksum_1(uint32_t magic_type, uint32_t len, const void *payload)
{
	uint32_t head[2] = { magic_type, len };
	return (uint32_t)(series_id(payload, len) ^
			  (series_id((const char *)head, sizeof head) >> 7));
}

#define PRIME_1 UINT64_C(0x9e3779b185ebca87)
#define PRIME_2 UINT64_C(0xc2b2ae3d27d4eb4f)

static uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t lane_round(uint64_t acc, uint64_t word)
{
	return rotl64(acc + word * PRIME_2, 31) * PRIME_1;
}

/* The checksum of header and payload: four independent multiply chains,
 * one per 8-byte word of each 32-byte block, so the CPU runs them side by
 * side; then the rest word by word, and a final mix.  It detects torn and
 * stale bytes, not tampering. */
static uint32_t checksum(uint32_t magic_type, uint32_t len, const void *payload)
{
	const uint8_t *p = payload;
	uint64_t seed = (uint64_t)magic_type << 32 | len;
	uint64_t lane[4] = { seed + PRIME_1 + PRIME_2, seed + PRIME_2, seed, seed - PRIME_1 };
	size_t i = 0;
	for (; i + 32 <= len; i += 32)
		for (int j = 0; j < 4; j++) {
			uint64_t word;
			memcpy(&word, p + i + 8 * j, sizeof word);
			lane[j] = lane_round(lane[j], word);
		}
	uint64_t h =
	    rotl64(lane[0], 1) + rotl64(lane[1], 7) + rotl64(lane[2], 12) + rotl64(lane[3], 18);
	for (; i + 8 <= len; i += 8) {
		uint64_t word;
		memcpy(&word, p + i, sizeof word);
		h = lane_round(h, word);
	}
	uint64_t tail = 0;
	memcpy(&tail, p + i, len - i);
	h = lane_round(h, tail ^ (uint64_t)(len - i) << 56);
	h ^= h >> 33;
	h *= PRIME_2;
	h ^= h >> 29;
	h *= PRIME_1;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct segment *last_segment(struct wal *w)
{
	return &w->segments[w->n_segments - 1];
}

/* ---- segments ---- */

static int segment_path(struct wal *w, uint64_t start, char *path, size_t len)
{
	return snprintf(path, len, "%s/%016" PRIx64 ".wal", w->dir, start);
}

static int push_segment(struct wal *w, uint64_t start, int fd, struct err *e)
{
	if (!grow_array_from(&w->segments, &w->segments_cap, w->n_segments + 1, sizeof *w->segments,
			     8))
		return err_set(e, -ENOMEM, "wal: out of memory");
	w->segments[w->n_segments++] = (struct segment){ start, fd };
	return 0;
}

/* Creates and preallocates the segment starting at `start`; a leftover
 * file of a failed attempt is reused. */
static int create_segment(struct wal *w, uint64_t start, int *fd_out, struct err *e)
{
	char path[4200];
	segment_path(w, start, path, sizeof path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, -errno, "wal: cannot create %s", path);
	int rc = posix_fallocate(fd, 0, (off_t)w->config.segment_bytes);
	if (rc != 0) {
		close(fd);
		unlink(path);
		return err_sys(e, -rc, "wal: cannot preallocate %llu bytes for %s",
			       (unsigned long long)w->config.segment_bytes, path);
	}
	/* The new name must survive a crash too. */
	if (fdatasync(fd) != 0 || fsync(w->dir_fd) != 0) {
		rc = -errno;
		close(fd);
		unlink(path);
		return err_sys(e, rc, "wal: cannot sync new segment %s", path);
	}
	*fd_out = fd;
	return 0;
}

static int compare_segments(const void *a, const void *b)
{
	uint64_t x = ((const struct segment *)a)->start, y = ((const struct segment *)b)->start;
	return (x > y) - (x < y);
}

static int load_segments(struct wal *w, struct err *e)
{
	DIR *d = opendir(w->dir);
	if (!d)
		return err_sys(e, -errno, "wal: cannot read folder %s", w->dir);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		uint64_t start;
		char tail[8];
		if (strlen(de->d_name) != 20 ||
		    sscanf(de->d_name, "%16" SCNx64 "%7s", &start, tail) != 2 ||
		    strcmp(tail, ".wal") != 0)
			continue;
		char path[4200];
		segment_path(w, start, path, sizeof path);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			rc = err_sys(e, -errno, "wal: cannot open %s", path);
		else if ((rc = push_segment(w, start, fd, e)) != 0)
			close(fd);
	}
	closedir(d);
	if (rc == 0 && w->n_segments > 1)
		qsort(w->segments, w->n_segments, sizeof *w->segments, compare_segments);
	return rc;
}

/* ---- the buffer and direct writes ---- */

static size_t round_up_block(size_t n)
{
	return (n + BLOCK_BYTES - 1) / BLOCK_BYTES * BLOCK_BYTES;
}

/* Makes buf hold need bytes (a multiple of BLOCK_BYTES), aligned for
 * direct writes. */
static bool grow_buffer(struct wal *w, size_t need)
{
	if (need <= w->cap)
		return true;
	size_t bigger = w->cap ? w->cap * 2 : 1 << 20;
	while (bigger < need)
		bigger *= 2;
	uint8_t *grown = aligned_alloc(BLOCK_BYTES, bigger);
	if (!grown)
		return false;
	if (w->buf)
		memcpy(grown, w->buf, w->head + w->len);
	free(w->buf);
	w->buf = grown;
	w->cap = bigger;
	return true;
}

/* Opens the last segment for direct writes and loads into buf the durable
 * start of the block its end falls in, which the next commit writes
 * again.  Where that cannot be (a filesystem without O_DIRECT, no memory),
 * commits write through the page cache as before. */
static void start_direct(struct wal *w)
{
	struct segment *s = last_segment(w);
	char path[4200];
	segment_path(w, s->start, path, sizeof path);
	w->head = 0;
	if (w->len != 0 || !grow_buffer(w, BLOCK_BYTES))
		return;
	int fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return;
	uint64_t at = w->end - s->start;
	size_t head = (size_t)(at % BLOCK_BYTES);
	if (head && pread(s->fd, w->buf, head, (off_t)(at - head)) != (ssize_t)head) {
		close(fd);
		return;
	}
	w->direct_fd = fd;
	w->head = head;
}

/* Back to writes through the page cache, for good. */
static void stop_direct(struct wal *w)
{
	memmove(w->buf, w->buf + w->head, w->len);
	w->head = 0;
	close(w->direct_fd);
	w->direct_fd = -1;
}

/* ---- reading records ---- */

/* Reads the record at position pos of segment s (ending at limit).
 * Returns 1 and the record, 0 at a zero header (end of data), -EBADMSG for
 * a damaged record.  *payload is malloc'ed into *scratch (reused). */
static int read_record(struct segment *s, uint64_t pos, uint64_t limit, struct record_header *h,
		       uint8_t **scratch, size_t *scratch_cap)
{
	if (pos + HEADER_BYTES > limit)
		return 0;
	if (pread(s->fd, h, sizeof *h, (off_t)(pos - s->start)) != (ssize_t)sizeof *h)
		return -EBADMSG;
	if (h->magic_type == 0 && h->len == 0 && h->check == 0 && h->zero == 0)
		return 0;
	uint32_t type = h->magic_type & 0xff, magic = h->magic_type & ~0xffu;
	if ((magic != WAL_MAGIC && magic != WAL_MAGIC_1) ||
	    (type != WAL_SERIES && type != WAL_SAMPLES) || h->zero != 0 ||
	    pos + HEADER_BYTES + h->len > limit)
		return -EBADMSG;
	if (!grow_array_from(scratch, scratch_cap, h->len, 1, h->len))
		return -ENOMEM;
	if (h->len && pread(s->fd, *scratch, h->len, (off_t)(pos + HEADER_BYTES - s->start)) !=
			  (ssize_t)h->len)
		return -EBADMSG;
	uint32_t (*check)(uint32_t, uint32_t, const void *) =
	    magic == WAL_MAGIC ? checksum : checksum_1;
	if (check(h->magic_type, h->len, *scratch) != h->check)
		return -EBADMSG;
	return 1;
}

static uint64_t segment_limit(struct wal *w, size_t i)
{
	uint64_t cap = w->segments[i].start + w->config.segment_bytes;
	if (i + 1 < w->n_segments && w->segments[i + 1].start < cap)
		return w->segments[i + 1].start;
	return cap;
}

/* Finds the end of the last segment and zeroes a torn tail after it. */
static int find_end(struct wal *w, struct err *e)
{
	struct segment *s = last_segment(w);
	uint64_t pos = s->start, limit = segment_limit(w, w->n_segments - 1);
	struct record_header h;
	uint8_t *scratch = NULL;
	size_t scratch_cap = 0;
	int rc;
	while ((rc = read_record(s, pos, limit, &h, &scratch, &scratch_cap)) == 1)
		pos += HEADER_BYTES + h.len;
	free(scratch);
	if (rc == -ENOMEM)
		return err_set(e, rc, "wal: out of memory");
	w->end = pos;
	if (rc == 0)
		return 0;
	/* A torn write: never acknowledged, so cut it, and zero what follows
	 * so that no stale record can appear after new ones. */
	static const uint8_t zeros[1 << 16];
	uint64_t zero_end = pos + w->config.buffer_bytes * 2 + HEADER_BYTES;
	if (zero_end > limit)
		zero_end = limit;
	for (uint64_t p = pos; p < zero_end; p += sizeof zeros) {
		size_t n = zero_end - p < sizeof zeros ? (size_t)(zero_end - p) : sizeof zeros;
		if (pwrite(s->fd, zeros, n, (off_t)(p - s->start)) != (ssize_t)n)
			return err_sys(e, -errno, "wal: cannot repair the torn tail of %s", w->dir);
	}
	if (fdatasync(s->fd) != 0)
		return err_sys(e, -errno, "wal: cannot sync %s", w->dir);
	w->stats.torn_tail_bytes = zero_end - pos;
	return 0;
}

int wal_open(const char *dir, const struct wal_config *c, struct wal **out, struct err *e)
{
	struct wal *w = calloc(1, sizeof *w);
	int rc;
	if (!w)
		return err_set(e, -ENOMEM, "wal: out of memory");
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	w->config = *c;
	if (w->config.buffer_bytes * 2 > w->config.segment_bytes)
		w->config.buffer_bytes = w->config.segment_bytes / 2;
	w->split = NO_SPLIT;
	w->dir_fd = -1;
	w->new_fd = -1;
	w->direct_fd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = err_sys(e, -errno, "wal: cannot create folder %s", dir);
		goto fail;
	}
	w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd < 0) {
		rc = err_sys(e, -errno, "wal: cannot open folder %s", dir);
		goto fail;
	}
	if ((rc = load_segments(w, e)) != 0)
		goto fail;
	if (w->n_segments == 0) {
		int fd;
		if ((rc = create_segment(w, 0, &fd, e)) != 0 ||
		    (rc = push_segment(w, 0, fd, e)) != 0)
			goto fail;
	}
	if ((rc = find_end(w, e)) != 0)
		goto fail;
	start_direct(w);
	if (c->use_io_uring) {
		rc = io_uring_queue_init(8, &w->uring, 0);
		w->uring_ok = rc == 0;
	}
	w->stats.io_uring = w->uring_ok;
	*out = w;
	return 0;
fail:
	wal_close(w);
	return rc;
}

static int reap_uring(struct wal *w);

static int join_removal(struct wal *w, struct err *e);

void wal_close(struct wal *w)
{
	if (!w)
		return;
	if (w->submitted) /* the kernel may still read buf */
		reap_uring(w);
	if (w->new_fd >= 0 && w->n_flight > 0)
		close(w->new_fd);
	for (size_t i = 0; i < w->n_segments; i++)
		close(w->segments[i].fd);
	if (w->direct_fd >= 0)
		close(w->direct_fd);
	join_removal(w, NULL);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	if (w->uring_ok)
		io_uring_queue_exit(&w->uring);
	free(w->segments);
	free(w->buf);
	free(w);
}

/* ---- appending ---- */

static int append_record(struct wal *w, uint32_t type, const void *a, size_t a_len, const void *b,
			 size_t b_len, struct err *e)
{
	size_t len = a_len + b_len, need = HEADER_BYTES + len;
	if (w->n_flight > 0) /* the buffer is being written: it may not move */
		return err_set(e, -EBUSY, "wal: append while a commit is under way");
	if (len > UINT32_MAX / 2)
		return err_set(e, -E2BIG, "wal: record of %zu bytes is too big", len);
	if (!grow_buffer(w, round_up_block(w->head + w->len + need)))
		return err_set(e, -ENOMEM, "wal: out of memory for a %zu-byte record", need);
	/* Records never straddle segments: mark where the next one begins. */
	uint64_t seg_start = w->split == NO_SPLIT ? last_segment(w)->start : w->end + w->split;
	size_t seg_used =
	    w->split == NO_SPLIT ? (size_t)(w->end - seg_start) + w->len : w->len - w->split;
	if (seg_used + need > w->config.segment_bytes) {
		if (w->split != NO_SPLIT || need > w->config.segment_bytes)
			return err_set(e, -E2BIG,
				       "wal: more than a segment appended without a commit");
		w->split = w->len;
	}
	uint32_t magic_type = WAL_MAGIC | type;
	uint8_t *dst = w->buf + w->head + w->len;
	memcpy(dst + HEADER_BYTES, a, a_len);
	if (b_len)
		memcpy(dst + HEADER_BYTES + a_len, b, b_len);
	struct record_header h = { magic_type, (uint32_t)len, 0, 0 };
	h.check = checksum(magic_type, (uint32_t)len, dst + HEADER_BYTES);
	memcpy(dst, &h, sizeof h);
	w->len += need;
	return 0;
}

int wal_append_series(struct wal *w, uint64_t id, const char *name, size_t len, struct err *e)
{
	if (FAULT("wal.append_series"))
		return err_set(e, -ENOMEM, "wal: out of memory (injected)");
	return append_record(w, WAL_SERIES, &id, sizeof id, name, len, e);
}

int wal_append_samples(struct wal *w, const struct sample *s, size_t n, struct err *e)
{
	/* struct sample is three 8-byte fields, little-endian on every
	 * platform we build for: it is the record format as it stands. */
	_Static_assert(sizeof(struct sample) == 24, "sample layout");
	if (FAULT("wal.append_samples"))
		return err_set(e, -ENOMEM, "wal: out of memory (injected)");
	return append_record(w, WAL_SAMPLES, s, n * sizeof *s, NULL, 0, e);
}

/* ---- committing ---- */

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t offset)
{
	while (n > 0) {
		ssize_t done = pwrite(fd, p, n, (off_t)offset);
		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? -errno : -EIO;
		p += done;
		n -= (size_t)done;
		offset += (uint64_t)done;
	}
	return 0;
}

static int commit_sync(struct piece *pieces, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = write_all(pieces[i].fd, pieces[i].p, pieces[i].n, pieces[i].offset);
		if (rc == 0 && fdatasync(pieces[i].fd) != 0)
			rc = -errno;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Each piece is a write linked to an fdatasync of the same file: the sync
 * starts only if the write completed, and all go in one system call. */
static int submit_uring(struct wal *w, struct piece *pieces, int n)
{
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&w->uring);
		io_uring_prep_write(sqe, pieces[i].fd, pieces[i].p, (unsigned)pieces[i].n,
				    pieces[i].offset);
		sqe->flags |= IOSQE_IO_LINK;
		sqe->user_data = (uint64_t)i * 2;
		sqe = io_uring_get_sqe(&w->uring);
		io_uring_prep_fsync(sqe, pieces[i].fd, IORING_FSYNC_DATASYNC);
		sqe->user_data = (uint64_t)i * 2 + 1;
	}
	int rc = io_uring_submit(&w->uring);
	return rc < 0 ? rc : 0;
}

/* Takes one completion of the commit under way into w->reaped and
 * w->result; when it is the last, notes the time. */
static void reap_one(struct wal *w, struct io_uring_cqe *cqe)
{
	uint64_t k = cqe->user_data;
	bool write = k % 2 == 0;
	if (cqe->res < 0 && w->result == 0)
		w->result = cqe->res;
	/* A short write cancels its sync; finish it the plain way. */
	else if (write && (size_t)cqe->res != w->flight[k / 2].n && w->result == 0)
		w->result = -EAGAIN;
	io_uring_cqe_seen(&w->uring, cqe);
	if (++w->reaped == w->n_flight * 2)
		w->durable_ns = rtime_mono_ns();
}

/* Waits for every completion of the commit under way. */
static int reap_uring(struct wal *w)
{
	while (w->reaped < w->n_flight * 2) {
		struct io_uring_cqe *cqe;
		int rc = io_uring_wait_cqe(&w->uring, &cqe);
		if (rc != 0)
			return rc;
		reap_one(w, cqe);
	}
	return w->result;
}

bool wal_commit_done(struct wal *w)
{
	struct io_uring_cqe *cqe;
	while (w->submitted && w->reaped < w->n_flight * 2 &&
	       io_uring_peek_cqe(&w->uring, &cqe) == 0)
		reap_one(w, cqe);
	return w->submitted && w->reaped == w->n_flight * 2;
}

int64_t wal_durable_ns(struct wal *w)
{
	return w->durable_ns;
}

int wal_commit_begin(struct wal *w, struct err *e)
{
	if (w->len == 0 || w->n_flight > 0)
		return 0;
	int rc;
	size_t first = w->split == NO_SPLIT ? w->len : w->split;
	struct segment *s = last_segment(w);
	uint8_t *records = w->buf + w->head;
	w->n_flight = 0;
	w->new_fd = -1;
	if (w->direct_fd >= 0 && w->split == NO_SPLIT) {
		/* Whole blocks from the one the durable end falls in; zeros
		 * after the records read as the end of the log. */
		size_t n = round_up_block(w->head + w->len);
		memset(records + w->len, 0, n - w->head - w->len);
		w->flight[w->n_flight++] =
		    (struct piece){ w->direct_fd, w->buf, n, w->end - s->start - w->head };
	} else if (first > 0)
		w->flight[w->n_flight++] =
		    (struct piece){ s->fd, records, first, w->end - s->start };
	if (w->split != NO_SPLIT) {
		if ((rc = create_segment(w, w->end + w->split, &w->new_fd, e)) != 0) {
			w->n_flight = 0;
			return rc;
		}
		w->flight[w->n_flight++] =
		    (struct piece){ w->new_fd, records + w->split, w->len - w->split, 0 };
	}
	w->reaped = 0;
	w->result = 0;
	w->submitted = w->uring_ok && submit_uring(w, w->flight, w->n_flight) == 0;
	return 0;
}

/* After a commit: the records are durable, and buf keeps the start of
 * the block the new end falls in (or, on a new segment, opens that one
 * for direct writes). */
static void keep_last_block(struct wal *w, bool new_segment)
{
	size_t total = w->head + w->len;
	w->end += w->len;
	w->len = 0;
	w->split = NO_SPLIT;
	if (new_segment) {
		if (w->direct_fd >= 0)
			close(w->direct_fd);
		w->direct_fd = -1;
		start_direct(w);
	} else if (w->direct_fd >= 0) {
		size_t keep = total % BLOCK_BYTES;
		memmove(w->buf, w->buf + total - keep, keep);
		w->head = keep;
	}
}

int wal_commit_end(struct wal *w, uint64_t *end, struct err *e)
{
	if (w->len == 0) {
		*end = w->end;
		return 0;
	}
	int rc = 0;
	if (w->n_flight == 0 && (rc = wal_commit_begin(w, e)) != 0)
		return rc;
	struct piece *pieces = w->flight;
	int n = w->n_flight, new_fd = w->new_fd;
	rc = w->submitted ? reap_uring(w) : -EAGAIN;
	w->submitted = false;
	w->n_flight = 0;
	if (rc == -EAGAIN || (w->uring_ok && rc != 0 && rc != -ENOSPC && rc != -EIO)) {
		rc = commit_sync(pieces, n);
		w->durable_ns = rtime_mono_ns();
	}
	if (rc == -EINVAL && pieces[0].fd == w->direct_fd) {
		/* The filesystem took the O_DIRECT open but not the write. */
		struct segment *s = last_segment(w);
		stop_direct(w);
		pieces[0] = (struct piece){ s->fd, w->buf, w->len, w->end - s->start };
		rc = commit_sync(pieces, 1);
		w->durable_ns = rtime_mono_ns();
	}
	if (rc == 0)
		rc = FAULT("wal.write"); /* as if the write or its fdatasync had failed */
	if (rc != 0) {
		if (new_fd >= 0) {
			char path[4200];
			segment_path(w, w->end + w->split, path, sizeof path);
			close(new_fd);
			unlink(path);
		}
		return err_sys(e, rc, "wal: cannot write %zu bytes to %s", w->len, w->dir);
	}
	if (new_fd >= 0 && (rc = push_segment(w, w->end + w->split, new_fd, e)) != 0) {
		close(new_fd);
		return rc;
	}
	keep_last_block(w, new_fd >= 0);
	w->stats.commits++;
	*end = w->end;
	return 0;
}

int wal_commit(struct wal *w, uint64_t *end, struct err *e)
{
	int rc = wal_commit_begin(w, e);
	return rc != 0 ? rc : wal_commit_end(w, end, e);
}

uint64_t wal_end(struct wal *w)
{
	return w->end;
}

/* ---- replay and truncation ---- */

int wal_replay(struct wal *w, uint64_t from, wal_replay_fn fn, void *ctx, struct err *e)
{
	uint8_t *scratch = NULL;
	size_t scratch_cap = 0;
	int rc = 0;
	for (size_t i = 0; i < w->n_segments && rc == 0; i++) {
		uint64_t limit = segment_limit(w, i), pos = w->segments[i].start;
		if (limit <= from)
			continue;
		bool last = i + 1 == w->n_segments;
		struct record_header h;
		while (rc == 0 && pos < (last ? w->end : limit)) {
			int got =
			    read_record(&w->segments[i], pos, limit, &h, &scratch, &scratch_cap);
			if (got == 0)
				break;
			if (got < 0) {
				rc = err_set(
				    e, got == -ENOMEM ? got : -EBADMSG,
				    "wal: damaged record at position %llu in %s/%016llx.wal",
				    (unsigned long long)pos, w->dir,
				    (unsigned long long)w->segments[i].start);
				break;
			}
			uint64_t next = pos + HEADER_BYTES + h.len;
			if (pos >= from)
				rc = fn(ctx, (enum wal_record_type)(h.magic_type & 0xff), scratch,
					h.len, next, e);
			pos = next;
		}
	}
	free(scratch);
	return rc;
}

static void *remove_segments(void *arg)
{
	struct removal *r = arg;
	for (size_t i = 0; i < r->n; i++) {
		if (unlink(r->paths[i]) != 0 && errno != ENOENT && r->error == 0) {
			r->error = errno;
			snprintf(r->failed, sizeof r->failed, "%s", r->paths[i]);
		}
		free(r->paths[i]);
	}
	free(r->paths);
	r->paths = NULL;
	return NULL;
}

/* Waits for the last removal; its first failure as the error. */
static int join_removal(struct wal *w, struct err *e)
{
	struct removal *r = w->removal;
	if (!r)
		return 0;
	pthread_join(w->remover, NULL);
	w->removal = NULL;
	int rc = r->error ? err_sys(e, -r->error, "wal: cannot remove %s", r->failed) : 0;
	free(r);
	return rc;
}

int wal_truncate_before(struct wal *w, uint64_t position, struct err *e)
{
	int rc = join_removal(w, e);
	if (rc)
		return rc;
	size_t drop = 0;
	/* Keep the last segment always: it is the one being written. */
	while (drop + 1 < w->n_segments && w->segments[drop + 1].start <= position)
		drop++;
	if (drop == 0)
		return 0;
	struct removal *r = calloc(1, sizeof *r);
	if (!r || !(r->paths = calloc(drop, sizeof *r->paths))) {
		free(r);
		return err_set(e, -ENOMEM, "wal: out of memory");
	}
	for (size_t i = 0; i < drop; i++) {
		char path[4200];
		segment_path(w, w->segments[i].start, path, sizeof path);
		if (!(r->paths[r->n] = strdup(path)))
			break; /* left on disk: the next start removes it */
		r->n++;
	}
	for (size_t i = 0; i < drop; i++)
		close(w->segments[i].fd);
	memmove(w->segments, w->segments + drop, (w->n_segments - drop) * sizeof *w->segments);
	w->n_segments -= drop;
	w->removal = r;
	if (pthread_create(&w->remover, NULL, remove_segments, r) != 0) {
		remove_segments(r); /* no thread: here, then */
		w->removal = NULL;
		rc = r->error ? err_sys(e, -r->error, "wal: cannot remove %s", r->failed) : 0;
		free(r);
	}
	return rc;
}

void wal_get_stats(struct wal *w, struct wal_stats *out)
{
	*out = w->stats;
	out->end = w->end;
	out->segments = w->n_segments;
	out->direct_io = w->direct_fd >= 0;
	out->bytes_on_disk = w->n_segments * w->config.segment_bytes;
}
