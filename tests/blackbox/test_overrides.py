#!/usr/bin/env python3
"""Black-box: per-tenant limits from runtime_config.file. The file
overrides team-a's max_entries_limit_per_query and max_line_size; team-a
gets its own limits on queries, pushes and /config/tenant/v1/limits while
team-b keeps the defaults. The file is re-read every runtime_config.period:
a change applies without a restart; a broken file logs an error and the
previous overrides stay. /runtime_config prints them (?mode=diff: only what
differs from the defaults)."""
import json
import os
import time

from harness import Lokic, Result
import wire

S = 10**9
NOW = time.time_ns()
RANGE = {"start": str(NOW - 600 * S), "end": str(NOW + 60 * S)}


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def overrides(limit):
    return ("overrides:\n  team-a:\n    max_entries_limit_per_query: %d\n    max_line_size: 20\n"
            "    ingestion_burst_size_mb: 0.00001\n    max_streams_per_user: 1\n" % limit)


def query(srv, tenant, limit):
    st, body, _ = srv.get("/loki/api/v1/query_range", dict(RANGE, query='{app="x"}', limit=str(limit)),
                          headers={"X-Scope-OrgID": tenant})
    return st, body


def push(srv, tenant, line, labels='{app="x"}'):
    st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body([(labels, [(NOW, line)])]),
                           dict(wire.PROTO, **{"X-Scope-OrgID": tenant}))
    return st, body


def wait_for(cond, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def main():
    t = Result()
    srv = Lokic(auth=True)
    path = os.path.join(srv.tmp, "runtime.yaml")
    write(path, overrides(2))
    with open(srv.config_path, "a") as f:
        f.write("runtime_config:\n  file: %s\n  period: 100ms\n" % path)
    with srv:
        st, body = query(srv, "team-a", 3)
        t.eq(st, 400, "team-a: its max_entries_limit_per_query (2) applies: %r" % body[:120])
        t.check(b"(3 > 2)" in body, "team-a: Loki's message names its limit: %r" % body[:160])
        t.eq(query(srv, "team-b", 3)[0], 200, "team-b keeps the default limit")
        long_line = "x" * 30
        st, body = push(srv, "team-a", long_line)
        t.eq(st, 400, "team-a: its max_line_size (20) refuses a 30-byte line: %r" % body[:120])
        t.eq(push(srv, "team-b", long_line)[0], 204, "team-b: the default max_line_size")
        st, body = push(srv, "team-a", "y" * 15)  # over team-a's burst (10.48 bytes)
        t.eq(st, 429, "team-a: its ingestion burst applies: %r" % body[:120])
        t.eq(push(srv, "team-b", "y" * 15)[0], 204, "team-b: the default ingestion rate")
        t.eq(push(srv, "team-a", "ab")[0], 204, "team-a: a first stream")
        st, body = push(srv, "team-a", "ab", '{app="y"}')
        t.check(st != 204 and b"maximum active stream limit exceeded" in body,
                "team-a: its max_streams_per_user (1) refuses a second stream: %d %r" % (st, body[:100]))
        t.eq(push(srv, "team-b", "ab", '{app="y"}')[0], 204, "team-b: no stream limit")

        st, body, _ = srv.get("/config/tenant/v1/limits", headers={"X-Scope-OrgID": "team-a"})
        t.check(b"max_entries_limit_per_query: 2\n" in body, "tenant limits publish team-a's own")
        st, body, _ = srv.get("/config/tenant/v1/limits", headers={"X-Scope-OrgID": "team-b"})
        t.check(b"max_entries_limit_per_query: 5000\n" in body, "tenant limits: team-b's default")
        st, body, _ = srv.get("/loki/api/v1/drilldown-limits", headers={"X-Scope-OrgID": "team-a"})
        t.eq(json.loads(body)["limits"].get("max_entries_limit_per_query"), 2, "drilldown-limits: team-a's")

        st, body, _ = srv.get("/runtime_config", {"mode": "diff"})
        t.eq(body.decode(), "overrides:\n  team-a:\n    max_line_size: 20\n"
                            "    ingestion_burst_size_mb: 1e-05\n"
                            "    max_entries_limit_per_query: 2\n    max_streams_per_user: 1\n",
             "runtime_config?mode=diff")
        st, body, _ = srv.get("/runtime_config")
        t.check(b"  team-a:\n    reject_old_samples: " in body and b"max_query_series: 500" in body,
                "runtime_config prints every limit of team-a")

        write(path, overrides(5))
        t.check(wait_for(lambda: query(srv, "team-a", 3)[0] == 200), "a changed file applies without a restart")
        t.eq(query(srv, "team-a", 6)[0], 400, "team-a's new limit is 5")

        write(path, "overrides: [\n")
        t.check(wait_for(lambda: "failed to reload runtime config" in srv.log()), "a broken file logs an error")
        t.eq(query(srv, "team-a", 6)[0], 400, "a broken file keeps the previous overrides")
        t.eq(query(srv, "team-a", 5)[0], 200, "... limit 5 still")
    # a broken file at start: lokic does not start
    srv = Lokic(auth=True)
    path = os.path.join(srv.tmp, "runtime.yaml")
    write(path, "overrides:\n  team-a:\n    max_line_size: lots\n")
    with open(srv.config_path, "a") as f:
        f.write("runtime_config:\n  file: %s\n" % path)
    srv.start(wait=False)
    t.check(srv.proc.wait(timeout=20) != 0, "a broken runtime config at start stops lokic")
    t.check("max_line_size" in srv.log(), "... naming the key: %r" % srv.log()[-300:])
    t.done()


if __name__ == "__main__":
    main()
