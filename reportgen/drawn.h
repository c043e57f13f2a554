/* drawn.h - what the site's graphs were last drawn from: for each graph
 * file, a signature of everything that decides its picture but the
 * samples (the window grid, thresholds, shaded spans, size, format).  A
 * graph is redrawn when its signature moves or its file is gone, so the
 * 1-hour graph (windows of a few seconds) is redrawn at every refresh and
 * the 1-year one (windows of hours) a few times a day.  Kept in a file in
 * the output folder, so a --once run after another knows it too. */
#ifndef RMON_REPORT_DRAWN_H
#define RMON_REPORT_DRAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct drawn;

/* Reads path when it exists (a missing or damaged file is an empty
 * state: everything is drawn once).  *out is the caller's (drawn_free). */
int drawn_open(const char *path, struct drawn **out, struct err *e);
void drawn_free(struct drawn *d);

/* True when file key was last drawn with signature sig and a grid ending
 * less than min_move before grid_end. */
bool drawn_same(const struct drawn *d, const char *key, uint64_t sig, int64_t grid_end,
		int64_t min_move);

/* Records that file key is now drawn with signature sig, its grid ending
 * at grid_end. */
int drawn_set(struct drawn *d, const char *key, uint64_t sig, int64_t grid_end);

/* Writes the state (temporary file, then rename) when it changed. */
int drawn_save(struct drawn *d, struct err *e);

/* An FNV-1a step, for building signatures. */
uint64_t drawn_hash(uint64_t h, const void *p, size_t len);
#define DRAWN_HASH_START 0xcbf29ce484222325ull

#endif
