/* The compactor's part of log deletion (ing_delete_cycle, storage/ingester.h):
 * with filter-and-delete, each delete request past its cancel period has the
 * flushed chunks that hold its lines rewritten without them, then is marked
 * processed. Runs on the flusher thread, in the retention cycle.
 *
 * One chunk at a time, crash-safe at every step:
 *   1. the chunk file is read (cdir_read) and its blocks decoded; the entries
 *      the request does not delete go into a new chunk (cut into blocks as a
 *      stream's head is); nothing deleted: nothing changes;
 *   2. the new chunk file is written durably under its own name (cdir_write);
 *      a crash here leaves an unreferenced file, as a flush would;
 *   3. the index swaps the references in one LMDB transaction (idx_replace:
 *      new in, old out; an emptied chunk only leaves), so a crash leaves
 *      exactly one of the two indexed;
 *   4. the old file is unlinked (a crash before leaves an unreferenced file);
 *   5. when every chunk is done and none of the request's range is left
 *      only in memory (else the next cycle goes again, once it is flushed),
 *      the request is marked processed (a crash before reruns it, which
 *      finds only what is left to delete).
 * Lines still in memory, and those of unreferenced files an index rebuild
 * would find again, stay hidden by the query-time filter: a processed
 * request keeps filtering, as in Loki. A query that listed the old chunk
 * just before the swap may find its file gone and warn about it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/delete.h"
#include "storage/ing_int.h"

typedef struct rewrite {
    ing *g;
    lk_str tenant, canonical;
    const lk_labels *labels;
    del_stream *d;
    size_t removed, chunks;
} rewrite;

/* Copies the entries of c that d does not delete into a new chunk;
 * counts the others into *removed. */
static int filter_chunk(rewrite *rw, const chk_chunk *c, chk_chunk **out, size_t *removed,
                        lk_buf *err)
{
    chk_chunk *nc = chk_chunk_new();
    chk_chunk_set_codec(nc, rw->g->lim.codec);
    chk_decoded dec = { 0 };
    int rc = 0;
    *removed = 0;
    for (size_t b = 0; rc == 0 && b < chk_chunk_nblocks(c); b++) {
        if ((rc = chk_block_decode(chk_chunk_block(c, b), &dec, err)) != 0)
            break;
        for (size_t i = 0; rc == 0 && i < dec.n; i++) {
            if (del_stream_deletes(rw->d, &dec.e[i])) {
                (*removed)++;
                continue;
            }
            if (chk_chunk_head_full(nc, &rw->g->lim))
                chk_chunk_cut_block(nc);
            int a = chk_chunk_append(nc, &dec.e[i]); /* 1 stored, 0 duplicate */
            if (a < 0) {
                lk_buf_printf(err, "rewriting a chunk: %s", lk_strerror(a));
                rc = a;
            }
        }
    }
    chk_decoded_free(&dec);
    if (rc != 0) {
        chk_chunk_free(nc);
        return rc;
    }
    chk_chunk_close(nc);
    *out = nc;
    return 0;
}

/* Writes nc durably; its reference into *ref. */
static int write_chunk(rewrite *rw, const chk_ref *old, const chk_chunk *nc, chk_ref *ref,
                       lk_buf *err)
{
    lk_buf bytes = { 0 };
    if (chk_file_encode(nc, rw->canonical, old->sid.fp, &bytes) != 0)
        LK_BUG("encoding a rewritten chunk failed");
    *ref = (chk_ref){ .sid = old->sid, .from = chk_chunk_mint(nc), .through = chk_chunk_maxt(nc),
                      .crc = chk_file_crc(lk_buf_str(&bytes)),
                      .entries = (uint32_t)chk_chunk_entries(nc), .size = bytes.len };
    cdir_file f = { .tenant = rw->tenant, .ref = *ref, .bytes = lk_buf_str(&bytes) };
    int rc = cdir_write(rw->g->dir, &f, 1, err);
    lk_buf_free(&bytes);
    return rc;
}

