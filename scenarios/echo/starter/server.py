"""UDP echo server: python3 server.py PORT

Send every datagram back, unchanged, to the address and port it came from.
Runs until it is stopped (Ctrl-C).
"""

import socket
import sys

port = int(sys.argv[1])

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))  # "" = every address of this host
    print(f"echo server on udp port {port}", flush=True)
    while True:
        data, address = sock.recvfrom(65535)  # room for any datagram
        print(f"{len(data)} bytes from {address}", flush=True)
        # TODO: send `data` back to `address`
