import socket
import sys

port, message = int(sys.argv[1]), sys.argv[2]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.sendto(message.encode("utf-8"), ("<broadcast>", port))
