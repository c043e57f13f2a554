/* spool.c - the sender's disk spool; see spool.h. */
#include "net/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/fault.h"
#include "lib/grow.h"
#include "lib/series_name.h"

#define RECORD_HEADER 20 /* u32 length, u32 check, u64 seq, u32 samples */
#define NAME_HEADER   12 /* u32 length, u64 id */

struct record {
	uint64_t seq;
	uint64_t segment; /* first seq of its segment (the file name) */
	uint64_t offset;  /* of the frame, after the record header */
	uint32_t length, samples;
	uint8_t *held; /* header and frame while the disk has no room for them, else NULL */
};

struct segment {
	uint64_t first_seq, bytes;
};

struct spool {
	struct spool_config config;
	char dir[4096];
	struct segment *segments;
	size_t n_segments, segments_cap;
	int write_fd; /* the last segment */
	struct record *records;
	size_t head, n_records, records_cap; /* pending: records[head..n_records) */
	int read_fd;
	uint64_t read_segment;
	int names_fd;
	uint64_t *ids; /* open addressing, 0 = empty */
	size_t ids_cap, n_ids;
	char **names;	   /* parallel to ids */
	bool names_behind; /* a definition is only in memory: the disk was full */
	size_t first_held; /* records[first_held..n_records) are held, when any is */
	struct spool_stats stats;
	struct proto_buf scratch;
};

void spool_config_default(struct spool_config *c, const char *dir)
{
	c->dir = dir;
	c->max_bytes = 100ull << 20;
	c->segment_bytes = 1ull << 20;
}

