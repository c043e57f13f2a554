/* changes.h - the record of which series each commit changed (the
 * "changes" database, layout.h): the writer (db.c) writes one in each
 * commit's transaction, readers (query_changed) fold them into the set of
 * series changed since a sequence.  Not a public API.
 *
 * A record names the changed series by ordinal, as a list of u32, a
 * bitmap over every ordinal, or runs of consecutive ordinals, whichever is
 * smallest: a commit that touches all series costs 8 bytes, one that
 * touches a thousand agents' series scattered among 750,000 about 8 KiB. */
#ifndef RMON_CHANGES_H
#define RMON_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "store/lmdb_env.h"

/* The ordinals changed in the commit being written, and room to encode. */
struct changes {
	uint32_t *ordinals;
	size_t n, cap;
	uint64_t *bits; /* the same as a bitmap */
	size_t bits_cap;
	uint8_t *record;
	size_t record_cap;
};

/* Notes ordinal as changed; ENOMEM (LMDB's convention: positive). */
int changes_add(struct changes *c, uint32_t ordinal);

/* Writes the record of commit seq (the noted ordinals, of n_ordinals in
 * all) stamped now_ns, in the write transaction txn, then forgets the
 * noted ordinals.  Returns LMDB's code. */
int changes_put(struct changes *c, struct lmdb_env *le, MDB_txn *txn, uint64_t seq,
		uint32_t n_ordinals, int64_t now_ns);

/* Removes the records stamped before cutoff_ns (the oldest keys: it reads
 * what it removes and one more) and raises meta "changes_floor" to the
 * newest sequence removed.  Returns LMDB's code. */
int changes_prune(struct lmdb_env *le, MDB_txn *txn, int64_t cutoff_ns);

void changes_free(struct changes *c);

/* ORs the ordinals of one record (len bytes) into bitmap, which covers
 * n_ordinals.  -1 when the record is damaged or names an ordinal past
 * n_ordinals. */
int changes_mark(const uint8_t *record, size_t len, uint8_t *bitmap, size_t n_ordinals);

#endif
