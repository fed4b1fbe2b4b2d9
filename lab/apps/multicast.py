"""mcast-send and mcast-recv: UDP multicast to a group, received only by hosts that joined it.

Unlike a broadcast, which every host of the LAN takes in, a datagram to a group is taken in
only by a host where a socket joined the group (``IP_ADD_MEMBERSHIP``); the join is also an
IGMP report that tells the LAN's routers to forward the group here. The sender needs no
membership: it sends to (GROUP, PORT) with a TTL (``IP_MULTICAST_TTL``), 1 by default, which
keeps the datagram on its LAN; each router on the way takes one off.

``mcast-recv`` joins, prints every datagram with its source, and leaves
(``IP_DROP_MEMBERSHIP``) when it ends, on SIGTERM or Ctrl-C too; ``--leave-after N`` leaves
after N datagrams and keeps its socket bound, to show that delivery stops with the
membership, not with the socket. Group and TTL rules live in ``lab.proto.multicast``.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from lab.apps import common, udp_send
from lab.proto import multicast


def group(text: str) -> multicast.Group:
    try:
        return multicast.group(text)
    except multicast.GroupError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def ttl(text: str) -> int:
    try:
        multicast.ttl(int(text))
    except (ValueError, multicast.GroupError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return int(text)


def main_mcast_send(argv: list[str] | None = None) -> int:
    p = common.parser("mcast-send", "send stdin lines (or --message) to a multicast group")
    p.add_argument("group", type=group, help="multicast group in 239.0.0.0/8, e.g. 239.1.2.3")
    p.add_argument("port", type=common.port, help="destination UDP port")
    p.add_argument("--ttl", type=ttl, default=1,
                   help=f"IP_MULTICAST_TTL, 1 (this LAN only, the default) to {multicast.MAX_TTL}")
    udp_send.add_send_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def body() -> int:
        dest = (args.group.address, args.port)
        with udp_send.open_socket(args.bind) as sock:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, multicast.ttl(args.ttl))
            return udp_send.send_all(sock, dest, udp_send.messages(args), out)

    return common.run(body, out, "mcast-send")


@contextmanager
def member(sock: socket.socket, g: multicast.Group, interface: str, out: common.Output) -> Iterator[None]:
    """Joined to ``g`` while inside; left on the way out, however it ends."""
    level, option, value = g.membership(True, interface)
    try:
        sock.setsockopt(level, option, value)
    except OSError as exc:
        raise common.os_error(exc, f"joining {g.address} on {interface}") from None
    local = sock.getsockname()
    out.event("joined", f"joined {g.address} (IP_ADD_MEMBERSHIP) on udp port {local[1]}", local=local,
              group=g.address)
    try:
        yield
    finally:
        leave(sock, g, interface, out)


def leave(sock: socket.socket, g: multicast.Group, interface: str, out: common.Output) -> None:
    """IP_DROP_MEMBERSHIP; leaving twice (``--leave-after``, then the end) says it once."""
    level, option, value = g.membership(False, interface)
    try:
        sock.setsockopt(level, option, value)
    except OSError:  # EADDRNOTAVAIL: not a member any more
        return
    out.event("left", f"left {g.address} (IP_DROP_MEMBERSHIP)", local=sock.getsockname(), group=g.address)


def receive(args: argparse.Namespace, out: common.Output) -> int:
    g: multicast.Group = args.group
    with common.udp_socket("", args.port, reuse=True) as sock, member(sock, g, args.interface, out):
        local = sock.getsockname()
        sock.setsockopt(socket.IPPROTO_IP, multicast.IP_PKTINFO, 1)  # each datagram's destination
        sock.setsockopt(socket.IPPROTO_IP, multicast.IP_RECVTTL, 1)  # and the TTL it arrived with
        sock.settimeout(args.timeout or None)
        received = 0
        while not args.count or received < args.count:
            try:
                data, ancillary, _, peer = sock.recvmsg(common.MAX_DATAGRAM, multicast.ANCILLARY_SPACE)
            except TimeoutError:
                out.event("timeout", f"no datagram for {args.timeout:g}s; received {received}",
                          local=local, received=received)
                break
            received += 1
            to, arrived_ttl = multicast.arrival(ancillary)
            out.event("received", f"from {peer[0]}:{peer[1]} to {to} (TTL {arrived_ttl}, {len(data)} bytes): "
                      f"{out.decode(data)}", local=local, peer=peer, data=data, to=to, ttl=arrived_ttl)
            if received == args.leave_after:
                leave(sock, g, args.interface, out)
    return 0


def main_mcast_recv(argv: list[str] | None = None) -> int:
    p = common.parser("mcast-recv", "join a multicast group and print every datagram sent to it")
    p.add_argument("group", type=group, help="multicast group in 239.0.0.0/8, e.g. 239.1.2.3")
    p.add_argument("port", type=common.port, help="UDP port to bind")
    p.add_argument("--interface", default="0.0.0.0", metavar="ADDR",
                   help="this host's address on the LAN to join on (default: the route's choice)")
    p.add_argument("--count", type=int, default=0, metavar="N", help="exit after N datagrams")
    p.add_argument("--timeout", type=float, default=0, metavar="S", help="exit after S seconds without a datagram")
    p.add_argument("--leave-after", type=int, default=0, metavar="N",
                   help="leave the group after N datagrams, keep the socket bound (delivery stops)")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: receive(args, out), out, "mcast-recv")