static uint32_t check_of(uint64_t seq, const void *frame, size_t len)
{
	return (uint32_t)(series_id(frame, len) ^ seq);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static void segment_path(struct spool *s, uint64_t first_seq, char *path, size_t len)
{
	snprintf(path, len, "%s/%016" PRIx64 ".spool", s->dir, first_seq);
}

/* ---- the series definitions ---- */

static bool ids_find(struct spool *s, uint64_t id, size_t *slot)
{
	*slot = 0;
	if (!s->ids_cap)
		return false;
	size_t j = id & (s->ids_cap - 1);
	while (s->ids[j] && s->ids[j] != id)
		j = (j + 1) & (s->ids_cap - 1);
	*slot = j;
	return s->ids[j] == id;
}

static int ids_add(struct spool *s, uint64_t id, const char *name, size_t len)
{
	size_t slot;
	if ((s->n_ids + 1) * 2 > s->ids_cap) {
		size_t old_cap = s->ids_cap, cap = old_cap ? old_cap * 2 : 1024;
		uint64_t *old_ids = s->ids;
		char **old_names = s->names;
		s->ids = calloc(cap, sizeof *s->ids);
		s->names = calloc(cap, sizeof *s->names);
		if (!s->ids || !s->names) {
			free(s->ids);
			free(s->names);
			s->ids = old_ids;
			s->names = old_names;
			return -ENOMEM;
		}
		s->ids_cap = cap;
		for (size_t i = 0; i < old_cap; i++) {
			if (old_ids[i]) {
				ids_find(s, old_ids[i], &slot);
				s->ids[slot] = old_ids[i];
				s->names[slot] = old_names[i];
			}
		}
		free(old_ids);
		free(old_names);
	}
	if (ids_find(s, id, &slot))
		return 0;
	char *copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	s->ids[slot] = id;
	s->names[slot] = copy;
	s->n_ids++;
	s->stats.series = s->n_ids;
	return 0;
}

int spool_define(struct spool *s, uint64_t id, const char *name, struct err *e)
{
	size_t slot, len = strlen(name);
	if (ids_find(s, id, &slot))
		return 0;
	uint8_t head[NAME_HEADER];
	put32(head, (uint32_t)len);
	memcpy(head + 4, &id, sizeof id);
	struct iovec iov[2] = { { head, sizeof head }, { (void *)name, len } };
	off_t before = lseek(s->names_fd, 0, SEEK_END);
	int fault = s->names_behind ? 0 : FAULT("spool.write");
	ssize_t wrote = s->names_behind ? -1
			: fault		? (errno = -fault, -1)
					: writev(s->names_fd, iov, 2);
	if (wrote != (ssize_t)(sizeof head + len)) {
		int rc = s->names_behind ? -ENOSPC : wrote < 0 ? -errno : -ENOSPC;
		if (rc != -ENOSPC && rc != -EDQUOT)
			return err_sys(e, rc, "spool %s: cannot record a series name", s->dir);
		/* Disk full: kept in memory, and the file rewritten whole before
		 * any batch reaches the disk (so a torn entry is cut now). */
		if (wrote > 0 && before >= 0 && ftruncate(s->names_fd, before) != 0)
			return err_sys(e, -errno, "spool %s: cannot cut a torn name", s->dir);
		s->names_behind = true;
		s->stats.disk_full = true;
		snprintf(s->stats.held_why, sizeof s->stats.held_why,
			 "spool %.100s: cannot record a series name: %s", s->dir, strerror(-rc));
	}
	if (ids_add(s, id, name, len) != 0)
		return err_set(e, -ENOMEM, "spool: out of memory");
	return 1;
}

/* Reads the definitions file; a torn last entry is cut off. */
static int load_names(struct spool *s, bool keep, struct err *e)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/series", s->dir);
	s->names_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->names_fd < 0)
		return err_sys(e, -errno, "spool: cannot open %s", path);
	if (!keep) /* nothing pending: the names are known upstream */
		return ftruncate(s->names_fd, 0) == 0 ? 0 : err_sys(e, -errno, "spool: %s", path);
	struct stat st;
	if (fstat(s->names_fd, &st) != 0)
		return err_sys(e, -errno, "spool: %s", path);
	uint8_t *data = malloc((size_t)st.st_size + 1);
	if (!data || pread(s->names_fd, data, (size_t)st.st_size, 0) != st.st_size) {
		free(data);
		return err_sys(e, -EIO, "spool: cannot read %s", path);
	}
	size_t at = 0, size = (size_t)st.st_size;
	while (size - at >= NAME_HEADER) {
		uint32_t len = get32(data + at);
		uint64_t id = get64(data + at + 4);
		if (len == 0 || len > SERIES_NAME_MAX || size - at - NAME_HEADER < len)
			break;
		if (ids_add(s, id, (const char *)data + at + NAME_HEADER, len) != 0) {
			free(data);
			return err_set(e, -ENOMEM, "spool: out of memory");
		}
		at += NAME_HEADER + len;
	}
	free(data);
	if (at != size && ftruncate(s->names_fd, (off_t)at) != 0)
		return err_sys(e, -errno, "spool: cannot cut %s", path);
	return 0;
}

static bool disk_full(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT;
}

/* ---- segments and records ---- */

static int add_record(struct spool *s, struct record r)
{
	if (s->n_records == s->records_cap) {
		if (s->head > 0 && s->head >= s->n_records / 2) { /* reuse the acked front */
			memmove(s->records, s->records + s->head,
				(s->n_records - s->head) * sizeof *s->records);
			s->n_records -= s->head;
			s->first_held = s->first_held > s->head ? s->first_held - s->head : 0;
			s->head = 0;
		} else if (!grow_array_from(&s->records, &s->records_cap, s->n_records + 1,
					    sizeof *s->records, 256)) {
			return -ENOMEM;
		}
	}
	s->records[s->n_records++] = r;
	s->stats.pending_batches = s->n_records - s->head;
	return 0;
}

static int add_segment(struct spool *s, uint64_t first_seq, uint64_t bytes)
{
	if (!grow_array(&s->segments, &s->segments_cap, s->n_segments + 1, sizeof *s->segments))
		return -ENOMEM;
	s->segments[s->n_segments++] = (struct segment){ first_seq, bytes };
	s->stats.bytes += bytes;
	return 0;
}

