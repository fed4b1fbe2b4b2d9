"""timestamp-server and timestamp-client: reply ``[<time.ctime()>]<data>`` to every message.

The same service over two transports. UDP: one datagram in, one out. TCP: a byte stream
has no messages, so each message is one line (framing by newline; a line longer than
--max-line is refused rather than buffered forever).
"""

from __future__ import annotations

import argparse
import socket
import socketserver
import threading
import time
from typing import Any

from lab.apps import common, tcp_echo, udp_echo, udp_send

MAX_UDP_PAYLOAD = 65507


def stamp(data: bytes, encoding: str, now: float | None = None) -> bytes:
    return f"[{time.ctime(now)}]".encode(encoding) + data


def server_parser() -> argparse.ArgumentParser:
    p = common.parser("timestamp-server", "reply [time]data to every message (UDP or TCP)")
    p.add_argument("--proto", choices=("udp", "tcp"), default="udp")
    p.add_argument("--port", type=common.port, required=True)
    p.add_argument("--bind", default="", metavar="ADDR", help="local address (default: all)")
    p.add_argument("--max-line", type=int, default=65536, metavar="BYTES", help="TCP: longest message")
    common.family_options(p, socket.AF_INET)
    return p


def main_timestamp_server(argv: list[str] | None = None) -> int:
    args = server_parser().parse_args(argv)
    out = common.Output(args.json, args.encoding)
    body = serve_udp if args.proto == "udp" else serve_tcp
    return common.run(lambda: body(args, out), out, "timestamp-server")


def serve_udp(args: argparse.Namespace, out: common.Output) -> int:
    with common.udp_socket(args.bind, args.port, args.family) as sock:
        local = common.shown(sock.getsockname())
        out.event("listening", f"timestamp server on udp {common.endpoint(local)}", local=local)
        while True:
            data, sender = sock.recvfrom(common.MAX_DATAGRAM)
            peer = common.shown(sender)
            reply = stamp(data, args.encoding)
            if len(reply) > MAX_UDP_PAYLOAD:
                reply = f"ERR {len(data)} bytes leave no room for the timestamp".encode()
            try:
                sock.sendto(reply, sender)
            except OSError as exc:
                out.event("error", f"cannot answer {common.endpoint(peer)}: {exc.strerror}", local=local, peer=peer,
                          message=str(exc.strerror))
                continue
            out.event("replied", f"{common.endpoint(peer)} <- {out.decode(reply[:200])}", local=local, peer=peer,
                      data=reply)


class _LineHandler(socketserver.StreamRequestHandler):
    server: _TimestampTCPServer

    def handle(self) -> None:
        out, peer = self.server.out, common.shown(self.client_address)
        local = common.shown(self.connection.getsockname())
        out.event("connected", f"{common.endpoint(peer)} connected", local=local, peer=peer)
        while True:
            line = self.rfile.readline(self.server.max_line + 1)
            if not line:
                break
            if not line.endswith(b"\n") and len(line) > self.server.max_line:
                self.wfile.write(f"ERR message longer than {self.server.max_line} bytes\n".encode())
                break
            reply = stamp(line.rstrip(b"\r\n"), self.server.encoding) + b"\n"
            self.wfile.write(reply)
            out.event("replied", f"{common.endpoint(peer)} <- {out.decode(reply.rstrip())}", local=local, peer=peer,
                      data=reply)
        out.event("closed", f"{common.endpoint(peer)} closed", local=local, peer=peer)


class _TimestampTCPServer(tcp_echo.ThreadingServer):
    def __init__(self, listener: socket.socket, out: common.Output, encoding: str, max_line: int) -> None:
        self.encoding, self.max_line = encoding, max_line
        super().__init__(listener, _LineHandler, out)

    def handle_error(self, request: Any, client_address: Any) -> None:
        peer = common.shown(client_address)
        self.out.event("error", f"{common.endpoint(peer)}: connection failed", peer=peer)


def serve_tcp(args: argparse.Namespace, out: common.Output) -> int:
    listener = common.tcp_listen(args.bind, args.port, family=args.family)
    with _TimestampTCPServer(listener, out, args.encoding, args.max_line) as server:
        local = common.shown(listener.getsockname())
        out.event("listening", f"timestamp server on tcp {common.endpoint(local)}", local=local)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            thread.join()
        finally:
            server.shutdown()
    return 0


def main_timestamp_client(argv: list[str] | None = None) -> int:
    p = common.parser("timestamp-client", "send stdin lines to a timestamp server, print its replies")
    p.add_argument("--proto", choices=("udp", "tcp"), default="udp")
    p.add_argument("host")
    p.add_argument("port", type=common.port)
    p.add_argument("--timeout", type=float, default=2.0, metavar="S", help="seconds to wait for a reply")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="UDP: resends before giving up")
    common.family_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def talk_udp() -> int:
        server = common.resolve(args.host, args.port, args.family)
        missing = 0
        with udp_send.open_socket(None, common.family_of(server[0])) as sock:
            sock.settimeout(args.timeout)
            for line in common.stdin_lines():
                if udp_echo.exchange(sock, server, line.encode(args.encoding, "replace"), args.retries, out) is None:
                    missing += 1
        return udp_echo.EXIT_MISSING_REPLY if missing else 0

    def talk_tcp() -> int:
        sock, local, server = common.tcp_connect(args.host, args.port, args.timeout, out, args.family)
        sock.settimeout(args.timeout)  # a reply that never comes is reported, not waited on forever
        with sock, sock.makefile("rb") as replies:
            for line in common.stdin_lines():
                data = line.encode(args.encoding, "replace")
                sock.sendall(data + b"\n")
                out.event("sent", f"sent {line}", local=local, peer=server, data=data)
                try:
                    reply = replies.readline()
                except TimeoutError:
                    raise common.AppError(f"no reply within {args.timeout:g}s") from None
                if not reply:
                    raise common.AppError("the server closed the connection")
                reply = reply.rstrip(b"\n")
                out.event("reply", f"reply: {out.decode(reply)}", local=local, peer=server, data=reply)
        return 0

    return common.run(talk_udp if args.proto == "udp" else talk_tcp, out, "timestamp-client")
