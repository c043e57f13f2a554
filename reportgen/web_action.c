/* web_action.c - rmon-web's actions (see web_action.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/alerts.h"
#include "lib/rtime.h"
#include "lib/utf8.h"
#include "store/query.h"
#include "reportgen/web_action.h"
#include "alertd/rules.h"
#include "reportgen/web_page.h"
#include "reportgen/web_rules.h"
#include "reportgen/web_token.h"

#define COMMENT_MAX (ALERT_TEXT_MAX - 1)
#define SILENCE_MIN (60 * RTIME_NS_PER_SEC)
#define SILENCE_MAX (90 * 24 * 3600 * RTIME_NS_PER_SEC)

struct action {
	const char *name;
	enum web_role role;
	const char *title;
	/* Writes the form's own fields (after the hidden ones). */
	void (*form)(struct web_request *req, FILE *out);
	/* Checks the fields and, when s is not NULL, makes the change; fills
	 * e and returns a negative code on refusal. */
	int (*apply)(struct web_request *req, struct alert_store *s, char *done, size_t cap,
		     struct err *e);
};

/* ---- field checks: each names the field it refuses ---- */

static int field_id(struct web_request *req, uint64_t *id, struct err *e)
{
	const char *v = web_form_get(&req->form, "id");
	if (!v || !*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
		return err_set(e, -EINVAL, "field 'id': a whole number is needed");
	*id = strtoull(v, NULL, 10);
	if (*id == 0)
		return err_set(e, -EINVAL, "field 'id': a whole number is needed");
	return 0;
}

/* Comments are any UTF-8 text but control characters (newlines and tabs
 * allowed): shown as text wherever they appear. */
static int field_text(struct web_request *req, const char *name, size_t max, bool required,
		      const char **out, struct err *e)
{
	const char *v = web_form_get(&req->form, name);
	*out = v ? v : "";
	if (!v || !*v)
		return required ? err_set(e, -EINVAL, "field '%s' is empty", name) : 0;
	size_t len = strlen(v);
	if (len > max)
		return err_set(e, -EINVAL, "field '%s': %zu bytes, at most %zu", name, len, max);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(v + i, len - i, &cp);
		if (n == 0)
			return err_set(e, -EINVAL, "field '%s': not UTF-8 at byte %zu", name, i);
		if (cp != '\n' && cp != '\r' && cp != '\t' && utf8_unsafe(cp))
			return err_set(e, -EINVAL, "field '%s': control character at byte %zu",
				       name, i);
		i += n;
	}
	return 0;
}

/* ---- the actions ---- */

static void form_comment(struct web_request *req, FILE *out)
{
	(void)req;
	fputs("<label for=\"comment\">Comment</label>"
	      "<textarea id=\"comment\" name=\"comment\" maxlength=\"500\"></textarea>\n",
	      out);
}

static void describe_alert(struct web_request *req, FILE *out)
{
	uint64_t id;
	struct alert_store *s = NULL;
	struct alert a;
	if (field_id(req, &id, NULL) < 0 || alert_store_open(req->data_dir, 0, &s, NULL) < 0)
		return;
	if (alert_store_get(s, id, &a, NULL) == 0) {
		fputs("<p><strong>", out);
		web_html(out, a.rule);
		fputs("</strong> on <code>", out);
		web_html(out, a.host);
		web_html(out, a.labels);
		fprintf(out, "</code>: %s", alert_state_name(a.state));
		if (a.summary[0]) {
			fputs("<br>", out);
			web_html(out, a.summary);
		}
		fputs("</p>\n", out);
	}
	alert_store_close(s);
}

static void form_ack(struct web_request *req, FILE *out)
{
	describe_alert(req, out);
	form_comment(req, out);
}

static int apply_ack(struct web_request *req, struct alert_store *s, char *done, size_t cap,
		     struct err *e)
{
	uint64_t id;
	const char *comment;
	int rc = field_id(req, &id, e);
	if (rc == 0)
		rc = field_text(req, "comment", COMMENT_MAX, false, &comment, e);
	if (rc == 0 && s)
		rc = alert_store_ack(s, id, req->user, comment, req->now, e);
	snprintf(done, cap, "Alert %" PRIu64 " is acknowledged until it resolves.", id);
	return rc;
}

