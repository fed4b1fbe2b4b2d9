"""chat-server: the TCP group chat, one thread, many clients (protocol: lab.proto.groupchat).

The tutorial's server kept a list of sockets, a thread per client, and relayed with
``send`` while iterating the list: a vanished client broke the loop, a slow one stalled it.
This one is a single ``selectors`` loop:

- every socket is non-blocking; what a client has not yet read waits in its own buffer,
  and a client whose buffer passes --max-buffer is disconnected ("too slow"), so one client
  that stops reading cannot stall the rest;
- a reset, an EOF, or a half-open peer (its host died: TCP keepalive and TCP_USER_TIMEOUT
  notice) drops that client alone, and the others are told;
- messages are framed (lines); an oversized line ends that connection with an ERR;
- output is written once per loop turn per client, however many messages it got;
- SIGTERM or Ctrl-C closes every client with a goodbye line, then the listening socket.
"""

from __future__ import annotations

import errno
import selectors
import socket
from dataclasses import dataclass, field

from lab.apps import common
from lab.proto.framing import FrameTooLong, LineFramer
from lab.proto.groupchat import Actions, GroupChat

KEEPALIVE = (5, 2, 3)  # idle seconds, interval, probes: a dead peer is noticed in ~11 s
USER_TIMEOUT_MS = 10_000  # unacknowledged data for this long: the peer is gone
SNDBUF = 64 * 1024  # keep the kernel's share small, so --max-buffer really bounds a slow client


@dataclass
class Client:
    id: int
    sock: socket.socket
    addr: common.Address
    framer: LineFramer
    out: bytearray = field(default_factory=bytearray)
    writing: bool = False


class ChatServer:
    def __init__(self, listener: socket.socket, out: common.Output, max_buffer: int, max_line: int,
                 max_clients: int) -> None:
        self.listener = listener
        self.out = out
        self.max_buffer = max_buffer
        self.max_line = max_line
        self.max_clients = max_clients
        self.local = common.shown(listener.getsockname())
        self.sel = selectors.DefaultSelector()
        self.chat = GroupChat()
        self.clients: dict[int, Client] = {}
        self.dirty: set[int] = set()
        self.next_id = 0

    def serve_forever(self) -> None:
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        try:
            while True:
                for key, mask in self.sel.select(timeout=1.0):
                    if key.data is None:
                        self.accept()
                        continue
                    client = key.data
                    if mask & selectors.EVENT_READ and client.id in self.clients:
                        self.read(client)
                    if mask & selectors.EVENT_WRITE and client.id in self.clients:
                        self.dirty.add(client.id)
                self.flush()
        finally:
            self.shutdown()

    def accept(self) -> None:
        for _ in range(64):  # accept a burst, but let the others have a turn too
            try:
                sock, addr = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # EMFILE and friends: refuse this one, keep serving
                self.out.event("error", f"accept failed: {exc.strerror}", local=self.local, message=str(exc))
                return
            if len(self.clients) >= self.max_clients:
                sock.sendall(b"ERR server full\n")
                sock.close()
                continue
            tune(sock)
            addr = common.shown(addr)
            client = Client(self.next_id, sock, addr, LineFramer(self.max_line))
            self.next_id += 1
            self.clients[client.id] = client
            self.sel.register(sock, selectors.EVENT_READ, client)
            self.chat.connect(client.id)
            self.out.event("connected", f"{common.endpoint(addr)} connected ({len(self.clients)} clients)",
                           local=self.local, peer=addr, clients=len(self.clients))

    def read(self, client: Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self.drop(client, reason(exc))
            return
        if not data:
            self.drop(client, "disconnected")
            return
        try:
            lines = client.framer.feed(data)
        except FrameTooLong as exc:
            client.out += f"ERR {exc}; closing\n".encode()
            self.drop(client, "sent an oversized message")
            return
        for line in lines:
            self.apply(self.chat.line(client.id, line))
            if client.id not in self.clients:
                return

    def apply(self, act: Actions) -> None:
        clients = self.clients
        for cid, data in act.send:
            target = clients.get(cid)
            if target is not None:
                target.out += data
                self.dirty.add(cid)
        for cid, why in act.close:
            if cid in clients:
                self.drop(clients[cid], why)

    def flush(self) -> None:
        while self.dirty:
            dirty, self.dirty = self.dirty, set()
            for cid in dirty:
                client = self.clients.get(cid)
                if client is not None:
                    self.write(client)

    def write(self, client: Client) -> None:
        if client.out:
            try:
                sent = client.sock.send(client.out)
                del client.out[:sent]
            except BlockingIOError:
                pass
            except OSError as exc:
                self.drop(client, reason(exc))
                return
        if len(client.out) > self.max_buffer:
            self.drop(client, f"too slow: {len(client.out)} bytes unread")
            return
        client.writing = common.want_write(self.sel, client.sock, client, client.writing, bool(client.out))

    def drop(self, client: Client, why: str, goodbye: bytes = b"") -> None:
        if self.clients.pop(client.id, None) is None:
            return
        self.sel.unregister(client.sock)
        # A last word, only if the socket takes it at once: a slow client gets just the reason.
        last = f"ERR disconnected: {why}\n".encode() if why.startswith("too slow") else bytes(client.out) + goodbye
        try:
            if last:
                client.sock.send(last)
        except OSError:
            pass
        client.sock.close()
        self.out.event("left", f"{common.endpoint(client.addr)} left: {why} ({len(self.clients)} clients)",
                       local=self.local, peer=client.addr, reason=why, clients=len(self.clients))
        self.apply(self.chat.leave(client.id, why))

    def shutdown(self) -> None:
        for client in list(self.clients.values()):
            self.drop(client, "server shut down", goodbye=b"* server shutting down\n")
        self.sel.close()


def tune(sock: socket.socket) -> None:
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    idle, interval, count = KEEPALIVE
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, USER_TIMEOUT_MS)


def reason(exc: OSError) -> str:
    return {errno.ECONNRESET: "connection reset", errno.ETIMEDOUT: "timed out (peer unreachable)",
            errno.EPIPE: "connection broken"}.get(exc.errno or 0, exc.strerror or str(exc))


def main(argv: list[str] | None = None) -> int:
    p = common.parser("chat-server", "TCP group chat: every message to every other client")
    p.add_argument("--port", type=common.port, required=True)
    p.add_argument("--bind", default="", metavar="ADDR", help="local address (default: all)")
    p.add_argument("--max-buffer", type=int, default=1 << 20, metavar="BYTES",
                   help="unread output a client may have before it is disconnected (default 1 MiB)")
    p.add_argument("--max-line", type=int, default=4096, metavar="BYTES", help="longest message (default 4096)")
    p.add_argument("--max-clients", type=int, default=1000, metavar="N", help="refuse clients beyond N")
    common.family_options(p, socket.AF_INET)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve() -> int:
        with common.tcp_listen(args.bind, args.port, family=args.family) as listener:
            server = ChatServer(listener, out, args.max_buffer, args.max_line, args.max_clients)
            out.event("listening", f"chat server on tcp {common.endpoint(server.local)}", local=server.local)
            server.serve_forever()
        return 0

    return common.run(serve, out, "chat-server")
