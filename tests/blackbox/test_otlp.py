#!/usr/bin/env python3
"""Black-box: /otlp/v1/logs. OTLP/HTTP logs in protobuf, JSON and gzip are
answered 204 and found under the labels Loki 3 gives them (default index
attributes, service_name, unknown_service) with their structured metadata;
errors are Loki's statuses with a google.rpc.Status protobuf body;
limits_config.otlp_config drops and promotes attributes."""
import json
import time

from harness import Lokic, Result
import wire

S = 10**9
F = wire._field


def kv(k, v):
    return F(1, 2, k.encode()) + F(2, 2, F(1, 2, v.encode()))


def proto_body(resource, records, scope="lib"):
    """records: [(ns, line, severity_text, {attr: value})]"""
    sl = F(1, 2, F(1, 2, scope.encode()))
    for ns, line, sev, attrs in records:
        lr = F(1, 1, ns.to_bytes(8, "little")) + F(3, 2, sev.encode())
        lr += F(5, 2, F(1, 2, line.encode()))
        lr += b"".join(F(6, 2, kv(k, v)) for k, v in attrs.items())
        lr += F(9, 2, bytes(range(16))) + F(10, 2, bytes(range(8)))
        sl += F(2, 2, lr)
    rl = F(1, 2, b"".join(F(1, 2, kv(k, v)) for k, v in resource.items())) + F(2, 2, sl)
    return F(1, 2, rl)


def json_body(resource, records, scope="lib"):
    lrs = [{"timeUnixNano": str(ns), "severityText": sev, "body": {"stringValue": line},
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
            "traceId": bytes(range(16)).hex(), "spanId": bytes(range(8)).hex()}
           for ns, line, sev, attrs in records]
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": k, "value": {"stringValue": v}}
                                    for k, v in resource.items()]},
        "scopeLogs": [{"scope": {"name": scope}, "logRecords": lrs}]}]}).encode()


PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
CAT = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}


def query(srv, q, t0):
    st, body = srv.get_json("/loki/api/v1/query_range", {
        "query": q, "start": str(t0 - S), "end": str(t0 + 3600 * S), "limit": "1000",
        "direction": "forward"}, headers=CAT)
    return st, body


def entries(body):
    """[(labels, line, structured metadata)] of a categorize-labels answer."""
    out = []
    for s in body["data"]["result"]:
        for v in s["values"]:
            meta = v[2].get("structuredMetadata", {}) if len(v) > 2 else {}
            out.append((s["stream"], v[1], meta))
    return out


def status_message(body):
    """google.rpc.Status{message=2}: the message."""
    if len(body) < 2 or body[0] != 0x12:
        return None
    n, i, shift = 0, 1, 0
    while True:
        b = body[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            break
    return body[i:i + n].decode()


def main():
    t = Result()
    t0 = (time.time_ns() // S - 600) * S
    res = {"service.name": "cart", "k8s.pod.name": "cart-1", "host.name": "node-1"}
    recs = [(t0 + i * S, "line %d" % i, "INFO", {"http.method": "GET"}) for i in range(5)]
    cfg = {"limits_config": {"discover_service_name": ["service"]}}
    with Lokic(config=cfg) as srv:
        st, body, _ = srv.post("/otlp/v1/logs", proto_body(res, recs), PB)
        t.eq((st, body), (204, b""), "protobuf push")
        st, body, _ = srv.post("/otlp/v1/logs", json_body(dict(res, **{"service.name": "cart-js"}),
                                                            recs), JS)
        t.eq((st, body), (204, b""), "JSON push")
        st, body, _ = srv.post("/otlp/v1/logs", wire.gz(json_body({"k8s.pod.name": "orphan"},
                                                                   recs[:2])),
                               dict(JS, **{"Content-Encoding": "gzip"}))
        t.eq(st, 204, "gzip JSON push")

        for svc in ("cart", "cart-js"):
            st, body = query(srv, '{service_name="%s"}' % svc, t0)
            got = entries(body) if st == 200 else []
            t.eq(len(got), 5, "%s: every record found" % svc)
            if got:
                labels, line, meta = got[0]
                t.eq(labels, {"service_name": svc, "k8s_pod_name": "cart-1"}, svc + " labels")
                t.eq(line, "line 0", svc + " line")
                t.eq(meta, {"http_method": "GET", "severity_text": "INFO",
                            "trace_id": bytes(range(16)).hex(), "span_id": bytes(range(8)).hex(),
                            "host_name": "node-1", "scope_name": "lib",
                            # Loki 3's level discovery (on by default): severity_text as sent
                            "detected_level": "INFO"}, svc + " metadata")
        st, body = query(srv, '{k8s_pod_name="orphan"}', t0)
        t.eq([e[0] for e in entries(body)], [{"k8s_pod_name": "orphan",
                                              "service_name": "unknown_service"}] * 2,
             "no service.name: unknown_service")
        st, body = query(srv, '{service_name="cart"} | http_method="GET" | host_name="node-1"', t0)
        t.eq(len(entries(body)), 5, "metadata filters")

        st, body, h = srv.post("/otlp/v1/logs", b"{}", {"Content-Type": "text/plain"})
        t.eq((st, status_message(body)), (400, "content type: text/plain is not supported"),
             "unsupported content type: 400 with a Status body")
        st, body, _ = srv.post("/otlp/v1/logs", b"\x0a\x05\x0a", PB)
        t.eq((st, status_message(body)), (400, "unexpected EOF"), "truncated protobuf")
        st, body, _ = srv.post("/otlp/v1/logs", b"", PB)
        t.eq(st, 204, "empty request")

    bomb = wire.gz(b" " * (3 << 20))
    with Lokic(config={"distributor": {"max_recv_msg_size": 1 << 20}}) as srv:
        st, body, _ = srv.post("/otlp/v1/logs", bomb, dict(JS, **{"Content-Encoding": "gzip"}))
        msg = status_message(body) or ""
        t.check(st == 413 and msg.startswith("request body too large: decompressed message size"),
                "gzip past max_recv_msg_size: 413, got %d %r" % (st, msg))

    text = """auth_enabled: false
server: {http_listen_address: 127.0.0.1, http_listen_port: %d}
common: {path_prefix: %s}
limits_config:
  reject_old_samples: false
  otlp_config:
    resource_attributes:
      attributes_config:
        - action: index_label
          attributes: [host.name]
        - action: drop
          regex: k8s\\..*
    log_attributes:
      - action: drop
        attributes: [http.method]
"""
    srv = Lokic()
    with open(srv.config_path, "w") as f:
        f.write(text % (srv.port, srv.tmp + "/data"))
    with srv:
        st, _, _ = srv.post("/otlp/v1/logs", proto_body(dict(res, **{"k8s.node.name": "n1"}),
                                                         recs), PB)
        t.eq(st, 204, "push with otlp_config")
        st, body = query(srv, '{host_name="node-1"}', t0)
        got = entries(body) if st == 200 else []
        t.eq(len(got), 5, "host.name promoted to an index label")
        if got:
            t.eq(got[0][0], {"service_name": "cart", "host_name": "node-1",
                             "k8s_pod_name": "cart-1"},
                 "k8s.pod.name: a default index label, still one (defaults come first)")
            t.eq(sorted(got[0][2]), ["detected_level", "scope_name", "severity_text", "span_id",
                                     "trace_id"],
                 "http.method and k8s.node.name dropped")
    t.done()


if __name__ == "__main__":
    main()
