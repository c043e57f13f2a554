/* paths.h - where Rusty Monitor keeps its files when no option says: the
 * configuration folder and the data folder, the same for every program.
 *
 * An installed build (python3 configure.py --prefix=DIR) is compiled with
 * RMON_CONFIG_DIR and RMON_DATA_DIR defined, by default /etc/rmon and
 * /var/lib/rmon, so rmon-collectd, rmon-stored, rmon-alertd,
 * rmon-reportgen and rmon all find one data folder (and with it one ring,
 * one WAL, one LMDB store) without flags, whatever folder they start in.
 * A build-tree build keeps "var", relative to the current folder, and has
 * no configuration folder: programs run on their documented defaults.
 *
 * The environment variable RMON_DATA, when set and not empty, overrides
 * the compiled-in data folder for every program alike (a shell, a
 * container); --data overrides both. */
#ifndef RMON_PATHS_H
#define RMON_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#ifndef RMON_DATA_DIR
#define RMON_DATA_DIR "var" /* a build-tree build */
#endif
#ifndef RMON_CONFIG_DIR
#define RMON_CONFIG_DIR "" /* a build-tree build: no configuration folder */
#endif

#define PATHS_DATA_ENV "RMON_DATA"

/* The compiled-in folders, as string literals, for usage texts:
 * "(default " PATHS_DATA_DIR ")". */
#define PATHS_DATA_DIR	 RMON_DATA_DIR
#define PATHS_CONFIG_DIR RMON_CONFIG_DIR

/* True in an installed build (a configuration folder was compiled in). */
bool paths_installed(void);

/* The data folder of a program given no --data: $RMON_DATA when it is set
 * and not empty, else PATHS_DATA_DIR.  The string is static (or the
 * environment's) and lives as long as the process. */
const char *paths_data(void);

/* True when data is the folder paths_data() chose, so a program can tell
 * "no --data given" from "--data var". */
bool paths_is_default_data(const char *data);

/* Where a program reads its configuration when given no --config: the
 * file PATHS_CONFIG_DIR/name ("collectd.conf") in an installed build when
 * it exists; NULL otherwise (no file: the documented defaults).  The
 * string returned is the caller's to free. */
char *paths_config(const char *name);

/* Writes into buf (len bytes) the absolute form of the folder data, for
 * messages: "/home/ann/var" for "var" started in /home/ann.  Returns buf;
 * a path that does not fit is written as given. */
char *paths_absolute(const char *data, char *buf, size_t len);

#endif
