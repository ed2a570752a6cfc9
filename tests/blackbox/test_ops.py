#!/usr/bin/env python3
"""Black-box: start-up, configuration files and flags, operational endpoints,
clean stop on SIGTERM and SIGINT."""
import json
import os
import re
import signal
import subprocess

from harness import BIN, Lokic, Result, free_port

SHARED = os.path.join(os.environ.get("LOKIC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../..")),
                      "..", "shared", "configs")


def run(args, timeout=20):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def main():
    t = Result()
    code, out, _ = run(["-version"])
    t.eq(code, 0, "-version exits 0")
    t.check(out.startswith("lokic, version"), "-version prints the version: %r" % out)
    code, out, _ = run(["-help"])
    t.check(code == 0 and "-config.file" in out, "-help lists flags")
    code, _, err = run(["-no-such-flag"])
    t.check(code != 0 and "no-such-flag" in err, "unknown flag refused: %r" % err)

    with Lokic() as srv:
        st, body, _ = srv.get("/ready")
        t.eq((st, body), (200, b"ready\n"), "/ready")
        st, body, _ = srv.get("/config")
        t.check(st == 200 and b"http_listen_port: %d" % srv.port in body, "/config shows the effective port")
        st, doc = srv.get_json("/loki/api/v1/status/buildinfo")
        t.check(st == 200 and doc["version"].startswith("3.6.0+lokic"), "buildinfo: %r" % doc)
        st, body, _ = srv.get("/metrics")
        t.check(st == 200 and b"# TYPE loki_request_duration_seconds histogram" in body, "/metrics")
        t.check(b'route="ready"' in body, "request duration by route")
        st, body, _ = srv.get("/services")
        t.check(b"ingester => Running" in body, "/services")
        st, _, _ = srv.get("/nope")
        t.eq(st, 404, "unknown path")
    # SIGINT stops cleanly too
    srv = Lokic()
    srv.start()
    srv.stop(sig=signal.SIGINT)
    t.check(srv.proc.returncode == 0, "SIGINT exits 0")

    # loki-stack's default config starts unchanged (paths and port pointed elsewhere)
    stack = os.path.join(SHARED, "loki-stack-default.yaml")
    if os.path.exists(stack):
        with open(stack) as f:
            text = f.read()
        port = free_port()
        probe = Lokic()
        text = text.replace("/data/loki", probe.tmp + "/loki").replace("http_listen_port: 3100",
                                                                      "http_listen_port: %d" % port)
        srv = Lokic(config_text=text)
        srv.port, srv.url = port, "http://127.0.0.1:%d" % port
        with srv:
            st, _, _ = srv.get("/ready")
            t.eq(st, 200, "loki-stack-default.yaml starts")
            log = srv.log()
            t.check("max_transfer_retries" in log, "inapplicable key warned about")
        aws = os.path.join(SHARED, "loki-aws.yaml")
        code, _, err = run(["-config.file=" + aws])
        t.eq(code, 1, "loki-aws.yaml refused")
        t.check("aws" in err or "s3" in err, "refusal names the store: %r" % err)
    else:
        print("shared configs not found; skipping the loki-stack checks")

    # malformed YAML and a bad value: exit 1 with file:line:column
    probe = Lokic()
    bad = os.path.join(probe.tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("server:\n  http_listen_port: [1, 2\n")
    code, _, err = run(["-config.file=" + bad])
    t.check(code == 1 and re.search(r"bad\.yaml:\d+:\d+", err), "malformed YAML: %r" % err)
    with open(bad, "w") as f:
        f.write("limits_config:\n  max_line_size: lots\n")
    code, _, err = run(["-config.file=" + bad])
    t.check(code == 1 and "bad.yaml:2:" in err and "max_line_size" in err, "bad value: %r" % err)
    # unknown key: warning, not fatal; flags override the file
    port = free_port()
    with open(bad, "w") as f:
        f.write("auth_enabled: false\nfrobnicate: 1\nserver:\n  http_listen_port: 1\n  http_listen_address: 127.0.0.1\n"
                "common:\n  path_prefix: %s/data\n" % probe.tmp)
    srv = Lokic(extra_args=["-server.http-listen-port=%d" % port, "-log.level=debug"], config_text="x: 1\n")
    srv.args = [BIN, "-config.file=" + bad, "-server.http-listen-port=%d" % port]
    srv.port, srv.url = port, "http://127.0.0.1:%d" % port
    with srv:
        st, _, _ = srv.get("/ready")
        t.eq(st, 200, "flag overrides the file's port")
        t.check("frobnicate" in srv.log(), "unknown key warned about")
    # -config.expand-env
    os.environ["LOKIC_TEST_PORT"] = str(free_port())
    srv = Lokic(config_text="auth_enabled: false\nserver:\n  http_listen_address: 127.0.0.1\n"
                            "  http_listen_port: ${LOKIC_TEST_PORT}\ncommon:\n  path_prefix: %s/env\n" % probe.tmp)
    srv.port = int(os.environ["LOKIC_TEST_PORT"])
    srv.url = "http://127.0.0.1:%d" % srv.port
    srv.args.append("-config.expand-env=true")
    with srv:
        st, _, _ = srv.get("/ready")
        t.eq(st, 200, "-config.expand-env")
    t.done()


if __name__ == "__main__":
    main()
