#!/usr/bin/env python3
"""Black-box: corrupt index bytes. Data is pushed and flushed (SIGTERM), then
random bits of the LMDB data file (past its two meta pages) are flipped,
trial after trial with fixed seeds; each time a restarted server must stay
up and answer labels, label values, series, a log query and a metric query
(from what is still valid), and say in its log what it skipped. With the
good file back, everything is answered again. LOKIC_CORRUPT_SEED and
LOKIC_CORRUPT_TRIALS run other trials."""
import os
import random
import shutil
import signal
import time

from harness import Lokic, Result
import wire

S = 10**9
# trials 2 and 9 of seed 2000 crashed lokic before index reads were guarded
TRIALS = int(os.environ.get("LOKIC_CORRUPT_TRIALS", "24"))
SEED = int(os.environ.get("LOKIC_CORRUPT_SEED", "2000"))


def endpoints(now):
    rng = {"start": str(now - 7200 * S), "end": str(now)}
    return [("/loki/api/v1/labels", rng),
            ("/loki/api/v1/label/app/values", rng),
            ("/loki/api/v1/series", dict(rng, **{"match[]": '{env=~".+"}'})),
            ("/loki/api/v1/query_range", dict(rng, query='{env=~".+"}', limit="100000")),
            ("/loki/api/v1/query_range", dict(rng, query='sum by (app) (count_over_time({app=~"a1.*"}[1h]))',
                                              step="600"))]


def main():
    t = Result()
    now = time.time_ns()
    srv = Lokic(limits={"max_entries_limit_per_query": 100000})
    try:
        srv.start()
        for i in range(40):
            streams = [('{app="a%d", env="e%d", pod="p%d"}' % (i, i % 3, j),
                        [(now - 3600 * S + k * S + j, "line %d %d %d" % (i, j, k)) for k in range(50)])
                       for j in range(5)]
            st, _, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), wire.PROTO)
            t.eq(st, 204, "push %d" % i)
        srv.stop()
        mdb = os.path.join(srv.tmp, "data", "index", "data.mdb")
        good = mdb + ".good"
        shutil.copy(mdb, good)
        data0 = open(good, "rb").read()
        page = 4096
        noticed = 0
        for trial in range(TRIALS):
            rnd = random.Random(SEED + trial)
            data = bytearray(data0)
            for _ in range(rnd.randint(1, 8)):
                off = rnd.randrange(2 * page, len(data))
                data[off] ^= 1 << rnd.randrange(8)
            open(mdb, "wb").write(data)
            log_before = len(srv.log())
            srv.start()
            for path, params in endpoints(now):
                try:
                    st, body, _ = srv.get(path, params)
                except OSError as e:
                    st, body = None, str(e).encode()
                t.check(st is not None and st < 600, "trial %d %s answered: %s %r" % (trial, path, st, body[:120]))
            t.check(srv.proc.poll() is None, "trial %d: still running" % trial)
            noticed += "malformed index entry" in srv.log()[log_before:]
            srv.stop(sig=signal.SIGKILL, expect_code=None)
        print("trials with a skipped index entry: %d of %d" % (noticed, TRIALS))
        t.check(noticed > 0, "the log says what was skipped")
        shutil.copy(good, mdb)
        srv.start()
        st, doc = srv.get_json("/loki/api/v1/label/app/values",
                               {"start": str(now - 7200 * S), "end": str(now)})
        t.eq(len(doc["data"]) if st == 200 else st, 40, "the good index answers everything again")
    finally:
        srv.__exit__(None, None, None)
    t.done()


if __name__ == "__main__":
    main()
