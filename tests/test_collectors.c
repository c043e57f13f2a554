/* test_collectors.c - the agent's collectors (collectd/) against /proc
 * files captured from two kernels (tests/fixtures/linux-6.18, and the older
 * formats of linux-4.9: fewer CPU columns, offline CPUs, 11-field
 * diskstats, long interface names, escaped mount points, no PSI, cgroup v1
 * only), against the live system, and the configuration's errors. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectd/coll.h"
#include "collectd/config.h"
#include "lib/fault.h"

/* A sink that keeps every value under its canonical name (host "h"). */
struct recorder {
	struct coll_sink sink;
	size_t n;
	char names[4096][256];
	double values[4096];
};

static void record(struct coll_sink *sink, const char *metric, struct series_label *labels,
		   size_t n_labels, double value)
{
	struct recorder *r = (struct recorder *)sink;
	assert_true(r->n < 4096);
	assert_true(series_canonical(r->names[r->n], sizeof r->names[0], "h", metric, labels,
				     n_labels, NULL) > 0);
	r->values[r->n++] = value;
}

static struct recorder *recorder_new(void)
{
	struct recorder *r = calloc(1, sizeof *r);
	r->sink.value = record;
	return r;
}

static double find(struct recorder *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return r->values[i];
	return NAN;
}

static size_t count_prefix(struct recorder *r, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += strncmp(r->names[i], prefix, strlen(prefix)) == 0;
	return n;
}

#define FIXTURES "tests/fixtures/"

static struct coll_config config;

static void run(const char *root,
		int (*collect)(struct coll_state *, struct coll_sink *, struct err *),
		struct recorder *r, int want_rc)
{
	struct coll_state *st = coll_state_new(&config, root);
	struct err e = { 0 };
	int rc = collect(st, &r->sink, &e);
	if (rc != want_rc)
		fail_msg("collector returned %d (%s)", rc, e.msg);
	coll_state_free(st);
}

static void test_cpu_old_kernel_and_offline_cpus(void **state)
{
	struct recorder *r = recorder_new();
	long hz = sysconf(_SC_CLK_TCK);
	run(FIXTURES "linux-4.9", coll_cpu, r, 0);
	/* Eight columns only: no guest modes; cpu1 is offline. */
	assert_true(find(r, "h/node_cpu_seconds_total{cpu=\"total\",mode=\"user\"}") ==
		    1000.0 / hz);
	assert_true(find(r, "h/node_cpu_seconds_total{cpu=\"2\",mode=\"system\"}") == 100.0 / hz);
	assert_true(isnan(find(r, "h/node_cpu_seconds_total{cpu=\"1\",mode=\"user\"}")));
	assert_true(isnan(find(r, "h/node_cpu_seconds_total{cpu=\"0\",mode=\"guest\"}")));
	assert_int_equal(count_prefix(r, "h/node_cpu_seconds_total"), 3 * 8);
	assert_true(find(r, "h/node_context_switches_total") == 987654);
	assert_true(find(r, "h/node_forks_total") == 4321);
	assert_true(find(r, "h/node_procs_blocked") == 1);
	assert_true(find(r, "h/node_boot_time_seconds") == 1700000000);
	free(r);
}

static void test_cpu_new_kernel(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-6.18", coll_cpu, r, 0);
	/* Ten columns per CPU line, guest and guest_nice included. */
	assert_false(isnan(find(r, "h/node_cpu_seconds_total{cpu=\"0\",mode=\"guest_nice\"}")));
	assert_int_equal(count_prefix(r, "h/node_cpu_seconds_total{cpu=\"total\""), 10);
	free(r);
}

static void test_memory_and_load(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-4.9", coll_memory, r, 0);
	assert_true(find(r, "h/node_memory_MemTotal_bytes") == 2048000.0 * 1024);
	assert_true(find(r, "h/node_memory_Active_anon_bytes") == 100000.0 * 1024);
	assert_true(find(r, "h/node_memory_HugePages_Total") == 0);
	assert_true(find(r, "h/node_vmstat_pswpout") == 4);
	assert_true(isnan(find(r, "h/node_vmstat_oom_kill"))); /* not in 4.9's vmstat */
	run(FIXTURES "linux-4.9", coll_load, r, 0);
	assert_true(find(r, "h/node_load15") == 1.05);
	assert_true(find(r, "h/node_uptime_seconds") == 12345.67);
	free(r);
}

