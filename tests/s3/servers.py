"""Real object-store and index servers for the tests (issue 11), started in a
temporary directory on 127.0.0.1 and stopped at the end:

  Radosgw   a single-node Ceph (Debian's ceph-mon, ceph-osd, radosgw): one
            mon, one OSD on memstore, radosgw's beast frontend on a free
            port, an S3 user made with radosgw-admin. stop_rgw()/start_rgw()
            take only radosgw down and up (the objects stay in the OSD).
  Dynalite  DynamoDB's API on LevelDB (npm's dynalite, installed into a cache
            by tests/clients/npm_cache.py), run under dynalite_serve.js,
            which keeps it serving when a client drops a connection
            mid-request. stop_server()/start() take it down and up (the
            tables stay in its directory).

Both are context managers. unavailable(why) is the skip rule: exit 77,
unless LOKIC_OBJSTORE_REQUIRED=1 (CI, .ci/run) makes it a failure.

Notes on Ceph 16 here: with auth none, radosgw's default secure mon mode
fails with EACCES, so "ms mon client mode = crc"; "paxos propose interval"
small makes the first start fast; a pool of size 1 needs "mon allow pool
size one"; memstore keeps the objects in the OSD's memory."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
sys.path.insert(0, os.path.join(HERE, "..", "clients"))
import npm_cache  # noqa: E402
from harness import free_port  # noqa: E402

ACCESS_KEY = "LOKICTESTACCESSKEY00"
SECRET_KEY = "lokicTestSecretKey0000000000000000000000"
CEPH_BINS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph")


def unavailable(why):
    """Skips the test (77), or fails it when the servers are required."""
    if os.environ.get("LOKIC_OBJSTORE_REQUIRED") == "1":
        print("FAIL: the object-store test cannot run (LOKIC_OBJSTORE_REQUIRED=1): %s" % why)
        raise SystemExit(1)
    print("skipped: %s" % why)
    raise SystemExit(77)


def _wait_port(port, proc, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %d" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on %d within %ds" % (what, port, timeout))


def _stop(proc, timeout=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Radosgw:
    def __init__(self):
        missing = [b for b in CEPH_BINS if not shutil.which(b)]
        if missing:
            unavailable("%s not installed (scripts/deps.sh installs radosgw ceph-mon ceph-osd)"
                        % ", ".join(missing))
        self.dir = tempfile.mkdtemp(prefix="lokic-ceph-")
        self.mon_port = free_port()
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY
        self.region = "us-east-1"
        self.conf = os.path.join(self.dir, "ceph.conf")
        self.mon = self.osd = self.rgw = None

    def _write_conf(self):
        d = self.dir
        with open(self.conf, "w") as f:
            f.write("""[global]
fsid = %(fsid)s
mon host = v2:127.0.0.1:%(mon)d
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms bind msgr1 = false
paxos propose interval = 0.05
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 1073741824
osd data = %(d)s/osd
mon data = %(d)s/mon
run dir = %(d)s/run
admin socket = %(d)s/run/$name.asok
log file = %(d)s/$name.log
pid file = %(d)s/run/$name.pid
keyring = %(d)s/keyring
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:%(rgw)d
rgw data = %(d)s/rgw
rgw dns name = localhost
""" % {"fsid": uuid.uuid4(), "mon": self.mon_port, "rgw": self.port, "d": d})
        for sub in ("osd", "mon", "run", "rgw"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)

    def _run(self, *args, timeout=60):
        r = subprocess.run(list(args) + ["-c", self.conf], capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                         r.stdout[-2000:], r.stderr[-2000:]))
        return r.stdout

    def _daemon(self, *args):
        log = open(os.path.join(self.dir, args[0] + ".out"), "ab")
        return subprocess.Popen(list(args) + ["-f", "-c", self.conf], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self):
        self._write_conf()
        d = self.dir
        subprocess.run(["ceph-authtool", "--create-keyring", os.path.join(d, "keyring"),
                        "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"],
                       check=True, capture_output=True)
        monmap = os.path.join(d, "monmap")
        fsid = open(self.conf).read().split("fsid = ")[1].split("\n")[0]
        subprocess.run(["monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                        "[v2:127.0.0.1:%d]" % self.mon_port, monmap], check=True,
                       capture_output=True)
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap)
        self.mon = self._daemon("ceph-mon", "-i", "a")
        _wait_port(self.mon_port, self.mon, "ceph-mon")
        osd_id = self._run("ceph", "osd", "create").strip()
        self._run("ceph-osd", "-i", osd_id, "--mkfs")
        self.osd_id = osd_id
        self.osd = self._daemon("ceph-osd", "-i", osd_id)
        self._wait_osd_up()
        self.start_rgw()
        self._run("radosgw-admin", "user", "create", "--uid", "lokic", "--display-name", "lokic",
                  "--access-key", self.access_key, "--secret", self.secret_key)
        return self

    def _wait_osd_up(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.osd.poll() is not None:
                raise RuntimeError("ceph-osd exited with %d" % self.osd.returncode)
            if '"num_up_osds":1' in self._run("ceph", "osd", "stat", "-f", "json").replace(" ", ""):
                return
            time.sleep(0.2)
        raise RuntimeError("the OSD did not come up within %ds" % timeout)

    def start_rgw(self):
        self.rgw = self._daemon("radosgw", "-n", "client.rgw")
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.rgw.poll() is not None:
                raise RuntimeError("radosgw exited with %d (see %s)" % (self.rgw.returncode,
                                                                      self.dir))
            try:
                urllib.request.urlopen(self.endpoint, timeout=2).read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("radosgw did not answer within 90s")

    def stop_rgw(self):
        _stop(self.rgw)
        self.rgw = None

    def stop(self):
        for p in (self.rgw, self.osd, self.mon):
            _stop(p)
        self.rgw = self.osd = self.mon = None
        if os.environ.get("LOKIC_KEEP_CEPH") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class Dynalite:
    def __init__(self):
        cache = os.environ.get("LOKIC_DYNALITE_CACHE",
                               os.path.join(tempfile.gettempdir(), "lokic-dynalite-npm"))
        why = npm_cache.install_into(HERE, cache)
        if why:
            unavailable("dynalite cannot be installed: %s" % why)
        self.cache = cache
        self.dir = tempfile.mkdtemp(prefix="lokic-dynalite-")
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY
        self.region = "us-east-1"
        self.proc = None

    def start(self):
        env = dict(os.environ, NODE_PATH=os.path.join(self.cache, "node_modules"))
        log = open(os.path.join(self.dir, "dynalite.out"), "ab")
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "dynalite_serve.js"), str(self.port),
             os.path.join(self.dir, "db")], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait_port(self.port, self.proc, "dynalite")
        return self

    def stop_server(self):
        _stop(self.proc)
        self.proc = None

    def stop(self):
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
