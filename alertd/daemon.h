/* daemon.h - rmon-alertd's work on its event loop: follows the store's
 * commits (alertd/follow.h), evaluates the rules on one snapshot a pass
 * (alertd/eval.h), records every move in alertd's store (alertd/alerts.h),
 * routes the alerts to receivers (alertd/route.h), logs each message
 * before it is sent (alertd/notelog.h) and hands it to the notifier
 * (alertd/notify.h), and writes its own figures into the ring
 * (alertd/selfstat.h).  At start-up it takes up where the last run
 * stopped: the alerts' states, what each receiver was told, and the
 * messages still owed, sent again with their Message-IDs. */
#ifndef RMON_ALERTD_DAEMON_H
#define RMON_ALERTD_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"

struct alertd_options {
	const char *config_path; /* NULL: the embedded default (alert_config_default) */
	const char *data_dir;
	int64_t self_interval_ns; /* how often its own figures are written; 0: 10 s */
};

struct alertd;

/* Reads the configuration, opens alertd's store (creating it), restores
 * the last run's state, re-sends what is owed and starts following the
 * store.  Errors: the configuration's (-EINVAL "file:line: ...",
 * -ENOENT), the store's. */
int alertd_new(struct evloop *loop, const struct alertd_options *o, struct alertd **out,
	       struct err *e);

/* Reads the configuration again; on an error the old one stays in force
 * and the error is returned. */
int alertd_reload(struct alertd *d, struct err *e);

/* Stops following and delivering (what is in flight stays owed) and frees
 * d; d may be NULL. */
void alertd_free(struct alertd *d);

#endif
