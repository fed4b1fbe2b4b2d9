"""Multicast receiver: python3 receiver.py GROUP PORT

Join the multicast group GROUP (like 239.1.2.3) and print the text of every datagram that
arrives on UDP port PORT, one line each, until stopped (Ctrl-C or SIGTERM). A host takes
in a group's datagrams only once a socket on it joined the group.
"""

import socket
import sys

group, port = sys.argv[1], int(sys.argv[2])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    # TODO: join the group (IP_ADD_MEMBERSHIP) before reading
    try:
        while True:
            data, sender = sock.recvfrom(65535)
            print(data.decode("utf-8", errors="replace"), flush=True)
    except KeyboardInterrupt:
        pass
