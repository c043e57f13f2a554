/* families.c - the collector families in collection order: the one place
 * that knows every collector (the state they share knows none). */
#include "collectd/coll.h"

const struct coll_family coll_families[] = {
	{ "cpu", coll_cpu },	       { "load", coll_load },
	{ "pressure", coll_pressure }, { "memory", coll_memory },
	{ "diskio", coll_diskio },     { "filesystem", coll_filesystem },
	{ "network", coll_network },   { "tcp", coll_tcp },
	{ "misc", coll_misc },	       { "processes", coll_processes },
	{ "cgroup", coll_cgroup },     { "hwmon", coll_hwmon },
};
const size_t coll_n_families = sizeof coll_families / sizeof coll_families[0];
