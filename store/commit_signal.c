/* commit_signal.c - the commit sequence page and its futex; see
 * commit_signal.h. */
#include "store/commit_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096
#define MAGIC	   UINT64_C(0x31514553434d5252) /* "RRMCSEQ1" */

struct page {
	uint64_t magic;
	uint32_t futex; /* bumped at every publish: what waiters sleep on */
	uint32_t state; /* COMMIT_SIGNAL_* bits (0 in pages of older writers) */
	uint64_t seq;	/* the sequence published last */
};

struct commit_signal {
	struct page *page;
	bool writer;
};

static int map_page(const char *dir, bool writer, struct commit_signal **out, struct err *e)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/commit-seq", dir);
	int fd = open(path, writer ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, -errno, "store: cannot open %s", path);
	struct stat st;
	int rc = fstat(fd, &st);
	if (rc == 0 && writer && st.st_size < PAGE_BYTES)
		rc = ftruncate(fd, PAGE_BYTES);
	else if (rc == 0 && st.st_size < PAGE_BYTES) {
		close(fd);
		return err_set(e, -EPROTO, "store: %s is not a commit sequence page", path);
	}
	if (rc != 0) {
		rc = err_sys(e, -errno, "store: cannot size %s", path);
		close(fd);
		return rc;
	}
	void *p =
	    mmap(NULL, PAGE_BYTES, writer ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_sys(e, -errno, "store: cannot map %s", path);
	struct page *page = p;
	if (writer && page->magic != MAGIC) {
		memset(page, 0, sizeof *page);
		__atomic_store_n(&page->magic, MAGIC, __ATOMIC_RELEASE);
	} else if (!writer && __atomic_load_n(&page->magic, __ATOMIC_ACQUIRE) != MAGIC) {
		munmap(p, PAGE_BYTES);
		return err_set(e, -EPROTO, "store: %s is not a commit sequence page", path);
	}
	struct commit_signal *s = malloc(sizeof *s);
	if (!s) {
		munmap(p, PAGE_BYTES);
		return err_set(e, -ENOMEM, "store: out of memory");
	}
	*s = (struct commit_signal){ page, writer };
	*out = s;
	return 0;
}

int commit_signal_create(const char *dir, struct commit_signal **out, struct err *e)
{
	return map_page(dir, true, out, e);
}

int commit_signal_open(const char *dir, struct commit_signal **out, struct err *e)
{
	return map_page(dir, false, out, e);
}

void commit_signal_close(struct commit_signal *s)
{
	if (!s)
		return;
	munmap(s->page, PAGE_BYTES);
	free(s);
}

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

/* The writer stores seq, then bumps the futex word (release: a reader
 * that sees the new word sees the new seq), then wakes.  A reader reads the
 * word, then seq, then sleeps only while the word is unchanged, so a
 * publish between its look and its sleep makes FUTEX_WAIT return at once.
 * Readers map the page read-only and cannot say they wait: the writer
 * always makes the wake call, about a microsecond at each commit (one a
 * second). */
void commit_signal_publish(struct commit_signal *s, uint64_t seq)
{
	struct page *p = s->page;
	__atomic_store_n(&p->seq, seq, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->futex, 1, __ATOMIC_RELEASE);
	futex(&p->futex, FUTEX_WAKE, INT_MAX, NULL);
}

uint64_t commit_signal_seq(const struct commit_signal *s)
{
	return __atomic_load_n(&s->page->seq, __ATOMIC_ACQUIRE);
}

void commit_signal_set_state(struct commit_signal *s, uint32_t state)
{
	__atomic_store_n(&s->page->state, state, __ATOMIC_RELEASE);
}

uint32_t commit_signal_state(const struct commit_signal *s)
{
	return __atomic_load_n(&s->page->state, __ATOMIC_ACQUIRE);
}

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int commit_signal_wait(struct commit_signal *s, uint64_t after, int timeout_ms, uint64_t *seq)
{
	struct page *p = s->page;
	int64_t deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : INT64_MAX;
	for (;;) {
		uint32_t word = __atomic_load_n(&p->futex, __ATOMIC_ACQUIRE);
		uint64_t now_seq = __atomic_load_n(&p->seq, __ATOMIC_RELAXED);
		if (now_seq > after) {
			*seq = now_seq;
			return 0;
		}
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct timespec t = { left / 1000, (left % 1000) * 1000000 };
		if (futex(&p->futex, FUTEX_WAIT, word, deadline == INT64_MAX ? NULL : &t) != 0 &&
		    errno == EINTR)
			return -EINTR;
	}
}
