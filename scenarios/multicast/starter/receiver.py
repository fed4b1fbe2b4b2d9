"""Multicast receiver: python3 receiver.py GROUP PORT

Join the multicast group GROUP (IPv4 like 239.1.2.3, or IPv6 like ff05::1:2:3) and print the
text of every datagram that arrives on UDP port PORT, one line each, until stopped (Ctrl-C
or SIGTERM). A host takes in a group's datagrams only once a socket on it joined the group.
"""

import socket
import sys

group, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in group else socket.AF_INET  # an IPv6 group needs an IPv6 socket

with socket.socket(family, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    # TODO: join the group before reading: IP_ADD_MEMBERSHIP (IPv4) or IPV6_JOIN_GROUP (IPv6)
    try:
        while True:
            data, sender = sock.recvfrom(65535)
            print(data.decode("utf-8", errors="replace"), flush=True)
    except KeyboardInterrupt:
        pass
