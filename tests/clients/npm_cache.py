"""npm packages for the tests, in one place: install_into(package_dir,
cache) installs a directory's package.json (versions pinned) into a cache
directory when missing, under a lock so that tests running at once install
once (tests/s3's dynalite uses it too). For the real-client tests of this
directory: install() puts this directory's packages into
LOKIC_CLIENTS_CACHE (default: a directory under the system temp dir), and
node() runs a script of this directory with them. Without node and npm, or
when npm cannot install, a client test skips (77), unless
LOKIC_CLIENTS_REQUIRED=1 (CI), which makes that a failure."""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _unavailable(why):
    if os.environ.get("LOKIC_CLIENTS_REQUIRED") == "1":
        print("FAIL: the client test cannot run (LOKIC_CLIENTS_REQUIRED=1): " + why)
        print("0 passed, 1 failed")
        sys.exit(1)
    print(why + ": skipped")
    sys.exit(77)


def _install_locked(package_dir, cache):
    want = open(os.path.join(package_dir, "package.json")).read()
    stamp = os.path.join(cache, "package.json")
    if os.path.exists(stamp) and open(stamp).read() == want and \
            os.path.isdir(os.path.join(cache, "node_modules")):
        return None
    with open(stamp, "w") as f:
        f.write(want)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save"], cwd=cache,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        os.unlink(stamp)
        return "npm install failed\n" + r.stderr[-2000:]
    return None


def install_into(package_dir, cache):
    """Installs package_dir/package.json's packages into cache (its
    node_modules), unless the same package.json is installed there already.
    None, or why the packages cannot be had."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node or npm missing"
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install_locked(package_dir, cache)


def install():
    """The cache directory holding this directory's node_modules; exits 77
    (or 1 when required) when the packages cannot be had."""
    cache = os.environ.get("LOKIC_CLIENTS_CACHE",
                           os.path.join(tempfile.gettempdir(), "lokic-clients-npm"))
    why = install_into(HERE, cache)
    if why:
        _unavailable(why)
    return cache


def node(cache, script, *args, timeout=120):
    """Runs node on tests/clients/<script> with the cache's packages."""
    env = dict(os.environ, NODE_PATH=os.path.join(cache, "node_modules"))
    return subprocess.run(["node", os.path.join(HERE, script)] + [str(a) for a in args],
                          env=env, capture_output=True, text=True, timeout=timeout)