static int rewrite_chunk(rewrite *rw, const chk_ref *old, lk_buf *err)
{
    ing *g = rw->g;
    chk_chunk *c = NULL, *nc = NULL;
    int rc = cdir_read(g->dir, rw->tenant, old, rw->canonical, &c, err);
    if (rc == LK_ENOTFOUND || rc == LK_ECORRUPT || rc == LK_EUNSUPPORTED) {
        log_warn("a chunk to delete lines from does not read; left as it is",
                 "tenant=\"%.*s\" err=\"%s\"", LK_STR_FMT(rw->tenant), err->p ? err->p : "");
        lk_buf_reset(err);
        return 0;
    }
    size_t removed = 0;
    if (rc == 0)
        rc = filter_chunk(rw, c, &nc, &removed, err);
    chk_chunk_free(c);
    if (rc != 0 || removed == 0) {
        chk_chunk_free(nc);
        return rc;
    }
    chk_ref ref;
    bool empty = chk_chunk_empty(nc);
    if (!empty)
        rc = write_chunk(rw, old, nc, &ref, err);
    chk_chunk_free(nc);
    idx_chunk ic = { .tenant = rw->tenant, .canonical = rw->canonical, .labels = rw->labels,
                     .ref = *old };
    if (rc == 0)
        rc = idx_replace(g->index, &ic, empty ? NULL : &ref, err);
    if (rc != 0)
        return rc;
    lk_buf path = { 0 };
    cdir_path(g->dir, rw->tenant, old, &path);
    if (unlink(path.p) != 0 && errno != ENOENT)
        log_warn("removing a rewritten chunk file failed", "path=\"%s\" err=\"%s\"", path.p,
                 strerror(errno));
    lk_buf_free(&path);
    rw->removed += removed;
    rw->chunks++;
    atomic_fetch_add(&g->deleted_chunks_rewritten, 1);
    return 0;
}

static int rewrite_series(rewrite *rw, const del_set *s, size_t req, const idx_series *se,
                          int64_t from, int64_t through, lk_buf *err)
{
    lk_labels labels = { 0 };
    if (labels_parse(se->canonical, &labels, NULL) != 0)
        return 0; /* the index's own bytes; select checked them */
    rw->canonical = se->canonical;
    rw->labels = &labels;
    rw->d = del_stream_new(s, req, &labels, from, through);
    int rc = 0;
    for (size_t k = 0; rw->d && rc == 0 && k < se->n_chunks; k++) {
        if (k > 0 && chk_ref_same(&se->chunks[k - 1], &se->chunks[k]))
            continue;
        rc = rewrite_chunk(rw, &se->chunks[k], err);
    }
    del_stream_free(rw->d);
    rw->d = NULL;
    labels_free(&labels);
    return rc;
}

/* Does the tenant still hold entries of [from, through] only in memory? */
static bool unflushed(ing *g, lk_str tenant, int64_t from, int64_t through)
{
    ing_tenant *t = ing_tenant_get(g, tenant, false);
    if (!t)
        return false;
    size_t n;
    st_stream **all = ing_tenant_streams(t, &n);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        found = found || st_stream_unflushed_in(all[i], from, through);
        st_stream_unref(all[i]);
    }
    free(all);
    return found;
}

/* Rewrites the tenant's chunks holding lines of request `req` of s.
 * Returns 1 (not an error) when some of its range is still only in
 * memory: the request is applied again next cycle, once that is flushed. */
static int apply_request(ing *g, lk_str tenant, const del_set *s, size_t req, lk_buf *err)
{
    size_t n;
    const del_req *r = &del_set_reqs(s, &n)[req];
    int64_t from = r->start_ms * LK_NS_PER_MS, through = r->end_ms * LK_NS_PER_MS + 999999;
    idx_result res = { 0 };
    int rc = idx_select(g->index, tenant, NULL, 0, from, through, true, &res, err);
    rewrite rw = { .g = g, .tenant = tenant };
    for (size_t i = 0; rc == 0 && i < res.n; i++)
        rc = rewrite_series(&rw, s, req, &res.v[i], from, through, err);
    idx_result_free(&res);
    if (rc == 0 && unflushed(g, tenant, from, through)) {
        log_debug("a delete request waits for its lines in memory to be flushed",
                  "delete_request_id=%s chunks_rewritten=%zu", r->id, rw.chunks);
        return 1;
    }
    if (rc == 0)
        log_info("delete request processed", "delete_request_id=%s user=\"%.*s\" "
                 "chunks_rewritten=%zu lines_deleted=%zu", r->id, LK_STR_FMT(tenant),
                 rw.chunks, rw.removed);
    return rc;
}

int ing_delete_cycle(ing *g, lk_buf *err)
{
    if (!g->opts.delete_compact || !g->index || !g->dir)
        return 0;
    int64_t now_ms = lk_now_ns() / LK_NS_PER_MS;
    int64_t cancel_ms = g->opts.delete_cancel_period_ns / LK_NS_PER_MS;
    size_t nt;
    ing_del_tenant *ts = ing_deletes_all(g, &nt);
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < nt; t++) {
        size_t n;
        const del_req *v = del_set_reqs(ts[t].set, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (v[i].processed || v[i].created_ms + cancel_ms > now_ms)
                continue;
            rc = apply_request(g, ts[t].tenant, ts[t].set, i, err);
            if (rc == 1) { /* not all on disk yet */
                rc = 0;
                continue;
            }
            if (rc == 0)
                rc = ing_delete_mark_processed(g, ts[t].tenant, v[i].id, err);
            if (rc == LK_ENOTFOUND)
                rc = 0; /* cancelled meanwhile: nothing more to do */
        }
    }
    ing_deletes_all_free(ts, nt);
    return rc;
}
