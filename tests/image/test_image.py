#!/usr/bin/env python3
"""The container image built and run for real: podman builds the Dockerfile
(--pull=never, on the debian:bookworm base images tests/image/build_base.sh
makes from debootstrap), then runs the image on the host's network on a
free loopback port, pushes and queries through it:

  - as the README runs it: the embedded config, a named volume at /loki;
  - with a read-only root file system, only the /loki volume writable;
  - as the chart runs it (charts/lokic): its config mounted read-only at
    /etc/lokic, uid/gid 10001 with the volume's group (fsGroup), every
    capability dropped, no privilege escalation, a tmpfs at /tmp and the
    data volume at persistence.mountPath.

Each run checks /ready, push (protobuf and JSON), query_range, the lokic
process's uid, the WAL and (after SIGTERM) the chunks and index on the
volume; the hardened runs are restarted on their volume and answer again
without a re-push. Skipped (77) when podman is not installed or cannot run
a container here; LOKIC_IMAGE_REQUIRED=1 (CI) makes that a failure.
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
import harness  # noqa: E402
import wire  # noqa: E402

SRC = os.path.realpath(os.environ.get("LOKIC_SOURCE_DIR", os.path.join(HERE, "..", "..")))
OUT = os.environ.get("LOKIC_IMAGE_OUT") or tempfile.gettempdir()
BASE = "docker.io/library/debian:bookworm"
# This machine's runc refuses the host's rlimits; podman's cgroup manager
# without systemd is cgroupfs.
RUNC = "/usr/sbin/runc"
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
UID = "10001"
R = harness.Result()


def podman(*args):
    cmd = ["podman", "--cgroup-manager=cgroupfs"]
    if os.path.exists(RUNC):
        cmd += ["--runtime", RUNC]
    return cmd + list(args)


def run(*args, timeout=120, **kw):
    return subprocess.run(podman(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, **kw)


def skip(why):
    if os.environ.get("LOKIC_IMAGE_REQUIRED") == "1":
        print("FAIL: the image test cannot run (LOKIC_IMAGE_REQUIRED=1): %s" % why)
        raise SystemExit(1)
    print("SKIP: %s" % why)
    raise SystemExit(77)


def tail(text, n=60):
    return "\n".join(text.splitlines()[-n:])


def prepare():
    """Skips unless podman can run a container; makes the base images."""
    if not shutil.which("podman"):
        skip("podman is not installed (tests/image/build_base.sh installs it)")
    p = run("info")
    if p.returncode != 0:
        skip("podman info failed:\n%s" % tail(p.stdout.decode(errors="replace")))
    p = subprocess.run([os.path.join(HERE, "build_base.sh")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=1200)
    if p.returncode != 0:
        print(tail(p.stdout.decode(errors="replace")))
        R.check(False, "build_base.sh makes the base images")
        R.done()
    p = run("run", "--rm", "--network=host", *LIMITS, BASE, "true")
    if p.returncode != 0:
        skip("podman cannot run a container here:\n%s" % tail(p.stdout.decode(errors="replace")))


def image_id(name):
    p = run("image", "inspect", "--format", "{{.Id}}", name)
    return p.stdout.decode().strip() if p.returncode == 0 else None


def build_image():
    """podman build of the checkout's Dockerfile; the image's name, or None.
    The build stage is tagged too, so that its layers (the packages' layer
    above all) stay as the cache of the next build."""
    key = hashlib.sha1(SRC.encode()).hexdigest()[:12]
    tag, build_tag = "localhost/lokic-test:" + key, "localhost/lokic-test-build:" + key
    before = {t: image_id(t) for t in (build_tag, tag)}
    log = os.path.join(OUT, "image-build.log")
    t0 = time.time()
    with open(log, "wb") as f:
        for target in (["--target", "build", "-t", build_tag], ["-t", tag]):
            p = subprocess.run(podman("build", "--pull=never", "--network=host", *LIMITS, *target,
                                      "-f", os.path.join(SRC, "Dockerfile"), SRC),
                               stdout=f, stderr=subprocess.STDOUT, timeout=1500)
            if p.returncode != 0:
                break
    print("image build: %.0f s (log: %s)" % (time.time() - t0, log))
    if p.returncode != 0:
        with open(log, errors="replace") as f:
            print(tail(f.read()))
        R.check(False, "podman build of the Dockerfile")
        return None
    # the images this build replaced, with their layers that nothing else uses
    for t, old in before.items():
        if old and old != image_id(t):
            run("rmi", old)
    p = run("image", "inspect", "--format", "{{.Config.User}}", tag)
    R.eq(p.stdout.decode().strip(), UID + ":" + UID, "the image runs as uid 10001")
    return tag


class Container(harness.Lokic):
    """lokic in the image on the host's network: the harness's requests,
    podman's start, stop and logs. The config (if any) is mounted read-only
    at /etc/lokic/config.yaml; the port and address are flags."""

    def __init__(self, image, opts=(), config_text=None):
        super().__init__(config_text=config_text or "")
        self.image = image
        self.name = "lokic-test-%d-%s" % (os.getpid(), os.path.basename(self.tmp))
        self.opts = list(opts)
        if config_text is not None:
            os.chmod(self.tmp, 0o755)
            os.chmod(self.config_path, 0o644)
            self.opts += ["-v", self.config_path + ":/etc/lokic/config.yaml:ro"]

    def __exit__(self, *exc):
        try:
            self.stop(expect_code=None)
        finally:
            run("rm", "-f", "-v", self.name)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, wait=True):
        run("rm", "-f", "-v", self.name)
        p = run("run", "-d", "--name", self.name, "--network=host", *LIMITS, *self.opts,
                self.image, "-config.file=/etc/lokic/config.yaml",
                "-server.http-listen-address=127.0.0.1",
                "-server.http-listen-port=%d" % self.port)
        if p.returncode != 0:
            raise RuntimeError("podman run failed:\n%s" % p.stdout.decode(errors="replace"))
        if wait:
            self.wait_ready()

    def state(self):
        p = run("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", self.name)
        status, _, code = p.stdout.decode().strip().partition(" ")
        return status, int(code or -1)

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, code = self.state()
            if status != "running":
                raise RuntimeError("lokic's container is %s (exit %d):\n%s" % (status, code, self.log()))
            try:
                if self.get("/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("lokic not ready after %ds:\n%s" % (timeout, self.log()))

    def stop(self, expect_code=0):
        """SIGTERM (podman stop), as Kubernetes stops a pod; lokic flushes."""
        if self.state()[0] != "running":
            return
        run("stop", "-t", "60", self.name, timeout=90)
        status, code = self.state()
        if expect_code is not None and code != expect_code:
            raise RuntimeError("lokic exited with %d:\n%s" % (code, self.log()))

    def log(self):
        return run("logs", self.name).stdout.decode(errors="replace")[-20000:]

    def process_uid(self):
        p = run("exec", self.name, "cat", "/proc/1/status")
        for line in p.stdout.decode(errors="replace").splitlines():
            if line.startswith("Uid:"):
                return line.split()[1]
        return None


def push_and_query(c, what):
    """Pushes three lines (protobuf, then JSON) and reads them back."""
    now = time.time_ns()
    st, body, _ = c.post("/loki/api/v1/push", wire.proto_body(
        [('{app="image", run="%s"}' % what, [(now, "first line"), (now + 1, "second line")])]),
        wire.PROTO)
    R.eq((st, body), (204, b""), "%s: protobuf push" % what)
    st, body, _ = c.post("/loki/api/v1/push", wire.json_body(
        [({"app": "image", "run": what}, [(now + 2, "third line")])]), wire.JSON)
    R.eq((st, body), (204, b""), "%s: JSON push" % what)
    R.eq(query(c, what, now), ["first line", "second line", "third line"],
         "%s: query_range answers the pushed lines" % what)
    return now


def query(c, what, since):
    st, doc = c.get_json("/loki/api/v1/query_range", {
        "query": '{app="image", run="%s"}' % what, "direction": "forward",
        "start": str(since - 60 * 10**9), "end": str(since + 60 * 10**9)})
    if st != 200:
        return "HTTP %d: %r" % (st, doc)
    return [v[1] for s in doc["data"]["result"] for v in s["values"]]


def chown_volume(path):
    """Group 10001 and setgid, as fsGroup leaves a volume (rootless podman:
    inside its user namespace)."""
    if os.geteuid() == 0:
        os.chown(path, 0, int(UID))
        os.chmod(path, 0o2775)
    else:
        run("unshare", "sh", "-c", 'chown 0:%s "$1" && chmod 2775 "$1"' % UID, "sh", path)


def remove_volume(path):
    if os.geteuid() != 0:
        run("unshare", "rm", "-rf", path)
    shutil.rmtree(path, ignore_errors=True)


def owner(path):
    """The file's uid as the container sees it."""
    if os.geteuid() == 0:
        return str(os.stat(path).st_uid)
    return run("unshare", "stat", "-c", "%u", path).stdout.decode().strip()


