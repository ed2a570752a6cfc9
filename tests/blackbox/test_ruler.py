#!/usr/bin/env python3
"""The ruler (issue 13) against a real Alertmanager and a real Prometheus
(Debian's prometheus-alertmanager and prometheus, Prometheus with its
remote-write receiver on), each on a free loopback port with a temporary
directory, stopped at the end:

- pushed error lines make an alert go pending, then firing; Alertmanager's
  v2 API shows it with the rule's labels and rendered annotations; when the
  errors stop it resolves (gone from Alertmanager's active alerts);
- a recording rule's series appears in Prometheus, each sample equal to the
  same LogQL query run against lokic's query_range at its time;
- the rules API round-trips a group (POST, GET as YAML, DELETE); a bad rule
  is refused with its line and LogQL's error;
- /prometheus/api/v1/rules has Loki's shape; tenants' rules see only their
  own data.

Skipped (77) when the two programs are missing, unless LOKIC_RULER_REQUIRED is set (CI)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Lokic, Result, free_port  # noqa: E402

PROM = shutil.which("prometheus")
AM = shutil.which("prometheus-alertmanager")

ALERT_RULES = """groups:
  - name: errors
    interval: 1s
    rules:
      - alert: WebErrors
        expr: sum by (app) (count_over_time({app="web"} |= "error" [4s])) > 0
        for: 2s
        labels:
          severity: page
          tenant: %(tenant)s
        annotations:
          summary: "{{ $labels.app }} logs {{ humanize $value }} errors"
      - record: app:lines:count10s
        expr: sum by (app) (count_over_time({app="web"}[10s]))
        labels:
          tenant: %(tenant)s
