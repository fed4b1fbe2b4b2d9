"""udp-echo-server and udp-echo-client: every datagram goes back to its sender unchanged.

The client sends each stdin line until ``exit`` or EOF and prints the reply. UDP may lose
either datagram, so the client waits --timeout seconds, resends up to --retries times, and
then reports the reply as missing instead of hanging (exit status 3 if any was missing).
Replies from any address but the server's are ignored.
"""

from __future__ import annotations

import socket

from lab.apps import common, udp_send

EXIT_MISSING_REPLY = 3


def main_udp_echo_server(argv: list[str] | None = None) -> int:
    p = common.parser("udp-echo-server", "return every UDP datagram to its sender")
    p.add_argument("--port", type=common.port, required=True, help="UDP port to serve")
    p.add_argument("--bind", default="", metavar="ADDR", help="local address (default: all)")
    p.add_argument("--quiet", action="store_true", help="no line per datagram (for benchmarks)")
    common.family_options(p, socket.AF_INET)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve() -> int:
        with common.udp_socket(args.bind, args.port, args.family) as sock:
            local = common.shown(sock.getsockname())
            out.event("listening", f"echo server on udp {common.endpoint(local)}", local=local)
            while True:
                data, sender = sock.recvfrom(common.MAX_DATAGRAM)
                peer = common.shown(sender)
                try:
                    sock.sendto(data, sender)
                except OSError as exc:  # a peer we cannot answer must not stop the service
                    out.event("error", f"cannot answer {common.endpoint(peer)}: {exc.strerror}",
                              local=local, peer=peer, message=str(exc.strerror))
                    continue
                if not args.quiet:
                    out.event("echoed", f"echoed {len(data)} bytes to {common.endpoint(peer)}: {out.decode(data)}",
                              local=local, peer=peer, data=data)

    return common.run(serve, out, "udp-echo-server")


def main_udp_echo_client(argv: list[str] | None = None) -> int:
    p = common.parser("udp-echo-client", "send stdin lines to a UDP echo server, print its replies")
    p.add_argument("host", help="echo server host name, IPv4 or IPv6 address")
    p.add_argument("port", type=common.port, help="echo server UDP port")
    p.add_argument("--timeout", type=float, default=1.0, metavar="S", help="seconds to wait for a reply")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="resends before giving up on a reply")
    p.add_argument("--bind", type=common.port, default=None, metavar="PORT", help="fixed local port")
    common.family_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def talk() -> int:
        server = common.resolve(args.host, args.port, args.family)
        missing = 0
        with udp_send.open_socket(args.bind, common.family_of(server[0])) as sock:
            sock.settimeout(args.timeout)
            for line in common.stdin_lines():
                if line == "exit":
                    break
                data = line.encode(args.encoding, errors="replace")
                if exchange(sock, server, data, args.retries, out) is None:
                    missing += 1
        return EXIT_MISSING_REPLY if missing else 0

    return common.run(talk, out, "udp-echo-client")


def exchange(sock: socket.socket, server: common.Address, data: bytes, retries: int,
             out: common.Output) -> bytes | None:
    """Send ``data`` and return the server's reply, resending on timeout; None if none came."""
    for attempt in range(retries + 1):
        try:
            sock.sendto(data, common.sockaddr(server))
        except OSError as exc:
            if not common.refused(exc, out, server, data):
                raise common.os_error(exc, server) from None
        local = udp_send.source_address(server, sock)
        out.event("sent", f"sent {len(data)} bytes to {common.endpoint(server)}" +
                  (f" (retry {attempt})" if attempt else ""), local=local, peer=server, data=data, attempt=attempt)
        while True:
            try:
                reply, sender = sock.recvfrom(common.MAX_DATAGRAM)
            except TimeoutError:
                break
            except ConnectionRefusedError:
                out.event("refused", f"{common.endpoint(server)} is not listening (ICMP port unreachable)",
                          local=local, peer=server)
                break
            peer = common.shown(sender)
            if peer != server:
                out.event("ignored", f"ignored {len(reply)} bytes from {common.endpoint(peer)} (not the server)",
                          local=local, peer=peer, data=reply)
                continue
            out.event("reply", f"reply: {out.decode(reply)}", local=local, peer=peer, data=reply)
            return reply
    out.event("missing", f"no reply after {retries + 1} attempt(s)", local=None, peer=server, data=data)
    return None
