#!/usr/bin/env python3
"""Black-box: durability.

1. Restart: data pushed (with structured metadata), SIGTERM; the data
   directory then holds chunk files and the LMDB index and no WAL segment;
   a new server on the same data answers queries, labels and series
   without a re-push; /ready answers 503 until the WAL is replayed.
2. Crash: ten rounds of concurrent pushers, each recording every line the
   server acknowledged (204), killed with SIGKILL at a random moment while
   chunks are being cut and flushed; after each restart every acknowledged
   line of every round so far is there, exactly once.
3. Replay of every way the WAL logs a push: a snappy protobuf request kept
   as it arrived, protobuf requests with entries dropped by validation or
   refused by the ingester (logged per stream), gzip-encoded protobuf and
   JSON; after a SIGKILL exactly the accepted entries come back, none of
   the refused ones.
"""
import glob
import json
import os
import random
import signal
import threading
import time

from harness import LOKI29, Lokic, Result
import wire

S = 10**9
SMALL_CHUNKS = {"ingester": {"chunk_block_size": 2048, "chunk_target_size": 8192,
                             "chunk_idle_period": "1s", "chunk_retain_period": "0s"}}


def query_all(srv, selector, start, end, limit=100000):
    st, doc = srv.get_json("/loki/api/v1/query_range", {
        "query": selector, "start": str(start), "end": str(end), "limit": str(limit),
        "direction": "forward"})
    if st != 200:
        raise RuntimeError("query %s: %s %r" % (selector, st, doc))
    out = []
    for s in doc["data"]["result"]:
        for v in s["values"]:
            # structured metadata: categorized (Loki 3) or among the stream labels (2.9)
            meta = (v[2].get("structuredMetadata") if len(v) > 2 else None) or \
                {k: x for k, x in s["stream"].items() if k == "trace_id"}
            out.append((s["stream"], int(v[0]), v[1], meta))
    return out


def files(srv, pattern):
    return glob.glob(os.path.join(srv.tmp, "data", pattern))


def test_restart(t):
    now = time.time_ns()
    t0 = now - 3600 * S
    with Lokic(config=SMALL_CHUNKS, limits={**LOKI29, "max_entries_limit_per_query": 100000}) as srv:
        streams = [
            ({"app": "api", "env": "prod"},
             [(t0 + i * 1000000, "api line %d status=%d" % (i, 200 + i % 3), {"trace_id": "t%d" % i})
              for i in range(3000)]),
            ({"app": "web"}, [(t0 + i * S, "web line %d" % i) for i in range(50)]),
        ]
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body(streams), wire.JSON)
        t.eq(st, 204, "push: %r" % body)
        before = query_all(srv, '{app=~".+"}', t0, now)
        t.eq(len(before), 3050, "all lines before the restart")

        srv.stop()
        t.check(len(files(srv, "chunks/fake/*/*.lkc")) > 0, "SIGTERM leaves chunk files")
        t.check(os.path.exists(os.path.join(srv.tmp, "data", "index", "data.mdb")),
                "SIGTERM leaves the LMDB index")
        t.eq(files(srv, "wal/*.wal"), [], "SIGTERM leaves no WAL segment")
        t.eq(files(srv, "chunks/fake/*/*.tmp"), [], "no temporary chunk file")

        srv.start()
        after = query_all(srv, '{app=~".+"}', t0, now)
        t.eq(len(after), len(before), "lines after the restart")
        t.check(after == before, "same answer after the restart (lines, order, metadata)")
        meta = [e[3] for e in sorted(after, key=lambda e: e[1]) if e[0].get("app") == "api"][:2]
        t.eq(meta, [{"trace_id": "t0"}, {"trace_id": "t1"}], "structured metadata kept")
        st, doc = srv.get_json("/loki/api/v1/labels", {"start": str(t0), "end": str(now)})
        t.eq(doc.get("data"), ["app", "env"], "labels from the index")
        st, doc = srv.get_json("/loki/api/v1/label/app/values", {"start": str(t0), "end": str(now)})
        t.eq(doc.get("data"), ["api", "web"], "label values from the index")
        st, doc = srv.get_json("/loki/api/v1/series", {"match[]": '{env="prod"}', "start": str(t0),
                                                        "end": str(now)})
        t.eq(doc.get("data"), [{"app": "api", "env": "prod"}], "series from the index")
        st, doc = srv.get_json("/loki/api/v1/labels", {"start": str(now - 60 * S), "end": str(now)})
        t.eq(doc.get("data"), None, "labels outside the data's range: none")
        # a flipped byte in a chunk file: the query answers from the rest
        srv.stop()
        victim = max(files(srv, "chunks/fake/*/*.lkc"), key=os.path.getsize)
        with open(victim, "r+b") as f:
            f.seek(os.path.getsize(victim) // 3)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x41]))
        srv.start()
        got = query_all(srv, '{app=~".+"}', t0, now)
        t.check(0 < len(got) < 3050, "a corrupt block is skipped, the rest answered: %d" % len(got))
        st, _, _ = srv.get("/ready")
        t.eq(st, 200, "still running after reading a corrupt chunk")
        t.check("skipping" in srv.log(), "the log says what was skipped")

        # pushing on top of flushed data: the old entries again are not doubled
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body(streams), wire.JSON)
        t.eq(st, 204, "re-push after restart")
        t.eq(len(query_all(srv, '{app=~".+"}', t0, now)), 3050,
             "the re-push restores what was corrupt, without duplicates")

    # /ready is 503 while the WAL is replayed: a large WAL, polled at start
    with Lokic(limits={**LOKI29, "ingestion_rate_mb": 1000, "ingestion_burst_size_mb": 1000,
                       "max_entries_limit_per_query": 200000}) as srv:
        line = "x" * 200
        for b in range(20):
            ents = [(t0 + (b * 5000 + i) * 1000, "%s %d" % (line, b * 5000 + i)) for i in range(5000)]
            st, _, _ = srv.post("/loki/api/v1/push", wire.json_body([({"app": "big"}, ents)]), wire.JSON)
            t.eq(st, 204, "big push %d" % b)
        srv.stop(sig=signal.SIGKILL, expect_code=None)
        srv.start(wait=False)
        saw = None
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                st, body, _ = srv.get("/ready", timeout=2)
            except OSError:
                time.sleep(0.01)
                continue
            if saw is None:
                saw = (st, body)
            if st == 200:
                break
            time.sleep(0.005)
        t.check(saw is not None and saw[0] in (200, 503), "/ready answered: %r" % (saw,))
        if saw and saw[0] == 503:
            t.check(b"not ready" in saw[1].lower() or b"starting" in saw[1].lower(),
                    "503 says why: %r" % (saw[1],))
        t.check("WAL replayed" in srv.log(), "the log reports the replay")
        t.eq(len(query_all(srv, '{app="big"}', t0, now)), 100000, "all lines back after the replay")


