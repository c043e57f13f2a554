/* receiver.c - the [receiver NAME] sections of alertd.conf: one table of
 * settings saying which receiver types take which key, read one entry at
 * a time (receiver_apply) and checked as a whole at the section's end
 * (receiver_check).  The notifiers (notify*.c) read the result through
 * alertd/receiver_private.h.  A password or token never appears in a
 * message or a description. */
#include "alertd/receiver.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/receiver_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/url.h"

#define T(type)	  (1u << (type))
#define T_EMAIL	  T(RECEIVER_EMAIL)
#define T_WEBHOOK T(RECEIVER_WEBHOOK)
#define T_SMS	  T(RECEIVER_SMS)
#define T_PUSH	  T(RECEIVER_PUSH)
#define T_EXEC	  T(RECEIVER_EXEC)
#define T_MAILDIR T(RECEIVER_MAILDIR)
#define T_HTTP	  (T_WEBHOOK | T_SMS | T_PUSH)
#define T_ALL	  (T_EMAIL | T_HTTP | T_EXEC | T_MAILDIR)

enum key_kind {
	K_TYPE,
	K_STRING,
	K_SECRET, /* never shown */
	K_ADDRESS,
	K_MAILBOX, /* "Name <address>" or "address" */
	K_ADDRESSES,
	K_PHONES,
	K_PORT,
	K_BOOL,
	K_DURATION,
	K_TLS,
	K_RATE,
	K_PRIORITY,
	K_FORMAT,
	K_COMMAND,
	K_ENV,
	K_URL,
};

enum key_index {
	KEY_TYPE,
	KEY_RATE_LIMIT,
	KEY_GIVE_UP,
	KEY_SERVER,
	KEY_PORT,
	KEY_TLS,
	KEY_TLS_VERIFY,
	KEY_CA_FILE,
	KEY_USER,
	KEY_PASSWORD,
	KEY_FROM,
	KEY_TO,
	KEY_CC,
	KEY_SUBJECT,
	KEY_URL,
	KEY_TOKEN,
	KEY_SMS_TO,
	KEY_SMS_FROM,
	KEY_TOPIC,
	KEY_PRIORITY,
	KEY_FORMAT,
	KEY_TIMEOUT,
	KEY_COMMAND,
	KEY_ENV,
	KEY_PATH,
	KEY_COUNT
};

_Static_assert(KEY_COUNT == RECEIVER_KEYS, "receiver_private.h sizes line_of by the key table");

struct key {
	const char *name;
	enum key_kind kind;
	unsigned types;
};

/* In enum key_index's order. */
static const struct key keys[KEY_COUNT] = {
	[KEY_TYPE] = { "type", K_TYPE, T_ALL },
	[KEY_RATE_LIMIT] = { "rate_limit", K_RATE, T_ALL },
	[KEY_GIVE_UP] = { "give_up", K_DURATION, T_ALL },
	[KEY_SERVER] = { "server", K_STRING, T_EMAIL },
	[KEY_PORT] = { "port", K_PORT, T_EMAIL },
	[KEY_TLS] = { "tls", K_TLS, T_EMAIL },
	[KEY_TLS_VERIFY] = { "tls_verify", K_BOOL, T_EMAIL | T_HTTP },
	[KEY_CA_FILE] = { "ca_file", K_STRING, T_EMAIL | T_HTTP },
	[KEY_USER] = { "user", K_STRING, T_EMAIL | T_HTTP },
	[KEY_PASSWORD] = { "password", K_SECRET, T_EMAIL | T_HTTP },
	[KEY_FROM] = { "from", K_MAILBOX, T_EMAIL | T_MAILDIR },
	[KEY_TO] = { "to", K_ADDRESSES, T_EMAIL | T_MAILDIR },
	[KEY_CC] = { "cc", K_ADDRESSES, T_EMAIL | T_MAILDIR },
	[KEY_SUBJECT] = { "subject", K_STRING, T_EMAIL | T_MAILDIR },
	[KEY_URL] = { "url", K_URL, T_HTTP },
	[KEY_TOKEN] = { "token", K_SECRET, T_WEBHOOK | T_PUSH },
	[KEY_SMS_TO] = { "sms_to", K_PHONES, T_SMS },
	[KEY_SMS_FROM] = { "sms_from", K_STRING, T_SMS },
	[KEY_TOPIC] = { "topic", K_STRING, T_PUSH },
	[KEY_PRIORITY] = { "priority", K_PRIORITY, T_PUSH },
	[KEY_FORMAT] = { "format", K_FORMAT, T_PUSH },
	[KEY_TIMEOUT] = { "timeout", K_DURATION, T_EMAIL | T_HTTP | T_EXEC },
	[KEY_COMMAND] = { "command", K_COMMAND, T_EXEC },
	[KEY_ENV] = { "env", K_ENV, T_EXEC },
	[KEY_PATH] = { "path", K_STRING, T_MAILDIR },
};

