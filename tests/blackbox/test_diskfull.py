#!/usr/bin/env python3
"""Black-box: a full disk. The data directory is a small tmpfs (as root),
filled up while lokic runs: pushes then get 500 "failed to write to the
WAL: No space left on device", queries keep answering, nothing that was
acknowledged is lost, and once space returns pushes succeed again; after a
SIGTERM and a restart every acknowledged line is there.

Where a tmpfs cannot be mounted (not root), a file-size limit
(prlimit --fsize) stands in for the full disk: writes past it fail with
EFBIG, which lokic reports the same way (and a new WAL segment takes the
next writes)."""
import os
import shutil
import subprocess
import time

from harness import Lokic, Result
import wire

S = 10**9
FS_SIZE = "24m"


def mount_tmpfs(path):
    os.makedirs(path, exist_ok=True)
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + FS_SIZE, "tmpfs", path],
                           capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True, timeout=10)


class Client:
    def __init__(self, srv, t0):
        self.srv, self.t0 = srv, t0
        self.seq = 0
        self.acked = []

    def push(self, n=200):
        # random text: the WAL compresses it little, so files grow as pushed
        ents = [(self.t0 + (self.seq + i) * 1000, "line %d %s" % (self.seq + i, os.urandom(60).hex()))
                for i in range(n)]
        self.seq += n
        st, body, _ = self.srv.post("/loki/api/v1/push", wire.proto_body([('{app="full"}', ents)]),
                                    wire.PROTO)
        if st == 204:
            self.acked.extend(e[1] for e in ents)
        return st, body.decode(errors="replace")

    def lines(self):
        st, doc = self.srv.get_json("/loki/api/v1/query_range", {
            "query": '{app="full"}', "start": str(self.t0), "end": str(self.t0 + 3600 * S),
            "limit": "1000000", "direction": "forward"})
        return st, [v[1] for s in doc["data"]["result"] for v in s["values"]] if st == 200 else []


def fill(path, n=0):
    """Writes a file until the file system is full; returns its path."""
    f = os.path.join(path, "filler%d" % n)
    # unbuffered: a buffered file would raise ENOSPC again when it is closed
    with open(f, "wb", buffering=0) as out:
        block = b"\0" * 65536
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError:
            pass
    return f


def check_all_back(t, c, what):
    st, got = c.lines()
    t.eq(st, 200, "%s: query" % what)
    missing = set(c.acked) - set(got)
    t.check(not missing, "%s: %d acknowledged lines missing" % (what, len(missing)))
    t.eq(len(got), len(set(got)), "%s: no line twice" % what)



def tmpfs_case(t):
    limits = {"max_entries_limit_per_query": 1000000, "ingestion_rate_mb": 1000,
              "ingestion_burst_size_mb": 1000}
    srv = Lokic(limits=limits, config={"ingester": {"chunk_target_size": 65536}})
    data = os.path.join(srv.tmp, "data")
    if not mount_tmpfs(data):
        shutil.rmtree(srv.tmp, ignore_errors=True)
        return False
    try:
        srv.start()
        c = Client(srv, time.time_ns() - 3600 * S)
        for _ in range(20):
            st, _ = c.push()
            t.eq(st, 204, "push before the disk is full")
        fillers = []
        failures = []
        for i in range(8):
            # top up: the flusher may free space (deleting WAL segments) meanwhile
            fillers.append(fill(data, i))
            st, msg = c.push()
            if st != 204:
                failures.append((st, msg))
        t.check(len(failures) >= 6, "pushes fail on a full disk: %d of 8" % len(failures))
        t.check(all(st == 500 for st, _ in failures), "the status is 500: %r" % failures[:1])
        t.check(all("failed to write to the WAL: No space left on device" in m for _, m in failures),
                "the message says why: %r" % (failures[:1],))
        check_all_back(t, c, "queries while the disk is full")
        t.check((srv.metric("lokic_ingester_wal_failures_total") or 0) >= 1, "WAL failures counted")
        t.check("No space left on device" in srv.log(), "the log names the error")

        for f in fillers:
            os.unlink(f)
        ok = False
        for _ in range(20):
            st, _ = c.push()
            if st == 204:
                ok = True
                break
            time.sleep(0.2)
        t.check(ok, "pushes succeed again once space returns")
        for _ in range(5):
            st, _ = c.push()
            t.eq(st, 204, "push after space returned")
        check_all_back(t, c, "after space returned")
        srv.stop()
        srv.start()
        check_all_back(t, c, "after a restart")
        srv.stop()
    finally:
        srv.stop(expect_code=None)
        umount(data)
        shutil.rmtree(srv.tmp, ignore_errors=True)
    return True


def fsize_case(t):
    limits = {"max_entries_limit_per_query": 1000000, "ingestion_rate_mb": 1000,
              "ingestion_burst_size_mb": 1000}
    srv = Lokic(limits=limits)
    srv.args = ["prlimit", "--fsize=%d" % (1 << 20)] + srv.args
    try:
        srv.start()
        c = Client(srv, time.time_ns() - 3600 * S)
        failures = []
        for _ in range(60):
            st, msg = c.push()
            if st != 204:
                failures.append((st, msg))
        t.check(failures, "a push fails past the file-size limit")
        t.check(all(st == 500 and "failed to write to the WAL: File too large" in m
                    for st, m in failures), "500 with the reason: %r" % failures[:1])
        t.check(len(failures) < 60, "later pushes go to a new segment")
        check_all_back(t, c, "queries after failed writes")
        srv.stop(expect_code=None)
        srv.args = srv.args[2:]
        srv.start()
        check_all_back(t, c, "after a restart")
    finally:
        srv.__exit__(None, None, None)


def main():
    t = Result()
    if not tmpfs_case(t):
        print("tmpfs not available (not root?): using a file-size limit instead")
        fsize_case(t)
    t.done()


if __name__ == "__main__":
    main()
