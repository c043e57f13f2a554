/* procstat.c - see procstat.h. */
#include "bench/procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pid's /proc/pid/stat from its state on (after the command name, which
 * may hold spaces and parentheses), in text; NULL when it cannot be read. */
static const char *stat_fields(pid_t pid, char *text, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(text, 1, len - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *p = strrchr(text, ')');
	return p && p[1] == ' ' && p[2] ? p + 2 : NULL;
}

double procstat_cpu_seconds(pid_t pid)
{
	char text[1024];
	unsigned long user = 0, system_ = 0;
	const char *p = stat_fields(pid, text, sizeof text);
	/* The state, then fields 4.. ; utime and stime are 14 and 15. */
	if (!p ||
	    sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &system_) != 2)
		return -1;
	return (double)(user + system_) / (double)sysconf(_SC_CLK_TCK);
}

bool procstat_ended(pid_t pid)
{
	char text[1024];
	const char *p = stat_fields(pid, text, sizeof text);
	return !p || *p == 'Z' || *p == 'X';
}

/* The number after field at the start of a line of /proc/pid/file, or -1. */
static long long field_of(pid_t pid, const char *file, const char *field)
{
	char path[64], line[256];
	long long n = -1;
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, strlen(field)) == 0)
			n = atoll(line + strlen(field));
	if (f)
		fclose(f);
	return n;
}

long procstat_kib(pid_t pid, const char *field)
{
	return (long)field_of(pid, "status", field);
}

long long procstat_io(pid_t pid, const char *field)
{
	return field_of(pid, "io", field);
}

double procstat_cpu_ns(pid_t pid)
{
	char path[320];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	double ns = 0;
	int threads = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.32s/schedstat", (int)pid, de->d_name);
		FILE *f = fopen(path, "r");
		unsigned long long on_cpu;
		if (f && fscanf(f, "%llu", &on_cpu) == 1) {
			ns += (double)on_cpu;
			threads++;
		}
		if (f)
			fclose(f);
	}
	closedir(d);
	return threads ? ns : -1;
}

bool procstat_cores(struct procstat_cores *out)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long t[8] = { 0 }; /* user nice system idle iowait irq softirq steal */
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2],
			   &t[3], &t[4], &t[5], &t[6], &t[7])
		  : 0;
	if (f)
		fclose(f);
	if (n < 4)
		return false;
	out->idle = t[3] + t[4];
	out->total = 0;
	for (int i = 0; i < 8; i++)
		out->total += t[i];
	return true;
}

double procstat_cores_busy(const struct procstat_cores *from, const struct procstat_cores *to)
{
	unsigned long long total = to->total - from->total, idle = to->idle - from->idle;
	return total ? (double)(total - idle) / (double)total : -1;
}
