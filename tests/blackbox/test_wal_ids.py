#!/usr/bin/env python3
"""Black-box: WAL segment ids past 32 bits.

Regression (issue 9, item 3): segment ids were 32-bit, so with a segment
named 4294967295.wal in the WAL directory the next one was 00000000.wal,
which replay does not read: the acknowledged line was lost at the restart
after a crash, and the SIGTERM after that deleted the WAL. Here a valid
empty segment 4294967295.wal is planted, lines are pushed (a snappy
protobuf request kept whole and a JSON one logged per stream), the server
is killed, and after the restart the lines are there; an orderly stop
then flushes them, and they are still there after another start.
"""
import os
import signal
import struct
import time

from harness import Lokic, Result
import wire

S = 10**9
PLANTED = 4294967295


def segment_header(seg_id):
    # storage/wal.c: magic, version 1, 3 zero bytes, the id (LE64)
    return b"LKWL" + bytes([1, 0, 0, 0]) + struct.pack("<Q", seg_id)


def lines(srv, start, end):
    st, doc = srv.get_json("/loki/api/v1/query_range", {
        "query": '{app=~"wal-.+"}', "start": str(start), "end": str(end),
        "direction": "forward"})
    if st != 200:
        raise RuntimeError("query: %s %r" % (st, doc))
    return sorted(v[1] for s in doc["data"]["result"] for v in s["values"])


def main():
    t = Result()
    now = time.time_ns()
    t0 = now - 60 * S
    want = ["after 2^32 (json)", "after 2^32 (protobuf)"]
    srv = Lokic()
    try:
        wal_dir = os.path.join(srv.tmp, "data", "wal")
        os.makedirs(wal_dir)
        with open(os.path.join(wal_dir, "%08d.wal" % PLANTED), "wb") as f:
            f.write(segment_header(PLANTED))
        srv.start()
        t.check(os.path.exists(os.path.join(wal_dir, "%d.wal" % (PLANTED + 1))),
                "the next segment is %d.wal: %r" % (PLANTED + 1, sorted(os.listdir(wal_dir))))
        t.check(not os.path.exists(os.path.join(wal_dir, "00000000.wal")), "no 00000000.wal")

        body = wire.proto_body([('{app="wal-proto"}', [(t0, want[1])])])
        st, msg, _ = srv.post("/loki/api/v1/push", body, wire.PROTO)
        t.eq(st, 204, "protobuf push: %r" % msg)
        body = wire.json_body([({"app": "wal-json"}, [(t0 + 1, want[0])])])
        st, msg, _ = srv.post("/loki/api/v1/push", body, wire.JSON)
        t.eq(st, 204, "JSON push: %r" % msg)
        t.eq(lines(srv, t0, now), want, "lines before the crash")

        srv.stop(sig=signal.SIGKILL, expect_code=None)
        srv.start()
        t.eq(lines(srv, t0, now), want, "acknowledged lines replayed after a crash")

        srv.stop()  # SIGTERM: flushed to chunks, the WAL deleted
        t.eq(sorted(n for n in os.listdir(wal_dir) if n.endswith(".wal")), [],
             "an orderly stop deletes the WAL")
        srv.start()
        t.eq(lines(srv, t0, now), want, "lines after an orderly stop and a start")
        srv.stop()
    finally:
        srv.__exit__(None, None, None)
    t.done()


if __name__ == "__main__":
    main()