def files(root, pattern):
    return sorted(glob.glob(os.path.join(root, pattern), recursive=True))


def check_readme_run(image):
    """`docker run -v lokic-data:/loki lokic`: the embedded config, a volume."""
    vol = "lokic-test-%d" % os.getpid()
    run("volume", "rm", "-f", vol)
    try:
        with Container(image, ["-v", vol + ":/loki"]) as c:
            st, body, _ = c.get("/ready")
            R.eq((st, body), (200, b"ready\n"), "readme: /ready")
            push_and_query(c, "readme")
            R.eq(c.process_uid(), UID, "readme: lokic runs as uid 10001")
            p = run("volume", "inspect", "--format", "{{.Mountpoint}}", vol)
            mnt = p.stdout.decode().strip()
            R.check(files(mnt, "wal/*.wal"), "readme: the WAL is on the /loki volume (%s)" % mnt)
            c.stop()
            R.eq(c.state(), ("exited", 0), "readme: SIGTERM stops lokic with 0")
            R.check(files(mnt, "chunks/fake/*/*.lkc") and files(mnt, "**/data.mdb"),
                    "readme: the chunks and the index are on the /loki volume")
    finally:
        run("volume", "rm", "-f", vol)


def chart_values():
    import yaml
    with open(os.path.join(SRC, "charts", "lokic", "values.yaml")) as f:
        return yaml.safe_load(f)


