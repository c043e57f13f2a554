/* web_page.c - rmon-web's answers (see web_page.h). */
#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"
#include "reportgen/web_page.h"

void web_html(FILE *out, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		uint32_t cp;
		size_t n = utf8_next(s, len, &cp);
		if (n == 0) { /* not UTF-8: one byte shown as the replacement */
			fputs("&#xfffd;", out);
			s++, len--;
			continue;
		}
		if (cp == '&')
			fputs("&amp;", out);
		else if (cp == '<')
			fputs("&lt;", out);
		else if (cp == '>')
			fputs("&gt;", out);
		else if (cp == '"')
			fputs("&quot;", out);
		else if (cp == '\'')
			fputs("&#39;", out);
		else if (cp == '\n' || cp == '\t')
			fputc((int)cp, out);
		else if (utf8_unsafe(cp))
			fputs("&#xfffd;", out);
		else
			fwrite(s, 1, n, out);
		s += n, len -= n;
	}
}

static const char style[] =
    ":root{color-scheme:light dark;--fg:#1d2430;--bg:#f7f8fa;--card:#fff;--line:#d8dde6;"
    "--accent:#2463c9;--bad:#c62828}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e3e7ee;--bg:#12161c;--card:#1b2129;"
    "--line:#323b47;--accent:#6ea2ff;--bad:#ff6b6b}}"
    "body{font:16px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);"
    "margin:0;padding:1rem}"
    "main{max-width:40rem;margin:0 auto;background:var(--card);border:1px solid var(--line);"
    "border-radius:8px;padding:1rem 1.25rem}"
    "h1{font-size:1.25rem;margin:.2rem 0 1rem}label{display:block;margin:.8rem 0 .2rem;"
    "font-weight:600}input[type=text],textarea{width:100%;box-sizing:border-box;padding:.45rem;"
    "font:inherit;border:1px solid var(--line);border-radius:4px;background:var(--bg);"
    "color:var(--fg)}textarea{min-height:5rem}"
    "button{margin-top:1rem;font:inherit;padding:.5rem 1.1rem;border:0;border-radius:4px;"
    "background:var(--accent);color:#fff;cursor:pointer}"
    ".who{color:#7a8494;font-size:.9rem}.error{color:var(--bad)}a{color:var(--accent)}"
    "code{overflow-wrap:anywhere}";

void web_page_begin(FILE *out, int status, const char *reason, const char *title)
{
	fprintf(
	    out,
	    "Status: %d %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: same-origin\r\n"
	    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
	    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"
	    "\r\n",
	    status, reason);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<link rel=\"icon\" href=\"data:,\">"
	      "<title>",
	      out);
	web_html(out, title);
	fprintf(out, " - Rusty Monitor</title><style>%s</style></head><body><main>\n<h1>", style);
	web_html(out, title);
	fputs("</h1>\n", out);
}

void web_page_end(FILE *out)
{
	fputs("</main></body></html>\n", out);
}

void web_page_message(FILE *out, int status, const char *reason, const char *title,
		      const char *text, const char *back)
{
	web_page_begin(out, status, reason, title);
	fputs(status >= 400 ? "<p class=\"error\">" : "<p>", out);
	web_html(out, text);
	fputs("</p>\n", out);
	if (back) {
		fputs("<p><a href=\"", out);
		web_html(out, back);
		fputs("\">Back to the report</a></p>\n", out);
	}
	web_page_end(out);
}

void web_page_redirect(FILE *out, const char *location)
{
	fprintf(out, "Status: 303 See Other\r\nLocation: %s\r\nCache-Control: no-store\r\n\r\n",
		location);
}
