/* html.c - pages built in memory with their text escaped, and the one
 * stylesheet every page carries inline (see html.h). */
#include "reportgen/html.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/grow.h"
#include "lib/utf8.h"

static void append(struct html *h, const char *s, size_t len)
{
	if (h->failed)
		return;
	if (!grow_bytes(&h->buf, &h->cap, h->len + len + 1, 16384)) {
		h->failed = true;
		return;
	}
	memcpy(h->buf + h->len, s, len);
	h->len += len;
	h->buf[h->len] = '\0';
}

void html_raw(struct html *h, const char *markup)
{
	append(h, markup, strlen(markup));
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		append(h, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		h->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	append(h, big, (size_t)n);
	free(big);
}

void html_textn(struct html *h, const char *s, size_t len)
{
	size_t i = 0, plain = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		const char *rep = NULL;
		if (n == 0 || utf8_unsafe(cp)) {
			rep = "\xef\xbf\xbd"; /* U+FFFD: the byte or control is not shown raw */
			if (n == 0)
				n = 1;
		} else if (cp == '&')
			rep = "&amp;";
		else if (cp == '<')
			rep = "&lt;";
		else if (cp == '>')
			rep = "&gt;";
		else if (cp == '"')
			rep = "&quot;";
		else if (cp == '\'')
			rep = "&#39;";
		if (rep) {
			append(h, s + plain, i - plain);
			append(h, rep, strlen(rep));
			plain = i + n;
		}
		i += n;
	}
	append(h, s + plain, len - plain);
}

void html_text(struct html *h, const char *s)
{
	html_textn(h, s ? s : "", s ? strlen(s) : 0);
}

void html_url_segment(struct html *h, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '~' || c == '-')
			append(h, (const char *)&c, 1);
		else
			html_rawf(h, "%%%02X", c);
	}
}

/* One stylesheet for every page.  Colours are variables so the dark scheme
 * only redefines them; state colours keep their meaning in both. */
static const char stylesheet[] =
    ":root{color-scheme:light dark;--bg:#fafafa;--fg:#1d232a;--muted:#5c6670;--card:#fff;"
    "--line:#d8dde3;--link:#0b5cad;--ok:#1f883d;--warn:#b35900;--crit:#c62828;"
    "--pend:#8a6d00;--stale:#6e7781;--head:#eef1f4}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e3e7eb;--muted:#9aa4ae;"
    "--card:#1a1f25;--line:#2f3740;--link:#6cb6ff;--ok:#3fb950;--warn:#f0883e;"
    "--crit:#ff6b6b;--pend:#d4a72c;--stale:#8b949e;--head:#222a32}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,sans-serif}\n"
    "a{color:var(--link)}\n"
    "nav{display:flex;flex-wrap:wrap;gap:.2em 1.2em;align-items:baseline;padding:.6em 1em;"
    "background:var(--head);border-bottom:1px solid var(--line)}\n"
    "nav .brand{font-weight:700;color:var(--fg);text-decoration:none}\n"
    "main{max-width:1700px;margin:0 auto;padding:.5em 1em 2em}\n"
    "h1{font-size:1.45em;margin:.6em 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em}\n"
    "h3{font-size:1em;margin:1em 0 .3em}\n"
    "p.sub{color:var(--muted);margin:.2em 0 1em}\n"
    "table{border-collapse:collapse;width:100%;background:var(--card)}\n"
    ".scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}\n"
    "th,td{padding:.35em .6em;text-align:left;border-bottom:1px solid var(--line);"
    "vertical-align:top}\n"
    "th{background:var(--head);font-weight:600;white-space:nowrap}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr:last-child td{border-bottom:0}\n"
    "code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.92em;"
    "overflow-wrap:anywhere}\n"
    ".badge{display:inline-block;min-width:5.5em;padding:.05em .5em;border-radius:1em;"
    "color:#fff;font-size:.85em;font-weight:600;text-align:center}\n"
    ".s-ok{background:var(--ok)}.s-warning{background:var(--warn)}"
    ".s-critical,.s-firing{background:var(--crit)}.s-pending{background:var(--pend)}"
    ".s-stale,.s-resolved,.s-inactive,.s-silenced{background:var(--stale)}\n"
    ".dot{display:inline-block;width:.75em;height:.75em;border-radius:50%;margin-right:.4em}\n"
    ".graphs{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,520px),1fr));"
    "gap:.8em}\n"
    "figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:6px;"
    "padding:.4em}\n"
    "figure img{display:block;width:100%;height:auto}\n"
    "figcaption{font-size:.85em;color:var(--muted);padding:.2em .3em 0}\n"
    ".spark{vertical-align:middle;color:var(--link)}\n"
    ".ranges a,.ranges strong{margin-right:.8em}\n"
    ".summary{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}\n"
    ".summary div{background:var(--card);border:1px solid var(--line);border-radius:6px;"
    "padding:.4em .8em;min-width:8em}\n"
    ".summary b{display:block;font-size:1.25em}\n"
    ".muted{color:var(--muted)}.nw{white-space:nowrap}\n"
    "footer{color:var(--muted);font-size:.85em;margin-top:2em}\n"
    "@media (max-width:600px){body{font-size:14px}main{padding:.3em .5em 1em}"
    "th,td{padding:.3em .35em}.hide-phone{display:none}}\n";

void html_begin(struct html *h, const char *title, const char *root)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta name=\"color-scheme\" content=\"light dark\">\n"
		    /* An icon inline, so no browser asks the server for one. */
		    "<link rel=\"icon\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/"
		    "2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' "
		    "fill='%231f883d'/%3E%3C/svg%3E\">\n<title>");
	html_text(h, title);
	html_raw(h, " - Rusty Monitor</title>\n<style>\n");
	html_raw(h, stylesheet);
	html_raw(h, "</style>\n</head>\n<body>\n<nav>");
	html_rawf(h, "<a class=\"brand\" href=\"%sindex.html\">Rusty Monitor</a>", root);
	html_rawf(h, "<a href=\"%sindex.html\">Hosts</a>", root);
	html_rawf(h, "<a href=\"%salerts.html\">Alerts</a>", root);
	html_rawf(h, "<a href=\"%sconfig.html\">Configuration</a>", root);
	html_raw(h, "</nav>\n<main>\n");
}

void html_end(struct html *h, long long generated_ns)
{
	if (generated_ns <= 0) {
		html_raw(h,
			 "<footer>Made by rmon-reportgen.</footer>\n</main>\n</body>\n</html>\n");
		return;
	}
	char when[64] = "";
	time_t t = (time_t)(generated_ns / 1000000000LL);
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
	html_rawf(h, "<footer>Made by rmon-reportgen from the data of %s.</footer>\n", when);
	html_raw(h, "</main>\n</body>\n</html>\n");
}

void html_free(struct html *h)
{
	free(h->buf);
	*h = (struct html){ 0 };
}

const char *html_state_class(const char *state)
{
	static const char *const known[] = { "ok",    "warning",  "critical", "firing",	 "pending",
					     "stale", "resolved", "inactive", "silenced" };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(state, known[i]) == 0)
			return known[i];
	return "stale";
}
