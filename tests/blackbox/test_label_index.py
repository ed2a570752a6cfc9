#!/usr/bin/env python3
"""Black-box: label names, label values and equality selectors at a few
thousand streams, answered from the label indexes (memory and LMDB) with
the time-range semantics of a walk over every stream.

1. 3,000 streams {app, ns, pod} in two time bands and one late stream with
   another label: labels, pod values and series{ns="ns1"} over the whole
   range and over each band; labels with a `query` selector.
2. The streams go idle and leave memory (their chunks flushed, the label
   index in memory forgets them): the same answers, from the LMDB index;
   a stream pushed again is answered once.
3. SIGTERM flushes every stream (one chunk file each, written in batches
   made durable together): every file in place, no temporary file left,
   and the same answers after a restart.
"""
import glob
import os
import time

from harness import LOKI29, Lokic, Result
import wire

S = 10**9
MIN = 60 * S
N = 3000


def strs(srv, path, start, end, **extra):
    params = {"start": str(start), "end": str(end)}
    params.update(extra)
    st, doc = srv.get_json(path, params)
    if st != 200:
        raise RuntimeError("%s: %s %r" % (path, st, doc))
    return doc.get("data") or []


def check_answers(t, srv, t0, what):
    end = t0 + 60 * MIN
    t.eq(strs(srv, "/loki/api/v1/labels", t0, end), ["app", "extra", "ns", "pod"],
         "%s: labels over the whole range" % what)
    t.eq(strs(srv, "/loki/api/v1/labels", t0 + 40 * MIN, end), ["app", "extra"],
         "%s: labels of the late band" % what)
    t.eq(strs(srv, "/loki/api/v1/labels", t0 + 70 * MIN, t0 + 80 * MIN), [],
         "%s: labels after the data" % what)
    pods = strs(srv, "/loki/api/v1/label/pod/values", t0, end)
    t.eq(pods, sorted("p%05d" % i for i in range(N)), "%s: every pod" % what)
    pods = strs(srv, "/loki/api/v1/label/pod/values", t0 + 5 * MIN, t0 + 15 * MIN)
    t.eq(pods, sorted("p%05d" % i for i in range(1, N, 2)), "%s: the pods of band 2" % what)
    t.eq(strs(srv, "/loki/api/v1/label/app/values", t0, end), ["a0", "a1", "a2", "late"],
         "%s: app values" % what)
    t.eq(strs(srv, "/loki/api/v1/label/nope/values", t0, end), [], "%s: no such label" % what)
    series = strs(srv, "/loki/api/v1/series", t0, end, **{"match[]": '{ns="ns1"}'})
    t.eq(sorted(s["pod"] for s in series), sorted("p%05d" % i for i in range(1, N, 5)),
         "%s: series{ns=\"ns1\"}" % what)
    series = strs(srv, "/loki/api/v1/series", t0, t0 + 5 * MIN,
                  **{"match[]": '{ns="ns1", app="a1"}'})
    t.eq(sorted(s["pod"] for s in series),
         sorted("p%05d" % i for i in range(0, N, 2) if i % 5 == 1 and i % 3 == 1),
         "%s: series with two equality matchers, band 1" % what)
    t.eq(strs(srv, "/loki/api/v1/labels", t0, end, query='{app="late"}'), ["app", "extra"],
         "%s: labels with a selector" % what)


def main():
    t = Result()
    now = time.time_ns()
    t0 = now - 2 * 3600 * S
    ing = {"chunk_idle_period": "1s", "chunk_retain_period": "0s"}
    limits = dict(LOKI29, reject_old_samples=False, max_query_series=100000)
    with Lokic(config={"ingester": ing}, limits=limits) as srv:
        streams = [('{app="a%d", ns="ns%d", pod="p%05d"}' % (i % 3, i % 5, i),
                    [(t0 + (i % 2) * 10 * MIN + k * S, "line %d" % k) for k in range(3)])
                   for i in range(N)]
        streams.append(('{app="late", extra="x"}', [(t0 + 50 * MIN, "late line")]))
        for lo in range(0, len(streams), 500):
            st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams[lo:lo + 500]),
                                   wire.PROTO)
            t.eq(st, 204, "push: %r" % body)
        check_answers(t, srv, t0, "in memory")

        deadline = time.time() + 60
        while srv.metric("loki_ingester_memory_streams") != 0 and time.time() < deadline:
            time.sleep(0.2)
        t.eq(srv.metric("loki_ingester_memory_streams"), 0, "idle streams left memory")
        check_answers(t, srv, t0, "from the index")
        st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams[-1:]), wire.PROTO)
        t.eq(st, 204, "push again: %r" % body)
        check_answers(t, srv, t0, "memory and index")

        srv.stop()
        files = glob.glob(os.path.join(srv.tmp, "data", "chunks", "fake", "*", "*.lkc"))
        t.check(len(files) >= N + 1, "a chunk file per stream: %d" % len(files))
        t.eq(glob.glob(os.path.join(srv.tmp, "data", "chunks", "staging%", "*")), [],
             "nothing left in staging")
        srv.start()
        check_answers(t, srv, t0, "after a restart")
    t.done()


if __name__ == "__main__":
    main()
