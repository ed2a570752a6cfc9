#!/usr/bin/env python3
"""Black-box: /loki/api/v1/patterns and the pattern ingester. Patterns
appear after pushes with <_> where lines differ, counted per step; a
pattern with fewer than 30 lines in the range is not shown (Loki's
querier); tenants never see each other's patterns; a bad selector is a
400; with pattern_ingester.enabled off the endpoint answers 404 and
drilldown-limits says so."""
import time

from harness import Lokic, Result
import wire

S = 10**9
ON = {"pattern_ingester": {"enabled": True}}


def push(t, srv, org, labels, lines):
    st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([(labels, lines)]),
                           dict(wire.PROTO, **{"X-Scope-OrgID": org}))
    t.eq(st, 204, "push to %s: %r" % (org, body[:200]))


def patterns(srv, org, query, start, end, step="60s"):
    return srv.get_json("/loki/api/v1/patterns",
                        {"query": query, "start": str(start), "end": str(end), "step": step},
                        headers={"X-Scope-OrgID": org})


def main():
    t = Result()
    t0 = (time.time_ns() // S // 300 - 12) * 300 * S   # an hour ago, on 5 minutes
    a = [(t0 + i * 15 * S, "request %d served in %dms from backend" % (i, 3 * i + 1))
         for i in range(40)]
    few = [(t0 + i * 15 * S + S, "cache miss for key %d after %d tries" % (i, i % 3))
           for i in range(29)]
    b = [(t0 + i * 10 * S, "tenant b job %d took %ds to run" % (i, i)) for i in range(35)]
    with Lokic(config=ON, auth=True) as srv:
        push(t, srv, "a", '{app="web"}', a)
        push(t, srv, "a", '{app="cache"}', few)
        push(t, srv, "b", '{app="web"}', b)

        st, doc = patterns(srv, "a", '{app="web"}', t0, t0 + 3600 * S)
        t.eq(st, 200, "patterns of tenant a")
        t.eq(doc.get("status"), "success", "status")
        data = doc.get("data", [])
        t.eq([d["pattern"] for d in data], ["request <_> served in <_> from backend"],
             "one pattern, <_> where the lines differ")
        if data:
            s = data[0]["samples"]
            t.eq(sum(c for _, c in s), 40, "every line counted")
            t.eq([c for _, c in s], [4] * 10, "4 lines per 60 s step")
            t.eq(s[0][0], t0 // S, "steps on the minute, in seconds")
            t.check(data[0].get("level") in ("unknown", "info", "debug"), "a level: %r" % data[0])

        st, doc = patterns(srv, "a", '{app="web"}', t0, t0 + 3600 * S, step="5m")
        t.eq([[c for _, c in d["samples"]] for d in doc.get("data", [])], [[20, 20]],
             "5m steps")
        st, doc = patterns(srv, "a", '{app="web"}', t0, t0 + 300 * S, step="5m")
        t.eq(doc.get("data"), [], "only 20 lines in the range: under the 30-line floor")
        st, doc = patterns(srv, "a", '{app="cache"}', t0, t0 + 3600 * S)
        t.eq((st, doc.get("data")), (200, []), "29 lines: not shown")

        st, doc = patterns(srv, "b", '{app="web"}', t0, t0 + 3600 * S)
        t.eq([d["pattern"] for d in doc.get("data", [])], ["tenant b job <_> took <_> to run"],
             "tenant b sees only its own pattern")
        st, doc = patterns(srv, "c", '{app="web"}', t0, t0 + 3600 * S)
        t.eq((st, doc.get("data")), (200, []), "a tenant without data sees nothing")

        st, _, _ = srv.get("/loki/api/v1/patterns", {"query": '{app="web"'},
                           headers={"X-Scope-OrgID": "a"})
        t.eq(st, 400, "a bad selector")
        st, doc = srv.get_json("/loki/api/v1/drilldown-limits", headers={"X-Scope-OrgID": "a"})
        t.eq(doc.get("pattern_ingester_enabled"), True, "drilldown-limits: enabled")

    with Lokic() as srv:
        st, _, _ = srv.get("/loki/api/v1/patterns", {"query": '{app="web"}'})
        t.eq(st, 404, "pattern ingester off (Loki's default): 404")
        st, doc = srv.get_json("/loki/api/v1/drilldown-limits", headers={"X-Scope-OrgID": "a"})
        t.eq(doc.get("pattern_ingester_enabled"), False, "drilldown-limits: disabled")
    t.done()


if __name__ == "__main__":
    main()
