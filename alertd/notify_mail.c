/* notify_mail.c - builds the email of a notice; see notify_mail.h.
 *
 * Every hostile string passes through clean() first: escape(ESCAPE_TEXT)
 * makes it valid, printable UTF-8 with its control characters shown as
 * \n, \x1b, ... so that no later step (header, text part, HTML part) ever
 * meets a raw CR or LF; the HTML part then escapes markup, the headers
 * encode non-ASCII as RFC 2047 words. */
#include "alertd/notify_mail.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alertd/receiver_private.h"
#include "alertd/textbuf.h"
#include "lib/escape.h"
#include "lib/rtime.h"

#define CLEAN_MAX 2048

/* snprintf for text that may be cut (long hostile values): a cut is fine. */
static void format_cut(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void format_cut(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* Shows s (may be NULL) as safe text, cut at a character boundary. */
static const char *clean(const char *s, char *buf, size_t cap)
{
	if (!s)
		s = "";
	escape(ESCAPE_TEXT, buf, cap, s, strlen(s));
	return buf;
}

static const char *kind_word(const struct notice *nt, const struct notice_alert *a)
{
	switch (nt->kind) {
	case NOTICE_RESOLVED:
		return "RESOLVED";
	case NOTICE_REPEAT:
		return "STILL FIRING";
	case NOTICE_ESCALATION:
		return "ESCALATED";
	case NOTICE_DIGEST:
		return "DIGEST";
	case NOTICE_FIRING:
		break;
	}
	return a && a->state == ALERT_RESOLVED ? "RESOLVED" : "FIRING";
}

static bool resolved(const struct notice *nt, const struct notice_alert *a)
{
	return nt->kind == NOTICE_RESOLVED || a->state == ALERT_RESOLVED;
}

static const char *fmt_value(double v, const char *unit, char *buf, size_t cap)
{
	static const char *const bytes[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (!unit)
		unit = "";
	if (isnan(v)) {
		snprintf(buf, cap, "no data");
	} else if (strcmp(unit, "percent") == 0) {
		snprintf(buf, cap, "%.1f %%", v);
	} else if (strcmp(unit, "bytes") == 0 || strcmp(unit, "bytes/s") == 0) {
		size_t i = 0;
		double x = v;
		while (fabs(x) >= 1024 && i + 1 < sizeof bytes / sizeof bytes[0])
			x /= 1024, i++;
		snprintf(buf, cap, "%.4g %s%s", x, bytes[i], unit[5] ? "/s" : "");
	} else if (strcmp(unit, "seconds") == 0) {
		snprintf(buf, cap, "%.4g s", v);
	} else if (strcmp(unit, "celsius") == 0) {
		snprintf(buf, cap,
			 "%.1f \xc2\xb0"
			 "C",
			 v);
	} else if (strcmp(unit, "/s") == 0) {
		snprintf(buf, cap, "%.4g/s", v);
	} else {
		snprintf(buf, cap, "%.6g", v);
	}
	return buf;
}

static const char *fmt_time(int64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / RTIME_NS_PER_SEC);
	struct tm tm;
	if (!ns || !localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, cap, "-");
	return buf;
}

static const char *fmt_age(int64_t ns, char *buf, size_t cap)
{
	/* Whole seconds: an age in ms reads as noise. */
	ns = ns / RTIME_NS_PER_SEC * RTIME_NS_PER_SEC;
	if (ns <= 0)
		snprintf(buf, cap, "0s");
	else
		rtime_format_duration(ns, buf, (int)cap);
	return buf;
}

/* ---- the subject ---- */

static size_t expand_subject(const struct notice *nt, const char *tmpl, char *buf, size_t cap)
{
	const struct notice_alert *a = nt->n_alerts ? &nt->alerts[0] : NULL;
	char v[64], extra[64] = "";
	struct textbuf b = { 0 };
	if (nt->n_alerts > 1)
		snprintf(extra, sizeof extra, " (and %zu more)", nt->n_alerts - 1);
	for (const char *p = tmpl; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (!close) {
			textbuf_put(&b, p, 1);
			p++;
			continue;
		}
		size_t len = (size_t)(close - p - 1);
		const char *name = p + 1, *val = NULL;
#define IS(word) (len == strlen(word) && memcmp(name, word, len) == 0)
		if (IS("state"))
			val = kind_word(nt, a);
		else if (IS("severity"))
			val = a ? a->severity : "";
		else if (IS("rule"))
			val = a ? a->rule : "";
		else if (IS("host"))
			val = a ? a->host : "";
		else if (IS("labels"))
			val = a ? a->labels : "";
		else if (IS("value"))
			val = a ? fmt_value(a->value, a->unit, v, sizeof v) : "";
		else if (IS("threshold"))
			val = a ? fmt_value(a->threshold, a->unit, v, sizeof v) : "";
		else if (IS("count"))
			snprintf(v, sizeof v, "%zu", nt->n_alerts), val = v;
		else if (IS("summary")) {
			if (a && a->summary && a->summary[0])
				textbuf_puts(&b, a->summary);
			else if (a)
				textbuf_printf(&b, "%s on %s", a->rule ? a->rule : "",
					       a->host ? a->host : "");
			textbuf_puts(&b, extra);
			val = "";
		}
#undef IS
		if (!val) { /* not a placeholder: as written */
			textbuf_put(&b, p, 1);
			p++;
			continue;
		}
		textbuf_puts(&b, val ? val : "");
		p = close + 1;
	}
	if (nt->kind == NOTICE_DIGEST)
		textbuf_printf(&b, " - %zu held back", nt->n_held);
	size_t n = b.failed ? 0 : b.len;
	if (cap)
		snprintf(buf, cap, "%s", b.p && !b.failed ? b.p : "");
	textbuf_free(&b);
	return n;
}

size_t notify_mail_subject(const struct notice *nt, char *buf, size_t cap)
{
	const char *tmpl = nt->receiver && nt->receiver->priv && nt->receiver->priv->subject
			       ? nt->receiver->priv->subject
			       : "{state} [{severity}] {summary}";
	return expand_subject(nt, tmpl, buf, cap);
}

/* ---- headers ---- */

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void base64(struct textbuf *b, const unsigned char *data, size_t len, bool lines)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[0] = digits[(v >> 18) & 63];
		out[1] = digits[(v >> 12) & 63];
		out[2] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
		out[3] = i + 2 < len ? digits[v & 63] : '=';
		textbuf_put(b, out, 4);
		if (lines && (i / 3 + 1) % 19 == 0) /* 76 characters a line */
			textbuf_puts(b, "\r\n");
	}
	if (lines && len && (len + 2) / 3 % 19)
		textbuf_puts(b, "\r\n");
}

