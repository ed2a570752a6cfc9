#!/usr/bin/env python3
"""Chart and image tests: charts/lokic rendered with Helm's template engine
(Go's text/template and sprig, by tests/chart/render), for the default values
and each switch, every document parsed as YAML and checked; lokic started on
the config the chart renders (and on the image's and the seed's), with the
chart's `helm test` script run against it; the Dockerfile checked statically
and its runtime packages against the binary's libraries (image_checks.py).

Environment: LOKIC_BIN (the server; the run checks are skipped without it),
LOKIC_SOURCE_DIR (the checkout), LOKIC_CHART_CACHE (where the renderer is
built and kept between runs; a temporary directory otherwise).
Exits 77 (skipped) when Go is not installed.
"""
import atexit
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("LOKIC_SOURCE_DIR", os.path.join(HERE, "..", "..")))
CHART = os.path.join(SRC, "charts", "lokic")
sys.path.insert(0, os.path.join(SRC, "tests", "blackbox"))

import harness  # noqa: E402
from harness import Lokic, Result  # noqa: E402

try:
    import yaml
except ImportError:
    # Another Python first on PATH (pyenv, a venv): Debian's python3-yaml is
    # installed for /usr/bin/python3.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("python3-yaml is missing (scripts/deps.sh installs it)")
    print("0 passed, 1 failed")
    sys.exit(1)

sys.path.insert(0, HERE)
import image_checks  # noqa: E402
from image_checks import check_dockerfile, dockerfile_config, read  # noqa: E402

R = Result()
image_checks.setup(R, SRC, harness.BIN)
RELEASE = "lokic"
NS = "logging"


def cmake_version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        m = re.search(r"project\(lokic\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1)


VERSION = cmake_version()

# ---- the renderer


def find_go():
    for cand in (shutil.which("go"), "/usr/lib/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def build_renderer(go):
    """Builds tests/chart/render offline (GOPATH mode over Debian's Go
    sources in /usr/share/gocode) into the cache; rebuilt only when main.go
    changes."""
    cache = os.environ.get("LOKIC_CHART_CACHE")
    if not cache:
        cache = tempfile.mkdtemp(prefix="lokic-chart-")
        atexit.register(shutil.rmtree, cache, True)
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(HERE, "render", "main.go"), "rb") as f:
        src = f.read()
    version = subprocess.run([go, "version"], stdout=subprocess.PIPE).stdout
    digest = hashlib.sha256(src + version).hexdigest()
    binary = os.path.join(cache, "render")
    stamp = binary + ".sha256"
    if os.path.exists(binary) and os.path.exists(stamp) and open(stamp).read() == digest:
        return binary
    pkg = os.path.join(cache, "gopath", "src", "lokic-chart-render")
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "main.go"), "wb") as f:
        f.write(src)
    # A go.mod beside the source lets GOPATH mode resolve sprig's /v3 import
    # path to /usr/share/gocode/src/github.com/Masterminds/sprig.
    with open(os.path.join(pkg, "go.mod"), "w") as f:
        f.write("module lokic-chart-render\n\ngo 1.19\n")
    env = dict(os.environ, GO111MODULE="off", GOPROXY="off", GOFLAGS="", CGO_ENABLED="0",
               GOPATH=os.path.join(cache, "gopath") + ":/usr/share/gocode",
               GOCACHE=os.path.join(cache, "gocache"))
    p = subprocess.run([go, "build", "-o", binary, "."], cwd=pkg, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if p.returncode != 0:
        print(p.stdout.decode("utf-8", "replace"))
        print("FAIL: building the chart renderer (needs golang-go, "
              "golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev)")
        print("0 passed, 1 failed")
        sys.exit(1)
    with open(stamp, "w") as f:
        f.write(digest)
    return binary


GO = find_go()
if GO is None:
    print("skipped: no Go toolchain (apt-get install golang-go, or scripts/deps.sh)")
    sys.exit(77)
RENDER = build_renderer(GO)


class Rendered:
    """The documents of one render, each with the template it came from."""

    def __init__(self, text):
        self.text = text
        self.docs = []
        self.errors = []
        source = None
        for chunk in re.split(r"(?m)^---[ \t]*$", text):
            m = re.search(r"(?m)^# Source: (\S+)", chunk)
            if m:
                source = m.group(1)
            try:
                doc = yaml.safe_load(chunk)
            except yaml.YAMLError as e:
                self.errors.append("%s: %s" % (source, e))
                continue
            if doc is not None:
                self.docs.append((source, doc))

    def all(self, kind):
        return [d for _, d in self.docs if d.get("kind") == kind]

    def get(self, kind, name=None):
        for d in self.all(kind):
            if name is None or d["metadata"]["name"] == name:
                return d
        return None


def render(*args, name=RELEASE, ns=NS):
    p = subprocess.run([RENDER, "-chart", CHART, "-name", name, "-namespace", ns] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def render_ok(what, *args, **kw):
    rc, out, err = render(*args, **kw)
    R.check(rc == 0, "%s: render failed: %s" % (what, err.strip()))
    r = Rendered(out if rc == 0 else "")
    R.check(not r.errors, "%s: YAML errors: %s" % (what, r.errors))
    if rc == 0:
        R.check(len(r.docs) > 0, "%s: no documents" % what)
    check_documents(what, r)
    return r


def notes(*args, **kw):
    rc, out, err = render("-notes", *args, **kw)
    R.check(rc == 0, "NOTES.txt: render failed: %s" % err.strip())
    return out


# ---- the renderer itself: Helm's semantics on a small chart


RENDERER_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: probe\nversion: 1.2.3\nappVersion: \"4.5\"\n",
    "values.yaml": "big: 1000000\nlist: [a, b]\nnested:\n  keep: 1\n  drop: 2\nname: x\n",
    "files/hello.txt": "hello\n",
    "templates/_partial.tpl": '{{- define "probe.n" -}}n={{ .Values.name }}{{- end -}}\n',
    "templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"probe.n\" . | trimPrefix \"n=\" }}\n"
        "data:\n  big: {{ .Values.big | quote }}\n  missing: \"{{ .Values.nothing }}\"\n"
        "  tpl: {{ tpl \"{{ .Chart.Name }}-{{ .Chart.AppVersion }}\" . | quote }}\n"
        "  file: {{ .Files.Get \"files/hello.txt\" | trim | quote }}\n"
        "  apps: {{ .Capabilities.APIVersions.Has \"apps/v1\" | quote }}\n"
        "  nested: {{ .Values.nested | toJson | quote }}\n"
        "  list: |\n    {{- toYaml .Values.list | nindent 4 }}\n"
        "  release: {{ printf \"%s/%s/%s\" .Release.Name .Release.Namespace .Release.Service | quote }}\n"
        "  template: {{ .Template.Name | quote }}\n"),
    "templates/empty.yaml": "{{- if false }}\nkind: Nothing\n{{- end }}\n",
    "templates/req.yaml": "{{- if .Values.need }}{{ required \"need.value is required\" .Values.need.value }}{{ end }}\n",
    "templates/NOTES.txt": "notes for {{ .Release.Name }}\n",
}


