/* families.h - what a host page draws: one graph spec per metric family
 * (CPU stacked by state, load against the cores, memory breakdown, swap,
 * disk space per mount, disk I/O per device, network per interface, TCP
 * states, processes, cgroups, pressure, temperatures), and the matching of
 * a host's series to them.  The specs are data, so adding a graph is
 * adding a row; the reading and drawing is reportgen/graph.h's. */
#ifndef RMON_REPORT_FAMILIES_H
#define RMON_REPORT_FAMILIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/plot.h"

#define FAMILY_TERMS 6

/* An explicit line: the sum of plus minus the sum of minus (metric names
 * of one instance), divided by the sum of per when given (then times
 * 100: a percentage), times scale (0: 1). */
struct family_line {
	const char *title;
	const char *plus[FAMILY_TERMS];
	const char *minus[FAMILY_TERMS];
	const char *per[FAMILY_TERMS];
	double scale;
};

struct family {
	const char *key;   /* file name part and anchor: "cpu" */
	const char *title; /* "CPU" */
	enum plot_unit unit;
	bool counter; /* the series are counters: drawn as rates */
	bool stacked;
	/* Lines by label: every series of metric (with match_key=match_value
	 * when given) is one line named by its line_label value... */
	const char *metric;
	const char *match_key, *match_value;
	const char *line_label;
	const char *skip;     /* comma list of line_label values left out */
	const char *hide;     /* comma list of values counted in the sum, not drawn */
	bool percent_of_sum;  /* lines scaled so that all of them sum to 100 */
	bool drop_zero_lines; /* lines that are zero throughout are left out */
	size_t max_lines;     /* keep the largest this many (0: all) */
	/* ...or explicit lines made of metrics. */
	const struct family_line *lines;
	size_t n_lines;
	double scale;		 /* of lines by label (0: 1) */
	const char *split_label; /* one graph per value of this label */
	bool cores_threshold;	 /* draw the number of cores as a threshold */
	bool percent_axis;	 /* y axis 0-100 */
};

extern const struct family report_families[];
extern const size_t report_n_families;

/* One series of a host: its id and canonical name. */
struct host_series {
	uint64_t id;
	const char *name; /* host/metric{labels} */
	size_t len;
};

/* Copies the metric part of canonical name into buf (cap bytes). */
void family_metric_of(const char *name, size_t len, char *buf, size_t cap);

/* Copies the value of label key of canonical name into buf (cap bytes,
 * unescaped); returns its length, or -1 when the name has no such label. */
int family_label_of(const char *name, size_t len, const char *key, char *buf, size_t cap);

/* True when value is one of the comma list list (NULL: none). */
bool family_in_list(const char *list, const char *value);

#endif
