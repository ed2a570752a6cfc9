"""The container image's checks for tests/chart/test_chart.py: the
Dockerfile read statically (stages, the build through scripts/deps.sh and
scripts/run.sh's CMake lines, runtime packages that exist in Debian, the
non-root user, volume, port, entrypoint, the embedded config), .dockerignore,
and the runtime packages against the libraries the lokic binary loads.

setup(result, src, binary) first; then check_dockerfile(), dockerfile_config().
"""
import fnmatch
import os
import re
import shutil
import subprocess

import yaml

R = None     # harness.Result of the run
SRC = None   # the checkout
BIN = None   # the lokic binary (may not exist)


def setup(result, src, binary):
    global R, SRC, BIN
    R, SRC, BIN = result, src, binary


RUNTIME_PACKAGES = {"libmicrohttpd12", "libprotobuf-c1", "libsnappy1v5", "liblmdb0",
                    "libyaml-0-2", "libjansson4", "libxxhash0", "zlib1g",
                    "libzstd1", "liblz4-1",  # chunk_encoding zstd and lz4
                    "libre2-9", "libstdc++6", "libgcc-s1",  # RE2 and the C++ runtime it needs
                    "libcurl4",  # the ruler's Alertmanager and remote-write client, the S3 and DynamoDB clients
                    "libssl3",  # SigV4 signing (storage/aws_sigv4.c)
                    "ca-certificates"}


def read(path):
    with open(os.path.join(SRC, path)) as f:
        return f.read()


def dockerfile_instructions():
    """(instruction, arguments) pairs, continuation lines joined."""
    out, cur = [], ""
    for line in read("Dockerfile").splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + "\n"
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def dockerfile_config():
    """The /etc/lokic/config.yaml the image's RUN writes with printf."""
    for ins, args in dockerfile_instructions():
        if ins == "RUN" and "/etc/lokic/config.yaml" in args and "printf" in args:
            body = args[args.index("printf '%s\\n'") + len("printf '%s\\n'"):
                        args.index("> /etc/lokic/config.yaml")]
            return "".join(l + "\n" for l in re.findall(r"'([^']*)'", body))
    return None


def stages():
    out = []
    for ins, args in dockerfile_instructions():
        if ins == "FROM":
            out.append({"from": args, "ins": []})
        elif out:
            out[-1]["ins"].append((ins, args))
    return out


def check_dockerfile():
    st = stages()
    R.eq([s["from"] for s in st], ["debian:bookworm AS build", "debian:bookworm-slim"],
         "Dockerfile stages")
    if len(st) != 2:
        return
    build_runs = " ".join(a for i, a in st[0]["ins"] if i == "RUN")
    R.check("scripts/deps.sh" in build_runs, "the build stage installs with scripts/deps.sh")
    run_sh = read("scripts/run.sh")
    for cmd in re.findall(r"^(cmake .*?)(?: >/dev/null)?$", run_sh, re.M):
        want = cmd.replace('-j"$(nproc)" ', "")
        flat = " ".join(build_runs.replace('-j"$(nproc)" ', "").split())
        R.check(want in flat, "the build stage runs scripts/run.sh's %r" % want)
    rt = dict()
    for ins, args in st[1]["ins"]:
        rt.setdefault(ins, []).append(args)
    runtime = " ".join(rt.get("RUN", []))
    m = re.search(r"apt-get install -y --no-install-recommends\s+(.*?)\s*&&", runtime, re.S)
    pkgs = set(m.group(1).split()) if m else set()
    R.eq(pkgs, RUNTIME_PACKAGES, "runtime packages")
    R.check("-dev" not in runtime and "build-essential" not in runtime,
            "no build packages at runtime")
    q = subprocess.run(["apt-cache", "show", "--no-all-versions"] + sorted(pkgs),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    known = set(re.findall(r"(?m)^Package: (\S+)$", q.stdout.decode()))
    for p in sorted(pkgs):
        R.check(p in known, "runtime package %s exists in Debian (apt-cache show)" % p)
    R.check(re.search(r"useradd .*--uid 10001", runtime) is not None, "user lokic has uid 10001")
    R.eq(rt.get("USER"), ["10001:10001"], "runs as uid 10001")
    R.eq(rt.get("VOLUME"), ["/loki"], "VOLUME /loki")
    R.eq(rt.get("EXPOSE"), ["3100"], "EXPOSE 3100")
    R.eq(rt.get("ENTRYPOINT"), ['["/usr/bin/lokic"]'], "ENTRYPOINT")
    R.eq(rt.get("CMD"), ['["-config.file=/etc/lokic/config.yaml"]'], "CMD")
    R.check(any("--from=build" in c and c.endswith("/usr/bin/lokic") for c in rt.get("COPY", [])),
            "the binary comes from the build stage")
    R.check("chown lokic:lokic /loki" in runtime, "/loki belongs to lokic")
    cfg = dockerfile_config()
    R.check(cfg is not None, "the image embeds /etc/lokic/config.yaml")
    if cfg:
        conf = yaml.safe_load(cfg)
        R.eq((conf.get("server", {}).get("http_listen_port"), conf.get("common", {}).get("path_prefix")),
             (3100, "/loki"), "image config: port 3100, data in /loki")
    check_dockerignore()
    check_runtime_libraries(pkgs)


def dockerignore_match(patterns, path):
    ignored = False
    for p in patterns:
        neg = p.startswith("!")
        pat = p[1:] if neg else p
        pat = pat.strip("/")
        parts = path.split("/")
        hit = any(fnmatch.fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts) + 1))
        if pat.startswith("**/"):
            hit = hit or any(fnmatch.fnmatchcase(x, pat[3:]) for x in parts)
        if hit:
            ignored = not neg
    return ignored