"""


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def wait_http(url, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d" % (what, proc.returncode))
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("%s not ready" % what)


def wait_for(fn, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def start_alertmanager(tmp):
    port = free_port()
    cfg = os.path.join(tmp, "am.yml")
    with open(cfg, "w") as f:
        f.write("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    proc = subprocess.Popen(
        [AM, "--config.file=" + cfg, "--storage.path=" + os.path.join(tmp, "am"),
         "--web.listen-address=127.0.0.1:%d" % port, "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "am.log"), "wb"))
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/-/ready", proc, "alertmanager")
    return proc, url


def start_prometheus(tmp):
    port = free_port()
    cfg = os.path.join(tmp, "prom.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    proc = subprocess.Popen(
        [PROM, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "prom"),
         "--web.listen-address=127.0.0.1:%d" % port, "--web.enable-remote-write-receiver"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prom.log"), "wb"))
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/-/ready", proc, "prometheus")
    return proc, url


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def push(lk, tenant, lines):
    now = time.time_ns()
    values = [[str(now + i), line] for i, line in enumerate(lines)]
    body = json.dumps({"streams": [{"stream": {"app": "web"}, "values": values}]}).encode()
    st, b, _ = lk.post("/loki/api/v1/push", body,
                       {"Content-Type": "application/json", "X-Scope-OrgID": tenant})
    assert st == 204, (st, b)


def lokic_alerts(lk, tenant):
    st, js = lk.get_json("/prometheus/api/v1/alerts", headers={"X-Scope-OrgID": tenant})
    return js["data"]["alerts"] if st == 200 else []


def am_alerts(am_url):
    return [a for a in get_json(am_url + "/api/v2/alerts?active=true")
            if a["labels"].get("alertname") == "WebErrors"]


def check_alerting(res, lk, am_url):
    # errors pushed every half second for a while: pending, then firing
    pending = firing = None
    t_end = time.time() + 8
    while time.time() < t_end and not firing:
        push(lk, "t1", ["error: boom", "info: fine"])
        states = {a["state"] for a in lokic_alerts(lk, "t1")}
        pending = pending or ("pending" in states and not firing)
        firing = "firing" in states
        time.sleep(0.5)
    res.check(pending, "the alert was seen pending before firing")
    res.check(firing, "the alert fired")
    got = wait_for(lambda: am_alerts(am_url), 15)
    res.check(bool(got), "Alertmanager shows the alert")
    if got:
        a = got[0]
        res.eq(a["labels"].get("severity"), "page", "the rule's label in Alertmanager")
        res.eq(a["labels"].get("tenant"), "t1", "the tenant label in Alertmanager")
        res.eq(a["labels"].get("cluster"), "test", "the external label in Alertmanager")
        summary = a["annotations"].get("summary", "")
        res.check(summary.startswith("web logs ") and summary.endswith(" errors") and
                  "{{" not in summary, "rendered annotation: %r" % summary)
        res.eq(a["status"]["state"], "active", "the alert is active in Alertmanager")
    res.eq(lokic_alerts(lk, "t2"), [], "tenant t2's rule sees none of t1's errors")
    # the errors stop: the 4s window empties, the alert resolves
    gone = wait_for(lambda: not am_alerts(am_url) and not lokic_alerts(lk, "t1"), 30)
    res.check(gone, "the alert resolved in lokic and in Alertmanager")


def check_recording(res, lk, prom_url):
    q = urllib.parse.quote('app:lines:count10s{tenant="t1"}[2m]')
    series = wait_for(lambda: get_json(prom_url + "/api/v1/query?query=" + q)["data"]["result"],
                      30)
    res.check(bool(series), "the recording rule's series is in Prometheus")
    if not series:
        return
    values = series[0]["values"]
    res.check(len(values) >= 3, "several samples were written (%d)" % len(values))
    expr = 'sum by (app) (count_over_time({app="web"}[10s]))'
    mismatches = 0
    for ts, v in values[-5:]:
        st, js = lk.get_json("/loki/api/v1/query_range",
                             {"query": expr, "start": str(ts), "end": str(ts), "step": "1"},
                             headers={"X-Scope-OrgID": "t1"})
        got = js["data"]["result"][0]["values"][0][1] if st == 200 and js["data"]["result"] \
            else None
        if got != v:
            mismatches += 1
            print("sample at %s: prometheus %s, lokic query_range %s" % (ts, v, got))
    res.eq(mismatches, 0, "Prometheus' samples equal lokic's query_range")
    q2 = urllib.parse.quote('app:lines:count10s{tenant="t2"}')
    res.eq(get_json(prom_url + "/api/v1/query?query=" + q2)["data"]["result"], [],
           "tenant t2's recording rule saw no data")
    alerts_series = get_json(prom_url + "/api/v1/query?query=" +
                             urllib.parse.quote('ALERTS{alertname="WebErrors"}[5m]'))
    res.check(bool(alerts_series["data"]["result"]), "ALERTS series written to Prometheus")


def check_api(res, lk):
    h = {"X-Scope-OrgID": "t1", "Content-Type": "application/yaml"}
    group = ("name: api-group\ninterval: 1m\nrules:\n  - record: api:lines:count1m\n"
             "    expr: sum(count_over_time({app=\"web\"}[1m]))\n")
    st, body, _ = lk.post("/loki/api/v1/rules/ns-api", group.encode(), h)
    res.eq(st, 202, "POST a rule group: %r" % body)
    res.eq(json.loads(body)["status"], "success", "POST answers success")
    st, body, hd = lk.get("/loki/api/v1/rules/ns-api/api-group", headers=h)
    res.eq(st, 200, "GET the group")
    text = body.decode()
    res.check("api:lines:count1m" in text and "name:" in text, "the group as YAML: %r" % text)
    st, body, _ = lk.get("/loki/api/v1/rules", headers=h)
    res.check(st == 200 and "ns-api" in body.decode() and "rules.yaml" in body.decode(),
              "the list has both namespaces")
    st, body, _ = lk.get("/api/prom/rules/ns-api", headers=h)
    res.check(st == 200 and "api-group" in body.decode(), "the legacy path answers")
    st, body, _ = lk.get("/loki/api/v1/rules/ns-api", headers={"X-Scope-OrgID": "t2"})
    res.eq(st, 404, "another tenant does not see the namespace")
    bad = "name: bad\nrules:\n  - alert: A\n    expr: sum(rate({a=\"b\"}[1m]) >\n"
    st, body, _ = lk.post("/loki/api/v1/rules/ns-api", bad.encode(), h)
    res.eq(st, 400, "a bad rule is refused")
    err = json.loads(body)["error"]
    res.check(":3:5:" in err and "could not parse expression" in err,
              "the error names the line and LogQL's error: %r" % err)
    st, body, _ = lk.request("DELETE", "/loki/api/v1/rules/ns-api/api-group", headers=h)
    res.eq(st, 202, "DELETE the group")
    st, _, _ = lk.get("/loki/api/v1/rules/ns-api", headers=h)
    res.eq(st, 404, "the namespace is gone with its last group")
    st, js = lk.get_json("/prometheus/api/v1/rules", headers=h)
    res.eq(st, 200, "/prometheus/api/v1/rules")
    groups = js["data"]["groups"]
    res.eq([g["name"] for g in groups], ["errors"], "t1's groups")
    rule = groups[0]["rules"][0]
    for k in ("state", "name", "query", "duration", "labels", "annotations", "alerts", "health",
              "type", "lastEvaluation", "evaluationTime"):
        res.check(k in rule, "alerting rule has %s" % k)
    res.eq(rule["type"], "alerting", "rule type")
    res.eq(groups[0]["rules"][1]["type"], "recording", "recording rule type")
    res.eq(set(groups[0]) >= {"name", "file", "rules", "interval", "lastEvaluation",
                              "evaluationTime"}, True, "group keys")
    st, js = lk.get_json("/prometheus/api/v1/rules", {"type": "record"}, headers=h)
    res.eq([r["name"] for r in js["data"]["groups"][0]["rules"]], ["app:lines:count10s"],
           "type=record")


def main():
    if not PROM or not AM:
        print("prometheus or prometheus-alertmanager missing (scripts/deps.sh installs them)")
        if os.environ.get("LOKIC_RULER_REQUIRED"):
            raise SystemExit(1)
        raise SystemExit(77)
    res = Result()
    tmp = tempfile.mkdtemp(prefix="lokic-ruler-")
    am = prom = None
    try:
        am, am_url = start_alertmanager(tmp)
        prom, prom_url = start_prometheus(tmp)
        rules = os.path.join(tmp, "rules")
        for tenant in ("t1", "t2"):
            os.makedirs(os.path.join(rules, tenant))
            with open(os.path.join(rules, tenant, "rules.yaml"), "w") as f:
                f.write(ALERT_RULES % {"tenant": tenant})
        os.makedirs(os.path.join(rules, "t3"))
        with open(os.path.join(rules, "t3", "broken.yaml"), "w") as f:
            f.write("groups:\n  - name: x\n    rules:\n      - alert: B\n        expr: nope(\n")
        cfg = {"ruler": {
            "storage": {"type": "local", "local": {"directory": rules}},
            "alertmanager_url": am_url,
            "enable_api": True,
            "evaluation_interval": "1s",
            "poll_interval": "1s",
            "resend_delay": "1s",
            "external_url": "http://lokic.test",
            "external_labels": {"cluster": "test"},
            "remote_write": {"enabled": True,
                             "clients": {"prom": {"url": prom_url + "/api/v1/write"}}},
        }}
        with Lokic(config=cfg, auth=True) as lk:
            check_alerting(res, lk, am_url)
            check_recording(res, lk, prom_url)
            check_api(res, lk)
            res.check("rule file ignored" in lk.log() and "broken.yaml" in lk.log(),
                      "the broken file is logged and the other tenants' rules run")
            st, body, _ = lk.get("/metrics")
            text = body.decode()
            for m in ("loki_prometheus_rule_evaluations_total{rule_group=\"rules.yaml;errors\","
                      "user=\"t1\"}", "loki_prometheus_notifications_sent_total{user=\"t1\"}",
                      "loki_prometheus_rule_evaluation_duration_seconds_count"):
                res.check(m in text, "/metrics has %s" % m)
    finally:
        stop(am)
        stop(prom)
        shutil.rmtree(tmp, ignore_errors=True)
    res.done()


if __name__ == "__main__":
    main()
