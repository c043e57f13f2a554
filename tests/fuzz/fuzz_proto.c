/* fuzz_proto.c - libFuzzer harness for the ingest protocol decoders
 * (net/proto.c): payloads come from the network, so any bytes must
 * decode or be refused, never read out of bounds; what decodes must
 * re-encode and decode again to the same bits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/proto.h"

#define MAX_SAMPLES 65536
#define MAX_SERIES  4096

static const uint8_t *payload_of(const struct proto_buf *b, size_t *len)
{
	if (b->len < PROTO_HEADER_BYTES)
		abort();
	*len = proto_frame_length(b->data);
	if (*len != b->len - PROTO_HEADER_BYTES)
		abort();
	return b->data + PROTO_HEADER_BYTES;
}

/* A decoded control frame, built again, must decode to the same fields. */
static void control_again(const struct proto_msg *m)
{
	struct proto_buf b = { 0 };
	struct proto_msg again;
	struct err e;
	int rc = -1;
	switch (m->type) {
	case PROTO_HELLO:
		rc = proto_put_hello(&b, m->host, m->agent, m->nonce, m->relay);
		break;
	case PROTO_CHALLENGE:
		rc = proto_put_challenge(&b, m->nonce, m->auth_required);
		break;
	case PROTO_AUTH:
		rc = proto_put_auth(&b, m->has_mac ? m->mac : NULL);
		break;
	case PROTO_WELCOME:
		rc = proto_put_welcome(&b, m->has_mac ? m->mac : NULL);
		break;
	case PROTO_ACK:
		rc = proto_put_ack(&b, m->seq);
		break;
	case PROTO_ERROR:
		rc = proto_put_error(&b, m->code, m->message);
		break;
	default:
		abort();
	}
	if (rc != 0)
		abort();
	size_t len;
	const uint8_t *p = payload_of(&b, &len);
	if (proto_decode_control(p, len, &again, &e) != 0 || again.type != m->type)
		abort();
	/* HELLO carries our version, not the decoded one. */
	if (m->type == PROTO_HELLO)
		again.version = m->version;
	if (memcmp(&again, m, sizeof again) != 0)
		abort();
	proto_buf_free(&b);
}

static void samples(const uint8_t *data, size_t size)
{
	struct err e;
	int64_t announced = proto_samples_count(data, size, &e);
	if (announced < 0)
		return;
	size_t max = announced > MAX_SAMPLES ? MAX_SAMPLES : (size_t)announced;
	struct sample *s = malloc((max + 1) * sizeof *s);
	struct sample *again = malloc((max + 1) * sizeof *again);
	if (!s || !again)
		abort();
	uint64_t seq, seq_again;
	size_t n, n_again;
	int rc = proto_decode_samples(data, size, &seq, s, max, &n, &e);
	if (rc == 0) {
		if (n != (size_t)announced)
			abort();
		struct proto_buf b = { 0 };
		if (proto_put_samples(&b, seq, s, n) != 0)
			abort();
		size_t len;
		const uint8_t *p = payload_of(&b, &len);
		if (proto_decode_samples(p, len, &seq_again, again, n, &n_again, &e) != 0 ||
		    seq_again != seq || n_again != n || memcmp(s, again, n * sizeof *s) != 0)
			abort();
		proto_buf_free(&b);
	}
	free(s);
	free(again);
}

static void series(const uint8_t *data, size_t size)
{
	static uint64_t ids[MAX_SERIES];
	static char *names[MAX_SERIES];
	struct proto_series_iter it;
	struct err e;
	int64_t n = proto_series_begin(&it, data, size, &e);
	if (n < 0)
		return;
	int64_t got = 0;
	bool nul_inside = false;
	for (; got < n; got++) {
		const char *name;
		size_t len;
		if (proto_series_next(&it, &ids[got % MAX_SERIES], &name, &len, &e) != 0)
			break;
		if ((const uint8_t *)name < data || (const uint8_t *)name + len > data + size)
			abort();
		nul_inside |= memchr(name, '\0', len) != NULL;
		if (got < MAX_SERIES) {
			names[got] = strndup(name, len);
			if (!names[got])
				abort();
		}
	}
	/* A whole frame that fits: built again, it gives the same definitions
	 * (names with a NUL inside cannot go through the C-string builder). */
	int64_t kept = got < MAX_SERIES ? got : MAX_SERIES;
	if (got == n && n <= MAX_SERIES && !nul_inside) {
		struct proto_buf b = { 0 };
		if (proto_put_series(&b, ids, (const char *const *)names, (size_t)n) != 0)
			abort();
		size_t len;
		const uint8_t *p = payload_of(&b, &len);
		if (proto_series_begin(&it, p, len, &e) != n)
			abort();
		for (int64_t i = 0; i < n; i++) {
			uint64_t id;
			const char *name;
			size_t name_len;
			if (proto_series_next(&it, &id, &name, &name_len, &e) != 0 ||
			    id != ids[i] || name_len != strlen(names[i]) ||
			    memcmp(name, names[i], name_len) != 0)
				abort();
		}
		proto_buf_free(&b);
	}
	for (int64_t i = 0; i < kept; i++)
		free(names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	int type = proto_frame_type(data, size, &e);
	if (type >= 0 && (type < PROTO_HELLO || type > PROTO_ERROR))
		abort();
	struct proto_msg m;
	if (proto_decode_control(data, size, &m, &e) == 0) {
		if (m.type != type || m.type == PROTO_SERIES || m.type == PROTO_SAMPLES)
			abort();
		if (memchr(m.host, '\0', sizeof m.host) == NULL ||
		    memchr(m.agent, '\0', sizeof m.agent) == NULL ||
		    memchr(m.message, '\0', sizeof m.message) == NULL)
			abort();
		control_again(&m);
	}
	samples(data, size);
	series(data, size);
	return 0;
}
