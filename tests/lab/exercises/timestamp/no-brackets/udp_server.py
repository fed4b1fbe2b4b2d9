import socket
import sys
import time

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", int(sys.argv[1])))
    while True:
        data, address = sock.recvfrom(65535)
        sock.sendto(f"{time.ctime()} ".encode() + data, address)
