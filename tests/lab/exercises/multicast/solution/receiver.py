"""Multicast receiver: python3 receiver.py GROUP PORT (the reference solution), IPv4 or IPv6."""

import signal
import socket
import struct
import sys


def stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, stop)
group, port = sys.argv[1], int(sys.argv[2])
if ":" in group:  # IPv6: the group and the interface's index (0: the one the routes choose)
    family, level = socket.AF_INET6, socket.IPPROTO_IPV6
    join, leave = socket.IPV6_JOIN_GROUP, socket.IPV6_LEAVE_GROUP
    membership = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", 0)
else:  # IPv4: the group and the address of the interface (0.0.0.0: the one the routes choose)
    family, level = socket.AF_INET, socket.IPPROTO_IP
    join, leave = socket.IP_ADD_MEMBERSHIP, socket.IP_DROP_MEMBERSHIP
    membership = socket.inet_aton(group) + socket.inet_aton("0.0.0.0")

with socket.socket(family, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    sock.setsockopt(level, join, membership)
    try:
        while True:
            data, sender = sock.recvfrom(65535)
            print(data.decode("utf-8", errors="replace"), flush=True)
    except KeyboardInterrupt:
        sock.setsockopt(level, leave, membership)
