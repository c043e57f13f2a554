/* test_wal.c - the write-ahead log (store/wal.c): round trips through both
 * the io_uring and the pwrite paths, direct and buffered, segment
 * rollover, logs reopened mid-block, torn tails, damaged
 * records, truncation and a full disk. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/series_name.h"
#include "store/wal.h"

static char dir[256];

static int make_dir(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/rmon-test-wal-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct collected {
	uint64_t samples, series, next_value, last_end;
};

/* Checks that sample values count up from 0 and series ids too. */
static int collect(void *ctx, enum wal_record_type type, const void *payload, size_t len,
		   uint64_t end, struct err *e)
{
	struct collected *c = ctx;
	assert_true(end > c->last_end);
	c->last_end = end;
	if (type == WAL_SERIES) {
		uint64_t id;
		memcpy(&id, payload, sizeof id);
		assert_true(id == c->series);
		char name[32];
		snprintf(name, sizeof name, "h/m%llu", (unsigned long long)id);
		assert_int_equal(len, 8 + strlen(name));
		assert_memory_equal((const char *)payload + 8, name, strlen(name));
		c->series++;
		return 0;
	}
	const struct sample *s = payload;
	for (size_t i = 0; i < len / sizeof *s; i++) {
		assert_true(s[i].value == (double)c->next_value);
		c->next_value++;
	}
	c->samples += len / sizeof *s;
	return 0;
}

static int count(void *ctx, enum wal_record_type type, const void *payload, size_t len,
		 uint64_t end, struct err *e)
{
	if (type == WAL_SAMPLES)
		*(uint64_t *)ctx += len / sizeof(struct sample);
	return 0;
}

static struct wal *open_wal(bool uring, uint64_t segment_bytes)
{
	struct wal_config c;
	wal_config_default(&c);
	c.use_io_uring = uring;
	if (segment_bytes)
		c.segment_bytes = segment_bytes;
	struct wal *w;
	struct err e = { 0 };
	if (wal_open(dir, &c, &w, &e) != 0)
		fail_msg("wal_open: %s", e.msg);
	return w;
}

/* Appends `batches` commits of 1 series + 100 samples each. */
static void append_batches(struct wal *w, int batches, uint64_t *series, uint64_t *value)
{
	struct err e = { 0 };
	for (int b = 0; b < batches; b++) {
		char name[32];
		snprintf(name, sizeof name, "h/m%llu", (unsigned long long)*series);
		assert_int_equal(wal_append_series(w, *series, name, strlen(name), &e), 0);
		(*series)++;
		struct sample s[100];
		for (int i = 0; i < 100; i++)
			s[i] = (struct sample){ 1, i, (double)(*value)++ };
		assert_int_equal(wal_append_samples(w, s, 100, &e), 0);
		uint64_t end;
		if (wal_commit(w, &end, &e) != 0)
			fail_msg("wal_commit: %s", e.msg);
		assert_true(end == wal_end(w));
	}
}

static void round_trip(bool uring)
{
	struct wal *w = open_wal(uring, 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	if (!uring)
		assert_false(st.io_uring);
	uint64_t series = 0, value = 0;
	append_batches(w, 50, &series, &value);
	uint64_t end = wal_end(w);
	wal_close(w);
	w = open_wal(uring, 0);
	assert_true(wal_end(w) == end);
	struct collected c = { 0 };
	struct err e = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &c, &e), 0);
	assert_true(c.samples == 5000 && c.series == 50 && c.last_end == end);
	wal_close(w);
}

static void test_round_trip_io_uring(void **state)
{
	round_trip(true);
}

static void test_round_trip_pwrite(void **state)
{
	round_trip(false);
}

static void test_rollover_replay_from_and_truncate(void **state)
{
	struct wal *w = open_wal(true, 64 * 1024);
	uint64_t series = 0, value = 0;
	append_batches(w, 200, &series, &value); /* ~500 KiB: several segments */
	struct wal_stats st;
	wal_get_stats(w, &st);
	assert_true(st.segments > 5);
	uint64_t end = wal_end(w);
	wal_close(w);
	w = open_wal(true, 64 * 1024);
	assert_true(wal_end(w) == end);

	/* Replay from the middle: find the position after batch 100. */
	struct collected all = { 0 };
	struct err e = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &all, &e), 0);
	assert_true(all.samples == 20000);
	uint64_t mid = end / 2;
	assert_int_equal(wal_truncate_before(w, mid, &e), 0);
	wal_get_stats(w, &st);
	assert_true(st.segments < 10);
	/* Everything from mid on is still there and readable. */
	uint64_t kept = 0;
	assert_int_equal(wal_replay(w, 0, count, &kept, &e), 0);
	assert_true(kept > 0 && kept < all.samples);
	wal_close(w);
	/* The dropped segments' files are gone too (unlinked on a thread
	 * wal_close waits for). */
	char cmd[400];
	snprintf(cmd, sizeof cmd, "ls %s/*.wal | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int files = 0;
	assert_int_equal(fscanf(p, "%d", &files), 1);
	pclose(p);
	assert_true(files == (int)st.segments);
}

