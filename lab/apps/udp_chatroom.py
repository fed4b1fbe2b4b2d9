"""udp-chatroom-server: relay every member's message to every other member.

Members are whoever sent ``JOIN <name>`` (protocol: lab.proto.chatroom). A member that
says LEAVE, or stays silent longer than --member-timeout, is forgotten. Garbage (binary,
unknown commands, oversized) gets an ``ERR`` reply and the room carries on.
"""

from __future__ import annotations

import socket
import time

from lab.apps import common
from lab.proto.chatroom import Room

TICK = 1.0  # the longest the server waits before checking for silent members


def main(argv: list[str] | None = None) -> int:
    p = common.parser("udp-chatroom-server", "a UDP chat room: relays each message to every other member")
    p.add_argument("--port", type=common.port, required=True, help="UDP port to serve")
    p.add_argument("--bind", default="", metavar="ADDR", help="local address (default: all)")
    p.add_argument("--member-timeout", type=float, default=60.0, metavar="S",
                   help="forget a member silent for S seconds (default 60)")
    common.family_options(p, socket.AF_INET)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def serve() -> int:
        room = Room(timeout=args.member_timeout)
        with common.udp_socket(args.bind, args.port, args.family) as sock:
            local = common.shown(sock.getsockname())
            out.event("listening", f"chat room on udp {common.endpoint(local)}", local=local)
            sock.settimeout(min(TICK, args.member_timeout))
            while True:
                try:
                    data, peer = sock.recvfrom(common.MAX_DATAGRAM)
                except TimeoutError:
                    replies = room.expire(time.monotonic())
                else:
                    out.event("received", f"from {common.endpoint(peer)}: {out.decode(data[:200])}",
                              local=local, peer=common.shown(peer), data=data[:200], size=len(data))
                    replies = room.handle(time.monotonic(), peer, data) + room.expire(time.monotonic())
                for addr, reply in replies:
                    try:
                        sock.sendto(reply, addr)
                    except OSError as exc:
                        out.event("error", f"cannot send to {common.endpoint(addr)}: {exc.strerror}",
                                  local=local, peer=common.shown(addr), message=str(exc.strerror))

    return common.run(serve, out, "udp-chatroom-server")