static int apply_unack(struct web_request *req, struct alert_store *s, char *done, size_t cap,
		       struct err *e)
{
	uint64_t id;
	int rc = field_id(req, &id, e);
	if (rc == 0 && s)
		rc = alert_store_unack(s, id, req->user, req->now, e);
	snprintf(done, cap, "Alert %" PRIu64 " is no longer acknowledged.", id);
	return rc;
}

static void form_silence(struct web_request *req, FILE *out)
{
	const char *sel = web_form_get(&req->form, "selector");
	fputs("<label for=\"selector\">Series (selector)</label>"
	      "<input type=\"text\" id=\"selector\" name=\"selector\" maxlength=\"500\" "
	      "required value=\"",
	      out);
	web_html(out, sel ? sel : "");
	fputs("\"><label for=\"for\">For</label>"
	      "<input type=\"text\" id=\"for\" name=\"for\" value=\"2h\" maxlength=\"16\" "
	      "required>\n",
	      out);
	form_comment(req, out);
}

static int apply_silence(struct web_request *req, struct alert_store *s, char *done, size_t cap,
			 struct err *e)
{
	const char *sel = "", *comment = "", *dur = "";
	int64_t ns = 0;
	uint64_t id = 0;
	int rc = field_text(req, "selector", ALERT_TEXT_MAX - 1, true, &sel, e);
	if (rc == 0)
		rc = field_text(req, "for", 16, true, &dur, e);
	if (rc == 0 && rtime_parse_duration(dur, &ns, e) < 0)
		rc = err_set(e, -EINVAL, "field 'for': a duration such as 30m, 2h or 1d");
	if (rc == 0 && (ns < SILENCE_MIN || ns > SILENCE_MAX))
		rc = err_set(e, -EINVAL, "field 'for': between 1m and 90d");
	if (rc == 0)
		rc = field_text(req, "comment", COMMENT_MAX, false, &comment, e);
	struct query_selector *parsed = NULL;
	struct err why = { 0 };
	if (rc == 0 && (rc = query_selector_parse(sel, &parsed, &why)) < 0)
		rc = err_set(e, -EINVAL, "field 'selector': %.400s", why.msg);
	query_selector_free(parsed);
	if (rc == 0 && s)
		rc = alert_store_silence_add(s, sel, req->now, req->now + ns, req->user, comment,
					     req->now, &id, e);
	snprintf(done, cap, "Silence %" PRIu64 " is in place for %s.", id, dur);
	return rc;
}

static int apply_unsilence(struct web_request *req, struct alert_store *s, char *done, size_t cap,
			   struct err *e)
{
	uint64_t id;
	int rc = field_id(req, &id, e);
	if (rc == 0 && s)
		rc = alert_store_silence_rm(s, id, req->user, req->now, e);
	snprintf(done, cap, "Silence %" PRIu64 " is removed.", id);
	return rc;
}

/* A rule's name as the config reader allows it. */
static int field_rule(struct web_request *req, const char **out, struct err *e)
{
	const char *v = web_form_get(&req->form, "rule");
	*out = v;
	if (!v || !*v || strlen(v) > 127 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		strlen(v))
		return err_set(e, -EINVAL, "field 'rule': a rule's name is needed");
	return 0;
}

/* An optional number: empty means unchanged. */
static int field_number(struct web_request *req, const char *name, const char **out, struct err *e)
{
	const char *v = web_form_get(&req->form, name);
	*out = NULL;
	if (!v || !*v)
		return 0;
	char *end;
	double d = strtod(v, &end);
	if (strlen(v) > 32 || *end || !isfinite(d) || strspn(v, "0123456789.eE+-") != strlen(v))
		return err_set(e, -EINVAL, "field '%s': a number such as 90 or 0.5", name);
	*out = v;
	return 0;
}

