/* table.c - terminal tables for rmon's listings; see table.h. */
#include "cli/table.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/utf8.h"

struct table {
	size_t n_columns;
	char **cells; /* row after row, headings first */
	size_t n_cells, cap;
	bool failed;
};

static void add(struct table *t, char *cell)
{
	if (!cell || !grow_array(&t->cells, &t->cap, t->n_cells + 1, sizeof *t->cells)) {
		free(cell);
		t->failed = true;
		return;
	}
	t->cells[t->n_cells++] = cell;
}

/* Characters, not bytes: escaped text is valid UTF-8. */
static size_t width(const char *s)
{
	size_t n = 0, len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t step = utf8_next(s + i, len - i, &cp);
		i += step ? step : 1;
		n++;
	}
	return n;
}

struct table *table_new(const char *const *headings, size_t n)
{
	struct table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n_columns = n;
	for (size_t i = 0; i < n; i++)
		add(t, strdup(headings[i]));
	return t;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	char raw[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	size_t need = escape(ESCAPE_TEXT, NULL, 0, raw, strlen(raw)) + 1;
	char *cell = malloc(need);
	if (cell)
		escape(ESCAPE_TEXT, cell, need, raw, strlen(raw));
	add(t, cell);
}

void table_free(struct table *t)
{
	for (size_t i = 0; t && i < t->n_cells; i++)
		free(t->cells[i]);
	if (t)
		free(t->cells);
	free(t);
}

void table_print(struct table *t, FILE *out)
{
	if (!t)
		return;
	size_t *w = calloc(t->n_columns, sizeof *w);
	for (size_t i = 0; w && i < t->n_cells; i++) {
		size_t cw = width(t->cells[i]);
		if (cw > w[i % t->n_columns])
			w[i % t->n_columns] = cw;
	}
	for (size_t i = 0; w && i < t->n_cells; i++) {
		size_t col = i % t->n_columns;
		bool last = col + 1 == t->n_columns || i + 1 == t->n_cells;
		fputs(t->cells[i], out);
		if (last) {
			fputc('\n', out);
			continue;
		}
		for (size_t pad = width(t->cells[i]); pad < w[col] + 2; pad++)
			fputc(' ', out);
	}
	free(w);
	table_free(t);
}
