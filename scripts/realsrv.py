#!/usr/bin/python3
"""Tiny test server that runs inside each real-server namespace of the xdplb lab.

Standard library only; writes nothing to disk; exits 0 on SIGTERM or SIGINT.

HTTP (dual-stack on [::]:PORT, IPV6_V6ONLY off, HTTP/1.1 keep-alive). Every
response, error pages included, carries the header `X-Real: NAME`.
  GET /                   -> 200 "NAME\n"
  GET /health             -> 200 "ok"   (no newline)
  GET /bytes?n=N[&rate=R] -> 200 with Content-Length N; the body is the
                             pattern below, paced at about R bytes/s
                             (unpaced when rate is absent)
  anything else           -> 404; a bad n or rate -> 400

  Pattern: the byte at offset k of a /bytes body is k % 251 (a prime period, so
  a lost or repeated chunk of any power-of-two size shows up). `pattern(off, n)`
  below produces it, for tests that import this file.

UDP: one socket per --udp-bind address, bound to that address itself (the VIP),
so a reply leaves with the VIP as its source address; every datagram is
answered with "NAME\n". An unconnected wildcard socket would answer from the
real's own address and the client would drop the reply.

Example (inside a real's network namespace):
  realsrv.py --name r1 --http-port 80 --udp-port 9000 \
             --udp-bind 198.18.0.100 --udp-bind fd00:18::100
"""

import argparse
import http.server
import ipaddress
import os
import selectors
import signal
import socket
import sys
import threading
import time
import urllib.parse

PATTERN_PERIOD = 251
_BLOCK = bytes(i % PATTERN_PERIOD for i in range(PATTERN_PERIOD * 256))  # ~64 KiB
MAX_BYTES = 1 << 40  # refuse absurd requests (1 TiB)
CHUNK_MAX = 64 * 1024


def pattern(offset, n):
    """Return the n bytes of the /bytes pattern that start at stream offset `offset`."""
    out = bytearray()
    start = offset % PATTERN_PERIOD
    while len(out) < n:
        take = min(n - len(out), len(_BLOCK) - start)
        out += _BLOCK[start:start + take]
        start = 0
    return bytes(out)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "xdplb-realsrv"

    def version_string(self):
        return self.server_version

    # Set on the subclass made in main(): the real's name.
    real_name = "?"

    def log_message(self, fmt, *args):  # quiet: no per-request lines
        pass

    def end_headers(self):
        # Every response, error pages from send_error() included, names the real.
        self.send_header("X-Real", self.real_name)
        super().end_headers()

    def _reply(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            self._reply(200, (self.real_name + "\n").encode())
        elif url.path == "/health":
            self._reply(200, b"ok")
        elif url.path == "/bytes":
            self._bytes(urllib.parse.parse_qs(url.query))
        else:
            self._reply(404, b"not found\n")

    def _bytes(self, query):
        try:
            n = int(query.get("n", [""])[0])
            rate = float(query["rate"][0]) if "rate" in query else None
            if not 0 <= n <= MAX_BYTES or (rate is not None and not rate > 0):
                raise ValueError
        except (ValueError, IndexError):
            self._reply(400, b"usage: /bytes?n=N[&rate=BYTES_PER_SECOND]\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        # Chunks of about 1/20 s worth of data when paced, so pacing is smooth.
        chunk = CHUNK_MAX if rate is None else max(1, min(CHUNK_MAX, int(rate / 20)))
        start = time.monotonic()
        sent = 0
        try:
            while sent < n:
                take = min(chunk, n - sent)
                self.wfile.write(pattern(sent, take))
                sent += take
                if rate is not None:
                    delay = start + sent / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class DualStackHTTPServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer on an IPv6 socket that also accepts IPv4 (V6ONLY off)."""

    address_family = socket.AF_INET6
    daemon_threads = True
    block_on_close = False  # server_close() must not wait for long transfers
    request_queue_size = 1024  # load tests open many connections at once

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

    def handle_error(self, request, client_address):
        # A client that vanishes mid-request is normal in tests; stay quiet.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def udp_sockets(addrs, port):
    """Bind one UDP socket per address in `addrs` (each must be local)."""
    socks = []
    for a in addrs:
        ip = ipaddress.ip_address(a)
        fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((str(ip), port))
        socks.append(s)
    return socks


def udp_loop(socks, reply, stop):
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            try:
                _, peer = key.fileobj.recvfrom(65535)
                key.fileobj.sendto(reply, peer)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                pass


def close_inherited_fds():
    """Drop descriptors inherited from whoever started us (e.g. a test harness pipe),
    so a backgrounded server never keeps a caller's pipe open."""
    try:
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", required=True, help="the real's name, e.g. r1")
    p.add_argument("--http-bind", default="::", help="HTTP address (default ::, dual-stack)")
    p.add_argument("--http-port", type=int, default=80)
    p.add_argument("--udp-port", type=int, default=9000)
    p.add_argument("--udp-bind", action="append", default=[],
                   help="address for one UDP socket (repeatable); none: no UDP")
    args = p.parse_args()
    close_inherited_fds()

    Handler.real_name = args.name
    httpd = DualStackHTTPServer((args.http_bind, args.http_port), Handler)
    socks = udp_sockets(args.udp_bind, args.udp_port)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    udp = threading.Thread(target=udp_loop, args=(socks, (args.name + "\n").encode(), stop),
                           daemon=True)
    udp.start()
    print(f"realsrv {args.name}: http [{args.http_bind}]:{args.http_port}, "
          f"udp {', '.join(args.udp_bind) or '-'} port {args.udp_port}, pid {os.getpid()}",
          file=sys.stderr, flush=True)

    stop.wait()
    httpd.shutdown()
    httpd.server_close()
    udp.join(timeout=2)
    for s in socks:
        s.close()
    print(f"realsrv {args.name}: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
