#!/usr/bin/env python3
"""Black-box: index/volume, index/volume_range, detected_labels,
detected_fields and detected_field/<name>/values. Volumes aggregated by
the selector's labels, targetLabels and aggregateBy=labels, limited per
bucket, in Loki's vector and matrix shapes, exact bytes (line bytes, 8 per
metadata pair, each distinct metadata string once); volume_enabled false
answers 404 and volume_max_series a 400; detected labels with their
cardinality (labels of only IDs left out); detected fields with types,
parsers, null parsers for structured metadata, jsonPath, line_limit and
limit; a missing query is a 400. With auth_enabled, tenant A never sees
tenant B's labels, fields, values or volumes."""
import json
import time

from harness import Lokic, Result
import wire

S = 10**9
T0 = (time.time_ns() // S - 1800) // 60 * 60 * S
RANGE = {"start": str(T0), "end": str(T0 + 600 * S)}


def push(srv, tenant, streams):
    st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams),
                           dict(wire.PROTO, **{"X-Scope-OrgID": tenant}))
    return st


def get(srv, tenant, path, **params):
    st, body, _ = srv.get(path, dict(RANGE, **params), headers={"X-Scope-OrgID": tenant})
    return st, (json.loads(body) if body[:1] == b"{" else body)


def metrics(doc):
    return {json.dumps(r["metric"], sort_keys=True): r.get("value", r.get("values"))
            for r in doc["data"]["result"]}


def dataset():
    """Tenant a: two services, logfmt and JSON lines, metadata; tenant b:
    its own service, labels and fields."""
    a_web = [(T0 + i * 10 * S, 'level=info status=%d took=%dms user=u%d' % (200 + i % 2, i, i % 3),
              {"trace_id": "t%d" % (i % 4)}) for i in range(60)]
    a_pay = [(T0 + i * S, json.dumps({"http": {"method": "GET", "code": 200 + i % 3},
                                       "amount": i + 0.5, "ok": True}))
             for i in range(40)]
    a_ids = [(T0 + i * S, "plain %d" % i) for i in range(3)]
    b_only = [(T0 + i * S, 'secret_b_field=%d' % i, {"b_meta": "x"}) for i in range(10)]
    return {
        "a": [('{service_name="web", pod="web-1", env="prod"}', a_web),
              ('{service_name="pay", pod="pay-1", env="prod"}', a_pay),
              ('{service_name="ids", build="123"}', a_ids)],
        "b": [('{service_name="bsvc", only_b="y"}', b_only)],
    }


