/* receiver_private.h - a receiver's settings as alertd/receiver.c reads
 * them, for the notifiers of alertd/ only (notify*.c): nothing outside
 * this folder sees inside struct receiver_private.  Every string is owned
 * by the receiver and lives until receiver_free. */
#ifndef RMON_ALERTD_RECEIVER_PRIVATE_H
#define RMON_ALERTD_RECEIVER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum receiver_tls {
	RECEIVER_TLS_NONE,     /* plain SMTP: for a relay on this host */
	RECEIVER_TLS_STARTTLS, /* required: the session ends if the server does not offer it */
	RECEIVER_TLS_IMPLICIT, /* TLS from the first byte (port 465) */
};

enum receiver_push_format {
	RECEIVER_PUSH_NTFY,   /* POST the text to url/topic, Title and Priority headers */
	RECEIVER_PUSH_GOTIFY, /* POST JSON to url/message with an X-Gotify-Key */
};

#define RECEIVER_KEYS 25 /* the rows of receiver.c's table of settings */

struct receiver_private {
	/* email (and the headers of a maildir's messages) */
	const char *server;
	int port; /* 0 until checked: then the TLS mode's usual port */
	enum receiver_tls tls;
	bool tls_verify; /* check the server's certificate and name (default true) */
	const char *ca_file;
	const char *user, *password; /* AUTH (email) or basic auth (HTTP types) */
	const char *from_name;	     /* display name of From, may be NULL */
	const char *from;	     /* the address */
	const char **to, **cc;
	size_t n_to, n_cc;
	const char *subject; /* template (notify_mail.c expands it) */

	/* webhook, sms, push */
	const char *url;
	const char *token; /* Authorization: Bearer (webhook, ntfy) or X-Gotify-Key */
	const char **sms_to;
	size_t n_sms_to;
	const char *sms_from;
	const char *topic;
	int priority; /* push: 1 (min) .. 5 (max); 0: from the severity */
	enum receiver_push_format format;
	int64_t timeout_ns; /* one attempt of HTTP, SMTP or exec */

	/* exec */
	char **argv; /* NULL-terminated */
	size_t argc;
	const char **env; /* "NAME=VALUE" */
	size_t n_env;

	/* maildir: as written; relative to the data folder unless absolute */
	const char *path;

	/* where each setting was given (0: not given), for the checks of the
	 * section as a whole */
	int line_of[RECEIVER_KEYS];
	/* every setting as given, in order, so receiver_dup can read them
	 * again */
	struct receiver_given {
		const char *key, *value;
		int line;
	} * given;
	size_t n_given, given_cap;
	/* the strings above, owned */
	char **kept;
	size_t n_kept, kept_cap;
};

#endif