static void test_snmp_and_vmstat_fields(void **state)
{
	struct recorder *r = recorder_new();
	const char *snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n"
			   "Tcp: RtoAlgorithm MaxConn RetransSegs\nTcp: 1 -1 42\n"
			   "TcpExt: SyncookiesSent TCPTimeouts\nTcpExt: 0 7\n";
	assert_int_equal(coll_parse_snmp(snmp, NULL, &r->sink), 0);
	assert_true(find(r, "h/node_netstat_Ip_DefaultTTL") == 64);
	assert_true(find(r, "h/node_netstat_Tcp_MaxConn") == -1);
	assert_true(find(r, "h/node_netstat_Tcp_RetransSegs") == 42);
	assert_true(find(r, "h/node_netstat_TcpExt_TCPTimeouts") == 7);
	r->n = 0;
	assert_int_equal(coll_parse_snmp(snmp, "Tcp_Retrans* TcpExt_*", &r->sink), 0);
	assert_int_equal(r->n, 3);
	r->n = 0;
	assert_int_equal(
	    coll_parse_vmstat("pgfault 5\nnr_free_pages 9\noom_kill 1\n", "pg* oom_kill", &r->sink),
	    0);
	assert_int_equal(r->n, 2);
	assert_true(isnan(find(r, "h/node_vmstat_nr_free_pages")));
	free(r);
}

static void test_pressure_missing_is_not_an_error(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-4.9", coll_pressure, r, 0);
	assert_int_equal(r->n, 0);
	run(FIXTURES "linux-6.18", coll_pressure, r, 0);
	assert_int_equal(count_prefix(r, "h/node_pressure_"), 6);
	free(r);
}

static void test_diskstats_partitions_and_loops(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-4.9", coll_diskio, r, 0);
	/* sda only: sda1 has no /sys/block entry, loop0 is excluded. */
	assert_int_equal(count_prefix(r, "h/node_disk_"), 11);
	assert_true(find(r, "h/node_disk_read_bytes_total{device=\"sda\"}") == 20000.0 * 512);
	assert_true(find(r, "h/node_disk_io_time_weighted_seconds_total{device=\"sda\"}") == 2.0);
	free(r);
}

static void test_network_long_names(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-4.9", coll_network, r, 0);
	assert_true(find(r, "h/node_network_receive_bytes_total{device=\"enp0s31f6wlan01\"}") ==
		    123);
	assert_true(find(r, "h/node_network_transmit_bytes_total{device=\"enp0s31f6wlan01\"}") ==
		    567);
	assert_true(find(r, "h/node_network_receive_multicast_total{device=\"eth0\"}") == 30);
	assert_true(find(r, "h/node_network_up{device=\"eth0\"}") == 1);
	assert_true(find(r, "h/node_network_speed_bytes{device=\"eth0\"}") == 125000000.0);
	run(FIXTURES "linux-4.9", coll_tcp, r, 0);
	assert_true(find(r, "h/node_tcp_connections{state=\"listen\"}") == 1);
	assert_true(find(r, "h/node_tcp_connections{state=\"established\"}") == 1);
	assert_true(find(r, "h/node_tcp_connections{state=\"time_wait\"}") == 1);
	free(r);
}

struct mounts {
	int n;
	char points[8][64];
	char types[8][16];
};

static void keep_mount(const struct coll_mount *m, void *ctx)
{
	struct mounts *ms = ctx;
	snprintf(ms->points[ms->n], sizeof ms->points[0], "%s", m->mountpoint);
	snprintf(ms->types[ms->n++], sizeof ms->types[0], "%s", m->fstype);
}

static void test_mountinfo_escapes_and_filters(void **state)
{
	FILE *f = fopen(FIXTURES "linux-4.9/proc/self/mountinfo", "r");
	static char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	struct mounts ms = { 0 };
	assert_int_equal(coll_parse_mountinfo(text, keep_mount, &ms), 0);
	assert_int_equal(ms.n, 5);
	assert_string_equal(ms.points[3], "/mnt/my disk");
	assert_string_equal(ms.types[3], "xfs");
	assert_true(coll_fs_wanted(&config, "xfs", "/mnt/my disk"));
	assert_false(coll_fs_wanted(&config, "proc", "/proc"));
	assert_false(coll_fs_wanted(&config, "tmpfs", "/run"));
	assert_false(coll_fs_wanted(&config, "cgroup", "/sys/fs/cgroup/memory"));
}

