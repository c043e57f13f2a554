/* coll_net.c - interface counters (/proc/net/dev) and state (/sys/class/net),
 * TCP connections by state, sockets in use, TCP retransmissions. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "collectd/parse.h"

static const char *const rx_names[] = { "bytes", "packets", "errs",	  "drop",
					"fifo",	 "frame",   "compressed", "multicast" };
static const char *const tx_names[] = { "bytes", "packets", "errs",    "drop",
					"fifo",	 "colls",   "carrier", "compressed" };

/* "  eth0: rx... tx..." after two header lines; interface names may be up
 * to 15 characters and touch the colon. */
int coll_parse_netdev(const char *text, const struct coll_config *c, struct coll_sink *sink)
{
	const char *p = text;
	int found = 0;
	do {
		const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
		if (!colon || (nl && colon > nl))
			continue;
		const char *name = parse_skip_spaces(p);
		char device[32];
		snprintf(device, sizeof device, "%.*s", (int)(colon - name), name);
		if (!device[0] || (c && coll_glob_list_match(c->net_exclude, device)))
			continue;
		const char *s = colon + 1;
		uint64_t v[16];
		bool ok = true;
		for (int i = 0; i < 16 && ok; i++)
			v[i] = parse_u64(&s, &ok);
		if (!ok)
			continue;
		char metric[64];
		for (int i = 0; i < 8; i++) {
			snprintf(metric, sizeof metric, "node_network_receive_%s_total",
				 rx_names[i]);
			coll_emit1(sink, metric, "device", device, (double)v[i]);
			snprintf(metric, sizeof metric, "node_network_transmit_%s_total",
				 tx_names[i]);
			coll_emit1(sink, metric, "device", device, (double)v[8 + i]);
		}
		found++;
	} while (parse_next_line(&p));
	return found ? 0 : -EPROTO;
}

/* The "st" column (hex) of /proc/net/tcp and tcp6. */
int coll_count_tcp(const char *text, uint64_t counts[12])
{
	const char *p = text;
	if (!parse_next_line(&p))
		return 0; /* only the header: no sockets */
	do {
		/* sl local_address rem_address st ... */
		char word[64];
		const char *s = p;
		for (int i = 0; i < 3; i++)
			parse_word(&s, word, sizeof word);
		if (!parse_word(&s, word, sizeof word))
			continue;
		unsigned state;
		if (sscanf(word, "%x", &state) == 1 && state < 12)
			counts[state]++;
	} while (parse_next_line(&p));
	return 0;
}

int coll_parse_sockstat(const char *text, struct coll_sink *sink)
{
	const char *used = strstr(text, "sockets: used ");
	const char *tcp = strstr(text, "TCP: inuse ");
	bool ok = false;
	if (used) {
		const char *s = used + 14;
		uint64_t v = parse_u64(&s, &ok);
		if (ok)
			coll_emit(sink, "node_sockstat_sockets_used", (double)v);
	}
	if (tcp) {
		const char *s = tcp + 11;
		uint64_t v = parse_u64(&s, &ok);
		if (ok)
			coll_emit(sink, "node_sockstat_TCP_inuse", (double)v);
	}
	return used ? 0 : -EPROTO;
}

/* /proc/net/snmp and /proc/net/netstat pair a header line with a value
 * line per protocol ("Tcp: RtoAlgorithm ..." then "Tcp: 1 ..."): each
 * field becomes node_netstat_<Proto>_<Field>, unless fields (globs on
 * "Proto_Field"; NULL or "" = all) leaves it out. */
int coll_parse_snmp(const char *text, const char *fields, struct coll_sink *sink)
{
	const char *header = text;
	int found = 0;
	while (header && *header) {
		const char *values = strchr(header, '\n');
		if (!values)
			break;
		values++;
		const char *colon = strchr(header, ':');
		size_t proto_len = colon ? (size_t)(colon - header) : 0;
		if (!colon || proto_len == 0 || proto_len > 16 ||
		    strncmp(values, header, proto_len + 1) != 0) {
			header = values; /* not a pair: resynchronise on the next line */
			continue;
		}
		const char *h = colon + 1, *v = values + proto_len + 1;
		/* metric is "node_netstat_" Proto "_" Field; field is its tail. */
		char metric[128];
		parse_join(metric, sizeof metric, "node_netstat_", header, proto_len, "_");
		size_t at = strlen(metric);
		const char *field = metric + strlen("node_netstat_");
		while (*h != '\n' && parse_word(&h, metric + at, sizeof metric - at)) {
			/* A few fields (Tcp MaxConn) are -1: keep the sign. */
			v = parse_skip_spaces(v);
			bool negative = *v == '-', ok;
			v += negative;
			uint64_t number = parse_u64(&v, &ok);
			if (!ok)
				break;
			if (fields && fields[0] && !coll_glob_list_match(fields, field))
				continue;
			coll_emit(sink, metric, negative ? -(double)number : (double)number);
			found++;
			h = parse_skip_spaces(h);
		}
		const char *next = strchr(values, '\n');
		header = next ? next + 1 : NULL;
	}
	return found ? 0 : -EPROTO;
}