class Pusher(threading.Thread):
    """Pushes batches of unique lines to its own stream until stopped; keeps
    the lines of every batch acknowledged with 204."""

    def __init__(self, srv, rnd, idx, acked):
        super().__init__(daemon=True)
        self.srv, self.rnd, self.idx, self.acked = srv, rnd, idx, acked
        self.stop = False
        self.errors = 0

    def run(self):
        seq = 0
        labels = '{job="crash", pusher="p%d"}' % self.idx
        while not self.stop:
            n = random.randint(1, 40)
            base = time.time_ns()
            ents = [(base + i, "round=%d pusher=%d seq=%d %s" % (self.rnd, self.idx, seq + i,
                                                                "y" * random.randint(0, 300)))
                    for i in range(n)]
            seq += n
            body = wire.proto_body([(labels, ents)])
            try:
                st, _, _ = self.srv.post("/loki/api/v1/push", body, wire.PROTO, timeout=10)
            except OSError:
                return  # the server is gone
            if st == 204:
                self.acked.extend((self.idx, e[0], e[1]) for e in ents)
            else:
                self.errors += 1


def test_crash_rounds(t, rounds=10):
    random.seed(int(os.environ.get("LOKIC_CRASH_SEED", "12345")))
    acked = []
    t_start = time.time_ns() - 60 * S
    lost_total = dup_total = 0
    srv = Lokic(config=SMALL_CHUNKS, limits={**LOKI29, "max_entries_limit_per_query": 10000000,
                                             "ingestion_rate_mb": 1000,
                                             "ingestion_burst_size_mb": 1000})
    try:
        srv.start()
        for rnd in range(rounds):
            pushers = [Pusher(srv, rnd, i, acked) for i in range(4)]
            for p in pushers:
                p.start()
            time.sleep(random.uniform(0.3, 1.5))
            srv.stop(sig=signal.SIGKILL, expect_code=None)
            for p in pushers:
                p.stop = True
            for p in pushers:
                p.join(timeout=20)
            srv.start()
            got = query_all(srv, '{job="crash"}', t_start, time.time_ns() + S, limit=10000000)
            t.check(len(got) >= len(acked), "round %d: the query returned %d lines for %d acknowledged"
                    % (rnd, len(got), len(acked)))
            seen = {}
            for stream, ts, line, _ in got:
                key = (int(stream["pusher"][1:]), ts, line)
                seen[key] = seen.get(key, 0) + 1
            lost = [a for a in acked if a not in seen]
            dups = [k for k, c in seen.items() if c > 1]
            lost_total += len(lost)
            dup_total += len(dups)
            t.check(not lost, "round %d: %d acknowledged lines lost, e.g. %r" % (rnd, len(lost), lost[:3]))
            t.check(not dups, "round %d: %d lines twice, e.g. %r" % (rnd, len(dups), dups[:3]))
        chunks = len(files(srv, "chunks/fake/*/*.lkc"))
        print("crash rounds: %d acknowledged lines, %d chunk files, lost %d, duplicated %d"
              % (len(acked), chunks, lost_total, dup_total))
        t.check(len(acked) > 1000, "the pushers got through: %d lines" % len(acked))
        t.check(chunks > 0, "chunks were flushed during the rounds")
        srv.stop()
        t.eq(files(srv, "wal/*.wal"), [], "clean stop at the end deletes the WAL")
    finally:
        srv.__exit__(None, None, None)


