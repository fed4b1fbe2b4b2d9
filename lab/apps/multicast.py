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

An IPv6 group (ff05::/16 or ff15::/16) works the same way with IPv6's options: the sender's
hop limit is ``IPV6_MULTICAST_HOPS``; the receiver joins with ``IPV6_JOIN_GROUP`` on an
interface named by its index (``--interface NAME``, by default the host's only LAN), which
the kernel announces with an MLD report, and reports each datagram's hop limit
(``IPV6_RECVHOPLIMIT``) where IPv4 reports the TTL.
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
    p.add_argument("group", type=group, help="multicast group in 239.0.0.0/8 or ff05::/16, e.g. 239.1.2.3")
    p.add_argument("port", type=common.port, help="destination UDP port")
    p.add_argument("--ttl", type=ttl, default=1,
                   help=f"IP_MULTICAST_TTL or IPV6_MULTICAST_HOPS, 1 (this LAN, the default) to {multicast.MAX_TTL}")
    udp_send.add_send_options(p)
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)

    def body() -> int:
        dest = (args.group.address, args.port)
        with udp_send.open_socket(args.bind, args.group.family) as sock:
            sock.setsockopt(*args.group.hops(args.ttl))
            return udp_send.send_all(sock, dest, udp_send.messages(args), out)

    return common.run(body, out, "mcast-send")


@contextmanager
def member(sock: socket.socket, g: multicast.Group, interface: str, out: common.Output) -> Iterator[None]:
    """Joined to ``g`` while inside; left on the way out, however it ends."""
    try:
        sock.setsockopt(*request(g, True, interface))
    except OSError as exc:
        raise common.os_error(exc, f"joining {g.address} on {interface}") from None
    local = sock.getsockname()
    how = f"IPV6_JOIN_GROUP on {interface}" if g.v6 else "IP_ADD_MEMBERSHIP"
    out.event("joined", f"joined {g.address} ({how}) on udp port {local[1]}", local=local[:2],
              group=g.address)
    try:
        yield
    finally:
        leave(sock, g, interface, out)


def request(g: multicast.Group, join: bool, interface: str) -> tuple[int, int, bytes]:
    """The membership request; an IPv6 one names the interface by its index."""
    if not g.v6:
        return g.membership(join, interface)
    try:
        index = socket.if_nametoindex(interface)
    except OSError:
        raise common.AppError(f"no interface {interface!r} on this host (ip link lists them)") from None
    return g.membership(join, index=index)


def leave(sock: socket.socket, g: multicast.Group, interface: str, out: common.Output) -> None:
    """IP_DROP_MEMBERSHIP (IPV6_LEAVE_GROUP); leaving twice (``--leave-after``, then the end)
    says it once."""
    try:
        sock.setsockopt(*request(g, False, interface))
    except OSError:  # EADDRNOTAVAIL: not a member any more
        return
    how = "IPV6_LEAVE_GROUP" if g.v6 else "IP_DROP_MEMBERSHIP"
    out.event("left", f"left {g.address} ({how})", local=sock.getsockname()[:2], group=g.address)


def default_interface(g: multicast.Group, given: str) -> str:
    """IPv4: the address given, or 0.0.0.0 (the route's choice); IPv6: the interface name
    given, or the host's only LAN."""
    if given:
        return given
    if not g.v6:
        return "0.0.0.0"
    try:
        return multicast.lan_interface([name for _, name in socket.if_nameindex()])
    except multicast.GroupError as exc:
        raise common.AppError(str(exc)) from None


def receive(args: argparse.Namespace, out: common.Output) -> int:
    g: multicast.Group = args.group
    interface = default_interface(g, args.interface)
    with common.udp_socket("", args.port, g.family, reuse=True) as sock, member(sock, g, interface, out):
        local = sock.getsockname()[:2]
        if g.v6:
            sock.setsockopt(socket.IPPROTO_IPV6, multicast.IPV6_RECVPKTINFO, 1)  # each destination
            sock.setsockopt(socket.IPPROTO_IPV6, multicast.IPV6_RECVHOPLIMIT, 1)  # and hop limit
            space, arrival, word = multicast.ANCILLARY_SPACE_V6, multicast.arrival_v6, "hop limit"
        else:
            sock.setsockopt(socket.IPPROTO_IP, multicast.IP_PKTINFO, 1)  # each datagram's destination
            sock.setsockopt(socket.IPPROTO_IP, multicast.IP_RECVTTL, 1)  # and the TTL it arrived with
            space, arrival, word = multicast.ANCILLARY_SPACE, multicast.arrival, "TTL"
        sock.settimeout(args.timeout or None)
        received = 0
        while not args.count or received < args.count:
            try:
                data, ancillary, _, peer = sock.recvmsg(common.MAX_DATAGRAM, space)
            except TimeoutError:
                out.event("timeout", f"no datagram for {args.timeout:g}s; received {received}",
                          local=local, received=received)
                break
            received += 1
            peer = peer[:2]
            to, arrived_ttl = arrival(ancillary)
            out.event("received", f"from {common.endpoint(peer)} to {to} ({word} {arrived_ttl}, {len(data)} bytes): "
                      f"{out.decode(data)}", local=local, peer=peer, data=data, to=to, ttl=arrived_ttl)
            if received == args.leave_after:
                leave(sock, g, interface, out)
    return 0


def main_mcast_recv(argv: list[str] | None = None) -> int:
    p = common.parser("mcast-recv", "join a multicast group and print every datagram sent to it")
    p.add_argument("group", type=group, help="multicast group in 239.0.0.0/8 or ff05::/16, e.g. 239.1.2.3")
    p.add_argument("port", type=common.port, help="UDP port to bind")
    p.add_argument("--interface", default="", metavar="ADDR|NAME",
                   help="IPv4: this host's address on the LAN to join on (default: the route's choice); "
                        "IPv6: the interface's name, e.g. eth0 (default: the host's only LAN)")
    p.add_argument("--count", type=int, default=0, metavar="N", help="exit after N datagrams")
    p.add_argument("--timeout", type=float, default=0, metavar="S", help="exit after S seconds without a datagram")
    p.add_argument("--leave-after", type=int, default=0, metavar="N",
                   help="leave the group after N datagrams, keep the socket bound (delivery stops)")
    args = p.parse_args(argv)
    out = common.Output(args.json, args.encoding)
    return common.run(lambda: receive(args, out), out, "mcast-recv")
