/* Log deletion (Loki's /loki/api/v1/delete): delete requests per tenant,
 * kept durably (storage/delstore.c), held in memory as one immutable set
 * per tenant (storage/delset.c) that queries read to hide deleted lines,
 * and applied to the flushed chunks by the compactor (storage/compact.c).
 *
 * A request names a log selector with an optional pipeline and a time
 * range [start, end] in ms, both inclusive (Loki's model.Time). A line of
 * a stream the selector matches, inside the range, is deleted when the
 * pipeline keeps it (no pipeline: every line). Storage cannot parse LogQL:
 * the query layer passes the compiled form in as callbacks
 * (del_filter_ops, query/delfilter.c), as the WAL's push decoder is. */
#ifndef LOKIC_STORAGE_DELETE_H
#define LOKIC_STORAGE_DELETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "storage/iter.h"

/* A request id: 8 lowercase hex digits, as Loki's. */
#define DEL_ID_LEN 8

typedef struct del_req {
    char id[DEL_ID_LEN + 1];
    int64_t start_ms, end_ms; /* inclusive */
    int64_t created_ms;
    bool processed;           /* the compactor rewrote the chunks */
    lk_str query;             /* owned by whoever holds the request */
} del_req;

/* The compiled form of a request's query, from the query layer. */
typedef struct del_filter_ops {
    /* Compiles `query` (a log selector, optional pipeline). LK_EPARSE
     * with Loki's message in *err. */
    int (*compile)(lk_str query, void **out, lk_buf *err);
    /* Does the selector match a stream with these labels? If so, *lines
     * receives a matcher of its lines (NULL when every line goes: no
     * pipeline), freed with line_free. */
    bool (*stream)(const void *compiled, const lk_labels *labels, void **lines);
    /* Does the pipeline keep (so delete) this entry? */
    bool (*line)(void *lines, const lk_entry *e);
    void (*line_free)(void *lines);
    void (*free)(void *compiled);
} del_filter_ops;

/* ---- the tenant's set (storage/delset.c) */

/* Every request of one tenant, sorted by creation, with their compiled
 * queries; immutable and reference-counted, so a query reads the set it
 * took while requests are added or cancelled. */
typedef struct del_set del_set;

const del_req *del_set_reqs(const del_set *s, size_t *n);
void del_set_release(const del_set *s); /* accepts NULL */

/* Builds a set from n requests (copied); the compiled queries from ops.
 * A request whose query no longer compiles is kept (listed) but deletes
 * nothing, with a warning. */
del_set *del_set_new(const del_filter_ops *ops, const del_req *v, size_t n);
const del_set *del_set_ref(const del_set *s);

/* Is the entry, of a stream with these labels, deleted by one of the
 * set's requests? For the compactor: one request (index i), or every
 * request with i == SIZE_MAX. */
typedef struct del_stream del_stream;
/* The requests of s that match the labels and overlap [from_ns,
 * through_ns]; NULL when none does (nothing to check). */
del_stream *del_stream_new(const del_set *s, size_t only, const lk_labels *labels,
                           int64_t from_ns, int64_t through_ns);
bool del_stream_deletes(del_stream *d, const lk_entry *e);
void del_stream_free(del_stream *d); /* accepts NULL */

/* Wraps a stream's iterator so that deleted entries are skipped; returns
 * `in` itself when nothing of [from_ns, through_ns] can be deleted. */
sto_iter *del_iter_wrap(sto_iter *in, const del_set *s, const lk_labels *labels,
                        int64_t from_ns, int64_t through_ns);

/* ---- the durable store (storage/delstore.c) */

typedef struct del_store del_store;

/* Opens (creating) the store in dir, an LMDB environment of its own. */
int del_store_open(const char *dir, del_store **out, lk_buf *err);
void del_store_close(del_store *d); /* accepts NULL */
/* Writes (adds or replaces) a request; durable on return. */
int del_store_put(del_store *d, lk_str tenant, const del_req *r, lk_buf *err);
/* Removes a request; LK_ENOTFOUND when it is not there. */
int del_store_remove(del_store *d, lk_str tenant, const char *id, lk_buf *err);
/* Calls fn for every stored request, tenant by tenant (ascending). A
 * record that does not decode is skipped with a warning. */
typedef int (*del_store_fn)(void *ctx, lk_str tenant, const del_req *r);
int del_store_load(del_store *d, del_store_fn fn, void *ctx, lk_buf *err);

#endif
