#!/usr/bin/env python3
"""Black-box: the small Loki 3 endpoints and LogQL 3's variants, as Loki 3.6
answers them: status/buildinfo (a 3.x version, Loki's keys),
drilldown-limits and /config/tenant/v1/limits (the published limits of the
configuration, 401 without X-Scope-OrgID even with auth off), /flush (204
at once, every open chunk on disk soon after), the legacy /api/prom/tail
frames, and variants(...) of (...) refused as Loki refuses it by default.
Before this work every one of these endpoints answered 404."""
import glob
import json
import os
import time

from harness import Lokic, Result
import wire
from wsclient import WS

S = 10**9
ORG = {"X-Scope-OrgID": "fake"}

# The key paths of Loki 3.6.15's drilldown-limits answer (the conformance
# suite's shape.drilldown_limits golden keys).
DRILLDOWN_KEYS = [
    "limits", "limits.discover_log_levels", "limits.discover_service_name", "limits.log_level_fields",
    "limits.max_entries_limit_per_query", "limits.max_line_size_truncate", "limits.max_query_bytes_read",
    "limits.max_query_length", "limits.max_query_lookback", "limits.max_query_range",
    "limits.max_query_series", "limits.metric_aggregation_enabled", "limits.otlp_config",
    "limits.otlp_config.LogAttributes", "limits.otlp_config.ResourceAttributes",
    "limits.otlp_config.ResourceAttributes.AttributesConfig",
    "limits.otlp_config.ResourceAttributes.AttributesConfig.[].Action",
    "limits.otlp_config.ResourceAttributes.AttributesConfig.[].Attributes",
    "limits.otlp_config.ResourceAttributes.AttributesConfig.[].Regex",
    "limits.otlp_config.ResourceAttributes.IgnoreDefaults", "limits.otlp_config.ScopeAttributes",
    "limits.otlp_config.SeverityTextAsLabel", "limits.pattern_persistence_enabled", "limits.query_timeout",
    "limits.retention_period", "limits.volume_enabled", "limits.volume_max_series",
    "pattern_ingester_enabled", "version",
]


def key_paths(doc, prefix=""):
    out = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            p = prefix + k
            out.add(p)
            out |= key_paths(v, p + ".")
    elif isinstance(doc, list):
        for v in doc:
            if isinstance(v, dict):
                out |= key_paths(v, prefix + "[].")
    return out


def check_limits(t, srv):
    st, body, _ = srv.get("/loki/api/v1/drilldown-limits")
    t.eq((st, body), (401, b"no org id\n"), "drilldown-limits without X-Scope-OrgID (auth off too)")
    st, body, _ = srv.get("/loki/api/v1/drilldown-limits", headers={"X-Scope-OrgID": "a|b"})
    t.eq((st, body), (401, b"multiple org IDs present\n"), "drilldown-limits for two tenants")
    st, doc = srv.get_json("/loki/api/v1/drilldown-limits", headers=ORG)
    t.eq(st, 200, "drilldown-limits")
    t.eq(sorted(key_paths(doc)), sorted(DRILLDOWN_KEYS), "drilldown-limits has Loki 3.6's keys")
    lim = doc.get("limits", {})
    t.eq(lim.get("max_query_series"), 321, "the configured max_query_series")
    t.eq(lim.get("query_timeout"), "2m", "the configured query_timeout, as a Prometheus duration")
    t.eq(lim.get("max_query_length"), "30d1h", "max_query_length's default")
    t.eq(lim.get("discover_service_name"), [], "discovery off in this config")
    t.eq(lim.get("discover_log_levels"), False, "level discovery off in this config")
    attrs = lim.get("otlp_config", {}).get("ResourceAttributes", {}).get("AttributesConfig", [{}])[0]
    t.check(attrs.get("Action") == "index_label" and "service.name" in attrs.get("Attributes", []),
            "Loki's default OTLP index labels: %r" % attrs)
    t.check(doc.get("version", "").startswith("3.6.0+lokic."), "version: %r" % doc.get("version"))
    t.eq(doc.get("pattern_ingester_enabled"), False, "no pattern ingester")

    st, body, hdrs = srv.get("/config/tenant/v1/limits", headers=ORG)
    text = body.decode()
    t.eq(st, 200, "/config/tenant/v1/limits")
    t.check(hdrs.get("Content-Type", "").startswith("text/plain"), "as text/plain YAML")
    for line in ["max_query_series: 321", "query_timeout: 2m", "discover_service_name: []",
                 "max_query_bytes_read: 0B", "otlp_config:", "    - Action: index_label",
                 "      - service.name", "      Regex: \"\"", "volume_max_series: 1000"]:
        t.check(line in text.split("\n"), "tenant limits YAML has %r:\n%s" % (line, text[:300]))
    st, _, _ = srv.get("/config/tenant/v1/limits")
    t.eq(st, 401, "tenant limits without X-Scope-OrgID")