/* Each open goes on from the end, which is mostly inside a block the last
 * commit wrote (and, with O_DIRECT, writes that block again): the records
 * before it stay, whichever path wrote them. */
static void test_reopened_log_goes_on_in_its_block(void **state)
{
	uint64_t series = 0, value = 0;
	for (int round = 0; round < 12; round++) {
		struct wal *w = open_wal(round % 3 != 2, round < 6 ? 64 * 1024 : 0);
		append_batches(w, 1 + round % 4, &series, &value);
		wal_close(w);
	}
	struct wal *w = open_wal(true, 0);
	struct collected c = { 0 };
	struct err e = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &c, &e), 0);
	assert_true(c.series == series && c.samples == value && c.last_end == wal_end(w));
	wal_close(w);
}

static char *last_segment_path(void)
{
	static char path[512];
	char cmd[400];
	snprintf(cmd, sizeof cmd, "ls %s/*.wal | tail -1", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(fgets(path, sizeof path, p));
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return path;
}

static void test_torn_tail_is_cut(void **state)
{
	struct wal *w = open_wal(true, 0);
	uint64_t series = 0, value = 0;
	append_batches(w, 10, &series, &value);
	uint64_t end = wal_end(w);
	wal_close(w);
	/* A crash mid-write: half a record's worth of garbage after the end. */
	int fd = open(last_segment_path(), O_RDWR);
	uint8_t junk[1000];
	memset(junk, 0xab, sizeof junk);
	junk[0] = 0x02; /* like a samples record's first byte */
	assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)end), (ssize_t)sizeof junk);
	close(fd);
	w = open_wal(true, 0);
	assert_true(wal_end(w) == end);
	struct wal_stats st;
	wal_get_stats(w, &st);
	assert_true(st.torn_tail_bytes > 0);
	append_batches(w, 5, &series, &value);
	wal_close(w);
	w = open_wal(false, 0);
	struct collected c = { 0 };
	struct err e = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &c, &e), 0);
	assert_true(c.samples == 1500 && c.series == 15);
	wal_close(w);
}

static void test_damage_in_the_middle_is_an_error(void **state)
{
	struct wal *w = open_wal(true, 64 * 1024);
	uint64_t series = 0, value = 0;
	append_batches(w, 100, &series, &value);
	wal_close(w);
	char path[512];
	snprintf(path, sizeof path, "%s/0000000000000000.wal", dir);
	int fd = open(path, O_RDWR);
	uint8_t byte = 0x55;
	assert_int_equal(pwrite(fd, &byte, 1, 5000), 1);
	close(fd);
	w = open_wal(true, 64 * 1024);
	struct err e = { 0 };
	uint64_t kept = 0;
	assert_int_equal(wal_replay(w, 0, count, &kept, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "damaged record at position"));
	wal_close(w);
}

static void test_disk_full_then_space_returns(void **state)
{
	char mnt[300];
	snprintf(mnt, sizeof mnt, "%s/small", dir);
	mkdir(mnt, 0700);
	if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
		skip(); /* needs root to mount a tmpfs; CI runs as root */
		return;
	}
	char wal_dir[400];
	snprintf(wal_dir, sizeof wal_dir, "%s/wal", mnt);
	struct wal_config c;
	wal_config_default(&c);
	c.segment_bytes = 256 * 1024;
	struct wal *w;
	struct err e = { 0 };
	assert_int_equal(wal_open(wal_dir, &c, &w, &e), 0);
	/* Fill the disk with a file, leaving room for less than a segment. */
	char filler[450];
	snprintf(filler, sizeof filler, "%s/filler", mnt);
	int fd = open(filler, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(posix_fallocate(fd, 0, 600 * 1024), 0);
	close(fd);
	struct sample s[1000];
	for (int i = 0; i < 1000; i++)
		s[i] = (struct sample){ 1, i, i };
	int rc = 0;
	for (int i = 0; i < 30 && rc == 0; i++) {
		rc = wal_append_samples(w, s, 1000, &e);
		uint64_t end;
		if (rc == 0)
			rc = wal_commit(w, &end, &e);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(e.msg, "No space left"));
	uint64_t end_before = wal_end(w);
	unlink(filler);
	uint64_t end;
	assert_int_equal(wal_commit(w, &end, &e), 0);
	assert_true(end > end_before);
	wal_close(w);
	assert_int_equal(wal_open(wal_dir, &c, &w, &e), 0);
	uint64_t kept = 0;
	assert_int_equal(wal_replay(w, 0, count, &kept, &e), 0);
	assert_true(kept % 1000 == 0 && kept > 0);
	wal_close(w);
	umount(mnt);
}

