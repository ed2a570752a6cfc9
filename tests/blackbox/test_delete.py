#!/usr/bin/env python3
"""Black-box: log deletion (/loki/api/v1/delete) as Loki 3.6 answers it.
POST/GET/DELETE shapes and Loki's error texts; 404 without
compactor.retention_enabled and 403 with deletion_mode disabled; the lines of
a request vanish at once from log and metric queries, in memory and flushed,
for its tenant only, also after a restart; a cancelled request stops hiding
them; with a short cancel period the compactor rewrites the chunks (checked
by restarting with deletion_mode disabled, so nothing is filtered at query
time: the deleted lines are gone from the files, the others all read back);
a kill -9 while requests are processed loses no line that was not deleted."""
import glob
import os
import re
import signal
import time

from harness import LOKI29, Lokic, Result, wait_for
import wire

S = 10**9


def hdr(tenant, extra=None):
    h = {"X-Scope-OrgID": tenant}
    h.update(extra or {})
    return h


def push(srv, tenant, streams):
    st, body, _ = srv.post("/loki/api/v1/push", wire.proto_body(streams), hdr(tenant, wire.PROTO))
    assert st == 204, (st, body)


def lines(srv, tenant, query, start, end):
    st, doc = srv.get_json("/loki/api/v1/query_range",
                           {"query": query, "start": str(start), "end": str(end), "limit": "5000"},
                           headers=hdr(tenant))
    assert st == 200, (st, doc)
    return sorted(v[1] for s in doc["data"]["result"] for v in s["values"])


def count(srv, tenant, query, start, end):
    st, doc = srv.get_json("/loki/api/v1/query",
                           {"query": "sum(count_over_time(%s[1h]))" % query, "time": str(end)},
                           headers=hdr(tenant))
    assert st == 200, (st, doc)
    r = doc["data"]["result"]
    return int(float(r[0]["value"][1])) if r else 0


def delete(srv, tenant, method="POST", **params):
    st, body, _ = srv.request(method, "/loki/api/v1/delete", params=params, headers=hdr(tenant))
    return st, body.decode()


def listing(srv, tenant):
    st, doc = srv.get_json("/loki/api/v1/delete", headers=hdr(tenant))
    assert st == 200, (st, doc)
    return doc


def flushed(srv, n):
    return wait_for(lambda: (srv.metric("loki_ingester_chunks_flushed_total") or 0) >= n)


def dataset(base, app, n):
    return ('{app="%s"}' % app,
            [(base + i * S, ("drop %d" if i % 2 else "keep %d") % i) for i in range(n)])


def cfg(extra_compactor=None, ingester=None, deletion_mode=None):
    c = {"auth_enabled": True,
         "compactor": dict({"retention_enabled": True, "compaction_interval": "1s"},
                           **(extra_compactor or {}))}
    if ingester:
        c["ingester"] = ingester
    limits = dict(LOKI29)
    if deletion_mode:
        limits["deletion_mode"] = deletion_mode
    return c, limits


