#!/usr/bin/env python3
"""Black-box: limits lokic published but did not enforce, as Loki 3.6
enforces them.
- max_query_length: a longer range is a 400 with Loki's message on
  query_range (log and metric), labels, label values, series, index/stats,
  detected_labels and detected_fields; for "a|b" the smallest non-zero
  limit of the tenants applies (SmallestPositiveNonZeroDurationPerTenant).
- query_timeout: log queries stop at it too (a 504 with Loki's message),
  not only metric queries; for "a|b" the smallest non-zero timeout.
- max_global_streams_per_user: one ingester holds all of it; past it a
  push creating a stream is a 429 "maximum active stream limit exceeded"."""
import json
import os
import time

from harness import Lokic, Result, wait_for
import wire

S = 10**9
H = 3600 * S
NOW = time.time_ns()
TIMEOUT_MSG = b"request timed out, decrease the duration of the request"
OVERRIDES = ("overrides:\n  slow:\n    query_timeout: 1ms\n"
             "  short:\n    max_query_length: 1h\n"
             "  ruled:\n    max_query_series: 1\n"
             "  otel-a:\n    otlp_config:\n      resource_attributes:\n        attributes_config:\n"
             "          - action: index_label\n            attributes: [host.name]\n")
RULES = ("groups:\n  - name: g\n    interval: 1s\n    rules:\n"
         "      - record: job:lines:count\n"
         "        expr: sum by (app) (count_over_time({job=\"r\"}[1m]))\n")


def push(srv, tenant, labels, entries):
    """labels: {name: value}; JSON, which the harness encodes fast."""
    st, body, _ = srv.post("/loki/api/v1/push", wire.json_body([(labels, entries)]),
                           dict(wire.JSON, **{"X-Scope-OrgID": tenant}))
    return st, body


def get(srv, tenant, path, params):
    st, body, _ = srv.get(path, params, headers={"X-Scope-OrgID": tenant})
    return st, body


def check_query_length(t, srv):
    long = {"start": str(NOW - 3 * H), "end": str(NOW)}
    msg = b"the query time range exceeds the limit (query length: 3h0m0s, limit: 2h)"
    for path, extra in [("/loki/api/v1/query_range", {"query": '{app="a"}'}),
                        ("/loki/api/v1/query_range", {"query": 'count_over_time({app="a"}[1m])'}),
                        ("/loki/api/v1/labels", {}),
                        ("/loki/api/v1/label/app/values", {}),
                        ("/loki/api/v1/series", {"match[]": '{app="a"}'}),
                        ("/loki/api/v1/index/stats", {"query": '{app="a"}'}),
                        ("/loki/api/v1/detected_labels", {"query": '{app="a"}'}),
                        ("/loki/api/v1/detected_fields", {"query": '{app="a"}'})]:
        st, body = get(srv, "a", path, dict(long, **extra))
        t.eq(st, 400, "max_query_length not enforced (bug): %s %s: %r" % (path, extra, body[:150]))
        t.eq(body.rstrip(b"\n"), msg, "Loki's message on %s" % path)
        st, body = get(srv, "a", path, dict(extra, start=str(NOW - 2 * H), end=str(NOW)))
        t.eq(st, 200, "%s: a range of exactly max_query_length is allowed: %r" % (path, body[:150]))
    ninety = {"start": str(NOW - 90 * 60 * S), "end": str(NOW), "query": '{app="a"}'}
    t.eq(get(srv, "a", "/loki/api/v1/query_range", ninety)[0], 200, "a: 90m is within 2h")
    st, body = get(srv, "a|short", "/loki/api/v1/query_range", ninety)
    t.eq(st, 400, "a|short: the smallest non-zero max_query_length (short's 1h) applies: %r" % body[:150])
    t.check(b"(query length: 1h30m0s, limit: 1h)" in body, "a|short: Loki's message: %r" % body[:150])


def check_query_timeout(t, srv):
    lines = [(NOW - 60 * S + i * 1000, "line %d of some text that the filter reads" % i)
             for i in range(60000)]
    for tenant in ("a", "slow"):
        t.eq(push(srv, tenant, {"app": "big"}, lines)[0], 204, "%s: pushed 60000 lines" % tenant)
    q = {"start": str(NOW - 120 * S), "end": str(NOW), "limit": "10",
         "query": '{app="big"} |~ "nothing.*(matches|this)"'}
    st, body = get(srv, "slow", "/loki/api/v1/query_range", q)
    t.eq(st, 504, "query_timeout not applied to log queries (bug): %r" % body[:150])
    t.check(body.startswith(TIMEOUT_MSG), "Loki's timeout message: %r" % body[:150])
    t.eq(get(srv, "a", "/loki/api/v1/query_range", q)[0], 200, "a: the default 1m timeout")
    st, body = get(srv, "a|slow", "/loki/api/v1/query_range", q)
    t.eq(st, 504, "a|slow: the smallest non-zero query_timeout (slow's 1ms): %r" % body[:150])
    mq = dict(q, query='count_over_time({app="big"} |~ "nothing.*(matches|this)" [1m])', step="1")
    st, body = get(srv, "slow", "/loki/api/v1/query_range", mq)
    t.eq(st, 504, "metric queries keep their timeout: %r" % body[:150])