/* The filtered mount list is kept between collections, and derived again
 * when the configuration changes (SIGHUP). */
static void test_filesystems_follow_a_reload(void **state)
{
	struct coll_config c;
	struct err e = { 0 };
	coll_config_default(&c);
	struct coll_state *st = coll_state_new(&c, FIXTURES "linux-4.9");
	struct recorder *r = recorder_new();
	const char *root_fs = "h/node_filesystem_size_bytes{device=\"/dev/sda1\",fstype=\"ext4\","
			      "mountpoint=\"/\"}";
	for (int round = 0; round < 2; round++) {
		r->n = 0;
		assert_int_equal(coll_filesystem(st, &r->sink, &e), 0);
		assert_false(isnan(find(r, root_fs)));
	}
	snprintf(c.fs_exclude_types, sizeof c.fs_exclude_types, "ext4");
	coll_state_reconfigure(st);
	r->n = 0;
	assert_int_equal(coll_filesystem(st, &r->sink, &e), 0);
	assert_true(isnan(find(r, root_fs)));
	coll_state_free(st);
	coll_config_release(&c);
	free(r);
}

static void test_hwmon_and_thermal_zones(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-6.18", coll_hwmon, r, 0);
	assert_int_equal(r->n, 5);
	assert_true(find(r, "h/node_hwmon_temp_celsius{chip=\"k10temp\",sensor=\"temp1\"}") ==
		    45.25);
	assert_true(find(r, "h/node_hwmon_temp_celsius{chip=\"nvme\",sensor=\"temp2\"}") == 52.85);
	assert_true(find(r, "h/node_thermal_zone_temp{type=\"acpitz\",zone=\"0\"}") == 27.8);
	assert_true(find(r, "h/node_thermal_zone_temp{type=\"iwlwifi_1\",zone=\"1\"}") == -5.0);
	r->n = 0;
	run(FIXTURES "linux-4.9", coll_hwmon, r, 0); /* none: not an error */
	assert_int_equal(r->n, 0);
	free(r);
}

/* cgroup v2 (at /sys/fs/cgroup/unified on this hybrid host) to depth 2. */
static void test_cgroup_v2_figures(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-6.18", coll_cgroup, r, 0);
	const char *svc = "{cgroup=\"/system.slice/nginx.service\"}";
	char name[256];
	static const struct {
		const char *metric;
		double value;
	} want[] = {
		{ "rmon_cgroup_cpu_usage_seconds_total", 1.234567 },
		{ "rmon_cgroup_cpu_throttled_periods_total", 7 },
		{ "rmon_cgroup_cpu_throttled_seconds_total", 0.035 },
		{ "rmon_cgroup_memory_bytes", 104857600 },
		{ "rmon_cgroup_memory_max_bytes", INFINITY },
		{ "rmon_cgroup_pids", 12 },
		{ "rmon_cgroup_io_read_bytes_total", 1048576 + 4096 },
		{ "rmon_cgroup_io_writes_total", 200 },
		{ "rmon_cgroup_pressure_cpu_some_seconds_total", 2.5 },
		{ "rmon_cgroup_pressure_io_full_seconds_total", 0.0002 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(name, sizeof name, "h/%s%s", want[i].metric, svc);
		if (fabs(find(r, name) - want[i].value) > 1e-9 && find(r, name) != want[i].value)
			fail_msg("%s = %g, want %g", name, find(r, name), want[i].value);
	}
	assert_true(find(r, "h/rmon_cgroup_memory_max_bytes{cgroup=\"/system.slice\"}") ==
		    1073741824.0);
	/* The root itself is not a cgroup of its own here (depth 0). */
	assert_int_equal(count_prefix(r, "h/rmon_cgroup_cpu_usage_seconds_total"), 2);
	free(r);
}

static void test_cgroup_v1_only_host_reports_nothing(void **state)
{
	struct recorder *r = recorder_new();
	run(FIXTURES "linux-4.9", coll_cgroup, r, 0);
	assert_int_equal(r->n, 0);
	free(r);
}

static void test_proc_stat_odd_names(void **state)
{
	struct coll_proc_stat ps;
	const char *text = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 "
			   "120 30 0 0 20 0 7 0 12345 100000000 2500 18446744073709551615";
	assert_int_equal(coll_parse_proc_stat(text, &ps), 0);
	assert_int_equal(ps.pid, 4242);
	assert_string_equal(ps.comm, "my (odd) name");
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.ppid, 1);
	assert_int_equal(ps.utime, 120);
	assert_int_equal(ps.stime, 30);
	assert_int_equal(ps.threads, 7);
	assert_int_equal(ps.rss_pages, 2500);
	assert_int_equal(coll_parse_proc_stat("garbage", &ps), -EPROTO);
	/* Found by fuzzing: the text ends right after the name. */
	assert_int_equal(coll_parse_proc_stat("1 (x)", &ps), -EPROTO);
}

