#!/usr/bin/env python3
"""Runs the shared Loki conformance suite against a fresh lokic: starts the
server on a free port with a temporary data dir, pushes the dataset (as
protobuf or JSON) with lokiconf.py, then checks the golden answers.

With --restart the server is stopped with SIGTERM after the push (it
flushes every chunk to the chunk directory and the LMDB index), the data
directory is checked to hold chunk files and the index and no WAL segment,
and a new server on the same data answers the checks without a re-push.
--rebuild deletes the index (data.mdb, lock.mdb) before that restart: the
new server rebuilds it from the chunk files before it is ready.

Exit 77 (CTest: skipped) when the suite is not present."""
import argparse
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "blackbox"))
from harness import Lokic  # noqa: E402

# Every case is checked; LOKIC_CONFORMANCE_ONLY narrows it while debugging.
DEFAULT_ONLY = ""


def restart(srv, rebuild):
    """SIGTERM, check what is on disk, start again on the same data (without
    the index when rebuild)."""
    srv.stop()
    data = os.path.join(srv.tmp, "data")
    chunks = glob.glob(os.path.join(data, "chunks", "*", "*", "*.lkc"))
    index = os.path.exists(os.path.join(data, "index", "data.mdb"))
    wal = glob.glob(os.path.join(data, "wal", "*.wal"))
    print("after SIGTERM: %d chunk files, index %s, %d WAL segments"
          % (len(chunks), "present" if index else "MISSING", len(wal)))
    if not chunks or not index or wal:
        print("FAIL: the data directory should hold chunk files and the index, and no WAL")
        return False
    if rebuild:
        for name in ("data.mdb", "lock.mdb"):
            os.unlink(os.path.join(data, "index", name))
    srv.start()
    if rebuild:
        done = [line for line in srv.log().splitlines() if "index rebuilt" in line]
        print(done[-1] if done else "FAIL: the index was not rebuilt")
        return bool(done)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--suite", required=True)
    ap.add_argument("--format", choices=["proto", "json"], default="proto")
    ap.add_argument("--only", default=os.environ.get("LOKIC_CONFORMANCE_ONLY", DEFAULT_ONLY))
    ap.add_argument("--restart", action="store_true",
                    help="SIGTERM and restart between the push and the checks")
    ap.add_argument("--rebuild", action="store_true",
                    help="with --restart: delete the index before the restart")
    a = ap.parse_args()
    tool = os.path.join(a.suite, "lokiconf.py")
    if not os.path.exists(tool):
        print("conformance suite not found at %s: skipped" % a.suite)
        return 77
    if a.bin:
        os.environ["LOKIC_BIN"] = a.bin
        import harness
        harness.BIN = a.bin
    limits = {"ingestion_rate_mb": 1024, "ingestion_burst_size_mb": 1024}
    with Lokic(limits=limits) as srv:
        subprocess.run([sys.executable, tool, "push", "--url", srv.url, "--data",
                        os.path.join(a.suite, "dataset.jsonl.gz"), "--format", a.format],
                       check=True)
        if a.restart and not restart(srv, a.rebuild):
            return 1
        cmd = [sys.executable, tool, "check", "--url", srv.url,
               "--queries", os.path.join(a.suite, "queries.jsonl"),
               "--golden", os.path.join(a.suite, "golden.json.gz")]
        if a.only:
            cmd += ["--only", a.only]
        rc = subprocess.run(cmd).returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
