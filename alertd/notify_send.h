/* notify_send.h - the blocking deliveries of a built mail, run in the
 * notifier's worker threads (notify_worker.c): SMTP through libesmtp
 * (notify_smtp.c) and a file in a maildir (notify_maildir.c).  Each
 * returns 0 or a negative errno code with e saying what the server or
 * the file system said. */
#ifndef RMON_ALERTD_NOTIFY_SEND_H
#define RMON_ALERTD_NOTIFY_SEND_H

#include <stddef.h>

#include "alertd/receiver.h"
#include "lib/err.h"

/* Sends mail (CRLF lines, NUL-terminated) to r's server, from r's from to
 * its to and cc.  A server that refuses (4xx, 5xx) is -EAGAIN with its
 * reply in e; a connection that fails is -ECONNREFUSED, -ETIMEDOUT, ...;
 * a TLS or AUTH failure -EACCES. */
int notify_smtp_send(const struct receiver *r, const char *mail, size_t len, struct err *e);

/* Writes mail into the maildir at dir (created with tmp/, new/ and cur/
 * when missing): first into tmp/, flushed, then moved to new/, as the
 * maildir rules ask, so a reader never sees half a message.  Lines are
 * stored with LF endings, as mail readers expect of a maildir. */
int notify_maildir_write(const char *dir, const char *mail, size_t len, struct err *e);

#endif
