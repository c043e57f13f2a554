/* sdnotify.h - tells the service manager (systemd) how a daemon is doing,
 * through the datagram socket named by $NOTIFY_SOCKET: the readiness of a
 * Type=notify unit, a reload, a stop.  The protocol is systemd's
 * sd_notify(3): one datagram of "KEY=VALUE" lines; no libsystemd needed.
 *
 * Outside systemd (no $NOTIFY_SOCKET) every call does nothing and
 * returns 0, so a daemon calls them unconditionally. */
#ifndef RMON_SDNOTIFY_H
#define RMON_SDNOTIFY_H

#include "lib/err.h"

#define SDNOTIFY_SOCKET_ENV "NOTIFY_SOCKET"

/* Sends state ("READY=1", or several lines "RELOADING=1\nSTATUS=...") to
 * $NOTIFY_SOCKET: a socket path, or "@name" for an abstract socket.
 * Returns 0 when it was sent or there is no socket to send to; -EINVAL
 * when the variable names no usable socket (relative, too long);
 * otherwise the negative errno of socket or sendmsg, with e naming the
 * socket. */
int sdnotify_send(const char *state, struct err *e);

/* The daemon is ready: it serves what its unit promises (the store
 * drains its ring, the agent collects).  Sends "READY=1" with
 * "STATUS=status" when status is not NULL. */
int sdnotify_ready(const char *status, struct err *e);

/* A SIGHUP reload begins; call sdnotify_ready again once it is done. */
int sdnotify_reloading(struct err *e);

/* The daemon is stopping: its unit is deactivating, not crashed. */
int sdnotify_stopping(struct err *e);

#endif
