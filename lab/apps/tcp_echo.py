"""tcp-echo-server: the same TCP echo service written three ways, to compare.

--impl thread         a thread per client, each in a blocking recv/sendall loop (simple;
                      a thread's stack per client)
--impl socketserver   the standard library's ThreadingTCPServer doing the same for you
--impl selectors      one thread, non-blocking sockets, a selector says who is ready
                      (what a busy server does; every client's unsent bytes are buffered)

Echo needs no framing: bytes come back exactly as they went, however TCP splits them.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
from typing import Any

from lab.apps import common

CHUNK = 65536


def echo_blocking(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(CHUNK):
            conn.sendall(data)


def serve_thread(listener: socket.socket, out: common.Output) -> None:
    while True:
        conn, peer = listener.accept()
        out.event("connected", f"{common.endpoint(peer)} connected", peer=common.shown(peer))
        threading.Thread(target=_guarded, args=(conn,), daemon=True).start()


def _guarded(conn: socket.socket) -> None:
    try:
        echo_blocking(conn)
    except OSError:
        pass  # the client reset: its thread ends, the others carry on


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(CHUNK):
                self.request.sendall(data)
        except OSError:
            pass


class ThreadingServer(socketserver.ThreadingTCPServer):
    """The standard library's thread-per-client TCP server, on a socket common.tcp_listen made:
    IPv4 or IPv6 as asked, and a failure to bind is one clear line, as in every other server."""
    daemon_threads = True

    def __init__(self, listener: socket.socket, handler: type[socketserver.BaseRequestHandler],
                 out: common.Output) -> None:
        self.out = out
        super().__init__(common.shown(listener.getsockname()), handler, bind_and_activate=False)
        self.socket.close()  # the AF_INET one socketserver made: ours is already listening
        self.socket, self.address_family = listener, listener.family


class _ThreadingEcho(ThreadingServer):
    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.out.event("connected", f"{common.endpoint(client_address)} connected",
                       peer=common.shown(client_address))
        return True


def serve_selectors(listener: socket.socket, out: common.Output) -> None:
    sel = selectors.DefaultSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    pending: dict[socket.socket, bytearray] = {}
    try:
        while True:
            for key, mask in sel.select():
                if key.data is None:
                    conn, peer = listener.accept()
                    conn.setblocking(False)
                    pending[conn] = bytearray()
                    sel.register(conn, selectors.EVENT_READ, "client")
                    out.event("connected", f"{common.endpoint(peer)} connected", peer=common.shown(peer))
                    continue
                conn = key.fileobj  # type: ignore[assignment]
                buf = pending[conn]
                try:
                    if mask & selectors.EVENT_READ:
                        data = conn.recv(CHUNK)
                        if not data:
                            raise ConnectionResetError
                        buf += data
                    if buf:
                        del buf[:conn.send(buf)]
                except BlockingIOError:
                    pass
                except OSError:
                    sel.unregister(conn)
                    conn.close()
                    del pending[conn]
                    continue
                # Stop reading while we owe the client bytes: it must read before it sends more.
                want = selectors.EVENT_WRITE if buf else selectors.EVENT_READ
                if key.events != want:
                    sel.modify(conn, want, "client")
    finally:
        for conn in pending:
            conn.close()
        sel.close()


def main(argv: list[str] | None = None) -> int:
    p = common.parser("tcp-echo-server", "TCP echo: every byte back to its sender")
    p.add_argument("--port", type=common.port, required=True)
    p.add_argument("--bind", default="", metavar="ADDR")
    p.add_argument("--impl", choices=("thread", "socketserver", "selectors"), default="thread")
    common.family_options(p, socket.AF_INET)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve() -> int:
        with common.tcp_listen(args.bind, args.port, family=args.family) as listener:
            local = common.shown(listener.getsockname())
            out.event("listening", f"echo ({args.impl}) on tcp {common.endpoint(local)}", local=local)
            if args.impl == "socketserver":
                with _ThreadingEcho(listener, _EchoHandler, out) as server:
                    server.serve_forever()
            else:
                (serve_thread if args.impl == "thread" else serve_selectors)(listener, out)
        return 0

    return common.run(serve, out, "tcp-echo-server")