def check_global_streams(t, srv):
    for i in range(3):
        st, body = push(srv, "streams", {"app": "s%d" % i}, [(NOW, "x")])
        t.eq(st, 204, "stream %d of 3: %r" % (i, body[:100]))
    st, body = push(srv, "streams", {"app": "s3"}, [(NOW, "x")])
    t.eq(st, 429, "max_global_streams_per_user not enforced (bug): %r" % body[:150])
    t.check(b"maximum active stream limit exceeded when trying to create stream {app=\"s3\", service_name=\"s3\"}" in body,
            "Loki's message: %r" % body[:200])
    t.eq(push(srv, "streams", {"app": "s0"}, [(NOW + 1, "y")])[0], 204, "an existing stream still takes pushes")


def check_config_modes(t, srv):
    st, body, _ = srv.get("/config", {"mode": "diff"})
    text = body.decode()
    t.check(st == 200 and "limits_config:\n  max_global_streams_per_user: 3\n  max_query_length: 2h\n"
            "  reject_old_samples: false\n" in text,
            "/config?mode=diff printed the whole config (bug): %r" % text[:300])
    t.check("\nquerier:\n  multi_tenant_queries_enabled: true\n" in text, "diff: querier: %r" % text)
    t.check("max_line_size" not in text and "target:" not in text, "diff: no default values")
    keys = [ln.split(":")[0] for ln in text.splitlines() if not ln.startswith(" ")]
    t.eq(keys, sorted(keys), "diff: top-level keys sorted as Go's YAML encoder sorts a map's")
    st, body, _ = srv.get("/config", {"mode": "defaults"})
    text = body.decode()
    t.check("\n  max_query_length: 30d1h\n" in text and "\n  http_listen_port: 3100\n" in text
            and "\n  max_global_streams_per_user: 5000\n" in text,
            "/config?mode=defaults: Loki's defaults: %r" % text[:300])
    st, body, _ = srv.get("/config")
    t.check("\n  max_query_length: 2h\n" in body.decode() and "\n  max_line_size: " in body.decode(),
            "/config: the whole configuration in effect")


def rule_health(srv, tenant):
    st, js = srv.get_json("/prometheus/api/v1/rules", headers={"X-Scope-OrgID": tenant})
    if st != 200 or not js["data"]["groups"]:
        return None, ""
    rule = js["data"]["groups"][0]["rules"][0]
    return rule.get("health"), rule.get("lastError", "")


def check_ruler(t, srv):
    for tenant in ("ruled", "other"):
        for app in ("x", "y"):
            t.eq(push(srv, tenant, {"job": "r", "app": app}, [(time.time_ns(), "l")])[0], 204,
                 "%s: pushed app %s" % (tenant, app))
    t.check(wait_for(lambda: rule_health(srv, "ruled")[0] == "err", 15),
            "the ruler ignored the tenant's max_query_series override (bug): %r" %
            (rule_health(srv, "ruled"),))
    t.check("maximum of series (1) reached for a single query" in rule_health(srv, "ruled")[1],
            "the rule's error is the tenant's series limit: %r" % (rule_health(srv, "ruled"),))
    t.check(wait_for(lambda: rule_health(srv, "other")[0] == "ok", 15),
            "other: the default max_query_series: %r" % (rule_health(srv, "other"),))


def check_tenant_selector(t, srv):
    q = {"start": str(NOW - 60 * S), "end": str(NOW)}
    want = (b"log selector is invalid after matcher update: parse error : queries require at least "
            b"one regexp or equality matcher that does not have an empty-compatible value.")
    for sel in ('{__tenant_id__="a"}', '{__tenant_id__=~"a|b", x=~".*"}'):
        st, body = get(srv, "a|b", "/loki/api/v1/query_range", dict(q, query=sel))
        t.eq(st, 400, "a|b: %s selects no streams but by tenant; answered (bug): %r" % (sel, body[:120]))
        t.check(body.startswith(want), "Loki's message: %r" % body[:200])
    st, body = get(srv, "a|b", "/loki/api/v1/query_range", dict(q, query='{__tenant_id__="a", app="a"}'))
    t.eq(st, 200, "a|b: another matcher left is a query: %r" % body[:120])
    st, body = get(srv, "a", "/loki/api/v1/query_range", dict(q, query='{__tenant_id__="a"}'))
    t.eq(st, 200, "one tenant: __tenant_id__ is an ordinary label: %r" % body[:120])


