#!/usr/bin/env python3
"""Black-box: memory per query (issue 9, item 7: one high-cardinality query
could grow lokic without bound). A metric query grouping by a parsed field
with many values (`sum by (user) (count_over_time(... | logfmt [1m]))`)
needs far more memory than a small querier.max_memory_per_query: it fails
with 400 naming the limit, the server's peak RSS grows much less than for
the same query without the limit, and it keeps answering; small metric and
log queries still succeed. A log query keeping more bytes than the limit
fails the same way. With a small querier.max_memory_all_queries, concurrent
big queries get 429 (too many outstanding requests) while small ones are
answered; lokic_queries_refused_total counts both reasons, and
lokic_query_memory_bytes is back to 0 once the queries are done."""
import re
import threading
import time

from harness import Lokic, Result
import wire

S = 10**9
USERS = 20000
LIMIT = 4 * 1024 * 1024
BIG = 'sum by (user) (count_over_time({job="qmem"} | logfmt [1m]))'
SMALL = 'sum by (job) (count_over_time({job="qmem"}[1m]))'
LIMITS = {"ingestion_rate_mb": 1000, "ingestion_burst_size_mb": 1000,
          "max_query_series": 1000000}


def push(t, srv, t0):
    """USERS distinct user values over the hour before t0 + 3600 s."""
    for b in range(USERS // 2000):
        streams = []
        for s in range(4):
            ents = []
            for i in range(b * 2000 + s, b * 2000 + 2000, 4):
                ents.append((t0 + i * (3600 * S // USERS), 'level=info user=u%d msg="x%s"'
                             % (i, "y" * 40)))
            streams.append(('{job="qmem", shard="%d"}' % s, ents))
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), wire.PROTO)
        t.eq(st, 204, "push batch %d (%r)" % (b, body[:200]))


def rng(t0, q, **kw):
    p = {"query": q, "start": str(t0), "end": str(t0 + 3600 * S), "step": "60"}
    p.update(kw)
    return p


def vm(srv, key):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M)
    return int(m.group(1)) * 1024


def refused(srv, reason):
    _, body, _ = srv.get("/metrics")
    m = re.search(rb'^lokic_queries_refused_total\{reason="%s"\} (\S+)$' % reason.encode(),
                  body, re.M)
    return float(m.group(1)) if m else 0.0


def unlimited_growth(t, t0):
    """The big query's peak RSS growth without a limit (and that it works)."""
    cfg = {"querier": {"max_memory_per_query": 0, "max_memory_all_queries": 0}}
    with Lokic(config=cfg, limits=LIMITS) as srv:
        push(t, srv, t0)
        before = vm(srv, "VmHWM")
        st, doc = srv.get_json("/loki/api/v1/query_range", rng(t0, BIG), timeout=120)
        t.eq(st, 200, "the big query without a limit")
        if st == 200:
            t.eq(len(doc["data"]["result"]), USERS, "series without a limit")
        return vm(srv, "VmHWM") - before


def per_query_limit(t, t0, growth):
    cfg = {"querier": {"max_memory_per_query": LIMIT}}
    with Lokic(config=cfg, limits=LIMITS) as srv:
        push(t, srv, t0)
        before = vm(srv, "VmHWM")
        st, body, _ = srv.get("/loki/api/v1/query_range", rng(t0, BIG), timeout=120)
        t.eq(st, 400, "the big query over max_memory_per_query (%r)" % body[:200])
        t.check(b"query memory limit (%d bytes) reached for a single query" % LIMIT in body
                and b"querier.max_memory_per_query" in body, "the error names the limit: %r" % body[:300])
        limited = vm(srv, "VmHWM") - before
        t.check(limited * 2 < growth, "peak RSS grew %d bytes with the limit, %d without"
                % (limited, growth))
        t.eq(refused(srv, "query_limit"), 1.0, "lokic_queries_refused_total{reason=query_limit}")
        st, doc = srv.get_json("/loki/api/v1/query_range", rng(t0, SMALL))
        t.eq(st, 200, "a small metric query still succeeds")
        if st == 200:
            t.eq(len(doc["data"]["result"]), 1, "small query series")
        st, doc = srv.get_json("/loki/api/v1/query_range",
                               rng(t0, '{job="qmem"} |= "user=u7 "', limit="10"))
        t.eq(st, 200, "a small log query still succeeds")
        # 5000 lines of about 60 bytes fit; with the limit at 200 KB they do not
    cfg = {"querier": {"max_memory_per_query": 200 * 1024}}
    with Lokic(config=cfg, limits=LIMITS) as srv:
        push(t, srv, t0)
        st, body, _ = srv.get("/loki/api/v1/query_range",
                              rng(t0, '{job="qmem"}', limit="5000"))
        t.eq(st, 400, "a log query keeping more than the limit (%r)" % body[:200])
        t.check(b"querier.max_memory_per_query" in body, "log query error names the limit")
        st, _, _ = srv.get("/loki/api/v1/query_range", rng(t0, '{job="qmem"}', limit="100"))
        t.eq(st, 200, "a log query within the limit")
        t.eq(srv.metric("lokic_query_memory_bytes"), 0.0, "nothing held after the queries")


def global_budget(t, t0):
    cfg = {"querier": {"max_memory_per_query": 0, "max_memory_all_queries": LIMIT}}
    with Lokic(config=cfg, limits=LIMITS) as srv:
        push(t, srv, t0)
        answers = []

        def run(q):
            st, body, _ = srv.get("/loki/api/v1/query_range", rng(t0, q), timeout=120)
            answers.append((q, st, body))

        th = [threading.Thread(target=run, args=(q,)) for q in [BIG, SMALL] * 3]
        for x in th:
            x.start()
        for x in th:
            x.join()
        for q, st, body in answers:
            if q == BIG:
                t.eq(st, 429, "a big query past the budget of all queries (%r)" % body[:200])
                t.check(b"too many outstanding requests" in body
                        and b"querier.max_memory_all_queries" in body,
                        "the 429 names the budget: %r" % body[:300])
            else:
                t.check(st in (200, 429), "a small query is answered or refused: %d" % st)
        st, _, _ = srv.get("/loki/api/v1/query_range", rng(t0, SMALL))
        t.eq(st, 200, "a small query after the big ones")
        t.check(refused(srv, "all_queries_limit") >= 3, "lokic_queries_refused_total{reason=all_queries_limit}")
        t.eq(srv.metric("lokic_query_memory_bytes"), 0.0, "the budget is given back")


def main():
    t = Result()
    t0 = (time.time_ns() // (60 * S) - 120) * 60 * S
    growth = unlimited_growth(t, t0)
    per_query_limit(t, t0, growth)
    global_budget(t, t0)
    t.done()


if __name__ == "__main__":
    main()