/* One live collection agrees with independent readings of the same files. */
static void test_live_matches_the_kernel(void **state)
{
	struct recorder *r = recorder_new();
	run("", coll_memory, r, 0);
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	assert_int_equal(fscanf(f, "MemTotal: %llu kB", &kb), 1);
	fclose(f);
	assert_true(find(r, "h/node_memory_MemTotal_bytes") == (double)kb * 1024);
	run("", coll_cpu, r, 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(count_prefix(r, "h/node_cpu_seconds_total{cpu=\"total\""),
			 count_prefix(r, "h/node_cpu_seconds_total{cpu=\"0\""));
	assert_true(count_prefix(r, "h/node_cpu_seconds_total{") >= (size_t)(cpus + 1) * 8);
	run("", coll_processes, r, 0);
	assert_true(find(r, "h/node_processes_threads") >= 1);
	free(r);
}

static void test_watched_process_absent_is_zero(void **state)
{
	struct coll_config c;
	struct err e = { 0 };
	coll_config_default(&c);
	assert_int_equal(coll_config_parse(&c,
					   "[process self]\nmatch = \"^test_collectors$\"\n"
					   "[process ghost]\nmatch = \"^no-such-process-here$\"\n",
					   "t.conf", &e),
			 0);
	struct coll_state *st = coll_state_new(&c, "");
	struct recorder *r = recorder_new();
	assert_int_equal(coll_processes(st, &r->sink, &e), 0);
	assert_true(find(r, "h/rmon_process_count{process=\"ghost\"}") == 0);
	assert_true(find(r, "h/rmon_process_count{process=\"self\"}") == 1);
	assert_true(find(r, "h/rmon_process_open_fds{process=\"self\"}") >= 3);
	coll_state_free(st);
	coll_config_release(&c);
	free(r);
}

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

static pid_t children[2]; /* killed by the teardown, should a test fail */

static int kill_children(void **state)
{
	for (int i = 0; i < 2; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	return 0;
}

static pid_t spawn_named(const char *name, bool busy)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		static char memory[8 << 20];
		memset(memory, 1, sizeof memory); /* resident: 8 MiB */
		volatile uint64_t spin = 0;
		while (busy) /* uses CPU until killed */
			spin++;
		pause();
		_exit(0);
	}
	return pid;
}

static void collect_into(struct coll_state *st, struct recorder *r)
{
	struct err e = { 0 };
	r->n = 0;
	assert_int_equal(coll_processes(st, &r->sink, &e), 0);
}

/* A process that sleeps keeps being reported with its memory though it is
 * not re-read; one that runs is re-read each time; one that exits is gone. */
