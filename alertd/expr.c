/* expr.c - the rule expression language's parser: recursive descent into
 * a small array of nodes (alertd/expr.h); computing them is expr_eval.c's. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/expr_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"

#define MAX_DEPTH 32 /* of nested parentheses and functions: keeps the stack small */

struct parser {
	const char *text, *p;
	struct rule_expr *x;
	struct err *e;
	int depth;
};

static const char *const range_names[] = {
	[EXPR_AVG] = "avg",    [EXPR_MIN] = "min",   [EXPR_MAX] = "max",
	[EXPR_LAST] = "last",  [EXPR_RATE] = "rate", [EXPR_INCREASE] = "increase",
	[EXPR_DERIV] = "deriv"
};
static const char *const agg_names[] = { [AGG_AVG] = "avg",
					 [AGG_SUM] = "sum",
					 [AGG_MIN] = "min",
					 [AGG_MAX] = "max",
					 [AGG_COUNT] = "count" };

static int syntax(struct parser *ps, const char *at, const char *what)
{
	return err_set(ps->e, -EINVAL, "at character %d: %s", (int)(at - ps->text) + 1, what);
}

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static int new_node(struct parser *ps, enum node_kind kind)
{
	struct rule_expr *x = ps->x;
	if (!grow_array(&x->nodes, &x->nodes_cap, x->n_nodes + 1, sizeof *x->nodes))
		return err_set(ps->e, -ENOMEM, "out of memory");
	x->nodes[x->n_nodes] = (struct node){ .kind = kind, .a = -1, .b = -1 };
	return (int)x->n_nodes++;
}

/* Characters of a selector outside its braces and brackets. */
static bool selector_char(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("_.:*?/-", c));
}

static int parse_expr(struct parser *ps);

/* At '[': the bracket's end, or NULL. */
static const char *bracket_end(const char *p)
{
	const char *q = strchr(p, ']');
	return q;
}

/* A selector, optionally followed by a [window]: a new leaf node. */
static int parse_selector(struct parser *ps, enum expr_func func, bool in_function)
{
	const char *start = ps->p, *s = ps->p, *window = NULL, *window_end = NULL;
	for (;;) {
		if (selector_char(*s)) {
			s++;
		} else if (*s == '{') {
			bool quoted = false;
			for (s++; *s && (quoted || *s != '}'); s++) {
				if (*s == '\\' && quoted && s[1])
					s++;
				else if (*s == '"')
					quoted = !quoted;
			}
			if (*s != '}')
				return syntax(ps, s, "'}' expected to close the labels");
			s++;
		} else if (*s == '[') {
			const char *end = bracket_end(s);
			if (!end)
				return syntax(ps, s, "']' expected");
			char dur[32];
			size_t len = (size_t)(end - s - 1);
			int64_t ns;
			bool is_window = false;
			if (len > 0 && len < sizeof dur && !selector_char(end[1]) &&
			    end[1] != '{' && end[1] != '[') {
				memcpy(dur, s + 1, len);
				dur[len] = 0;
				is_window = rtime_parse_duration(dur, &ns, NULL) == 0;
			}
			if (is_window) {
				window = s;
				window_end = end + 1;
				break;
			}
			s = end + 1; /* a glob's character class */
		} else {
			break;
		}
	}
	if (s == start)
		return syntax(ps, start, "a number, a selector, a function or '(' expected");
	size_t len = (size_t)(s - start);
	char *text = malloc(len + 1);
	if (!text)
		return err_set(ps->e, -ENOMEM, "out of memory");
	memcpy(text, start, len);
	text[len] = 0;
	struct query_selector *sel;
	struct err se = { 0 };
	if (query_selector_parse(text, &sel, &se) != 0) {
		free(text);
		return err_set(ps->e, -EINVAL, "at character %d: %s", (int)(start - ps->text) + 1,
			       se.msg);
	}
	int64_t window_ns = 0;
	if (window) {
		char dur[32];
		size_t dlen = (size_t)(window_end - window - 2);
		memcpy(dur, window + 1, dlen);
		dur[dlen] = 0;
		rtime_parse_duration(dur, &window_ns, NULL);
	}
	ps->p = window ? window_end : s;
	const char *why = NULL;
	if (in_function && func != EXPR_LATEST && !window)
		why = "this function needs a window: selector[5m]";
	else if (window && !in_function && func == EXPR_LATEST)
		why = NULL; /* a bare window: only predictions take it (checked by the reader) */
	if (why) {
		query_selector_free(sel);
		free(text);
		return syntax(ps, ps->p, why);
	}
	struct rule_expr *x = ps->x;
	if (!grow_array(&x->leaves, &x->leaves_cap, x->n_leaves + 1, sizeof *x->leaves)) {
		query_selector_free(sel);
		free(text);
		return err_set(ps->e, -ENOMEM, "out of memory");
	}
	x->leaves[x->n_leaves] = (struct expr_leaf){ text, sel, func, window_ns };
	int n = new_node(ps, N_LEAF);
	if (n < 0)
		return n;
	x->nodes[n].leaf = x->n_leaves++;
	return n;
}

