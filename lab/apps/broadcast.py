"""broadcast-send and broadcast-listen: UDP broadcast within one LAN.

``'<broadcast>'`` (255.255.255.255, the limited broadcast) and a subnet-directed broadcast
(e.g. the LAN's .255) reach every host of the sender's LAN and no host behind a router.
The kernel refuses to send either unless the socket has SO_BROADCAST set: --no-so-broadcast
leaves it unset to show that refusal.
"""

from __future__ import annotations

import socket

from lab.apps import common, udp_recv, udp_send


def main_broadcast_send(argv: list[str] | None = None) -> int:
    p = common.parser("broadcast-send", "send UDP broadcast datagrams to PORT")
    p.add_argument("port", type=common.port, help="destination UDP port")
    p.add_argument("--to", default="<broadcast>", metavar="ADDR",
                   help="destination: '<broadcast>' (default) or a subnet broadcast like x.y.1.255")
    p.add_argument("--no-so-broadcast", action="store_true",
                   help="do not set SO_BROADCAST (the send then fails: the lesson)")
    udp_send.add_send_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def body() -> int:
        if common.literal_family(args.to) == socket.AF_INET6:
            raise common.AppError(f"{args.to}: {common.NO_BROADCAST6}")
        dest = common.resolve(args.to, args.port)
        with udp_send.open_socket(args.bind) as sock:
            if not args.no_so_broadcast:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            return udp_send.send_all(sock, dest, udp_send.messages(args), out)

    return common.run(body, out, "broadcast-send")


def main_broadcast_listen(argv: list[str] | None = None) -> int:
    return udp_recv.main(argv, prog="broadcast-listen",
                         description="print every datagram (broadcast or not) that reaches PORT")