static const char *const type_names[] = {
	[RECEIVER_EMAIL] = "email", [RECEIVER_WEBHOOK] = "webhook", [RECEIVER_SMS] = "sms",
	[RECEIVER_PUSH] = "push",   [RECEIVER_EXEC] = "exec",	    [RECEIVER_MAILDIR] = "maildir",
};
#define N_TYPES (sizeof type_names / sizeof type_names[0])

#define DEFAULT_GIVE_UP (RTIME_NS_PER_SEC * 3600)
#define DEFAULT_TIMEOUT (RTIME_NS_PER_SEC * 30)
#define DEFAULT_SUBJECT "{state} [{severity}] {summary}"
#define DEFAULT_FROM	"rmon@localhost"
#define DEFAULT_TO	"root@localhost"
#define MAX_LIST	64 /* recipients, numbers, arguments, variables */
#define MAX_TEXT	4096

const char *receiver_type_name(enum receiver_type type)
{
	return (unsigned)type < N_TYPES ? type_names[type] : "?";
}

static char *keep(struct receiver_private *p, const char *text, size_t len)
{
	char *copy;
	if (!grow_array(&p->kept, &p->kept_cap, p->n_kept + 1, sizeof *p->kept))
		return NULL;
	if (!(copy = malloc(len + 1)))
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return p->kept[p->n_kept++] = copy;
}

static int push_list(struct receiver_private *p, const char ***list, size_t *n, const char *text,
		     size_t len, const struct conf_entry *entry, struct err *e)
{
	char *copy;
	if (*n >= MAX_LIST)
		return conf_error(e, entry, "at most %d entries", MAX_LIST);
	/* One more than needed, so that a list is always NULL-terminated. */
	const char **grown = realloc(*list, (*n + 2) * sizeof *grown);
	if (!grown)
		return err_set(e, -ENOMEM, "%s:%d: out of memory", entry->file, entry->line);
	*list = grown;
	if (!(copy = keep(p, text, len)))
		return err_set(e, -ENOMEM, "%s:%d: out of memory", entry->file, entry->line);
	grown[(*n)++] = copy;
	grown[*n] = NULL;
	return 0;
}

int receiver_new(const struct conf_entry *entry, struct receiver **out, struct err *e)
{
	struct receiver *r = calloc(1, sizeof *r);
	struct receiver_private *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!r || !p) {
		free(r);
		free(p);
		return err_set(e, -ENOMEM, "%s:%d: out of memory", entry->file, entry->line);
	}
	r->priv = p;
	r->type = (enum receiver_type) - 1;
	r->line = entry->section_line ? entry->section_line : entry->line;
	r->give_up_ns = DEFAULT_GIVE_UP;
	p->tls = RECEIVER_TLS_STARTTLS;
	p->tls_verify = true;
	p->timeout_ns = DEFAULT_TIMEOUT;
	p->subject = DEFAULT_SUBJECT;
	if (!entry->name || !entry->name[0]) {
		receiver_free(r);
		return conf_error(e, entry, "a receiver needs a name: [receiver NAME]");
	}
	if (!(r->name = keep(p, entry->name, strlen(entry->name))) ||
	    !(r->file = keep(p, entry->file, strlen(entry->file))))
		goto nomem;
	*out = r;
	return 0;
