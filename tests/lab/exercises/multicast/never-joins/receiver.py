# Binds the port but never joins the group: the host's kernel drops the group's datagrams.
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", int(sys.argv[2])))
while True:
    print(sock.recv(65535).decode(), flush=True)
