import socket
import sys

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    while True:
        data, address = sock.recvfrom(65535)
        sock.sendto(data.upper(), address)
