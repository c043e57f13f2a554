/* rules.h - alertd's configuration: settings, rules, routes, inhibitions and
 * mute windows, read from alertd.conf and the files it includes
 * (the *.conf of rules.d), as docs/alerting.md describes them.  One reader serves
 * rmon-alertd, `rmon rules check`, reportgen's configuration and rule pages
 * and the web actions' checker, so a file means the same thing to all.
 *
 * Receivers ([receiver NAME] sections) are read by alertd/receiver.h; this
 * reader hands their sections over and keeps the results.
 *
 * Everything the reader returns is immutable after alert_config_read_*:
 * pointers stay valid until alert_config_free. */
#ifndef RMON_ALERTD_RULES_H
#define RMON_ALERTD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertd/receiver.h"
#include "lib/err.h"

enum rule_kind {
	RULE_THRESHOLD, /* an expression over a window, above or below a threshold */
	RULE_ABSENCE,	/* no sample of the selector for `absent` */
	RULE_PREDICT, /* a linear fit of the last `window` crosses the threshold within `horizon` */
	RULE_ANOMALY, /* the value leaves the series' own usual range */
};

enum rule_op { RULE_ABOVE, RULE_BELOW };

struct rule_expr; /* compiled expression: eval's business (alertd/eval.h) */

struct rule {
	const char *name; /* [rule NAME] */
	const char *file; /* where the section is */
	int line;
	bool enabled;
	enum rule_kind kind;
	const char *expr;     /* as written, for pages and mails */
	const char *selector; /* the primary selector (a ratio's numerator), for graphs */
	const char *metric;   /* its metric glob, for reportgen to draw thresholds on graphs */
	struct rule_expr *compiled;
	enum rule_op op;
	double threshold;
	double clear;	      /* the level that resolves it (hysteresis); = threshold when unset */
	int64_t window_ns;    /* the expression's window */
	int64_t for_ns;	      /* held this long before firing */
	int64_t absent_ns;    /* RULE_ABSENCE */
	int64_t horizon_ns;   /* RULE_PREDICT */
	int64_t repeat_ns;    /* re-notify a firing, unacknowledged alert this often; 0 never */
	int64_t baseline_ns;  /* RULE_ANOMALY: the history its usual range is learnt from */
	double deviations;    /* RULE_ANOMALY: the range is median +- this many robust deviations */
	const char *severity; /* "critical", "warning" or "info" */
	const char *unit;     /* "percent", "bytes", ... (lib/plot.h units), for display */
	const char *summary;  /* templates: {host} {value} {threshold} {since} {labels.X} {rule} */
	const char *description;
	const char *const *receivers; /* names; empty: the routes decide */
	size_t n_receivers;
	const char *const *group_by; /* labels that make an instance besides the host */
	size_t n_group_by;
	const char *const *depends_on; /* rules whose firing on the same host inhibits this one */
	size_t n_depends_on;
};

/* A route picks receivers for an alert by severity and labels; the first
 * that matches wins unless it says `continue`. */
struct route_step {
	int64_t after_ns;     /* unacknowledged this long after firing... */
	const char *receiver; /* ...then this receiver is told too */
};
struct route {
	const char *name;
	const char *file;
	int line;
	const char *severity; /* NULL: any */
	const char *match;    /* a selector over the alert's series, NULL: any */
	const char *const *receivers;
	size_t n_receivers;
	const struct route_step *escalate;
	size_t n_escalate;
	int64_t group_window_ns; /* alerts of one receiver within this window go in one message */
	int64_t repeat_ns;	 /* overrides the rule's when > 0 */
	bool continue_matching;
};

/* While an alert of rule `source` fires, alerts of the rules matching
 * `target` (a glob) whose labels `equal` agree are inhibited. */
struct inhibit {
	const char *file;
	int line;
	const char *source;
	const char *target;
	const char *const *equal; /* default: host */
	size_t n_equal;
};

