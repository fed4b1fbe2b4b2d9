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

IPv6 takes the same shape (RFC 3493 section 5.2): ``IPV6_JOIN_GROUP`` and
``IPV6_LEAVE_GROUP`` take an ``ipv6_mreq``, the group then the interface's index (an
interface, not an address: IPv6 names the link), and the kernel tells the routers with an
MLD report (MLDv2, RFC 3810, ICMPv6 type 143) instead of IGMP. The lab allows only
site-local groups (ff05::/16 and its transient half ff15::/16, RFC 4291 section 2.7); the
hop limit (``IPV6_MULTICAST_HOPS``) bounds the reach as the TTL does.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

#: RFC 2365: the administratively scoped IPv4 groups, the only ones the lab sends to.
SCOPED_V4 = ipaddress.IPv4Network("239.0.0.0/8")
#: RFC 4291 2.7: site-local groups (scope 5), permanent (ff05) and transient (ff15): the only
#: IPv6 groups the lab sends to (never link-local ff02::1, never the global ff0e).
SCOPED_V6 = (ipaddress.IPv6Network("ff05::/16"), ipaddress.IPv6Network("ff15::/16"))
SCOPES = f"{SCOPED_V4}, ff05::/16 or ff15::/16"
MAX_TTL = 8  # a lab is at most a few routers deep; nothing needs more
#: Linux's values (include/uapi/linux/in.h), which Python's socket module does not export:
#: ask for each datagram's destination address and its TTL as ancillary data of recvmsg.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
ANCILLARY_SPACE = socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4)  # an in_pktinfo and an int
#: IPv6's (include/uapi/linux/in6.h): a datagram's destination and hop limit as ancillary data.
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
IPV6_RECVHOPLIMIT = getattr(socket, "IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = getattr(socket, "IPV6_HOPLIMIT", 52)
ANCILLARY_SPACE_V6 = socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4)  # an in6_pktinfo and an int


class GroupError(ValueError):
    """A group or TTL the lab will not use; the message says which would do."""


@dataclass(frozen=True)
class Group:
    address: str  # the group, e.g. 239.1.2.3 or ff05::1:2:3

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.address else socket.AF_INET

    @property
    def v6(self) -> bool:
        return self.family == socket.AF_INET6

    def membership(self, join: bool, interface: str = "0.0.0.0", index: int = 0) -> tuple[int, int, bytes]:
        """``setsockopt``'s (level, option, value) that joins or leaves the group.
        IPv4: IP_ADD_MEMBERSHIP or IP_DROP_MEMBERSHIP with an ``ip_mreq``, the group then the
        local address of the interface (0.0.0.0: the one the routing table picks).
        IPv6: IPV6_JOIN_GROUP or IPV6_LEAVE_GROUP with an ``ipv6_mreq``, the group then the
        interface's index (``index``, a native int; 0: the routing table's choice)."""
        if self.v6:
            option = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
            return socket.IPPROTO_IPV6, option, socket.inet_pton(socket.AF_INET6, self.address) + \
                struct.pack("=i", index)
        option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
        return socket.IPPROTO_IP, option, socket.inet_aton(self.address) + socket.inet_aton(interface)

    def hops(self, value: int) -> tuple[int, int, bytes]:
        """``setsockopt``'s (level, option, value) for the reach: IP_MULTICAST_TTL (one byte)
        or, for an IPv6 group, IPV6_MULTICAST_HOPS (an int); 1 to MAX_TTL either way."""
        if self.v6:
            ttl(value)
            return socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, struct.pack("=i", value)
        return socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl(value)


def group(text: str) -> Group:
    """A group the lab may use, or GroupError saying why not."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise GroupError(f"{text!r} is not an IP address; use a group in {SCOPES}, like 239.1.2.3 "
                         "or ff05::1:2:3") from None
    if isinstance(address, ipaddress.IPv6Address):
        if not address.is_multicast:
            raise GroupError(f"{text} is not a multicast group (ff00::/8); use one in ff05::/16 or ff15::/16")
        if not any(address in net for net in SCOPED_V6):
            raise GroupError(f"{text} is outside ff05::/16 and ff15::/16, the site-local groups (RFC 4291) "
                             "that the lab keeps to; use one like ff05::1:2:3")
        return Group(str(address))
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


def arrival_v6(ancillary: list[tuple[int, int, bytes]]) -> tuple[str, int]:
    """``arrival`` for an IPv6 socket: the destination from IPV6_PKTINFO (an in6_pktinfo,
    the address then the interface index) and the hop limit from IPV6_HOPLIMIT."""
    to, hops = "", 0
    for level, kind, data in ancillary:
        if level != socket.IPPROTO_IPV6:
            continue
        if kind == IPV6_PKTINFO and len(data) >= 16:
            to = socket.inet_ntop(socket.AF_INET6, data[:16])
        elif kind == IPV6_HOPLIMIT and len(data) >= 4:
            hops = struct.unpack("=i", data[:4])[0]
    return to, hops


def lan_interface(names: list[str]) -> str:
    """The interface an IPv6 receiver joins on when not told: a host's only one besides the
    loopback (``socket.if_nameindex``'s names); a router has several and must be told."""
    lans = [n for n in names if n != "lo"]
    if len(lans) != 1:
        raise GroupError(f"which interface? this host has {', '.join(lans) or 'none'} besides lo; "
                         "name one with --interface")
    return lans[0]
