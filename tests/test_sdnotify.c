/* test_sdnotify.c - readiness, reload and stop reach a service manager's
 * socket as systemd reads them (lib/sdnotify.c), at a path or abstract. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/sdnotify.h"

/* A manager's socket: bound at path ("@name": abstract), read with a
 * timeout so a message that never comes fails the test instead of hanging. */
static int manager_socket(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
			 0);
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static void receive(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_path_socket(void **state)
{
	char dir[] = "/tmp/sdnotify-XXXXXX", path[64], msg[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/notify", dir);
	int fd = manager_socket(path);
	setenv(SDNOTIFY_SOCKET_ENV, path, 1);
	struct err e = { 0 };
	assert_int_equal(sdnotify_ready("draining into var", &e), 0);
	receive(fd, msg, sizeof msg);
	assert_string_equal(msg, "READY=1\nSTATUS=draining into var");
	assert_int_equal(sdnotify_ready(NULL, &e), 0);
	receive(fd, msg, sizeof msg);
	assert_string_equal(msg, "READY=1");
	assert_int_equal(sdnotify_reloading(&e), 0);
	receive(fd, msg, sizeof msg);
	assert_non_null(strstr(msg, "RELOADING=1\nMONOTONIC_USEC="));
	assert_true(strtoull(strstr(msg, "USEC=") + 5, NULL, 10) > 0);
	assert_int_equal(sdnotify_stopping(&e), 0);
	receive(fd, msg, sizeof msg);
	assert_string_equal(msg, "STOPPING=1");
	close(fd);
	/* The manager gone: the daemon hears why, and goes on. */
	unlink(path);
	assert_int_equal(sdnotify_ready(NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, path));
	rmdir(dir);
	unsetenv(SDNOTIFY_SOCKET_ENV);
}

static void test_abstract_socket(void **state)
{
	char name[64], msg[512];
	snprintf(name, sizeof name, "@rmon-test-sdnotify-%d", (int)getpid());
	int fd = manager_socket(name);
	setenv(SDNOTIFY_SOCKET_ENV, name, 1);
	assert_int_equal(sdnotify_ready(NULL, NULL), 0);
	receive(fd, msg, sizeof msg);
	assert_string_equal(msg, "READY=1");
	close(fd);
	unsetenv(SDNOTIFY_SOCKET_ENV);
}

static void test_no_manager(void **state)
{
	struct err e = { 0 };
	unsetenv(SDNOTIFY_SOCKET_ENV);
	assert_int_equal(sdnotify_ready("x", &e), 0); /* not under systemd: nothing to do */
	setenv(SDNOTIFY_SOCKET_ENV, "", 1);
	assert_int_equal(sdnotify_ready("x", &e), 0);
	setenv(SDNOTIFY_SOCKET_ENV, "relative/notify", 1);
	assert_int_equal(sdnotify_ready("x", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NOTIFY_SOCKET=relative/notify"));
	char long_path[200];
	memset(long_path, 'a', sizeof long_path - 1);
	long_path[0] = '/';
	long_path[sizeof long_path - 1] = '\0';
	setenv(SDNOTIFY_SOCKET_ENV, long_path, 1);
	assert_int_equal(sdnotify_ready("x", &e), -EINVAL);
	unsetenv(SDNOTIFY_SOCKET_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_no_manager),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
