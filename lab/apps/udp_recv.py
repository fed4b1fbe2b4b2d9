"""udp-recv: bind a UDP port and print every datagram with its source address and port.

The tutorial's receiver (``recvfrom(1024)``), with what it lacked: a bound address you can
choose, an end (--count, --timeout of silence), full-size reads (a 1024-byte read silently
truncates a longer datagram), and bytes that do not decode shown instead of crashing.
"""

from __future__ import annotations

import argparse

from lab.apps import common


def build_parser(prog: str = "udp-recv", description: str = __doc__.splitlines()[0]) -> argparse.ArgumentParser:
    p = common.parser(prog, description)
    p.add_argument("--port", type=common.port, required=True, help="UDP port to bind")
    p.add_argument("--bind", default="", metavar="ADDR",
                   help="local address to bind (default: every address of this host)")
    p.add_argument("--count", type=int, default=0, metavar="N", help="exit after N datagrams")
    p.add_argument("--timeout", type=float, default=0, metavar="S",
                   help="exit after S seconds without a datagram")
    return p


def receive(args: common.argparse.Namespace, out: common.Output) -> int:
    with common.udp_socket(args.bind, args.port) as sock:
        local = sock.getsockname()
        out.event("listening", f"listening on udp {local[0]}:{local[1]}", local=local)
        sock.settimeout(args.timeout or None)
        received = 0
        while not args.count or received < args.count:
            try:
                data, peer = sock.recvfrom(common.MAX_DATAGRAM)
            except TimeoutError:
                out.event("timeout", f"no datagram for {args.timeout:g}s; received {received}",
                          local=local, received=received)
                break
            received += 1
            out.event("received", f"from {peer[0]}:{peer[1]} ({len(data)} bytes): {out.decode(data)}",
                      local=local, peer=peer, data=data)
    return 0


def main(argv: list[str] | None = None, prog: str = "udp-recv", description: str | None = None) -> int:
    args = build_parser(prog, description or __doc__.splitlines()[0]).parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: receive(args, out), out, prog)