/* A commit in two halves: appending in between is refused and loses
 * nothing; after the end, the records are durable and replay, and a
 * commit begun and never ended leaves nothing torn on close. */
static void split_commit(bool uring)
{
	struct wal *w = open_wal(uring, 0);
	struct err e = { 0 };
	uint64_t series = 0, value = 0, end;
	append_batches(w, 2, &series, &value);
	struct sample s[100];
	for (int i = 0; i < 100; i++)
		s[i] = (struct sample){ 1, i, (double)value++ };
	assert_int_equal(wal_append_samples(w, s, 100, &e), 0);
	assert_int_equal(wal_commit_begin(w, &e), 0);
	assert_int_equal(wal_append_samples(w, s, 100, &e), -EBUSY);
	assert_int_equal(wal_commit_end(w, &end, &e), 0);
	assert_true(end == wal_end(w));
	append_batches(w, 1, &series, &value);
	for (int i = 0; i < 100; i++)
		s[i] = (struct sample){ 1, i, (double)value++ };
	assert_int_equal(wal_append_samples(w, s, 100, &e), 0);
	assert_int_equal(wal_commit_begin(w, &e), 0);
	/* Closed begun and not ended: io_uring may have written the record
	 * (whole: replay checks every value), the pwrite path has not. */
	wal_close(w);
	w = open_wal(uring, 0);
	struct collected c = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &c, &e), 0);
	assert_true(c.series == 3 && (c.samples == 400 || (uring && c.samples == 500)));
	wal_close(w);
}

static void test_split_commit_io_uring(void **state)
{
	split_commit(true);
}

static void test_split_commit_pwrite(void **state)
{
	split_commit(false);
}

/* Records written with the first checksum (magic "WAL") are still read,
 * so a log left by an older store replays after an upgrade. */
static void test_first_checksum_still_read(void **state)
{
	struct wal *w = open_wal(true, 0);
	uint64_t series = 0, value = 0;
	append_batches(w, 1, &series, &value);
	wal_close(w);
	/* Rewrite both records' headers as the first format wrote them. */
	char path[512];
	snprintf(path, sizeof path, "%s/%016llx.wal", dir, 0ull);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint64_t pos = 0;
	for (int r = 0; r < 2; r++) {
		uint32_t h[4];
		assert_int_equal(pread(fd, h, sizeof h, (off_t)pos), sizeof h);
		uint8_t payload[4096];
		assert_true(h[1] <= sizeof payload);
		assert_int_equal(pread(fd, payload, h[1], (off_t)pos + 16), (ssize_t)h[1]);
		h[0] = 0x57414c00u | (h[0] & 0xff);
		uint32_t head[2] = { h[0], h[1] };
		h[2] = (uint32_t)(series_id((const char *)payload, h[1]) ^
				  (series_id((const char *)head, sizeof head) >> 7));
		assert_int_equal(pwrite(fd, h, sizeof h, (off_t)pos), sizeof h);
		pos += 16 + h[1];
	}
	close(fd);
	w = open_wal(true, 0);
	struct collected c = { 0 };
	struct err e = { 0 };
	assert_int_equal(wal_replay(w, 0, collect, &c, &e), 0);
	assert_true(c.series == 1 && c.samples == 100 && c.last_end == pos);
	wal_close(w);
}

#define WAL_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WAL_TEST(test_round_trip_io_uring),
		WAL_TEST(test_round_trip_pwrite),
		WAL_TEST(test_split_commit_io_uring),
		WAL_TEST(test_split_commit_pwrite),
		WAL_TEST(test_first_checksum_still_read),
		WAL_TEST(test_rollover_replay_from_and_truncate),
		WAL_TEST(test_reopened_log_goes_on_in_its_block),
		WAL_TEST(test_torn_tail_is_cut),
		WAL_TEST(test_damage_in_the_middle_is_an_error),
		WAL_TEST(test_disk_full_then_space_returns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