/* Counts TCP sockets by state through sock_diag netlink: the kernel sends
 * only the sockets that exist, while reading /proc/net/tcp walks every
 * bucket of the connection hash table on each read (most of a collection's
 * CPU on a machine with a large table).  Returns 0 or -errno. */
static int count_tcp_netlink(uint64_t counts[12])
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	static const int families[] = { AF_INET, AF_INET6 };
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int rc = 0;
	for (int f = 0; f < 2 && rc == 0; f++) {
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req_v2 req;
		} msg = { 0 };
		msg.nlh.nlmsg_len = sizeof msg;
		msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		msg.req.sdiag_family = (uint8_t)families[f];
		msg.req.sdiag_protocol = IPPROTO_TCP;
		msg.req.idiag_states = ~0u;
		if (send(fd, &msg, sizeof msg, 0) < 0) {
			rc = -errno;
			break;
		}
		for (bool done = false; !done && rc == 0;) {
			ssize_t len = recv(fd, buf, sizeof buf, 0);
			if (len <= 0) {
				rc = len < 0 ? -errno : -EPROTO;
				break;
			}
			for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
			     h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				if (h->nlmsg_type == NLMSG_ERROR) {
					rc = -EPROTO;
					break;
				}
				const struct inet_diag_msg *m = NLMSG_DATA(h);
				if (m->idiag_state < 12)
					counts[m->idiag_state]++;
			}
		}
	}
	close(fd);
	return rc;
}

static void interface_state(struct coll_state *st, const char *device, struct coll_sink *sink)
{
	struct coll_files *f = coll_state_files(st);
	char path[128], *text;
	snprintf(path, sizeof path, "/sys/class/net/%s/operstate", device);
	if (coll_read(f, path, &text) > 0)
		coll_emit1(sink, "node_network_up", "device", device, strncmp(text, "up", 2) == 0);
	snprintf(path, sizeof path, "/sys/class/net/%s/mtu", device);
	if (coll_read(f, path, &text) > 0)
		coll_emit1(sink, "node_network_mtu_bytes", "device", device,
			   (double)strtoull_or_zero(text));
	/* speed is in Mbit/s, and reading it fails on virtual interfaces. */
	snprintf(path, sizeof path, "/sys/class/net/%s/speed", device);
	if (coll_read(f, path, &text) > 0 && text[0] != '-')
		coll_emit1(sink, "node_network_speed_bytes", "device", device,
			   (double)strtoull_or_zero(text) * 125000);
}

/* Passes values on to the next sink, noting the interfaces seen, so
 * /proc/net/dev is parsed once. */
struct device_lister {
	struct coll_sink sink; /* first: the parser sees only this */
	struct coll_sink *next;
	char devices[64][32];
	int n;
};

static void list_device(struct coll_sink *sink, const char *metric, struct series_label *labels,
			size_t n_labels, double value)
{
	struct device_lister *l = (struct device_lister *)sink;
	if (strcmp(metric, "node_network_receive_bytes_total") == 0 && l->n < 64)
		snprintf(l->devices[l->n++], sizeof l->devices[0], "%s", labels[0].value);
	l->next->value(l->next, metric, labels, n_labels, value);
}

/* TCP connections by state: a family of its own, collected every minute by
 * default, because the kernel walks its whole connection hash table to
 * answer (node_exporter leaves its equivalent off by default). */
int coll_tcp(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	static const char *const tcp_states[12] = { "",		 "established", "syn_sent",
						    "syn_recv",	 "fin_wait1",	"fin_wait2",
						    "time_wait", "close",	"close_wait",
						    "last_ack",	 "listen",	"closing" };
	struct coll_files *f = coll_state_files(st);
	char *text;
	uint64_t counts[12] = { 0 };
	/* The files are the fallback, and what fixtures (a --root) provide. */
	if (coll_root(f)[0] || count_tcp_netlink(counts) != 0) {
		memset(counts, 0, sizeof counts);
		if (coll_read(f, "/proc/net/tcp", &text) >= 0)
			coll_count_tcp(text, counts);
		if (coll_read(f, "/proc/net/tcp6", &text) >= 0)
			coll_count_tcp(text, counts);
	}
	for (int s = 1; s < 12; s++)
		coll_emit1(sink, "node_tcp_connections", "state", tcp_states[s], (double)counts[s]);
	return 0;
}

int coll_network(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	struct coll_files *f = coll_state_files(st);
	const struct coll_config *c = coll_state_config(st);
	char *text;
	long n = coll_read(f, "/proc/net/dev", &text);
	if (n < 0)
		return err_sys(e, (int)n, "cannot read /proc/net/dev");
	struct device_lister lister = { .sink = { list_device }, .next = sink };
	coll_parse_netdev(text, c, &lister.sink);
	for (int i = 0; i < lister.n; i++)
		interface_state(st, lister.devices[i], sink);
	if (coll_read(f, "/proc/net/sockstat", &text) > 0)
		coll_parse_sockstat(text, sink);
	if (coll_read(f, "/proc/net/snmp", &text) > 0)
		coll_parse_snmp(text, c->netstat_fields, sink);
	if (coll_read(f, "/proc/net/netstat", &text) > 0)
		coll_parse_snmp(text, c->netstat_fields, sink);
	return 0;
}