/* Bytes of the UTF-8 character starting with lead byte c. */
static size_t char_len(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* "Name: value" with value (clean: no controls) folded at spaces when it
 * is ASCII, else as RFC 2047 "B" encoded words of whole characters, each
 * on its own folded line. */
static void header(struct textbuf *b, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	textbuf_printf(b, "%s: ", name);
	if (ascii(value)) {
		const char *p = value;
		while (*p) {
			const char *sp = strchr(p + 1, ' ');
			size_t word = sp ? (size_t)(sp - p) : strlen(p);
			if (col + word > 76 && col > strlen(name) + 2 && *p == ' ') {
				textbuf_puts(b, "\r\n");
				col = 0;
			}
			textbuf_put(b, p, word);
			col += word;
			p += word;
		}
		textbuf_puts(b, "\r\n");
		return;
	}
	const char *p = value;
	bool first = true;
	while (*p) {
		size_t n = 0;
		while (p[n] && n + char_len((unsigned char)p[n]) <= 39)
			n += char_len((unsigned char)p[n]);
		if (!n) /* cannot happen for clean text; stop rather than loop */
			break;
		textbuf_puts(b, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
		base64(b, (const unsigned char *)p, n, false);
		textbuf_puts(b, "?=");
		p += n;
		first = false;
	}
	textbuf_puts(b, "\r\n");
}

/* A Message-ID as given when it is one ("<left@right>", printable ASCII),
 * else one made from the notice id, so a hostile one cannot break the
 * header and the same notice always gets the same id. */
static void message_id(const char *id, uint64_t notice_id, char *buf, size_t cap)
{
	size_t len = id ? strlen(id) : 0;
	bool ok = len > 4 && len < 250 && id[0] == '<' && id[len - 1] == '>' && strchr(id, '@') &&
		  strchr(id + 1, '<') == NULL && strchr(id, '>') == id + len - 1;
	for (size_t i = 0; ok && i < len; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f)
			ok = false;
	if (ok)
		snprintf(buf, cap, "%s", id);
	else
		snprintf(buf, cap, "<notice.%llu@rmon.invalid>", (unsigned long long)notice_id);
}

static void date_header(struct textbuf *b, int64_t ns)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ns / RTIME_NS_PER_SEC);
	struct tm tm;
	gmtime_r(&t, &tm);
	/* English names whatever the locale: RFC 5322 wants them. */
	textbuf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
		       tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		       tm.tm_sec);
}

