/* The write-ahead log: every entry the ingester accepts is appended to a
 * segment file before its push is acknowledged, so that after a crash
 * (kill -9, power loss) a restart replays the segments into memory.
 *
 * Group commit: appenders copy their record into a shared buffer under a
 * mutex and get a ticket; the first waiter whose records are not on disk
 * yet writes whatever accumulated and calls fdatasync once for all of it,
 * then wakes the other waiters it covered. Concurrent pushes therefore
 * share one sync, and a lone push does its own write and sync without a
 * thread switch.
 *
 * Segments are numbered with 64-bit ids (1 .. WAL_MAX_SEGMENT_ID, never
 * reused while the WAL holds any segment); a new one is started at
 * segment_size, and after a failed write or sync (the failed batch's
 * tickets report the error; nothing after it goes to the damaged
 * segment).
 * The ingester deletes segments whose entries are all in flushed chunks
 * (wal_remove_before). File and record layout: top of storage/wal.c and
 * storage/walrec.c. */
#ifndef LOKIC_STORAGE_WAL_H
#define LOKIC_STORAGE_WAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/iter.h"

typedef struct wal wal;

#define WAL_DEFAULT_SEGMENT_SIZE (INT64_C(128) << 20)
/* Segment ids: 1 .. WAL_MAX_SEGMENT_ID. When the highest id is in use no
 * segment can follow it: batches fail with EOVERFLOW (pushes are refused,
 * nothing acknowledged is lost) until the WAL is emptied (an orderly
 * shutdown flushes everything and deletes it; ids start at 1 again). */
#define WAL_MAX_SEGMENT_ID (UINT64_MAX - 1)
#define WAL_NO_SEGMENT UINT64_MAX /* "no segment" where an id is expected */
/* Largest record payload written or accepted by replay. */
#define WAL_MAX_RECORD (UINT32_C(1) << 30)

typedef struct wal_opts {
    const char *dir;         /* created when missing */
    int64_t segment_size;    /* 0: WAL_DEFAULT_SEGMENT_SIZE */
    bool compress;           /* snappy-compress record bodies */
} wal_opts;

/* Opens the log for appending: starts a new segment
 * numbered after every segment already in dir (replay those first). A
 * failure to create the first segment is not fatal: the first batch tries
 * again and reports the error to its waiters. LK_EIO with the reason when
 * the directory cannot be created or opened. */
int wal_open(const wal_opts *o, wal **out, lk_buf *err);
/* Writes and syncs what is pending, closes the
 * segment. Accepts NULL. */
void wal_close(wal *w);

/* A push's claim on durability: the records appended under it. Zero it
 * before the first append; wait for it exactly once when anything was
 * appended (wal_wait), before it goes out of scope. */
typedef struct wal_ticket {
    uint64_t lo, hi;         /* first and last sequence number (0: none) */
    int err;                 /* errno of a failed write that covered it */
    struct wal_ticket *prev, *next;
    bool linked;
    bool waiting;            /* its waiter sleeps on cv */
    pthread_cond_t cv;       /* initialised by wal_wait while it waits */
} wal_ticket;

/* Record types (storage/walrec.c). */
#define WAL_REC_ENTRIES 1          /* one stream's entries */
#define WAL_REC_PUSH 2             /* a whole push request, as received */
/* Formats of a push request record. */
#define WAL_PUSH_SNAPPY_PROTO 1    /* snappy-compressed protobuf PushRequest */

/* Appends one record: the entries (body, as wal_body_put_entry wrote them,
 * n of them) of the stream `canonical` of `tenant`. Never blocks on I/O;
 * the record is written when a waiter asks (wal_wait), so that the records
 * of one push go to disk in one batch.
 * LK_ETOOLARGE when the record would exceed WAL_MAX_RECORD (nothing
 * appended). */
int wal_append(wal *w, lk_str tenant, lk_str canonical, uint32_t n, lk_str body, wal_ticket *t);
/* Appends one push request record: the request's bytes as received, in
 * `format` (WAL_PUSH_*), never compressed again. Same contract as
 * wal_append; LK_EINVAL for an empty body or an unknown format. */
