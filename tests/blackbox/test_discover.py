#!/usr/bin/env python3
"""Loki 3's push-time discovery with its defaults (on): service_name from the
first of Loki's labels, unknown_service when none (an empty label set is
then accepted), detected_level as structured metadata, folded into the
stream labels of a log query without categorize-labels and kept apart with
it; the same after a crash (the enriched request is logged per stream, so
the WAL replay gives exactly what was acknowledged) and after a restart
from the chunk files; nothing of it with the 2.9 keys."""
import json
import signal
import time

import wire
from harness import LOKI29, Lokic, Result

S = 10**9
CAT = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}


def streams(srv, query, start, end, headers=None):
    st, body, _ = srv.get("/loki/api/v1/query_range", {
        "query": query, "start": str(start), "end": str(end), "limit": "1000",
        "direction": "forward"}, headers=headers or {})
    if st != 200:
        return st, body
    return st, json.loads(body)["data"]


def folded(srv, start, end):
    """{line: stream labels} of every entry, without categorize-labels."""
    st, data = streams(srv, '{service_name=~".+"}', start, end)
    if st != 200:
        return {"status": st}
    return {v[1]: s["stream"] for s in data["result"] for v in s["values"]}


def check_enriched(t, srv, now, when):
    got = folded(srv, now - 60 * S, now + S)
    t.eq(got.get("level=warn msg=disk"),
         {"app": "cart", "service_name": "cart", "detected_level": "warn"},
         "%s: service_name from app, level from logfmt" % when)
    t.eq(got.get('{"lvl":"Err"}'),
         {"job": "ns/reporter", "container": "r", "service_name": "r",
          "detected_level": "error", "trace_id": "t1"},
         "%s: container before job, JSON level, metadata folded" % when)
    t.eq(got.get("no labels at all"),
         {"service_name": "unknown_service", "detected_level": "unknown"},
         "%s: an empty label set is unknown_service" % when)
    t.eq(got.get("INFO: kept"),
         {"service_name": "billing", "app": "x", "level": "WARN", "detected_level": "WARN"},
         "%s: explicit service_name kept, level label taken as it is" % when)


def main():
    t = Result()
    now = time.time_ns()
    with Lokic() as srv:  # Loki 3.6's defaults
        body = wire.proto_body([
            ('{app="cart"}', [(now - 5 * S, "level=warn msg=disk")]),
            ('{job="ns/reporter", container="r"}', [(now - 4 * S, '{"lvl":"Err"}', {"trace_id": "t1"})]),
            ('{service_name="billing", app="x", level="WARN"}', [(now - 3 * S, "INFO: kept")]),
        ])
        records = srv.metric("loki_ingester_wal_records_logged_total")
        st, resp, _ = srv.post("/loki/api/v1/push", body, wire.PROTO)
        t.eq(st, 204, "protobuf push: %r" % resp[:200])
        t.eq(srv.metric("loki_ingester_wal_records_logged_total") - records, 3,
             "an enriched request is logged per stream, not whole")
        st, resp, _ = srv.post("/loki/api/v1/push", wire.json_body([({}, [(now - 2 * S, "no labels at all")])]),
                               wire.JSON)
        t.eq(st, 204, "JSON push of an empty label set: %r" % resp[:200])
        check_enriched(t, srv, now, "at once")

        st, data = streams(srv, '{app="cart"}', now - 60 * S, now + S, CAT)
        t.eq(st, 200, "categorize-labels query")
        if st == 200:
            t.eq(data.get("encodingFlags"), ["categorize-labels"], "encodingFlags")
            res = data["result"]
            t.eq([s["stream"] for s in res], [{"app": "cart", "service_name": "cart"}],
                 "categorized: the stream's own labels")
            t.eq([v[2] for s in res for v in s["values"]],
                 [{"structuredMetadata": {"detected_level": "warn"}}],
                 "categorized: detected_level is structured metadata")
        st, doc = srv.get_json("/loki/api/v1/label/service_name/values",
                               {"start": str(now - 60 * S), "end": str(now + S)})
        t.eq(doc.get("data") if st == 200 else st, ["billing", "cart", "r", "unknown_service"],
             "service_name values")

        srv.stop(sig=signal.SIGKILL, expect_code=None)
        srv.start()
        check_enriched(t, srv, now, "after the WAL replay")
        srv.stop()
        srv.start()
        check_enriched(t, srv, now, "from the chunk files")

    with Lokic(limits=LOKI29) as srv:
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(
            [('{app="cart"}', [(now - 5 * S, "level=warn msg=disk")])]), wire.PROTO)
        t.eq(st, 204, "push with the 2.9 keys")
        st, data = streams(srv, '{app="cart"}', now - 60 * S, now + S)
        t.eq([s["stream"] for s in data["result"]] if st == 200 else st, [{"app": "cart"}],
             "2.9 keys: no service_name, no detected_level")
        st, resp, _ = srv.post("/loki/api/v1/push", wire.proto_body([("{}", [(now, "x")])]), wire.PROTO)
        t.eq(st, 400, "2.9 keys: an empty label set is refused")
    t.done()


if __name__ == "__main__":
    main()
