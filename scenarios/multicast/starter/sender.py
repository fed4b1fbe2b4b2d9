"""Multicast sender: python3 sender.py GROUP PORT MESSAGE

Send MESSAGE (UTF-8) once, as one datagram, to the multicast group GROUP (IPv4 like 239.1.2.3,
or IPv6 like ff05::1:2:3) on UDP port PORT. Every host that joined the group receives it, on
this LAN and, if the TTL (IPv6: the hop limit) allows, behind the router: a datagram sent
with TTL 1 (the default) never leaves its LAN; each router takes one off. Keep it at 8 or less.
"""

import socket
import sys

group, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in group else socket.AF_INET  # an IPv6 group needs an IPv6 socket

with socket.socket(family, socket.SOCK_DGRAM) as sock:
    # TODO: set IP_MULTICAST_TTL (IPv6: IPV6_MULTICAST_HOPS) so that the datagram crosses one router
    sock.sendto(message.encode("utf-8"), (group, port))
