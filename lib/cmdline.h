/* cmdline.h - the command line of every Rusty Monitor program, read from
 * one table of options.
 *
 * A program describes its options once, as an array of struct
 * cmdline_option ended by an all-zero entry, and its main begins with
 *
 *     int first, status;
 *     if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
 *             return status;
 *
 * The table gives the usage that --help prints, so the two never disagree,
 * and every program shares the conventions of docs/architecture.md:
 * --help (-h) and --version (-V) print to stdout and exit 0, -v/--verbose
 * logs debug lines, bad usage prints one line naming the option and exits 2.
 * Operands may sit before, between or after options ("rmon query SEL
 * --data DIR"); "--" ends the options. */
#ifndef RMON_CMDLINE_H
#define RMON_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

#define CMDLINE_VERSION "0.1.0" /* the release every program reports */

/* What an option takes, and so the type its field points to. */
enum cmdline_kind {
	CMDLINE_FLAG,	  /* no value: sets bool *field to true */
	CMDLINE_STRING,	  /* const char **field = the argument, kept in argv */
	CMDLINE_DURATION, /* int64_t *field in ns, read by rtime_parse_duration ("10s") */
	CMDLINE_SIZE,	  /* uint64_t *field in bytes ("64KiB", "100MiB", "4096") */
	CMDLINE_INT,	  /* int64_t *field, a decimal whole number */
};

struct cmdline_option {
	const char *name; /* the long name without "--"; NULL ends the table */
	char letter;	  /* the short letter, or 0 for none */
	enum cmdline_kind kind;
	void *field;	  /* where the value goes; see enum cmdline_kind */
	const char *arg;  /* the value's placeholder in the usage ("DIR"), or NULL */
	const char *help; /* one line or more ('\n' between them) */
	/* Bounds of DURATION (ns), SIZE and INT values, both inclusive; when
	 * both are 0 the value is bounded by its type only (DURATION: > 0). */
	int64_t min, max;
};

/* The options every program spells alike. */
#define CMDLINE_DATA(field)                                                                        \
	{                                                                                          \
		"data", 'd', CMDLINE_STRING, (field), "DIR",                                       \
		    "the data folder: ring name, WAL, LMDB environments, spool", 0, 0              \
	}
#define CMDLINE_CONFIG(field)                                                                      \
	{                                                                                          \
		"config", 'c', CMDLINE_STRING, (field), "FILE", "read settings from FILE", 0, 0    \
	}

struct cmdline {
	const char *program;  /* as printed: "rmon-stored", "rmon query" */
	const char *version;  /* NULL: CMDLINE_VERSION */
	const char *synopsis; /* after the program name in the usage line, e.g.
			       * "SELECTOR [OPTIONS]"; NULL: "[OPTIONS]" */
	const char *about;    /* the paragraph under the usage line, or NULL */
	const struct cmdline_option *options;
	const char *epilog;		/* printed after the options, or NULL */
	int min_operands, max_operands; /* how many operands it takes */
	bool commands;			/* the first operand is a command: it and all after it
					 * are operands (the command's own options) */
};

/* What cmdline_parse found when it is not a list of operands. */
#define CMDLINE_HELP	      (-10000) /* --help or -h */
#define CMDLINE_VERSION_ASKED (-10001) /* --version or -V */

/* Reads argv[1..argc-1] into the options' fields, moving the operands
 * (in their order) to the end of argv.  Returns the index of the first
 * operand (argc when there is none), CMDLINE_HELP, CMDLINE_VERSION_ASKED,
 * or -EINVAL with e saying which option or operand is wrong and why
 * ("--interval '5ms': must be at least 100ms").  Fields of options that
 * do not appear keep their values: initialise them with the defaults.
 * -v/--verbose sets the log level to debug (lib/log.h). */
int cmdline_parse(const struct cmdline *cl, int argc, char **argv, struct err *e);

/* Writes the usage: the usage line, the about paragraph, each option with
 * its help, then the epilog. */
void cmdline_usage(const struct cmdline *cl, FILE *out);

/* cmdline_parse for a program's main: returns -1 to go on, with *first
 * the index of the first operand; otherwise the exit status after it has
 * printed what was asked (usage or version on stdout: 0) or the error
 * and how to get help on stderr (2). */
int cmdline_main(const struct cmdline *cl, int argc, char **argv, int *first);

#endif
