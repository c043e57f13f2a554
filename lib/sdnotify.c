/* sdnotify.c - sd_notify(3) over $NOTIFY_SOCKET, without libsystemd; see
 * sdnotify.h. */
#include "lib/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int sdnotify_send(const char *state, struct err *e)
{
	const char *path = getenv(SDNOTIFY_SOCKET_ENV);
	if (!path || !path[0])
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path)
		return err_set(e, -EINVAL,
			       "%s=%s: not an absolute socket path nor an @abstract name of at "
			       "most %zu bytes",
			       SDNOTIFY_SOCKET_ENV, path, sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@') /* abstract: a leading NUL, and no NUL at the end */
		sa.sun_path[0] = '\0';
	socklen_t sa_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, -errno, "cannot open a socket to tell %s", path);
	int rc = 0;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len) < 0)
		rc = err_sys(e, -errno, "cannot tell the service manager at %s", path);
	close(fd);
	return rc;
}

int sdnotify_ready(const char *status, struct err *e)
{
	char msg[512];
	snprintf(msg, sizeof msg, "READY=1%s%s", status ? "\nSTATUS=" : "", status ? status : "");
	return sdnotify_send(msg, e);
}

int sdnotify_reloading(struct err *e)
{
	/* systemd wants the monotonic time with RELOADING=1 (Type=notify-reload
	 * checks it; older versions ignore it). */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char msg[96];
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		     (unsigned long long)ts.tv_nsec / 1000);
	return sdnotify_send(msg, e);
}

int sdnotify_stopping(struct err *e)
{
	return sdnotify_send("STOPPING=1", e);
}
