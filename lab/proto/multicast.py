"""Multicast without sockets: which groups the lab may use, and the option values that join
and leave one (``setsockopt`` takes them as bytes), so that the programs' socket loops stay
thin and every value is unit-tested.

A host receives a group's datagrams only after a socket on it joined the group on an
interface (``IP_ADD_MEMBERSHIP``): the kernel then tells the LAN's routers with an IGMP
membership report (RFC 3376 section 4.2; a leave is a report that changes the group to
INCLUDE {} ), and drops the group's datagrams again after ``IP_DROP_MEMBERSHIP``.

The lab allows only administratively scoped groups (239.0.0.0/8, RFC 2365): they never
leave an organisation, and no router outside the lab forwards them. A TTL is bounded too:
each router on the way takes one off, and a datagram sent with TTL 1 never leaves its LAN.

IPv6 (``IPV6_JOIN_GROUP``, ff05::/16 site-local groups, the hop limit) takes the same
shape: ``Group.membership`` is where the family picks the option level and the request's
layout.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

#: RFC 2365: the administratively scoped IPv4 groups, the only ones the lab sends to.
SCOPED_V4 = ipaddress.IPv4Network("239.0.0.0/8")
MAX_TTL = 8  # a lab is at most a few routers deep; nothing needs more
#: Linux's values (include/uapi/linux/in.h), which Python's socket module does not export:
#: ask for each datagram's destination address and its TTL as ancillary data of recvmsg.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
ANCILLARY_SPACE = socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4)  # an in_pktinfo and an int


class GroupError(ValueError):
    """A group or TTL the lab will not use; the message says which would do."""


@dataclass(frozen=True)
class Group:
    address: str  # the group, e.g. 239.1.2.3

    @property
    def family(self) -> int:
        return socket.AF_INET

    def membership(self, join: bool, interface: str = "0.0.0.0") -> tuple[int, int, bytes]:
        """``setsockopt``'s (level, option, value) that joins (IP_ADD_MEMBERSHIP) or leaves
        (IP_DROP_MEMBERSHIP) the group: an ``ip_mreq``, the group then the local address of
        the interface (0.0.0.0: the one the routing table picks for the group).
        An IPv6 group would answer IPPROTO_IPV6, IPV6_JOIN_GROUP and an ``ipv6_mreq``."""
        option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
        return socket.IPPROTO_IP, option, socket.inet_aton(self.address) + socket.inet_aton(interface)


def group(text: str) -> Group:
    """A group the lab may use, or GroupError saying why not."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise GroupError(f"{text!r} is not an IP address; use a group in {SCOPED_V4}, like 239.1.2.3") from None
    if address.version != 4:
        raise GroupError(f"{text}: only IPv4 groups for now; use one in {SCOPED_V4}")
    if not address.is_multicast:
        raise GroupError(f"{text} is not a multicast group (224.0.0.0/4); use one in {SCOPED_V4}")
    if address not in SCOPED_V4:
        raise GroupError(f"{text} is outside {SCOPED_V4}, the administratively scoped groups (RFC 2365) "
                         "that the lab keeps to; use one like 239.1.2.3")
    return Group(str(address))


def ttl(value: int) -> bytes:
    """IP_MULTICAST_TTL's value (one byte on Linux), from 1 (this LAN only) to MAX_TTL."""
    if not 1 <= value <= MAX_TTL:
        raise GroupError(f"TTL {value}: the lab takes 1 (this LAN) to {MAX_TTL}")
    return struct.pack("B", value)


def arrival(ancillary: list[tuple[int, int, bytes]]) -> tuple[str, int]:
    """(destination address, TTL) of a datagram from recvmsg's ancillary data: the group
    (or a unicast address) it was sent to, and the TTL it arrived with (the sender's, less
    one per router); "" and 0 for what the data does not say."""
    to, ttl_ = "", 0
    for level, kind, data in ancillary:
        if level != socket.IPPROTO_IP:
            continue
        if kind == IP_PKTINFO and len(data) >= 12:  # struct in_pktinfo: ifindex, spec_dst, addr
            to = socket.inet_ntoa(data[8:12])
        elif kind == socket.IP_TTL and len(data) >= 4:
            ttl_ = struct.unpack("=i", data[:4])[0]
    return to, ttl_
