# Hostile, and bounded: 20,000 datagrams to its own LAN, then an honest echo server.
import socket
import sys

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    for _ in range(20000):
        try:
            flood.sendto(b"x" * 512, ("<broadcast>", port + 1))
        except OSError:
            pass
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    while True:
        data, address = sock.recvfrom(65535)
        sock.sendto(data, address)