static void address_list(struct textbuf *b, const char *name, const char *const *list, size_t n)
{
	if (!n)
		return;
	textbuf_printf(b, "%s: ", name);
	for (size_t i = 0; i < n; i++)
		textbuf_printf(b, "%s%s", i ? ",\r\n " : "", list[i]);
	textbuf_puts(b, "\r\n");
}

/* ---- the parts ---- */

/* text (lines end in \n) as quoted-printable, lines at most 76. */
static void quoted_printable(struct textbuf *b, const char *text)
{
	size_t col = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			textbuf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		char enc[4];
		bool plain = (*p >= 33 && *p <= 126 && *p != '=') ||
			     (*p == ' ' && p[1] != '\n' && p[1] != '\0');
		/* A '.' opening a line is left to SMTP's dot-stuffing, but some
		 * relays mangle it: encoding it costs nothing. */
		if (*p == '.' && col == 0)
			plain = false;
		size_t w = plain ? 1 : 3;
		if (col + w > 75) {
			textbuf_puts(b, "=\r\n");
			col = 0;
		}
		if (plain)
			textbuf_put(b, (const char *)p, 1);
		else {
			snprintf(enc, sizeof enc, "=%02X", *p);
			textbuf_put(b, enc, 3);
		}
		col += w;
	}
	textbuf_puts(b, "\r\n");
}

static void html_escape(struct textbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			textbuf_puts(b, "&lt;");
			break;
		case '>':
			textbuf_puts(b, "&gt;");
			break;
		case '&':
			textbuf_puts(b, "&amp;");
			break;
		case '"':
			textbuf_puts(b, "&quot;");
			break;
		case '\'':
			textbuf_puts(b, "&#39;");
			break;
		default:
			textbuf_put(b, s, 1);
		}
	}
}

/* Multi-line text (a description): each line cleaned on its own, so its
 * line breaks stay breaks and nothing else gets through. */
static void each_line(const char *text, void (*fn)(void *ctx, const char *line), void *ctx)
{
	char line[CLEAN_MAX], safe[CLEAN_MAX];
	for (const char *p = text ? text : ""; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		fn(ctx, clean(line, safe, sizeof safe));
		p = nl ? nl + 1 : p + strlen(p);
	}
}

static void text_line(void *ctx, const char *line)
{
	textbuf_printf(ctx, "%s\n", line);
}

static void html_line(void *ctx, const char *line)
{
	html_escape(ctx, line);
	textbuf_puts(ctx, "<br>\n");
}

struct facts {
	char value[64], threshold[64], since[64], age[32], at[64], took[32];
	char rule[CLEAN_MAX], host[CLEAN_MAX], labels[CLEAN_MAX], summary[CLEAN_MAX];
	char detail[CLEAN_MAX], severity[64];
};

static void gather(const struct notice *nt, const struct notice_alert *a, struct facts *f)
{
	int64_t now = nt->created ? nt->created : rtime_now_ns();
	fmt_value(a->value, a->unit, f->value, sizeof f->value);
	fmt_value(a->threshold, a->unit, f->threshold, sizeof f->threshold);
	fmt_time(a->since, f->since, sizeof f->since);
	fmt_age(now - a->since, f->age, sizeof f->age);
	fmt_time(a->at, f->at, sizeof f->at);
	fmt_age(a->at - a->since, f->took, sizeof f->took);
	clean(a->rule, f->rule, sizeof f->rule);
	clean(a->host, f->host, sizeof f->host);
	clean(a->labels, f->labels, sizeof f->labels);
	clean(a->detail, f->detail, sizeof f->detail);
	clean(a->severity, f->severity, sizeof f->severity);
	if (a->summary && a->summary[0])
		clean(a->summary, f->summary, sizeof f->summary);
	else
		format_cut(f->summary, sizeof f->summary, "%s on %s", f->rule, f->host);
}

/* A link is shown only when it is a web address: the config gave its
 * base, but a page of ours must never carry a javascript: URL. */
static const char *web_link(const char *link)
{
	if (link && (strncmp(link, "https://", 8) == 0 || strncmp(link, "http://", 7) == 0))
		return link;
	return NULL;
}