static void form_rule(struct web_request *req, FILE *out)
{
	const char *name = NULL;
	struct alert_config *cfg = NULL;
	const struct rule *r = NULL;
	struct err e = { 0 };
	if (field_rule(req, &name, NULL) == 0 && req->config &&
	    alert_config_read_file(req->config, &cfg, &e) == 0)
		r = alert_config_rule(cfg, name);
	if (!r) {
		fputs("<p class=\"error\">", out);
		web_html(out, e.msg[0] ? e.msg : "no such rule in the configuration");
		fputs("</p>\n", out);
	}
	char threshold[32] = "", clear[32] = "", for_[32] = "0";
	if (r) {
		snprintf(threshold, sizeof threshold, "%g", r->threshold);
		snprintf(clear, sizeof clear, "%g", r->clear);
		if (r->for_ns)
			rtime_format_duration(r->for_ns, for_, sizeof for_);
	}
	fputs("<input type=\"hidden\" name=\"rule\" value=\"", out);
	web_html(out, name ? name : "");
	fputs("\">", out);
	if (r) {
		fputs("<p><code>", out);
		web_html(out, r->expr);
		fprintf(out, "</code> %s</p>\n", r->op == RULE_ABOVE ? "above" : "below");
	}
	fprintf(out,
		"<label for=\"enabled\">Enabled</label><select id=\"enabled\" name=\"enabled\">"
		"<option value=\"true\"%s>yes</option><option value=\"false\"%s>no</option>"
		"</select>\n"
		"<label for=\"threshold\">Threshold</label><input type=\"text\" id=\"threshold\" "
		"name=\"threshold\" maxlength=\"32\" value=\"%s\">\n"
		"<label for=\"clear\">Clears at</label><input type=\"text\" id=\"clear\" "
		"name=\"clear\" maxlength=\"32\" value=\"%s\">\n"
		"<label for=\"for\">For</label><input type=\"text\" id=\"for\" name=\"for\" "
		"maxlength=\"16\" value=\"%s\">\n",
		r && !r->enabled ? "" : " selected", r && !r->enabled ? " selected" : "", threshold,
		clear, for_);
	alert_config_free(cfg);
}

static int apply_rule(struct web_request *req, struct alert_store *s, char *done, size_t cap,
		      struct err *e)
{
	struct web_rule_edit edit = { 0 };
	const char *enabled = web_form_get(&req->form, "enabled"), *dur = NULL;
	int rc = field_rule(req, &edit.rule, e);
	if (rc == 0 && enabled && *enabled) {
		if (strcmp(enabled, "true") && strcmp(enabled, "false"))
			rc = err_set(e, -EINVAL, "field 'enabled': true or false");
		edit.enabled = enabled;
	}
	if (rc == 0)
		rc = field_number(req, "threshold", &edit.threshold, e);
	if (rc == 0)
		rc = field_number(req, "clear", &edit.clear, e);
	if (rc == 0 && (rc = field_text(req, "for", 16, false, &dur, e)) == 0 && *dur) {
		int64_t ns;
		if (strcmp(dur, "0") != 0 && rtime_parse_duration(dur, &ns, NULL) < 0)
			rc = err_set(e, -EINVAL, "field 'for': 0 or a duration such as 5m");
		edit.for_ = dur;
	}
	if (rc == 0 && !req->config)
		rc = err_set(e, -ENOENT,
			     "rule edits need the path of alertd's configuration (RMON_CONFIG)");
	if (rc || !s)
		return rc;
	if ((rc = web_rules_edit(req->config, &edit, e)) != 0)
		return rc == -EPROTO ? -EINVAL : rc;
	char what[ALERT_TEXT_MAX];
	snprintf(what, sizeof what, "rule %s:%s%s%s%s%s%s%s%s", edit.rule,
		 edit.enabled ? " enabled " : "", edit.enabled ? edit.enabled : "",
		 edit.threshold ? " threshold " : "", edit.threshold ? edit.threshold : "",
		 edit.clear ? " clear " : "", edit.clear ? edit.clear : "",
		 edit.for_ ? " for " : "", edit.for_ ? edit.for_ : "");
	alert_store_audit_add(s, req->user, what, req->now, NULL);
	snprintf(done, cap, "Rule %s is changed; rmon-alertd takes it up at once.", edit.rule);
	return 0;
}

static int apply_rule_undo(struct web_request *req, struct alert_store *s, char *done, size_t cap,
			   struct err *e)
{
	if (!req->config)
		return err_set(e, -ENOENT,
			       "rule edits need the path of alertd's configuration (RMON_CONFIG)");
	if (!s)
		return 0;
	int rc = web_rules_undo(req->config, e);
	if (rc)
		return rc;
	alert_store_audit_add(s, req->user, "rule edits: the previous drop-in is back", req->now,
			      NULL);
	snprintf(done, cap, "The rule edits before the last one are back.");
	return 0;
}

