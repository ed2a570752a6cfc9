#!/usr/bin/env python3
"""Black-box: the HTTP server's limits (issue 9 items 1 and 4).

1. Tenant ids and header bytes. A NUL in X-Scope-OrgID acted as another
   tenant: "victimA<NUL>evil" pushed as, and read, tenant victimA (204 and
   200). Every byte of a header is now checked as Go's net/http checks it
   (400 "invalid header value"), and the tenant by dskit's rules and
   messages: "." and "..", too long, several tenants, a trailing space
   trimmed (Loki accepts "victimA "; lokic refused it). A "%00" in a query
   parameter is part of the value instead of ending it.
2. Slow clients. A few hundred connections trickling their request a byte
   at a time kept their slots (each byte restarted the 30 s timeout) until
   the connection limit locked everyone out. Now one address has at most
   server.http_listen_conn_limit_per_ip connections, each request must be
   read within server.http_server_read_timeout however the bytes trickle
   (headers, and a body at 10 B/s), and a client from another address is
   answered promptly throughout. A live tail outlives every timeout, and a
   kept-alive connection is closed after server.http_server_idle_timeout.
"""
import select
import socket
import time

from harness import Lokic, Result
import wire
from wsclient import WS

S = 10**9
READ_TIMEOUT = 3.0
IDLE_TIMEOUT = 1.5
PER_IP = 50
FLOOD = 200
SLACK = 2.0  # the watchdog's tick, the test's own polling, a loaded machine


def raw(port, data, source="127.0.0.1", timeout=5):
    """Sends data on a new connection; the whole answer until EOF."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def status_body(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 else 0), body


def push_raw(port, headers, body, source="127.0.0.1"):
    req = (b"POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           b"Content-Type: application/json\r\n" + headers +
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return status_body(raw(port, req, source=source))


def query(srv, tenant, selector='{app="t"}'):
    st, doc = srv.get_json("/loki/api/v1/query_range", {"query": selector, "limit": "100"},
                           headers={"X-Scope-OrgID": tenant})
    if st != 200:
        return st, None
    return st, sorted(v[1] for s in doc["data"]["result"] for v in s["values"])


def test_tenants(t):
    now = time.time_ns()
    with Lokic(auth=True) as srv:
        body = wire.json_body([({"app": "t"}, [(now, "victim's line")])])
        st, _ = push_raw(srv.port, b"X-Scope-OrgID: victimA\r\n", body)
        t.eq(st, 204, "push as victimA")

        # the NUL: neither a push nor a query reaches victimA
        evil = wire.json_body([({"app": "t"}, [(now + 1, "evil's line")])])
        st, b = push_raw(srv.port, b"X-Scope-OrgID: victimA\x00evil\r\n", evil)
        t.eq((st, b), (400, b"400 Bad Request: invalid header value"),
             "push with a NUL in X-Scope-OrgID")
        q = (b"GET /loki/api/v1/query_range?query=%7Bapp%3D%22t%22%7D HTTP/1.1\r\nHost: x\r\n"
             b"Connection: close\r\nX-Scope-OrgID: victimA\x00evil\r\n\r\n")
        st, b = status_body(raw(srv.port, q))
        t.check(st == 400 and b"victim's line" not in b,
                "query with a NUL in X-Scope-OrgID: %d %r" % (st, b[:80]))
        # the NUL as the last header, and right before the line end
        for hdr in (b"X-Scope-OrgID: victimA\x00\r\n", b"X-Scope-OrgID: victimA\x01\r\n"):
            st, _ = push_raw(srv.port, hdr, evil)
            t.eq(st, 400, "push with %r" % hdr)
        req = (b"POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nX-Scope-OrgID: victimA\x00evil\r\n\r\n" % len(evil) + evil)
        t.eq(status_body(raw(srv.port, req))[0], 400, "NUL in the last header")
        # any header lokic reads
        st, _ = push_raw(srv.port, b"X-Scope-OrgID: victimA\r\nContent-Encoding: gzip\x00x\r\n",
                         evil)
        t.eq(st, 400, "NUL in Content-Encoding")
        st, _ = push_raw(srv.port, b"X-Scope-OrgID: victimA\r\n folded\r\n", evil)
        t.eq(st, 400, "a folded header")
        t.eq(query(srv, "victimA"), (200, ["victim's line"]), "victimA's data unchanged")

        # dskit's rules and messages
        cases = [
            (b"victimA ", 204, b""),  # Go trims the header value
            (b"\tvictimA\t", 204, b""),
            (b"solo|solo", 204, b""),
            (b"a|b", 400, b"multiple org IDs present\n"),
            (b".", 400, b"tenant ID is '.' or '..'\n"),
            (b"..", 400, b"tenant ID is '.' or '..'\n"),
            (b"x" * 151, 400, b"tenant ID is too long: max 150 characters\n"),
            (b"a b", 400, b"tenant ID 'a b' contains unsupported character ' '\n"),
            (b"", 401, b"no org id\n"),
        ]
        for org, want, msg in cases:
            st, b = push_raw(srv.port, b"X-Scope-OrgID: " + org + b"\r\n",
                             wire.json_body([({"app": "t"}, [(now + 2, "ok")])]))
            t.eq((st, b), (want, msg), "X-Scope-OrgID %r" % org[:20])
        t.eq(query(srv, "victimA"), (200, ["ok", "victim's line"]), "'victimA ' is victimA")
        t.eq(query(srv, "solo"), (200, ["ok"]), "'solo|solo' is solo")

        # a "%00" in a parameter stays in it: the query is not cut short
        st, _, _ = srv.get("/loki/api/v1/query_range",
                           {"query": '{app="t"}\x00 |= "nothing"', "limit": "10"},
                           headers={"X-Scope-OrgID": "victimA"})
        t.eq(st, 400, "a NUL inside the query parameter is a parse error")


def is_closed(s):
    """Did the server close s (EOF or reset)? Non-blocking."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def timed(fn):
    t0 = time.time()
    v = fn()
    return v, time.time() - t0


