#!/usr/bin/env python3
"""Black-box: every push format and every push error code, against the real
binary. Good streams of a request with bad ones are kept."""
import time

from harness import LOKI29, Lokic, Result
import wire

NOW = time.time_ns()


def query(srv, q, **kw):
    params = {"query": q, "start": str(NOW - 3600 * 10**9), "end": str(NOW + 3600 * 10**9),
              "limit": "1000", "direction": "forward"}
    params.update(kw)
    st, doc = srv.get_json("/loki/api/v1/query_range", params)
    assert st == 200, (st, doc)
    return {tuple(sorted(s["stream"].items())): s["values"] for s in doc["data"]["result"]}


def lines_of(res):
    return sorted(v[1] for vals in res.values() for v in vals)


def main():
    t = Result()
    with Lokic(limits={**LOKI29, "reject_old_samples": True, "max_line_size": 100,
                       "max_label_names_per_series": 4}) as srv:
        # protobuf, snappy (promtail's format)
        st, body, _ = srv.post("/loki/api/v1/push",
                               wire.proto_body([('{app="p", env="x"}', [(NOW, "proto one"), (NOW + 1, "proto two")])]),
                               wire.PROTO)
        t.eq(st, 204, "protobuf push")
        # protobuf with gzip on top
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.gz(wire.proto_body([('{app="pg"}', [(NOW, "proto gzip")])])),
                            dict(wire.PROTO, **{"Content-Encoding": "gzip"}))
        t.eq(st, 204, "protobuf+gzip push")
        # JSON v1 with structured metadata
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.json_body([({"app": "j"}, [(NOW, "json one", {"trace_id": "abc"}), (NOW + 5, "json two")])]),
                            wire.JSON)
        t.eq(st, 204, "json push")
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.gz(wire.json_body([({"app": "jg"}, [(NOW, "json gzip")])])),
                            dict(wire.JSON, **{"Content-Encoding": "gzip"}))
        t.eq(st, 204, "json+gzip push")
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.deflate(wire.json_body([({"app": "jd"}, [(NOW, "json deflate")])])),
                            dict(wire.JSON, **{"Content-Encoding": "deflate"}))
        t.eq(st, 204, "json+deflate push")
        # legacy path, v0 JSON
        v0 = ('{"streams":[{"labels":"{app=\\"legacy\\"}","entries":[{"ts":"%s","line":"legacy line"}]}]}'
              % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW // 10**9))).encode()
        st, body, _ = srv.post("/api/prom/push", v0, wire.JSON)
        t.eq(st, 204, "legacy v0 json push: %r" % body)
        # a label value with a quote, pushed as JSON, stores the value itself
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.json_body([({"app": "q", "component": 'postgres "primary"'}, [(NOW, "quoted")])]),
                            wire.JSON)
        t.eq(st, 204, "json push with quote in label value")
        res = query(srv, '{component="postgres \\"primary\\""}')
        t.eq(list(res.keys()), [(("app", "q"), ("component", 'postgres "primary"'))], "quoted label value kept as is")

        res = query(srv, '{app=~"p|pg|j|jg|jd|legacy"}')
        t.eq(lines_of(res), sorted(["proto one", "proto two", "proto gzip", "json one", "json two",
                                    "json gzip", "json deflate", "legacy line"]), "all formats stored")

        # duplicates: identical (ts, line) stored once; same ts different line kept
        for _ in range(2):
            srv.post("/loki/api/v1/push", wire.proto_body([('{app="dup"}', [(NOW, "same"), (NOW, "other")])]), wire.PROTO)
        t.eq(lines_of(query(srv, '{app="dup"}')), ["other", "same"], "dedup of identical entries")

        # --- errors
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="bad"', [(NOW, "x")])]), wire.PROTO)
        t.eq(st, 400, "unparsable label set")
        t.check(b"error parsing labels" in body, "label parse message: %r" % body)
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{}', [(NOW, "x")])]), wire.PROTO)
        t.eq(st, 400, "empty label set")
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}, [(NOW, "x")])]), wire.JSON)
        t.eq(st, 400, "too many labels")
        t.check(b"label names; limit 4" in body, "too many labels message: %r" % body)
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body([({"1bad": "x"}, [(NOW, "x")])]), wire.JSON)
        t.eq(st, 400, "invalid label name")
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="long"}', [(NOW, "x" * 101)])]), wire.PROTO)
        t.eq(st, 400, "line too long")
        t.check(b"max entry size '100' bytes exceeded" in body, "line too long message: %r" % body)
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="old"}', [(NOW - 8 * 24 * 3600 * 10**9, "old")])]), wire.PROTO)
        t.eq(st, 400, "too old")
        t.check(b"timestamp too old" in body, "too old message: %r" % body)
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="new"}', [(NOW + 3600 * 10**9, "new")])]), wire.PROTO)
        t.eq(st, 400, "too new")
        t.check(b"timestamp too new" in body, "too new message: %r" % body)
        # out of order beyond half of max_chunk_age (1h) behind the newest entry
        srv.post("/loki/api/v1/push", wire.proto_body([('{app="ooo"}', [(NOW, "newest")])]), wire.PROTO)
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="ooo"}', [(NOW - 2 * 3600 * 10**9 + 10**9, "behind"), (NOW - 10 * 60 * 10**9, "within")])]), wire.PROTO)
        t.eq(st, 400, "too far behind")
        t.check(b"entry too far behind" in body, "too far behind message: %r" % body)
        t.eq(lines_of(query(srv, '{app="ooo"}', start=str(NOW - 3 * 3600 * 10**9))), ["newest", "within"],
             "out-of-order entry within the window kept")
        # partial success: good stream kept, bad one reported
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([
            ('{app="good"}', [(NOW, "good line")]), ('{app="good2"}', [(NOW, "y" * 200)])]), wire.PROTO)
        t.eq(st, 400, "mixed request answers 400")
        t.check(b"good2" in body, "message names the bad stream: %r" % body)
        t.eq(lines_of(query(srv, '{app="good"}')), ["good line"], "good stream of a mixed request kept")
        # bad encodings and bodies
        st, body, _ = srv.post("/loki/api/v1/push", b"\xff\xff\xff garbage", wire.PROTO)
        t.eq(st, 400, "garbage snappy")
        st, body, _ = srv.post("/loki/api/v1/push", b"{not json", wire.JSON)
        t.eq(st, 400, "bad json")
        st, body, _ = srv.post("/loki/api/v1/push", b'{"streams":[{"stream":{"a":"b"},"values":[[123,"x"]]}]}', wire.JSON)
        t.eq(st, 400, "json number timestamp")
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "b"}, [(NOW, "x")])]),
                               dict(wire.JSON, **{"Content-Encoding": "br"}))
        t.eq(st, 400, "unknown content encoding")
        st, body, _ = srv.post("/loki/api/v1/push", b"hello", {"Content-Type": "text/plain"})
        t.eq(st, 415, "unknown content type")
        st, _, _ = srv.get("/loki/api/v1/push")
        t.eq(st, 405, "GET on push")

        st, body, _ = srv.get("/metrics")
        t.check(b"loki_distributor_lines_received_total" in body, "lines received metric")
        t.check(b"loki_ingester_memory_streams" in body, "memory streams metric")

    # 413: a body over distributor.max_recv_msg_size
    with Lokic(config={"distributor": {"max_recv_msg_size": 1024}}, limits=LOKI29) as srv:
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "b"}, [(NOW, "z" * 4096)])]), wire.JSON)
        t.eq(st, 413, "body too large")
    # 429: over the ingestion rate
    with Lokic(limits={**LOKI29, "ingestion_rate_mb": 0.001, "ingestion_burst_size_mb": 0.001}) as srv:
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "b"}, [(NOW, "r" * 4000)])]), wire.JSON)
        t.eq(st, 429, "rate limited")
        t.check(b"ingestion rate limit exceeded" in body, "rate limit message: %r" % body)
    # tenants: auth enabled requires X-Scope-OrgID, and tenants are separate
    with Lokic(auth=True, limits=LOKI29) as srv:
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "b"}, [(NOW, "t1")])]), wire.JSON)
        t.eq(st, 401, "push without org id")
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body([({"a": "b"}, [(NOW, "t1")])]),
                            dict(wire.JSON, **{"X-Scope-OrgID": "team1"}))
        t.eq(st, 204, "push with org id")
        p = {"query": '{a="b"}', "start": str(NOW - 10**9), "end": str(NOW + 10**9)}
        st, doc = srv.get_json("/loki/api/v1/query_range", p, headers={"X-Scope-OrgID": "team2"})
        t.eq((st, doc["data"]["result"]), (200, []), "other tenant sees nothing")
        st, doc = srv.get_json("/loki/api/v1/query_range", p, headers={"X-Scope-OrgID": "team1"})
        t.eq(len(doc["data"]["result"]), 1, "own tenant sees its stream")
    t.done()


if __name__ == "__main__":
    main()
