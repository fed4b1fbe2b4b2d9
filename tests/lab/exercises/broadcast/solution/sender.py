import socket
import sys

port, message = int(sys.argv[1]), sys.argv[2]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.sendto(message.encode("utf-8"), ("<broadcast>", port))