def shapes_and_errors(t):
    c, limits = cfg()
    now = int(time.time())
    with Lokic(config=c, limits=limits) as srv:
        cases = [
            ({}, "query not set\n"),
            ({"query": '{app="a"', "start": "1700000000"},
             "invalid query expression: parse error at line 1, col 9: syntax error: unexpected $end, "
             "expecting } or ,\n"),
            ({"query": 'count_over_time({app="a"}[1m])', "start": "1700000000"},
             "invalid query expression: only log selector is supported\n"),
            ({"query": '{app="a"}'}, "start time not set\n"),
            ({"query": '{app="a"}', "start": "17000"},
             "invalid start time: require unix seconds or RFC3339 format\n"),
            ({"query": '{app="a"}', "start": "1700000000", "end": "x"},
             "invalid end time: require unix seconds or RFC3339 format\n"),
            ({"query": '{app="a"}', "start": "1700000000", "end": str(now + 3600)},
             "deletes in the future are not allowed\n"),
            ({"query": '{app="a"}', "start": "1700000100", "end": "1700000000"},
             "start time can't be greater than end time\n"),
            ({"query": '{app="a"} |= "x"', "start": "1700000000", "end": "1700000000"},
             "difference between start time and end time must be at least one second\n"),
            ({"query": '{app="a"} |= "x"', "start": "1700000000", "end": "1700000100",
              "max_interval": "1d"}, "invalid max_interval: valid time units are 's', 'm', 'h'\n"),
            ({"query": '{app="a"} |= "x"', "start": "1600000000", "end": "1700000000",
              "max_interval": "48h"}, "max_interval can't be greater than 24h0m0s\n"),
            ({"query": '{app="a"} |= "x"', "start": "1700000000", "end": "1700000100",
              "max_interval": "1h"},
             "max_interval can't be greater than the interval to be deleted (1m40s)\n"),
        ]
        for params, want in cases:
            t.eq(delete(srv, "a", **params), (400, want), "POST %r" % params)
        t.eq(listing(srv, "a"), [], "nothing listed after refused requests")
        t.eq(delete(srv, "a", query='{app="a"} |= "x"', start="1700000000", end="2023-11-14T22:15:00Z"),
             (204, ""), "POST with RFC3339 end")
        t.eq(delete(srv, "a", "PUT", query='{app="b"}', start="2023-11-14T22:13:20Z"), (204, ""),
             "PUT, end defaulting to now")
        doc = listing(srv, "a")
        t.eq(len(doc), 2, "two requests listed")
        r = doc[0]
        t.eq(sorted(r), ["created_at", "end_time", "query", "request_id", "start_time", "status"],
             "a request's fields")
        t.eq((r["query"], r["start_time"], r["end_time"], r["status"]),
             ('{app="a"} |= "x"', 1700000000, 1700000100, "received"), "the first request")
        t.check(len(r["request_id"]) == 8 and int(r["request_id"], 16) >= 0, "an 8-hex-digit id")
        t.check(abs(r["created_at"] - time.time()) < 60, "created_at is now, in seconds")
        t.check(doc[1]["query"] == '{app="b"}' and abs(doc[1]["end_time"] - time.time()) < 60,
                "the second request, ending now")
        t.eq(listing(srv, "b"), [], "another tenant lists none of them")
        t.eq(delete(srv, "b", "DELETE", request_id=r["request_id"]),
             (404, "could not find delete request with given id\n"), "another tenant cannot cancel")
        t.eq(delete(srv, "a", "DELETE", request_id="00000000"),
             (404, "could not find delete request with given id\n"), "cancel an unknown id")
        t.eq(delete(srv, "a", "DELETE", request_id=r["request_id"]), (204, ""), "cancel")
        t.eq([x["query"] for x in listing(srv, "a")], ['{app="b"}'], "the cancelled one is gone")
        st, body, _ = srv.request("GET", "/loki/api/v1/delete")
        t.eq(st, 401, "no tenant: 401")
    c, limits = cfg(deletion_mode="disabled")
    with Lokic(config=c, limits=limits) as srv:
        t.eq(delete(srv, "a", query='{app="a"}', start="1700000000"),
             (403, "deletion is not available for this tenant\n"), "deletion_mode disabled: 403")
    with Lokic(config={"auth_enabled": True}, limits=LOKI29) as srv:
        t.eq(delete(srv, "a", query='{app="a"}', start="1700000000"), (404, "404 page not found\n"),
             "retention off: no route")


