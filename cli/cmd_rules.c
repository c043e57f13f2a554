/* cmd_rules.c - `rmon rules check FILE...` validates alertd configuration
 * files as rmon-alertd reads them, with file:line errors (promtool check
 * rules' job); `rmon rules test` evaluates every rule once against the
 * store now and shows what each instance sees, so a rule can be tried
 * before alertd runs it; `rmon rules default` prints the built-in
 * configuration, to start one's own from. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alertd/eval.h"
#include "alertd/rules.h"
#include "cli/cli.h"
#include "lib/cmdline.h"
#include "lib/escape.h"
#include "lib/rtime.h"

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* 0 when path (NULL: the built-in default) is good, 1 after saying why not. */
static int check_one(const char *path)
{
	struct alert_config *cfg;
	struct err e = { 0 };
	if (alert_config_read_file(path, &cfg, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	printf("%s: %zu %s, %zu %s, %zu %s, %zu %s, %zu %s: OK\n", path ? path : "<embedded>",
	       cfg->n_rules, plural(cfg->n_rules, "rule", "rules"), cfg->n_routes,
	       plural(cfg->n_routes, "route", "routes"), cfg->n_receivers,
	       plural(cfg->n_receivers, "receiver", "receivers"), cfg->n_inhibits,
	       plural(cfg->n_inhibits, "inhibition", "inhibitions"), cfg->n_mutes,
	       plural(cfg->n_mutes, "mute window", "mute windows"));
	alert_config_free(cfg);
	return 0;
}

static int check(int argc, char **argv)
{
	const struct cmdline_option options[] = { { 0 } };
	const struct cmdline cl = {
		.program = "rmon rules check",
		.version = CLI_VERSION,
		.synopsis = "[FILE...]",
		.about = "Reads each alertd configuration FILE and the files it includes as "
			 "rmon-alertd\nwould, and says what is wrong and where (file:line), or "
			 "what it holds.\nWithout FILE, checks the built-in default "
			 "configuration.\nExit status: 0 all good, 1 a file has errors.",
		.options = options,
		.max_operands = 1 << 20,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	int bad = 0;
	if (first == argc)
		return check_one(NULL);
	for (int i = first; i < argc; i++)
		bad |= check_one(argv[i]);
	return bad;
}

static void print_cell(const char *s, int width)
{
	char buf[1024];
	escape(ESCAPE_TEXT, buf, sizeof buf, s, strlen(s));
	printf("%-*s", width, buf);
}

static int print_instance(void *ctx, const struct eval_instance *in)
{
	(void)ctx;
	static const char *const states[] = { "ok", "pending", "firing", "ok" };
	char name[600], value[64];
	snprintf(name, sizeof name, "%s%s", in->host, in->labels);
	print_cell(in->rule->name, 18);
	putchar(' ');
	print_cell(name, 30);
	printf(" %-8s ", states[in->state]);
	if (in->rule->kind == RULE_ABSENCE)
		snprintf(value, sizeof value, "%s", "-");
	else
		rule_format_value(in->value, in->rule->unit, value, sizeof value);
	printf("%-10s ", value);
	print_cell(in->detail, 0);
	putchar('\n');
	return 0;
}

static int test(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *config = NULL;
	const struct cmdline_option options[] = { CMDLINE_DATA(&data),
						  CMDLINE_CONFIG(&config),
						  { 0 } };
	const struct cmdline cl = {
		.program = "rmon rules test",
		.version = CLI_VERSION,
		.synopsis = "[OPTIONS]",
		.about = "Evaluates every rule of the configuration (default: the built-in "
			 "one) once,\nnow, against the store in DIR, and prints what each "
			 "instance sees:\n'pending' breaches but waits for its `for`, 'firing' "
			 "would be sent.\nNothing is sent and nothing is written.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct alert_config *cfg;
	struct err e = { 0 };
	if (alert_config_read_file(config, &cfg, &e) != 0) {
		fprintf(stderr, "rmon rules test: %s\n", e.msg);
		return 2;
	}
	struct query *q = cli_open_store("rules test", data);
	struct eval *ev = NULL;
	int rc = q ? eval_new(cfg, &ev, &e) : -1;
	if (rc == 0 && (rc = query_begin(q, &e)) == 0) {
		rc = eval_pass(ev, q, rtime_now_ns(), NULL, 0, NULL, NULL, &e);
		query_end(q);
	}
	if (rc == 0) {
		printf("%-18s %-30s %-8s %-10s %s\n", "RULE", "INSTANCE", "STATE", "VALUE",
		       "DETAIL");
		eval_instances(ev, print_instance, NULL);
	} else if (q) {
		fprintf(stderr, "rmon rules test: %s\n", e.msg);
	}
	eval_free(ev);
	query_close(q);
	alert_config_free(cfg);
	return rc ? 1 : 0;
}

int cmd_rules(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return test(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "default") == 0) {
		fputs(alert_config_default, stdout);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: rmon rules check [FILE...]     check rule files, file:line errors\n"
		       "       rmon rules test [--config FILE] [--data DIR]\n"
		       "                                     evaluate the rules once, now\n"
		       "       rmon rules default            print the built-in configuration\n");
		return 0;
	}
	fprintf(stderr, "usage: rmon rules check [FILE...] | test [--config FILE] [--data DIR] | "
			"default\n");
	return 2;
}