static void digest_intro(const struct notice *nt, struct textbuf *b)
{
	textbuf_printf(b,
		       "The rate limit of this receiver held back %zu message%s. The alerts "
		       "they were about, as they stand now:",
		       nt->n_held, nt->n_held == 1 ? "" : "s");
}

char *notify_mail_text(const struct notice *nt)
{
	struct textbuf b = { 0 };
	struct facts *f = malloc(sizeof *f);
	char link[CLEAN_MAX];
	if (!f)
		return NULL;
	if (nt->kind == NOTICE_DIGEST) {
		digest_intro(nt, &b);
		textbuf_puts(&b, "\n\n");
	}
	for (size_t i = 0; i < nt->n_alerts; i++) {
		const struct notice_alert *a = &nt->alerts[i];
		gather(nt, a, f);
		textbuf_printf(&b, "%s%s: %s\n", i ? "\n" : "", kind_word(nt, a), f->summary);
		textbuf_printf(&b, "  Rule       %s (%s)\n", f->rule, f->severity);
		textbuf_printf(&b, "  Host       %s\n", f->host);
		if (f->labels[0])
			textbuf_printf(&b, "  Labels     %s\n", f->labels);
		if (!isnan(a->value) && !isnan(a->threshold))
			textbuf_printf(&b, "  Value      %s (threshold %s)\n", f->value,
				       f->threshold);
		else if (!isnan(a->value))
			textbuf_printf(&b, "  Value      %s\n", f->value);
		if (f->detail[0])
			textbuf_printf(&b, "  Detail     %s\n", f->detail);
		textbuf_printf(&b, "  Since      %s (%s ago)\n", f->since, f->age);
		if (resolved(nt, a))
			textbuf_printf(&b, "  Resolved   %s, after %s\n", f->at, f->took);
		if (a->description && a->description[0]) {
			textbuf_puts(&b, "\n");
			each_line(a->description, text_line, &b);
		}
		if (web_link(a->link))
			textbuf_printf(&b, "\nGraphs and history: %s\n",
				       clean(a->link, link, sizeof link));
	}
	free(f);
	return textbuf_take(&b, NULL);
}

#define C_FIRING   "#b3261e"
#define C_RESOLVED "#1e7d32"
#define C_OTHER	   "#8a5a00"
#define FONT	   "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"

static void html_row(struct textbuf *b, const char *name, const char *value)
{
	textbuf_printf(b,
		       "<tr><td style=\"padding:3px 12px 3px 0;color:#57606a;white-space:nowrap;"
		       "vertical-align:top\" class=\"muted\">%s</td><td style=\"padding:3px 0;"
		       "word-break:break-word\">",
		       name);
	html_escape(b, value);
	textbuf_puts(b, "</td></tr>\n");
}

