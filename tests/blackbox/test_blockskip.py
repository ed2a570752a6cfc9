#!/usr/bin/env python3
"""Black-box: block skipping. A stream of many small blocks holds one line
with a rare word; after a restart (everything in chunk files) a line-filter
query for that word decompresses only the blocks whose token filter may
hold it: lokic_query_blocks_skipped_total grows and the query's stats show
far fewer lines processed than the stream holds. A count with no stage
reads the blocks without their lines (stats.lokic.blocksPartial,
lokic_query_blocks_partial_total)."""
import time

from harness import LOKI29, Lokic, Result
import wire

S = 10**9
N = 20000



def main():
    t = Result()
    t0 = time.time_ns() - 3600 * S
    cfg = {"ingester": {"chunk_block_size": 4096}}
    with Lokic(config=cfg, limits={**LOKI29, "ingestion_rate_mb": 1000, "ingestion_burst_size_mb": 1000}) as srv:
        for b in range(N // 1000):
            ents = []
            for i in range(b * 1000, b * 1000 + 1000):
                line = "ts=%d level=info msg=\"request served\" user=u%d path=/api/v%d" % (i, i % 13, i % 5)
                if i == N // 2 + 7:
                    line = "ts=%d level=warn msg=\"a zebra crossed the datacenter\"" % i
                ents.append((t0 + i * 1000000, line))
            st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="skip"}', ents)]), wire.PROTO)
            t.eq(st, 204, "push batch %d" % b)
        srv.stop()
        srv.start()
        before = srv.metric("lokic_query_blocks_skipped_total")
        t.check(before is not None, "lokic_query_blocks_skipped_total is exported")
        st, doc = srv.get_json("/loki/api/v1/query_range", {
            # the token filter can rule out tokens that lie wholly inside the
            # needle ("zebra" here); a one-word needle may be part of a longer
            # token, so it never skips (no false negatives)
            "query": '{app="skip"} |= "a zebra crossed"', "start": str(t0), "end": str(t0 + 3600 * S),
            "limit": "100"})
        t.eq(st, 200, "query")
        lines = [v[1] for s in doc["data"]["result"] for v in s["values"]]
        t.eq(len(lines), 1, "the one matching line")
        t.check(lines and "zebra" in lines[0], "it holds the needle: %r" % lines[:1])
        summary = doc["data"]["stats"]["summary"]
        processed = summary["totalLinesProcessed"]
        t.check(processed < N // 10, "lines processed %d of %d: blocks skipped" % (processed, N))
        after = srv.metric("lokic_query_blocks_skipped_total")
        t.check(before is not None and after is not None and after > before,
                "lokic_query_blocks_skipped_total grew: %r -> %r" % (before, after))
        # without a line filter every line is read, but not its bytes
        partial0 = srv.metric("lokic_query_blocks_partial_total")
        st, doc = srv.get_json("/loki/api/v1/query_range", {
            "query": 'count_over_time({app="skip"}[2h])', "start": str(t0 + 3600 * S),
            "end": str(t0 + 3600 * S), "step": "60"})
        if st == 200 and doc["data"]["result"]:
            t.eq(doc["data"]["result"][0]["values"][-1][1], str(N), "all lines counted")
        own = doc["data"]["stats"].get("lokic", {}) if st == 200 else {}
        t.check(own.get("blocksDecoded", 0) > 0 and own.get("blocksPartial") == own.get("blocksDecoded"),
                "every block read without its lines: %r" % own)
        store = doc["data"]["stats"]["ingester"]["store"] if st == 200 else {}
        t.check(store.get("totalChunksDownloaded", 0) > 0, "chunk files read: %r" % store)
        partial1 = srv.metric("lokic_query_blocks_partial_total")
        t.check(partial0 is not None and partial1 is not None and partial1 > partial0,
                "lokic_query_blocks_partial_total grew: %r -> %r" % (partial0, partial1))
    t.done()


if __name__ == "__main__":
    main()
