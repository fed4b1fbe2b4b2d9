"""Multicast sender: python3 sender.py GROUP PORT MESSAGE

Send MESSAGE (UTF-8) once, as one datagram, to the multicast group GROUP (like 239.1.2.3)
on UDP port PORT. Every host that joined the group receives it, on this LAN and, if the
TTL allows, behind the router: a datagram sent with TTL 1 (the default) never leaves its
LAN; each router takes one off. Keep the TTL at 8 or less.
"""

import socket
import sys

group, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    # TODO: set IP_MULTICAST_TTL so that the datagram crosses one router
    sock.sendto(message.encode("utf-8"), (group, port))
