/* fleet.h - many fake agents on one event loop, from one process: each
 * connects to an rmon-stored (or any server of the protocol) on loopback,
 * says HELLO as bench-agent-N without a secret, defines its series
 * (bench-agent-N/bench_value{s="I"}) and sends SAMPLES batches of
 * agent-like values, remembering when each left so the ack's latency is
 * known.  The ingest benchmarks and tests drive servers with it.  Protocol
 * errors end the process (bench_die): a fleet that met one measures nothing. */
#ifndef RMON_BENCH_FLEET_H
#define RMON_BENCH_FLEET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/dataset.h"
#include "lib/evloop.h"
#include "lib/sample.h"
#include "net/link.h"

#define FLEET_WINDOW_MAX 64 /* send times remembered per connection (window <= this) */

enum fleet_agent_state { AGENT_CONNECTING, AGENT_WANT_CHALLENGE, AGENT_WANT_WELCOME, AGENT_READY };

struct fleet_agent {
	struct link link;
	enum fleet_agent_state state;
	uint32_t index;	 /* host bench-agent-<index> */
	unsigned events; /* asked of the loop */
	struct fleet *fleet;
	bool defined;	      /* SERIES sent */
	uint64_t sent, acked; /* sequence numbers: the last sent, the last acknowledged */
	uint64_t rounds;      /* rounds of samples sent: the timestamp step */
	int64_t sent_at[FLEET_WINDOW_MAX];
};

struct fleet {
	struct fleet_agent *agents;
	uint32_t n, series, rounds_per_batch, window;
	uint64_t *ids;	      /* n x series */
	struct dataset *data; /* names and values; NULL: the agent-like mix */
	char (*names)[DATASET_NAME_MAX];
	const char **name_ptrs; /* one agent's names, for its SERIES frame */
	struct sample *batch;
	struct sockaddr_in server;
	bool spread; /* connect from 127.0.0.2, .3, ... (1000 connections each) */
	bool flood;  /* keep every window full */
	struct evloop *loop;
	uint32_t started, connected;
	int64_t t0; /* timestamp of round 0 */
	uint64_t sent_batches, acked_batches, acked_samples, late;
	uint64_t record_from; /* the first sequence number whose latency counts */
	int64_t *latencies;   /* send to ack, ns */
	size_t n_latencies, latencies_cap;
};

/* n agents of `series` series each, rounds_per_batch samples per series in
 * a batch, at most `window` batches unacknowledged, to 127.0.0.1:port;
 * spread: from 127.0.0.2, .3, ... (1000 connections each), past the
 * ephemeral port range of one source address. */
void fleet_init(struct fleet *f, uint32_t n, uint32_t series, uint32_t rounds_per_batch,
		uint32_t window, int port, bool spread);
void fleet_close(struct fleet *f);

/* Names and values from data (hosts >= n, per_host >= series) instead of
 * the agent-like mix; before any connection.  The fleet does not own it. */
void fleet_use_data(struct fleet *f, struct dataset *data);

/* Starts connections while few handshakes are under way, then handles
 * whatever the sockets say within timeout_ms. */
void fleet_poll(struct fleet *f, int timeout_ms);

/* Connects every agent through HELLO, CHALLENGE, AUTH and WELCOME. */
void fleet_connect(struct fleet *f);

/* Waits until every batch sent is acknowledged. */
void fleet_settle(struct fleet *f, int64_t timeout_ns);

/* Keeps every connection's window full for `seconds` after a warm-up (the
 * first batches also define the series); returns acknowledged samples/s. */
double fleet_flood(struct fleet *f, double warmup, double seconds);

/* Sends `rounds` rounds, each agent once per period at its own phase
 * (index / n of the period), so the server sees an even stream.  A batch
 * due while its window is full is skipped and counted late. */
void fleet_pace(struct fleet *f, int64_t period, uint64_t rounds);

/* fleet_pace of rounds from, from + 1 ... of one schedule whose round 0
 * begins at start (rtime_mono_ns): called a round at a time, the rounds
 * keep their period instead of each beginning after the last ended. */
void fleet_pace_at(struct fleet *f, int64_t start, int64_t period, uint64_t from, uint64_t rounds);

/* The timestamp of agent a's newest sample sent (before its first: t0
 * minus a step). */
int64_t fleet_last_ts(const struct fleet *f, uint32_t a);

/* The canonical name of series s of agent a: bench-agent-A/bench_value{s="S"}. */
int fleet_series_name(char *buf, size_t len, uint32_t agent, uint32_t s);

/* Sample k of series id: agent-like values, a quarter each: byte counters
 * with random increments, page-sized gauges that move every 16 rounds,
 * constants, two-decimal figures such as load averages.  Stateless, so
 * 750,000 series need no memory for them. */
double fleet_value(uint64_t id, uint64_t k);

#endif
