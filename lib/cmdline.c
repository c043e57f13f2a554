/* cmdline.c - one reader of command lines for every program's main, from a
 * table of options (see cmdline.h).  Written here rather than on getopt so
 * it keeps no global state (tests parse many command lines) and so the
 * errors can name the option and the value. */
#include "lib/cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/rtime.h"

static const struct cmdline_option builtins[] = {
	{ "verbose", 'v', CMDLINE_FLAG, NULL, NULL, "log more (debug lines)", 0, 0 },
	{ "help", 'h', CMDLINE_FLAG, NULL, NULL, "print this help and exit", 0, 0 },
	{ "version", 'V', CMDLINE_FLAG, NULL, NULL, "print the version and exit", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 },
};

/* The option called name (len bytes) or with that letter, the program's
 * own first, then the built-ins. */
static const struct cmdline_option *find(const struct cmdline *cl, const char *name, size_t len,
					 char letter)
{
	const struct cmdline_option *tables[] = { cl->options, builtins };
	for (int t = 0; t < 2; t++)
		for (const struct cmdline_option *o = tables[t]; o && o->name; o++)
			if (letter ? o->letter == letter
				   : strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static int parse_int(const struct cmdline_option *o, const char *spelled, const char *value,
		     struct err *e)
{
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	int64_t min = o->min || o->max ? o->min : INT64_MIN;
	int64_t max = o->min || o->max ? o->max : INT64_MAX;
	if (errno || end == value || *end)
		return err_set(e, -EINVAL, "%s '%s': expected a whole number", spelled, value);
	if (v < min || v > max)
		return err_set(e, -EINVAL, "%s '%s': must be from %lld to %lld", spelled, value,
			       (long long)min, (long long)max);
	*(int64_t *)o->field = v;
	return 0;
}

static int parse_duration(const struct cmdline_option *o, const char *spelled, const char *value,
			  struct err *e)
{
	int64_t ns;
	char bound[32];
	struct err why = { 0 };
	if (rtime_parse_duration(value, &ns, &why) != 0)
		return err_set(e, -EINVAL, "%s: %s", spelled, why.msg);
	if ((o->min || o->max) && ns < o->min)
		return err_set(e, -EINVAL, "%s '%s': must be at least %s", spelled, value,
			       rtime_format_duration(o->min, bound, sizeof bound));
	if ((o->min || o->max) && ns > o->max)
		return err_set(e, -EINVAL, "%s '%s': must be at most %s", spelled, value,
			       rtime_format_duration(o->max, bound, sizeof bound));
	*(int64_t *)o->field = ns;
	return 0;
}

static int parse_size(const struct cmdline_option *o, const char *spelled, const char *value,
		      struct err *e)
{
	/* The config file's reader of sizes, so both accept the same text. */
	struct conf_entry entry = {
		.file = spelled, .section = "", .name = "", .key = spelled, .value = value
	};
	uint64_t size;
	if (conf_size(&entry, &size, NULL) != 0)
		return err_set(e, -EINVAL, "%s '%s': expected a size such as 4096, 64KiB, 100MiB",
			       spelled, value);
	if ((o->min || o->max) && (size < (uint64_t)o->min || size > (uint64_t)o->max))
		return err_set(e, -EINVAL, "%s '%s': must be from %lld to %lld bytes", spelled,
			       value, (long long)o->min, (long long)o->max);
	*(uint64_t *)o->field = size;
	return 0;
}

/* Stores value into o's field; spelled is how the user wrote the option. */
static int apply(const struct cmdline_option *o, const char *spelled, const char *value,
		 struct err *e)
{
	switch (o->kind) {
	case CMDLINE_FLAG:
		if (o->field)
			*(bool *)o->field = true;
		return 0;
	case CMDLINE_STRING:
		*(const char **)o->field = value;
		return 0;
	case CMDLINE_DURATION:
		return parse_duration(o, spelled, value, e);
	case CMDLINE_SIZE:
		return parse_size(o, spelled, value, e);
	case CMDLINE_INT:
		return parse_int(o, spelled, value, e);
	}
	return err_set(e, -EINVAL, "%s: unknown kind of option", spelled);
}

/* A built-in flag's effect; CMDLINE_HELP or CMDLINE_VERSION_ASKED end the
 * parse at once, as the user asked for nothing else. */
static int builtin(const struct cmdline_option *o)
{
	if (o == &builtins[0]) {
		log_set_level(LOG_DEBUG);
		return 0;
	}
	return o == &builtins[1] ? CMDLINE_HELP : CMDLINE_VERSION_ASKED;
}

static bool is_builtin(const struct cmdline_option *o)
{
	return o >= builtins && o < builtins + sizeof builtins / sizeof builtins[0];
}

/* Reads the option at argv[*i] (and its value, maybe argv[*i + 1]),
 * advancing *i past what it used. */
static int parse_option(const struct cmdline *cl, int argc, char **argv, int *i, struct err *e)
{
	const char *word = argv[*i];
	char spelled[64];
	if (word[1] == '-') { /* --name or --name=value */
		const char *name = word + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct cmdline_option *o = find(cl, name, len, 0);
		snprintf(spelled, sizeof spelled, "--%.*s", (int)len, name);
		if (!o)
			return err_set(e, -EINVAL, "unknown option '%s'", spelled);
		(*i)++;
		if (o->kind == CMDLINE_FLAG) {
			if (eq)
				return err_set(e, -EINVAL, "option '%s' takes no value", spelled);
			return is_builtin(o) ? builtin(o) : apply(o, spelled, NULL, e);
		}
		if (!eq && *i >= argc)
			return err_set(e, -EINVAL, "option '%s' needs a value (%s)", spelled,
				       o->arg ? o->arg : "an argument");
		return apply(o, spelled, eq ? eq + 1 : argv[(*i)++], e);
	}
	/* -x, -xVALUE, -x VALUE or flags together: -rv */
	for (const char *p = word + 1; *p; p++) {
		const struct cmdline_option *o = find(cl, NULL, 0, *p);
		snprintf(spelled, sizeof spelled, "-%c", *p);
		if (!o)
			return err_set(e, -EINVAL, "unknown option '%s'", spelled);
		if (o->kind == CMDLINE_FLAG) {
			int rc = is_builtin(o) ? builtin(o) : apply(o, spelled, NULL, e);
			if (rc != 0)
				return rc;
			continue;
		}
		(*i)++;
		if (p[1])
			return apply(o, spelled, p + 1, e);
		if (*i >= argc)
			return err_set(e, -EINVAL, "option '%s' needs a value (%s)", spelled,
				       o->arg ? o->arg : "an argument");
		return apply(o, spelled, argv[(*i)++], e);
	}
	(*i)++;
	return 0;
}

int cmdline_parse(const struct cmdline *cl, int argc, char **argv, struct err *e)
{
	/* Where the operands are: argv is rearranged only once all is read. */
	int *operand = calloc((size_t)argc + 1, sizeof *operand);
	char **moved = calloc((size_t)argc + 1, sizeof *moved);
	int n = 0, rc = 0, i = 1;
	if (!operand || !moved) {
		rc = err_set(e, -ENOMEM, "out of memory reading the command line");
		goto out;
	}
	while (i < argc && rc == 0) {
		const char *word = argv[i];
		if (strcmp(word, "--") == 0 || (n == 0 && cl->commands && word[0] != '-')) {
			for (i += word[0] == '-'; i < argc; i++)
				operand[n++] = i;
		} else if (word[0] == '-' && word[1] != '\0') {
			rc = parse_option(cl, argc, argv, &i, e);
		} else {
			operand[n++] = i++;
		}
	}
	if (rc == 0 && n < cl->min_operands)
		rc = err_set(e, -EINVAL, "%s", n ? "too few operands" : "missing operand");
	if (rc == 0 && n > cl->max_operands)
		rc = err_set(e, -EINVAL, "unexpected argument '%s'",
			     argv[operand[cl->max_operands]]);
	if (rc != 0)
		goto out;
	/* Options first, operands last, as getopt leaves argv. */
	int kept = 0;
	for (int j = 1, k = 0; j < argc; j++)
		if (k < n && j == operand[k])
			k++;
		else
			moved[kept++] = argv[j];
	for (int k = 0; k < n; k++)
		moved[kept + k] = argv[operand[k]];
	memcpy(argv + 1, moved, (size_t)(argc - 1) * sizeof *moved);
	rc = kept + 1;
out:
	free(operand);
	free(moved);
	return rc;
}

/* The option's left column: "  -d, --data DIR". */
static int option_column(const struct cmdline_option *o, char *buf, size_t len)
{
	int n = o->letter ? snprintf(buf, len, "  -%c, --%s", o->letter, o->name)
			  : snprintf(buf, len, "      --%s", o->name);
	if (o->kind != CMDLINE_FLAG && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " %s", o->arg ? o->arg : "VALUE");
	return n;
}

static void print_options(const struct cmdline_option *options, int width, FILE *out)
{
	for (const struct cmdline_option *o = options; o && o->name; o++) {
		char left[96];
		option_column(o, left, sizeof left);
		const char *help = o->help ? o->help : "";
		for (bool first = true;; first = false) {
			const char *nl = strchr(help, '\n');
			int line = nl ? (int)(nl - help) : (int)strlen(help);
			fprintf(out, "%-*s  %.*s\n", width, first ? left : "", line, help);
			if (!nl)
				break;
			help = nl + 1;
		}
	}
}

void cmdline_usage(const struct cmdline *cl, FILE *out)
{
	int width = 0;
	const struct cmdline_option *tables[] = { cl->options, builtins };
	for (int t = 0; t < 2; t++)
		for (const struct cmdline_option *o = tables[t]; o && o->name; o++) {
			char left[96];
			int n = option_column(o, left, sizeof left);
			if (n > width)
				width = n;
		}
	fprintf(out, "usage: %s %s\n", cl->program, cl->synopsis ? cl->synopsis : "[OPTIONS]");
	if (cl->about)
		fprintf(out, "\n%s\n", cl->about);
	fprintf(out, "\noptions:\n");
	print_options(cl->options, width, out);
	print_options(builtins, width, out);
	if (cl->epilog)
		fprintf(out, "\n%s\n", cl->epilog);
}

int cmdline_main(const struct cmdline *cl, int argc, char **argv, int *first)
{
	struct err e = { 0 };
	int rc = cmdline_parse(cl, argc, argv, &e);
	if (rc == CMDLINE_HELP) {
		cmdline_usage(cl, stdout);
		return 0;
	}
	if (rc == CMDLINE_VERSION_ASKED) {
		printf("%s %s\n", cl->program, cl->version ? cl->version : CMDLINE_VERSION);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\nusage: %s %s ('%s --help' describes every option)\n",
			cl->program, e.msg, cl->program, cl->synopsis ? cl->synopsis : "[OPTIONS]",
			cl->program);
		return 2;
	}
	*first = rc;
	return -1;
}