/* Removes the oldest segment and the records in it. */
static void drop_oldest(struct spool *s, bool acked)
{
	char path[4200];
	struct segment old = s->segments[0];
	segment_path(s, old.first_seq, path, sizeof path);
	unlink(path);
	if (s->read_fd >= 0 && s->read_segment == old.first_seq) {
		close(s->read_fd);
		s->read_fd = -1;
	}
	memmove(s->segments, s->segments + 1, (s->n_segments - 1) * sizeof *s->segments);
	s->n_segments--;
	s->stats.bytes -= old.bytes;
	while (s->head < s->n_records && s->records[s->head].segment == old.first_seq) {
		if (!acked) {
			s->stats.dropped_batches++;
			s->stats.dropped_samples += s->records[s->head].samples;
		}
		s->head++;
	}
	s->stats.pending_batches = s->n_records - s->head;
}

/* Scans one segment file, indexing its unacked records; a bad record cuts
 * the file there. */
static int scan_segment(struct spool *s, uint64_t first_seq, struct err *e)
{
	char path[4200];
	segment_path(s, first_seq, path, sizeof path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return err_sys(e, -errno, "spool: cannot open %s", path);
	uint8_t *data = malloc((size_t)st.st_size + 1);
	if (!data || pread(fd, data, (size_t)st.st_size, 0) != st.st_size) {
		free(data);
		close(fd);
		return err_sys(e, -EIO, "spool: cannot read %s", path);
	}
	size_t at = 0, size = (size_t)st.st_size;
	int rc = 0;
	while (rc == 0 && size - at >= RECORD_HEADER) {
		uint32_t len = get32(data + at), check = get32(data + at + 4);
		uint64_t seq = get64(data + at + 8);
		uint32_t samples = get32(data + at + 16);
		if (len > PROTO_MAX_FRAME || size - at - RECORD_HEADER < len ||
		    check_of(seq, data + at + RECORD_HEADER, len) != check)
			break;
		if (seq > s->stats.last_seq)
			s->stats.last_seq = seq;
		if (seq > s->stats.acked)
			rc = add_record(s, (struct record){ seq, first_seq, at + RECORD_HEADER, len,
							    samples, NULL });
		at += RECORD_HEADER + len;
	}
	free(data);
	if (at != size) {
		s->stats.torn++;
		if (ftruncate(fd, (off_t)at) != 0)
			rc = err_sys(e, -errno, "spool: cannot cut %s", path);
	}
	close(fd);
	if (rc == 0 && (rc = add_segment(s, first_seq, at)) != 0)
		err_set(e, rc, "spool: out of memory");
	return rc;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int load_segments(struct spool *s, struct err *e)
{
	DIR *dir = opendir(s->dir);
	if (!dir)
		return err_sys(e, -errno, "spool: cannot read %s", s->dir);
	uint64_t *firsts = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *d; (d = readdir(dir));) {
		char *end;
		uint64_t first = strtoull(d->d_name, &end, 16);
		if (end == d->d_name || strcmp(end, ".spool") != 0)
			continue;
		if (!grow_array_from(&firsts, &cap, n + 1, sizeof *firsts, 64)) {
			free(firsts);
			closedir(dir);
			return err_set(e, -ENOMEM, "spool: out of memory");
		}
		firsts[n++] = first;
	}
	closedir(dir);
	if (n > 1)
		qsort(firsts, n, sizeof *firsts, compare_u64);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = scan_segment(s, firsts[i], e);
	free(firsts);
	/* Segments left with nothing pending go, except the one written last. */
	while (rc == 0 && s->n_segments > 1 &&
	       (s->head == s->n_records || s->records[s->head].segment != s->segments[0].first_seq))
		drop_oldest(s, true);
	return rc;
}

static int open_write_segment(struct spool *s, uint64_t first_seq, struct err *e)
{
	char path[4200];
	segment_path(s, first_seq, path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) /* the segment written so far stays the last */
		return err_sys(e, -errno, "spool: cannot create %s", path);
	if (s->write_fd >= 0)
		close(s->write_fd);
	s->write_fd = fd;
	return 0;
}

static void read_acked(struct spool *s)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/acked", s->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t v;
	if (fd >= 0 && pread(fd, &v, sizeof v, 0) == sizeof v)
		s->stats.acked = v;
	if (fd >= 0)
		close(fd);
}

