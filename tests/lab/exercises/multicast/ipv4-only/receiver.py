"""Multicast receiver: python3 receiver.py GROUP PORT, IPv4 only: an IPv6 group fails at inet_aton."""

import signal
import socket
import sys


def stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, stop)
group, port = sys.argv[1], int(sys.argv[2])
membership = socket.inet_aton(group) + socket.inet_aton("0.0.0.0")

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    try:
        while True:
            data, sender = sock.recvfrom(65535)
            print(data.decode("utf-8", errors="replace"), flush=True)
    except KeyboardInterrupt:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, membership)
