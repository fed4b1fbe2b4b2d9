"""udp-chat: full-duplex chat over UDP, with one peer or in a chat room.

    lab udp-chat --port 9000 --peer h2:9000          # the tutorial's "QQ" chat
    lab udp-chat --room srv:9100 --name alice        # a member of udp-chatroom-server

Full duplex needs two threads: the main thread reads stdin and sends each line, a
receiving thread prints what arrives as ``>>(ip, port): text`` at the same time. EOF or
Ctrl-C ends the chat; in a room the program says LEAVE first. The receiving thread polls a
stop flag between short socket timeouts, so it always ends with the program.
"""

from __future__ import annotations

import argparse
import socket
import threading

from lab.apps import common, udp_send

POLL = 0.2  # how often the receiving thread checks whether to stop


def build_parser() -> argparse.ArgumentParser:
    p = common.parser("udp-chat", "full-duplex UDP chat with a peer (--peer) or in a room (--room)")
    p.add_argument("--port", type=common.port, default=0, help="local UDP port (default: the OS picks)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--peer", type=common.split_endpoint, metavar="HOST:PORT",
                        help="chat with this peer (an IPv6 address in brackets: [fd00::2]:9000)")
    target.add_argument("--room", type=common.split_endpoint, metavar="HOST:PORT", help="join this chat room server")
    common.family_options(p)
    p.add_argument("--name", help="your name in the room (with --room)")
    p.add_argument("--keepalive", type=float, default=15.0, metavar="S",
                   help="in a room, say PING after S seconds of silence so the server keeps you")
    return p


class Chat:
    def __init__(self, sock: socket.socket, dest: common.Address, out: common.Output, room: bool) -> None:
        self.sock = sock
        self.dest = dest
        self.out = out
        self.room = room
        self.local = udp_send.source_address(dest, sock)
        self.stop = threading.Event()
        self.joined = threading.Event()
        self.heard = threading.Event()  # the room has said something: it is running

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, common.sockaddr(self.dest))
        except OSError as exc:
            if not common.refused(exc, self.out, self.dest, data):
                raise common.os_error(exc, self.dest) from None

    def receive_loop(self) -> None:
        self.sock.settimeout(POLL)
        while not self.stop.is_set():
            try:
                data, sender = self.sock.recvfrom(common.MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                continue  # e.g. ICMP port unreachable from a peer not started yet
            peer = common.shown(sender)
            if self.room and peer != self.dest:
                continue  # in a room only the server speaks
            self.heard.set()
            if self.room and data.startswith(b"* welcome "):
                self.joined.set()
            self.out.event("received", f">>({peer[0]}, {peer[1]}): {self.out.decode(data)}",
                           local=self.local, peer=peer, data=data)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if args.room and not args.name:
        p.error("--room needs --name")
    out = common.Output(args.json, args.encoding)

    def chat() -> int:
        room = args.room is not None
        host, port = args.room or args.peer
        dest = common.resolve(host, port, args.family)
        with udp_send.open_socket(args.port, common.family_of(dest[0])) as sock:  # port 0: the OS picks one
            talk = Chat(sock, dest, out, room)
            out.event("ready", f"chatting from {common.endpoint(talk.local)} with {common.endpoint(dest)}",
                      local=talk.local, peer=dest)
            receiver = threading.Thread(target=talk.receive_loop, name="receive", daemon=True)
            receiver.start()
            try:
                if room:
                    join(talk, args.name)
                    keepalive = threading.Thread(target=keep_alive, args=(talk, args.keepalive), daemon=True)
                    keepalive.start()
                for line in common.stdin_lines():
                    data = (f"MSG {line}" if room else line).encode(args.encoding, errors="replace")
                    talk.send(data)
                    out.event("sent", f"<<{line}", local=talk.local, peer=dest, data=data)
            finally:
                if room:
                    talk.send(b"LEAVE")
                talk.stop.set()
                receiver.join()
        return 0

    return common.run(chat, out, "udp-chat")


def join(talk: Chat, name: str, attempts: int = 3, wait: float = 1.0, heard_attempts: int = 10) -> None:
    """JOIN, resent until the server welcomes us (a datagram can be lost, either way). A room
    that has said anything meanwhile (another member's news) is running and lost our welcome:
    it is asked up to ``heard_attempts`` times, a silent one ``attempts`` times."""
    sent = 0
    while sent < (heard_attempts if talk.heard.is_set() else attempts):
        talk.send(f"JOIN {name}".encode())
        sent += 1
        if talk.joined.wait(wait):
            return
    where = common.endpoint(talk.dest)
    if talk.heard.is_set():
        raise common.AppError(f"the room at {where} never welcomed us after {sent} JOINs")
    raise common.AppError(f"no answer from the room at {where}: is the server running?")


def keep_alive(talk: Chat, every: float) -> None:
    while not talk.stop.wait(every):
        try:
            talk.send(b"PING")
        except common.AppError:
            return