nomem:
	receiver_free(r);
	return err_set(e, -ENOMEM, "%s:%d: out of memory", entry->file, entry->line);
}

void receiver_free(struct receiver *r)
{
	if (!r)
		return;
	struct receiver_private *p = r->priv;
	if (p) {
		for (size_t i = 0; i < p->n_kept; i++)
			free(p->kept[i]);
		free(p->kept);
		free(p->to);
		free(p->cc);
		free(p->sms_to);
		free(p->argv);
		free(p->env);
		free(p->given);
		free(p);
	}
	free(r);
}

/* ---- values ---- */

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A plain addr-spec as SMTP carries it: local@domain, printable ASCII,
 * none of the characters that would end it or start another. */
static bool address_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (!at || at == s || at == s + len - 1 || memchr(at + 1, '@', s + len - at - 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return false;
	}
	return true;
}

static const char *trim(const char *s, size_t *len)
{
	while (*len && isspace((unsigned char)*s))
		s++, (*len)--;
	while (*len && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

/* "a@x, b@y" or one address per line of the key: both build the list. */
static int apply_addresses(struct receiver_private *p, const char ***list, size_t *n,
			   const struct conf_entry *entry, struct err *e)
{
	const char *s = entry->value;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *word = trim(s, &len);
		if (!len)
			return conf_error(e, entry, "an empty address");
		if (!address_ok(word, len))
			return conf_error(e, entry, "'%.*s' is not an address like ops@example.com",
					  (int)len, word);
		int rc = push_list(p, list, n, word, len, entry, e);
		if (rc)
			return rc;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int apply_phones(struct receiver_private *p, const struct conf_entry *entry, struct err *e)
{
	const char *s = entry->value;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *word = trim(s, &len);
		size_t digits = 0;
		for (size_t i = 0; i < len; i++) {
			if (isdigit((unsigned char)word[i]))
				digits++;
			else if (!(i == 0 && word[i] == '+'))
				digits = 0, i = len;
		}
		if (!len || digits == 0 || digits + (word[0] == '+') != len)
			return conf_error(e, entry, "expected numbers like +15551234567");
		int rc = push_list(p, &p->sms_to, &p->n_sms_to, word, len, entry, e);
		if (rc)
			return rc;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* "Rusty Monitor <rmon@example.com>" or "rmon@example.com". */
static int apply_mailbox(struct receiver_private *p, const struct conf_entry *entry, struct err *e)
{
	const char *v = entry->value, *open = strchr(v, '<');
	size_t len;
	if (!open) {
		len = strlen(v);
		v = trim(v, &len);
		if (!address_ok(v, len))
			return conf_error(e, entry, "expected an address like rmon@example.com");
		return (p->from = keep(p, v, len)) ? 0 : -ENOMEM;
	}
	const char *close = strchr(open, '>');
	size_t name_len = (size_t)(open - v);
	const char *name = trim(v, &name_len);
	if (!close || close[1] || !address_ok(open + 1, (size_t)(close - open - 1)))
		return conf_error(e, entry, "expected Name <rmon@example.com> or an address");
	if (name_len >= 2 && name[0] == '"' && name[name_len - 1] == '"')
		name++, name_len -= 2;
	if (memchr(name, '"', name_len) || memchr(name, '\\', name_len))
		return conf_error(e, entry, "the display name may not hold '\"' or '\\'");
	if (!(p->from = keep(p, open + 1, (size_t)(close - open - 1))))
		return -ENOMEM;
	if (name_len && !(p->from_name = keep(p, name, name_len)))
		return -ENOMEM;
	return 0;
}

/* "10/1h": at most 10 messages an hour. */
static int apply_rate(struct receiver *r, const struct conf_entry *entry, struct err *e)
{
	const char *slash = strchr(entry->value, '/');
	char *end;
	int64_t window;
	struct err sub = { 0 };
	if (!slash || !isdigit((unsigned char)entry->value[0]))
		return conf_error(e, entry, "expected COUNT/DURATION, e.g. 10/1h");
	unsigned long long n = strtoull(entry->value, &end, 10);
	if (end != slash || n == 0 || n > UINT32_MAX)
		return conf_error(e, entry, "the count must be a whole number from 1 to %u",
				  UINT32_MAX);
	if (rtime_parse_duration(slash + 1, &window, &sub) != 0 || window < RTIME_NS_PER_SEC)
		return conf_error(e, entry, "expected a duration of at least 1s after '/'");
	r->rate_limit = (uint32_t)n;
	r->rate_window_ns = window;
	return 0;
}

/* Splits a command into words by the config file's quoting rules: blanks
 * separate words, a double-quoted part keeps its blanks, and inside it \"
 * and \\ stand for " and \.  No shell ever sees it. */
static int apply_command(struct receiver_private *p, const struct conf_entry *entry, struct err *e)
{
	const char *s = entry->value;
	size_t cap = strlen(s) + 1;
	char *word = malloc(cap);
	int rc = 0;
	if (!word)
		return -ENOMEM;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		size_t len = 0;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s != '"') {
				word[len++] = *s++;
				continue;
			}
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				word[len++] = *s;
			}
			if (!*s) {
				rc = conf_error(e, entry, "a quote is not closed");
				goto out;
			}
			s++;
		}
		const char **argv = (const char **)p->argv;
		if ((rc = push_list(p, &argv, &p->argc, word, len, entry, e)) != 0)
			goto out;
		p->argv = (char **)argv;
	}
	if (!p->argc)
		rc = conf_error(e, entry, "an empty command");
out:
	free(word);
	return rc;
}