def hardened_opts(data, mount):
    """The chart's securityContext and mounts as podman options."""
    return ["--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp",
            "--user", UID + ":" + UID, "--group-add", UID, "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "-v", data + ":" + mount]


def check_hardened_run(image, what, mount, prefix, config_text=None):
    """Read-only root, data on a host directory at mount; lokic's data
    under prefix."""
    data = tempfile.mkdtemp(prefix="lokic-image-vol-")
    try:
        chown_volume(data)
        on_host = os.path.join(data, os.path.relpath(prefix, mount))
        opts = hardened_opts(data, mount)
        with Container(image, opts, config_text) as c:
            R.eq(c.get("/ready")[:2], (200, b"ready\n"), "%s: /ready" % what)
            since = push_and_query(c, what)
            R.eq(c.process_uid(), UID, "%s: lokic runs as uid 10001" % what)
            wal = files(on_host, "wal/*.wal")
            R.check(wal and all(owner(w) == UID for w in wal),
                    "%s: the WAL is on the volume, written by uid 10001: %r" % (what, wal))
            c.stop()
            R.eq(c.state(), ("exited", 0), "%s: SIGTERM stops lokic with 0" % what)
            R.check("level=error" not in c.log(), "%s: no error logged:\n%s" % (what, c.log()))
            R.check(files(on_host, "chunks/fake/*/*.lkc") and files(on_host, "**/data.mdb"),
                    "%s: the chunks and the index are on the volume: %r"
                    % (what, files(data, "**")))
            # the same volume in a new container answers without a re-push
            c.start()
            R.eq(query(c, what, since), ["first line", "second line", "third line"],
                 "%s: a new container on the volume answers from it" % what)
            c.stop()
            R.eq(c.state(), ("exited", 0), "%s: the second run stops with 0" % what)
    finally:
        remove_volume(data)


def check_chart_run(image):
    import yaml
    values = chart_values()
    mount = values["persistence"]["mountPath"]
    cfg = values["config"]
    check_hardened_run(image, "chart", mount, cfg["common"]["path_prefix"],
                       yaml.safe_dump(cfg, default_flow_style=False))


def main():
    t0 = time.time()
    prepare()
    image = build_image()
    if image:
        check_readme_run(image)
        check_hardened_run(image, "read-only", "/loki", "/loki")
        check_chart_run(image)
    print("image test: %.0f s" % (time.time() - t0))
    R.done()


if __name__ == "__main__":
    main()
