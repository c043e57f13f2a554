/* test_spool.c - the sender's disk spool (net/spool.c): batches come back
 * in order until acknowledged, survive a reopen (a restarted agent), a torn
 * last record is cut off, the size bound drops the oldest batches and counts
 * them, and series definitions are kept while batches need them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fault.h"
#include "net/spool.h"

static char dir[256];

static int make_dir(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/rmon-test-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct spool *open_spool(uint64_t max_bytes, uint64_t segment_bytes)
{
	struct spool_config c;
	struct spool *s;
	struct err e = { 0 };
	spool_config_default(&c, dir);
	if (max_bytes)
		c.max_bytes = max_bytes;
	if (segment_bytes)
		c.segment_bytes = segment_bytes;
	if (spool_open(&c, &s, &e) != 0)
		fail_msg("spool_open: %s", e.msg);
	return s;
}

/* Batch k: n samples of series k % 7, value k. */
static void append(struct spool *s, uint64_t k, size_t n)
{
	struct sample batch[64];
	uint64_t seq;
	struct err e = { 0 };
	for (size_t i = 0; i < n; i++)
		batch[i] = (struct sample){ 1 + k % 7, (int64_t)(k * 1000 + i), (double)k };
	if (spool_append(s, batch, n, &seq, &e) != 0)
		fail_msg("spool_append: %s", e.msg);
}

/* Reads the batch after `after`; returns its seq (0: none) and checks it
 * is batch value k with n samples. */
static uint64_t read_batch(struct spool *s, uint64_t after, uint64_t k, size_t n)
{
	struct proto_buf b = { 0 };
	struct sample got[64];
	uint64_t seq = 0, frame_seq;
	size_t count;
	struct err e = { 0 };
	int rc = spool_read_after(s, after, &b, &seq, &e);
	assert_true(rc >= 0);
	if (rc == 0) {
		proto_buf_free(&b);
		return 0;
	}
	assert_int_equal(proto_frame_length(b.data), b.len - PROTO_HEADER_BYTES);
	assert_int_equal(proto_decode_samples(b.data + PROTO_HEADER_BYTES,
					      b.len - PROTO_HEADER_BYTES, &frame_seq, got, 64,
					      &count, &e),
			 0);
	assert_int_equal(frame_seq, seq);
	assert_int_equal(count, n);
	for (size_t i = 0; i < n; i++)
		assert_true(got[i].value == (double)k && got[i].id == 1 + k % 7);
	proto_buf_free(&b);
	return seq;
}

static void test_order_ack_and_reopen(void **state)
{
	struct spool *s = open_spool(0, 4096); /* small segments: many files */
	struct spool_stats st;
	struct err e = { 0 };
	for (uint64_t k = 0; k < 100; k++)
		append(s, k, 10);
	uint64_t seq = 0;
	for (uint64_t k = 0; k < 100; k++)
		assert_int_equal(seq = read_batch(s, seq, k, 10), k + 1);
	assert_int_equal(read_batch(s, seq, 0, 0), 0);
	assert_int_equal(spool_ack(s, 40, &e), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.pending_batches, 60);
	assert_int_equal(st.acked, 40);
	/* An ack of something never sent is refused. */
	assert_int_equal(spool_ack(s, 1000, &e), -EPROTO);
	spool_close(s);

	/* A restarted sender gets batches 41..100 back, and numbers on. */
	s = open_spool(0, 4096);
	spool_get_stats(s, &st);
	assert_int_equal(st.pending_batches, 60);
	assert_int_equal(read_batch(s, 0, 40, 10), 41);
	append(s, 100, 3);
	assert_int_equal(read_batch(s, 100, 100, 3), 101);
	assert_int_equal(spool_ack(s, 101, &e), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.pending_batches, 0);
	assert_true(st.bytes < 8192); /* acknowledged segments are gone */
	spool_close(s);
}

static void test_torn_tail(void **state)
{
	struct spool *s = open_spool(0, 0);
	for (uint64_t k = 0; k < 5; k++)
		append(s, k, 20);
	spool_close(s);
	/* A power cut tore the last record: cut 7 bytes off the file. */
	char path[400];
	snprintf(path, sizeof path, "%s/0000000000000001.spool", dir);
	struct stat st_file;
	assert_int_equal(stat(path, &st_file), 0);
	assert_int_equal(truncate(path, st_file.st_size - 7), 0);
	s = open_spool(0, 0);
	struct spool_stats st;
	spool_get_stats(s, &st);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.pending_batches, 4);
	uint64_t seq = 0;
	for (uint64_t k = 0; k < 4; k++)
		seq = read_batch(s, seq, k, 20);
	/* The next batch reuses the torn one's number and reads back whole. */
	append(s, 4, 20);
	assert_int_equal(read_batch(s, seq, 4, 20), 5);
	spool_close(s);
}