static int apply_env(struct receiver_private *p, const struct conf_entry *entry, struct err *e)
{
	const char *v = entry->value, *eq = strchr(v, '=');
	if (!eq || eq == v)
		return conf_error(e, entry, "expected NAME=VALUE");
	for (const char *c = v; c < eq; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_') || isdigit((unsigned char)v[0]))
			return conf_error(e, entry, "a variable's name is letters, digits and _");
	return push_list(p, &p->env, &p->n_env, v, strlen(v), entry, e);
}

static int apply_url(struct receiver_private *p, const struct conf_entry *entry, struct err *e)
{
	struct url_parts u;
	if (!url_split(entry->value, &u))
		return conf_error(e, entry, "not a URL like https://example.com/path");
	if (!url_scheme_is(&u, "http") && !url_scheme_is(&u, "https"))
		return conf_error(e, entry, "the URL must start with http:// or https://");
	if (!(p->url = keep(p, entry->value, strlen(entry->value))))
		return -ENOMEM;
	return 0;
}

static int apply_kind(struct receiver *r, enum key_index k, const struct conf_entry *entry,
		      struct err *e)
{
	struct receiver_private *p = r->priv;
	const char *v = entry->value;
	int64_t n;
	int rc;
	switch (k) {
	case KEY_TYPE:
		for (size_t t = 0; t < N_TYPES; t++)
			if (strcmp(v, type_names[t]) == 0) {
				r->type = (enum receiver_type)t;
				return 0;
			}
		return conf_error(e, entry, "expected email, webhook, sms, push, exec or maildir");
	case KEY_RATE_LIMIT:
		return apply_rate(r, entry, e);
	case KEY_GIVE_UP:
		return conf_duration(entry, RTIME_NS_PER_SEC, &r->give_up_ns, e);
	case KEY_TIMEOUT:
		return conf_duration(entry, 100 * RTIME_NS_PER_MS, &p->timeout_ns, e);
	case KEY_PORT:
		if ((rc = conf_int(entry, 1, 65535, &n, e)) == 0)
			p->port = (int)n;
		return rc;
	case KEY_PRIORITY:
		if ((rc = conf_int(entry, 1, 5, &n, e)) == 0)
			p->priority = (int)n;
		return rc;
	case KEY_TLS:
		if (strcmp(v, "none") == 0)
			p->tls = RECEIVER_TLS_NONE;
		else if (strcmp(v, "starttls") == 0)
			p->tls = RECEIVER_TLS_STARTTLS;
		else if (strcmp(v, "implicit") == 0)
			p->tls = RECEIVER_TLS_IMPLICIT;
		else
			return conf_error(e, entry, "expected none, starttls or implicit");
		return 0;
	case KEY_FORMAT:
		if (strcmp(v, "ntfy") == 0)
			p->format = RECEIVER_PUSH_NTFY;
		else if (strcmp(v, "gotify") == 0)
			p->format = RECEIVER_PUSH_GOTIFY;
		else
			return conf_error(e, entry, "expected ntfy or gotify");
		return 0;
	case KEY_TLS_VERIFY:
		return conf_bool(entry, &p->tls_verify, e);
	case KEY_FROM:
		return apply_mailbox(p, entry, e);
	case KEY_TO:
		return apply_addresses(p, &p->to, &p->n_to, entry, e);
	case KEY_CC:
		return apply_addresses(p, &p->cc, &p->n_cc, entry, e);
	case KEY_SMS_TO:
		return apply_phones(p, entry, e);
	case KEY_URL:
		return apply_url(p, entry, e);
	case KEY_COMMAND:
		return apply_command(p, entry, e);
	case KEY_ENV:
		return apply_env(p, entry, e);
	default:
		break;
	}
	/* The plain strings. */
	const char **field = k == KEY_SERVER	 ? &p->server
			     : k == KEY_CA_FILE	 ? &p->ca_file
			     : k == KEY_USER	 ? &p->user
			     : k == KEY_PASSWORD ? &p->password
			     : k == KEY_SUBJECT	 ? &p->subject
			     : k == KEY_TOKEN	 ? &p->token
			     : k == KEY_SMS_FROM ? &p->sms_from
			     : k == KEY_TOPIC	 ? &p->topic
						 : &p->path;
	if (!(*field = keep(p, v, strlen(v))))
		return -ENOMEM;
	return 0;
}

static bool is_list(enum key_kind kind)
{
	return kind == K_ADDRESSES || kind == K_PHONES || kind == K_ENV;
}

/* An error that never repeats the value: for secrets. */
static int secret_error(struct err *e, const struct conf_entry *entry, const char *what)
{
	return err_set(e, -EINVAL, "%s:%d: receiver.%s: %s", entry->file, entry->line, entry->key,
		       what);
}

int receiver_apply(struct receiver *r, const struct conf_entry *entry, struct err *e)
{
	struct receiver_private *p = r->priv;
	size_t k;
	for (k = 0; k < KEY_COUNT; k++)
		if (strcmp(entry->key, keys[k].name) == 0)
			break;
	if (k == KEY_COUNT) {
		char list[512];
		size_t len = 0;
		list[0] = '\0';
		for (size_t i = 0; i < KEY_COUNT && len < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
						i ? ", " : "", keys[i].name);
		/* A misspelt secret's value must not show either. */
		if (strstr(entry->key, "pass") || strstr(entry->key, "token") ||
		    strstr(entry->key, "secret") || strstr(entry->key, "key"))
			return secret_error(e, entry, "unknown setting");
		return conf_error(e, entry, "unknown setting; a receiver takes %s", list);
	}
	const struct key *key = &keys[k];
	if (p->line_of[k] && !is_list(key->kind))
		return key->kind == K_SECRET
			   ? err_set(e, -EINVAL,
				     "%s:%d: receiver.%s: given twice (first at line %d)",
				     entry->file, entry->line, entry->key, p->line_of[k])
			   : conf_error(e, entry, "given twice (first at line %d)", p->line_of[k]);
	if (key->kind == K_SECRET) {
		if (!entry->value[0])
			return secret_error(e, entry, "must not be empty");
		if (has_control(entry->value))
			return secret_error(e, entry, "holds a control character");
	} else if (has_control(entry->value)) {
		return conf_error(e, entry, "holds a control character");
	}
	if (strlen(entry->value) > MAX_TEXT)
		return key->kind == K_SECRET
			   ? secret_error(e, entry, "longer than 4096 bytes")
			   : conf_error(e, entry, "longer than %d bytes", MAX_TEXT);
	int rc = apply_kind(r, (enum key_index)k, entry, e);
	if (rc == 0) {
		if (!grow_array(&p->given, &p->given_cap, p->n_given + 1, sizeof *p->given))
			rc = -ENOMEM;
		else if (!(p->given[p->n_given].value =
			       keep(p, entry->value, strlen(entry->value))))
			rc = -ENOMEM;
		else {
			p->given[p->n_given].key = keys[k].name;
			p->given[p->n_given++].line = entry->line;
		}
	}
	if (rc == -ENOMEM)
		return err_set(e, -ENOMEM, "%s:%d: out of memory", entry->file, entry->line);
	if (rc == 0)
		p->line_of[k] = entry->line;
	return rc;
}

int receiver_dup(const struct receiver *r, struct receiver **out, struct err *e)
{
	const struct receiver_private *p = r->priv;
	struct conf_entry entry = {
		.file = r->file,
		.line = r->line,
		.section = "receiver",
		.name = r->name,
		.section_line = r->line,
	};
	int rc = receiver_new(&entry, out, e);
	for (size_t i = 0; rc == 0 && i < p->n_given; i++) {
		entry.key = p->given[i].key;
		entry.value = p->given[i].value;
		entry.line = p->given[i].line;
		rc = receiver_apply(*out, &entry, e);
	}
	entry.key = entry.value = NULL;
	entry.line = r->line;
	if (rc == 0)
		rc = receiver_check(*out, &entry, e);
	if (rc != 0) {
		receiver_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- the section as a whole ---- */

static int section_error(struct err *e, const struct receiver *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int section_error(struct err *e, const struct receiver *r, int line, const char *fmt, ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(e, -EINVAL, "%s:%d: [receiver %s]: %s", r->file, line ? line : r->line,
		       r->name, what);
}

static bool loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

static int check_email(struct receiver *r, struct err *e)
{
	struct receiver_private *p = r->priv;
	if (!p->server)
		return section_error(e, r, 0, "an email receiver needs server = HOST");
	if (!p->from)
		return section_error(e, r, 0, "an email receiver needs from = ADDRESS");
	if (!p->n_to)
		return section_error(e, r, 0, "an email receiver needs to = ADDRESS");
	if (!p->port)
		p->port = p->tls == RECEIVER_TLS_NONE	    ? 25
			  : p->tls == RECEIVER_TLS_IMPLICIT ? 465
							    : 587;
	/* AUTH in clear text would hand the password to anyone on the path. */
	if (p->password && p->tls == RECEIVER_TLS_NONE && !loopback(p->server))
		return section_error(e, r, p->line_of[KEY_TLS],
				     "tls = none would send the password in clear to %s; use "
				     "starttls or implicit",
				     p->server);
	return 0;
}

static int check_http(struct receiver *r, struct err *e)
{
	struct receiver_private *p = r->priv;
	const char *t = receiver_type_name(r->type);
	if (!p->url)
		return section_error(e, r, 0, "a %s receiver needs url = https://...", t);
	if (r->type == RECEIVER_SMS) {
		if (!p->user || !p->password)
			return section_error(e, r, 0,
					     "an sms receiver needs user and password (the "
					     "gateway's account and key)");
		if (!p->n_sms_to)
			return section_error(e, r, 0, "an sms receiver needs sms_to = +NUMBER");
		if (!p->sms_from)
			return section_error(e, r, 0, "an sms receiver needs sms_from = +NUMBER");
	}
	if (r->type == RECEIVER_PUSH && p->format == RECEIVER_PUSH_GOTIFY && !p->token)
		return section_error(e, r, 0, "format = gotify needs token = (the app's token)");
	if (r->type == RECEIVER_PUSH && p->format == RECEIVER_PUSH_NTFY && !p->topic)
		return section_error(e, r, 0, "format = ntfy needs topic = NAME");
	if (p->token && p->password)
		return section_error(e, r, p->line_of[KEY_TOKEN],
				     "token and password both given: choose one");
	return 0;
}

int receiver_check(struct receiver *r, const struct conf_entry *section_end, struct err *e)
{
	struct receiver_private *p = r->priv;
	(void)section_end;
	if ((unsigned)r->type >= N_TYPES)
		return section_error(
		    e, r, 0, "type = email, webhook, sms, push, exec or maildir is missing");
	for (size_t k = 0; k < KEY_COUNT; k++)
		if (p->line_of[k] && !(keys[k].types & T(r->type)))
			return section_error(e, r, p->line_of[k],
					     "%s is not a setting of a %s receiver", keys[k].name,
					     receiver_type_name(r->type));
	if ((p->user != NULL) != (p->password != NULL) && r->type != RECEIVER_SMS)
		return section_error(e, r, p->line_of[p->user ? KEY_USER : KEY_PASSWORD],
				     "user and password go together");
	switch (r->type) {
	case RECEIVER_EMAIL:
		return check_email(r, e);
	case RECEIVER_WEBHOOK:
	case RECEIVER_SMS:
	case RECEIVER_PUSH:
		return check_http(r, e);
	case RECEIVER_EXEC:
		if (!p->argc)
			return section_error(e, r, 0,
					     "an exec receiver needs command = PROGRAM ARGS");
		return 0;
	case RECEIVER_MAILDIR:
		if (!p->path || !p->path[0])
			return section_error(e, r, 0,
					     "a maildir receiver needs path = FOLDER (under the "
					     "data folder unless absolute)");
		if (!p->from)
			p->from = DEFAULT_FROM;
		if (!p->n_to) {
			static const char *const root[] = { DEFAULT_TO, NULL };
			const char **list = malloc(sizeof root);
			if (!list)
				return -ENOMEM;
			memcpy(list, root, sizeof root);
			p->to = list;
			p->n_to = 1;
		}
		return 0;
	}
	return 0;
}

/* ---- describing ---- */

static size_t list_text(char *buf, size_t cap, const char *const *list, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + (len < cap ? len : cap), len < cap ? cap - len : 0,
					"%s%s", i ? ", " : "", list[i]);
	return len;
}

size_t receiver_describe(const struct receiver *r, char *buf, size_t cap)
{
	const struct receiver_private *p = r->priv;
	char list[512], origin[300], rate[64] = "", window[32];
	int len = 0;
	if (r->rate_limit)
		snprintf(rate, sizeof rate, ", at most %u per %s", r->rate_limit,
			 rtime_format_duration(r->rate_window_ns, window, sizeof window));
	switch (r->type) {
	case RECEIVER_EMAIL:
		list_text(list, sizeof list, p->to, p->n_to);
		len =
		    snprintf(buf, cap, "email to %s via %s:%d (%s%s%s)%s", list, p->server, p->port,
			     p->tls == RECEIVER_TLS_NONE       ? "no TLS"
			     : p->tls == RECEIVER_TLS_IMPLICIT ? "TLS"
							       : "STARTTLS",
			     p->user ? ", AUTH as " : "", p->user ? p->user : "", rate);
		break;
	case RECEIVER_WEBHOOK:
		url_origin(p->url, origin, sizeof origin);
		len = snprintf(buf, cap, "webhook: JSON POST to %s/...%s", origin, rate);
		break;
	case RECEIVER_SMS:
		url_origin(p->url, origin, sizeof origin);
		list_text(list, sizeof list, p->sms_to, p->n_sms_to);
		len = snprintf(buf, cap, "sms to %s from %s via %s/...%s", list, p->sms_from,
			       origin, rate);
		break;
	case RECEIVER_PUSH:
		url_origin(p->url, origin, sizeof origin);
		len =
		    snprintf(buf, cap, "push (%s)%s%s via %s/...%s",
			     p->format == RECEIVER_PUSH_GOTIFY ? "gotify" : "ntfy",
			     p->topic ? " to topic " : "", p->topic ? p->topic : "", origin, rate);
		break;
	case RECEIVER_EXEC:
		len = snprintf(buf, cap, "exec %s (%zu argument%s, no shell)%s", p->argv[0],
			       p->argc - 1, p->argc == 2 ? "" : "s", rate);
		break;
	case RECEIVER_MAILDIR:
		len = snprintf(buf, cap, "maildir %s%s%s", p->path[0] == '/' ? "" : "<data>/",
			       p->path, rate);
		break;
	}
	return len < 0 ? 0 : (size_t)len;
}
