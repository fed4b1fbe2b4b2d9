import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", int(sys.argv[1])))
    server.listen()
    while True:
        conn, _ = server.accept()
        with conn, conn.makefile("rb") as lines:
            for n, line in enumerate(lines, start=1):
                conn.sendall(f"{n} ".encode() + line.rstrip(b"\n") + b"\n")
