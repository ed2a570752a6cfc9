#!/usr/bin/env python3
"""Black-box: multi-tenant queries (querier.multi_tenant_queries_enabled).
Tenants "team-a", "team-b" and "team-c" push a stream each. With the option
on, X-Scope-OrgID "team-a|team-b" reads both (every stream labelled
__tenant_id__, Loki's MultiTenantQuerier), never team-c; a selector matcher
on __tenant_id__ picks the tenants; labels, label values, series,
index/stats, volume, detected_labels and patterns merge the tenants;
detected_fields answers nothing, as Loki; pushes and tail naming two
tenants are refused; a tenant's delete requests apply in a multi-tenant
read; and a single-tenant request still sees its own data only. With the option off (the default), "a|b" is 400 "multiple org IDs
present" as before."""
import json
import time

from harness import Lokic, Result
import wire

S = 10**9
NOW = time.time_ns()
TENANTS = {
    "team-a": ('{app="alpha"}', "alpha line"),
    "team-b": ('{app="beta"}', "beta line"),
    "team-c": ('{app="gamma"}', "gamma line"),
}
RANGE = {"start": str(NOW - 600 * S), "end": str(NOW + 60 * S)}
AB = {"X-Scope-OrgID": "team-b|team-a"}


def push_all(t, srv):
    for tenant, (labels, line) in TENANTS.items():
        entries = [(NOW - (3 - i) * S, "%s %d" % (line, i)) for i in range(3)]
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([(labels, entries)]),
                               dict(wire.PROTO, **{"X-Scope-OrgID": tenant}))
        t.eq(st, 204, "push as %s: %r" % (tenant, body))


def get_json(srv, path, params, headers):
    st, body, _ = srv.get(path, params, headers=headers)
    return st, (json.loads(body) if body.startswith(b"{") else body)


def check_queries(t, srv):
    st, doc = get_json(srv, "/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}', limit="100"), AB)
    t.eq(st, 200, "query_range for two tenants")
    streams = {s["stream"]["app"]: s["stream"] for s in doc["data"]["result"]}
    t.eq(sorted(streams), ["alpha", "beta"], "both tenants' streams, not team-c's")
    t.eq(streams["alpha"].get("__tenant_id__"), "team-a", "alpha is labelled team-a")
    t.eq(streams["beta"].get("__tenant_id__"), "team-b", "beta is labelled team-b")
    t.eq(sum(len(s["values"]) for s in doc["data"]["result"]), 6, "every line of both")

    q = '{__tenant_id__="team-b", app=~".+"}'
    st, doc = get_json(srv, "/loki/api/v1/query_range", dict(RANGE, query=q, limit="100"), AB)
    t.eq([s["stream"]["app"] for s in doc["data"]["result"]], ["beta"], "__tenant_id__ picks team-b")
    q = '{__tenant_id__!="team-b", app=~".+"}'
    st, doc = get_json(srv, "/loki/api/v1/query_range", dict(RANGE, query=q, limit="100"), AB)
    t.eq([s["stream"]["app"] for s in doc["data"]["result"]], ["alpha"], "!= leaves team-a")

    q = 'sum by (__tenant_id__) (count_over_time({app=~".+"}[15m]))'
    st, doc = get_json(srv, "/loki/api/v1/query", {"query": q, "time": str(NOW + 60 * S)}, AB)
    t.eq(st, 200, "instant metric query for two tenants")
    got = {r["metric"]["__tenant_id__"]: r["value"][1] for r in doc["data"]["result"]}
    t.eq(got, {"team-a": "3", "team-b": "3"}, "counts per tenant")


def check_meta(t, srv):
    st, doc = get_json(srv, "/loki/api/v1/labels", RANGE, AB)
    t.eq(doc.get("data"), ["__tenant_id__", "app"], "label names include __tenant_id__")
    st, doc = get_json(srv, "/loki/api/v1/label/__tenant_id__/values", RANGE, AB)
    t.eq(doc.get("data"), ["team-a", "team-b"], "__tenant_id__ values are the tenants")
    st, doc = get_json(srv, "/loki/api/v1/label/app/values", RANGE, AB)
    t.eq(doc.get("data"), ["alpha", "beta"], "app values of both tenants")
    st, doc = get_json(srv, "/loki/api/v1/series", dict(RANGE, **{"match[]": '{app=~".+"}'}), AB)
    t.eq(sorted((s["app"], s["__tenant_id__"]) for s in doc["data"]),
         [("alpha", "team-a"), ("beta", "team-b")], "series carry their tenant")
    st, doc = get_json(srv, "/loki/api/v1/index/stats", dict(RANGE, query='{app=~".+"}'), AB)
    t.eq((doc.get("streams"), doc.get("entries")), (2, 6), "index/stats sums both tenants")
    st, doc = get_json(srv, "/loki/api/v1/index/volume", dict(RANGE, query='{app=~".+"}'), AB)
    t.eq(sorted(r["metric"]["app"] for r in doc["data"]["result"]), ["alpha", "beta"],
         "volume of both tenants")
    st, doc = get_json(srv, "/loki/api/v1/detected_labels", dict(RANGE, query='{app=~".+"}'), AB)
    t.eq(st, 200, "detected_labels for two tenants")
    st, doc = get_json(srv, "/loki/api/v1/detected_fields", dict(RANGE, query='{app=~".+"}'), AB)
    t.eq((st, doc.get("fields")), (200, []), "detected_fields: none for several tenants, as Loki")
    st, doc = get_json(srv, "/loki/api/v1/patterns", dict(RANGE, query='{app=~".+"}'), AB)
    t.eq(st, 200, "patterns for two tenants")


def check_refused(t, srv):
    st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([('{app="x"}', [(NOW, "x")])]),
                           dict(wire.PROTO, **AB))
    t.eq((st, body.strip()), (400, b"multiple org IDs present"), "a push for two tenants is refused")
    st, body, _ = srv.get("/loki/api/v1/tail", {"query": '{app=~".+"}'}, headers=AB)
    t.eq(st, 400, "tail for two tenants is refused")