def vanish_at_once(t):
    # a day-long cancel period: only query-time filtering here
    c, limits = cfg(ingester={"chunk_idle_period": "1h", "chunk_retain_period": "0s"})
    base = time.time_ns() - 1800 * S
    with Lokic(config=c, limits=limits) as srv:
        for tenant in ("a", "b"):
            push(srv, tenant, [dataset(base, "x", 20), dataset(base, "y", 20)])
        st, _, _ = srv.post("/flush", b"")
        t.eq(st, 204, "flush")
        t.check(flushed(srv, 4), "chunks flushed")
        # more lines, these only in memory
        for tenant in ("a", "b"):
            push(srv, tenant, [dataset(base + 100 * S, "x", 20)])
        end = base + 200 * S
        all_x = lines(srv, "a", '{app="x"}', base, end)
        t.eq(len(all_x), 40, "40 lines before the delete")
        st, body = delete(srv, "a", query='{app="x"} |= "drop"', start=str(base // S),
                          end=str(int(time.time())))
        t.eq((st, body), (204, ""), "POST")
        want = sorted(l for l in all_x if l.startswith("keep"))
        t.eq(lines(srv, "a", '{app="x"}', base, end), want, "deleted lines gone at once (disk and memory)")
        t.eq(count(srv, "a", '{app="x"}', base, end), 20, "metric queries do not count them")
        t.eq(len(lines(srv, "a", '{app="y"}', base, end)), 20, "another stream untouched")
        t.eq(len(lines(srv, "b", '{app="x"}', base, end)), 40, "another tenant untouched")
        t.eq(count(srv, "b", '{app="x"}', base, end), 40, "another tenant's counts untouched")
        srv.stop()
        srv.start()
        t.eq(len(listing(srv, "a")), 1, "the request survives a restart")
        t.eq(lines(srv, "a", '{app="x"}', base, end), want, "still hidden after a restart")
        rid = listing(srv, "a")[0]["request_id"]
        t.eq(delete(srv, "a", "DELETE", request_id=rid), (204, ""), "cancel")
        t.eq(len(lines(srv, "a", '{app="x"}', base, end)), 40, "a cancelled request hides nothing")


def chunk_files(srv, tenant):
    return sorted(glob.glob(os.path.join(srv.tmp, "data", "chunks", tenant, "*", "*.lkc")))


def compactor_files(t):
    ing = {"chunk_idle_period": "1s", "chunk_retain_period": "0s"}
    c, limits = cfg({"delete_request_cancel_period": "1s"}, ing)
    base = time.time_ns() - 1800 * S
    end = base + 100 * S
    srv = Lokic(config=c, limits=limits)
    try:
        srv.start()
        for tenant in ("a", "b"):
            push(srv, tenant, [dataset(base, "x", 50), dataset(base, "y", 50)])
        t.check(flushed(srv, 4), "chunks flushed")
        before_a, before_b = chunk_files(srv, "a"), chunk_files(srv, "b")
        t.eq(delete(srv, "a", query='{app="x"} |= "drop"', start=str(base // S - 1),
                    end=str(int(time.time())))[0], 204, "POST")
        t.check(wait_for(lambda: listing(srv, "a")[0]["status"] == "processed"),
                "the compactor processed the request")
        after_a = chunk_files(srv, "a")
        t.eq(len(after_a), len(before_a), "one file per chunk still")
        t.eq(len(set(after_a) & set(before_a)), 1, "the x chunk was rewritten, the y chunk kept")
        t.eq(chunk_files(srv, "b"), before_b, "another tenant's files untouched")
        t.eq(delete(srv, "a", "DELETE", request_id=listing(srv, "a")[0]["request_id"]),
             (400, "deletion of request which is in process or already processed is not allowed\n"),
             "a processed request cannot be cancelled")
        srv.stop()
        # deletion off: queries read the files as they are
        set_deletion_mode(srv, "disabled")
        srv.start()
        got = lines(srv, "a", '{app="x"}', base, end)
        same_lines(t, got, sorted("keep %d" % i for i in range(0, 50, 2)),
                   "the rewritten chunk lost the deleted lines and kept the others")
        t.eq(len(lines(srv, "a", '{app="y"}', base, end)), 50, "the other stream's chunk intact")
        t.eq(len(lines(srv, "b", '{app="x"}', base, end)), 50, "another tenant's lines intact")
    finally:
        srv.__exit__(None, None, None)


def set_deletion_mode(srv, mode):
    with open(srv.config_path) as f:
        text = f.read()
    if "deletion_mode:" in text:
        text = re.sub(r"deletion_mode: \S+", "deletion_mode: " + mode, text)
    else:
        text = text.replace("limits_config:\n", "limits_config:\n  deletion_mode: %s\n" % mode, 1)
    with open(srv.config_path, "w") as f:
        f.write(text)


def kill_during_processing(t):
    """Many chunks, killed with SIGKILL at several moments while the
    compactor works: each restart finds every kept line exactly once."""
    ing = {"chunk_idle_period": "1s", "chunk_retain_period": "0s", "max_chunk_age": "2h",
           "chunk_block_size": 1024, "chunk_target_size": 2048}
    c, limits = cfg({"delete_request_cancel_period": "1s"}, ing)
    base = time.time_ns() - 1800 * S
    end = base + 1000 * S
    srv = Lokic(config=c, limits=limits)
    try:
        srv.start()
        streams = [('{app="k%d"}' % k, [(base + i * S, ("drop %d %s" if i % 3 == 0 else "keep %d %s")
                                          % (i, "x" * 40)) for i in range(400)]) for k in range(8)]
        push(srv, "a", streams)
        t.check(flushed(srv, 8), "chunks flushed")
        keep = sorted(l for _, es in streams for _, l in es if l.startswith("keep"))
        t.eq(delete(srv, "a", query='{app=~"k.*"} |= "drop"', start=str(base // S - 1),
                    end=str(int(time.time())))[0], 204, "POST")
        for delay in (1.0, 1.05, 1.1, 1.2, 1.4):
            time.sleep(delay)
            srv.stop(sig=signal.SIGKILL, expect_code=None)
            srv.start()
        t.check(wait_for(lambda: listing(srv, "a")[0]["status"] == "processed"),
                "processed after the crashes")
        same_lines(t, lines(srv, "a", '{app=~"k.*"}', base, end), keep, "every kept line, once")
        srv.stop()
        set_deletion_mode(srv, "disabled")
        srv.start()
        same_lines(t, lines(srv, "a", '{app=~"k.*"}', base, end), keep,
                   "unfiltered: the deleted lines are gone from the files, the others all there")
    finally:
        srv.__exit__(None, None, None)


def same_lines(t, got, want, what):
    """eq for long lists of lines: says what differs, not all of it."""
    extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
    t.check(got == want, "%s: %d lines, want %d; unexpected %r, missing %r" %
            (what, len(got), len(want), extra[:5], missing[:5]))


def main():
    t = Result()
    shapes_and_errors(t)
    vanish_at_once(t)
    compactor_files(t)
    kill_during_processing(t)
    t.done()


if __name__ == "__main__":
    main()
