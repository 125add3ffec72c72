#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Stand-in for the xdplb daemon's liveness interface, for the HA lab and tests.

Creates a NON-persistent TUN device (default name xdplb-up) by holding
/dev/net/tun open, sets it up, and sleeps. The kernel deletes the device when
this process exits for any reason, SIGKILL included: exactly what the daemon
does while healthy, so BIRD (`check link`, ha/bird-lb.conf.in) and keepalived
(ha/xdplb-alive) see the daemon's death without being told.

  liveness-tun.py [--name IFNAME]      run it inside the load balancer's netns

SIGUSR1 sets the device down (unhealthy), SIGUSR2 up again (healthy);
SIGTERM/SIGINT exit 0, which deletes it. Standard library only.
"""

import argparse
import fcntl
import os
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def set_up(name, up):
    """Set IFF_UP on `name` (the ioctls `ip link set` uses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", name.encode(), 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", name.encode(), flags))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", default="xdplb-up", help="interface name (default xdplb-up)")
    args = p.parse_args()
    if not 0 < len(args.name) < 16:
        p.error("interface names are 1..15 characters")

    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    # Not TUNSETPERSIST: the device lives exactly as long as this descriptor.
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.name.encode(), IFF_TUN | IFF_NO_PI))
    set_up(args.name, True)

    signal.signal(signal.SIGUSR1, lambda *_: set_up(args.name, False))
    signal.signal(signal.SIGUSR2, lambda *_: set_up(args.name, True))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print(f"liveness-tun: {args.name} up, pid {os.getpid()}", file=sys.stderr, flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
