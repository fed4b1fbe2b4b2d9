"""Client behind a NAT: python3 client.py HOST PORT (the reference solution)."""

import signal
import socket
import sys
import time


def stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, stop)
host, port = sys.argv[1], int(sys.argv[2])
EVERY = 2.0  # seconds between keepalives: well inside the router's 5 s

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.sendto(b"hello", (host, port))
    last = time.monotonic()
    try:
        while True:
            sock.settimeout(max(0.01, last + EVERY - time.monotonic()))
            try:
                data, sender = sock.recvfrom(65535)
                print(data.decode("utf-8", errors="replace"), flush=True)
            except TimeoutError:
                sock.sendto(b"keepalive", (host, port))
                last = time.monotonic()
    except KeyboardInterrupt:
        pass
