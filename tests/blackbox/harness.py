"""Black-box test harness: runs the real lokic binary on a free loopback port
with a temporary data directory, and stops it with SIGTERM at the end.

    with Lokic(limits={"reject_old_samples": False}) as srv:
        status, body, headers = srv.get("/ready")
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BIN = os.environ.get("LOKIC_BIN", os.path.join(os.path.dirname(__file__), "../../build/lokic"))


# Loki 3's push-time discovery off (no service_name label, no detected_level
# metadata): the limits of a test whose expected answers are Loki 2.9's.
LOKI29 = {"discover_service_name": [], "discover_log_levels": False}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _yaml(v, indent=0):
    pad = "  " * indent
    out = []
    for k, x in v.items():
        if isinstance(x, dict):
            out.append("%s%s:" % (pad, k))
            out.append(_yaml(x, indent + 1))
        else:
            if isinstance(x, bool):
                x = "true" if x else "false"
            elif isinstance(x, str):
                x = json.dumps(x)
            out.append("%s%s: %s" % (pad, k, x))
    return "\n".join(out)


def wait_for(cond, timeout=30):
    """Polls cond every 0.1 s until it is true (True) or timeout seconds pass (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


class Lokic:
    def __init__(self, config=None, limits=None, auth=False, extra_args=(), config_text=None):
        self.tmp = tempfile.mkdtemp(prefix="lokic-test-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        if config_text is None:
            cfg = {
                "auth_enabled": auth,
                "server": {"http_listen_address": "127.0.0.1", "http_listen_port": self.port},
                "common": {"path_prefix": self.tmp + "/data"},
                "limits_config": dict({"reject_old_samples": False}, **(limits or {})),
            }
            for k, v in (config or {}).items():
                if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                    cfg[k].update(v)
                else:
                    cfg[k] = v
            config_text = _yaml(cfg) + "\n"
        self.config_path = os.path.join(self.tmp, "config.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.args = [BIN, "-config.file=" + self.config_path] + list(extra_args)
        self.proc = None
        self.stderr_path = os.path.join(self.tmp, "stderr.log")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, wait=True):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lokic exited with %d:\n%s" % (self.proc.returncode, self.log()))
            try:
                st, _, _ = self.get("/ready", timeout=2)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("lokic not ready after %ds:\n%s" % (timeout, self.log()))

    def stop(self, sig=signal.SIGTERM, expect_code=0):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("lokic did not stop on signal %d" % sig)
        self.stderr.close()
        if expect_code is not None and code != expect_code:
            raise RuntimeError("lokic exited with %d:\n%s" % (code, self.log()))

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-20000:]
        except OSError:
            return ""

    def request(self, method, path, params=None, body=None, headers=None, timeout=30):
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params=params, **kw)

    def post(self, path, body, headers=None, **kw):
        return self.request("POST", path, body=body, headers=headers, **kw)

    def get_json(self, path, params=None, **kw):
        st, body, _ = self.get(path, params, **kw)
        return st, json.loads(body) if body and body[:1] in (b"{", b"[") else body

    def metric(self, name):
        """The value of an unlabelled sample on /metrics, None when absent."""
        _, body, _ = self.get("/metrics")
        m = re.search(rb"^" + re.escape(name.encode()) + rb" (\S+)$", body, re.M)
        return float(m.group(1)) if m else None


class Result:
    """Counts checks; prints 'N passed, N failed' at the end."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s" % what, flush=True)

    def eq(self, got, want, what):
        self.check(got == want, "%s: got %r, want %r" % (what, got, want))

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        raise SystemExit(1 if self.failed else 0)