static const struct action actions[] = {
	{ "ack", WEB_ROLE_OPERATOR, "Acknowledge alert", form_ack, apply_ack },
	{ "unack", WEB_ROLE_OPERATOR, "Withdraw acknowledgement", describe_alert, apply_unack },
	{ "silence", WEB_ROLE_OPERATOR, "Silence alerts", form_silence, apply_silence },
	{ "unsilence", WEB_ROLE_OPERATOR, "Remove silence", NULL, apply_unsilence },
	{ "rule", WEB_ROLE_ADMIN, "Change rule", form_rule, apply_rule },
	{ "rule_undo", WEB_ROLE_ADMIN, "Undo the last rule change", NULL, apply_rule_undo },
};

/* ---- answering ---- */

static void confirm(struct web_request *req, const struct action *a, FILE *out)
{
	char token[WEB_TOKEN_LEN + 1];
	struct err e = { 0 };
	if (web_token_make(req->data_dir, req->user, req->now, token, sizeof token, &e) < 0) {
		web_page_message(out, 500, "Internal Server Error", a->title, e.msg, req->back);
		return;
	}
	web_page_begin(out, 200, "OK", a->title);
	fputs("<form method=\"post\" action=\"", out);
	web_html(out, req->script);
	fputs("\">\n<input type=\"hidden\" name=\"do\" value=\"", out);
	web_html(out, a->name);
	fputs("\"><input type=\"hidden\" name=\"token\" value=\"", out);
	web_html(out, token);
	fputs("\">", out);
	const char *id = web_form_get(&req->form, "id");
	if (id) {
		fputs("<input type=\"hidden\" name=\"id\" value=\"", out);
		web_html(out, id);
		fputs("\">", out);
	}
	if (req->back) {
		fputs("<input type=\"hidden\" name=\"back\" value=\"", out);
		web_html(out, req->back);
		fputs("\">", out);
	}
	fputs("\n", out);
	if (a->form)
		a->form(req, out);
	fputs("<button type=\"submit\">", out);
	web_html(out, a->title);
	fputs("</button>\n</form>\n<p class=\"who\">As ", out);
	web_html(out, req->user);
	fprintf(out, " (%s)</p>\n", web_role_name(req->role));
	web_page_end(out);
}

static void refuse(struct web_request *req, const struct action *a, int rc, const char *msg,
		   FILE *out)
{
	int status = 400;
	const char *reason = "Bad Request";
	if (rc == -EACCES)
		status = 403, reason = "Forbidden";
	else if (rc == -ENOENT)
		status = 404, reason = "Not Found";
	else if (rc == -EALREADY)
		status = 409, reason = "Conflict";
	else if (rc != -EINVAL)
		status = 500, reason = "Internal Server Error";
	web_page_message(out, status, reason, a ? a->title : "Refused", msg, req->back);
}

void web_action_run(struct web_request *req, FILE *out)
{
	const char *name = web_form_get(&req->form, "do");
	const struct action *a = NULL;
	for (size_t i = 0; name && i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].name, name) == 0)
			a = &actions[i];
	if (!a) {
		refuse(req, NULL, -EINVAL,
		       "field 'do': one of ack, unack, silence, unsilence, rule, rule_undo", out);
		return;
	}
	if (req->role < a->role) {
		char msg[256];
		snprintf(msg, sizeof msg, "this needs the %s role; you have %s",
			 web_role_name(a->role), web_role_name(req->role));
		refuse(req, a, -EACCES, msg, out);
		return;
	}
	if (strcmp(req->method, "GET") == 0) {
		if (web_form_get(&req->form, "token")) {
			web_page_message(out, 405, "Method Not Allowed", a->title,
					 "changes are made by POST only", req->back);
			return;
		}
		confirm(req, a, out);
		return;
	}
	/* Fields first, so a typo does not spend the form's token; then the
	 * token; then the change. */
	struct err e = { 0 };
	char done[256] = "";
	struct alert_store *s = NULL;
	int rc = a->apply(req, NULL, done, sizeof done, &e);
	if (rc == 0)
		rc = web_token_spend(req->data_dir, req->user, web_form_get(&req->form, "token"),
				     req->now, &e);
	if (rc == 0)
		rc = alert_store_open(req->data_dir, 0, &s, &e);
	if (rc == 0)
		rc = a->apply(req, s, done, sizeof done, &e);
	alert_store_close(s);
	if (rc < 0) {
		refuse(req, a, rc, e.msg, out);
		return;
	}
	if (req->back)
		web_page_redirect(out, req->back);
	else
		web_page_message(out, 200, "OK", a->title, done, NULL);
}