int wal_append_push(wal *w, lk_str tenant, uint8_t format, lk_str body, wal_ticket *t);
/* Waits until every record of t is on disk, writing and syncing the
 * pending records itself when no other waiter is doing so. 0, or LK_EIO with
 * "failed to write to the WAL: <strerror>" appended to *err. A ticket
 * with nothing appended returns 0 at once. */
int wal_wait(wal *w, wal_ticket *t, lk_buf *err);

/* The segment the next write goes to (or a lower one): a record appended
 * after this call lands in this segment or a later one. */
uint64_t wal_active_segment(wal *w);
/* Deletes the segments numbered below seg, never the one being written.
 * Returns how many were deleted. */
size_t wal_remove_before(wal *w, uint64_t seg);
/* After everything was flushed: deletes every segment, the current one
 * included (appending afterwards starts a new one). */
size_t wal_remove_all(wal *w);

typedef struct wal_counters {
    int64_t records, bytes;      /* appended */
    int64_t syncs;               /* fdatasync calls on segments */
    int64_t sync_ns;             /* time spent in them */
    int64_t failures;            /* failed batches */
    int64_t segments;            /* segment files on disk */
    int64_t segments_removed;
} wal_counters;
void wal_get_counters(wal *w, wal_counters *c);

/* ---- records (storage/walrec.c) */

/* Appends the encoding of e to body; *prev_ts is the previous entry's
 * timestamp (start at 0). */
void wal_body_put_entry(lk_buf *body, const lk_entry *e, int64_t *prev_ts);

/* A decoded record; entries point into the record's bytes or into the
 * decoder's buffers (valid until the next decode or wal_rec_free).
 * type WAL_REC_ENTRIES: canonical and the n entries e; WAL_REC_PUSH: the
 * request's bytes in push (format WAL_PUSH_*), n = 0 (the replayer
 * decodes them). */
typedef struct wal_rec {
    uint8_t type;
    uint8_t format;
    lk_str push;
    lk_str tenant, canonical;
    lk_entry *e;
    size_t n, e_cap;
    lk_label *meta;
    size_t n_meta, meta_cap;
    char *raw;               /* decompressed body */
    size_t raw_cap;
} wal_rec;

/* Decodes a record payload. LK_ECORRUPT with the reason in *err when it
 * is not exactly a well-formed record. */
int wal_rec_decode(const uint8_t *p, size_t n, wal_rec *r, lk_buf *err);
void wal_rec_free(wal_rec *r);

/* ---- replay (storage/walreplay.c) */

/* Called for each valid record in order; seg is its segment. A non-zero
 * return stops the replay and is returned. */
typedef int (*wal_replay_fn)(void *ctx, uint64_t seg, const wal_rec *r);

typedef struct wal_replay_stats {
    size_t segments;         /* segment files read */
    size_t records;          /* valid records replayed */
    size_t entries;
    size_t bad_segments;     /* segments with a torn or corrupt tail (or bad header) */
    uint64_t bytes_dropped;  /* bytes after the last valid record of a segment */
    uint64_t last_segment;   /* highest segment number seen (0: none) */
} wal_replay_stats;

/* Replays every segment of dir in order. A segment's torn or corrupt tail
 * is cut at its last valid record, with a warning that says what was
 * dropped; later segments are still read. A missing dir is an empty log.
 * LK_EIO when dir cannot be read. */
int wal_replay(const char *dir, wal_replay_fn fn, void *ctx, wal_replay_stats *st, lk_buf *err);
/* Replays one segment image (bytes of a segment file); for the fuzzer and
 * the tests. */
int wal_replay_bytes(const uint8_t *p, size_t n, uint64_t seg, wal_replay_fn fn, void *ctx,
                     wal_replay_stats *st);

/* Segment file name of id: "00000012.wal", at least 8 digits (into out,
 * replaced). */
void wal_segment_name(uint64_t id, lk_buf *out);

#endif