def check_renderer(tmp):
    chart = os.path.join(tmp, "probe")
    for name, text in RENDERER_CHART.items():
        os.makedirs(os.path.dirname(os.path.join(chart, name)), exist_ok=True)
        with open(os.path.join(chart, name), "w") as f:
            f.write(text)

    def run(*args):
        p = subprocess.run([RENDER, "-chart", chart, "-name", "rel", "-namespace", "ns"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    rc, out, err = run()
    R.eq(rc, 0, "renderer: probe chart renders (%s)" % err.strip())
    R.eq(re.findall(r"(?m)^# Source: (\S+)", out), ["probe/templates/cm.yaml"],
         "renderer: partials and blank templates give no output")
    cm = Rendered(out).get("ConfigMap") or {"data": {}}
    data = cm["data"]
    R.eq(cm.get("metadata", {}).get("name"), "x", "renderer: include")
    R.eq(data.get("big"), "1e+06", "renderer: numbers from values.yaml are float64, as in Helm")
    R.eq(data.get("missing"), "", "renderer: missing values print nothing")
    R.eq(data.get("tpl"), "probe-4.5", "renderer: tpl and .Chart")
    R.eq(data.get("file"), "hello", "renderer: .Files.Get")
    R.eq(data.get("apps"), "true", "renderer: .Capabilities.APIVersions.Has")
    R.eq(data.get("list"), "- a\n- b\n", "renderer: toYaml")
    R.eq(data.get("release"), "rel/ns/Helm", "renderer: .Release")
    R.eq(data.get("template"), "probe/templates/cm.yaml", "renderer: .Template.Name")
    R.eq(data.get("nested"), '{"drop":2,"keep":1}', "renderer: toJson")
    _, out, _ = run("--set", "big=1000000", "--set", "nested.drop=null", "--set", "list[1]=c")
    data = (Rendered(out).get("ConfigMap") or {"data": {}})["data"]
    R.eq(data.get("big"), "1000000", "renderer: --set numbers are int64, as in Helm")
    R.eq(data.get("nested"), '{"keep":1}', "renderer: --set key=null removes the key")
    R.eq(data.get("list"), "- a\n- c\n", "renderer: --set list[1]")
    over = os.path.join(tmp, "over.yaml")
    with open(over, "w") as f:
        f.write("nested:\n  add: 3\n")
    _, out, _ = run("-f", over)
    data = (Rendered(out).get("ConfigMap") or {"data": {}})["data"]
    R.eq(data.get("nested"), '{"add":3,"drop":2,"keep":1}', "renderer: -f merges maps")
    rc, _, err = run("--set", "need.other=1")
    R.check(rc != 0 and "need.value is required" in err, "renderer: required fails the render")
    rc, out, _ = run("-notes")
    R.eq((rc, out), (0, "notes for rel\n"), "renderer: -notes renders NOTES.txt only")


# ---- checks every render gets

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}


def check_documents(what, r, ns=NS):
    seen = set()
    for source, d in r.docs:
        where = "%s: %s" % (what, source)
        if not isinstance(d, dict):
            R.check(False, "%s: document is not a mapping" % where)
            continue
        kind, meta = d.get("kind"), d.get("metadata") or {}
        R.check(bool(d.get("apiVersion")) and bool(kind), "%s: apiVersion and kind" % where)
        name = meta.get("name", "")
        R.check(len(name) <= 63 and bool(DNS1123.match(name)) or kind in CLUSTER_SCOPED,
                "%s: name %r is not a DNS label" % (where, name))
        key = (kind, name)
        R.check(key not in seen, "%s: duplicate %s/%s" % (where, kind, name))
        seen.add(key)
        if kind not in CLUSTER_SCOPED:
            R.eq(meta.get("namespace"), ns, "%s: namespace of %s" % (where, name))
        labels = meta.get("labels") or {}
        R.eq(labels.get("app.kubernetes.io/managed-by"), "Helm", "%s: managed-by label" % where)
        R.check(str(labels.get("helm.sh/chart", "")).startswith("lokic-"),
                "%s: helm.sh/chart label" % where)
        R.check("app.kubernetes.io/instance" in labels and "app.kubernetes.io/name" in labels,
                "%s: name/instance labels" % where)
        spec = d.get("spec") or {}
        if kind in ("StatefulSet", "DaemonSet", "Deployment"):
            sel = spec["selector"]["matchLabels"]
            tl = spec["template"]["metadata"]["labels"]
            R.check(all(tl.get(k) == v for k, v in sel.items()),
                    "%s: selector %s does not match the pod labels %s" % (where, sel, tl))


def b64(s):
    return base64.b64decode(s).decode()


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def container(workload, name=None):
    cs = workload["spec"]["template"]["spec"]["containers"]
    return cs[0] if name is None else next(c for c in cs if c["name"] == name)


def volume(workload, name):
    for v in workload["spec"]["template"]["spec"].get("volumes") or []:
        if v["name"] == name:
            return v
    return None


def mount(c, name):
    for m in c.get("volumeMounts") or []:
        if m["name"] == name:
            return m
    return None


def config_text(r, storage="Secret", name=RELEASE):
    obj = r.get(storage, name)
    if obj is None:
        return None
    text = obj["data"]["config.yaml"]
    return b64(text) if storage == "Secret" else text


def env_of(c):
    return {e["name"]: e for e in c.get("env") or []}


def selects(selector, labels):
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        if e["operator"] == "DoesNotExist" and e["key"] in labels:
            return False
        if e["operator"] == "Exists" and e["key"] not in labels:
            return False
    return True


# ---- the chart's files


def check_chart_files():
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    R.eq(chart.get("apiVersion"), "v2", "Chart.yaml apiVersion")
    R.eq(chart.get("name"), "lokic", "Chart.yaml name")
    R.eq(str(chart.get("appVersion")), VERSION, "Chart.yaml appVersion (CMakeLists.txt version)")
    R.check(re.match(r"^\d+\.\d+\.\d+", str(chart.get("version", ""))), "Chart.yaml version is SemVer")
    with open(os.path.join(CHART, "templates", "_helpers.tpl")) as f:
        helpers = f.read()
    for d in ("lokic.name", "lokic.fullname", "lokic.chart", "lokic.labels", "lokic.selectorLabels"):
        R.check('define "%s"' % d in helpers, "_helpers.tpl defines %s" % d)
    R.check(os.path.exists(os.path.join(CHART, "templates", "NOTES.txt")), "NOTES.txt exists")
    check_values_comments()


def check_values_comments():
    """Every value in values.yaml has a comment: the line above it (or the
    line itself) is a comment. Exempt: the keys of values.config (Loki's own
    YAML, pasted as it is) and the keys of list items (elements of a value
    whose key has its comment)."""
    with open(os.path.join(CHART, "values.yaml")) as f:
        lines = f.read().split("\n")
    missing = []
    in_config = False
    item_indent = None
    prev = ""
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            prev = s
            continue
        m = re.match(r"^(\s*)(- )?([A-Za-z_][\w./-]*):(\s|$)", line)
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            in_config = line.startswith("config:")
            if in_config:
                R.check(prev.startswith("#"), "values.yaml: config has a comment")
        if m and indent > 0 and not in_config:
            is_item = bool(m.group(2))
            if item_indent is not None and indent <= item_indent and not is_item:
                item_indent = None
            continuation = (not is_item and item_indent is not None and indent == item_indent + 2)
            if is_item:
                item_indent = indent
            if not is_item and not continuation and not prev.startswith("#") and " #" not in line:
                missing.append("%d: %s" % (n, s))
        elif m and indent == 0 and not in_config and not prev.startswith("#"):
            missing.append("%d: %s" % (n, s))
        prev = s
    R.check(not missing, "values.yaml: values without a comment: %s" % missing)


# ---- the default render


def check_defaults():
    r = render_ok("defaults")
    kinds = sorted(d["kind"] for _, d in r.docs)
    want = sorted(["Secret", "ServiceAccount", "Service", "Service", "StatefulSet",
                   "DaemonSet", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap",
                   "Deployment", "ConfigMap", "Secret", "Service", "Pod"])
    R.eq(kinds, want, "defaults: kinds")
    R.check(r.get("ServiceMonitor") is None and r.get("Ingress") is None,
            "defaults: no ServiceMonitor or Ingress")

    # services: "lokic" and "lokic-headless", as loki-stack's loki and loki-headless
    svc, hl = r.get("Service", "lokic"), r.get("Service", "lokic-headless")
    R.check(svc is not None and hl is not None, "defaults: services lokic and lokic-headless")
    sts = r.get("StatefulSet", "lokic")
    R.check(sts is not None, "defaults: StatefulSet lokic")
    if not (svc and hl and sts):
        return r
    R.eq(svc["spec"]["type"], "ClusterIP", "service type")
    R.eq(hl["spec"].get("clusterIP"), "None", "headless service clusterIP")
    for s in (svc, hl):
        p = s["spec"]["ports"][0]
        R.eq((p["name"], p["port"], p["targetPort"]), ("http-metrics", 3100, "http-metrics"),
             "%s port" % s["metadata"]["name"])
        R.eq(s["spec"]["selector"], sts["spec"]["selector"]["matchLabels"],
             "%s selects the StatefulSet's pods" % s["metadata"]["name"])

    # the StatefulSet
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    R.eq(spec["replicas"], 1, "replicas")
    R.eq(spec["serviceName"], "lokic-headless", "serviceName is the headless service")
    c = container(sts, "lokic")
    R.eq(c["image"], "lokic:" + VERSION, "image defaults to lokic:<appVersion>")
    R.check("-config.file=/etc/lokic/config.yaml" in c["args"], "lokic reads /etc/lokic/config.yaml")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    R.eq(ports, {"http-metrics": 3100}, "container port http-metrics")
    for probe in ("readinessProbe", "livenessProbe"):
        g = (c.get(probe) or {}).get("httpGet") or {}
        R.eq((g.get("path"), g.get("port")), ("/ready", "http-metrics"), "%s on /ready" % probe)
    psc, sc = pod["securityContext"], c["securityContext"]
    R.check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
            "pod runs as non-root: %s" % psc)
    R.check(psc.get("fsGroup") is not None, "pod has an fsGroup")
    R.eq((psc.get("seccompProfile") or {}).get("type"), "RuntimeDefault", "seccomp RuntimeDefault")
    R.eq(sc.get("allowPrivilegeEscalation"), False, "no privilege escalation")
    R.eq(sc.get("readOnlyRootFilesystem"), True, "read-only root filesystem")
    R.check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), "capabilities dropped")
    R.check(sc.get("privileged") in (None, False), "not privileged")
    R.check(pod.get("terminationGracePeriodSeconds", 30) >= 60,
            "terminationGracePeriodSeconds leaves time for the flush")
    R.check(c.get("resources", {}).get("requests"), "resources requests")
    R.eq(pod.get("serviceAccountName"), "lokic", "StatefulSet's ServiceAccount")
    R.check(r.get("ServiceAccount", "lokic") is not None, "ServiceAccount lokic")
    ann = spec["template"]["metadata"]["annotations"]
    R.eq(ann.get("prometheus.io/scrape"), "true", "prometheus.io/scrape")
    R.eq(ann.get("prometheus.io/port"), "3100", "prometheus.io/port")
    cfg = config_text(r)
    R.check(cfg is not None, "config Secret lokic")
    if cfg is not None:
        R.eq(ann.get("checksum/config"), sha256(cfg), "checksum/config is the config's sha256")
    R.eq((volume(sts, "config") or {}).get("secret", {}).get("secretName"), "lokic",
         "config volume from the Secret")
    R.eq((mount(c, "config") or {}).get("mountPath"), "/etc/lokic", "config mounted at /etc/lokic")
    vct = spec.get("volumeClaimTemplates") or []
    R.eq([v["metadata"]["name"] for v in vct], ["storage"], "volumeClaimTemplates")
    if vct:
        R.eq(vct[0]["spec"]["resources"]["requests"]["storage"], "10Gi", "claim size")
        R.eq(vct[0]["spec"]["accessModes"], ["ReadWriteOnce"], "claim access mode")
        R.check("storageClassName" not in vct[0]["spec"], "default storage class")
    R.check(volume(sts, "storage") is None, "no storage volume besides the claim")
    data_mount = (mount(c, "storage") or {}).get("mountPath")
    R.eq(data_mount, "/data", "data volume at /data")

    # the config: the seed's loki.yaml adapted, every path on the data volume
    if cfg is not None:
        conf = yaml.safe_load(cfg)
        R.eq(conf.get("auth_enabled"), False, "config auth_enabled")
        R.eq(conf["server"]["http_listen_port"], 3100, "config http_listen_port")
        R.eq(conf["common"]["path_prefix"], "/data/loki", "config path_prefix")
        R.eq(conf["limits_config"]["reject_old_samples"], True, "config reject_old_samples")
        paths = [v for v in walk_strings(conf) if v.startswith("/")]
        R.check(paths and all(p.startswith(data_mount + "/") for p in paths),
                "config paths are on the data volume: %s" % paths)
        check_drilldown_limits(conf)

    check_alloy(r)
    R.check(r.get("DaemonSet", "lokic-promtail") is None, "defaults: promtail is off")
    check_grafana(r)
    check_test_pod(r)
    n = notes()
    for want in ("http://lokic:3100",
                 'kubectl get secret --namespace logging lokic-grafana -o jsonpath="{.data.admin-password}" | base64 --decode',
                 "port-forward svc/lokic-grafana 3000:80",
                 "port-forward svc/lokic 3100:3100",
                 "/loki/api/v1/query_range",
                 "Explore",
                 "helm test --namespace logging lokic"):
        R.check(want in n, "NOTES.txt says %r" % want)
    return r


