#!/usr/bin/env python3
"""Black-box: the HTTP server's limits (issue 9 item 1).

1. Tenant ids and header bytes. A NUL in X-Scope-OrgID acted as another
   tenant: "victimA<NUL>evil" pushed as, and read, tenant victimA (204 and
   200). Every byte of a header is now checked as Go's net/http checks it
   (400 "invalid header value"), and the tenant by dskit's rules and
   messages: "." and "..", too long, several tenants, a trailing space
   trimmed (Loki accepts "victimA "; lokic refused it). A "%00" in a query
   parameter is part of the value instead of ending it.
"""
import socket
import time

from harness import Lokic, Result
import wire

S = 10**9


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


def main():
    t = Result()
    test_tenants(t)
    t.done()


if __name__ == "__main__":
    main()
