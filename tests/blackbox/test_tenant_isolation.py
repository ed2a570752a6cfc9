#!/usr/bin/env python3
"""Black-box: tenant isolation on every endpoint that reads data. With
auth_enabled, tenants "team-a" and "team-b" push streams with labels and
lines of their own; each tenant's answers (log and metric queries, instant
queries, labels, label values, series, index/stats, the legacy routes and
live tail) hold only its own data and never a trace of the other's, from
memory and again from the chunk files after a restart. A tenant's delete
requests (/loki/api/v1/delete) hide only its own lines, and the other
tenant neither lists nor cancels them. Ids that look like
a tenant but are not one (a NUL inside, two tenants) are refused."""
import json
import socket
import time

from harness import Lokic, Result
import wire
from wsclient import WS

S = 10**9
NOW = time.time_ns()
TENANTS = {
    "team-a": ('{app="alpha", only_a="x"}', "alpha-secret"),
    "team-b": ('{app="beta", only_b="y"}', "beta-secret"),
}
RANGE = {"start": str(NOW - 600 * S), "end": str(NOW + 60 * S)}


def other(tenant):
    return [t for t in TENANTS if t != tenant][0]


def leaks(body, tenant):
    """The other tenant's marks found in an answer's bytes."""
    o = other(tenant)
    labels, line = TENANTS[o]
    marks = [line, "only_" + o[-1], labels.split('"')[1]]
    return [m for m in marks if m.encode() in body]


def get(srv, tenant, path, params):
    st, body, _ = srv.get(path, params, headers={"X-Scope-OrgID": tenant})
    return st, body


def check_reads(t, srv, where):
    for tenant, (labels, line) in TENANTS.items():
        h = {"X-Scope-OrgID": tenant}
        own = labels.split('"')[1]  # alpha / beta
        cases = [
            ("/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}', limit="100")),
            ("/loki/api/v1/query_range", dict(RANGE, query='sum by (app) (count_over_time({app=~".+"}[1m]))', step="60")),
            ("/loki/api/v1/query", {"query": 'sum by (app, only_a, only_b) (count_over_time({app=~".+"}[15m]))',
                                    "time": str(NOW + 60 * S)}),
            ("/loki/api/v1/labels", RANGE),
            ("/loki/api/v1/label/app/values", RANGE),
            ("/loki/api/v1/label/only_a/values", RANGE),
            ("/loki/api/v1/label/only_b/values", RANGE),
            ("/loki/api/v1/series", dict(RANGE, **{"match[]": '{app=~".+"}'})),
            ("/loki/api/v1/index/stats", dict(RANGE, query='{app=~".+"}')),
            ("/api/prom/query", dict(RANGE, query='{app=~".+"}', limit="100")),
            ("/api/prom/label", RANGE),
            ("/api/prom/label/app/values", RANGE),
            ("/api/prom/series", dict(RANGE, **{"match[]": '{app=~".+"}'})),
        ]
        for path, params in cases:
            st, body = get(srv, tenant, path, params)
            t.eq(st, 200, "%s %s %s" % (where, tenant, path))
            t.eq(leaks(body, tenant), [], "%s: %s sees nothing of %s on %s" % (where, tenant, other(tenant), path))
        # what a tenant does see is its own
        st, body = get(srv, tenant, "/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}', limit="100"))
        t.check(line.encode() in body, "%s: %s reads its own lines" % (where, tenant))
        st, body = get(srv, tenant, "/loki/api/v1/index/stats", dict(RANGE, query='{app=~".+"}'))
        t.eq(json.loads(body).get("entries"), 3, "%s: %s index/stats counts its own entries" % (where, tenant))
        st, body = get(srv, tenant, "/loki/api/v1/label/app/values", RANGE)
        t.eq(json.loads(body).get("data"), [own], "%s: %s label values" % (where, tenant))
        # live tail: the history holds only the tenant's lines
        ws = WS(srv.port, {"query": '{app=~".+"}', "start": str(NOW - 600 * S)}, headers=h)
        t.check(ws.head.startswith("HTTP/1.1 101"), "%s: %s tail upgrade: %r" % (where, tenant, ws.head[:40]))
        msgs, _ = ws.messages(1.5)
        got = [v[1] for m in msgs for s in m["streams"] for v in s["values"]]
        t.check(got and all(line in g for g in got), "%s: %s tail shows its own lines only: %r" % (where, tenant, got))
        ws.close()


def check_deletes(t, srv):
    a, b = "team-a", "team-b"
    q = dict(RANGE, query='{app=~".+"}', limit="100")
    params = {"query": '{only_a="x"} |= "secret 0"', "start": str((NOW - 600 * S) // S)}
    st, body, _ = srv.request("POST", "/loki/api/v1/delete", params, headers={"X-Scope-OrgID": a})
    t.eq(st, 204, "team-a adds a delete request: %r" % body)
    st, body = get(srv, a, "/loki/api/v1/query_range", q)
    t.check(b"alpha-secret 0" not in body and b"alpha-secret 1" in body,
            "team-a's deleted line is hidden from team-a")
    st, body = get(srv, b, "/loki/api/v1/query_range", q)
    t.eq(body.count(b"beta-secret"), 3, "team-b keeps all its lines")
    st, body = get(srv, b, "/loki/api/v1/delete", {})
    t.eq((st, json.loads(body)), (200, []), "team-b lists none of team-a's requests")
    st, body = get(srv, a, "/loki/api/v1/delete", {})
    rid = json.loads(body)[0]["request_id"]
    st, _, _ = srv.request("DELETE", "/loki/api/v1/delete", {"request_id": rid},
                           headers={"X-Scope-OrgID": b})
    t.eq(st, 404, "team-b cannot cancel team-a's request")
    st, _, _ = srv.request("DELETE", "/loki/api/v1/delete", {"request_id": rid},
                           headers={"X-Scope-OrgID": a})
    t.eq(st, 204, "team-a cancels its request")


def raw_request(port, head):
    """Sends raw request bytes; the status code answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else 0


def check_not_tenants(t, srv):
    # a NUL inside the id does not make it team-a
    st = raw_request(srv.port, b"GET /loki/api/v1/labels HTTP/1.1\r\nHost: x\r\n"
                     b"X-Scope-OrgID: team-a\x00evil\r\nConnection: close\r\n\r\n")
    t.eq(st, 400, "a NUL in X-Scope-OrgID is refused")
    st, body = get(srv, "team-a|team-b", "/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}'))
    t.eq(st, 400, "two tenants without multi-tenant queries are refused: %r" % body[:80])
    st, _, _ = srv.get("/loki/api/v1/labels", RANGE)
    t.eq(st, 401, "no X-Scope-OrgID: 401")


def main():
    t = Result()
    with Lokic(auth=True, config={"compactor": {"retention_enabled": True}}) as srv:
        for tenant, (labels, line) in TENANTS.items():
            entries = [(NOW - (3 - i) * S, "%s %d" % (line, i)) for i in range(3)]
            st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([(labels, entries)]),
                                   dict(wire.PROTO, **{"X-Scope-OrgID": tenant}))
            t.eq(st, 204, "push as %s: %r" % (tenant, body))
        check_reads(t, srv, "memory")
        check_deletes(t, srv)
        check_not_tenants(t, srv)
        srv.stop()  # flushes every chunk to the chunk directory
        srv.start()
        check_reads(t, srv, "disk")
    t.done()


if __name__ == "__main__":
    main()
