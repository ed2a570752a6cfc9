#!/usr/bin/env python3
"""The ruler's lock (issue 13's gaps): the rules API and the state endpoints
do not wait for a slow evaluation. A group of five heavy rules (a regular
expression over 200,000 lines each) evaluates back to back; while it does,
GETs of /prometheus/api/v1/rules and /loki/api/v1/rules answer in a
fraction of the group's evaluation time (they waited for the whole group
when the thread held the lock through its queries), and the evaluations go
on (a GET that reloads unchanged files does not void the one running)."""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lokic, Result, wait_for  # noqa: E402

RULE = """      - record: heavy:%d
        expr: sum(count_over_time({app="web"} |~ "a.*b.*c.*d%d" [1h]))
"""
RULES = "groups:\n  - name: heavy\n    interval: 1s\n    rules:\n" + \
    "".join(RULE % (i, i) for i in range(5))


def push(lk):
    start = time.time_ns() - 600 * 10**9
    for b in range(20):
        vals = [[str(start + b * 10000 + i),
                 "level=info msg=request path=/api/v%d user=u%d took=%dms" % (i % 7, i, i % 100)]
                for i in range(10000)]
        body = json.dumps({"streams": [{"stream": {"app": "web"}, "values": vals}]}).encode()
        st, b2, _ = lk.post("/loki/api/v1/push", body, {"Content-Type": "application/json"})
        assert st == 204, (st, b2)


def group(lk):
    st, js = lk.get_json("/prometheus/api/v1/rules")
    if st != 200 or not js["data"]["groups"]:
        return None
    return js["data"]["groups"][0]


def evaluations(lk):
    _, body, _ = lk.get("/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("loki_prometheus_rule_evaluations_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    res = Result()
    rules = tempfile.mkdtemp(prefix="lokic-rules-")
    os.makedirs(os.path.join(rules, "fake"))
    with open(os.path.join(rules, "fake", "heavy.yaml"), "w") as f:
        f.write(RULES)
    cfg = {"ruler": {"evaluation_interval": "1s", "poll_interval": "1m",
                     "storage": {"type": "local", "local": {"directory": rules}}}}
    try:
        with Lokic(config=cfg) as lk:
            check(res, lk)
    finally:
        shutil.rmtree(rules, ignore_errors=True)
    res.done()


def check(res, lk):
    push(lk)
    g = wait_for(lambda: (group(lk) or {}).get("evaluationTime", 0) > 0.5, 60)
    g = group(lk)
    eval_time = g["evaluationTime"] if g else 0
    res.check(g is not None and eval_time > 0.5,
              "the group is slow enough to tell (%.2fs a round)" % eval_time)
    if eval_time <= 0.5:
        return
    before = evaluations(lk)
    worst = 0.0
    t_end = time.time() + 3 * eval_time
    n = 0
    while time.time() < t_end:
        path = "/prometheus/api/v1/rules" if n % 2 else "/loki/api/v1/rules"
        t0 = time.time()
        st, _, _ = lk.get(path)
        worst = max(worst, time.time() - t0)
        res.check(st == 200, "GET %s" % path)
        n += 1
        time.sleep(0.05)
    res.check(worst < eval_time / 3,
              "the API answered within %.2fs while a round takes %.2fs" % (worst, eval_time))
    after = wait_for(lambda: evaluations(lk) > before + 5 and evaluations(lk), 10 * eval_time)
    res.check(after, "the evaluations went on during the GETs (%s -> %s)" % (before, after))


if __name__ == "__main__":
    main()
