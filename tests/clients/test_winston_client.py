#!/usr/bin/env python3
"""Real client: winston with its Loki transport (winston-loki) sends log
records to a lokic started here in its protobuf mode (snappy) and its JSON
mode (json: true), batched (winston_send.js); every record is then found,
under the labels Loki 3.6 gives it with its defaults: the transport's
labels, winston-loki's level label and per-record labels, and service_name
from app (discover_service_name); detected_level taken from the level label
(discover_log_levels); in JSON mode, the record's meta as structured
metadata, whose level (a stream label too) queries show as level_extracted.
Packages: npm_cache.py (skipped, 77, without npm unless
LOKIC_CLIENTS_REQUIRED=1)."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
from harness import Lokic, Result  # noqa: E402
from npm_cache import install, node  # noqa: E402
from records import records  # noqa: E402

COUNT = 30
LEVELS = ("info", "warn", "error")


def expected(mode, i):
    app = "winston-" + mode
    level = LEVELS[i % 3]
    labels = {"app": app, "env": "ci", "level": level, "service_name": app}
    if i % 2 == 1:
        labels["module"] = "odd"
    meta = {"detected_level": level}
    if mode == "json":
        meta.update({"seq": str(i), "level_extracted": level})
    # winston-loki's line: the message, then the rest of winston's info
    line = "record %d via %s %s" % (i, app, json.dumps({"seq": i, "level": level},
                                                       separators=(",", ":")))
    return labels, line, meta


def main():
    cache = install()
    t = Result()
    with Lokic() as srv:  # Loki 3.6's defaults: discovery on
        t0 = time.time_ns()
        for mode in ("proto", "json"):
            r = node(cache, "winston_send.js", srv.url, mode, "winston-" + mode, COUNT)
            t.check(r.returncode == 0, "winston-loki %s: exit %d %s" % (
                mode, r.returncode, (r.stdout + r.stderr)[-1000:]))
        for mode in ("proto", "json"):
            got = records(srv, '{app="winston-%s"}' % mode, t0)
            t.check(got is not None, "%s: query" % mode)
            got = sorted(got or [], key=lambda g: int(g[1].split()[1]))
            t.eq(len(got), COUNT, "%s: every record found" % mode)
            for i, g in enumerate(got):
                t.eq(g, expected(mode, i), "%s: record %d's labels, line and metadata" % (mode, i))
            st, body = srv.get_json("/loki/api/v1/label/service_name/values", {
                "start": str(t0 - 60 * 10**9)})
            t.check(st == 200 and "winston-" + mode in body.get("data", []),
                    "%s: service_name is listed" % mode)
    t.done()


if __name__ == "__main__":
    main()