static void test_idle_and_busy_processes(void **state)
{
	struct coll_config c;
	struct err e = { 0 };
	coll_config_default(&c);
	assert_int_equal(coll_config_parse(&c,
					   "[process idle]\nmatch = \"^rmon-test-idle$\"\n"
					   "[process busy]\nmatch = \"^rmon-test-busy$\"\n",
					   "t.conf", &e),
			 0);
#ifdef UNDER_TSAN
	skip(); /* a forked child of a ThreadSanitizer process may hang */
#endif
	pid_t idle = children[0] = spawn_named("rmon-test-idle", false);
	children[1] = spawn_named("rmon-test-busy", true);
	usleep(300 * 1000); /* both have touched their memory */
	struct coll_state *st = coll_state_new(&c, "");
	struct recorder *r = recorder_new();
	double busy_cpu[4];
	for (int round = 0; round < 4; round++) {
		collect_into(st, r);
		assert_true(find(r, "h/rmon_process_count{process=\"idle\"}") == 1);
		assert_true(find(r, "h/rmon_process_resident_memory_bytes{process=\"idle\"}") >=
			    8 << 20);
		/* 1, or more where a sanitizer's runtime started a thread */
		assert_true(find(r, "h/rmon_process_threads{process=\"idle\"}") >= 1);
		busy_cpu[round] = find(r, "h/rmon_process_cpu_seconds_total{process=\"busy\"}");
		if (round > 0)
			assert_true(busy_cpu[round] > busy_cpu[round - 1]);
		usleep(200 * 1000);
	}
	kill(idle, SIGKILL);
	waitpid(idle, NULL, 0);
	children[0] = 0;
	collect_into(st, r);
	assert_true(find(r, "h/rmon_process_count{process=\"idle\"}") == 0);
	assert_true(find(r, "h/rmon_process_count{process=\"busy\"}") == 1);
	kill_children(NULL);
	coll_state_free(st);
	coll_config_release(&c);
	free(r);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "interval = 10ms\n", "c.conf:1: interval = '10ms': must be at least 100ms" },
		{ "\n[collector gpu]\nenabled = no\n",
		  "c.conf:3: collector.enabled = 'no': unknown collector 'gpu'" },
		{ "[collector cpu]\nenabled = maybe\n",
		  "c.conf:2: collector.enabled = 'maybe': expected true or false" },
		{ "[process x]\nmatch = \"(\"\n",
		  "c.conf:2: process.match = '(': not a valid regular expression" },
		/* 34 nested copies: glibc's regcomp took 2 GB for it */
		{ "[process x]\nmatch = \"l++++++++++++++++++++++++++++++++++\"\n",
		  "c.conf:2: process.match = 'l++++++++++++++++++++++++++++++++++': regular "
		  "expression too complex (at most 256 bytes" },
		{ "[process x]\nmatch = \"((a{255}){255}){255}\"\n",
		  "c.conf:2: process.match = '((a{255}){255}){255}': regular expression too "
		  "complex" },
		{ "labels = dc\n", "c.conf:1: labels = 'dc': expected key=value pairs" },
		{ "host = a/b\n", "c.conf:1: host = 'a/b': bad host name \"a/b\" at byte 1" },
		{ "labels = 9x=1\n", "c.conf:1: labels = '9x=1': bad label name \"9x\" at byte 0" },
		{ "[cgroup]\ndepth = 99\n",
		  "c.conf:2: cgroup.depth = '99': must be between 0 and 8" },
		{ "[weird]\nx = 1\n", "c.conf:2: weird.x = '1': unknown section [weird]" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct coll_config c;
		struct err e = { 0 };
		coll_config_default(&c);
		assert_int_equal(coll_config_parse(&c, cases[i].text, "c.conf", &e), -EINVAL);
		if (!strstr(e.msg, cases[i].message))
			fail_msg("got '%s', wanted '%s'", e.msg, cases[i].message);
		coll_config_release(&c);
	}
	struct coll_config c;
	struct err e = { 0 };
	coll_config_default(&c);
	assert_int_equal(
	    coll_config_parse(&c,
			      "interval = 1s\nhost = web1\nlabels = dc=eu,rack=7\n"
			      "[collector processes]\ninterval = 10s\n[disk]\npartitions = yes\n",
			      "ok.conf", &e),
	    0);
	assert_true(c.interval_ns == 1000000000);
	assert_string_equal(c.host, "web1");
	assert_true(c.disk_partitions);
}

static int fail_sysconf(const char *point)
{
	return strcmp(point, "coll.sysconf") == 0 ? -EINVAL : 0;
}

static int fail_alloc(const char *point)
{
	return strcmp(point, "coll.alloc") == 0 ? -ENOMEM : 0;
}

