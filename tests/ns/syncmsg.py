#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""syncmsg.py - datagrams of `xdplb daemon --sync`, written as an attacker
or a broken peer would, for tests/ns/test_sync.sh (stdlib only).

    syncmsg.py KEYFILE FROM TO CASE[,CASE...]

sends, from FROM (ADDR:PORT, bound) to TO (ADDR:PORT), one datagram per
CASE, each carrying one TCP flow from 198.18.0.200 (the port below) to
198.18.0.100:80 on real 198.18.0.12, unless the case says otherwise:

    valid     well formed, signed with the key, fresh       (port 40001)
    replay    the valid datagram again, byte for byte       (port 40001)
    badmac    signed with another key                       (port 40002)
    old       sent 60 s ago by the sender's clock           (port 40003)
    future    sent 60 s from now                            (port 40004)
    unknown   on real 198.18.0.99, which the receiver lacks (port 40005)
    short     the valid datagram cut by one byte            (port 40006)
    garbage   40 random bytes
    alien     valid, but from FROM's port + 1, not a peer   (port 40007)

The wire format is user/daemon/sync.c's: a 40-byte header (magic "xsyn",
version 1, type, count, sender id, sequence, the sender's time in ms,
request id), 64 bytes per flow (struct xdplb_flow, the real's address and
family, how long the flow has been idle in ms), then HMAC-SHA256 of all
that.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

MAGIC = 0x7873796E
VERSION = 1
MSG_FLOWS = 1
AF_INET = 2  # XDPLB_AF_INET
CLIENT = "198.18.0.200"
VIP = "198.18.0.100"


def addr16(a):
    return socket.inet_aton(a) + bytes(12)


def flow(sport, real="198.18.0.12"):
    f = addr16(CLIENT) + addr16(VIP) + struct.pack("!HHBB2x", sport, 80, 6, AF_INET)
    return f + addr16(real) + struct.pack("!B3xI", AF_INET, 0)


def datagram(key, sender, seq, flows, skew_ms=0):
    now = int(time.time() * 1000) + skew_ms
    h = struct.pack("!IBBHQQQQ", MAGIC, VERSION, MSG_FLOWS, len(flows), sender, seq, now, 0)
    body = h + b"".join(flows)
    return body + hmac.new(key, body, hashlib.sha256).digest()


def endpoint(s):
    a, p = s.rsplit(":", 1)
    return a, int(p)


def main():
    with open(sys.argv[1], "rb") as f:
        key = f.read()
    if key.endswith(b"\n"):
        key = key[:-1]
    src, dst = endpoint(sys.argv[2]), endpoint(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(src)
    alien = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    alien.bind((src[0], src[1] + 1))
    sender = int.from_bytes(os.urandom(8), "big")
    seq = 0
    valid = None
    for case in sys.argv[4].split(","):
        seq += 1
        out = sock
        if case == "valid":
            valid = d = datagram(key, sender, seq, [flow(40001)])
        elif case == "replay":
            d = valid
        elif case == "badmac":
            d = datagram(os.urandom(32), sender, seq, [flow(40002)])
        elif case == "old":
            d = datagram(key, sender, seq, [flow(40003)], -60000)
        elif case == "future":
            d = datagram(key, sender, seq, [flow(40004)], 60000)
        elif case == "unknown":
            d = datagram(key, sender, seq, [flow(40005, "198.18.0.99")])
        elif case == "short":
            d = datagram(key, sender, seq, [flow(40006)])[:-1]
        elif case == "garbage":
            d = os.urandom(40)
        elif case == "alien":
            d, out = datagram(key, sender, seq, [flow(40007)]), alien
        else:
            sys.exit("syncmsg.py: unknown case '%s'" % case)
        out.sendto(d, dst)
        time.sleep(0.02)


if __name__ == "__main__":
    main()