def check_flush(t, srv):
    now = time.time_ns()
    st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="flush"}', [(now, "to disk")])]),
                        wire.PROTO)
    t.eq(st, 204, "push")
    chunks = os.path.join(srv.tmp, "data", "chunks", "*", "*", "*.lkc")
    t.eq(glob.glob(chunks), [], "nothing on disk before /flush (the chunk is open)")
    st, body, _ = srv.post("/flush", b"")
    t.eq((st, body), (204, b""), "POST /flush answers 204 at once")
    deadline = time.time() + 10
    while not glob.glob(chunks) and time.time() < deadline:
        time.sleep(0.1)
    t.check(glob.glob(chunks), "the open chunk is flushed after /flush")
    st, doc = srv.get_json("/loki/api/v1/query_range", {"query": '{app="flush"}', "start": str(now - S),
                                                        "end": str(now + S)})
    t.check(st == 200 and doc["data"]["result"][0]["values"][0][1] == "to disk",
            "still queryable after the flush")
    st, _, _ = srv.get("/flush")
    t.eq(st, 204, "GET /flush too, as Loki registers it")


def check_legacy_tail(t, srv):
    now = time.time_ns()
    st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="old"}', [(now - 5 * S, "hello")])]),
                        wire.PROTO)
    t.eq(st, 204, "push for the tail")
    ws = WS(srv.port, {"query": '{app="old"}', "start": str(now - 60 * S)}, headers=ORG,
            path="/api/prom/tail")
    t.check(ws.head.startswith("HTTP/1.1 101"), "/api/prom/tail upgrades: %r" % ws.head[:40])
    msgs, _ = ws.messages(1.5)
    ws.close()
    want = {"streams": [{"labels": '{app="old"}', "entries": [{"line": "hello"}]}], "dropped_entries": None}
    got = msgs[0] if msgs else {}
    for s in got.get("streams", []):
        for e in s.get("entries", []):
            ts = e.pop("ts", "")
            t.check(ts.endswith("Z") and "T" in ts, "an RFC 3339 ts: %r" % ts)
    t.eq(got, want, "the legacy tail frame")


def check_variants(t, srv):
    q = 'variants(count_over_time({app="x"}[1m]), bytes_over_time({app="x"}[1m])) of ({app="x"}[1m])'
    now = time.time_ns()
    st, body, _ = srv.get("/loki/api/v1/query_range", {"query": q, "start": str(now - 60 * S),
                                                       "end": str(now), "step": "60"})
    t.eq((st, body.strip()), (400, b"multi variant queries are disabled for this instance"),
         "variants are off, as in Loki by default")
    st, body, _ = srv.get("/loki/api/v1/query", {"query": q, "time": str(now)})
    t.eq(st, 400, "variants at an instant too")
    st, doc = srv.get_json("/loki/api/v1/format_query", {"query": q})
    t.eq(doc.get("data") if st == 200 else (st, doc),
         'variants(\n  count_over_time({app="x"}[1m]),\n  bytes_over_time({app="x"}[1m])\n) of (\n'
         '  {app="x"} [1m]\n)', "format_query prettifies variants as Loki does")
    st, body, _ = srv.get("/loki/api/v1/query_range", {"query": '{of="x"}', "start": str(now - S),
                                                       "end": str(now)})
    t.check(st == 400 and b"unexpected of" in body, "`of` is a keyword in Loki 3.6: %r" % body)


def main():
    t = Result()
    with Lokic(limits={"max_query_series": 321, "query_timeout": "2m", "discover_service_name": [],
                       "discover_log_levels": False}) as srv:
        st, doc = srv.get_json("/loki/api/v1/status/buildinfo")
        t.eq(st, 200, "buildinfo")
        t.eq(sorted(doc), ["branch", "buildDate", "buildUser", "goVersion", "revision", "version"],
             "buildinfo has Loki 3.6's keys")
        t.check(doc["version"].startswith("3.6.0+lokic."), "a Loki 3 version: %r" % doc["version"])
        check_limits(t, srv)
        check_flush(t, srv)
        check_legacy_tail(t, srv)
        check_variants(t, srv)
    t.done()


if __name__ == "__main__":
    main()
