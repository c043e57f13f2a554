/* cli.h - the subcommands of `rmon`, the command a person types.  Each
 * lives in its own file (cli/cmd_NAME.c) and receives argv with its own
 * name first; it returns the exit status: 0 ok, 1 runtime failure, 2 bad
 * usage. */
#ifndef RMON_CLI_H
#define RMON_CLI_H

#define CLI_DEFAULT_DATA "var"
#define CLI_VERSION	 "0.1.0"

int cmd_demo(int argc, char **argv);

#endif