def check_dockerignore():
    pats = [l.strip() for l in read(".dockerignore").splitlines()
            if l.strip() and not l.strip().startswith("#")]
    for path in ("build", "build-test", "build-release/lokic", "data", "data/wal/0001", ".git/HEAD"):
        R.check(dockerignore_match(pats, path), ".dockerignore excludes %s" % path)
    for path in ("CMakeLists.txt", "scripts/deps.sh", "lib/config.c", "storage/chunk.c",
                 "api/proto/push.proto", "cmd/lokic/main.c", "tests/CMakeLists.txt"):
        R.check(not dockerignore_match(pats, path), ".dockerignore keeps %s" % path)


def path_variants(path):
    """path as dpkg may have recorded it: resolved, with and without /usr
    (Debian's merged /usr)."""
    out = []
    for c in (path, os.path.realpath(path)):
        for v in (c, c[4:] if c.startswith("/usr/") else "/usr" + c):
            if v not in out:
                out.append(v)
    return out


def dpkg_owners(paths):
    """{path: package} for the libraries, with one dpkg -S call."""
    variants = {v: p for p in paths for v in path_variants(p)}
    q = subprocess.run(["dpkg", "-S"] + list(variants), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    owners = {}
    for line in q.stdout.decode().splitlines():
        pkg, _, file = line.partition(": ")
        if file in variants and variants[file] not in owners:
            owners[variants[file]] = pkg.split(":")[0].split(",")[0].strip()
    return owners


SANITIZER = re.compile(r"^lib(a|ub|l|t|hwa)san\.so")
SANITIZER_DEPS = {"libstdc++6", "libgcc-s1"}  # what libasan and libubsan pull in


def check_runtime_libraries(pkgs):
    """Each library the binary needs is in a runtime package (its direct
    ones) or in what those packages pull in (apt's dependency closure)."""
    if not os.path.exists(BIN) or not shutil.which("ldd") or not shutil.which("dpkg"):
        print("note: no binary, ldd or dpkg; runtime libraries not checked")
        return
    p = subprocess.run(["ldd", BIN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    libs = {}
    for line in p.stdout.decode().splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
    direct = None
    if shutil.which("readelf"):
        q = subprocess.run(["readelf", "-d", BIN], stdout=subprocess.PIPE)
        direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", q.stdout.decode()))
    closure = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
         "--no-breaks", "--no-replaces", "--no-enhances"] + sorted(pkgs),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    pulled = {l.strip().split(":")[0] for l in closure.splitlines() if l and not l.startswith(" ")}
    base = {"libc6"}  # in every Debian image
    sanitized = any(SANITIZER.match(x) for x in libs)
    R.check(len(libs) > 0, "ldd lists the binary's libraries")
    owners = dpkg_owners(libs.values())
    for soname, path in sorted(libs.items()):
        if SANITIZER.match(soname):
            continue  # the sanitizer build's runtime; the image builds Release
        owner = owners.get(path)
        in_image = owner in pkgs or owner in base
        if direct is not None and soname in direct:
            R.check(in_image, "%s (from %s) is in the image's runtime packages" % (soname, owner))
        else:
            R.check(in_image or owner in pulled or (sanitized and owner in SANITIZER_DEPS),
                    "%s (from %s) comes with the runtime packages" % (soname, owner))