def test_slow_clients(t):
    cfg = {"server": {"http_server_read_timeout": "%gs" % READ_TIMEOUT,
                      "http_server_idle_timeout": "%gs" % IDLE_TIMEOUT,
                      "http_server_write_timeout": "2s",
                      "http_listen_conn_limit": FLOOD - 50,
                      "http_listen_conn_limit_per_ip": PER_IP}}
    with Lokic(config=cfg) as srv:
        ws = WS(srv.port, {"query": '{app="tail"}', "delay_for": "0"})
        t.check(" 101 " in ws.head, "tail opened: %r" % ws.head[:40])

        # the flood: every connection sends the start of a request
        flood = []
        started = time.time()
        for _ in range(FLOOD):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(b"POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            flood.append(s)
        time.sleep(0.5)
        alive = [s for s in flood if not is_closed(s)]
        # the tail's connection is from this address too
        t.eq(len(alive), PER_IP - 1, "connections kept from one address")

        # another address is answered promptly while the flood trickles on
        other = "127.0.0.2"
        now = time.time_ns()
        body = wire.json_body([({"app": "other"}, [(now, "still served")])])
        (st, _), took = timed(lambda: push_raw(srv.port, b"", body, source=other))
        # (well before the flood is cut at the read deadline: it is not waiting for that)
        t.check(st == 204 and took < READ_TIMEOUT / 2, "push from %s: %s in %.2fs" % (other, st, took))

        # the trickle: a byte per connection every 0.25 s; each is cut at the
        # read deadline counted from its accept
        while alive and time.time() - started < READ_TIMEOUT + 3 * SLACK:
            for s in list(alive):
                try:
                    s.send(b"X")
                except OSError:
                    pass
                if is_closed(s):
                    alive.remove(s)
            time.sleep(0.25)
        cut_after = time.time() - started
        t.eq(len(alive), 0, "trickling connections cut")
        t.check(READ_TIMEOUT - 0.1 <= cut_after <= READ_TIMEOUT + SLACK + 0.5,
                "cut at the read deadline: after %.2fs" % cut_after)
        for s in flood:
            s.close()

        # a body trickled at 10 B/s is cut at the deadline, unanswered
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        t0 = time.time()
        s.sendall(b"POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: 100000\r\n\r\n{")
        s.setblocking(False)
        answer = None
        while time.time() - t0 < READ_TIMEOUT + 3 * SLACK:
            try:
                s.send(b" ")
            except OSError:
                pass
            try:
                b = s.recv(4096)
                answer = b
                break
            except BlockingIOError:
                pass
            except OSError:
                answer = b""
                break
            time.sleep(0.1)
        took = time.time() - t0
        s.close()
        t.check(answer == b"" and READ_TIMEOUT - 0.1 <= took <= READ_TIMEOUT + SLACK,
                "trickled body cut unanswered: %r after %.2fs" % (answer, took))

        # a kept-alive connection: reused while fresh, closed when idle
        k = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        k.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
        first = k.recv(4096)
        time.sleep(IDLE_TIMEOUT / 3)
        k.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
        second = k.recv(4096)
        t.check(first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200"),
                "kept-alive connection reused: %r" % second[:20])
        t0 = time.time()
        k.settimeout(IDLE_TIMEOUT + 3 * SLACK)
        try:
            eof = k.recv(4096) == b""
        except OSError:
            eof = True
        took = time.time() - t0
        k.close()
        t.check(eof and IDLE_TIMEOUT - 0.1 <= took <= IDLE_TIMEOUT + SLACK,
                "idle connection closed after %.2fs" % took)

        # the tail has outlived every timeout and still streams
        st, _, _ = srv.post("/loki/api/v1/push",
                            wire.json_body([({"app": "tail"}, [(time.time_ns(), "late line")])]),
                            wire.JSON)
        msgs, pings = ws.messages(2.5)
        lines = [v[1] for m in msgs for s_ in m["streams"] for v in s_["values"]]
        t.check("late line" in lines and pings >= 1,
                "tail open past the timeouts: %r, %d pings" % (lines, pings))
        ws.close()

        _, metrics, _ = srv.get("/metrics")
        t.check(b'lokic_http_connections_cut_total{reason="read_timeout"} ' in metrics and
                b'lokic_http_connections_cut_total{reason="idle_timeout"} ' in metrics,
                "cut connections counted")


def main():
    t = Result()
    test_tenants(t)
    test_slow_clients(t)
    t.done()


if __name__ == "__main__":
    main()
