/* expr_private.h - the compiled form of a rule expression, shared by its
 * parser (expr.c) and its evaluator (expr_eval.c). */
#ifndef RMON_ALERTD_EXPR_PRIVATE_H
#define RMON_ALERTD_EXPR_PRIVATE_H

#include "alertd/expr.h"

enum node_kind { N_NUM, N_LEAF, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_AGG };
enum agg_kind { AGG_AVG, AGG_SUM, AGG_MIN, AGG_MAX, AGG_COUNT };

struct node {
	enum node_kind kind;
	double num;
	size_t leaf;
	int a, b; /* operands: node indexes */
	enum agg_kind agg;
	char **by; /* sorted label names */
	size_t n_by;
};

struct rule_expr {
	struct node *nodes;
	size_t n_nodes, nodes_cap;
	struct expr_leaf *leaves;
	size_t n_leaves, leaves_cap;
	int root;
};

#endif
