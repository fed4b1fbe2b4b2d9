# The tutorials' assumption: one recv() is one message.
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", int(sys.argv[1])))
    server.listen()
    while True:
        conn, _ = server.accept()
        with conn:
            n = 0
            while data := conn.recv(1024):
                n += 1
                conn.sendall(f"{n} ".encode() + data.rstrip(b"\n") + b"\n")
