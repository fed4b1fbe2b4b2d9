# The README's example port, not the one it is given.
import socket

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", 9001))
    while True:
        data, address = sock.recvfrom(65535)
        sock.sendto(data, address)