/* n made-up processes, pids 1..n, sleeping, under root/proc. */
static void fake_processes(const char *root, int n)
{
	char path[128];
	snprintf(path, sizeof path, "%s/proc", root);
	assert_int_equal(mkdir(path, 0700), 0);
	for (int pid = 1; pid <= n; pid++) {
		snprintf(path, sizeof path, "%s/proc/%d", root, pid);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof path, "%s/proc/%d/stat", root, pid);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f,
			"%d (p%d) S 1 %d %d 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 1 0 100 "
			"1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			pid, pid, pid, pid);
		fclose(f);
	}
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the listing's own */
}

/* Processes that ended give their kept descriptors back at the next
 * listing: 100 made-up processes, 60 of them gone at the second
 * collection, and the agent holds 60 fewer files (it held them until the
 * table's sweep, which a small machine may not reach for hours). */
static void test_ended_processes_release_their_descriptors(void **state)
{
	char root[] = "/tmp/rmon-test-procs-XXXXXX", cmd[160];
	assert_non_null(mkdtemp(root));
	fake_processes(root, 100);
	struct recorder *r = recorder_new();
	struct coll_state *st = coll_state_new(&config, root);
	struct err e = { 0 };
	int before = open_fds();
	assert_int_equal(coll_processes(st, &r->sink, &e), 0);
	int holding = open_fds();
	assert_true(holding - before >= 100); /* a stat file each, kept open */
	snprintf(cmd, sizeof cmd, "cd %s/proc && rm -rf $(seq 1 60)", root);
	assert_int_equal(system(cmd), 0);
	struct recorder *r2 = recorder_new();
	assert_int_equal(coll_processes(st, &r2->sink, &e), 0);
	assert_true(find(r2, "h/node_processes_state{state=\"sleeping\"}") == 40);
	free(r2);
	int after = open_fds();
	if (after > holding - 60)
		fail_msg("%d descriptors before, %d with 100 processes, %d once 60 ended", before,
			 holding, after);
	coll_state_free(st);
	assert_int_equal(open_fds(), before);
	free(r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

/* 300 processes under a made-up root, the process table unable to grow
 * past its 256 entries: the collection fails with a message (it used to
 * go on silently until slot() probed a full table forever). sysconf
 * failing is an error too, not a division by -1. */
static void test_process_table_out_of_memory(void **state)
{
	char root[] = "/tmp/rmon-test-procs-XXXXXX";
	assert_non_null(mkdtemp(root));
	fake_processes(root, 300);
	struct recorder *r = recorder_new();
	run(root, coll_processes, r, 0);
	assert_true(find(r, "h/node_processes_state{state=\"sleeping\"}") == 300);
	fault_hook = fail_sysconf;
	struct coll_state *st = coll_state_new(&config, root);
	struct err e = { 0 };
	assert_int_equal(coll_processes(st, &r->sink, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "sysconf gave a clock tick of -1"));
	fault_hook = NULL;
	coll_state_free(st);
	st = coll_state_new(&config, root);
	fault_hook = fail_alloc;
	assert_int_equal(coll_processes(st, &r->sink, &e), -ENOMEM);
	assert_non_null(strstr(e.msg, "out of memory for the process table"));
	fault_hook = NULL;
	coll_state_free(st);
	free(r);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	coll_config_default(&config);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_old_kernel_and_offline_cpus),
		cmocka_unit_test(test_cpu_new_kernel),
		cmocka_unit_test(test_memory_and_load),
		cmocka_unit_test(test_snmp_and_vmstat_fields),
		cmocka_unit_test(test_pressure_missing_is_not_an_error),
		cmocka_unit_test(test_diskstats_partitions_and_loops),
		cmocka_unit_test(test_network_long_names),
		cmocka_unit_test(test_mountinfo_escapes_and_filters),
		cmocka_unit_test(test_filesystems_follow_a_reload),
		cmocka_unit_test(test_hwmon_and_thermal_zones),
		cmocka_unit_test(test_cgroup_v2_figures),
		cmocka_unit_test(test_cgroup_v1_only_host_reports_nothing),
		cmocka_unit_test(test_proc_stat_odd_names),
		cmocka_unit_test(test_live_matches_the_kernel),
		cmocka_unit_test(test_watched_process_absent_is_zero),
		cmocka_unit_test_teardown(test_idle_and_busy_processes, kill_children),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_process_table_out_of_memory),
		cmocka_unit_test(test_ended_processes_release_their_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