def check_tenant_retention(t):
    day = 86400 * S
    old = NOW - 3 * day
    srv = Lokic(auth=True, config={"ingester": {"chunk_idle_period": "1s", "chunk_retain_period": "0s"},
                                   "compactor": {"retention_enabled": True, "compaction_interval": "1s"}})
    path = os.path.join(srv.tmp, "runtime.yaml")
    with open(path, "w") as f:
        f.write("overrides:\n  brief:\n    retention_period: 24h\n")
    with open(srv.config_path, "a") as f:
        f.write("runtime_config:\n  file: %s\n" % path)
    with srv:
        for tenant in ("brief", "kept"):
            t.eq(push(srv, tenant, {"app": "old"}, [(old + i * S, "old %d" % i) for i in range(10)])[0],
                 204, "%s: pushed 3-day-old lines" % tenant)
        t.check(wait_for(lambda: (srv.metric("loki_ingester_chunks_flushed_total") or 0) >= 2, 20),
                "both tenants' chunks flushed")
        t.check(wait_for(lambda: (srv.metric("lokic_retention_periods_deleted_total") or 0) >= 1, 20),
                "a tenant's retention_period override was not applied by retention (bug)")
        chunks = os.path.join(srv.tmp, "data", "chunks")
        t.check(not os.path.exists(os.path.join(chunks, "brief", str(old // day))),
                "brief: its old period is deleted (its 24h retention)")
        t.check(os.path.isdir(os.path.join(chunks, "kept", str(old // day))),
                "kept: the base retention_period (0) keeps its data")
        q = {"query": '{app="old"}', "start": str(old - S), "end": str(old + day), "limit": "100"}
        st, body = get(srv, "brief", "/loki/api/v1/query_range", q)
        t.check(st == 200 and b'"result":[]' in body, "brief: old data no longer returned: %r" % body[:120])
        st, body = get(srv, "kept", "/loki/api/v1/query_range", q)
        t.check(st == 200 and b'"old 9"' in body, "kept: old data returned: %r" % body[:120])


def otlp_json(ns):
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (("service.name", "svc"), ("host.name", "h1"))]
    return json.dumps({"resourceLogs": [{"resource": {"attributes": attrs}, "scopeLogs": [{
        "scope": {"name": "lib"}, "logRecords": [{"timeUnixNano": str(ns), "body": {"stringValue": "hi"}}]}]}]}).encode()


def check_tenant_otlp(t, srv):
    series = {}
    for tenant in ("otel-a", "otel-b"):
        st, body, _ = srv.post("/otlp/v1/logs", otlp_json(NOW - S),
                               {"Content-Type": "application/json", "X-Scope-OrgID": tenant})
        t.eq(st, 204, "%s: OTLP push: %r" % (tenant, body[:100]))
        st, js = srv.get_json("/loki/api/v1/series", {"match[]": '{service_name="svc"}', "start": str(NOW - 60 * S),
                                                      "end": str(NOW)}, headers={"X-Scope-OrgID": tenant})
        series[tenant] = js["data"] if st == 200 else js
    t.eq(series["otel-a"], [{"host_name": "h1", "service_name": "svc"}],
         "otel-a: its otlp_config override was not applied (bug)")
    t.eq(series["otel-b"], [{"service_name": "svc"}], "otel-b: Loki's default otlp_config")


def main():
    t = Result()
    srv = Lokic(auth=True, limits={"max_query_length": "2h", "max_global_streams_per_user": 3},
                config={"querier": {"multi_tenant_queries_enabled": True}})
    path = os.path.join(srv.tmp, "runtime.yaml")
    with open(path, "w") as f:
        f.write(OVERRIDES)
    rules = os.path.join(srv.tmp, "rules")
    for tenant in ("ruled", "other"):
        os.makedirs(os.path.join(rules, tenant))
        with open(os.path.join(rules, tenant, "rules.yaml"), "w") as f:
            f.write(RULES)
    with open(srv.config_path, "a") as f:
        f.write("runtime_config:\n  file: %s\n" % path)
        f.write("ruler:\n  storage:\n    type: local\n    local:\n      directory: %s\n"
                "  evaluation_interval: 1s\n  poll_interval: 1s\n" % rules)
    with srv:
        t.eq(push(srv, "a", {"app": "a"}, [(NOW - S, "hello")])[0], 204, "a: pushed")
        check_query_length(t, srv)
        check_query_timeout(t, srv)
        check_global_streams(t, srv)
        check_config_modes(t, srv)
        check_ruler(t, srv)
        check_tenant_selector(t, srv)
        check_tenant_otlp(t, srv)
    check_tenant_retention(t)
    t.done()


if __name__ == "__main__":
    main()