/* Reads "by (a, b)" into node n's label list. */
static int parse_by(struct parser *ps, int n)
{
	skip_space(ps);
	if (*ps->p != '(')
		return syntax(ps, ps->p, "'(' expected after 'by'");
	ps->p++;
	struct node *node = &ps->x->nodes[n];
	size_t cap = 0;
	for (;;) {
		skip_space(ps);
		if (*ps->p == ')' && node->n_by == 0)
			break;
		const char *s = ps->p;
		while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
			ps->p++;
		if (ps->p == s || isdigit((unsigned char)*s))
			return syntax(ps, s, "a label name expected");
		if (!grow_array(&node->by, &cap, node->n_by + 1, sizeof *node->by))
			return err_set(ps->e, -ENOMEM, "out of memory");
		if (!(node->by[node->n_by] = strndup(s, (size_t)(ps->p - s))))
			return err_set(ps->e, -ENOMEM, "out of memory");
		node->n_by++;
		skip_space(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != ')')
			return syntax(ps, ps->p, "',' or ')' expected in the label list");
		break;
	}
	ps->p++;
	/* Sorted, so the labels they make are canonical. */
	for (size_t i = 1; i < node->n_by; i++)
		for (size_t j = i; j > 0 && strcmp(node->by[j - 1], node->by[j]) > 0; j--) {
			char *t = node->by[j];
			node->by[j] = node->by[j - 1];
			node->by[j - 1] = t;
		}
	return 0;
}

static int lookup(const char *const *names, size_t n, const char *word, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len && memcmp(names[i], word, len) == 0)
			return (int)i;
	return -1;
}

/* name(...) or name by (...) (...): a range function or an aggregation. */
static int parse_call(struct parser *ps, const char *word, size_t len)
{
	int range = lookup(range_names, sizeof range_names / sizeof *range_names, word, len);
	int agg = lookup(agg_names, sizeof agg_names / sizeof *agg_names, word, len);
	skip_space(ps);
	bool by = strncmp(ps->p, "by", 2) == 0 && !isalnum((unsigned char)ps->p[2]);
	if (agg < 0 && by)
		return syntax(ps, ps->p, "only avg, sum, min, max and count take 'by'");
	int n = -1;
	if (by) {
		ps->p += 2;
		if ((n = new_node(ps, N_AGG)) < 0)
			return n;
		int rc = parse_by(ps, n);
		if (rc < 0)
			return rc;
		skip_space(ps);
	}
	if (*ps->p != '(')
		return syntax(ps, ps->p, "'(' expected");
	ps->p++;
	skip_space(ps);
	/* A selector with a window inside a range function's name is a range
	 * function; anything else inside an aggregation's name aggregates. */
	if (range >= 0 && !by) {
		const char *save = ps->p;
		struct err keep = *ps->e;
		int leaf = parse_selector(ps, (enum expr_func)range, true);
		skip_space(ps);
		if (leaf >= 0 && *ps->p == ')') {
			ps->p++;
			return leaf;
		}
		if (agg < 0)
			return leaf < 0 ? leaf : syntax(ps, ps->p, "')' expected");
		/* Not a windowed selector: avg(...) of an expression. */
		if (leaf >= 0) {
			struct rule_expr *x = ps->x;
			x->n_nodes--;
			x->n_leaves--;
			free(x->leaves[x->n_leaves].text);
			query_selector_free(x->leaves[x->n_leaves].sel);
		}
		*ps->e = keep;
		ps->p = save;
	}
	if (agg < 0)
		return syntax(ps, word,
			      "unknown function (avg, min, max, last, rate, increase, "
			      "deriv, sum, count)");
	if (n < 0 && (n = new_node(ps, N_AGG)) < 0)
		return n;
	int a = parse_expr(ps);
	if (a < 0)
		return a;
	skip_space(ps);
	if (*ps->p != ')')
		return syntax(ps, ps->p, "')' expected");
	ps->p++;
	ps->x->nodes[n].agg = (enum agg_kind)agg;
	ps->x->nodes[n].a = a;
	return n;
}

