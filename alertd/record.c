/* record.c - the byte form of alertd's records; see record.h. */
#include "alertd/record.h"

#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

static void put(struct rec_out *r, const void *p, size_t n)
{
	if (r->failed || !grow_bytes(&r->buf, &r->cap, r->len + n, 256)) {
		r->failed = true;
		return;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

void rec_put_u64(struct rec_out *r, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(r, b, sizeof b);
}

void rec_put_i64(struct rec_out *r, int64_t v)
{
	rec_put_u64(r, (uint64_t)v);
}

void rec_put_f64(struct rec_out *r, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	rec_put_u64(r, bits);
}

void rec_put_str(struct rec_out *r, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	unsigned char b[4] = { (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
			       (unsigned char)(n >> 24) };
	put(r, b, sizeof b);
	if (n)
		put(r, s, n);
}

void rec_reset(struct rec_out *r)
{
	r->len = 0;
	r->failed = false;
}

void rec_free(struct rec_out *r)
{
	free(r->buf);
	*r = (struct rec_out){ 0 };
}

static const unsigned char *take(struct rec_in *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const unsigned char *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint64_t rec_get_u64(struct rec_in *r)
{
	const unsigned char *b = take(r, 8);
	uint64_t v = 0;
	for (int i = 0; b && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

int64_t rec_get_i64(struct rec_in *r)
{
	return (int64_t)rec_get_u64(r);
}

double rec_get_f64(struct rec_in *r)
{
	uint64_t bits = rec_get_u64(r);
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

void rec_get_str(struct rec_in *r, char *buf, size_t cap)
{
	const unsigned char *b = take(r, 4);
	size_t n =
	    b ? (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24 : 0;
	const unsigned char *s = b ? take(r, n) : NULL;
	if (!s || n >= cap) {
		r->bad = true;
		if (cap)
			buf[0] = 0;
		return;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
}

void rec_key_u64(unsigned char out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (56 - 8 * i));
}

uint64_t rec_key_get_u64(const unsigned char in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}