int spool_open(const struct spool_config *c, struct spool **out, struct err *e)
{
	struct spool *s = calloc(1, sizeof *s);
	int rc;
	if (!s)
		return err_set(e, -ENOMEM, "spool: out of memory");
	s->config = *c;
	s->write_fd = s->read_fd = s->names_fd = -1;
	snprintf(s->dir, sizeof s->dir, "%s", c->dir);
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		rc = err_sys(e, -errno, "spool: cannot create %s", s->dir);
		goto fail;
	}
	read_acked(s);
	if ((rc = load_segments(s, e)) != 0 || (rc = load_names(s, s->head < s->n_records, e)) != 0)
		goto fail;
	if (s->stats.last_seq < s->stats.acked)
		s->stats.last_seq = s->stats.acked;
	if (s->n_segments == 0 && (rc = add_segment(s, s->stats.last_seq + 1, 0)) != 0) {
		err_set(e, rc, "spool: out of memory");
		goto fail;
	}
	if ((rc = open_write_segment(s, s->segments[s->n_segments - 1].first_seq, e)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	spool_close(s);
	return rc;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	int fds[] = { s->write_fd, s->read_fd, s->names_fd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (size_t i = 0; i < s->ids_cap; i++)
		free(s->names[i]);
	free(s->ids);
	free(s->names);
	free(s->segments);
	for (size_t i = s->head; i < s->n_records; i++)
		free(s->records[i].held);
	free(s->records);
	proto_buf_free(&s->scratch);
	free(s);
}

/* Writes the definitions file anew from memory (after a full disk kept
 * some only there), replacing the old one only once complete. */
static int rewrite_names(struct spool *s)
{
	char path[4200], fresh[4300];
	snprintf(path, sizeof path, "%s/series", s->dir);
	snprintf(fresh, sizeof fresh, "%s.new", path);
	int fd = open(fresh, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (size_t i = 0; i < s->ids_cap && rc == 0; i++) {
		if (!s->ids[i])
			continue;
		size_t len = strlen(s->names[i]);
		uint8_t head[NAME_HEADER];
		put32(head, (uint32_t)len);
		memcpy(head + 4, &s->ids[i], sizeof s->ids[i]);
		struct iovec iov[2] = { { head, sizeof head }, { s->names[i], len } };
		ssize_t wrote = writev(fd, iov, 2);
		if (wrote != (ssize_t)(sizeof head + len))
			rc = wrote < 0 ? -errno : -ENOSPC;
	}
	if (rc == 0 && rename(fresh, path) != 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		unlink(fresh);
		return rc;
	}
	close(s->names_fd);
	s->names_fd = fd;
	s->names_behind = false;
	return 0;
}

/* Writes one record (header and frame, len bytes) at the end of the last
 * segment, starting a new segment first when that one is full. */
static int write_record(struct spool *s, uint64_t seq, const uint8_t *h, size_t len, struct err *e)
{
	struct segment *last = &s->segments[s->n_segments - 1];
	int rc;
	if (last->bytes >= s->config.segment_bytes) {
		if ((rc = add_segment(s, seq, 0)) != 0)
			return err_set(e, rc, "spool: out of memory");
		if ((rc = open_write_segment(s, seq, e)) != 0) {
			s->n_segments--;
			return rc;
		}
		last = &s->segments[s->n_segments - 1];
	}
	int fault = FAULT("spool.write");
	ssize_t wrote = fault ? (errno = -fault, -1) : write(s->write_fd, h, len);
	if (wrote != (ssize_t)len) {
		rc = wrote < 0 ? -errno : -ENOSPC;
		/* A partial record would be cut at the next open; cut it now. */
		if (wrote > 0 && ftruncate(s->write_fd, (off_t)last->bytes) != 0)
			rc = -errno;
		return err_sys(e, rc, "spool %s: cannot write a batch", s->dir);
	}
	return 0;
}

/* Writes the held records, oldest first, while the disk takes them. */
static int write_held(struct spool *s, struct err *e)
{
	int rc = 0;
	if (s->names_behind && (rc = rewrite_names(s)) != 0)
		return err_sys(e, rc, "spool %s: cannot write the series names", s->dir);
	for (; s->first_held < s->n_records; s->first_held++) {
		struct record *r = &s->records[s->first_held];
		if (!r->held)
			continue; /* acknowledged meanwhile */
		size_t len = RECORD_HEADER + r->length;
		if ((rc = write_record(s, r->seq, r->held, len, e)) != 0)
			return rc;
		struct segment *last = &s->segments[s->n_segments - 1];
		r->segment = last->first_seq;
		r->offset = last->bytes + RECORD_HEADER;
		last->bytes += len;
		s->stats.bytes += len;
		s->stats.held_batches--;
		s->stats.held_bytes -= len;
		free(r->held);
		r->held = NULL;
	}
	return 0;
}

void spool_write_held(struct spool *s)
{
	struct err why = { 0 };
	if (!s->stats.held_batches && !s->names_behind)
		return;
	int rc = write_held(s, &why);
	s->stats.disk_full = rc != 0;
	if (rc != 0)
		snprintf(s->stats.held_why, sizeof s->stats.held_why, "%.199s", why.msg);
}

int spool_append(struct spool *s, const struct sample *samples, size_t n, uint64_t *seq,
		 struct err *e)
{
	uint64_t next = s->stats.last_seq + 1;
	int rc;
	s->scratch.len = 0;
	uint8_t head[RECORD_HEADER] = { 0 };
	if (proto_buf_append(&s->scratch, head, sizeof head) != 0 ||
	    proto_put_samples(&s->scratch, next, samples, n) != 0)
		return err_set(e, -ENOMEM, "spool: out of memory");
	uint32_t len = (uint32_t)(s->scratch.len - RECORD_HEADER);
	uint8_t *h = s->scratch.data;
	put32(h, len);
	put32(h + 4, check_of(next, h + RECORD_HEADER, len));
	memcpy(h + 8, &next, sizeof next);
	put32(h + 16, (uint32_t)n);
	struct err why = { 0 };
	rc = s->stats.held_batches || s->names_behind ? write_held(s, &why) : 0;
	if (rc == 0 && (rc = write_record(s, next, h, s->scratch.len, &why)) == 0) {
		struct segment *last = &s->segments[s->n_segments - 1];
		rc = add_record(s,
				(struct record){ next, last->first_seq, last->bytes + RECORD_HEADER,
						 len, (uint32_t)n, NULL });
		if (rc != 0)
			return err_set(e, rc, "spool: out of memory");
		last->bytes += s->scratch.len;
		s->stats.bytes += s->scratch.len;
		s->stats.disk_full = false;
	} else if (disk_full(rc)) {
		s->stats.disk_full = true;
		/* Held in memory, sent from there, written once space returns. */
		uint8_t *copy = s->stats.held_bytes + s->scratch.len <= s->config.max_bytes
				    ? malloc(s->scratch.len)
				    : NULL;
		if (!copy)
			return err_set(e, rc,
				       "%s; %llu bytes already held in memory: batch refused",
				       why.msg, (unsigned long long)s->stats.held_bytes);
		memcpy(copy, h, s->scratch.len);
		if (!s->stats.held_batches)
			s->first_held = s->n_records;
		if (add_record(s, (struct record){ next, UINT64_MAX, 0, len, (uint32_t)n, copy }) !=
		    0) {
			free(copy);
			return err_set(e, -ENOMEM, "spool: out of memory");
		}
		s->stats.held_batches++;
		s->stats.held_bytes += s->scratch.len;
		snprintf(s->stats.held_why, sizeof s->stats.held_why, "%.199s", why.msg);
	} else {
		if (e)
			*e = why;
		return rc;
	}
	s->stats.last_seq = next;
	*seq = next;
	while (s->stats.bytes > s->config.max_bytes && s->n_segments > 1)
		drop_oldest(s, false);
	if (s->scratch.cap > (1u << 20))
		proto_buf_free(&s->scratch);
	return 0;
}

int spool_ack(struct spool *s, uint64_t seq, struct err *e)
{
	if (seq <= s->stats.acked)
		return 0;
	if (seq > s->stats.last_seq)
		return err_set(e, -EPROTO, "spool: ack of batch %llu, but the last sent is %llu",
			       (unsigned long long)seq, (unsigned long long)s->stats.last_seq);
	s->stats.acked = seq;
	for (; s->head < s->n_records && s->records[s->head].seq <= seq; s->head++) {
		struct record *r = &s->records[s->head];
		if (r->held) { /* acknowledged before the disk had room: never written */
			s->stats.held_batches--;
			s->stats.held_bytes -= RECORD_HEADER + r->length;
			free(r->held);
			r->held = NULL;
		}
	}
	s->stats.pending_batches = s->n_records - s->head;
	/* Whole segments acknowledged go; the one being written stays. */
	while (s->n_segments > 1 &&
	       (s->head == s->n_records || s->records[s->head].segment != s->segments[0].first_seq))
		drop_oldest(s, true);
	char path[4200];
	snprintf(path, sizeof path, "%s/acked", s->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, &seq, sizeof seq, 0) != sizeof seq) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		/* On a full disk the mark stays behind: after a restart the
		 * batches since are sent again, and the server skips them. */
		return disk_full(rc) ? 0 : err_sys(e, rc, "spool: cannot write %s", path);
	}
	close(fd);
	return 0;
}

int spool_read_after(struct spool *s, uint64_t after, struct proto_buf *out, uint64_t *seq,
		     struct err *e)
{
	size_t lo = s->head, hi = s->n_records;
	while (lo < hi) { /* the first pending record with seq > after */
		size_t mid = lo + (hi - lo) / 2;
		if (s->records[mid].seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->n_records)
		return 0;
	const struct record *r = &s->records[lo];
	char path[4200];
	if (!r->held && (s->read_fd < 0 || s->read_segment != r->segment)) {
		if (s->read_fd >= 0)
			close(s->read_fd);
		segment_path(s, r->segment, path, sizeof path);
		s->read_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->read_fd < 0)
			return err_sys(e, -errno, "spool: cannot open %s", path);
		s->read_segment = r->segment;
	}
	if (proto_buf_reserve(out, r->length) != 0)
		return err_set(e, -ENOMEM, "spool: out of memory");
	if (r->held) {
		memcpy(out->data + out->len, r->held + RECORD_HEADER, r->length);
		out->len += r->length;
		*seq = r->seq;
		return 1;
	}
	if (pread(s->read_fd, out->data + out->len, r->length, (off_t)r->offset) !=
	    (ssize_t)r->length)
		return err_sys(e, -EIO, "spool %s: cannot read batch %llu", s->dir,
			       (unsigned long long)r->seq);
	out->len += r->length;
	*seq = r->seq;
	return 1;
}

int spool_put_definitions(struct spool *s, struct proto_buf *out, size_t per_frame)
{
	uint64_t ids[256];
	const char *names[256];
	size_t n = 0;
	if (per_frame > 256)
		per_frame = 256;
	for (size_t i = 0; i < s->ids_cap; i++) {
		if (!s->ids[i])
			continue;
		ids[n] = s->ids[i];
		names[n++] = s->names[i];
		if (n == per_frame) {
			if (proto_put_series(out, ids, names, n) != 0)
				return -ENOMEM;
			n = 0;
		}
	}
	return n ? proto_put_series(out, ids, names, n) : 0;
}

void spool_get_stats(struct spool *s, struct spool_stats *out)
{
	*out = s->stats;
}
