#!/usr/bin/env python3
"""Real client: pino with its Loki transport (pino-loki, JSON pushes) sends
log records to a lokic started here, batched (batching.interval) and one
request per record (batching: false) (pino_send.js); every record is then
found under the labels Loki 3.6 gives it with its defaults: pino-loki's
level label (info, warning, error) and hostname, the transport's labels,
the propsToLabels label module, service_name from app
(discover_service_name); its structured metadata (pino-loki's meta key)
plus detected_level, which Loki 3.6 takes from the level label as it is
(warning). Packages: npm_cache.py (skipped, 77, without npm unless
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
LEVELS = (("info", 30), ("warning", 40), ("error", 50))


def expected(mode, i):
    app = "pino-" + mode
    level, number = LEVELS[i % 3]
    labels = {"app": app, "env": "ci", "level": level, "hostname": "client-host",
              "module": "m%d" % (i % 2), "service_name": app}
    meta = {"detected_level": level, "trace_id": "t%d" % i}
    body = {"level": number, "seq": i, "module": "m%d" % (i % 2),
            "meta": {"trace_id": "t%d" % i}, "msg": "record %d via %s" % (i, app)}
    return labels, body, meta


def main():
    cache = install()
    t = Result()
    with Lokic() as srv:  # Loki 3.6's defaults: discovery on
        t0 = time.time_ns()
        for mode in ("batch", "direct"):
            r = node(cache, "pino_send.js", srv.url, mode, "pino-" + mode, COUNT)
            t.check(r.returncode == 0 and not r.stderr.strip(), "pino-loki %s: exit %d %s" % (
                mode, r.returncode, (r.stdout + r.stderr)[-1000:]))
        for mode in ("batch", "direct"):
            got = records(srv, '{app="pino-%s"}' % mode, t0)
            t.check(got is not None, "%s: query" % mode)
            found = []
            for labels, line, meta in got or []:
                body = json.loads(line)
                t.check(isinstance(body.pop("time", None), int) and "hostname" not in body,
                        "%s: the line is pino's record without hostname: %s" % (mode, line))
                found.append((labels, body, meta))
            found.sort(key=lambda g: g[1].get("seq", -1))
            t.eq(len(found), COUNT, "%s: every record found" % mode)
            for i, g in enumerate(found):
                t.eq(g, expected(mode, i), "%s: record %d's labels, line and metadata" % (mode, i))
    t.done()


if __name__ == "__main__":
    main()
