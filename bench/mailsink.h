/* mailsink.h - a real SMTP server on 127.0.0.1 for the scenarios that time
 * alert mail (alert, e2e): tests/integration/lib/smtp_sink.py on Debian's
 * python3-aiosmtpd.  It writes each accepted message as NNNN.eml (renamed
 * into place, so never read half-written); the file's mtime is the moment
 * the server accepted it, which is where a breach's latency ends. */
#ifndef RMON_BENCH_MAILSINK_H
#define RMON_BENCH_MAILSINK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench/report.h"

struct mailsink {
	pid_t pid; /* 0 when not running */
	int port;
	char dir[PATH_MAX + 8]; /* the accepted messages */
	char log[PATH_MAX + 16];
};

/* Whether the sink can run here: /usr/bin/python3 with aiosmtpd, and the
 * script beside the build (BIN/../../../tests/integration/lib) or in the
 * current folder.  When not, why holds the reason (for a note). */
bool mailsink_available(struct bench_run *run, char *why, size_t len);

/* Starts it on a free port with its messages in root/mail and its output
 * in root/sink.log (root must exist); returns 0 once it listens, else -1
 * with a message on stderr.  mailsink_stop (SIGTERM, reaped) either way. */
int mailsink_start(struct mailsink *s, struct bench_run *run, const char *root);
void mailsink_stop(struct mailsink *s);

/* Writes the section of an rmon-alertd receiver `name` that mails the sink
 * (plain SMTP on 127.0.0.1, ops@example.com). */
void mailsink_receiver_config(const struct mailsink *s, FILE *conf, const char *name);

/* Calls fn with the path of each accepted message, in no order, until fn
 * returns non-zero; returns that, 0 when every message was seen, or a
 * negative errno when the folder cannot be read. */
int mailsink_each(const struct mailsink *s, int (*fn)(void *ctx, const char *path), void *ctx);

/* Waits until a message holding tag on one of its lines is accepted;
 * returns when it was (CLOCK_REALTIME ns, the file's mtime), or 0 when
 * none was by deadline (CLOCK_REALTIME ns).  Polls every 2 ms. */
int64_t mailsink_wait(const struct mailsink *s, const char *tag, int64_t deadline);

#endif
