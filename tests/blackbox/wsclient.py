"""A minimal WebSocket client for the tail endpoint: the upgrade request,
frames read (text, ping, close) and a masked close frame sent."""
import base64
import hashlib
import json
import os
import socket
import struct
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WS:
    def __init__(self, port, params, headers=None, path="/loki/api/v1/tail"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        path += "?" + urllib.parse.urlencode(params)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, key, "".join("%s: %s\r\n" % kv for kv in (headers or {}).items()))).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.head = head.decode("latin-1")
        self.expected_accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def frame(self):
        b0, b1 = self.read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.read_exact(8))[0]
        return b0 & 0x0F, self.read_exact(n)

    def messages(self, seconds):
        """Text messages (decoded) and the number of pings within seconds."""
        msgs, pings = [], 0
        end = time.time() + seconds
        self.sock.settimeout(0.5)
        while time.time() < end:
            try:
                op, data = self.frame()
            except socket.timeout:
                continue
            if op == 1:
                msgs.append(json.loads(data))
            elif op == 9:
                pings += 1
            elif op == 8:
                break
        self.sock.settimeout(10)
        return msgs, pings

    def close(self):
        mask = os.urandom(4)
        payload = struct.pack(">H", 1000)
        self.sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
