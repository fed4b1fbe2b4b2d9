"""Multicast sender: python3 sender.py GROUP PORT MESSAGE (the reference solution), IPv4 or IPv6."""

import socket
import sys

group, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]

if ":" in group:  # IPv6: the hop limit is IPv6's TTL
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 2)  # one router: 2
        sock.sendto(message.encode("utf-8"), (group, port))
else:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)  # one router: 2
        sock.sendto(message.encode("utf-8"), (group, port))
