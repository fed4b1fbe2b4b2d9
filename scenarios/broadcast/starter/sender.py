"""Broadcast sender: python3 sender.py PORT MESSAGE

Send MESSAGE (UTF-8) once, as one datagram, to every host of this host's LAN on UDP port
PORT: the address '<broadcast>' (255.255.255.255). The kernel refuses a broadcast unless
the socket has SO_BROADCAST set.
"""

import socket
import sys

port, message = int(sys.argv[1]), sys.argv[2]

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    # TODO: allow broadcast on this socket, then send to ('<broadcast>', port)
    sock.sendto(message.encode("utf-8"), ("127.0.0.1", port))
