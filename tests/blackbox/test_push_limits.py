#!/usr/bin/env python3
"""Black-box: the memory a push may take.

1. Decompression bombs (issue 9, item 5): six gzip and deflate bodies of
   a few hundred KB that inflate to 200 MB, sent at once, each get 413 with
   Loki's message as soon as the output passes
   distributor.max_recv_msg_size (8 MB here), and the server's peak RSS
   grows by far less than what the bombs would inflate to (before: each
   was read up to ten times the limit).
2. The in-flight budget (distributor.max_inflight_bytes, 4 MB here): while
   one request holds 3 MB of body, a second push that would take the
   total past the budget gets 503 with Loki's message (clients retry
   5xx), the first completes, and the budget is whole again afterwards.
"""
import json
import socket
import threading
import time
import zlib

from harness import Lokic, Result
import wire

MB = 1 << 20
S = 10**9


def bomb(size, wbits):
    """size zero bytes compressed (wbits 31: gzip, -15: raw deflate)."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = bytes(MB)
    out = [c.compress(chunk) for _ in range(size // MB)]
    out.append(c.flush())
    return b"".join(out)


def proc_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s" % key)


def json_push(n_lines, line_len, t0):
    vals = [[str(t0 + i), "x" * line_len] for i in range(n_lines)]
    return json.dumps({"streams": [{"stream": {"app": "limits"}, "values": vals}]}).encode()


def test_bombs(t):
    limits = {"distributor": {"max_recv_msg_size": 8 * MB, "max_inflight_bytes": 64 * MB}}
    with Lokic(config=limits) as srv:
        now = time.time_ns()
        st, body, _ = srv.post("/loki/api/v1/push", json_push(10, 100, now - 10 * S), wire.JSON)
        t.eq(st, 204, "a normal push: %r" % body)
        pid = srv.proc.pid
        rss0 = proc_kb(pid, "VmRSS")
        bombs = [(bomb(200 * MB, 31), "gzip"), (bomb(200 * MB, -15), "deflate")] * 3
        t.check(all(len(b) < MB for b, _ in bombs), "each bomb is under 1 MB")
        results = [None] * len(bombs)

        def send(i):
            b, enc = bombs[i]
            t0 = time.time()
            st, msg, _ = srv.post("/loki/api/v1/push", b,
                                  {"Content-Type": "application/json", "Content-Encoding": enc},
                                  timeout=60)
            results[i] = (st, msg, time.time() - t0)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bombs))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        want = (b"request body too large: decompressed message size too large than max "
                b"(8388609 vs 8388608)\n")
        for i, (st, msg, secs) in enumerate(results):
            # 503 when the budget refused it first (six at once may not fit)
            t.check(st == 413 and msg == want or
                    st == 503 and msg == b"The server cannot accept more requests at this time.\n",
                    "bomb %d (%s): %s %r" % (i, bombs[i][1], st, msg))
            t.check(secs < 10, "bomb %d answered in %.1f s" % (i, secs))
        t.check(sum(1 for r in results if r[0] == 413) >= 1, "at least one 413")
        grew_mb = (proc_kb(pid, "VmHWM") - rss0) / 1024
        # before: up to 80 MB inflated per bomb (ten times the limit), 480 MB
        # for six; now at most the 64 MB budget (plus the allocator's and,
        # under ASan, its quarantine's share)
        t.check(grew_mb < 200, "peak RSS grew by %.0f MB" % grew_mb)
        st, body, _ = srv.post("/loki/api/v1/push", json_push(10, 100, now - 5 * S), wire.JSON)
        t.eq(st, 204, "a normal push after the bombs: %r" % body)


def test_budget(t):
    limits = {"distributor": {"max_recv_msg_size": 8 * MB, "max_inflight_bytes": 4 * MB}}
    with Lokic(config=limits, limits={"ingestion_rate_mb": 100, "ingestion_burst_size_mb": 100}) \
            as srv:
        now = time.time_ns()
        first = json_push(3000, 1000, now - 60 * S)  # about 3 MB
        t.check(3 * MB - 100000 < len(first) < 4 * MB, "first body %d bytes" % len(first))
        sock = socket.create_connection(("127.0.0.1", srv.port))
        sock.sendall(b"POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % len(first))
        sock.sendall(first[:-1])  # held by the server, not complete
        time.sleep(1)
        second = json_push(1500, 1000, now - 30 * S)  # 1.5 MB: past 4 MB together
        st, msg, _ = srv.post("/loki/api/v1/push", second, wire.JSON)
        t.eq((st, msg), (503, b"The server cannot accept more requests at this time.\n"),
             "a push past the in-flight budget")
        sock.sendall(first[-1:])
        reply = b""
        while b"\r\n\r\n" not in reply:
            part = sock.recv(4096)
            if not part:
                break
            reply += part
        sock.close()
        t.check(reply.startswith(b"HTTP/1.1 204"), "the first push completes: %r" % reply[:80])
        # alone, a push over the budget is served; then the budget is whole
        st, msg, _ = srv.post("/loki/api/v1/push", json_push(4500, 1000, now - 20 * S),
                              wire.JSON)
        t.eq(st, 204, "a push alone may go past the budget: %r" % msg)
        st, msg, _ = srv.post("/loki/api/v1/push", second, wire.JSON)
        t.eq(st, 204, "the second push, retried: %r" % msg)


def main():
    t = Result()
    test_bombs(t)
    test_budget(t)
    t.done()


if __name__ == "__main__":
    main()
