#!/usr/bin/env python3
"""Black-box: damaged data is said, and the index rebuilds itself (issue 9,
item 6: silent partial answers).

1. Corrupt chunk files: a flushed dataset, then bytes flipped in the middle
   of the block payloads of two files, another file truncated, another
   deleted. Log and metric queries answer 200 with the lines that could be
   read and Loki 3's top-level "warnings" (between "status" and "data")
   naming each problem; an untouched stream answers in full without
   warnings; lokic_query_read_errors_total counts each reason.
2. data.mdb and lock.mdb deleted while stopped: the next start rebuilds the
   index from the chunk files before /ready, and every answer (log and
   metric queries, labels, label values, series; three tenants, several
   streams, four days) is the same as before.
3. -index.rebuild forces a rebuild with the same answers; a data.mdb
   overwritten with garbage is rebuilt too (and kept as data.mdb.damaged).
"""
import glob
import json
import os
import random
import re
import struct
import time

from harness import Lokic, Result
import wire

S = 10**9
H = 3600 * S
SMALL_CHUNKS = {"ingester": {"chunk_block_size": 2048, "chunk_target_size": 8192}}
LIMITS = {"max_entries_limit_per_query": 100000, "ingestion_rate_mb": 1000,
          "ingestion_burst_size_mb": 1000}


def chunk_files(srv):
    return sorted(glob.glob(os.path.join(srv.tmp, "data", "chunks", "*", "*", "*.lkc")))


def file_labels(path):
    """The canonical labels in a chunk file's header (storage/chunkfile.c)."""
    with open(path, "rb") as f:
        head = f.read(44)
        n = struct.unpack_from("<I", head, 40)[0]
        return f.read(n).decode()


def payload_middle(path):
    """The middle of a chunk file's block payloads: [header end, index offset)."""
    data = open(path, "rb").read()
    hdr = 44 + struct.unpack_from("<I", data, 40)[0]
    index_off = struct.unpack_from("<Q", data, len(data) - 16)[0]
    return (hdr + index_off) // 2


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(4)
        f.seek(off)
        f.write(bytes(x ^ 0x5A for x in b))


def read_errors(srv):
    _, body, _ = srv.get("/metrics")
    out = {}
    for m in re.finditer(rb'^lokic_query_read_errors_total\{reason="([a-z_]+)"\} (\S+)$', body, re.M):
        out[m.group(1).decode()] = float(m.group(2))
    return out


def log_size(srv):
    return os.path.getsize(srv.stderr_path)


def log_since(srv, off):
    with open(srv.stderr_path, "rb") as f:
        f.seek(off)
        return f.read().decode("utf-8", "replace")


def lines_of(doc):
    return sum(len(s["values"]) for s in doc["data"]["result"])


