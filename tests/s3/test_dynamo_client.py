#!/usr/bin/env python3
"""The DynamoDB client (storage/dynamo.h) against dynalite (servers.Dynalite),
through tests/s3/aws_tool.c: tables with provisioned and on-demand
throughput, batch writes of more than 25 items with binary range keys,
queries by hash with a range prefix, a range and a value filter, page by
page, deletes, a missing table, retries while dynalite is down; and,
against a fake endpoint in this file, UnprocessedItems sent again (dynalite
never leaves any)."""
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
import servers  # noqa: E402
from harness import Result  # noqa: E402

TOOL = os.environ.get("LOKIC_AWS_TOOL", "aws_tool")
HASH = "fake:d19700:logs"


class DdbTool:
    def __init__(self, endpoint, access_key, secret_key):
        self.env = dict(os.environ, LOKIC_DDB_ENDPOINT=endpoint, LOKIC_DDB_ACCESS_KEY=access_key,
                        LOKIC_DDB_SECRET_KEY=secret_key)
        self.metrics = tempfile.mktemp(prefix="lokic-ddb-metrics-")

    def run(self, *args, data=b"", retries=5, timeout=120):
        env = dict(self.env, LOKIC_DDB_RETRIES=str(retries), LOKIC_AWS_METRICS=self.metrics)
        return subprocess.run([TOOL, "ddb"] + list(args), input=data, env=env,
                              capture_output=True, timeout=timeout)

    def popen(self, *args, retries=5):
        env = dict(self.env, LOKIC_DDB_RETRIES=str(retries), LOKIC_AWS_METRICS=self.metrics)
        return subprocess.Popen([TOOL, "ddb"] + list(args), env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def query(self, *args, **kw):
        r = self.run("query", *args, **kw)
        return r.returncode, [tuple(line.split()) for line in r.stdout.decode().splitlines()]

    def metric(self, name, **labels):
        total = 0.0
        for line in open(self.metrics).read().splitlines():
            m = re.match(r"(\w+)(\{.*\})? (\S+)$", line)
            if m and m.group(1) == name and all('%s="%s"' % kv in (m.group(2) or "")
                                                for kv in labels.items()):
                total += float(m.group(3))
        return total


def hexs(b):
    return b.hex() if b else "-"


# 60 items: range keys with NUL and 0xff bytes, as Loki's range values have
ITEMS = [(bytes([i % 3]) + b"\x00" + bytes([i]) + b"\xff", b"v%d" % i if i % 5 else b"")
         for i in range(60)]


def write_lines(items, hash_key=HASH):
    return "".join("+ %s %s %s\n" % (hash_key, hexs(r), hexs(v)) for r, v in items).encode()


def check_tables(t, ddb):
    r = ddb.run("mktable", "lokic_index", "300", "1000")
    t.eq(r.returncode, 0, "create a provisioned table: %s" % r.stderr.decode())
    t.eq(ddb.run("describe", "lokic_index").stdout.split()[:4],
         [b"ACTIVE", b"300", b"1000", b"provisioned"], "active, with the throughput asked for")
    t.eq(ddb.run("mktable", "lokic_index", "1", "1").returncode, 0, "creating it again is fine")
    t.eq(ddb.run("mktable", "lokic_od", "0", "0", "ondemand").returncode, 0, "an on-demand table")
    t.eq(ddb.run("describe", "lokic_od").stdout.split()[3:4], [b"ondemand"], "billed per request")
    t.eq(ddb.run("droptable", "lokic_od").returncode, 0, "delete a table")
    t.eq(ddb.run("describe", "lokic_od").returncode, 2, "then it is not found")
    t.eq(ddb.run("droptable", "lokic_od").returncode, 0, "deleting a missing table is fine")
    t.eq(ddb.run("query", "lokic_none", HASH).returncode, 2, "a query of a missing table: not found")


def check_write_and_query(t, ddb):
    r = ddb.run("write", "lokic_index", data=write_lines(ITEMS) + write_lines(ITEMS[:3], "other"))
    t.eq(r.returncode, 0, "batch write of 63 items: %s" % r.stderr.decode())
    t.eq(ddb.metric("lokic_aws_requests_total", operation="BatchWriteItem"), 3,
         "25 items a request: 3 requests")
    want = sorted((hexs(r), hexs(v)) for r, v in ITEMS)
    rc, got = ddb.query("lokic_index", HASH)
    t.check(rc == 0 and got == want, "the hash's 60 items in range order, values intact")
    rc, got = ddb.query("lokic_index", HASH, "page=7")
    t.eq(got, want, "the same in pages of 7")
    t.eq(ddb.metric("lokic_aws_requests_total", operation="Query"), 9,
         "60 items in pages of 7: 9 requests")
    rc, got = ddb.query("lokic_index", HASH, "prefix=0100")
    t.eq(got, [w for w in want if w[0].startswith("0100")], "a range prefix (begins_with)")
    lo, hi = hexs(ITEMS[10][0]), hexs(ITEMS[40][0])
    rc, got = ddb.query("lokic_index", HASH, "start=" + lo, "end=" + hi)
    t.eq(got, [w for w in want if lo <= w[0] <= hi], "a range (between)")
    rc, got = ddb.query("lokic_index", HASH, "start=" + hi)
    t.eq(got, [w for w in want if w[0] >= hi], "from a range key on")
    rc, got = ddb.query("lokic_index", HASH, "value=" + hexs(b"v7"))
    t.eq(got, [(hexs(ITEMS[7][0]), hexs(b"v7"))], "a value filter")
    rc, got = ddb.query("lokic_index", HASH, "value=-")
    t.eq(len(got), 12, "a filter on the empty value: the 12 items without one")
    t.eq(len(ddb.query("lokic_index", "other")[1]), 3, "another hash key is apart")
    t.eq(ddb.query("lokic_index", "nothing"), (0, []), "a hash without items: nothing")


def check_deletes(t, ddb):
    gone = ITEMS[:30]
    dels = "".join("- %s %s\n" % (HASH, hexs(r)) for r, _ in gone).encode()
    r = ddb.run("write", "lokic_index", data=dels)
    t.eq(r.returncode, 0, "batch delete of 30 items: %s" % r.stderr.decode())
    t.eq(len(ddb.query("lokic_index", HASH)[1]), 30, "30 left")
    t.eq(ddb.run("delitem", "lokic_index", HASH, hexs(ITEMS[59][0])).returncode, 0, "delete one")
    t.eq(ddb.run("delitem", "lokic_index", HASH, hexs(ITEMS[0][0])).returncode, 0,
         "deleting a missing item is fine")
    t.eq(len(ddb.query("lokic_index", HASH)[1]), 29, "29 left")
    r = ddb.run("write", "lokic_index", data=b"+ h 00 01\n+ h 00 02\n", retries=0)
    t.check(r.returncode == 1 and b"duplicates" in r.stderr,
            "a batch naming a key twice is refused by DynamoDB (%s)" % r.stderr.decode())


def check_retries(t, dyn, ddb):
    dyn.stop_server()
    t0 = time.time()
    r = ddb.run("describe", "lokic_index", retries=0)
    t.check(r.returncode == 1 and time.time() - t0 < 10, "dynalite down, no retries: fails fast")
    p = ddb.popen("write", "lokic_index", retries=8)
    p.stdin.write(write_lines([(b"late", b"kept")]))
    p.stdin.close()
    time.sleep(2)
    t.check(p.poll() is None, "the write is still retrying after 2 s")
    dyn.start()
    p.wait(timeout=120)
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    t.eq(p.returncode, 0, "a write retried until dynalite is back: %s" % err.decode())
    t.eq(ddb.query("lokic_index", HASH, "prefix=" + hexs(b"late"))[1],
         [(hexs(b"late"), hexs(b"kept"))], "the item is there")


class FakeDynamo(http.server.BaseHTTPRequestHandler):
    """Leaves all but the first request item unprocessed, `stubborn` times
    (every time when stubborn is None); records the bodies."""
    bodies = []
    stubborn = 1

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeDynamo.bodies.append(body)
        table, reqs = next(iter(body["RequestItems"].items()))
        answer = {"UnprocessedItems": {}}
        if FakeDynamo.stubborn is None or len(FakeDynamo.bodies) <= FakeDynamo.stubborn:
            answer["UnprocessedItems"] = {table: reqs[1:]} if reqs[1:] else {}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def check_unprocessed(t):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeDynamo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ddb = DdbTool("http://127.0.0.1:%d" % srv.server_address[1], "k", "s")
    try:
        r = ddb.run("write", "lokic_index", data=write_lines(ITEMS[:5]))
        t.eq(r.returncode, 0, "unprocessed items sent again: %s" % r.stderr.decode())
        sent = [len(b["RequestItems"]["lokic_index"]) for b in FakeDynamo.bodies]
        t.eq(sent, [5, 4], "the second request carries the 4 left unprocessed")
        FakeDynamo.bodies, FakeDynamo.stubborn = [], None
        r = ddb.run("write", "lokic_index", data=write_lines(ITEMS[:5]), retries=2)
        t.check(r.returncode == 1 and b"2 items still unprocessed after 2 retries" in r.stderr,
                "unprocessed past the retries: an error naming them (%s)" % r.stderr.decode())
        t.eq(len(FakeDynamo.bodies), 3, "one request and 2 retries")
    finally:
        srv.shutdown()
        srv.server_close()


def main():
    t = Result()
    check_unprocessed(t)
    with servers.Dynalite() as dyn:
        ddb = DdbTool(dyn.endpoint, dyn.access_key, dyn.secret_key)
        check_tables(t, ddb)
        check_write_and_query(t, ddb)
        check_deletes(t, ddb)
        check_retries(t, dyn, ddb)
    t.done()


if __name__ == "__main__":
    main()
