"""A small W3C WebDriver client for Debian's chromedriver (chromium-driver)
driving headless chromium: sessions, navigation, scripts, clicks, keys and
screenshots, over the driver's HTTP API with urllib (nothing to install
beyond the two Debian packages)."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
KEYS = {"enter": "\ue007", "ctrl": "\ue009", "tab": "\ue004", "down": "\ue015", "esc": "\ue00c"}


def find_chromium():
    """(chromium, chromedriver) paths, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    return (browser, driver) if browser and driver else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(RuntimeError):
    pass


class Browser:
    """chromedriver on a free loopback port and one headless session."""

    def __init__(self, width=1280, height=800, dark=False, mobile=False):
        browser, driver = find_chromium()
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="lokic-chromium-")
        self.proc = subprocess.Popen([driver, "--port=%d" % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.time() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except OSError:
                if time.time() > deadline:
                    self.close()
                    raise
                time.sleep(0.05)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height), "--force-device-scale-factor=1"]
        if dark:
            args.append("--force-dark-mode")
        opts = {"binary": browser, "args": args}
        if mobile:
            opts["mobileEmulation"] = {"deviceMetrics": {"width": width, "height": height,
                                                         "pixelRatio": 1}}
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                 "goog:chromeOptions": opts,
                                                 "goog:loggingPrefs": {"browser": "ALL"}}}}
        try:
            self.session = self._call("POST", "/session", caps)["sessionId"]
        except Exception:
            self.close()
            raise
        if dark:  # --force-dark-mode is not honoured by every build: emulate the media too
            self.cdp("Emulation.setEmulatedMedia",
                     {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                out = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise WebDriverError("%s %s: %s" % (method, path, e.read()[:2000].decode(errors="replace")))
        return out.get("value")

    def s(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    def cdp(self, cmd, params):
        return self.s("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params})

    def get(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        """Runs script (a function body; `return` gives the value)."""
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, script, timeout=10, what="condition"):
        """Polls script until it returns a truthy value; returns it."""
        deadline = time.time() + timeout
        while True:
            v = self.js(script)
            if v:
                return v
            if time.time() > deadline:
                raise TimeoutError("timed out waiting for %s" % what)
            time.sleep(0.05)

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css), {})

    def type(self, css, text):
        self.s("POST", "/element/%s/value" % self.find(css), {"text": text})

    def clear(self, css):
        self.s("POST", "/element/%s/clear" % self.find(css), {})

    def chord(self, *keys):
        """Presses keys together (e.g. chord("ctrl", "enter")) on the focused element."""
        codes = [KEYS.get(k, k) for k in keys]
        actions = ([{"type": "keyDown", "value": c} for c in codes] +
                   [{"type": "keyUp", "value": c} for c in reversed(codes)])
        self.s("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": actions}]})
        self.s("DELETE", "/actions")

    def drag(self, css, x0, x1, y):
        """Drags the mouse across element css from x0 to x1 (offsets from its centre)."""
        el = {ELEMENT: self.find(css)}
        acts = [{"type": "pointerMove", "origin": el, "x": x0, "y": y},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerMove", "origin": el, "x": (x0 + x1) // 2, "y": y, "duration": 100},
                {"type": "pointerMove", "origin": el, "x": x1, "y": y, "duration": 100},
                {"type": "pointerUp", "button": 0}]
        self.s("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse",
                                                 "parameters": {"pointerType": "mouse"},
                                                 "actions": acts}]})
        self.s("DELETE", "/actions")

    def console_errors(self):
        try:
            logs = self.s("POST", "/se/log", {"type": "browser"}) or []
        except WebDriverError:
            return []
        return [l["message"] for l in logs if l.get("level") == "SEVERE"]

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def close(self):
        try:
            if getattr(self, "session", None):
                self.s("DELETE", "")
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