def test_corrupt_chunks(t):
    now = time.time_ns()
    t0 = now - 2 * H
    rnd = random.Random(7)
    with Lokic(config=SMALL_CHUNKS, limits=LIMITS) as srv:
        streams = [({"app": "a%d" % i, "env": "prod"},
                    [(t0 + k * 10**7, "app a%d line %d %s" % (i, k, "%032x" % rnd.getrandbits(128)))
                     for k in range(1500)]) for i in range(6)]
        st, body, _ = srv.post("/loki/api/v1/push", wire.json_body(streams), wire.JSON)
        t.eq(st, 204, "push: %r" % body)
        srv.stop()
        by_app = {}
        for p in chunk_files(srv):
            app = re.search(r'app="(a\d)"', file_labels(p)).group(1)
            by_app.setdefault(app, []).append(p)
        t.check(all(len(by_app.get("a%d" % i, [])) >= 3 for i in range(4)),
                "several chunk files per stream: %r" % {k: len(v) for k, v in by_app.items()})
        flipped = [by_app["a0"][1], by_app["a1"][1]]
        for p in flipped:
            flip(p, payload_middle(p))
        truncated = by_app["a2"][1]
        with open(truncated, "r+b") as f:
            f.truncate(os.path.getsize(truncated) // 2)
        deleted = by_app["a3"][1]
        os.unlink(deleted)

        srv.start()
        rng = {"start": str(t0 - S), "end": str(now)}
        st, doc = srv.get_json("/loki/api/v1/query_range",
                               dict(rng, query='{env="prod"}', limit="100000"))
        t.eq(st, 200, "a log query over damaged chunks answers 200")
        got = lines_of(doc)
        t.check(4500 < got < 9000, "the readable lines are answered: %d of 9000" % got)
        t.eq(list(doc.keys()), ["status", "warnings", "data"],
             "warnings at the top level, between status and data, as in Loki 3")
        warns = doc.get("warnings", [])
        text = "\n".join(warns)
        print("warnings:\n  " + "\n  ".join(warns))
        t.eq(len(warns), 3, "one warning per reason (corrupt block, corrupt file, missing file)")
        t.check(all(w.endswith("results may be incomplete") for w in warns), "each says so")
        t.check(any(os.path.basename(p) in text for p in flipped), "a corrupt block's file is named")
        t.check("checksum mismatch" in text, "the corrupt block's reason is given")
        t.check(os.path.basename(truncated) in text, "the truncated file is named")
        t.check(os.path.basename(deleted) in text and "is missing" in text,
                "the deleted file is named as missing")

        st, doc = srv.get_json("/loki/api/v1/query_range",
                               dict(rng, query='sum by (app) (count_over_time({env="prod"}[1h]))',
                                    step="600"))
        t.eq(st, 200, "a metric query over damaged chunks answers 200")
        t.eq(list(doc.keys()), ["status", "warnings", "data"], "the metric answer warns too")
        st, doc = srv.get_json("/loki/api/v1/query",
                               {"query": 'count_over_time({app="a1"}[3h])', "time": str(now)})
        t.check(st == 200 and any("checksum mismatch" in w for w in doc.get("warnings", [])),
                "an instant query warns: %s %r" % (st, doc.get("warnings")))

        st, doc = srv.get_json("/loki/api/v1/query_range",
                               dict(rng, query='{app="a5"}', limit="100000"))
        t.eq((st, lines_of(doc)), (200, 1500), "an untouched stream answers in full")
        t.check("warnings" not in doc, "and without warnings")

        errs = read_errors(srv)
        t.check(errs.get("block_corrupt", 0) >= 2, "the metric counts corrupt blocks: %r" % errs)
        t.check(errs.get("chunk_corrupt", 0) >= 1, "and corrupt chunk files")
        t.check(errs.get("chunk_missing", 0) >= 1, "and missing ones")
        t.eq(errs.get("index_corrupt"), 0.0, "every reason is exported, also at zero")
        st, doc = srv.get_json("/loki/api/v1/label/app/values", rng)
        t.eq((st, len(doc.get("data", []))), (200, 6), "metadata endpoints still answer")


def dataset():
    """A few thousand lines: three tenants, four streams each, over four days."""
    now = time.time_ns()
    t0 = now - 4 * 24 * H
    rnd = random.Random(11)
    out = {}
    for tenant in ("t1", "team-b", "x.y_z(1)"):
        streams = []
        for j in range(4):
            lab = {"job": "job%d" % j, "tenant_tag": tenant, "level": ("info", "error")[j % 2]}
            ts = sorted(t0 + rnd.randrange(4 * 24 * H) for _ in range(400))
            streams.append((lab, [(x, "%s job%d msg=%d" % (tenant, j, i)) for i, x in enumerate(ts)]))
        out[tenant] = streams
    return t0, now, out


def answers(srv, tenants, t0, now):
    rng = {"start": str(t0 - S), "end": str(now)}
    out = {}
    for tenant in tenants:
        h = {"X-Scope-OrgID": tenant}
        reqs = [("/loki/api/v1/query_range", dict(rng, query='{job=~".+"}', limit="100000",
                                                  direction="forward")),
                ("/loki/api/v1/query_range", dict(rng, query='{level="error"} |= "msg=1"',
                                                  limit="100000")),
                ("/loki/api/v1/query_range", dict(rng, query='sum by (job) (count_over_time({job=~".+"}[6h]))',
                                                  step="21600")),
                ("/loki/api/v1/labels", rng),
                ("/loki/api/v1/label/job/values", rng),
                ("/loki/api/v1/series", dict(rng, **{"match[]": '{level=~".+"}'}))]
        for path, params in reqs:
            st, body, _ = srv.get(path, params, headers=h)
            doc = json.loads(body) if st == 200 else body
            if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
                doc["data"].pop("stats", None)
            out[(tenant, path, params.get("query"))] = (st, doc)
    return out


def test_rebuild(t):
    t0, now, data = dataset()
    with Lokic(auth=True, limits=LIMITS) as srv:
        for tenant, streams in data.items():
            st, body, _ = srv.post("/loki/api/v1/push", wire.json_body(streams),
                                   dict(wire.JSON, **{"X-Scope-OrgID": tenant}))
            t.eq(st, 204, "push %s: %r" % (tenant, body))
        srv.stop()
        before = answers_started(srv, data, t0, now)
        total = sum(len(s["values"]) for k, (st, d) in before.items()
                    if k[1].endswith("query_range") and k[2] == '{job=~".+"}' for s in d["data"]["result"])
        t.eq(total, 4800, "every line is answered before")
        periods = {p.split(os.sep)[-2] for p in chunk_files(srv)}
        t.check(len(periods) >= 4, "chunk files in several periods: %r" % sorted(periods))

        index = os.path.join(srv.tmp, "data", "index")
        for name in ("data.mdb", "lock.mdb"):
            os.unlink(os.path.join(index, name))
        log_at = log_size(srv)
        srv.start()
        log = log_since(srv, log_at)
        t.check("rebuilding the index" in log and "index rebuilt" in log,
                "the log says the index was rebuilt")
        m = re.search(r'index rebuilt.*chunk_files=(\d+) indexed=(\d+).*duration=(\S+)', log)
        t.check(m and m.group(1) == m.group(2) == str(len(chunk_files(srv))),
                "every chunk file indexed: %s" % (m.group(0) if m else log[-500:]))
        after = answers(srv, data, t0, now)
        t.check(after == before, "the same answers after the rebuild: %s" % diff(before, after))
        srv.stop()

        log_at = log_size(srv)
        srv.args.append("-index.rebuild")
        srv.start()
        srv.args.remove("-index.rebuild")
        log = log_since(srv, log_at)
        t.check('reason="forced (-index.rebuild)"' in log and "index rebuilt" in log,
                "-index.rebuild rebuilds")
        after = answers(srv, data, t0, now)
        t.check(after == before, "the same answers after a forced rebuild: %s" % diff(before, after))
        srv.stop()

        mdb = os.path.join(index, "data.mdb")
        size = os.path.getsize(mdb)
        with open(mdb, "wb") as f:
            f.write(random.Random(3).randbytes(size))
        log_at = log_size(srv)
        srv.start()
        t.check("the index is damaged" in log_since(srv, log_at), "a garbage data.mdb is found damaged")
        t.check(os.path.exists(mdb + ".damaged"), "and kept aside as data.mdb.damaged")
        after = answers(srv, data, t0, now)
        t.check(after == before, "the same answers after rebuilding a damaged index: %s" %
                diff(before, after))


def answers_started(srv, data, t0, now):
    srv.start()
    a = answers(srv, data, t0, now)
    srv.stop()
    return a


def diff(a, b):
    for k in a:
        if a.get(k) != b.get(k):
            return "%r: %r != %r" % (k, str(a.get(k))[:300], str(b.get(k))[:300])
    return "none"


def main():
    t = Result()
    test_corrupt_chunks(t)
    test_rebuild(t)
    t.done()


if __name__ == "__main__":
    main()
