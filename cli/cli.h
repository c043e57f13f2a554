/* cli.h - the subcommands of `rmon`, the command a person types, and the
 * little they share.  Each subcommand lives in cli/cmd_NAME.c and receives
 * argv with its own name first; it returns the exit status: 0 ok, 1 runtime
 * failure, 2 bad usage. */
#ifndef RMON_CLI_H
#define RMON_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alertd/alerts.h"
#include "store/query.h"

#define CLI_DEFAULT_DATA "var"
#define CLI_VERSION	 "0.1.0"

int cmd_alerts(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_receivers(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_series(int argc, char **argv);
int cmd_silence(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* Opens the store of data for reading, printing the error for the person
 * (prefixed by the command's name) on failure.  Returns NULL then. */
struct query *cli_open_store(const char *command, const char *data);

/* Writes ts (ns since the epoch) as RFC 3339 UTC with milliseconds. */
void cli_format_time(int64_t ts, char *buf, size_t len);

/* Writes the shortest text that reads back as the same double. */
void cli_format_value(double value, char *buf, size_t len);

/* Writes s (len bytes) as a JSON string, quotes included: always valid
 * UTF-8 and valid JSON, whatever the bytes (lib/escape.h). */
void cli_json_string(FILE *out, const char *s, size_t len);

/* Tells the person, on stderr, how many stored names the last listing of q
 * skipped for breaking the name rules (nothing when none). */
void cli_report_bad_names(const char *command, const struct query *q);

/* Opens alertd's store (alertd/alerts.h) of data, printing the error
 * (prefixed by the command's name) on failure.  Returns NULL then. */
struct alert_store *cli_open_alerts(const char *command, const char *data);

/* The person at the keyboard: the login name, else the user's name. */
const char *cli_who(void);

#endif
