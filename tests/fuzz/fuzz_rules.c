/* fuzz_rules.c - libFuzzer harness for alertd's configuration reader and
 * rule language (alertd/rules.c, alertd/expr.c): any bytes must read or be
 * refused with a message, never crash, leak or read out of bounds.  What
 * reads is used as alertd uses it: templates expanded, expressions
 * computed over a few made-up series.  The input's first line is also
 * compiled as an expression on its own.  "include" is disarmed, so the
 * reader never wanders the file system. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/expr.h"
#include "alertd/rules.h"

static void compute(const struct rule_expr *x)
{
	static const char *const labels[] = { "", "{mountpoint=\"/\"}", "{cpu=\"0\",mode=\"idle\"}",
					      "{a=\"x\\\"y\"}" };
	size_t n = expr_n_leaves(x);
	struct expr_vec *leaves = calloc(n ? n : 1, sizeof *leaves);
	struct expr_scratch *scratch;
	if (!leaves || expr_scratch_new(&scratch)) {
		free(leaves);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < 8; k++) {
			struct expr_sample s = { k % 2 ? "web1" : "db1", labels[k % 4],
						 k == 5 ? 0.0 : (double)k * 1.5 - 3, k + 1, k };
			expr_vec_push(&leaves[i], &s);
		}
	struct expr_vec out = { 0 };
	struct err e = { 0 };
	expr_eval(x, leaves, scratch, &out, &e);
	expr_eval(x, leaves, scratch, &out, &e); /* the scratch reused */
	for (size_t i = 0; i < out.n; i++) {
		char buf[64];
		expr_label_value(out.v[i].labels, "mountpoint", buf, sizeof buf);
	}
	expr_vec_free(&out);
	for (size_t i = 0; i < n; i++)
		expr_vec_free(&leaves[i]);
	free(leaves);
	expr_scratch_free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = strstr(text, "include"); p; p = strstr(p, "include"))
		p[0] = 'I';

	char *line = strndup(text, strcspn(text, "\n"));
	struct rule_expr *x;
	struct err e = { 0 };
	if (line && expr_compile(line, &x, &e) == 0) {
		compute(x);
		expr_free(x);
	}
	free(line);

	struct alert_config *cfg;
	if (alert_config_read_text(text, "fuzz.conf", &cfg, &e) == 0) {
		struct rule_vars vars = { "r",	  "web1", "{mountpoint=\"/\"}", "warning",
					  93.25,  90,	  1764000000000000000,	"detail",
					  "bytes" };
		char out[256];
		for (size_t i = 0; i < cfg->n_rules; i++) {
			const struct rule *r = &cfg->rules[i];
			rule_expand(r->summary, &vars, out, sizeof out);
			rule_expand(r->description, &vars, out, 7);
			compute(r->compiled);
			alert_config_rule(cfg, r->name);
		}
		for (size_t i = 0; i < cfg->n_mutes; i++)
			mute_open(&cfg->mutes[i], 1764000000000000000);
		alert_config_free(cfg);
	}
	rule_template_check(text, &e);
	free(text);
	return 0;
}
