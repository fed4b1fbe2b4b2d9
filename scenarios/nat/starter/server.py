"""Server for clients behind a NAT: python3 server.py PORT

Bind UDP port PORT on every address. Answer each `hello` with `welcome`, to the address and
port it came from (for a client behind a NAT: the router's), and 8 s after that hello send
that client `push` (once). Other datagrams (`keepalive`) need no answer. Run until stopped.
"""

import socket
import sys
import time

port = int(sys.argv[1])
due = {}  # client address -> when its push is due

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    sock.settimeout(0.5)
    while True:
        try:
            data, address = sock.recvfrom(65535)
            if data == b"hello":
                sock.sendto(b"welcome", address)
                # TODO: remember that `address` gets a push 8 s from now
        except TimeoutError:
            pass
        now = time.monotonic()
        # TODO: send b"push" to every client whose push is due by `now`, once
