#!/usr/bin/env python3
"""The ruler across a restart (issue 13's gaps): a pending alert's clock
survives it, as Prometheus restores ALERTS_FOR_STATE. An alert goes pending
and stays so a few seconds; lokic stops and starts again on the same data;
the alert is pending again with its active time moved by the downtime only
(for_grace_period 0s), so the pending time spent before the stop counts.
Without the restore its active time would be the first evaluation after
the start. The for state is in ruler.wal.dir (<path_prefix>/ruler-wal)."""
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lokic, Result, wait_for  # noqa: E402

RULES = """groups:
  - name: errors
    interval: 1s
    rules:
      - alert: WebErrors
        expr: sum by (app) (count_over_time({app="web"} |= "error" [10m])) > 0
        for: 10m
"""


def push(lk):
    now = time.time_ns()
    body = json.dumps({"streams": [{"stream": {"app": "web"},
                                    "values": [[str(now), "error: boom"]]}]}).encode()
    st, b, _ = lk.post("/loki/api/v1/push", body,
                       {"Content-Type": "application/json", "X-Scope-OrgID": "t1"})
    assert st == 204, (st, b)


def active_at(lk):
    """The pending alert's activeAt (Unix seconds), or None."""
    st, js = lk.get_json("/prometheus/api/v1/alerts", headers={"X-Scope-OrgID": "t1"})
    if st != 200:
        return None
    for a in js["data"]["alerts"]:
        if a["state"] == "pending":
            t = a["activeAt"].replace("Z", "+00:00")
            return datetime.datetime.fromisoformat(t).timestamp()
    return None


def main():
    res = Result()
    rules = tempfile.mkdtemp(prefix="lokic-rules-")
    os.makedirs(os.path.join(rules, "t1"))
    with open(os.path.join(rules, "t1", "rules.yaml"), "w") as f:
        f.write(RULES)
    cfg = {"ruler": {"evaluation_interval": "1s", "poll_interval": "1s",
                     "for_grace_period": "0s", "for_outage_tolerance": "1h",
                     "storage": {"type": "local", "local": {"directory": rules}}}}
    lk = Lokic(config=cfg, auth=True)
    try:
        check(res, lk)
    finally:
        shutil.rmtree(rules, ignore_errors=True)
    res.done()


def check(res, lk):
    with lk:
        push(lk)
        first = wait_for(lambda: active_at(lk) is not None, 15)
        res.check(first, "the alert went pending")
        if not first:
            return
        before = active_at(lk)
        time.sleep(5)  # pending time spent before the stop
        lk.stop()
        stopped = time.time()
        time.sleep(2)
        lk.start()
        wait_for(lambda: active_at(lk) is not None, 15)
        after = active_at(lk)
        seen = time.time()
        res.check(after is not None, "the alert is pending again after the restart")
        wal = os.path.join(lk.tmp, "data", "ruler-wal", "for_state")
        res.check(os.path.exists(wal), "the for state is in ruler.wal.dir")
        if after is not None:
            spent = seen - after
            res.check(spent >= 4, "the pending time before the stop still counts "
                      "(pending %.1fs by the alert's clock, active %.1f then %.1f)"
                      % (spent, before, after))
            down = after - before
            res.check(down <= seen - stopped + 1,
                      "the active time moved by no more than the downtime (%.1fs)" % down)


if __name__ == "__main__":
    main()
