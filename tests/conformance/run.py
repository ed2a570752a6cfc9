#!/usr/bin/env python3
"""Runs the shared Loki conformance suite against a fresh lokic: starts the
server on a free port with a temporary data dir, pushes the dataset (as
protobuf or JSON) with lokiconf.py, then checks the golden answers.

Exit 77 (CTest: skipped) when the suite is not present."""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "blackbox"))
from harness import Lokic  # noqa: E402

# Case families lokic answers today; grows as LogQL lands (issue 4 makes it all).
DEFAULT_ONLY = (r"^(sel|lf|labels|values|series|i)\.|^t\.(rfc3339|unixsec|window)$"
                r"|^e\.(syntax|empty|allempty|badre|order)$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--suite", required=True)
    ap.add_argument("--format", choices=["proto", "json"], default="proto")
    ap.add_argument("--only", default=os.environ.get("LOKIC_CONFORMANCE_ONLY", DEFAULT_ONLY))
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
        cmd = [sys.executable, tool, "check", "--url", srv.url,
               "--queries", os.path.join(a.suite, "queries.jsonl"),
               "--golden", os.path.join(a.suite, "golden.json.gz")]
        if a.only:
            cmd += ["--only", a.only]
        rc = subprocess.run(cmd).returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
