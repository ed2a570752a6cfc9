#!/usr/bin/env python3
"""The S3 client (storage/s3.h) against a real radosgw (servers.Radosgw),
through tests/s3/aws_tool.c: bucket creation, a binary round trip, HEAD,
ranged GETs, keys that need escaping, ListObjectsV2 pagination, 404s,
DELETE, virtual-host style, a wrong secret, and retries while radosgw is
stopped and started again."""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
import servers  # noqa: E402
from harness import Result  # noqa: E402

TOOL = os.environ.get("LOKIC_AWS_TOOL", "aws_tool")


class S3Tool:
    def __init__(self, rgw, bucket, path_style=True, endpoint=None, secret=None):
        self.env = dict(os.environ, LOKIC_S3_ENDPOINT=endpoint or rgw.endpoint,
                        LOKIC_S3_BUCKET=bucket, LOKIC_S3_ACCESS_KEY=rgw.access_key,
                        LOKIC_S3_SECRET_KEY=secret or rgw.secret_key,
                        LOKIC_S3_PATH_STYLE="1" if path_style else "0")
        self.metrics = tempfile.mktemp(prefix="lokic-aws-metrics-")

    def run(self, *args, data=b"", retries=5, timeout=120):
        env = dict(self.env, LOKIC_S3_RETRIES=str(retries), LOKIC_AWS_METRICS=self.metrics)
        return subprocess.run([TOOL, "s3"] + list(args), input=data, env=env,
                              capture_output=True, timeout=timeout)

    def popen(self, *args, data=b"", retries=5):
        env = dict(self.env, LOKIC_S3_RETRIES=str(retries), LOKIC_AWS_METRICS=self.metrics)
        return subprocess.Popen([TOOL, "s3"] + list(args), env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def metric(self, name, **labels):
        total = 0.0
        for line in open(self.metrics).read().splitlines():
            m = re.match(r"(\w+)(\{.*\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            if all('%s="%s"' % kv in (m.group(2) or "") for kv in labels.items()):
                total += float(m.group(3))
        return total


def check_round_trip(t, s3):
    blob = os.urandom(200000)
    r = s3.run("put", "dir/blob.bin", data=blob)
    t.eq(r.returncode, 0, "put: %s" % r.stderr.decode())
    t.eq(s3.metric("lokic_aws_sent_bytes_total", operation="PutObject"), len(blob), "bytes sent")
    r = s3.run("get", "dir/blob.bin")
    t.check(r.returncode == 0 and r.stdout == blob, "get returns the bytes put")
    t.eq(s3.metric("lokic_aws_received_bytes_total", operation="GetObject"), len(blob),
         "bytes received")
    t.eq(s3.run("head", "dir/blob.bin").stdout.strip(), b"200000", "head gives the size")
    r = s3.run("get", "dir/blob.bin", "1000", "500")
    t.check(r.returncode == 0 and r.stdout == blob[1000:1500], "ranged get: bytes 1000-1499")
    r = s3.run("get", "dir/blob.bin", "199990", "100")
    t.check(r.stdout == blob[199990:], "a range past the end gives what there is")
    t.eq(s3.run("get", "dir/blob.bin", "300000", "10").stdout, b"", "a range after the end")
    odd = "odd key/ü+%$&=?#~ x.txt"
    t.eq(s3.run("put", odd, data=b"odd").returncode, 0, "put a key that needs escaping")
    t.eq(s3.run("get", odd).stdout, b"odd", "get it back")
    t.check(("%s 3" % odd).encode() in s3.run("list", "odd", "0").stdout, "listed unescaped")
    t.eq(s3.run("put", "empty", data=b"").returncode, 0, "put an empty object")
    r = s3.run("get", "empty")
    t.check(r.returncode == 0 and r.stdout == b"", "get an empty object")


def check_list_and_delete(t, s3):
    keys = ["page/%02d" % i for i in range(7)]
    for k in keys:
        s3.run("put", k, data=k.encode())
    r = s3.run("list", "page/", "2")
    t.eq(r.stdout.decode().splitlines(), ["%s 7" % k for k in keys], "every key, in order")
    t.eq(s3.metric("lokic_aws_requests_total", operation="ListObjectsV2"), 4,
         "7 keys in pages of 2: 4 requests")
    t.eq(s3.run("list", "nothing/", "0").stdout, b"", "an empty prefix lists nothing")
    t.eq(s3.run("get", "missing").returncode, 2, "get of a missing key: not found")
    t.eq(s3.run("head", "missing").returncode, 2, "head of a missing key: not found")
    t.eq(s3.run("delete", "missing").returncode, 0, "delete of a missing key is fine")
    t.eq(s3.run("delete", "page/03").returncode, 0, "delete")
    t.eq(s3.run("get", "page/03").returncode, 2, "a deleted key is gone")
    t.eq(len(s3.run("list", "page/", "0").stdout.splitlines()), 6, "and unlisted")


def check_styles_and_auth(t, rgw):
    # curl resolves *.localhost to the loopback itself; radosgw's "rgw dns
    # name = localhost" reads the bucket from the Host header
    vh = S3Tool(rgw, "lokic-vhost", path_style=False,
                endpoint="http://localhost:%d" % rgw.port)
    r = vh.run("mkbucket")
    t.eq(r.returncode, 0, "virtual-host style: create bucket: %s" % r.stderr.decode())
    t.eq(vh.run("put", "k", data=b"v").returncode, 0, "virtual-host style: put")
    t.eq(S3Tool(rgw, "lokic-vhost").run("get", "k").stdout, b"v", "the same object, path style")
    bad = S3Tool(rgw, "lokic-b1", secret="wrong" * 8)
    r = bad.run("get", "dir/blob.bin", retries=0)
    t.check(r.returncode == 1 and b"SignatureDoesNotMatch" in r.stderr,
            "a wrong secret: refused by name (%s)" % r.stderr.decode())


def check_retries(t, rgw, s3):
    rgw.stop_rgw()
    t0 = time.time()
    r = s3.run("get", "dir/blob.bin", retries=0)
    t.check(r.returncode == 1 and time.time() - t0 < 10, "radosgw down, no retries: fails fast")
    t.eq(s3.metric("lokic_aws_requests_total", status_code="error"), 1, "counted as an error")
    p = s3.popen("put", "during-outage", retries=8)
    p.stdin.write(b"kept")
    p.stdin.close()
    time.sleep(2)
    t.check(p.poll() is None, "the put is still retrying after 2 s")
    rgw.start_rgw()
    p.wait(timeout=120)
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    t.eq(p.returncode, 0, "a put retried until radosgw is back: %s" % err.decode())
    t.check(s3.metric("lokic_aws_request_retries_total", operation="PutObject") >= 1,
            "retries counted")
    t.eq(s3.run("get", "during-outage").stdout, b"kept", "the object is there")


def main():
    t = Result()
    with servers.Radosgw() as rgw:
        s3 = S3Tool(rgw, "lokic-b1")
        r = s3.run("mkbucket")
        t.eq(r.returncode, 0, "create bucket: %s" % r.stderr.decode())
        t.eq(s3.run("mkbucket").returncode, 0, "creating it again is fine")
        check_round_trip(t, s3)
        check_list_and_delete(t, s3)
        check_styles_and_auth(t, rgw)
        check_retries(t, rgw, s3)
    t.done()


if __name__ == "__main__":
    main()
