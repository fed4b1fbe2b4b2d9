# Says hello, then only listens: the router forgets the mapping after 5 s and drops the push.
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
while True:
    print(sock.recv(65535).decode(), flush=True)
