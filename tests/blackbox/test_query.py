#!/usr/bin/env python3
"""Black-box: log queries, metadata endpoints and their parameter errors."""
import json
import time
import urllib.parse

from harness import LOKI29, Lokic, Result
import wire

T0 = 1793491200 * 10**9  # 2026-11-01T00:00:00Z
S = 10**9


def main():
    t = Result()
    with Lokic(limits={**LOKI29, "max_entries_limit_per_query": 200}) as srv:
        streams = [
            ('{app="a", env="prod"}', [(T0 + i * S, "a line %d level=%s" % (i, "error" if i % 3 == 0 else "info")) for i in range(30)]),
            ('{app="b", env="dev"}', [(T0 + i * S + 500, "b line %d <&> 10.1.2.%d" % (i, i)) for i in range(30)]),
        ]
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), wire.PROTO)
        t.eq(st, 204, "push")
        base = {"start": str(T0), "end": str(T0 + 60 * S)}

        def qr(q, **kw):
            p = dict(base, query=q)
            p.update(kw)
            return srv.get_json("/loki/api/v1/query_range", p)

        st, doc = qr('{app="a"}', limit="5")
        t.eq(st, 200, "query_range")
        t.eq(doc["data"]["resultType"], "streams", "resultType")
        vals = doc["data"]["result"][0]["values"]
        t.eq([v[0] for v in vals], [str(T0 + i * S) for i in (29, 28, 27, 26, 25)], "backward limit 5")
        t.check("stats" in doc["data"] and "summary" in doc["data"]["stats"], "stats present")
        st, doc = qr('{env=~"prod|dev"}', limit="4", direction="FORWARD")
        got = sorted((v[0], s["stream"]["app"]) for s in doc["data"]["result"] for v in s["values"])
        t.eq(got, [(str(T0), "a"), (str(T0 + 500), "b"), (str(T0 + S), "a"), (str(T0 + S + 500), "b")],
             "limit applies across streams (forward)")
        st, doc = qr('{app="a"} |= "level=error" != "line 3"')
        t.eq(len(doc["data"]["result"][0]["values"]), 9, "chained line filters")
        st, doc = qr('{app="b"} |~ "line [12]$"')
        t.eq(doc["data"]["result"], [], "regex filter is unanchored but $ is end of line")
        st, doc = qr('{app="b"} |= ip("10.1.2.0/30")')
        t.eq(len(doc["data"]["result"][0]["values"]), 4, "ip filter")
        st, body, _ = srv.get("/loki/api/v1/query_range", dict(base, query='{app="b"} |= "line 7 "'))
        t.check(b"\\u003c\\u0026\\u003e" in body, "lines are HTML-escaped like Go's encoder: %r" % body[:300])
        # start inclusive, end exclusive
        st, doc = qr('{app="a"}', start=str(T0 + 2 * S), end=str(T0 + 4 * S))
        t.eq([v[0] for v in doc["data"]["result"][0]["values"]], [str(T0 + 3 * S), str(T0 + 2 * S)], "start inclusive, end exclusive")
        # POST form
        st, body, _ = srv.post("/loki/api/v1/query_range",
                               urllib.parse.urlencode(dict(base, query='{app="a"}', limit="2")).encode(),
                               {"Content-Type": "application/x-www-form-urlencoded"})
        t.eq((st, len(json.loads(body)["data"]["result"][0]["values"])), (200, 2), "form POST")
        # RFC3339 and float seconds
        st, doc = qr('{app="a"}', start="2026-11-01T00:00:10Z", end="1793491212.5")
        t.eq(len(doc["data"]["result"][0]["values"]), 3, "RFC3339 start and float-second end")
        # instant log query: refused as Loki 3 refuses it
        st, doc = srv.get_json("/loki/api/v1/query", {"query": '{app="a"}', "time": str(T0 + 40 * S), "limit": "100"})
        t.eq((st, doc), (400, b"log queries are not supported as an instant query type, "
                               b"please change your query to a range query type\n"), "instant log query")
        # legacy query shape
        st, doc = srv.get_json("/api/prom/query", dict(base, query='{app="a"}', limit="1"))
        t.eq((st, doc["streams"][0]["labels"], doc["streams"][0]["entries"][0]["ts"]),
             (200, '{app="a", env="prod"}', "2026-11-01T00:00:29Z"), "legacy query")

        # errors
        for q, params, what in [
            ('{app="a"', {}, "syntax error"),
            ('{}', {}, "empty selector"),
            ('{app=~".*"}', {}, "all matchers empty-compatible"),
            ('{app=~"("}', {}, "bad regex"),
            ('{app="a"}', {"start": str(T0 + 10 * S), "end": str(T0)}, "end before start"),
            ('{app="a"}', {"limit": "0"}, "limit 0"),
            ('{app="a"}', {"limit": "201"}, "limit over max_entries_limit_per_query"),
            ('{app="a"}', {"direction": "sideways"}, "bad direction"),
            ('{app="a"}', {"start": "yesterday"}, "bad time"),
            ('{app="a"}', {"step": "0"}, "zero step"),
            ('{app="a"}', {"step": "0.001"}, "too many points"),
        ]:
            p = dict(base, query=q)
            p.update(params)
            st, body, hdr = srv.get("/loki/api/v1/query_range", p)
            t.eq(st, 400, what + ": " + body.decode(errors="replace"))
            t.check(hdr.get("Content-Type", "").startswith("text/plain"), what + ": plain text error")
        st, doc = qr('{app="a"} | logfmt | level="error"', limit="3")
        t.eq([s["stream"].get("level") for s in doc["data"]["result"]], ["error"], "parser stage and label filter")
        st, doc = qr('{app="a"} | json | __error__!=""', limit="1")
        t.eq(doc["data"]["result"][0]["stream"].get("__error__"), "JSONParserErr", "json parser error label")
        st, doc = srv.get_json("/loki/api/v1/query_range", dict(base, query='count_over_time({app="a"}[10s])', step="10"))
        t.eq((st, doc["data"]["resultType"]), (200, "matrix"), "metric range query")
        vals = doc["data"]["result"][0]["values"]
        t.eq(vals[1], [1793491210, "10"], "count_over_time over (t-10s, t]")
        st, doc = srv.get_json("/loki/api/v1/query", {"query": "vector(1)+vector(1)", "time": "4000000000"})
        t.eq((st, doc["data"]["result"][0]["value"][1]), (200, "2"), "Grafana's health check query")

        # metadata
        st, doc = srv.get_json("/loki/api/v1/labels", base)
        t.eq(doc, {"status": "success", "data": ["app", "env"]}, "labels")
        st, doc = srv.get_json("/loki/api/v1/labels", {"start": str(T0 - 100 * S), "end": str(T0 - 50 * S)})
        t.eq(doc, {"status": "success"}, "labels outside the range: no data key")
        st, doc = srv.get_json("/loki/api/v1/label/app/values", base)
        t.eq(doc["data"], ["a", "b"], "label values")
        st, doc = srv.get_json("/loki/api/v1/label/app/values", dict(base, query='{env="dev"}'))
        t.eq(doc["data"], ["b"], "label values with query")
        st, doc = srv.get_json("/api/prom/label", base)
        t.eq(doc, {"values": ["app", "env"]}, "legacy labels")
        st, doc = srv.get_json("/api/prom/label/env/values", base)
        t.eq(doc, {"values": ["dev", "prod"]}, "legacy label values")
        st, body, _ = srv.get("/loki/api/v1/series?" + urllib.parse.urlencode(
            [("match[]", '{app="a"}'), ("match[]", '{env="dev"}'), ("start", base["start"]), ("end", base["end"])]))
        t.eq(json.loads(body)["data"], [{"app": "a", "env": "prod"}, {"app": "b", "env": "dev"}], "series with two match[]")
        st, doc = srv.get_json("/loki/api/v1/series", base)
        t.eq(len(doc["data"]), 2, "series without match: all")
        st, doc = srv.get_json("/loki/api/v1/series", {"match[]": '{app="zzz"}', **base})
        t.eq(doc, {"status": "success", "data": []}, "series: empty data is an array")
        st, _, _ = srv.get("/loki/api/v1/series", {"match[]": '{app="a"', **base})
        t.eq(st, 400, "series bad selector")
        # structured metadata: merged into the stream by default; with
        # categorize-labels, kept apart in a third element of each value
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body(
            [({"app": "sm"}, [(T0 + S, "method=GET status=200", {"trace_id": "t1"})])]), wire.JSON)
        t.eq(st, 204, "push with structured metadata")
        st, doc = qr('{app="sm"} | logfmt')
        t.eq(doc["data"]["result"][0]["stream"],
             {"app": "sm", "trace_id": "t1", "method": "GET", "status": "200"}, "metadata and parsed labels merged")
        st, body, _ = srv.get("/loki/api/v1/query_range", dict(base, query='{app="sm"} | logfmt'),
                              headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"})
        doc = json.loads(body)
        t.eq(doc["data"].get("encodingFlags"), ["categorize-labels"], "categorize-labels flag echoed")
        t.eq(doc["data"]["result"][0]["stream"], {"app": "sm"}, "categorize-labels: stream has indexed labels only")
        t.eq(doc["data"]["result"][0]["values"][0][2],
             {"structuredMetadata": {"trace_id": "t1"}, "parsed": {"method": "GET", "status": "200"}},
             "categorize-labels: metadata and parsed labels in the third element")
        # format_query: Loki's pretty form; a bad query is 400 invalid-query
        st, doc = srv.get_json("/loki/api/v1/format_query", {"query": '{app="a"}|="x"  |logfmt'})
        t.eq((st, doc), (200, {"status": "success", "data": '{app="a"} |= "x" | logfmt'}), "format_query")
        st, doc = srv.get_json("/loki/api/v1/format_query", {"query": '{app="a"'})
        t.eq((st, doc.get("status")), (400, "invalid-query"), "format_query of a bad query")
        st, _, _ = srv.get("/loki/api/v1/no_such_endpoint")
        t.eq(st, 404, "an unknown endpoint answers 404")
    t.done()


if __name__ == "__main__":
    main()
