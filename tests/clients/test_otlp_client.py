#!/usr/bin/env python3
"""Real client: the OpenTelemetry JS SDK (@opentelemetry/sdk-logs) sends
log records to a lokic started here through the OTLP/HTTP JSON exporter and
the protobuf one (otlp_send.js); every record is then found under the
labels Loki 3 gives it (service_name, no host_name label) with its
metadata (seq, severity_text, severity_number, scope_name, host_name).
The npm packages (package.json, versions pinned) are installed into
LOKIC_CLIENTS_CACHE (default: a directory under the system temp dir) when
missing (npm_cache.py). Skipped (77) without node and npm, or when npm
cannot install, unless LOKIC_CLIENTS_REQUIRED=1."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
from harness import Lokic, Result  # noqa: E402
from npm_cache import install, node  # noqa: E402

S = 10**9
COUNT = 20


def send(cache, url, fmt, service):
    return node(cache, "otlp_send.js", url, fmt, service, COUNT)


def main():
    cache = install()
    t = Result()
    cfg = {"limits_config": {"discover_service_name": ["service"]}}
    with Lokic(config=cfg) as srv:
        t0 = time.time_ns()
        for fmt in ("json", "proto"):
            r = send(cache, srv.url, fmt, "client-" + fmt)
            t.check(r.returncode == 0, "%s exporter: exit %d %s" % (fmt, r.returncode,
                                                                     r.stderr[-1000:]))
        for fmt in ("json", "proto"):
            st, body = srv.get_json("/loki/api/v1/query_range", {
                "query": '{service_name="client-%s"}' % fmt, "start": str(t0 - 60 * S),
                "end": str(time.time_ns() + 60 * S), "limit": "1000", "direction": "forward"},
                headers={"X-Loki-Response-Encoding-Flags": "categorize-labels"})
            got = []
            if st == 200:
                for s in body["data"]["result"]:
                    for v in s["values"]:
                        got.append((s["stream"], v[1], v[2].get("structuredMetadata", {})))
            t.eq(sorted(g[1] for g in got),
                 sorted("record %d via %s" % (i, fmt) for i in range(COUNT)),
                 "%s: every record found" % fmt)
            for labels, line, meta in got[:1]:
                t.eq(labels, {"service_name": "client-" + fmt}, fmt + " labels")
                t.eq({k: meta.get(k) for k in ("seq", "severity_text", "severity_number",
                                               "scope_name", "scope_version", "host_name")},
                     {"seq": line.split()[1], "severity_text": "INFO", "severity_number": "9",
                      "scope_name": "lokic-client-test", "scope_version": "1.0.0",
                      "host_name": "client-host"}, fmt + " metadata")
                t.check("observed_timestamp" in meta, fmt + " observed_timestamp")
    t.done()


if __name__ == "__main__":
    main()
