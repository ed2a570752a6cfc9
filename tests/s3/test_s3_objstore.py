#!/usr/bin/env python3
"""The object stores' shared test body (tests/unit/objstore_suite.c, which
unit.test_objstore runs on the file system) run on a bucket of a real
radosgw (servers.Radosgw) through tests/s3/objstore_s3.c, path style and
virtual-host style."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
import servers  # noqa: E402
from harness import Result  # noqa: E402

TOOL = os.environ.get("LOKIC_AWS_TOOL", "aws_tool")
DRIVER = os.environ.get("LOKIC_OBJSTORE_S3", "objstore_s3")


def run_suite(t, rgw, endpoint, path_style):
    env = dict(os.environ, LOKIC_S3_ENDPOINT=endpoint, LOKIC_S3_BUCKET="lokic-objstore",
               LOKIC_S3_ACCESS_KEY=rgw.access_key, LOKIC_S3_SECRET_KEY=rgw.secret_key,
               LOKIC_S3_PATH_STYLE="1" if path_style else "0")
    r = subprocess.run([TOOL, "s3", "mkbucket"], env=env, capture_output=True, timeout=120)
    t.eq(r.returncode, 0, "create the bucket: %s" % r.stderr.decode())
    r = subprocess.run([DRIVER], env=env, capture_output=True, timeout=300)
    out = r.stdout.decode() + r.stderr.decode()
    print(out[-4000:])
    style = "path" if path_style else "virtual-host"
    t.eq(r.returncode, 0, "the object-store suite passes on S3, %s style" % style)
    t.check("PASSED  ] 6 test(s)" in out, "all 6 tests ran (%s style)" % style)


def main():
    t = Result()
    with servers.Radosgw() as rgw:
        run_suite(t, rgw, rgw.endpoint, True)
        # curl resolves *.localhost to the loopback; radosgw's "rgw dns name"
        # is localhost
        run_suite(t, rgw, "http://localhost:%d" % rgw.port, False)
    t.done()


if __name__ == "__main__":
    main()
