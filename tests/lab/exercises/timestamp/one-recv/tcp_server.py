# The tutorial's loop: one recv() taken as one message, and the reply has no newline framing.
import socket
import sys
import time

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", int(sys.argv[1])))
    server.listen()
    while True:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(1024):
                conn.send(f"[{time.ctime()}]".encode() + data.strip())
