"""chat-client: join a TCP group chat as NAME; type lines, read everyone else's.

Two threads, as in the tutorial: the main thread sends each stdin line, a receiving thread
prints each line that arrives. Unlike the tutorial, what arrives is framed (a line is one
message, however TCP splits or joins the bytes), ``bye`` (or EOF) leaves cleanly, and a
server that goes away ends the program with a clear message instead of a hang.

``--tutorial`` speaks the tutorial's dialect: no name line, every line sent as
``NAME说:LINE``, and ``NAME说:bye`` to leave.
"""

from __future__ import annotations

import signal
import socket
import threading

from lab.apps import common
from lab.proto.framing import FrameTooLong, LineFramer, frame
from lab.proto.groupchat import BYE

EXIT_SERVER_GONE = 4


class Receiver(threading.Thread):
    def __init__(self, sock: socket.socket, out: common.Output, local: common.Address,
                 peer: common.Address) -> None:
        super().__init__(name="receive", daemon=True)
        self.sock, self.out, self.local, self.peer = sock, out, local, peer
        self.closed_by_server = False
        self.leaving = threading.Event()  # set once we said bye: the close is expected

    def run(self) -> None:
        framer = LineFramer(max_len=1 << 20)
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            try:
                lines = framer.feed(data)
            except FrameTooLong:
                continue
            for line in lines:
                self.out.event("received", self.out.decode(line), local=self.local, peer=self.peer, data=line)
        if not self.leaving.is_set():
            # The main thread may sit in a blocking stdin read: a real SIGINT interrupts it.
            self.closed_by_server = True
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    p = common.parser("chat-client", "join a TCP group chat: stdin lines out, everyone's lines in")
    p.add_argument("host")
    p.add_argument("port", type=common.port)
    p.add_argument("--name", required=True, help="your name in the chat")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="connect timeout")
    p.add_argument("--tutorial", action="store_true", help="no name line; send each line as NAME说:LINE")
    common.family_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def said(line: str) -> bytes:
        return frame((f"{args.name}说:{line}" if args.tutorial else line).encode(args.encoding, errors="replace"))

    def chat() -> int:
        sock, local, server = common.tcp_connect(args.host, args.port, args.timeout, out, args.family)
        with sock:
            receiver = Receiver(sock, out, local, server)
            receiver.start()
            try:
                if not args.tutorial:
                    sock.sendall(frame(args.name.encode(args.encoding)))
                for line in common.stdin_lines():
                    if line.strip() == BYE:
                        break
                    sock.sendall(said(line))
                receiver.leaving.set()  # `bye`, EOF: leave politely
                sock.sendall(said(BYE))
            except KeyboardInterrupt:
                receiver.leaving.set()
                if receiver.closed_by_server:
                    raise common.AppError(f"the server {common.endpoint(server)} closed the connection",
                                              EXIT_SERVER_GONE) from None
                try:
                    sock.sendall(said(BYE))
                except OSError:
                    pass
            except OSError as exc:
                raise common.AppError(f"lost the connection to {common.endpoint(server)}: "
                                          f"{exc.strerror or exc}", EXIT_SERVER_GONE) from None
            # The server closes after `bye`; wait for it so every line before it is printed.
            receiver.join(timeout=5)
            closed = "the server closed the connection"
            if receiver.is_alive():
                closed = "the server did not close the connection within 5 s of bye"
                sock.shutdown(socket.SHUT_RDWR)
                receiver.join()
            out.event("closed", closed, local=local, peer=server, reason=closed)
        return 0

    return common.run(chat, out, "chat-client")
