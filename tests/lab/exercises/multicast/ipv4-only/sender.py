"""Multicast sender: python3 sender.py GROUP PORT MESSAGE, IPv4 only (an AF_INET socket, IP_MULTICAST_TTL)."""

import socket
import sys

group, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)  # one router: 2
    sock.sendto(message.encode("utf-8"), (group, port))