static void html_part(const struct notice *nt, const char *subject, const char *cid,
		      const struct mail_graph *graph, struct textbuf *b)
{
	const struct notice_alert *first = nt->n_alerts ? &nt->alerts[0] : NULL;
	const char *colour = !first			 ? C_OTHER
			     : resolved(nt, first)	 ? C_RESOLVED
			     : nt->kind == NOTICE_DIGEST ? C_OTHER
							 : C_FIRING;
	struct facts *f = malloc(sizeof *f);
	char name[CLEAN_MAX];
	if (!f) {
		b->failed = true;
		return;
	}
	textbuf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
			"<meta name=\"color-scheme\" content=\"light dark\">\n"
			"<meta name=\"supported-color-schemes\" content=\"light dark\">\n<title>");
	html_escape(b, subject);
	/* Inline styles do the work everywhere; this block only darkens the
	 * page in clients that honour prefers-color-scheme. */
	textbuf_puts(b, "</title>\n<style>\n@media (prefers-color-scheme: dark) {\n"
			" .page { background:#101214 !important; }\n"
			" .card { background:#1c1f23 !important; color:#e6e6e6 !important; }\n"
			" .muted { color:#9aa4ad !important; }\n"
			" .link { color:#8ab4f8 !important; }\n}\n</style></head>\n");
	textbuf_printf(b,
		       "<body style=\"margin:0;padding:0;background:#f2f3f5\" class=\"page\">\n"
		       "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" "
		       "cellspacing=\"0\" style=\"background:#f2f3f5\" class=\"page\"><tr>"
		       "<td align=\"center\" style=\"padding:16px 8px\">\n"
		       "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" "
		       "cellspacing=\"0\" style=\"max-width:640px;background:#ffffff;"
		       "border-radius:6px;%s;color:#1f2328;font-size:15px;line-height:1.45\" "
		       "class=\"card\">\n",
		       FONT);
	textbuf_printf(b,
		       "<tr><td style=\"background:%s;color:#ffffff;padding:12px 16px;"
		       "font-weight:600;font-size:15px;border-radius:6px 6px 0 0\">",
		       colour);
	if (nt->kind == NOTICE_DIGEST)
		textbuf_printf(b, "DIGEST &middot; %zu held back", nt->n_held);
	else if (first)
		textbuf_printf(b, "%s &middot; %s", kind_word(nt, first),
			       clean(first->severity, name, sizeof name));
	textbuf_puts(b, "</td></tr>\n");
	if (nt->kind == NOTICE_DIGEST) {
		textbuf_puts(b, "<tr><td style=\"padding:16px 16px 0\">");
		digest_intro(nt, b);
		textbuf_puts(b, "</td></tr>\n");
	}
	for (size_t i = 0; i < nt->n_alerts; i++) {
		const struct notice_alert *a = &nt->alerts[i];
		gather(nt, a, f);
		textbuf_printf(b, "<tr><td style=\"padding:16px 16px 8px;%s\">\n",
			       i ? "border-top:1px solid #d0d7de" : "");
		if (nt->n_alerts > 1)
			textbuf_printf(b,
				       "<div style=\"font-size:12px;font-weight:600;color:%s\">"
				       "%s</div>\n",
				       resolved(nt, a) ? C_RESOLVED : C_FIRING, kind_word(nt, a));
		textbuf_puts(b, "<div style=\"font-size:18px;font-weight:600;margin:0 0 4px\">");
		html_escape(b, f->summary);
		textbuf_puts(b, "</div>\n<table role=\"presentation\" cellpadding=\"0\" "
				"cellspacing=\"0\" style=\"border-collapse:collapse;font-size:14px;"
				"margin-top:6px\">\n");
		html_row(b, "Host", f->host);
		format_cut(name, sizeof name, "%s (%s)", f->rule, f->severity);
		html_row(b, "Rule", name);
		if (f->labels[0])
			html_row(b, "Labels", f->labels);
		if (!isnan(a->value)) {
			if (isnan(a->threshold))
				format_cut(name, sizeof name, "%s", f->value);
			else
				format_cut(name, sizeof name, "%s (threshold %s)", f->value,
					   f->threshold);
			html_row(b, "Value", name);
		}
		if (f->detail[0])
			html_row(b, "Detail", f->detail);
		format_cut(name, sizeof name, "%s (%s ago)", f->since, f->age);
		html_row(b, "Since", name);
		if (resolved(nt, a)) {
			format_cut(name, sizeof name, "%s, after %s", f->at, f->took);
			html_row(b, "Resolved", name);
		}
		textbuf_puts(b, "</table>\n");
		if (a->description && a->description[0]) {
			textbuf_puts(b, "<p style=\"margin:10px 0 0\">");
			each_line(a->description, html_line, b);
			textbuf_puts(b, "</p>\n");
		}
		textbuf_puts(b, "</td></tr>\n");
		if (i == 0 && graph && cid) {
			textbuf_printf(b,
				       "<tr><td style=\"padding:4px 16px 8px\"><img src=\"cid:%s\" "
				       "width=\"600\" alt=\"",
				       cid);
			html_escape(b, clean(graph->alt, name, sizeof name));
			textbuf_puts(b, "\" style=\"display:block;width:100%;max-width:600px;"
					"height:auto;border:0;border-radius:4px\"></td></tr>\n");
		}
		const char *link = web_link(a->link);
		if (link) {
			textbuf_puts(b, "<tr><td style=\"padding:4px 16px 16px\"><a href=\"");
			html_escape(b, clean(link, name, sizeof name));
			textbuf_puts(b, "\" class=\"link\" style=\"color:#0b57d0;font-weight:600;"
					"text-decoration:none\">Graphs and history &rarr;</a>"
					"</td></tr>\n");
		}
	}
	textbuf_puts(b, "<tr><td style=\"padding:12px 16px;font-size:12px;color:#57606a;"
			"border-top:1px solid #d0d7de\" class=\"muted\">Sent by Rusty Monitor "
			"to receiver ");
	html_escape(b, clean(nt->receiver ? nt->receiver->name : "", name, sizeof name));
	textbuf_puts(b, ".</td></tr>\n</table>\n</td></tr></table>\n</body></html>\n");
	free(f);
}