def lines_by_app(srv, start, end):
    got = {}
    for stream, _, line, _ in query_all(srv, '{app=~".+"}', start, end):
        got.setdefault(stream["app"], set()).add(line)
    return got


def test_replay_kinds(t):
    now = time.time_ns()
    expect = {}

    def ents(app, n, base, extra=()):
        out = [(base + i * 1000, "%s line %d" % (app, i)) for i in range(n)]
        expect.setdefault(app, set()).update(e[1] for e in out)
        return out + list(extra)

    with Lokic(limits={**LOKI29, "max_line_size": 100, "reject_old_samples": False,
                       "max_entries_limit_per_query": 100000}) as srv:
        # whole: logged as the request itself (an empty label value is dropped)
        body = wire.proto_body([('{app="whole", n="1"}', ents("whole", 50, now - 50 * S)),
                                ('{app="whole2", empty=""}', ents("whole2", 20, now - 40 * S))])
        records = srv.metric("loki_ingester_wal_records_logged_total")
        st, _, _ = srv.post("/loki/api/v1/push", body, wire.PROTO)
        t.eq(st, 204, "whole protobuf push")
        t.eq(srv.metric("loki_ingester_wal_records_logged_total") - records, 1,
             "a whole protobuf request is one WAL record")
        # a line too long is dropped by validation: the rest is logged per stream
        long_line = [(now - 30 * S + 999, "x" * 150)]
        body = wire.proto_body([('{app="trimmed"}', ents("trimmed", 10, now - 30 * S, long_line)),
                                ('{app="beside"}', ents("beside", 5, now - 30 * S))])
        st, _, _ = srv.post("/loki/api/v1/push", body, wire.PROTO)
        t.eq(st, 400, "a line over max_line_size is refused, the others kept")
        t.eq(srv.metric("loki_ingester_wal_records_logged_total") - records, 3,
             "a request not stored whole is logged per stream")
        # entries too far behind the stream's newest are refused by the ingester
        st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(
            [('{app="late"}', ents("late", 3, now - 10 * S))]), wire.PROTO)
        t.eq(st, 204, "newest entry of stream late")
        old = [(now - 3 * 3600 * S + i, "late refused %d" % i) for i in range(4)]
        body = wire.proto_body([('{app="late"}', ents("late", 2, now - 9 * S, old)),
                                ('{app="besidelate"}', ents("besidelate", 7, now - 9 * S))])
        st, resp, _ = srv.post("/loki/api/v1/push", body, wire.PROTO)
        t.eq(st, 400, "entries too far behind are refused: %r" % resp[:200])
        # other encodings: logged per stream
        hdr = dict(wire.PROTO, **{"Content-Encoding": "gzip"})
        st, _, _ = srv.post("/loki/api/v1/push", wire.gz(wire.proto_body(
            [('{app="gzipped"}', ents("gzipped", 8, now - 8 * S))])), hdr)
        t.eq(st, 204, "gzip protobuf push")
        st, _, _ = srv.post("/loki/api/v1/push", wire.json_body(
            [({"app": "json"}, ents("json", 6, now - 7 * S))]), wire.JSON)
        t.eq(st, 204, "JSON push")
        want = sorted((app, sorted(v)) for app, v in expect.items())
        before = lines_by_app(srv, now - 4 * 3600 * S, now + S)
        t.eq(sorted((app, sorted(v)) for app, v in before.items()), want,
             "what the server kept before the crash")
        srv.stop(sig=signal.SIGKILL, expect_code=None)
        srv.start()
        after = lines_by_app(srv, now - 4 * 3600 * S, now + S)
        t.eq(sorted((app, sorted(v)) for app, v in after.items()), want,
             "the replay restores exactly the accepted entries")
        st, doc = srv.get_json("/loki/api/v1/series", {"match[]": '{app="whole2"}',
                                                        "start": str(now - 60 * S), "end": str(now)})
        t.eq(doc.get("data"), [{"app": "whole2"}], "labels normalised as at push time")


def main():
    t = Result()
    t0 = time.time()
    test_replay_kinds(t)
    test_restart(t)
    test_crash_rounds(t)
    print("took %.1fs" % (time.time() - t0))
    t.done()


if __name__ == "__main__":
    main()
