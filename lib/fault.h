/* fault.h - fault injection for tests, in the manner of SQLite's: the
 * store's error paths (out of memory, a failed write, a full LMDB map) are
 * tested by making them happen, not hoped for.
 *
 * Built with RMON_TESTING (the unit tests' copy of each library), a named
 * point asks fault_hook whether to fail there: the hook returns 0 to go on,
 * or the code to fail with (a negative errno, or for the "db.*" points an
 * LMDB code such as MDB_MAP_FULL or EIO, as LMDB itself would return).
 * Programs are built without it, and FAULT() is the constant 0.
 *
 * Points: "wal.append_series", "wal.append_samples" (as if the buffer could
 * not grow: -ENOMEM), "wal.write" (the commit's write or fdatasync: -ENOSPC,
 * -EIO), "db.alloc" (a new name cannot be held: -ENOMEM), "db.commit" (the
 * result of LMDB's commit, e.g. MDB_MAP_FULL, ENOSPC or EIO),
 * "lmdb.begin_read" (a reader's snapshot cannot begin: an LMDB code such
 * as MDB_READERS_FULL, or EIO), "query.alloc" (a reader's handle, windows,
 * id cache or lookup order cannot be had: the NULL of malloc),
 * "query.read" (LMDB fails reading names, chunks or latest values: an
 * LMDB code or EIO), "coll.alloc" (the agent's process table cannot grow), "coll.sysconf"
 * (sysconf fails), "spool.write" (a sender's spool write: -ENOSPC, -EIO),
 * "alerts.commit" (the commit of alertd's own store: an LMDB code such as
 * MDB_MAP_FULL). */
#ifndef RMON_FAULT_H
#define RMON_FAULT_H

#ifdef RMON_TESTING
extern int (*fault_hook)(const char *point);
#define FAULT(point) (fault_hook ? fault_hook(point) : 0)
#else
#define FAULT(point) 0
#endif

#endif