static int parse_operand(struct parser *ps)
{
	skip_space(ps);
	const char *s = ps->p;
	if (++ps->depth > MAX_DEPTH)
		return syntax(ps, s, "nested too deep");
	int n;
	if (*s == '(') {
		ps->p++;
		if ((n = parse_expr(ps)) < 0)
			return n;
		skip_space(ps);
		if (*ps->p != ')')
			return syntax(ps, ps->p, "')' expected");
		ps->p++;
	} else if (*s == '-') {
		ps->p++;
		int a = parse_operand(ps);
		if (a < 0)
			return a;
		if ((n = new_node(ps, N_NEG)) < 0)
			return n;
		ps->x->nodes[n].a = a;
	} else {
		char *end;
		double num = (isdigit((unsigned char)*s) || *s == '.') ? strtod(s, &end) : 0;
		if ((isdigit((unsigned char)*s) || *s == '.') && end > s &&
		    (!selector_char(*end) || strchr("*-", *end)) && *end != '{' && *end != '[') {
			if (!isfinite(num))
				return syntax(ps, s, "a finite number expected");
			ps->p = end;
			if ((n = new_node(ps, N_NUM)) < 0)
				return n;
			ps->x->nodes[n].num = num;
		} else {
			const char *w = s;
			while (isalpha((unsigned char)*w))
				w++;
			const char *after = w;
			while (*after == ' ' || *after == '\t')
				after++;
			bool call = w > s && (*after == '(' || (strncmp(after, "by", 2) == 0 &&
								!isalnum((unsigned char)after[2]) &&
								!selector_char(*w)));
			if (call && !selector_char(*w)) {
				ps->p = w;
				n = parse_call(ps, s, (size_t)(w - s));
			} else {
				n = parse_selector(ps, EXPR_LATEST, false);
			}
		}
	}
	ps->depth--;
	return n;
}

static int parse_term(struct parser *ps)
{
	int a = parse_operand(ps);
	while (a >= 0) {
		skip_space(ps);
		char op = *ps->p;
		if (op != '*' && op != '/')
			break;
		ps->p++;
		int b = parse_operand(ps);
		if (b < 0)
			return b;
		int n = new_node(ps, op == '*' ? N_MUL : N_DIV);
		if (n < 0)
			return n;
		ps->x->nodes[n].a = a;
		ps->x->nodes[n].b = b;
		a = n;
	}
	return a;
}

static int parse_expr(struct parser *ps)
{
	int a = parse_term(ps);
	while (a >= 0) {
		skip_space(ps);
		char op = *ps->p;
		if (op != '+' && op != '-')
			break;
		ps->p++;
		int b = parse_term(ps);
		if (b < 0)
			return b;
		int n = new_node(ps, op == '+' ? N_ADD : N_SUB);
		if (n < 0)
			return n;
		ps->x->nodes[n].a = a;
		ps->x->nodes[n].b = b;
		a = n;
	}
	return a;
}

void expr_free(struct rule_expr *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_leaves; i++) {
		free(x->leaves[i].text);
		query_selector_free(x->leaves[i].sel);
	}
	for (size_t i = 0; i < x->n_nodes; i++) {
		for (size_t j = 0; j < x->nodes[i].n_by; j++)
			free(x->nodes[i].by[j]);
		free(x->nodes[i].by);
	}
	free(x->leaves);
	free(x->nodes);
	free(x);
}

int expr_compile(const char *text, struct rule_expr **out, struct err *e)
{
	struct rule_expr *x = calloc(1, sizeof *x);
	if (!x)
		return err_set(e, -ENOMEM, "out of memory");
	struct err local = { 0 };
	struct parser ps = { text, text, x, e ? e : &local, 0 };
	int root = parse_expr(&ps);
	if (root >= 0) {
		skip_space(&ps);
		if (*ps.p)
			root = syntax(&ps, ps.p,
				      *ps.p == ')' ? "')' without its '('"
						   : "an operator (+ - * /) or the end expected");
	}
	if (root >= 0 && x->n_leaves == 0)
		root = err_set(ps.e, -EINVAL, "no selector: the expression reads nothing");
	if (root < 0) {
		expr_free(x);
		return root;
	}
	x->root = root;
	*out = x;
	return 0;
}

size_t expr_n_leaves(const struct rule_expr *x)
{
	return x->n_leaves;
}

const struct expr_leaf *expr_leaf(const struct rule_expr *x, size_t i)
{
	return &x->leaves[i];
}

int64_t expr_window(const struct rule_expr *x)
{
	int64_t w = 0;
	for (size_t i = 0; i < x->n_leaves; i++)
		if (x->leaves[i].window_ns > w)
			w = x->leaves[i].window_ns;
	return w;
}

bool expr_is_bare_window(const struct rule_expr *x)
{
	return x->n_nodes == 1 && x->leaves[0].func == EXPR_LATEST && x->leaves[0].window_ns > 0;
}

bool expr_is_single_leaf(const struct rule_expr *x)
{
	return x->n_nodes == 1 && !(x->leaves[0].func == EXPR_LATEST && x->leaves[0].window_ns > 0);
}