def walk_strings(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from walk_strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk_strings(x)
    elif isinstance(v, str):
        yield v


def check_drilldown_limits(conf):
    """The Loki 3 limits Grafana's Logs Drilldown app needs (LOKI-API.md 2.2)."""
    lim = conf.get("limits_config") or {}
    for key in ("volume_enabled", "discover_log_levels", "allow_structured_metadata"):
        R.eq(lim.get(key), True, "config limits_config.%s" % key)
    R.check("app" in (lim.get("discover_service_name") or []),
            "config discover_service_name takes the agents' app label")
    R.eq((conf.get("pattern_ingester") or {}).get("enabled"), True,
         "config pattern_ingester.enabled")
    R.eq([c.get("schema") for c in conf["schema_config"]["configs"]], ["v13"],
         "config schema v13 (structured metadata)")


ALLOY_BLOCK = re.compile(r'^([a-z_]+(?:\.[a-z_]+)+) "([a-z_]+)" \{$')
ALLOY_REF = re.compile(r'\b((?:discovery|local|loki)\.[a-z_]+(?:\.[a-z_]+)*)\.([a-z_]+)\.'
                       r'(targets|output|receiver)\b')
ALLOY_EXPORTS = {"discovery.kubernetes": "targets", "discovery.relabel": "output",
                 "local.file_match": "targets", "loki.process": "receiver",
                 "loki.write": "receiver"}


def alloy_components(text, what):
    """The top-level components of an Alloy config ({(kind, label): body}),
    its strings closed and braces, brackets and parentheses balanced; every
    reference to a component's export names one that exists and exports it."""
    depth, stack, comps, cur, body = 0, [], {}, None, []
    for n, raw in enumerate(text.split("\n"), 1):
        # strings blanked first, so that "//" inside one is no comment
        line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', raw)
        line = line.split("//")[0]
        R.check(line.count('"') % 2 == 0, "%s: line %d: unclosed string: %s" % (what, n, raw))
        if depth == 0 and line.strip():
            m = ALLOY_BLOCK.match(raw.strip())
            R.check(m is not None, "%s: line %d is not a component block: %s" % (what, n, raw))
            if m:
                cur = (m.group(1), m.group(2))
                R.check(cur not in comps, "%s: %s %s declared twice" % (what, *cur))
                body = []
        elif depth > 0:
            body.append(raw)
        for ch in line:
            if ch in "{[(":
                stack.append(ch)
            elif ch in "}])":
                R.check(stack and "{[(".index(stack[-1]) == "}])".index(ch),
                        "%s: line %d: unbalanced %s" % (what, n, ch))
                if stack:
                    stack.pop()
        depth = len(stack)
        if depth == 0 and cur is not None:
            comps[cur] = "\n".join(body[:-1] if body and body[-1].strip() == "}" else body)
            cur = None
    R.check(not stack, "%s: unclosed %s at the end" % (what, "".join(stack)))
    for kind, label, export in ALLOY_REF.findall(text):
        R.check((kind, label) in comps, "%s: %s.%s is not declared" % (what, kind, label))
        if kind in ALLOY_EXPORTS:
            R.eq(export, ALLOY_EXPORTS[kind], "%s: %s exports %s" % (what, kind, export))
    return comps


def alloy_attr(body, name):
    m = re.search(r'(?m)^\s*%s\s*=\s*(.+)$' % re.escape(name), body)
    return m.group(1).strip() if m else None


def check_alloy_config(text, what, push_url, tenant=None, method="volumes"):
    comps = alloy_components(text, what)
    want = {("discovery.kubernetes", "pods"), ("discovery.relabel", "pods"),
            ("loki.process", "pods"), ("loki.write", "lokic")}
    want |= ({("local.file_match", "pods"), ("loki.source.file", "pods")} if method == "volumes"
             else {("loki.source.kubernetes", "pods")})
    R.check(want <= set(comps), "%s: components %s, want %s" % (what, sorted(comps), sorted(want)))
    if not want <= set(comps):
        return comps
    kube = comps[("discovery.kubernetes", "pods")]
    R.eq(alloy_attr(kube, "role"), '"pod"', "%s: pod discovery" % what)
    R.check('"spec.nodeName=" + sys.env("NODE_NAME")' in kube, "%s: this node's pods only" % what)
    relabel = comps[("discovery.relabel", "pods")]
    R.eq(alloy_attr(relabel, "targets"), "discovery.kubernetes.pods.targets",
         "%s: relabel reads the discovered pods" % what)
    targets = re.findall(r'target_label\s*=\s*"([^"]+)"', relabel)
    for label in ("namespace", "pod", "container", "app", "job", "node_name", "instance",
                  "component"):
        R.check(label in targets, "%s: relabels %s" % (what, label))
    for rx in re.findall(r'regex\s*=\s*"((?:[^"\\]|\\.)*)"', relabel):
        try:
            re.compile(rx)
        except re.error as e:
            R.check(False, "%s: bad regex %r: %s" % (what, rx, e))
    write = comps[("loki.write", "lokic")]
    url = alloy_attr(write, "url")
    R.eq(url, '"%s"' % push_url, "%s: loki.write pushes to lokic" % what)
    R.check(re.match(r'^"https?://[a-z0-9.-]+(:\d+)?/[^\s"]*"$', url or "") is not None,
            "%s: push URL is a URL: %s" % (what, url))
    R.eq(alloy_attr(write, "tenant_id"), None if tenant is None else '"%s"' % tenant,
         "%s: tenant_id" % what)
    proc = comps[("loki.process", "pods")]
    R.eq(alloy_attr(proc, "forward_to"), "[loki.write.lokic.receiver]",
         "%s: loki.process forwards to loki.write" % what)
    if method == "volumes":
        R.check("/var/log/pods/*$1/*.log" in relabel and '"__path__"' in relabel,
                "%s: __path__ under /var/log/pods" % what)
        R.eq(alloy_attr(comps[("local.file_match", "pods")], "path_targets"),
             "discovery.relabel.pods.output", "%s: file_match reads the relabelled pods" % what)
        src = comps[("loki.source.file", "pods")]
        R.eq((alloy_attr(src, "targets"), alloy_attr(src, "forward_to")),
             ("local.file_match.pods.targets", "[loki.process.pods.receiver]"),
             "%s: loki.source.file wiring" % what)
        R.check("stage.cri {}" in proc, "%s: CRI lines parsed" % what)
    else:
        R.check("__path__" not in relabel, "%s: no __path__ without files" % what)
        src = comps[("loki.source.kubernetes", "pods")]
        R.eq((alloy_attr(src, "targets"), alloy_attr(src, "forward_to")),
             ("discovery.relabel.pods.output", "[loki.process.pods.receiver]"),
             "%s: loki.source.kubernetes wiring" % what)
    return comps


def alloy_config_text(r):
    cm = r.get("ConfigMap", "lokic-alloy") or r.get("ConfigMap", "loki-alloy") \
        or r.get("ConfigMap", "prod-lokic-alloy")
    return None if cm is None else cm["data"]["config.alloy"]


def check_alloy(r, push_url="http://lokic:3100/loki/api/v1/push", tenant=None):
    ds = r.get("DaemonSet", "lokic-alloy")
    R.check(ds is not None, "Alloy DaemonSet")
    if ds is None:
        return
    c = container(ds, "alloy")
    R.check(c["image"].startswith("docker.io/grafana/alloy:v1."), "upstream Alloy 1.x image")
    R.eq(c["args"][:2], ["run", "/etc/alloy/config.alloy"], "alloy run on the ConfigMap's file")
    R.check("--storage.path=/var/lib/alloy/data" in c["args"], "Alloy's storage path")
    pod = ds["spec"]["template"]["spec"]
    R.eq(pod["serviceAccountName"], "lokic-alloy", "Alloy's ServiceAccount")
    R.check(r.get("ServiceAccount", "lokic-alloy") is not None, "ServiceAccount lokic-alloy")
    role = r.get("ClusterRole", "lokic-alloy-" + NS)
    binding = r.get("ClusterRoleBinding", "lokic-alloy-" + NS)
    R.check(role is not None and binding is not None, "Alloy ClusterRole and binding")
    if role and binding:
        pods_rule = [x for x in role["rules"] if "pods" in x["resources"]]
        R.check(pods_rule and {"list", "watch", "get"} <= set(pods_rule[0]["verbs"]),
                "Alloy's ClusterRole may get, list and watch pods")
        R.check("pods/log" not in pods_rule[0]["resources"], "no pods/log with volumes")
        R.eq(binding["roleRef"]["name"], role["metadata"]["name"], "Alloy binding's ClusterRole")
        R.eq(binding["subjects"][0], {"kind": "ServiceAccount", "name": "lokic-alloy",
                                      "namespace": NS}, "Alloy binding's subject")
    for vol, path in (("pods", "/var/log/pods"), ("docker", "/var/lib/docker/containers")):
        v = volume(ds, vol)
        R.eq((v or {}).get("hostPath", {}).get("path"), path, "Alloy hostPath %s" % path)
        m = mount(c, vol)
        R.check(m is not None and m.get("readOnly") is True and m["mountPath"] == path,
                "Alloy: %s mounted read-only at %s" % (vol, path))
    R.eq((volume(ds, "data") or {}).get("hostPath", {}).get("path"), "/var/lib/lokic-alloy",
         "Alloy's positions on a hostPath")
    R.eq((mount(c, "data") or {}).get("mountPath"), "/var/lib/alloy/data",
         "Alloy's storage path is the hostPath")
    R.eq(env_of(c).get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"),
         "spec.nodeName", "Alloy's NODE_NAME is the node name")
    R.eq((volume(ds, "config") or {}).get("configMap", {}).get("name"), "lokic-alloy",
         "Alloy config volume")
    text = alloy_config_text(r)
    R.check(text is not None, "Alloy config ConfigMap")
    if text is None:
        return
    R.eq(ds["spec"]["template"]["metadata"]["annotations"].get("checksum/config"), sha256(text),
         "Alloy checksum/config")
    check_alloy_config(text, "alloy config", push_url, tenant)


def check_promtail(r, push_url="http://lokic:3100/loki/api/v1/push"):
    ds = r.get("DaemonSet", "lokic-promtail")
    R.check(ds is not None, "promtail DaemonSet")
    if ds is None:
        return
    c = container(ds, "promtail")
    R.check(c["image"].startswith("docker.io/grafana/promtail:"), "upstream promtail image")
    pod = ds["spec"]["template"]["spec"]
    R.eq(pod["serviceAccountName"], "lokic-promtail", "promtail's ServiceAccount")
    R.check(r.get("ServiceAccount", "lokic-promtail") is not None, "ServiceAccount lokic-promtail")
    role = r.get("ClusterRole")
    binding = r.get("ClusterRoleBinding")
    R.check(role is not None and binding is not None, "promtail ClusterRole and binding")
    if role and binding:
        pods_rule = [x for x in role["rules"] if "pods" in x["resources"]]
        R.check(pods_rule and {"list", "watch", "get"} <= set(pods_rule[0]["verbs"]),
                "ClusterRole may get, list and watch pods")
        R.eq(binding["roleRef"]["name"], role["metadata"]["name"], "binding's ClusterRole")
        R.eq(binding["subjects"][0], {"kind": "ServiceAccount", "name": "lokic-promtail",
                                      "namespace": NS}, "binding's subject")
    for vol, path in (("pods", "/var/log/pods"), ("docker", "/var/lib/docker/containers")):
        v = volume(ds, vol)
        R.eq((v or {}).get("hostPath", {}).get("path"), path, "hostPath %s" % path)
        m = mount(c, vol)
        R.check(m is not None and m.get("readOnly") is True and m["mountPath"] == path,
                "%s mounted read-only at %s" % (vol, path))
    R.eq(env_of(c).get("HOSTNAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"),
         "spec.nodeName", "promtail's HOSTNAME is the node name")
    sec = r.get("Secret", "lokic-promtail")
    R.check(sec is not None, "promtail config Secret")
    R.eq((volume(ds, "config") or {}).get("secret", {}).get("secretName"), "lokic-promtail",
         "promtail config volume")
    if sec is None:
        return
    text = b64(sec["data"]["promtail.yaml"])
    R.eq(ds["spec"]["template"]["metadata"]["annotations"].get("checksum/config"), sha256(text),
         "promtail checksum/config")
    conf = yaml.safe_load(text)
    R.eq(conf["clients"][0]["url"], push_url, "promtail pushes to lokic")
    jobs = {j["job_name"]: j for j in conf["scrape_configs"]}
    job = jobs.get("kubernetes-pods")
    R.check(job is not None, "promtail kubernetes-pods job")
    if job:
        R.eq(job["kubernetes_sd_configs"], [{"role": "pod"}], "pod discovery")
        targets = {x.get("target_label"): x for x in job["relabel_configs"]}
        for label in ("namespace", "pod", "container", "app", "__host__", "__path__"):
            R.check(label in targets, "promtail relabels %s" % label)
        R.check(targets.get("__path__", {}).get("replacement", "").startswith("/var/log/pods/"),
                "promtail reads /var/log/pods")
    R.eq(conf["positions"]["filename"].rsplit("/", 1)[0], mount(c, "run")["mountPath"],
         "positions file on the host mount")


def check_grafana(r, url="http://lokic:3100"):
    dep = r.get("Deployment", "lokic-grafana")
    R.check(dep is not None, "Grafana Deployment")
    if dep is None:
        return
    c = container(dep, "grafana")
    R.check(c["image"].startswith("docker.io/grafana/grafana:12."), "upstream Grafana 12 image")
    R.eq(env_of(c).get("GF_PLUGINS_PREINSTALL", {}).get("value"), "grafana-lokiexplore-app",
         "Grafana installs the Logs Drilldown app")
    sec = r.get("Secret", "lokic-grafana")
    R.check(sec is not None, "Grafana admin Secret lokic-grafana")
    if sec:
        R.eq(b64(sec["data"]["admin-user"]), "admin", "Grafana admin user")
        R.eq(len(b64(sec["data"]["admin-password"])), 40, "random 40-character admin password")
    env = env_of(c)
    ref = env.get("GF_SECURITY_ADMIN_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
    R.eq((ref.get("name"), ref.get("key")), ("lokic-grafana", "admin-password"),
         "Grafana reads its password from the Secret")
    cm = r.get("ConfigMap", "lokic-grafana-datasources")
    R.check(cm is not None, "Grafana data source ConfigMap")
    R.eq((volume(dep, "datasources") or {}).get("configMap", {}).get("name"),
         "lokic-grafana-datasources", "data source volume")
    R.eq((mount(c, "datasources") or {}).get("mountPath"), "/etc/grafana/provisioning/datasources",
         "data sources provisioned")
    if cm:
        files = list(cm["data"].values())
        prov = yaml.safe_load(files[0])
        dsl = prov["datasources"]
        R.eq((dsl[0]["type"], dsl[0]["url"], dsl[0]["access"]), ("loki", url, "proxy"),
             "provisioned Loki data source URL")
        R.eq(dep["spec"]["template"]["metadata"]["annotations"].get("checksum/datasources"),
             sha256(files[0]), "Grafana checksum/datasources")
        R.check(files[0].endswith("\n") and not files[0].endswith("\n\n"),
                "the data source file ends with one newline")
    svc = r.get("Service", "lokic-grafana")
    R.check(svc is not None, "Grafana Service")
    if svc:
        p = svc["spec"]["ports"][0]
        R.eq(p["port"], 80, "Grafana service port 80")
        R.check(p["targetPort"] in [x["name"] for x in c["ports"]], "Grafana targetPort exists")
        R.eq(svc["spec"]["selector"], dep["spec"]["selector"]["matchLabels"], "Grafana selector")
    lokic_svc = r.get("Service", "lokic")
    if lokic_svc:
        R.check(not selects({"matchLabels": lokic_svc["spec"]["selector"]},
                            dep["spec"]["template"]["metadata"]["labels"]),
                "lokic's service does not select Grafana")


def check_test_pod(r, url="http://lokic:3100"):
    pods = r.all("Pod")
    R.eq(len(pods), 1, "one helm test pod")
    if not pods:
        return
    p = pods[0]
    R.eq(p["metadata"]["annotations"].get("helm.sh/hook"), "test", "helm test hook")
    c = p["spec"]["containers"][0]
    R.eq(env_of(c).get("LOKIC_URL", {}).get("value"), url, "helm test's LOKIC_URL")
    script = c["command"][-1]
    R.check("/loki/api/v1/push" in script and "/loki/api/v1/query_range" in script,
            "helm test pushes and queries")


def test_script(r):
    pods = r.all("Pod")
    return pods[0]["spec"]["containers"][0]["command"] if pods else None


# ---- the switches


def sw_persistence(default):
    r = render_ok("persistence off", "--set", "persistence.enabled=false")
    sts = r.get("StatefulSet")
    R.check("volumeClaimTemplates" not in sts["spec"], "persistence off: no claim templates")
    R.eq(volume(sts, "storage"), {"name": "storage", "emptyDir": {}},
         "persistence off: an emptyDir, as in the seed")
    r = render_ok("emptyDir limit", "--set",
                  "persistence.enabled=false,persistence.emptyDirSizeLimit=5Gi")
    R.eq(volume(r.get("StatefulSet"), "storage")["emptyDir"], {"sizeLimit": "5Gi"},
         "emptyDir sizeLimit")
    for sc, want in (("fast-ssd", "fast-ssd"), ("-", "")):
        r = render_ok("storage class", "--set", "persistence.storageClassName=" + sc,
                      "--set", "persistence.size=50Gi")
        vct = r.get("StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]
        R.eq(vct.get("storageClassName"), want, "storageClassName %r" % sc)
        R.eq(vct["resources"]["requests"]["storage"], "50Gi", "persistence.size")


def sw_promtail_instead_of_alloy(default):
    R.check("promtail" not in notes(), "defaults: NOTES do not mention promtail")
    R.check("Alloy runs on every node" in notes(), "defaults: NOTES name Alloy")
    r = render_ok("promtail instead of Alloy", "--set", "promtail.enabled=true",
                  "--set", "alloy.enabled=false")
    check_promtail(r)
    R.check(r.get("DaemonSet", "lokic-alloy") is None and r.get("ConfigMap", "lokic-alloy") is None
            and r.get("ServiceAccount", "lokic-alloy") is None
            and r.get("ClusterRole", "lokic-alloy-" + NS) is None,
            "promtail instead of Alloy: no Alloy objects")
    R.check("Alloy" not in notes("--set", "promtail.enabled=true", "--set", "alloy.enabled=false"),
            "promtail instead of Alloy: NOTES")
    rc, _, err = render("--set", "promtail.enabled=true")
    R.check(rc != 0 and "alloy.enabled and promtail.enabled" in err,
            "Alloy and promtail together are refused: %s" % err.strip())
    r = render_ok("Alloy and promtail while migrating", "--set", "promtail.enabled=true",
                  "--set", "alloy.allowWithPromtail=true")
    R.check(r.get("DaemonSet", "lokic-alloy") is not None
            and r.get("DaemonSet", "lokic-promtail") is not None,
            "allowWithPromtail: both DaemonSets")
    r = render_ok("no agent", "--set", "alloy.enabled=false")
    R.check(not r.all("DaemonSet") and not r.all("ClusterRole") and not r.all("ClusterRoleBinding")
            and r.get("ConfigMap", "lokic-alloy") is None,
            "no agent: no DaemonSet, no RBAC")
    R.check(r.get("StatefulSet") is not None and r.get("Deployment") is not None,
            "no agent: lokic and Grafana stay")


def sw_alloy_options(default):
    r = render_ok("Alloy through the API", "--set", "alloy.gatherMethod=kubernetesApi")
    ds = r.get("DaemonSet", "lokic-alloy")
    R.check(volume(ds, "pods") is None and volume(ds, "docker") is None,
            "kubernetesApi: no log hostPaths")
    role = r.get("ClusterRole", "lokic-alloy-" + NS)
    R.check("pods/log" in role["rules"][0]["resources"], "kubernetesApi: may read pods/log")
    check_alloy_config(alloy_config_text(r), "kubernetesApi config",
                       "http://lokic:3100/loki/api/v1/push", method="kubernetesApi")
    rc, _, err = render("--set", "alloy.gatherMethod=journal")
    R.check(rc != 0 and "gatherMethod must be volumes or kubernetesApi" in err,
            "a bad gatherMethod is refused: %s" % err.strip())
    r = render_ok("Alloy extras", "--set", "alloy.externalLabels.cluster=prod",
                  "--set", "alloy.logFormat=docker",
                  "--set", "alloy.extraStages=stage.drop { older_than = \"1h\" }",
                  "--set", "alloy.pushUrl=http://gateway.example.com/loki/api/v1/push")
    text = alloy_config_text(r)
    comps = check_alloy_config(text.replace("stage.docker {}", "stage.cri {}"), "Alloy extras",
                               "http://gateway.example.com/loki/api/v1/push")
    R.check('"cluster" = "prod"' in comps.get(("loki.write", "lokic"), ""),
            "alloy.externalLabels reach loki.write")
    R.check("stage.docker {}" in text and 'stage.drop { older_than = "1h" }' in text,
            "alloy.logFormat and extraStages reach loki.process")
    r = render_ok("Grafana without Drilldown", "--set", "grafana.drilldown.enabled=false")
    env = env_of(container(r.get("Deployment", "lokic-grafana")))
    R.check("GF_PLUGINS_PREINSTALL" not in env and
            env.get("GF_PLUGINS_DISABLE_PLUGINS", {}).get("value") == "grafana-lokiexplore-app",
            "grafana.drilldown.enabled=false disables the app")
    r = render_ok("Drilldown pinned", "--set", "grafana.drilldown.version=1.0.31")
    env = env_of(container(r.get("Deployment", "lokic-grafana")))
    R.eq(env.get("GF_PLUGINS_PREINSTALL", {}).get("value"), "grafana-lokiexplore-app@1.0.31",
         "grafana.drilldown.version pins the app")


def sw_grafana_off(default):
    r = render_ok("grafana off", "--set", "grafana.enabled=false")
    R.check(not r.all("Deployment") and r.get("Secret", "lokic-grafana") is None
            and r.get("ConfigMap", "lokic-grafana-datasources") is None
            and r.get("Service", "lokic-grafana") is None,
            "grafana off: no Grafana objects")
    R.check(r.get("DaemonSet") is not None, "grafana off: Alloy stays")
    R.check("Grafana" not in notes("--set", "grafana.enabled=false"), "grafana off: NOTES")
    r = render_ok("grafana persistence", "--set", "grafana.persistence.enabled=true")
    pvc = r.get("PersistentVolumeClaim", "lokic-grafana")
    R.check(pvc is not None, "grafana persistence: a claim")
    dep = r.get("Deployment", "lokic-grafana")
    R.eq((volume(dep, "storage") or {}).get("persistentVolumeClaim", {}).get("claimName"),
         "lokic-grafana", "grafana persistence: the volume uses the claim")
    R.eq(dep["spec"]["strategy"]["type"], "Recreate", "grafana persistence: Recreate")


def sw_service_monitor(default):
    r = render_ok("serviceMonitor on", "--set", "serviceMonitor.enabled=true",
                  "--set", "serviceMonitor.labels.release=prometheus",
                  "--set", "serviceMonitor.interval=30s")
    sm = r.get("ServiceMonitor")
    R.check(sm is not None, "serviceMonitor on: a ServiceMonitor")
    R.eq(sm["apiVersion"], "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
    R.eq(sm["metadata"]["labels"].get("release"), "prometheus", "ServiceMonitor labels")
    ep = sm["spec"]["endpoints"][0]
    R.eq((ep["port"], ep["path"], ep.get("interval")), ("http-metrics", "/metrics", "30s"),
         "ServiceMonitor endpoint")
    main = r.get("Service", "lokic")["metadata"]["labels"]
    headless = r.get("Service", "lokic-headless")["metadata"]["labels"]
    R.check(selects(sm["spec"]["selector"], main), "ServiceMonitor selects lokic's service")
    R.check(not selects(sm["spec"]["selector"], headless),
            "ServiceMonitor does not select the headless service (no double scrape)")


def sw_ingress(default):
    r = render_ok("ingress on", "--set", "ingress.enabled=true",
                  "--set", "ingress.className=nginx",
                  "--set", "ingress.hosts[0].host=logs.example.com",
                  "--set", "ingress.hosts[0].paths[0].path=/",
                  "--set", "ingress.tls[0].secretName=logs-tls",
                  "--set", "ingress.tls[0].hosts[0]=logs.example.com")
    ing = r.get("Ingress")
    R.check(ing is not None, "ingress on: an Ingress")
    R.eq(ing["apiVersion"], "networking.k8s.io/v1", "Ingress apiVersion")
    R.eq(ing["spec"].get("ingressClassName"), "nginx", "Ingress class")
    rule = ing["spec"]["rules"][0]
    R.eq(rule["host"], "logs.example.com", "Ingress host")
    path = rule["http"]["paths"][0]
    R.eq(path["backend"]["service"], {"name": "lokic", "port": {"number": 3100}},
         "Ingress backend is lokic's service")
    R.eq(path["pathType"], "Prefix", "Ingress pathType")
    R.eq(ing["spec"]["tls"][0]["secretName"], "logs-tls", "Ingress TLS")
    R.check("https://logs.example.com" in notes("--set", "ingress.enabled=true",
                                                 "--set", "ingress.hosts[0].host=logs.example.com",
                                                 "--set", "ingress.tls[0].secretName=x"),
            "ingress on: NOTES gives the URL")


def sw_config_storage(default):
    r = render_ok("config as ConfigMap", "--set", "configStorageType=ConfigMap")
    cm_text = config_text(r, "ConfigMap")
    R.check(cm_text is not None and r.get("Secret", "lokic") is None,
            "ConfigMap storage: a ConfigMap, no config Secret")
    sts = r.get("StatefulSet")
    R.eq((volume(sts, "config") or {}).get("configMap", {}).get("name"), "lokic",
         "ConfigMap storage: volume from the ConfigMap")
    R.eq(cm_text, config_text(default), "ConfigMap and Secret hold the same config")
    R.check(cm_text.endswith("\n") and not cm_text.endswith("\n\n"), "config.yaml ends with one newline")
    R.eq(sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"], sha256(cm_text),
         "ConfigMap storage: checksum")
    rc, _, err = render("--set", "config=null")
    R.check(rc != 0 and "config is empty" in err, "an empty config is refused: %s" % err.strip())
    rc, _, err = render("--set", "configStorageType=Vault")
    R.check(rc != 0 and "configStorageType must be Secret or ConfigMap" in err,
            "a bad configStorageType is refused: %s" % err.strip())
    r = render_ok("existing config", "--set", "existingConfig=my-lokic-config")
    R.check(r.get("Secret", "lokic") is None, "existingConfig: no config Secret")
    R.eq((volume(r.get("StatefulSet"), "config") or {}).get("secret", {}).get("secretName"),
         "my-lokic-config", "existingConfig: the volume uses it")


def sw_rules(default):
    r = render_ok("rules from ConfigMaps", "--set",
                  "rules.configMaps[0].tenant=fake,rules.configMaps[0].name=my-rules,"
                  "rules.configMaps[1].tenant=team-b,rules.configMaps[1].name=b-rules")
    sts = r.get("StatefulSet")
    c = container(sts, "lokic")
    R.eq((volume(sts, "rules-0") or {}).get("configMap"), {"name": "my-rules"},
         "rules: volume from the ConfigMap")
    R.eq(mount(c, "rules-0"), {"name": "rules-0", "mountPath": "/rules/fake", "readOnly": True},
         "rules: mounted at <directory>/<tenant>")
    R.eq((mount(c, "rules-1") or {}).get("mountPath"), "/rules/team-b", "rules: second tenant")
    cfg = yaml.safe_load(config_text(r))
    R.eq(cfg.get("ruler", {}).get("storage"), {"type": "local", "local": {"directory": "/rules"}},
         "rules: the ruler reads the mounted directory")
    R.check("ruler" not in yaml.safe_load(config_text(default)), "no rules: no ruler block")
    rc, _, err = render("--set", "rules.configMaps[0].name=x")
    R.check(rc != 0 and "tenant is required" in err, "rules: a tenant is required: %s" % err)


def sw_config_changes(default):
    def checksum(r):
        return r.get("StatefulSet")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    a = checksum(default)
    R.eq(checksum(render_ok("defaults again")), a, "the checksum is stable")
    r = render_ok("config change", "--set", "config.server.log_level=debug")
    R.check(checksum(r) != a, "a config change changes checksum/config")
    R.eq(yaml.safe_load(config_text(r))["server"]["log_level"], "debug", "--set reaches the config")
    r = render_ok("tpl in config", "--set", "config.server.log_level={{ .Values.tenantId | default \"warn\" }}")
    R.eq(yaml.safe_load(config_text(r))["server"]["log_level"], "warn", "values.config goes through tpl")

    r = render_ok("port change", "--set", "config.server.http_listen_port=3200")
    c = container(r.get("StatefulSet"), "lokic")
    R.eq(c["ports"][0]["containerPort"], 3200, "the container port follows http_listen_port")
    R.eq(r.get("StatefulSet")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"],
         "3200", "prometheus.io/port follows http_listen_port")


def sw_auth(default):
    rc, _, err = render("--set", "config.auth_enabled=true")
    R.check(rc != 0 and "tenantId is required" in err, "auth without tenantId is refused: %s" % err)
    r = render_ok("auth on", "--set", "config.auth_enabled=true,tenantId=team-a")
    check_alloy_config(alloy_config_text(r), "auth on: Alloy",
                       "http://lokic:3100/loki/api/v1/push", tenant="team-a")
    rp = render_ok("auth on, promtail", "--set", "config.auth_enabled=true,tenantId=team-a",
                   "--set", "promtail.enabled=true,alloy.enabled=false")
    pt = yaml.safe_load(b64(rp.get("Secret", "lokic-promtail")["data"]["promtail.yaml"]))
    R.eq(pt["clients"][0].get("tenant_id"), "team-a", "auth on: promtail's tenant_id")
    files = r.get("ConfigMap", "lokic-grafana-datasources")["data"]
    ds = yaml.safe_load(list(files.values())[0])["datasources"][0]
    R.eq((ds["jsonData"].get("httpHeaderName1"), ds["secureJsonData"].get("httpHeaderValue1")),
         ("X-Scope-OrgID", "team-a"), "auth on: Grafana's X-Scope-OrgID")
    R.eq(env_of(r.all("Pod")[0]["spec"]["containers"][0]).get("LOKIC_TENANT", {}).get("value"),
         "team-a", "auth on: helm test's tenant")
    R.check("X-Scope-OrgID: team-a" in notes("--set", "config.auth_enabled=true,tenantId=team-a"),
            "auth on: NOTES queries with the tenant")


def sw_names_and_images(default):
    r = render_ok("admin password", "--set", "grafana.adminPassword=s3cret")
    R.eq(b64(r.get("Secret", "lokic-grafana")["data"]["admin-password"]), "s3cret",
         "grafana.adminPassword")
    # loki-stack names: fullnameOverride=loki gives loki and loki-headless
    r = render_ok("loki-stack names", "--set", "fullnameOverride=loki", name="loki")
    R.check(r.get("Service", "loki") is not None and r.get("Service", "loki-headless") is not None
            and r.get("StatefulSet", "loki") is not None
            and r.get("Deployment", "loki-grafana") is not None,
            "fullnameOverride=loki: loki, loki-headless, loki-grafana as in the seed")
    check_alloy_url(r, "http://loki:3100/loki/api/v1/push")
    r = render_ok("release name", name="prod")
    R.check(r.get("StatefulSet", "prod-lokic") is not None, "release prod: prod-lokic")
    check_alloy_url(r, "http://prod-lokic:3100/loki/api/v1/push")
    r = render_ok("image override", "--set", "image.repository=registry.example.com/lokic",
                  "--set", "image.tag=0.2.0")
    R.eq(container(r.get("StatefulSet"))["image"], "registry.example.com/lokic:0.2.0",
         "image override")


def sw_everything_flipped(default):
    r = render_ok("everything flipped", "--set", "persistence.enabled=false",
                  "--set", "alloy.enabled=false", "--set", "grafana.enabled=false",
                  "--set", "serviceMonitor.enabled=true", "--set", "ingress.enabled=true",
                  "--set", "configStorageType=ConfigMap", "--set", "test.enabled=false")
    R.eq(sorted(d["kind"] for _, d in r.docs),
         sorted(["ConfigMap", "ServiceAccount", "Service", "Service", "StatefulSet",
                 "ServiceMonitor", "Ingress"]), "everything flipped: kinds")


SWITCHES = (sw_persistence, sw_promtail_instead_of_alloy, sw_alloy_options, sw_grafana_off, sw_service_monitor, sw_ingress,
            sw_config_storage, sw_rules, sw_config_changes, sw_auth, sw_names_and_images,
            sw_everything_flipped)


def check_switches(default):
    """Each scenario in turn; one that breaks (a missing object) counts as
    one failure and the others still run."""
    for sw in SWITCHES:
        guarded(sw, default)


def guarded(fn, *args):
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - a scenario's crash is its failure
        import traceback
        R.check(False, "%s crashed:\n%s" % (fn.__name__, traceback.format_exc()))
        return None


def check_alloy_url(r, url):
    cms = [d for d in r.all("ConfigMap") if "config.alloy" in (d.get("data") or {})]
    R.check(len(cms) == 1, "Alloy ConfigMap")
    if cms:
        check_alloy_config(cms[0]["data"]["config.alloy"], "Alloy push URL", url)


def contains(big, small):
    """Every key of the mapping small is in big with the same value."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contains(big[k], v)
                                             for k, v in small.items())
    return big == small


def seed_values(tmp):
    """The seed article's loki.yaml pasted under config:, as a values file."""
    seed = os.path.join(SRC, "..", "shared", "configs", "loki-stack-default.yaml")
    if not os.path.exists(seed):
        return None, None
    with open(seed) as f:
        text = f.read()
    path = os.path.join(tmp, "seed-values.yaml")
    with open(path, "w") as f:
        f.write("config:\n" + "".join("  " + line if line.strip() else line
                                      for line in text.splitlines(True)))
    return path, yaml.safe_load(text)


def check_paste(tmp):
    path, seed = seed_values(tmp)
    if path is None:
        print("note: ../shared/configs/loki-stack-default.yaml not found; seed paste not checked")
        return None
    r = render_ok("seed loki.yaml pasted", "-f", path)
    cfg = config_text(r)
    # Helm merges a map given with -f into the default key by key: every
    # key of the seed is there with the seed's value.
    stored = yaml.safe_load(cfg) if cfg else None
    R.check(contains(stored, seed), "the pasted seed config is in the stored one: %s" % stored)
    # the same as a string block
    spath = os.path.join(tmp, "string-values.yaml")
    with open(os.path.join(SRC, "..", "shared", "configs", "loki-stack-default.yaml")) as f:
        text = f.read()
    with open(spath, "w") as f:
        f.write("config: |\n" + "".join("  " + line for line in text.splitlines(True)))
    r2 = render_ok("config as a string", "-f", spath)
    R.eq(yaml.safe_load(config_text(r2) or "{}"), seed, "a string config is stored as written")
    return cfg


# ---- lokic on the chart's config


def rewrite_config(text, srv, data_root):
    """The rendered config with only its port and paths changed: lokic on a
    free loopback port, paths under data_root moved to the test's directory."""
    conf = yaml.safe_load(text)

    def move(v):
        if isinstance(v, dict):
            return {k: move(x) for k, x in v.items()}
        if isinstance(v, list):
            return [move(x) for x in v]
        if isinstance(v, str) and (v == data_root or v.startswith(data_root + "/")):
            return srv.tmp + "/data" + v[len(data_root):]
        return v

    conf = move(conf)
    conf.setdefault("server", {})
    conf["server"]["http_listen_port"] = srv.port
    conf["server"]["http_listen_address"] = "127.0.0.1"
    return yaml.safe_dump(conf, sort_keys=False)


def run_lokic(what, text, data_root, script=None, tenant=None, allow_warnings=False):
    srv = Lokic(config_text="")
    try:
        with open(srv.config_path, "w") as f:
            f.write(rewrite_config(text, srv, data_root))
        try:
            srv.start()
        except RuntimeError as e:
            R.check(False, "%s: lokic did not start: %s" % (what, e))
            return
        st, _, _ = srv.get("/ready")
        R.eq(st, 200, "%s: /ready" % what)
        warnings = [l for l in srv.log().splitlines() if "level=warn" in l]
        if not allow_warnings:
            R.check(not warnings, "%s: lokic warned about the config: %s" % (what, warnings))
        if script is not None:
            run_helm_test(what, script, srv, tenant)
        try:
            srv.stop()
            R.check(True, "%s: exit 0 on SIGTERM" % what)
        except RuntimeError as e:
            R.check(False, "%s: %s" % (what, e))
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.proc.kill()
        shutil.rmtree(srv.tmp, ignore_errors=True)


def run_helm_test(what, command, srv, tenant):
    """Runs the chart's `helm test` script (sh + curl) against srv."""
    if not shutil.which("curl"):
        print("note: no curl; the helm test script was not run (%s)" % what)
        return
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOKIC_URL": srv.url}
    if tenant:
        env["LOKIC_TENANT"] = tenant
    p = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=90)
    out = p.stdout.decode("utf-8", "replace")
    R.check(p.returncode == 0 and "read back: helm test" in out,
            "%s: the helm test script failed (%d): %s" % (what, p.returncode, out))


def check_lokic_runs(default, seed_cfg):
    if not os.path.exists(harness.BIN):
        print("note: LOKIC_BIN %s not found; lokic was not started" % harness.BIN)
        return
    run_lokic("chart default config", config_text(default), "/data", script=test_script(default))
    r = render_ok("auth for the run", "--set", "config.auth_enabled=true,tenantId=team-a")
    run_lokic("chart config with auth", config_text(r), "/data", script=test_script(r),
              tenant="team-a")
    if seed_cfg is not None:
        run_lokic("seed loki.yaml through the chart", seed_cfg, "/data", allow_warnings=True)
    image_cfg = dockerfile_config()
    if image_cfg is not None:
        run_lokic("the image's config", image_cfg, "/loki", script=test_script(default))


# ---- CMake wiring


def check_ctest_wiring():
    text = read("tests/CMakeLists.txt")
    block = text[text.find("NAME chart.render"):]
    R.check("NAME chart.render" in text and "test_chart.py" in block
            and "SKIP_RETURN_CODE 77" in block.split("endif()")[0], "CTest runs chart.render")
    deps = read("scripts/deps.sh")
    for p in ("golang-go", "golang-github-masterminds-sprig-dev", "golang-gopkg-yaml.v2-dev",
              "python3-yaml"):
        R.check(re.search(r"\b%s\b" % re.escape(p), deps) is not None, "scripts/deps.sh installs %s" % p)


def check_readme():
    text = read("README.md")
    m = re.search(r"(?ms)^## Install on Kubernetes\n(.*?)(?=^## )", text)
    R.check(m is not None, "README has an Install on Kubernetes section")
    if not m:
        return
    sec = m.group(1)
    n = notes()
    secret_cmd = ('kubectl get secret --namespace logging lokic-grafana '
                  '-o jsonpath="{.data.admin-password}" | base64 --decode')
    for want in ("docker build", "helm upgrade --install lokic charts/lokic", "helm repo add",
                 secret_cmd, "port-forward", "3000:80", "Explore", "helm test"):
        R.check(want in sec, "README's Kubernetes section shows %r" % want)
    R.check(secret_cmd in n, "README and NOTES.txt read the same Grafana Secret")


def main():
    tmp = tempfile.mkdtemp(prefix="lokic-chart-test-")
    try:
        guarded(check_renderer, tmp)
        guarded(check_chart_files)
        default = guarded(check_defaults)
        if default is not None:
            check_switches(default)
        seed_cfg = guarded(check_paste, tmp)
        guarded(check_dockerfile)
        guarded(check_ctest_wiring)
        guarded(check_readme)
        if default is not None:
            guarded(check_lokic_runs, default, seed_cfg)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    R.done()


if __name__ == "__main__":
    main()
