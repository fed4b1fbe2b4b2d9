"""udp-send: send each stdin line (or --message) as one UDP datagram to HOST PORT.

Without --bind the OS picks the source port, a different one on every run (the lesson of
ports); with --bind it stays fixed. With --reply the program waits for one answer per
datagram, up to --timeout seconds, instead of hanging forever.
"""

from __future__ import annotations

import argparse
import errno
import socket
from collections.abc import Iterable

from lab.apps import common


def add_send_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--message", metavar="TEXT", help="send TEXT once instead of reading stdin")
    p.add_argument("--bind", type=common.port, default=None, metavar="PORT",
                   help="use this fixed local port instead of one the OS picks")
    p.add_argument("--count", type=int, default=1, metavar="N", help="send --message N times")


def build_parser() -> argparse.ArgumentParser:
    p = common.parser("udp-send", __doc__.splitlines()[0])
    p.add_argument("host", help="destination host name, IPv4 or IPv6 address (ff02::1%%eth0: every node of a link)")
    p.add_argument("port", type=common.port, help="destination UDP port")
    common.family_options(p)
    add_send_options(p)
    p.add_argument("--reply", action="store_true", help="wait for one reply per datagram")
    p.add_argument("--timeout", type=float, default=2.0, metavar="S", help="reply timeout (default 2)")
    return p


def source_address(dest: common.Address, sock: socket.socket) -> common.Address:
    """The (ip, port) this socket's datagrams to ``dest`` leave from.

    sendto() on an unconnected socket leaves getsockname() at 0.0.0.0; asking the routing
    table with a connected probe socket (which sends nothing) gives the real source IP.
    """
    port = sock.getsockname()[1]
    if dest[0] == "<broadcast>":
        dest = ("255.255.255.255", dest[1])
    with socket.socket(common.family_of(dest[0]), socket.SOCK_DGRAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        try:
            probe.connect(common.sockaddr(dest))
            return common.shown(probe.getsockname())[0], port
        except OSError:
            return ("::" if probe.family == socket.AF_INET6 else "0.0.0.0"), port


def messages(args: argparse.Namespace) -> Iterable[str]:
    if args.message is not None:
        return [args.message] * args.count
    return common.stdin_lines()


def send_all(sock: socket.socket, dest: common.Address, lines: Iterable[str], out: common.Output,
             reply_timeout: float | None = None) -> int:
    """Send each line as one datagram; with ``reply_timeout`` wait for a reply to each."""
    local: common.Address | None = None
    if sock.getsockname()[1]:
        local = source_address(dest, sock)
    for line in lines:
        data = line.encode(out.encoding, errors="replace")
        try:
            sock.sendto(data, common.sockaddr(dest))
        except OSError as exc:
            if exc.errno == errno.EACCES and _is_broadcast(dest[0]):
                raise common.AppError(
                    f"sending to broadcast address {dest[0]} needs SO_BROADCAST "
                    "(setsockopt(SOL_SOCKET, SO_BROADCAST, 1)); the kernel refused") from None
            if common.refused(exc, out, dest, data):
                continue
            raise common.os_error(exc, dest) from None
        if local is None:  # the OS bound the socket on the first send
            local = source_address(dest, sock)
        out.event("sent", f"sent {len(data)} bytes from {common.endpoint(local)} to {common.endpoint(dest)}",
                  local=local, peer=dest, data=data)
        if reply_timeout is not None:
            sock.settimeout(reply_timeout)
            try:
                answer, peer = sock.recvfrom(65535)
            except TimeoutError:
                out.event("timeout", f"no reply within {reply_timeout:g}s", local=local, peer=dest)
                continue
            except ConnectionRefusedError:
                out.event("refused", f"{common.endpoint(dest)}: port unreachable (nothing listens)",
                          local=local, peer=dest)
                continue
            peer = common.shown(peer)
            out.event("reply", f"reply from {common.endpoint(peer)}: {out.decode(answer)}",
                      local=local, peer=peer, data=answer)
    return 0


def _is_broadcast(host: str) -> bool:
    return host in ("<broadcast>", "255.255.255.255") or host.endswith(".255")


def open_socket(bind_port: int | None, family: int = socket.AF_INET) -> socket.socket:
    """A UDP socket of the destination's family (AF_INET or AF_INET6), on ``bind_port`` if given."""
    if bind_port is None:
        return socket.socket(family, socket.SOCK_DGRAM)
    return common.udp_socket("", bind_port, family)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def body() -> int:
        dest = common.resolve(args.host, args.port, args.family)
        with open_socket(args.bind, common.family_of(dest[0])) as sock:
            return send_all(sock, dest, messages(args), out, args.timeout if args.reply else None)

    return common.run(body, out, "udp-send")
