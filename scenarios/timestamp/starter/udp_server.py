"""Timestamp server over UDP: python3 udp_server.py PORT

For every datagram, send back one datagram: the server's time in brackets, then the data
unchanged, e.g. b"[Mon Nov 23 10:00:00 2026]hello" (time.ctime() gives that format).
"""

import socket
import sys

port = int(sys.argv[1])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    while True:
        data, address = sock.recvfrom(65535)
        # TODO: reply with the time in brackets, then `data`
        sock.sendto(data, address)
