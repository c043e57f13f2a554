/* evloop.h - the event loop every long-running part shares: sockets
 * (epoll), timers on the monotonic clock, and signals (signalfd), in the
 * manner of Redis's ae.c.  The ingest server, the shipper and rmon-stored's
 * main loop register on one loop instead of each waiting on its own.
 *
 *     struct evloop *loop;
 *     evloop_new(&loop, &e);
 *     evloop_add_file(loop, fd, EVLOOP_READ, on_readable, ctx, &e);
 *     evloop_add_timer(loop, RTIME_NS_PER_SEC, every_second, ctx, NULL, &e);
 *     evloop_add_signal(loop, SIGTERM, on_stop, ctx, &e);
 *     while (!evloop_stopped(loop))
 *             evloop_run_once(loop, -1, &e);
 *
 * Single-threaded: every callback runs inside evloop_run_once, one after
 * the other; a callback may add, change or remove any file or timer,
 * its own included. */
#ifndef RMON_EVLOOP_H
#define RMON_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

#define EVLOOP_READ  1u /* readable, or the peer closed, or an error is pending */
#define EVLOOP_WRITE 2u /* writable, or an error is pending */

/* A timer callback's answer: run again after this many ns (0: at the next
 * pass), or EVLOOP_TIMER_DONE to end the timer. */
#define EVLOOP_TIMER_DONE (-1)

struct evloop;

typedef void (*evloop_file_fn)(struct evloop *loop, int fd, unsigned events, void *ctx);
typedef int64_t (*evloop_timer_fn)(struct evloop *loop, void *ctx);
typedef void (*evloop_signal_fn)(struct evloop *loop, int signo, void *ctx);

/* Creates a loop; *out is the caller's: evloop_free it. */
int evloop_new(struct evloop **out, struct err *e);

/* Closes the loop's own descriptors, unblocks the signals it took (those
 * that came and were not handled yet are dropped), and frees it.  The
 * files registered stay open: they are their owners'. */
void evloop_free(struct evloop *loop);

/* Watches fd for the events in mask (EVLOOP_READ | EVLOOP_WRITE; 0 keeps
 * it registered but unwatched) and calls fn with the events that came.
 * Errors and hang-ups come as both READ and WRITE, whatever the mask, as
 * long as the mask is not 0.  Returns 0, -EEXIST when fd is registered
 * already, or the epoll error. */
int evloop_add_file(struct evloop *loop, int fd, unsigned mask, evloop_file_fn fn, void *ctx,
		    struct err *e);

/* Changes which events of a registered fd are watched. */
int evloop_set_file(struct evloop *loop, int fd, unsigned mask, struct err *e);

/* Forgets fd (call it before closing fd).  Events already read for it in
 * the current pass are not delivered. */
void evloop_del_file(struct evloop *loop, int fd);

/* Calls fn after after_ns (monotonic clock), then again as often as fn
 * asks (see EVLOOP_TIMER_DONE).  *id (may be NULL) names the timer for
 * evloop_set_timer and evloop_del_timer; ids are never reused. */
int evloop_add_timer(struct evloop *loop, int64_t after_ns, evloop_timer_fn fn, void *ctx,
		     uint64_t *id, struct err *e);

/* Moves a timer to after_ns from now; -ENOENT when it has ended. */
int evloop_set_timer(struct evloop *loop, uint64_t id, int64_t after_ns);

/* Ends a timer; an id that already ended is ignored. */
void evloop_del_timer(struct evloop *loop, uint64_t id);

/* Takes signo away from its normal delivery (it is blocked in this
 * thread and read through a signalfd) and calls fn in the loop when it
 * comes, so a handler may do anything.  Returns 0 or the error. */
int evloop_add_signal(struct evloop *loop, int signo, evloop_signal_fn fn, void *ctx,
		      struct err *e);

/* One pass: waits until a file is ready, a timer is due, or timeout_ns
 * passes (-1: no limit but the timers; 0: no waiting), then runs the
 * callbacks of what is ready and of the timers due.  Returns how many
 * callbacks ran, or the error of the wait itself (EINTR is not one). */
int evloop_run_once(struct evloop *loop, int64_t timeout_ns, struct err *e);

/* Runs passes until evloop_stop; returns 0 or the first error. */
int evloop_run(struct evloop *loop, struct err *e);

/* Makes evloop_run return after the current pass; evloop_stopped tells. */
void evloop_stop(struct evloop *loop);
bool evloop_stopped(const struct evloop *loop);

#endif
