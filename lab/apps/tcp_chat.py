"""tcp-server and tcp-client: the tutorial's one-to-one TCP chat, framed and full duplex.

The server accepts one client; from then on both sides are the same: a receiving thread
prints each line the other side sends, the main thread sends each stdin line. ``bye``
from either side ends the conversation cleanly: the side that says it sends it and closes
its half at once (FIN); the other side waits for that FIN, then closes too, so the one who
said bye is always the one who closed first (and keeps TIME_WAIT). EOF counts as ``bye``.
"""

from __future__ import annotations

import signal
import socket
import threading

from lab.apps import common
from lab.proto.framing import FrameTooLong, LineFramer, frame
from lab.proto.groupchat import BYE


class Conversation:
    def __init__(self, sock: socket.socket, out: common.Output, encoding: str) -> None:
        self.sock, self.out, self.encoding = sock, out, encoding
        self.local = common.shown(sock.getsockname())
        self.peer = common.shown(sock.getpeername())
        self.we_said_bye = threading.Event()
        self.they_said_bye = False

    def receive(self) -> None:
        framer = LineFramer(max_len=1 << 16)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                for line in framer.feed(data):
                    self.out.event("received", f">>({self.peer[0]}, {self.peer[1]}): {self.out.decode(line)}",
                                   local=self.local, peer=self.peer, data=line)
                    if line.strip() == BYE.encode() and not self.they_said_bye:
                        self.they_said_bye = True
                        self.sock.settimeout(5)  # now wait for their FIN, but not forever
        except (OSError, FrameTooLong):
            pass
        if not self.we_said_bye.is_set():
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # wake stdin reader

    def run(self) -> int:
        receiver = threading.Thread(target=self.receive, name="receive", daemon=True)
        receiver.start()
        try:
            for line in common.stdin_lines():
                if line.strip() == BYE:
                    break
                self.send(line)
            self.say_bye()  # `bye` typed, or EOF
        except KeyboardInterrupt:
            if not self.they_said_bye:
                self.say_bye()  # Ctrl-C: still say goodbye
        self.we_said_bye.set()
        self.close_our_half()
        receiver.join(timeout=6)
        reason = "they said bye" if self.they_said_bye else "we said bye"
        self.out.event("closed", f"conversation over: {reason}", local=self.local, peer=self.peer, reason=reason)
        return 0

    def say_bye(self) -> None:
        self.we_said_bye.set()
        self.send(BYE)
        self.close_our_half()

    def close_our_half(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def send(self, line: str) -> None:
        data = line.encode(self.encoding, errors="replace")
        try:
            self.sock.sendall(frame(data))
        except OSError as exc:
            raise common.AppError(f"lost the connection to {common.endpoint(self.peer)}: "
                                      f"{exc.strerror or exc}") from None
        self.out.event("sent", f"<<{line}", local=self.local, peer=self.peer, data=data)


def main_tcp_server(argv: list[str] | None = None) -> int:
    p = common.parser("tcp-server", "one-to-one TCP chat: wait for one client, then chat until bye")
    p.add_argument("--port", type=common.port, required=True)
    p.add_argument("--bind", default="", metavar="ADDR")
    common.family_options(p, socket.AF_INET)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve() -> int:
        with common.tcp_listen(args.bind, args.port, backlog=1, family=args.family) as listener:
            local = common.shown(listener.getsockname())
            out.event("listening", f"waiting on tcp {common.endpoint(local)}", local=local)
            conn, peer = listener.accept()
        with conn:
            out.event("connected", f"{common.endpoint(peer)} connected", local=common.shown(conn.getsockname()),
                      peer=common.shown(peer))
            return Conversation(conn, out, args.encoding).run()

    return common.run(serve, out, "tcp-server")


def main_tcp_client(argv: list[str] | None = None) -> int:
    p = common.parser("tcp-client", "one-to-one TCP chat: connect, then chat until bye")
    p.add_argument("host")
    p.add_argument("port", type=common.port)
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="connect timeout")
    common.family_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def talk() -> int:
        sock, _, _ = common.tcp_connect(args.host, args.port, args.timeout, out, args.family)
        with sock:
            return Conversation(sock, out, args.encoding).run()

    return common.run(talk, out, "tcp-client")