def check_volume(t, srv):
    st, doc = get(srv, "a", "/loki/api/v1/index/volume", query='{service_name=~".+"}')
    t.eq(st, 200, "volume: 200")
    t.eq(doc["data"]["resultType"], "vector", "volume: a vector")
    got = metrics(doc)
    # web: 60 lines + 8 per pair (trace_id, detected_level) + distinct strings once
    web = sum(len(l) for _, l, _ in dataset()["a"][0][1]) + 60 * 16 + \
        len("trace_id") + 4 * 2 + len("detected_level") + len("info")
    t.eq(got.get('{"service_name": "web"}', [0, "0"])[1], str(web), "volume: web's exact bytes")
    t.eq(sorted(got), ['{"service_name": "ids"}', '{"service_name": "pay"}', '{"service_name": "web"}'],
         "volume: by service_name, tenant a only")
    t.eq(got['{"service_name": "web"}'][0], int(RANGE["end"]) // S, "volume: at end")
    st, doc = get(srv, "a", "/loki/api/v1/index/volume", query='{env="prod"}', targetLabels="pod")
    t.eq(sorted(metrics(doc)), ['{"pod": "pay-1"}', '{"pod": "web-1"}'], "volume: targetLabels")
    st, doc = get(srv, "a", "/loki/api/v1/index/volume", query='{env="prod"}', aggregateBy="labels")
    t.eq(sorted(metrics(doc)), ['{"env": ""}', '{"pod": ""}', '{"service_name": ""}'],
         "volume: aggregateBy=labels")
    st, doc = get(srv, "a", "/loki/api/v1/index/volume", query='{service_name=~".+"}', limit="1")
    t.eq(list(metrics(doc)), ['{"service_name": "web"}'], "volume: limit keeps the largest")
    st, doc = get(srv, "a", "/loki/api/v1/index/volume_range", query='{service_name="web"}', step="60")
    t.eq(doc["data"]["resultType"], "matrix", "volume_range: a matrix")
    pts = doc["data"]["result"][0]["values"]
    t.eq(len(pts), 10, "volume_range: one point per step bucket")
    t.eq(pts[0][0], (T0 + 60 * S - 1000000) / S, "volume_range: a bucket ends 1ms before the next")
    t.check(abs(sum(int(p[1]) for p in pts) - web) <= 600, "volume_range: buckets add up: %r" % pts)
    st, doc = get(srv, "a", "/loki/api/v1/index/volume", query='{}')
    t.eq(sorted(metrics(doc)), ['{"build": "123", "service_name": "ids"}',
                                '{"env": "prod", "pod": "pay-1", "service_name": "pay"}',
                                '{"env": "prod", "pod": "web-1", "service_name": "web"}'],
         "volume: {} is every stream, by all its labels")
    st, _ = get(srv, "a", "/loki/api/v1/index/volume")
    t.eq(st, 400, "volume: no query")
    st, _ = get(srv, "a", "/loki/api/v1/index/volume", query='{service_name=~".+"}', aggregateBy="x")
    t.eq(st, 400, "volume: bad aggregateBy")


def check_detected(t, srv):
    st, doc = get(srv, "a", "/loki/api/v1/detected_labels")
    t.eq(st, 200, "detected_labels: 200")
    got = {d["label"]: d["cardinality"] for d in doc["detectedLabels"]}
    t.eq(got, {"service_name": 3, "pod": 2, "env": 1}, "detected_labels: build (only IDs) left out")
    st, doc = get(srv, "a", "/loki/api/v1/detected_labels", query='{service_name="web"}')
    t.eq({d["label"] for d in doc["detectedLabels"]}, {"service_name", "pod", "env"}, "detected_labels: a selector")
    st, _ = get(srv, "a", "/loki/api/v1/detected_labels", query='{service_name=}')
    t.eq(st, 400, "detected_labels: a bad selector")

    st, doc = get(srv, "a", "/loki/api/v1/detected_fields", query='{service_name="web"}')
    t.eq(st, 200, "detected_fields: 200")
    f = {d["label"]: d for d in doc["fields"]}
    t.eq(doc["limit"], 1000, "detected_fields: limit")
    t.eq((f["status"]["type"], f["status"]["cardinality"], f["status"]["parsers"]), ("int", 2, ["logfmt"]),
         "detected_fields: status")
    t.eq(f["took"]["type"], "duration", "detected_fields: took is a duration")
    t.eq((f["trace_id"]["parsers"], f["trace_id"]["cardinality"]), (None, 4), "detected_fields: metadata")
    t.eq(f["detected_level"]["parsers"], None, "detected_fields: detected_level is metadata")
    st, doc = get(srv, "a", "/loki/api/v1/detected_fields", query='{service_name="pay"}')
    f = {d["label"]: d for d in doc["fields"]}
    t.eq((f["http_method"]["jsonPath"], f["http_method"]["parsers"]), (["http", "method"], ["json"]),
         "detected_fields: jsonPath")
    t.eq((f["amount"]["type"], f["ok"]["type"], f["http_code"]["cardinality"]), ("float", "boolean", 3),
         "detected_fields: json types")
    st, doc = get(srv, "a", "/loki/api/v1/detected_fields", query='{service_name="web"}', line_limit="5")
    t.eq({d["label"]: d["cardinality"] for d in doc["fields"]}["took"], 5, "detected_fields: line_limit")
    st, doc = get(srv, "a", "/loki/api/v1/detected_fields", query='{service_name="web"}', limit="2")
    t.eq(len(doc["fields"]), 2, "detected_fields: limit")
    st, _ = get(srv, "a", "/loki/api/v1/detected_fields")
    t.eq(st, 400, "detected_fields: no query")
    st, doc = get(srv, "a", "/loki/api/v1/detected_field/user/values", query='{service_name="web"}')
    t.eq(doc, {"values": ["u0", "u1", "u2"], "limit": 1000}, "detected_field values")
    st, doc = get(srv, "a", "/loki/api/v1/detected_field/trace_id/values", query='{service_name="web"}')
    t.eq(sorted(doc["values"]), ["t0", "t1", "t2", "t3"], "detected_field values: metadata")


def check_isolation(t, srv):
    for path, params in (("/loki/api/v1/index/volume", {"query": '{service_name=~".+"}'}),
                         ("/loki/api/v1/index/volume", {"query": '{service_name=~".+"}', "aggregateBy": "labels"}),
                         ("/loki/api/v1/index/volume_range", {"query": '{service_name=~".+"}', "step": "60"}),
                         ("/loki/api/v1/detected_labels", {}),
                         ("/loki/api/v1/detected_fields", {"query": '{service_name=~".+"}'}),
                         ("/loki/api/v1/detected_field/secret_b_field/values", {"query": '{service_name=~".+"}'}),
                         ("/loki/api/v1/detected_field/b_meta/values", {"query": '{service_name=~".+"}'})):
        st, body, _ = srv.get(path, dict(RANGE, **params), headers={"X-Scope-OrgID": "a"})
        t.eq(st, 200, "%s %s: 200" % (path, params))
        for mark in (b"bsvc", b"only_b", b"secret_b_field", b"b_meta", b'"x"'):
            t.check(mark not in body, "tenant a sees %s in %s %s" % (mark, path, params))
    st, doc = get(srv, "b", "/loki/api/v1/detected_fields", query='{service_name=~".+"}')
    t.eq(sorted(d["label"] for d in doc["fields"]), ["b_meta", "detected_level", "secret_b_field"],
         "tenant b: its own fields")
    st, doc = get(srv, "b", "/loki/api/v1/index/volume", query='{service_name=~".+"}')
    t.eq(list(metrics(doc)), ['{"service_name": "bsvc"}'], "tenant b: its own volume")


def main():
    t = Result()
    with Lokic(auth=True, limits={"volume_max_series": 2}) as srv:
        for tenant, streams in dataset().items():
            t.eq(push(srv, tenant, streams), 204, "push %s" % tenant)
        st, _ = get(srv, "a", "/loki/api/v1/index/volume", query='{service_name=~".+"}')
        t.eq(st, 400, "volume_max_series: 3 series > 2")
    with Lokic(auth=True) as srv:
        for tenant, streams in dataset().items():
            push(srv, tenant, streams)
        check_volume(t, srv)
        check_detected(t, srv)
        check_isolation(t, srv)
    with Lokic(limits={"volume_enabled": False}) as srv:
        st, _, _ = srv.get("/loki/api/v1/index/volume", dict(RANGE, query='{a="b"}'))
        t.eq(st, 404, "volume_enabled false: 404")
        st, _, _ = srv.get("/loki/api/v1/index/volume_range", dict(RANGE, query='{a="b"}'))
        t.eq(st, 404, "volume_enabled false: volume_range 404")
    t.done()


if __name__ == "__main__":
    main()