def check_single(t, srv):
    """A single-tenant request never sees another tenant, nor the label."""
    for tenant, (labels, line) in TENANTS.items():
        h = {"X-Scope-OrgID": tenant}
        st, body, _ = srv.get("/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}', limit="100"), headers=h)
        others = [l for tn, (_, l) in TENANTS.items() if tn != tenant]
        t.check(line.encode() in body and not any(o.encode() in body for o in others),
                "%s alone reads its own lines only" % tenant)
        t.check(b"__tenant_id__" not in body, "%s alone gets no __tenant_id__ label" % tenant)
        st, doc = get_json(srv, "/loki/api/v1/labels", RANGE, h)
        t.eq(doc.get("data"), ["app"], "%s alone: no __tenant_id__ label name" % tenant)


def check_deletes(t, srv):
    """A tenant's delete requests hide its lines from a multi-tenant read too."""
    st, body, _ = srv.request("POST", "/loki/api/v1/delete",
                              params={"query": '{app="alpha"} |= "alpha line 0"',
                                      "start": str(NOW // S - 600), "end": str(NOW // S)},
                              headers={"X-Scope-OrgID": "team-a"})
    t.eq(st, 204, "delete request for team-a: %r" % body[:100])
    st, doc = get_json(srv, "/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}', limit="100"), AB)
    lines = [v[1] for s in doc["data"]["result"] for v in s["values"]]
    t.eq(len(lines), 5, "team-a's deleted line is gone from the two-tenant read")
    t.check("alpha line 0" not in lines, "the deleted line is not answered")
    q = 'sum(count_over_time({app=~".+"}[15m]))'
    st, doc = get_json(srv, "/loki/api/v1/query", {"query": q, "time": str(NOW + 60 * S)}, AB)
    t.eq(doc["data"]["result"][0]["value"][1], "5", "nor counted")


def main():
    t = Result()
    with Lokic(auth=True, limits={"discover_service_name": []},
               config={"querier": {"multi_tenant_queries_enabled": True},
                       "pattern_ingester": {"enabled": True},
                       "compactor": {"retention_enabled": True}}) as srv:
        push_all(t, srv)
        check_queries(t, srv)
        check_meta(t, srv)
        check_refused(t, srv)
        check_single(t, srv)
        srv.stop()
        srv.start()
        check_queries(t, srv)  # again from the chunk files
        check_deletes(t, srv)
    with Lokic(auth=True) as srv:
        push_all(t, srv)
        st, body, _ = srv.get("/loki/api/v1/query_range", dict(RANGE, query='{app=~".+"}'), headers=AB)
        t.eq((st, body.strip()), (400, b"multiple org IDs present"), "option off: a|b is refused")
    t.done()


if __name__ == "__main__":
    main()
