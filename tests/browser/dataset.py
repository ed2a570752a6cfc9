"""The explorer tests' data: a few services' streams over the last hour,
logfmt and JSON lines at several levels, pushed as Loki's JSON."""
import json
import random
import time

SERVICES = [("api", "prod", "logfmt"), ("web", "prod", "json"), ("worker", "dev", "logfmt")]
LEVELS = ["info"] * 6 + ["debug"] * 2 + ["warn", "error"]
PATHS = ["/v1/orders", "/v1/users", "/healthz", "/v1/cart", "/login"]


def line(fmt, level, i, rnd):
    path, status = rnd.choice(PATHS), rnd.choice([200, 200, 200, 201, 404, 500])
    ms = rnd.randint(1, 900)
    msg = "request failed" if level == "error" else "slow request" if level == "warn" else "request done"
    if fmt == "json":
        return json.dumps({"level": level, "msg": msg, "path": path, "status": status,
                           "duration_ms": ms, "seq": i})
    return 'level=%s msg="%s" path=%s status=%d duration=%dms seq=%d' % (level, msg, path, status, ms, i)


def streams(n_per_service=400, span_s=3300, now_ns=None, seed=7):
    """Loki push JSON streams: n_per_service lines per service over the last span_s seconds."""
    rnd = random.Random(seed)
    now_ns = now_ns or time.time_ns()
    out = []
    for app, env, fmt in SERVICES:
        by_level = {}
        for i in range(n_per_service):
            level = rnd.choice(LEVELS)
            ts = now_ns - int(span_s * 1e9) + int(i * span_s * 1e9 / n_per_service) + rnd.randint(0, 10**6)
            by_level.setdefault(level, []).append([str(ts), line(fmt, level, i, rnd)])
        for level, values in by_level.items():
            out.append({"stream": {"app": app, "env": env, "level": level}, "values": values})
    return out


def push(lokic, body_streams, tenant=None):
    headers = {"Content-Type": "application/json"}
    if tenant:
        headers["X-Scope-OrgID"] = tenant
    st, body, _ = lokic.post("/loki/api/v1/push", json.dumps({"streams": body_streams}).encode(),
                             headers=headers)
    if st != 204:
        raise RuntimeError("push: %d %r" % (st, body[:300]))
