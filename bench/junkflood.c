/* junkflood.c - unauthenticated junk senders; see junkflood.h. */
#include "bench/junkflood.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/rtime.h"

static int junk_pipe[2];

static int open_one(int epoll_fd, const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.fd = fd };
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static __attribute__((noreturn)) void crowd(int port, uint32_t n, double seconds)
{
	static uint8_t junk[64 * 1024], sink[4096];
	struct epoll_event events[256];
	struct junkflood_stats st = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	int random_fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (epoll_fd < 0 || random_fd < 0 || read(random_fd, junk, sizeof junk) != sizeof junk)
		_exit(1);
	close(random_fd);
	for (uint32_t i = 0; i < n; i++)
		if (open_one(epoll_fd, &to) >= 0)
			st.opened++;
	int64_t end = rtime_mono_ns() + (int64_t)(seconds * 1e9);
	while (rtime_mono_ns() < end) {
		int got = epoll_wait(epoll_fd, events, 256, 10);
		for (int i = 0; i < got; i++) {
			int fd = events[i].data.fd;
			bool gone = (events[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0;
			if (!gone && (events[i].events & EPOLLIN))
				gone = recv(fd, sink, sizeof sink, MSG_DONTWAIT) == 0;
			if (!gone && (events[i].events & EPOLLOUT)) {
				/* Any offset: the stream is random anyway. */
				size_t at = (size_t)(st.bytes_sent % 4096);
				ssize_t sent = send(fd, junk + at, sizeof junk - at, MSG_NOSIGNAL);
				if (sent > 0)
					st.bytes_sent += (uint64_t)sent;
				else if (errno != EAGAIN && errno != EWOULDBLOCK)
					gone = true;
			}
			if (gone) {
				close(fd); /* also leaves epoll */
				st.closed++;
				if (open_one(epoll_fd, &to) >= 0)
					st.opened++;
			}
		}
	}
	_exit(write(junk_pipe[1], &st, sizeof st) == sizeof st ? 0 : 1);
}

pid_t junkflood_start(int port, uint32_t n, double seconds, int niceness)
{
	if (pipe2(junk_pipe, O_CLOEXEC) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(junk_pipe[0]);
		if (niceness && nice(niceness) == -1 && errno)
			_exit(1);
		crowd(port, n, seconds);
	}
	close(junk_pipe[1]);
	return pid;
}

int junkflood_wait(pid_t pid, struct junkflood_stats *out)
{
	int status;
	ssize_t got = read(junk_pipe[0], out, sizeof *out);
	close(junk_pipe[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return got == sizeof *out ? 0 : -1;
}
