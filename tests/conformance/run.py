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

With --suite3 (the Loki 3.6 suite, loki3.6/) the server runs on the
suite's loki3-config.yaml (placeholders filled), the Loki records are pushed
first and the OTLP records separately (an OTLP push that fails is reported
as pending, not fatal), and the check is compared with --pending, the case
ids known to fail: a failing case not in that list fails the run; a listed
case that passes is noted so the list can shrink.

The Loki 2.9 suite runs with Loki 3's push-time discovery off
(discover_service_name: [], discover_log_levels: false), as its README says.

Exit 77 (CTest: skipped) when the suite is not present."""
import argparse
import glob
import gzip
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "blackbox"))
from harness import Lokic, free_port  # noqa: E402

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


def loki3_config(suite, tmp):
    """loki3-config.yaml with its placeholders filled."""
    with open(os.path.join(suite, "loki3-config.yaml")) as f:
        text = f.read()
    return (text.replace("@DATA@", os.path.join(tmp, "data"))
            .replace("@GRPC@", str(free_port())))


def split_dataset(path, tmp):
    """The dataset's Loki records alone, in a file of their own."""
    out = os.path.join(tmp, "loki-records.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as src, \
            gzip.open(out, "wt", encoding="utf-8") as dst:
        for line in src:
            if line.strip() and "otlp" not in json.loads(line):
                dst.write(line)
    return out


def push3(tool, srv, suite, fmt):
    """Loki records, then OTLP records; False when the OTLP push failed."""
    data = os.path.join(suite, "dataset3.jsonl.gz")
    loki = split_dataset(data, srv.tmp)
    subprocess.run([sys.executable, tool, "push", "--url", srv.url, "--data", loki,
                    "--format", fmt], check=True)
    r = subprocess.run([sys.executable, tool, "push", "--url", srv.url, "--data", data,
                        "--format", "otlp-" + fmt], capture_output=True, text=True)
    if r.returncode != 0:
        print("OTLP push pending (/otlp/v1/logs): %s" % (r.stderr or r.stdout).strip()[:300])
        return False
    print(r.stdout.strip())
    return True


def read_pending(path):
    ids = set()
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                ids.add(line)
    return ids


def check3(tool, srv, suite, only, pending):
    """Runs the check verbosely and compares the failures with pending."""
    cmd = [sys.executable, tool, "check", "--url", srv.url, "-v",
           "--queries", os.path.join(suite, "queries3.jsonl"),
           "--golden", os.path.join(suite, "golden3.json.gz")]
    if only:
        cmd += ["--only", only]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    passed, failed, lines = set(), set(), out.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(ok|FAIL)\s+(\S+)", line)
        if not m:
            continue
        (passed if m.group(1) == "ok" else failed).add(m.group(2))
        if m.group(1) == "FAIL" and m.group(2) not in pending:
            print("REGRESSION " + line)
            if i + 1 < len(lines):
                print(lines[i + 1])
    now_pass = sorted(passed & pending)
    for cid in now_pass:
        print("note: %s passes now: remove it from the pending list" % cid)
    regressions = sorted(failed - pending)
    print("%d passed, %d failed (%d pending, %d regressions)"
          % (len(passed), len(failed), len(failed & pending), len(regressions)))
    return 1 if regressions else 0


def main3(a, tool):
    srv = Lokic(config_text="")  # the file is written below, once the port is known
    with open(srv.config_path, "w") as f:
        f.write(loki3_config(a.suite, srv.tmp).replace("@PORT@", str(srv.port)))
    with srv:
        push3(tool, srv, a.suite, a.format)
        return check3(tool, srv, a.suite, a.only, read_pending(a.pending))


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
    ap.add_argument("--suite3", action="store_true",
                    help="the Loki 3.6 suite: its config, OTLP records, a pending list")
    ap.add_argument("--pending", help="with --suite3: the case ids known to fail")
    a = ap.parse_args()
    tool = os.path.join(a.suite, "lokiconf.py")
    if a.suite3:
        tool = os.path.join(a.suite, "..", "loki2.9", "lokiconf.py")
        if not os.path.exists(os.path.join(a.suite, "queries3.jsonl")):
            print("conformance suite not found at %s: skipped" % a.suite)
            return 77
    if not os.path.exists(tool):
        print("conformance suite not found at %s: skipped" % a.suite)
        return 77
    if a.bin:
        os.environ["LOKIC_BIN"] = a.bin
        import harness
        harness.BIN = a.bin
    if a.suite3:
        return main3(a, tool)
    limits = {"ingestion_rate_mb": 1024, "ingestion_burst_size_mb": 1024,
              "discover_service_name": [], "discover_log_levels": False}
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
