"""udp-recv: bind a UDP port and print every datagram with its source address and port.

The tutorial's receiver (``recvfrom(1024)``), with what it lacked: a bound address you can
choose, an end (--count, --timeout of silence), full-size reads (a 1024-byte read silently
truncates a longer datagram), and bytes that do not decode shown instead of crashing.

A socket is of one family: IPv4 by default, ``-6`` for IPv6 (or an IPv6 --bind). Each datagram's
TTL (IPv4) or hop limit (IPv6) is read with recvmsg (IP_RECVTTL, IPV6_RECVHOPLIMIT): 64 less
the routers it crossed, in --json always, in prose with --hops.
"""

from __future__ import annotations

import argparse
import socket
import struct

from lab.apps import common

IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)  # Linux's values, for a Python that lacks them
IP_TTL = getattr(socket, "IP_TTL", 2)


def build_parser(prog: str = "udp-recv", description: str = __doc__.splitlines()[0]) -> argparse.ArgumentParser:
    p = common.parser(prog, description)
    p.add_argument("--port", type=common.port, required=True, help="UDP port to bind")
    p.add_argument("--bind", default="", metavar="ADDR",
                   help="local address to bind (default: every address of this host)")
    p.add_argument("--count", type=int, default=0, metavar="N", help="exit after N datagrams")
    p.add_argument("--timeout", type=float, default=0, metavar="S",
                   help="exit after S seconds without a datagram")
    p.add_argument("--hops", action="store_true", help="show each datagram's TTL (IPv4) or hop limit (IPv6)")
    common.family_options(p, socket.AF_INET)
    return p


def ask_hops(sock: socket.socket) -> str:
    """Have the kernel hand each datagram's TTL or hop limit over with it; its name."""
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        return "hop_limit"
    sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    return "ttl"


def hops_left(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    """The TTL or hop limit among recvmsg's ancillary data (an int in host order), if any."""
    for level, kind, data in ancillary:
        if (level, kind) in ((socket.IPPROTO_IP, IP_TTL), (socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT)):
            return int(struct.unpack("=i", data[:4])[0])
    return None


def receive(args: common.argparse.Namespace, out: common.Output) -> int:
    with common.udp_socket(args.bind, args.port, args.family) as sock:
        local = common.shown(sock.getsockname())
        hops = ask_hops(sock)
        room = socket.CMSG_SPACE(4)
        out.event("listening", f"listening on udp {common.endpoint(local)}", local=local)
        sock.settimeout(args.timeout or None)
        received = 0
        while not args.count or received < args.count:
            try:
                data, ancillary, _flags, sender = sock.recvmsg(common.MAX_DATAGRAM, room)
            except TimeoutError:
                out.event("timeout", f"no datagram for {args.timeout:g}s; received {received}",
                          local=local, received=received)
                break
            received += 1
            peer, left = common.shown(sender), hops_left(ancillary)
            said = f", {hops.replace('_', ' ')} {left}" if args.hops and left is not None else ""
            out.event("received", f"from {common.endpoint(peer)} ({len(data)} bytes{said}): {out.decode(data)}",
                      local=local, peer=peer, data=data, **{hops: left})
    return 0


def main(argv: list[str] | None = None, prog: str = "udp-recv", description: str | None = None) -> int:
    args = build_parser(prog, description or __doc__.splitlines()[0]).parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: receive(args, out), out, prog)
