/* Loki's JSON response shapes for query results (with Loki 3's "warnings"
 * when a query could not read everything it should have). */
#include "api/resp.h"

#include "lib/gofloat.h"
#include "lib/timeutil.h"

static void write_cache(jw *w, const char *name)
{
    static const char *const keys[] = { "entriesFound", "entriesRequested", "entriesStored",
                                        "bytesReceived", "bytesSent", "requests",
                                        "downloadTime", "queryLengthServed" };
    jw_key(w, name);
    jw_obj_open(w);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        jw_key(w, keys[i]);
        jw_i64(w, 0);
    }
    jw_obj_close(w);
}

static void kv(jw *w, const char *k, int64_t v)
{
    jw_key(w, k);
    jw_i64(w, v);
}

static void write_store(jw *w, const sto_stats *s, int64_t post_filter)
{
    static const sto_stats zero = { 0 };
    if (!s)
        s = &zero;
    jw_key(w, "store");
    jw_obj_open(w);
    kv(w, "totalChunksRef", s->total_chunks_ref);
    kv(w, "totalChunksDownloaded", s->chunks_downloaded);
    kv(w, "chunksDownloadTime", 0);
    jw_key(w, "queryReferencedStructuredMetadata");
    jw_bool(w, false);
    jw_key(w, "chunk");
    jw_obj_open(w);
    kv(w, "headChunkBytes", s->head_chunk_bytes);
    kv(w, "headChunkLines", s->head_chunk_lines);
    kv(w, "decompressedBytes", s->decompressed_bytes);
    kv(w, "decompressedLines", s->decompressed_lines);
    kv(w, "compressedBytes", s->compressed_bytes);
    kv(w, "totalDuplicates", s->duplicates);
    kv(w, "postFilterLines", post_filter);
    kv(w, "headChunkStructuredMetadataBytes", 0);
    kv(w, "decompressedStructuredMetadataBytes", s->decompressed_meta_bytes);
    jw_obj_close(w);
    jw_obj_close(w);
}

void api_write_stats(jw *w, const api_query_stats *s)
{
    const sto_stats *st = s->store;
    int64_t bytes = st ? st->head_chunk_bytes + st->decompressed_bytes : 0;
    int64_t lines = st ? st->head_chunk_lines + st->decompressed_lines : 0;
    double secs = (double)s->exec_ns / 1e9;
    jw_key(w, "stats");
    jw_obj_open(w);
    jw_key(w, "summary");
    jw_obj_open(w);
    kv(w, "bytesProcessedPerSecond", secs > 0 ? (int64_t)((double)bytes / secs) : 0);
    kv(w, "linesProcessedPerSecond", secs > 0 ? (int64_t)((double)lines / secs) : 0);
    kv(w, "totalBytesProcessed", bytes);
    kv(w, "totalLinesProcessed", lines);
    jw_key(w, "execTime");
    jw_f64(w, secs);
    jw_key(w, "queueTime");
    jw_i64(w, 0);
    kv(w, "subqueries", 0);
    kv(w, "totalEntriesReturned", s->entries_returned);
    kv(w, "splits", 0);
    kv(w, "shards", 0);
    kv(w, "totalPostFilterLines", s->post_filter_lines);
    kv(w, "totalStructuredMetadataBytesProcessed", st ? st->decompressed_meta_bytes : 0);
    jw_obj_close(w);

    /* lokic's own: what the query's storage reads cost */
    jw_key(w, "lokic");
    jw_obj_open(w);
    kv(w, "blocksDecoded", st ? st->blocks_decoded : 0);
    kv(w, "blocksPartial", st ? st->blocks_partial : 0);
    kv(w, "blocksSkipped", st ? st->blocks_skipped : 0);
    jw_obj_close(w);

    jw_key(w, "querier");
    jw_obj_open(w);
    write_store(w, NULL, 0);
    jw_obj_close(w);

    jw_key(w, "ingester");
    jw_obj_open(w);
    kv(w, "totalReached", 1);
    kv(w, "totalChunksMatched", st ? st->total_chunks_matched : 0);
    kv(w, "totalBatches", 0);
    kv(w, "totalLinesSent", s->entries_returned);
    write_store(w, st, s->post_filter_lines);
    jw_obj_close(w);

    jw_key(w, "cache");
    jw_obj_open(w);
    static const char *const caches[] = { "chunk", "index", "result", "statsResult",
                                          "volumeResult", "seriesResult", "labelResult",
                                          "instantMetricResult" };
    for (size_t i = 0; i < sizeof caches / sizeof caches[0]; i++)
        write_cache(w, caches[i]);
    jw_obj_close(w);

    jw_key(w, "index");
    jw_obj_open(w);
    kv(w, "totalChunks", st ? st->total_chunks_ref : 0);
    kv(w, "postFilterChunks", st ? st->total_chunks_matched : 0);
    kv(w, "shardsDuration", 0);
    jw_obj_close(w);
    jw_obj_close(w);
}

void api_write_warnings(jw *w, const sto_stats *s)
{
    if (!s || !sto_read_errors_any(&s->read_errors))
        return;
    lk_buf msg = { 0 };
    jw_key(w, "warnings");
    jw_arr_open(w);
    for (int r = 0; r < STO_READ_N; r++) {
        lk_buf_reset(&msg);
        if (sto_read_warning(&s->read_errors, (sto_read_reason)r, &msg))
            jw_str(w, lk_buf_str(&msg));
    }
    jw_arr_close(w);
    lk_buf_free(&msg);
}

