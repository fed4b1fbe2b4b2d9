"""boundary-send and boundary-recv: where message boundaries go (the tutorials' own mistake).

TCP carries a stream of bytes, not messages: two quick ``send``s can arrive in one
``recv``, and one large ``send`` arrives over several. UDP keeps each datagram whole, but a
``recvfrom(1024)`` silently cuts a longer one. ``boundary-recv`` shows what each ``recv``
returned; with ``--framed`` it splits the stream into lines and, over TCP, answers each
message with ``<n> <message>`` (the framing that fixes the TCP case).

``boundary-send`` sends a fixed script: TCP ``one\\ntwo\\n`` in one send, ``three\\n`` in
two sends (``thr``, a pause, ``ee\\n``), and a 100,000-byte line in one send, then ends
its side and prints every reply line; UDP a 2,000-byte datagram, then ``short``.
"""

from __future__ import annotations

import socket
import time

from lab.apps import common

BIG = 100_000
PAUSE = 0.3  # between the two halves of "three": they leave as two segments


def main_boundary_send(argv: list[str] | None = None) -> int:
    p = common.parser("boundary-send", "send messages cut and joined awkwardly (TCP) or oversized (UDP)")
    p.add_argument("host")
    p.add_argument("port", type=common.port)
    p.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for replies")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def send_udp() -> int:
        server = common.resolve(args.host, args.port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for data in (b"u" * 2000, b"short"):
                sock.sendto(data, server)
                out.event("sent", f"sent one datagram of {len(data)} bytes", peer=server, data=data)
        return 0

    def send_tcp() -> int:
        sock, local, server = common.tcp_connect(args.host, args.port, args.timeout, out)
        with sock:
            for chunk in (b"one\ntwo\n", b"thr", b"ee\n", b"x" * BIG + b"\n"):
                sock.sendall(chunk)
                out.event("sent", f"send() of {len(chunk)} bytes", local=local, peer=server, data=chunk[:40])
                if chunk == b"thr":
                    time.sleep(PAUSE)  # paces the sender so the halves travel apart: the lesson, not a wait
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(args.timeout)
            try:
                for line in sock.makefile("rb"):
                    text = line.rstrip(b"\n")
                    out.event("reply", f"reply of {len(text)} bytes: {out.decode(text[:60])}", local=local,
                              peer=server, data=text[:60], size=len(text))
            except TimeoutError:
                raise common.AppError(f"no more replies and no end of stream within {args.timeout:g}s") from None
        out.event("closed", "the receiver closed the connection", local=local, peer=server)
        return 0

    return common.run(send_tcp if args.proto == "tcp" else send_udp, out, "boundary-send")


def main_boundary_recv(argv: list[str] | None = None) -> int:
    p = common.parser("boundary-recv", "show what each recv() returns; --framed splits lines and answers them")
    p.add_argument("--port", type=common.port, required=True)
    p.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--bufsize", type=int, default=65536, metavar="N", help="bytes asked of each recv()")
    p.add_argument("--framed", action="store_true", help="split into lines; TCP: answer each with `<n> <line>`")
    p.add_argument("--busy", type=float, default=0.0, metavar="S",
                   help="seconds to wait after a connection before reading (a busy program)")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve_udp() -> int:
        with common.udp_socket("", args.port) as sock:
            while True:
                data, peer = sock.recvfrom(args.bufsize)
                out.event("recv", f"recvfrom({args.bufsize}) gave {len(data)} bytes from {peer[0]}", peer=peer,
                          data=data)

    def serve_tcp() -> int:
        with common.tcp_listen("", args.port) as listener:
            while True:
                conn, peer = listener.accept()
                with conn:
                    time.sleep(args.busy)  # the program is busy elsewhere; bytes pile up in the kernel
                    serve_one(conn, peer)

    def serve_one(conn: socket.socket, peer: common.Address) -> None:
        pending, count = b"", 0
        while data := conn.recv(args.bufsize):
            out.event("recv", f"recv({args.bufsize}) gave {len(data)} bytes", peer=peer, data=data[:60],
                      size=len(data))
            if not args.framed:
                continue
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                count += 1
                out.event("message", f"message {count}: {len(line)} bytes", peer=peer, data=line[:60], size=len(line))
                conn.sendall(f"{count} ".encode() + line + b"\n")

    return common.run(serve_tcp if args.proto == "tcp" else serve_udp, out, "boundary-recv")
