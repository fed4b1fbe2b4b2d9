"""Server for clients behind a NAT: python3 server.py PORT (the reference solution)."""

import signal
import socket
import sys
import time


def stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, stop)
port = int(sys.argv[1])
due = {}  # client address -> when its push is due

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    sock.settimeout(0.2)
    try:
        while True:
            try:
                data, address = sock.recvfrom(65535)
                if data == b"hello":
                    sock.sendto(b"welcome", address)
                    due.setdefault(address, time.monotonic() + 8)
            except TimeoutError:
                pass
            for address, at in list(due.items()):
                if at <= time.monotonic():
                    sock.sendto(b"push", address)
                    due[address] = float("inf")
    except KeyboardInterrupt:
        pass
