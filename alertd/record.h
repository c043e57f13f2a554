/* record.h - the byte form of alertd's records (alerts, events, silences,
 * audit lines, notices) in its LMDB environment: fields one after another,
 * numbers little-endian in 8 bytes, strings as a 4-byte length and their
 * bytes.  A reader that finds a record shorter than its fields, or a string
 * longer than its buffer, says the record is damaged instead of reading
 * past it. */
#ifndef RMON_ALERTD_RECORD_H
#define RMON_ALERTD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record being written; buf grows, and failed is set once it could not. */
struct rec_out {
	char *buf;
	size_t len, cap;
	bool failed;
};

void rec_put_u64(struct rec_out *r, uint64_t v);
void rec_put_i64(struct rec_out *r, int64_t v);
void rec_put_f64(struct rec_out *r, double v);
void rec_put_str(struct rec_out *r, const char *s);
/* Empties r for the next record, keeping its buffer. */
void rec_reset(struct rec_out *r);
void rec_free(struct rec_out *r);

/* A record being read; bad is set at the first field that is not there. */
struct rec_in {
	const unsigned char *p;
	size_t left;
	bool bad;
};

uint64_t rec_get_u64(struct rec_in *r);
int64_t rec_get_i64(struct rec_in *r);
double rec_get_f64(struct rec_in *r);
/* Copies the string into buf (cap bytes, NUL terminated); one that does not
 * fit marks the record bad. */
void rec_get_str(struct rec_in *r, char *buf, size_t cap);

/* Big-endian keys, so LMDB's byte order is numeric order. */
void rec_key_u64(unsigned char out[8], uint64_t v);
uint64_t rec_key_get_u64(const unsigned char in[8]);

#endif