int notify_mail_build(const struct notice *nt, const struct mail_graph *graph, char **out,
		      size_t *len, struct err *e)
{
	const struct receiver *r = nt->receiver;
	const struct receiver_private *p = r ? r->priv : NULL;
	struct textbuf b = { 0 }, html = { 0 };
	char subject[CLEAN_MAX], safe[CLEAN_MAX], id[256], cid[96], boundary[64], inner[64];
	char from[CLEAN_MAX], *text = NULL;
	*out = NULL;
	if (!p || (r->type != RECEIVER_EMAIL && r->type != RECEIVER_MAILDIR))
		return err_set(e, -EINVAL, "receiver %s is not an email or maildir receiver",
			       r ? r->name : "(none)");
	if (graph && !graph->len)
		graph = NULL;

	notify_mail_subject(nt, subject, sizeof subject);
	clean(subject, safe, sizeof safe);
	message_id(nt->message_id, nt->id, id, sizeof id);
	/* "=_" never occurs in quoted-printable or base64 text. */
	snprintf(boundary, sizeof boundary, "=_rmon_rel_%llx", (unsigned long long)nt->id);
	snprintf(inner, sizeof inner, "=_rmon_alt_%llx", (unsigned long long)nt->id);
	snprintf(cid, sizeof cid, "graph.%llu@rmon", (unsigned long long)nt->id);

	date_header(&b, nt->created ? nt->created : rtime_now_ns());
	clean(p->from_name ? p->from_name : "Rusty Monitor", from, sizeof from);
	if (ascii(from)) /* a quoted display name: no "," or "<" can split it */
		textbuf_printf(&b, "From: \"%s\" <%s>\r\n", from, p->from);
	else {
		/* An encoded word is one atom: header() writes it, the address
		 * follows on the same logical line. */
		struct textbuf name = { 0 };
		header(&name, "From", from);
		if (name.p && name.len >= 2)
			name.len -= 2; /* the CRLF */
		textbuf_put(&b, name.p ? name.p : "", name.len);
		textbuf_printf(&b, " <%s>\r\n", p->from);
		b.failed |= name.failed;
		textbuf_free(&name);
	}
	address_list(&b, "To", (const char *const *)p->to, p->n_to);
	address_list(&b, "Cc", (const char *const *)p->cc, p->n_cc);
	header(&b, "Subject", safe);
	textbuf_printf(&b, "Message-ID: %s\r\n", id);
	if (nt->thread_id) {
		char parent[256];
		message_id(nt->thread_id, 0, parent, sizeof parent);
		if (strcmp(parent, "<notice.0@rmon.invalid>") != 0)
			textbuf_printf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", parent, parent);
	}
	/* RFC 3834: vacation responders must not answer us. */
	textbuf_puts(&b, "Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n"
			 "MIME-Version: 1.0\r\n");
	if (graph)
		textbuf_printf(
		    &b,
		    "Content-Type: multipart/related; type=\"multipart/alternative\";\r\n"
		    " boundary=\"%s\"\r\n\r\nThis is a message in MIME format.\r\n\r\n"
		    "--%s\r\n",
		    boundary, boundary);
	textbuf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", inner);
	if (!graph)
		textbuf_puts(&b, "This is a message in MIME format.\r\n\r\n");

	if (!(text = notify_mail_text(nt)))
		goto nomem;
	textbuf_printf(&b,
		       "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		       inner);
	quoted_printable(&b, text);
	html_part(nt, safe, graph ? cid : NULL, graph, &html);
	if (html.failed)
		goto nomem;
	textbuf_printf(&b,
		       "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		       inner);
	quoted_printable(&b, html.p);
	textbuf_printf(&b, "--%s--\r\n", inner);
	if (graph) {
		textbuf_printf(&b,
			       "\r\n--%s\r\nContent-Type: image/png; name=\"graph.png\"\r\n"
			       "Content-Transfer-Encoding: base64\r\nContent-ID: <%s>\r\n"
			       "Content-Disposition: inline; filename=\"graph.png\"\r\n\r\n",
			       boundary, cid);
		base64(&b, graph->png, graph->len, true);
		textbuf_printf(&b, "--%s--\r\n", boundary);
	}
	free(text);
	textbuf_free(&html);
	if (!(*out = textbuf_take(&b, len)))
		return err_set(e, -ENOMEM, "out of memory building a mail");
	return 0;
nomem:
	free(text);
	textbuf_free(&html);
	textbuf_free(&b);
	return err_set(e, -ENOMEM, "out of memory building a mail");
}