void api_write_labels(jw *w, const lk_labels *l)
{
    jw_obj_open(w);
    for (size_t i = 0; i < l->n; i++) {
        jw_key_str(w, l->v[i].name);
        jw_str(w, l->v[i].value);
    }
    jw_obj_close(w);
}

/* One value: ["<ns>", "<line>"], or with categorize-labels
 * ["<ns>", "<line>", {"structuredMetadata":{...},"parsed":{...}}]. */
static void write_value(jw *w, const logql_stream_res *s, size_t j, bool categorized)
{
    const lk_entry *e = &s->entries[j];
    jw_arr_open(w);
    jw_i64_str(w, e->ts);
    jw_str(w, e->line);
    if (categorized) {
        jw_obj_open(w);
        if (e->n_meta) {
            lk_labels m = { e->n_meta, (lk_label *)e->meta, NULL };
            jw_key(w, "structuredMetadata");
            api_write_labels(w, &m);
        }
        if (s->parsed && s->parsed[j].n) {
            jw_key(w, "parsed");
            api_write_labels(w, &s->parsed[j]);
        }
        jw_obj_close(w);
    }
    jw_arr_close(w);
}

/* The streams of r: {"stream":{...},"values":[...]} each (in an open array). */
static void write_streams(jw *w, const logql_streams *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const logql_stream_res *s = &r->v[i];
        jw_obj_open(w);
        jw_key(w, "stream");
        api_write_labels(w, s->labels);
        jw_key(w, "values");
        jw_arr_open(w);
        for (size_t j = 0; j < s->n; j++)
            write_value(w, s, j, r->categorized);
        jw_arr_close(w);
        jw_obj_close(w);
    }
}

void api_write_streams_response(lk_buf *out, const logql_streams *r, int64_t exec_ns)
{
    jw w;
    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "status");
    jw_cstr(&w, "success");
    api_write_warnings(&w, &r->stats);
    jw_key(&w, "data");
    jw_obj_open(&w);
    jw_key(&w, "resultType");
    jw_cstr(&w, "streams");
    if (r->categorized) {
        jw_key(&w, "encodingFlags");
        jw_arr_open(&w);
        jw_cstr(&w, "categorize-labels");
        jw_arr_close(&w);
    }
    jw_key(&w, "result");
    jw_arr_open(&w);
    write_streams(&w, r);
    jw_arr_close(&w);
    api_query_stats qs = { .store = &r->stats, .exec_ns = exec_ns,
                           .entries_returned = (int64_t)r->total_entries,
                           .post_filter_lines = r->post_filter_lines };
    api_write_stats(&w, &qs);
    jw_obj_close(&w);
    jw_obj_close(&w);
}

void api_write_tail_frame(lk_buf *out, const logql_streams *r)
{
    jw w;
    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "streams");
    jw_arr_open(&w);
    write_streams(&w, r);
    jw_arr_close(&w);
    jw_obj_close(&w);
}

/* The legacy streams array's elements: {"labels":"{...}","entries":[{"ts","line"}]} */
static void write_legacy_streams(jw *w, const logql_streams *r)
{
    lk_buf tmp = { 0 };
    for (size_t i = 0; i < r->n; i++) {
        const logql_stream_res *s = &r->v[i];
        jw_obj_open(w);
        jw_key(w, "labels");
        jw_str(w, s->canonical);
        jw_key(w, "entries");
        jw_arr_open(w);
        for (size_t j = 0; j < s->n; j++) {
            jw_obj_open(w);
            jw_key(w, "ts");
            lk_buf_reset(&tmp);
            lk_format_rfc3339nano(s->entries[j].ts, &tmp);
            jw_str(w, lk_buf_str(&tmp));
            jw_key(w, "line");
            jw_str(w, s->entries[j].line);
            jw_obj_close(w);
        }
        jw_arr_close(w);
        jw_obj_close(w);
    }
    lk_buf_free(&tmp);
}

void api_write_legacy_streams_response(lk_buf *out, const logql_streams *r, int64_t exec_ns)
{
    jw w;
    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "streams");
    jw_arr_open(&w);
    write_legacy_streams(&w, r);
    jw_arr_close(&w);
    api_query_stats qs = { .store = &r->stats, .exec_ns = exec_ns,
                           .entries_returned = (int64_t)r->total_entries,
                           .post_filter_lines = r->post_filter_lines };
    api_write_stats(&w, &qs);
    jw_obj_close(&w);
}

void api_write_legacy_tail_frame(lk_buf *out, const logql_streams *r)
{
    jw w;
    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "streams");
    jw_arr_open(&w);
    write_legacy_streams(&w, r);
    jw_arr_close(&w);
    jw_key(&w, "dropped_entries");
    jw_null(&w); /* lokic drops none; Loki's nil slice */
    jw_obj_close(&w);
}

void api_write_sample_time(jw *w, lk_buf *tmp, int64_t ns)
{
    lk_buf_reset(tmp);
    lk_gofloat_append(tmp, (double)(ns / LK_NS_PER_MS) / 1000.0, 'f', -1);
    jw_raw(w, tmp->p, tmp->len);
}