static void test_bound_drops_oldest(void **state)
{
	struct spool *s = open_spool(64 * 1024, 8 * 1024);
	for (uint64_t k = 0; k < 1000; k++)
		append(s, k, 30); /* about 900 bytes each */
	struct spool_stats st;
	spool_get_stats(s, &st);
	assert_true(st.bytes <= 64 * 1024);
	assert_true(st.dropped_batches > 800);
	assert_int_equal(st.dropped_samples, st.dropped_batches * 30);
	assert_int_equal(st.pending_batches + st.dropped_batches, 1000);
	/* What is left is the newest, in order. */
	uint64_t first = read_batch(s, 0, st.dropped_batches, 30);
	assert_int_equal(first, st.dropped_batches + 1);
	spool_close(s);
}

static void test_definitions(void **state)
{
	struct err e = { 0 };
	struct spool *s = open_spool(0, 0);
	assert_int_equal(spool_define(s, 11, "h/a", &e), 1);
	assert_int_equal(spool_define(s, 11, "h/a", &e), 0);
	assert_int_equal(spool_define(s, 12, "h/b{x=\"1\"}", &e), 1);
	append(s, 1, 2);
	spool_close(s);

	/* Kept while a batch is pending... */
	s = open_spool(0, 0);
	struct proto_buf b = { 0 };
	assert_int_equal(spool_put_definitions(s, &b, 1), 0);
	struct proto_series_iter it;
	int frames = 0;
	for (size_t at = 0; at < b.len; frames++) {
		uint32_t len = proto_frame_length(b.data + at);
		assert_int_equal(proto_series_begin(&it, b.data + at + 4, len, &e), 1);
		uint64_t id;
		const char *name;
		size_t name_len;
		char copy[64];
		assert_int_equal(proto_series_next(&it, &id, &name, &name_len, &e), 0);
		snprintf(copy, sizeof copy, "%.*s", (int)name_len, name);
		assert_string_equal(copy, id == 11 ? "h/a" : "h/b{x=\"1\"}");
		at += 4 + len;
	}
	assert_int_equal(frames, 2);
	proto_buf_free(&b);
	assert_int_equal(spool_ack(s, 1, &e), 0);
	spool_close(s);

	/* ...and forgotten once everything was acknowledged. */
	s = open_spool(0, 0);
	struct spool_stats st;
	spool_get_stats(s, &st);
	assert_int_equal(st.series, 0);
	spool_close(s);
}

static int spool_fault = -ENOSPC;

static int full_disk(const char *point)
{
	return strcmp(point, "spool.write") == 0 ? spool_fault : 0;
}

/* The disk is full: definitions and batches are held in memory, served
 * and acknowledged from there, written in order once space returns, and a
 * reopen finds every batch not acknowledged; past max_bytes held, a batch
 * is refused. */
static void test_disk_full_holds_in_memory(void **state)
{
	struct err e = { 0 };
	struct spool_stats st;
	struct spool *s = open_spool(1 << 20, 0);
	fault_hook = full_disk;
	assert_int_equal(spool_define(s, 11, "h/a", &e), 1);
	for (uint64_t k = 1; k <= 3; k++)
		append(s, k, 4);
	spool_get_stats(s, &st);
	assert_true(st.disk_full && st.held_batches == 3 && st.pending_batches == 3);
	assert_true(st.bytes == 0 && st.held_bytes > 0);
	assert_non_null(strstr(st.held_why, "No space left on device"));
	assert_int_equal(read_batch(s, 0, 1, 4), 1); /* from memory */
	assert_int_equal(read_batch(s, 1, 2, 4), 2);
	assert_int_equal(spool_ack(s, 1, &e), 0); /* never to be written */
	spool_write_held(s);			  /* still full */
	spool_get_stats(s, &st);
	assert_true(st.disk_full && st.held_batches == 2);

	fault_hook = NULL; /* space returns */
	spool_write_held(s);
	spool_get_stats(s, &st);
	assert_true(!st.disk_full && st.held_batches == 0 && st.held_bytes == 0 && st.bytes > 0);
	append(s, 4, 4);
	spool_close(s);

	s = open_spool(1 << 20, 0);
	assert_int_equal(read_batch(s, 0, 2, 4), 2);
	assert_int_equal(read_batch(s, 2, 3, 4), 3);
	assert_int_equal(read_batch(s, 3, 4, 4), 4);
	assert_int_equal(read_batch(s, 4, 0, 0), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.series, 1); /* its definition was written too */

	/* Held memory is bounded by max_bytes; another error is an error. */
	fault_hook = full_disk;
	struct sample big[64] = { { 0 } };
	uint64_t seq;
	int rc = 0;
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = spool_append(s, big, 64, &seq, &e);
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(e.msg, "held in memory: batch refused"));
	spool_get_stats(s, &st);
	assert_true(st.held_bytes <= 1 << 20);
	spool_fault = -EIO;
	fault_hook = NULL;
	spool_write_held(s); /* room again: the held batches go */
	fault_hook = full_disk;
	assert_int_equal(spool_append(s, big, 64, &seq, &e), -EIO);
	assert_non_null(strstr(e.msg, "cannot write a batch"));
	fault_hook = NULL;
	spool_fault = -ENOSPC;
	spool_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_ack_and_reopen, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_torn_tail, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bound_drops_oldest, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_definitions, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_disk_full_holds_in_memory, make_dir,
						remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
