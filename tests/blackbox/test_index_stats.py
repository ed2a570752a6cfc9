#!/usr/bin/env python3
"""Black-box: /loki/api/v1/index/stats. Streams, chunks, bytes and entries
of a selector's streams over a range, from memory and, after a restart, from
the index; a chunk partly inside the range counts in proportion; a missing
or metric query is a 400; no Loki status wrapper."""
import time

from harness import Lokic, Result
import wire

S = 10**9


def stats(srv, query, start, end):
    params = {"start": str(start), "end": str(end)}
    if query is not None:
        params["query"] = query
    return srv.get_json("/loki/api/v1/index/stats", params)


def main():
    t = Result()
    t0 = (time.time_ns() // S - 3600) * S
    line = "level=info msg=\"stats test line\" n=%d"
    with Lokic() as srv:
        a = [(t0 + i * S, line % i) for i in range(100)]
        b = [(t0 + i * S, line % i) for i in range(50)]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(
            [('{app="a", env="prod"}', a), ('{app="b", env="dev"}', b)]), wire.PROTO)
        t.eq(st, 204, "push")
        line_bytes = sum(len(e[1]) for e in a)
        for phase in ("memory", "disk"):
            st, doc = stats(srv, '{app="a"}', t0, t0 + 200 * S)
            t.eq(st, 200, "%s: 200" % phase)
            t.eq(sorted(doc), ["bytes", "chunks", "entries", "streams"], "%s: the four fields only" % phase)
            t.eq((doc["streams"], doc["chunks"], doc["entries"]), (1, 1, 100), "%s: one stream, one chunk, 100 entries" % phase)
            t.check(doc["bytes"] > 0, "%s: bytes %d" % (phase, doc["bytes"]))
            print("%s: %r" % (phase, doc))
            if phase == "memory":
                t.check(doc["bytes"] >= line_bytes, "memory: uncompressed bytes %d >= %d" % (doc["bytes"], line_bytes))
            st, doc = stats(srv, '{env=~"prod|dev"} |= "stats"', t0, t0 + 200 * S)
            t.eq((doc["streams"], doc["entries"]), (2, 150), "%s: a regex selector, pipeline ignored" % phase)
            # the first half of a's span: about half its entries
            st, doc = stats(srv, '{app="a"}', t0 - 10 * S, t0 + 49 * S + S // 2)
            t.check(45 <= doc["entries"] <= 55, "%s: half the span, about half the entries: %r" % (phase, doc))
            st, doc = stats(srv, '{app="a"}', t0 + 500 * S, t0 + 600 * S)
            t.eq(doc, {"streams": 0, "chunks": 0, "bytes": 0, "entries": 0}, "%s: outside the data" % phase)
            st, doc = stats(srv, '{app="nope"}', t0, t0 + 200 * S)
            t.eq(doc.get("streams"), 0, "%s: no such stream" % phase)
            srv.stop()
            srv.start()
        st, _ = stats(srv, None, t0, t0 + 200 * S)
        t.eq(st, 400, "no query")
        st, _ = stats(srv, 'rate({app="a"}[1m])', t0, t0 + 200 * S)
        t.eq(st, 400, "a metric query")
    t.done()


if __name__ == "__main__":
    main()
