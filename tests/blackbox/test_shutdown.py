#!/usr/bin/env python3
"""Black-box: SIGTERM with requests in flight (issue 9 item 8: SIGTERM
closed in-flight pushes without an answer).

1. Pushes with sizeable bodies, all sent when SIGTERM arrives: every one
   is answered 204 (they were cut unanswered: the daemon stopped with them
   still being read or stored), and after a restart every line is there.
2. Pushers that keep pushing through the SIGTERM: each push is answered or
   refused (never answered after the server stopped accepting); every line
   acknowledged with a 204 is there after the restart.
3. An idle kept-alive connection does not hold the shutdown up, and new
   connections are refused once it began.
"""
import http.client
import socket
import threading
import time

from harness import Lokic, Result
import wire

S = 10**9
BIG_PUSHERS = 6
BIG_LINES = 20000  # about 4 MB of JSON each
CONFIG = {"server": {"graceful_shutdown_timeout": "30s"}}
LIMITS = {"ingestion_rate_mb": 10000, "ingestion_burst_size_mb": 10000,
          "max_entries_limit_per_query": 100000}


def post(port, body, timeout=60):
    """(status, None) or (None, the exception), on a new connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/loki/api/v1/push", body, wire.JSON)
        return c.getresponse().status, None
    except OSError as e:
        return None, e
    finally:
        c.close()


def count_by_pusher(srv, at):
    st, doc = srv.get_json("/loki/api/v1/query", {
        "query": 'sum by (pusher) (count_over_time({app="shutdown"}[2h]))',
        "time": str(at)})
    if st != 200:
        raise RuntimeError("count query: %s %r" % (st, doc))
    return {r["metric"]["pusher"]: int(r["value"][1]) for r in doc["data"]["result"]}


def test_in_flight(t):
    now = time.time_ns()
    with Lokic(config=CONFIG, limits=LIMITS) as srv:
        bodies = []
        for p in range(BIG_PUSHERS):
            entries = [(now - 3600 * S + i * 1000, "pusher %d line %06d %s" % (p, i, "x" * 160))
                       for i in range(BIG_LINES)]
            bodies.append(wire.json_body([({"app": "shutdown", "pusher": str(p)}, entries)]))
        sent = threading.Semaphore(0)
        results = [None] * BIG_PUSHERS

        def pusher(i):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            try:
                c.request("POST", "/loki/api/v1/push", bodies[i], wire.JSON)
                sent.release()
                results[i] = c.getresponse().status
            except OSError as e:
                sent.release()
                results[i] = repr(e)
            finally:
                c.close()

        threads = [threading.Thread(target=pusher, args=(i,)) for i in range(BIG_PUSHERS)]
        for th in threads:
            th.start()
        for _ in threads:
            sent.acquire()
        srv.stop()  # SIGTERM: every body is sent, few are answered yet; exit code 0
        for th in threads:
            th.join(60)
        t.eq(results, [204] * BIG_PUSHERS, "every push in flight answered")
        t.check("requests in flight" not in srv.log(), "none left unanswered at the grace's end")

        srv.start()
        counts = count_by_pusher(srv, now)
        t.eq(counts, {str(p): BIG_LINES for p in range(BIG_PUSHERS)},
             "every line after the restart")


def test_pushing_through(t):
    now = time.time_ns()
    with Lokic(config=CONFIG, limits=LIMITS) as srv:
        acked = []  # (pusher, seq) acknowledged with a 204
        outcomes = {}
        stop = threading.Event()
        lock = threading.Lock()

        def pusher(p):
            seq = 0
            while not stop.is_set():
                line = "through %d %06d %s" % (p, seq, "y" * 20000)
                body = wire.json_body([({"app": "through", "pusher": str(p)},
                                        [(now - 3600 * S + p * 10**7 + seq, line)])])
                st, err = post(srv.port, body)
                with lock:
                    key = st if st else type(err).__name__
                    outcomes[key] = outcomes.get(key, 0) + 1
                    if st == 204:
                        acked.append(line)
                if isinstance(err, ConnectionRefusedError):
                    return
                seq += 1

        threads = [threading.Thread(target=pusher, args=(p,)) for p in range(4)]
        for th in threads:
            th.start()
        time.sleep(1.5)
        srv.stop()  # exit code 0
        stop.set()
        for th in threads:
            th.join(60)
        t.check(outcomes.get(204, 0) > 0 and outcomes.get("ConnectionRefusedError", 0) > 0,
                "pushes answered, then refused: %r" % outcomes)
        t.check(set(outcomes) <= {204, "ConnectionRefusedError", "ConnectionResetError"},
                "every push answered or refused: %r" % outcomes)

        srv.start()
        st, doc = srv.get_json("/loki/api/v1/query_range", {
            "query": '{app="through"}', "start": str(now - 2 * 3600 * S), "end": str(now),
            "limit": "100000", "direction": "forward"})
        got = sorted(v[1] for s in doc["data"]["result"] for v in s["values"]) if st == 200 else []
        t.eq(len(got), len(acked), "lines after the restart (204s: %d)" % len(acked))
        t.check(set(acked) <= set(got), "every acknowledged line is there")


def test_idle_connection(t):
    with Lokic(config=CONFIG) as srv:
        k = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        k.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
        t.check(k.recv(4096).startswith(b"HTTP/1.1 200"), "kept-alive request")
        t0 = time.time()
        srv.stop()  # exit code 0
        took = time.time() - t0
        try:
            eof = k.recv(4096) == b""
        except OSError:
            eof = True
        t.check(eof and took < 3, "idle connection closed, stopped after %.2fs" % took)
        refused = False
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()
        except ConnectionRefusedError:
            refused = True
        t.check(refused, "new connections refused")
        k.close()


def main():
    t = Result()
    test_in_flight(t)
    test_pushing_through(t)
    test_idle_connection(t)
    t.done()


if __name__ == "__main__":
    main()