/* A mute window: notifications for matching alerts are held (not lost:
 * sent when it ends if the alert still fires). */
struct mute {
	const char *name;
	const char *file;
	int line;
	unsigned days;	   /* bit 0 = Monday ... bit 6 = Sunday */
	int start_minute;  /* of the local day, [0, 1440) */
	int end_minute;	   /* may be below start: the window spans midnight */
	const char *match; /* selector, NULL: every alert */
};

struct alert_config {
	/* [alertd] */
	int64_t group_window_ns;  /* default 500 ms */
	int64_t repeat_ns;	  /* default for rules: 4 h */
	int64_t flap_window_ns;	  /* flap damping: crossings within this window hold it firing */
	int64_t resolved_keep_ns; /* how long resolved alerts stay listed */
	/* [report] */
	const char *report_url; /* base URL of the generated site, NULL: no links */
	/* [web] */
	const char *web_action_url; /* rmon-web's URL: the pages carry forms; NULL: read-only */

	const struct rule *rules;
	size_t n_rules;
	const struct receiver *const *receivers;
	size_t n_receivers;
	const struct route *routes;
	size_t n_routes;
	const struct inhibit *inhibits;
	size_t n_inhibits;
	const struct mute *mutes;
	size_t n_mutes;
	const char *source; /* the main file's path, or "<embedded>" */
};

/* The shipped default configuration (docs/alerting.md, "Default rules"):
 * quiet rules every host wants, and a maildir receiver under the data
 * folder. */
extern const char alert_config_default[];

/* Reads path (NULL: the embedded default) and everything it includes,
 * checks it as a whole (a rule naming an unknown receiver, a route with no
 * receiver, a threshold that its clear level contradicts, ...), and fills
 * *out (the caller's: alert_config_free).  Errors: -EINVAL with
 * "file:line: what is wrong", -ENOENT for a missing file. */
int alert_config_read_file(const char *path, struct alert_config **out, struct err *e);
int alert_config_read_text(const char *text, const char *name, struct alert_config **out,
			   struct err *e);
void alert_config_free(struct alert_config *cfg);

/* As alert_config_read_file, but the file replace_path (as an include
 * names it: folder of the including file + the globbed name) is read with
 * replace_text instead of what it holds, wherever it is included, and
 * after everything else: how rmon-web checks a drop-in of [override RULE]
 * sections before it writes it. */
int alert_config_read_file_with(const char *path, const char *replace_path,
				const char *replace_text, struct alert_config **out, struct err *e);

const struct rule *alert_config_rule(const struct alert_config *cfg, const char *name);
const struct receiver *alert_config_receiver(const struct alert_config *cfg, const char *name);

/* True when the mute window is open at wall-clock time now (local time). */
bool mute_open(const struct mute *m, int64_t now);

/* What a template may say; NULL fields expand to "". */
struct rule_vars {
	const char *rule, *host, *labels; /* labels: canonical {k="v",...} */
	const char *severity;
	double value, threshold;
	int64_t since;	    /* shown as local time and age */
	const char *detail; /* eval's explanation ("usual range 20-35 over the last 6 h") */
	const char *unit;
};

/* Expands a summary or description template into buf (cap bytes, NUL
 * terminated), as snprintf counts.  Values are inserted as they are:
 * escaping is the output's job (mail headers, HTML, JSON). */
size_t rule_expand(const char *tmpl, const struct rule_vars *vars, char *buf, size_t cap);

/* Checks that a template names only the fields above ({host} {value}
 * {threshold} {since} {labels} {labels.NAME} {rule} {severity} {detail}
 * {unit}; "{{" is a literal brace): -EINVAL naming the first unknown one. */
int rule_template_check(const char *tmpl, struct err *e);

/* Writes value for a person: "93.2", "12.3 GiB" when unit is "bytes",
 * "no data" for NaN.  Returns buf. */
const char *rule_format_value(double value, const char *unit, char *buf, size_t cap);

#endif
