/* table.h - a terminal table for rmon's listings: cells are escaped
 * (lib/escape.h, text style) as they are added, columns are as wide as
 * their widest cell counted in characters, and the last column is not
 * padded.  Used by `rmon alerts` and `rmon silence list`. */
#ifndef RMON_CLI_TABLE_H
#define RMON_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/* A table with the given column headings (n of them); NULL when out of
 * memory. */
struct table *table_new(const char *const *headings, size_t n);

/* Adds a cell to the current row (a row is full after n cells); printf
 * style, the result escaped. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees the table unprinted. */
void table_free(struct table *t);

/* Prints the headings and rows to out and frees the table. */
void table_print(struct table *t, FILE *out);

#endif
